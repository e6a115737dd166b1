//! The Appendix A taxonomy of TC260-003-2024 / GB/T 45654-2025: 5 categories, 31 risks, with
//! stable codes `A.1.a` … `A.5.b` and their Chinese names.
//!
//! Source: `shared/reference/regulation.md` §(d), confidence ✅ ("several verbatim copies agree;
//! one cites GB/T 45654—2025 附录A, pp. 7–8"). The keyword-library minimums used by
//! [`minimum_keywords`] come from §(c), confidence ◐ (verbatim lines in open-source copies; the
//! standard itself was not read).
//!
//! Lexicon entries name their risk by code; a code that starts with `A.` must be one of the 31
//! below, any other non-empty code is a provider's custom risk.

/// One of the five categories of Appendix A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Category {
    /// Code, `A.1` … `A.5`.
    pub code: &'static str,
    /// Chinese name as in the standard.
    pub name_zh: &'static str,
    /// English gloss.
    pub name_en: &'static str,
}

/// One of the 31 risks of Appendix A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Risk {
    /// Code, `A.1.a` … `A.5.b`.
    pub code: &'static str,
    /// Chinese name as in the standard.
    pub name_zh: &'static str,
    /// English gloss.
    pub name_en: &'static str,
}

impl Risk {
    /// The category code (`A.1` for `A.1.f`).
    pub fn category_code(&self) -> &'static str {
        &self.code[..3]
    }

    /// The category this risk belongs to.
    pub fn category(&self) -> &'static Category {
        CATEGORIES
            .iter()
            .find(|c| c.code == self.category_code())
            .unwrap_or(&CATEGORIES[0])
    }
}

/// The five categories.
pub const CATEGORIES: [Category; 5] = [
    Category {
        code: "A.1",
        name_zh: "包含违反社会主义核心价值观的内容",
        name_en: "violates core socialist values",
    },
    Category {
        code: "A.2",
        name_zh: "包含歧视性内容",
        name_en: "discrimination",
    },
    Category {
        code: "A.3",
        name_zh: "商业违法违规",
        name_en: "commercial violations",
    },
    Category {
        code: "A.4",
        name_zh: "侵犯他人合法权益",
        name_en: "infringing others' rights",
    },
    Category {
        code: "A.5",
        name_zh: "无法满足特定服务类型的安全需求",
        name_en: "fails service-specific security needs",
    },
];

macro_rules! risks {
    ($($code:literal $zh:literal $en:literal;)*) => {
        /// The 31 risks, in code order.
        pub const RISKS: [Risk; 31] = [$(Risk { code: $code, name_zh: $zh, name_en: $en }),*];
    };
}

risks! {
    "A.1.a" "煽动颠覆国家政权、推翻社会主义制度" "inciting subversion";
    "A.1.b" "危害国家安全和利益、损害国家形象" "endangering national security and interests, harming the national image";
    "A.1.c" "煽动分裂国家、破坏国家统一和社会稳定" "separatism; undermining unity and stability";
    "A.1.d" "宣扬恐怖主义、极端主义" "terrorism, extremism";
    "A.1.e" "宣扬民族仇恨" "ethnic hatred";
    "A.1.f" "宣扬暴力、淫秽色情" "violence, obscenity, pornography";
    "A.1.g" "传播虚假有害信息" "false and harmful information";
    "A.1.h" "其他法律、行政法规禁止的内容" "other legally prohibited content";
    "A.2.a" "民族歧视内容" "ethnic discrimination";
    "A.2.b" "信仰歧视内容" "belief discrimination";
    "A.2.c" "国别歧视内容" "nationality discrimination";
    "A.2.d" "地域歧视内容" "regional discrimination";
    "A.2.e" "性别歧视内容" "sex discrimination";
    "A.2.f" "年龄歧视内容" "age discrimination";
    "A.2.g" "职业歧视内容" "occupation discrimination";
    "A.2.h" "健康歧视内容" "health discrimination";
    "A.2.i" "其他方面歧视内容" "other discrimination";
    "A.3.a" "侵犯他人知识产权" "IP infringement";
    "A.3.b" "违反商业道德" "business-ethics breach";
    "A.3.c" "泄露他人商业秘密" "disclosing trade secrets";
    "A.3.d" "利用算法、数据、平台等优势，实施垄断和不正当竞争行为" "monopoly or unfair competition via algorithm, data or platform power";
    "A.3.e" "其他商业违法违规行为" "other commercial violations";
    "A.4.a" "危害他人身心健康" "harming physical or mental health";
    "A.4.b" "侵害他人肖像权" "portrait rights";
    "A.4.c" "侵害他人名誉权" "reputation rights";
    "A.4.d" "侵害他人荣誉权" "honour rights";
    "A.4.e" "侵害他人隐私权" "privacy";
    "A.4.f" "侵害他人个人信息权益" "personal-information rights";
    "A.4.g" "侵犯他人其他合法权益" "other rights";
    "A.5.a" "内容不准确，严重不符合科学常识或主流认知" "inaccurate; contrary to science or mainstream understanding";
    "A.5.b" "内容不可靠，虽然不包含严重错误的内容，但无法对使用者形成帮助" "unreliable; no serious error but of no help";
}

/// The risk with this code, if it is one of the 31.
pub fn risk(code: &str) -> Option<&'static Risk> {
    RISKS.iter().find(|r| r.code == code)
}

/// Whether `code` may name a risk in a lexicon: one of the 31 Appendix A codes, or a custom code
/// (non-empty, no whitespace, not starting with `A.`).
pub fn is_valid_risk_code(code: &str) -> bool {
    if code.starts_with("A.") {
        return risk(code).is_some();
    }
    !code.is_empty() && !code.chars().any(char::is_whitespace)
}

/// TC260 minimum keyword count for a risk (≥ 200 per A.1 risk, ≥ 100 per A.2 risk; none for the
/// others). Source: regulation.md §(c), confidence ◐.
pub fn minimum_keywords(code: &str) -> Option<usize> {
    if code.starts_with("A.1.") {
        Some(200)
    } else if code.starts_with("A.2.") {
        Some(100)
    } else {
        None
    }
}

/// TC260 minimum size of the whole keyword library (≥ 10,000). Source: regulation.md §(c), ◐.
pub const MINIMUM_TOTAL_KEYWORDS: usize = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_the_standard() {
        assert_eq!(RISKS.len(), 31);
        let count = |prefix: &str| RISKS.iter().filter(|r| r.code.starts_with(prefix)).count();
        assert_eq!(
            [
                count("A.1."),
                count("A.2."),
                count("A.3."),
                count("A.4."),
                count("A.5.")
            ],
            [8, 9, 5, 7, 2]
        );
        // 17 risks need keywords (A.1 + A.2).
        assert_eq!(
            RISKS
                .iter()
                .filter(|r| minimum_keywords(r.code).is_some())
                .count(),
            17
        );
    }

    #[test]
    fn codes_are_sorted_and_unique() {
        for pair in RISKS.windows(2) {
            assert!(pair[0].code < pair[1].code, "{pair:?}");
        }
        for r in &RISKS {
            assert_eq!(r.category().code, r.category_code());
        }
    }

    #[test]
    fn risk_code_validation() {
        for (code, ok) in [
            ("A.1.f", true),
            ("A.4.f", true),
            ("A.9.z", false),
            ("A.2.j", false),
            ("X.spam", true),
            ("", false),
            ("has space", false),
        ] {
            assert_eq!(is_valid_risk_code(code), ok, "{code}");
        }
    }
}
