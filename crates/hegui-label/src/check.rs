//! Checks of label values, as typed warnings that name the rule each comes from and how sure the
//! reference is of that rule (the marks of `shared/reference/labels.md`: ✅ verified, ◐
//! secondary, ❓ unconfirmed).
//!
//! Use [`value`] and [`notice`] on what a user gives (`hegui label add --producer …`) to say what
//! is wrong before anything is written; [`Label::problems`](crate::Label::problems) lists the
//! Annex E rules a whole label breaks, from the same checks. There are two kinds of rule:
//!
//! - rules the writer enforces ([`Rule::is_enforced`]): the Annex E character set, the required
//!   fields, the `Label` values, the elements of an explicit notice. A value that breaks one is
//!   refused by [`crate::write_label`] and [`crate::explicit::label_text`].
//! - the producer-code layout. The provider may be given by **name or code** (Labeling Measures
//!   art. 5 ✅); the 27-character code is only observed in labels (labels.md §3 ◐), its rule is
//!   unconfirmed (❓). So a name is never flagged, and a value that looks like a code but does not
//!   fit the layout gets a warning, never a refusal (style guide §3: a rule that could not be read
//!   at its source is never an error on its own).

use serde::Serialize;

use crate::Label;

/// How sure `shared/reference/labels.md` is of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// ✅ official text, or a verbatim copy of it.
    Verified,
    /// ◐ open-source code or docs, vendor docs or commentary only.
    Secondary,
    /// ❓ no source found (or, for the credit-code check, not in the reference).
    Unconfirmed,
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "✅ verified",
            Confidence::Secondary => "◐ secondary",
            Confidence::Unconfirmed => "❓ unconfirmed",
        })
    }
}

/// A rule a label value can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// Annex E j ✅: values use 0x21, 0x23–0x5B, 0x5D–0x7E and the escape `\"` (printable ASCII
    /// without space and backslash).
    Charset,
    /// `ContentProducer` and `ProduceID` are non-empty ◐ (AigcTotal; an empty `Label` breaks
    /// [`Rule::LabelValue`]).
    Required,
    /// `Label` is `1`, `2` or `3` ✅ (verbatim Annex E copies in open-source code).
    LabelValue,
    /// The observed 27-character producer code: `001`, `1` (organisation) or `2` (individual),
    /// the 18-character unified social credit code, a 5-character product suffix (◐ R5, R8; the
    /// rule itself ❓).
    ProducerCodeLayout,
    /// The check character of the unified social credit code inside a producer code (GB
    /// 32100-2015; not in labels.md, so ❓ there).
    CreditCodeCheck,
    /// An explicit text label contains "人工智能" or "AI" and "生成" or "合成" (§5.1 ◐).
    NoticeElements,
}

impl Rule {
    /// How sure the reference is of this rule.
    pub fn confidence(self) -> Confidence {
        match self {
            Rule::Charset | Rule::LabelValue => Confidence::Verified,
            Rule::Required | Rule::NoticeElements => Confidence::Secondary,
            Rule::ProducerCodeLayout | Rule::CreditCodeCheck => Confidence::Unconfirmed,
        }
    }

    /// Whether hegui refuses to write a value that breaks this rule (otherwise it only warns).
    pub fn is_enforced(self) -> bool {
        !matches!(self, Rule::ProducerCodeLayout | Rule::CreditCodeCheck)
    }

    /// Where the rule comes from, for messages.
    pub fn source(self) -> &'static str {
        match self {
            Rule::Charset => "GB 45438-2025 Annex E j character set",
            Rule::Required => "required Annex E fields, labels.md §3",
            Rule::LabelValue => "GB 45438-2025 Annex E `Label` values",
            Rule::ProducerCodeLayout => "producer-code layout observed in labels, labels.md §3",
            Rule::CreditCodeCheck => "GB 32100-2015 check character",
            Rule::NoticeElements => "GB 45438-2025 §5.1 notice elements",
        }
    }
}

/// A value that breaks a rule. Displayed as the message with the rule's source and confidence;
/// the field is separate so that a caller can name it its own way (a CLI flag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The Annex E key the value is for, or `notice` for an explicit notice.
    pub field: &'static str,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, quoting the value.
    pub message: String,
}

impl Warning {
    fn new(field: &'static str, rule: Rule, message: String) -> Warning {
        Warning {
            field,
            rule,
            message,
        }
    }

    /// How sure the reference is of the rule broken.
    pub fn confidence(&self) -> Confidence {
        self.rule.confidence()
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}, {})",
            self.message,
            self.rule.source(),
            self.confidence()
        )
    }
}

/// Every rule the value of Annex E key `field` breaks (`field` is one of [`crate::KEYS`]).
pub fn value(field: &'static str, value: &str) -> Vec<Warning> {
    let mut out = Vec::new();
    if field == "Label" && !matches!(value, "1" | "2" | "3") {
        out.push(Warning::new(
            field,
            Rule::LabelValue,
            format!("is `{value}`, expected `1`, `2` or `3`"),
        ));
    }
    if matches!(field, "ContentProducer" | "ProduceID") && value.is_empty() {
        out.push(Warning::new(field, Rule::Required, "is empty".into()));
    }
    if let Some(bad) = value.chars().find(|&c| !in_charset(c)) {
        out.push(Warning::new(
            field,
            Rule::Charset,
            format!(
                "contains {bad:?} (U+{:04X}), outside the Annex E character set",
                bad as u32
            ),
        ));
    }
    if matches!(field, "ContentProducer" | "ContentPropagator") {
        out.extend(producer_code(field, value));
    }
    out
}

/// Every rule a whole label breaks, field by field in Annex E order.
pub fn label(label: &Label) -> Vec<Warning> {
    label
        .fields()
        .into_iter()
        .flat_map(|(key, text)| value(key, text))
        .collect()
}

/// Every rule the text of an explicit notice or caption breaks.
pub fn notice(text: &str) -> Vec<Warning> {
    if crate::explicit::has_required_elements(text) {
        return Vec::new();
    }
    vec![Warning::new(
        "notice",
        Rule::NoticeElements,
        format!("`{text}` needs \"人工智能\" or \"AI\" and \"生成\" or \"合成\""),
    )]
}

/// Annex E j: 0x21, 0x23–0x5B, 0x5D–0x7E, plus `"` (written escaped as `\"`).
fn in_charset(c: char) -> bool {
    matches!(c, '!'..='~') && c != '\\'
}

/// The characters of a unified social credit code, in the order of their values (GB 32100-2015:
/// digits and capital letters other than I, O, S, V, Z).
const CREDIT_CODE_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The weights of the first 17 characters for the check character (GB 32100-2015).
const CREDIT_CODE_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Whether a producer value is written like a code rather than a name: digits and capital
/// letters only (the code's alphabet), or letters and digits starting `00` or mostly digits (a
/// code typed in lower case). Names (`Doubao`, `MiniMax-Agent`) are not.
fn looks_like_code(value: &str) -> bool {
    let alphanumeric = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric());
    let digits = value.bytes().filter(u8::is_ascii_digit).count();
    alphanumeric
        && (value
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            || value.starts_with("00")
            || 2 * digits >= value.len())
}

/// The layout warnings for a producer or propagator value that looks like a code.
fn producer_code(field: &'static str, value: &str) -> Vec<Warning> {
    if !looks_like_code(value) {
        return Vec::new();
    }
    let layout = |message: String| Warning::new(field, Rule::ProducerCodeLayout, message);
    let chars: Vec<char> = value.chars().collect();
    if chars.len() != 27 {
        return vec![layout(format!(
            "`{value}` looks like a producer code but has {} characters, not 27 (`001`, `1` or \
             `2`, an 18-character unified social credit code, a 5-character suffix); a provider \
             name is also allowed",
            chars.len()
        ))];
    }
    let mut out = Vec::new();
    if !value.starts_with("001") {
        out.push(layout(format!(
            "`{value}` starts with `{}`, not `001`",
            &value[..3]
        )));
    }
    if !matches!(chars[3], '1' | '2') {
        out.push(layout(format!(
            "`{value}` has `{}` at position 4, not `1` (organisation) or `2` (individual)",
            chars[3]
        )));
    }
    let credit_code = &value[4..22];
    if let Some(bad) = credit_code
        .chars()
        .find(|&c| !CREDIT_CODE_CHARS.contains(c))
    {
        out.push(layout(format!(
            "`{value}` has `{bad}` in its unified social credit code `{credit_code}` (positions \
             5-22), which uses digits and capital letters other than I, O, S, V, Z"
        )));
    } else if let Some(expected) = credit_code_check(credit_code)
        && !credit_code.ends_with(expected)
    {
        out.push(Warning::new(
            field,
            Rule::CreditCodeCheck,
            format!(
                "`{value}` holds the unified social credit code `{credit_code}`, whose check \
                 character should be `{expected}`"
            ),
        ));
    }
    if let Some(bad) = value[22..]
        .chars()
        .find(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
    {
        out.push(layout(format!(
            "`{value}` has `{bad}` in its suffix `{}` (positions 23-27), expected digits and \
             capital letters",
            &value[22..]
        )));
    }
    out
}

/// The check character of an 18-character credit code made of [`CREDIT_CODE_CHARS`].
fn credit_code_check(code: &str) -> Option<char> {
    let mut sum = 0;
    for (c, weight) in code.chars().zip(CREDIT_CODE_WEIGHTS) {
        sum += CREDIT_CODE_CHARS.find(c)? as u32 * weight;
    }
    let index = (31 - sum % 31) % 31;
    CREDIT_CODE_CHARS.chars().nth(index as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each producer value draws: names never, codes when they break the observed layout.
    #[test]
    fn producer_values_table() {
        let cases: &[(&str, &[Rule])] = &[
            // The example of labels.md §3 and other well-formed codes.
            ("001191440300708461136T1XGW3", &[]),
            ("001291110108551385082QABCDE", &[]),
            // Names, in the character set: accepted without a word.
            ("Doubao", &[]),
            ("MiniMax-Agent", &[]),
            ("hegui.example", &[]),
            // Looks like a code, does not fit.
            ("BAD", &[Rule::ProducerCodeLayout]),
            ("P1", &[Rule::ProducerCodeLayout]),
            ("011200000091000000000000", &[Rule::ProducerCodeLayout]),
            (
                "001191440300708461136t1xgw3",
                &[Rule::ProducerCodeLayout, Rule::ProducerCodeLayout],
            ),
            ("101191440300708461136T1XGW3", &[Rule::ProducerCodeLayout]),
            ("001391440300708461136T1XGW3", &[Rule::ProducerCodeLayout]),
            ("001191440300708461136X1XGW3", &[Rule::CreditCodeCheck]),
            ("0011914403007O8461136T1XGW3", &[Rule::ProducerCodeLayout]),
            // Outside the character set: the enforced rule.
            ("豆包", &[Rule::Charset]),
            ("A B", &[Rule::Charset]),
            ("", &[Rule::Required]),
        ];
        for (producer, expected) in cases {
            let rules: Vec<Rule> = value("ContentProducer", producer)
                .iter()
                .map(|w| w.rule)
                .collect();
            assert_eq!(rules, *expected, "{producer}");
        }
    }

    #[test]
    fn messages_name_the_rule_and_its_confidence() {
        let shown: Vec<String> = [
            value("ContentProducer", "BAD"),
            value("ContentProducer", "001191440300708461136X1XGW3"),
            value("ProduceID", "a b"),
            value("Label", "4"),
            notice("机器写的"),
        ]
        .iter()
        .flatten()
        .map(|w| format!("{}: {w}", w.field))
        .collect();
        insta::assert_debug_snapshot!(shown, @r#"
        [
            "ContentProducer: `BAD` looks like a producer code but has 3 characters, not 27 (`001`, `1` or `2`, an 18-character unified social credit code, a 5-character suffix); a provider name is also allowed (producer-code layout observed in labels, labels.md §3, ❓ unconfirmed)",
            "ContentProducer: `001191440300708461136X1XGW3` holds the unified social credit code `91440300708461136X`, whose check character should be `T` (GB 32100-2015 check character, ❓ unconfirmed)",
            "ProduceID: contains ' ' (U+0020), outside the Annex E character set (GB 45438-2025 Annex E j character set, ✅ verified)",
            "Label: is `4`, expected `1`, `2` or `3` (GB 45438-2025 Annex E `Label` values, ✅ verified)",
            "notice: `机器写的` needs \"人工智能\" or \"AI\" and \"生成\" or \"合成\" (GB 45438-2025 §5.1 notice elements, ◐ secondary)",
        ]
        "#);
    }
}
