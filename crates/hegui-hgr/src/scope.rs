//! What counts as human genetic resources: HGR **material**, HGR **information**, or out of scope.
//!
//! The lists live in data, `packs/cn-hgr/scope.toml`, next to the rule pack that cites the same
//! sources (hgr.md §3: 条例 art. 2, verified; the 2023 service guides and the 细则 art. 2 narrowing,
//! secondary). They are compiled into this crate, so `hegui hgr classify` works anywhere.
//!
//! Matching never guesses. A name matches an item if it equals one of the item's names after
//! [`fold`] (case, full-width forms, spaces, `-` and `_`), or if it is **composed** of listed parts
//! (`compose`): an optional qualifier (`肿瘤`, `tumour`), a listed item name, and a listed form
//! (`测序数据`, `FASTQ`, `数据`, `样本`), combined by a fixed table with its citation. Anything
//! else is [`Class::NeedsReview`] with "not in the lists": a compliance tool must never guess that
//! a sample is out of scope. Items the sources themselves leave open (untreated saliva, swabs,
//! plasma) are listed as `needs_review` with the reason.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod compose;

pub use compose::{Form, FormKind};

/// The scope lists as shipped with the `cn-hgr` pack.
const SCOPE_TOML: &str = include_str!("../../../packs/cn-hgr/scope.toml");

/// The outcome for one material or data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// HGR material (人类遗传资源材料).
    Material,
    /// HGR information (人类遗传资源信息).
    Information,
    /// Outside HGR: needs no declaration.
    OutOfScope,
    /// The sources leave it open, or it is not in the lists: a person must decide.
    NeedsReview,
}

impl Class {
    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Class::Material => "人遗材料",
            Class::Information => "人遗信息",
            Class::OutOfScope => "不属于人遗",
            Class::NeedsReview => "需人工判断",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Class::Material => "HGR material",
            Class::Information => "HGR information",
            Class::OutOfScope => "out of scope",
            Class::NeedsReview => "needs review",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Class::Material => "material",
            Class::Information => "information",
            Class::OutOfScope => "out_of_scope",
            Class::NeedsReview => "needs_review",
        })
    }
}

/// Confidence of a citation, as marked in the reference documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// ✅ official text or a verbatim copy.
    Verified,
    /// ◐ commentary or partial copies only.
    Secondary,
    /// ❓ no source found.
    Unconfirmed,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "verified",
            Confidence::Secondary => "secondary",
            Confidence::Unconfirmed => "unconfirmed",
        })
    }
}

/// A citation, in the shape the rule packs use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cite {
    /// Instrument id of the `cn-hgr` pack (`HGRR`, `HGRIR`, `GUIDE`).
    pub instrument: String,
    /// Article (or guide name).
    pub article: String,
    /// Paragraph or item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// How sure the source is.
    pub confidence: Confidence,
    /// Where the fact is recorded in `shared/reference`.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl fmt::Display for Cite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let instrument = match self.instrument.as_str() {
            "HGRR" => "条例",
            "HGRIR" => "细则",
            "GUIDE" => "指南",
            other => other,
        };
        write!(f, "{instrument} {}", self.article)?;
        if let Some(item) = &self.item {
            write!(f, " {item}")?;
        }
        write!(f, " ({})", self.confidence)
    }
}

/// Whether an item names a physical material or data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// A physical material (sample, tissue, fluid).
    Material,
    /// Data or information.
    Information,
}

/// One entry of the scope lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeItem {
    /// Stable id, e.g. `whole_blood`.
    pub id: String,
    /// What it is.
    pub class: Class,
    /// Material or data; defaults from the class (out-of-scope and needs-review items state it).
    #[serde(default)]
    pub domain: Option<Domain>,
    /// Names it is known by (English and Chinese).
    pub names: Vec<String>,
    /// Why (English).
    pub reason_en: String,
    /// Why (Chinese).
    pub reason_zh: String,
    /// Sources.
    pub cite: Vec<Cite>,
}

impl ScopeItem {
    /// Material or information.
    pub fn domain(&self) -> Domain {
        self.domain.unwrap_or(match self.class {
            Class::Information => Domain::Information,
            _ => Domain::Material,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopeFile {
    item: Vec<ScopeItem>,
    #[serde(default)]
    form: Vec<Form>,
    #[serde(default)]
    qualifier: Vec<Qualifiers>,
}

/// Words that narrow a listed item without changing what it is (`肿瘤组织` is tissue).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Qualifiers {
    names: Vec<String>,
}

/// Why the scope lists could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The TOML is malformed.
    #[error("invalid scope list: {0}")]
    Toml(#[from] toml::de::Error),
    /// Two items claim the same name.
    #[error("invalid scope list: the name `{name}` is used by both `{first}` and `{second}`")]
    DuplicateName {
        /// The folded name.
        name: String,
        /// The first item.
        first: String,
        /// The second item.
        second: String,
    },
}

/// The scope lists, indexed by folded name.
#[derive(Debug, Clone)]
pub struct Scope {
    items: Vec<ScopeItem>,
    by_name: BTreeMap<String, usize>,
    /// Folded form word, kind, word as listed; longest first.
    forms: Vec<(String, FormKind, String)>,
    /// Folded qualifiers, longest first.
    qualifiers: Vec<String>,
}

/// The classification of one input name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The name as given.
    pub input: String,
    /// The outcome.
    pub class: Class,
    /// The list item it matched, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Why (English).
    pub reason_en: String,
    /// Why (Chinese).
    pub reason_zh: String,
    /// Sources (empty for names not in the lists).
    pub cite: Vec<Cite>,
}

impl Scope {
    /// The lists bundled with the `cn-hgr` pack.
    ///
    /// # Errors
    ///
    /// Only if the bundled file is broken, which the crate's tests rule out.
    pub fn bundled() -> Result<Scope, ScopeError> {
        Self::parse(SCOPE_TOML)
    }

    /// Parses a scope list in the format of `packs/cn-hgr/scope.toml`.
    ///
    /// # Errors
    ///
    /// Malformed TOML, or one name claimed by two items.
    pub fn parse(text: &str) -> Result<Scope, ScopeError> {
        let file: ScopeFile = toml::from_str(text)?;
        let mut by_name = BTreeMap::new();
        for (index, item) in file.item.iter().enumerate() {
            for name in &item.names {
                let key = fold(name);
                if let Some(&previous) = by_name.get(&key) {
                    let first = file
                        .item
                        .get(previous)
                        .map(|i: &ScopeItem| i.id.clone())
                        .unwrap_or_default();
                    if first != item.id {
                        return Err(ScopeError::DuplicateName {
                            name: key,
                            first,
                            second: item.id.clone(),
                        });
                    }
                }
                by_name.insert(key, index);
            }
        }
        let forms = compose::prepare_forms(&file.form);
        let mut qualifiers: Vec<String> = file
            .qualifier
            .iter()
            .flat_map(|q| q.names.iter().map(|n| fold(n)))
            .filter(|q| !q.is_empty())
            .collect();
        qualifiers.sort_by_key(|q| std::cmp::Reverse(q.chars().count()));
        Ok(Scope {
            items: file.item,
            by_name,
            forms,
            qualifiers,
        })
    }

    /// Every item, in file order.
    pub fn items(&self) -> &[ScopeItem] {
        &self.items
    }

    fn item(&self, folded: &str) -> Option<&ScopeItem> {
        self.by_name
            .get(folded)
            .and_then(|&index| self.items.get(index))
    }

    /// Classifies one material or data type by name: an exact listed name, a listed name after a
    /// listed qualifier, or a composition of a listed name and a listed form (`compose`).
    pub fn classify(&self, input: &str) -> Classification {
        let folded = fold(input);
        let is_stem = |stem: &str| self.by_name.contains_key(stem);
        let found = self.item(&folded).or_else(|| {
            compose::strip_qualifier(&folded, &self.qualifiers, is_stem)
                .and_then(|stem| self.item(&stem))
        });
        if found.is_none()
            && let Some((stem, word, kind)) =
                compose::split(&folded, &self.forms, &self.qualifiers, is_stem)
            && let Some(item) = self.item(&stem)
        {
            let composed = compose::combine(item, kind, word);
            return Classification {
                input: input.to_string(),
                class: composed.class,
                item: Some(item.id.clone()),
                reason_en: composed.reason_en,
                reason_zh: composed.reason_zh,
                cite: composed.cite,
            };
        }
        match found {
            Some(item) => Classification {
                input: input.to_string(),
                class: item.class,
                item: Some(item.id.clone()),
                reason_en: item.reason_en.clone(),
                reason_zh: item.reason_zh.clone(),
                cite: item.cite.clone(),
            },
            None => Classification {
                input: input.to_string(),
                class: Class::NeedsReview,
                item: None,
                reason_en: "unknown: not in the guideline lists, needs review (never guessed)"
                    .to_string(),
                reason_zh: "未知：不在指南列举范围内，需人工判断".to_string(),
                cite: Vec::new(),
            },
        }
    }

    /// Classifies many names, in order.
    pub fn classify_all<'a>(
        &self,
        inputs: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Classification> {
        inputs
            .into_iter()
            .map(|input| self.classify(input))
            .collect()
    }
}

/// Folds a name for matching: NFKC-like width folding of ASCII and CJK punctuation, lowercase,
/// and removal of spaces, `-`, `_` and `·`. Kept simple and total: no normalization crate.
pub fn fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            // Full-width ASCII variants (！ … ～) to ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '·' | '‐' | '–'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope::bundled().expect("the bundled scope list parses")
    }

    /// (input, expected class, expected item id or "" for unknown).
    const CASES: &[(&str, Class, &str)] = &[
        // Materials: the 指南 list.
        ("cells", Class::Material, "cells"),
        ("所有类型细胞", Class::Material, "cells"),
        ("PBMC", Class::Material, "cells"),
        ("whole blood", Class::Material, "whole_blood"),
        ("全血", Class::Material, "whole_blood"),
        ("tissue", Class::Material, "tissue"),
        ("组织切片", Class::Material, "tissue"),
        ("FFPE block", Class::Material, "tissue"),
        ("semen", Class::Material, "semen"),
        ("CSF", Class::Material, "csf"),
        ("脑脊液", Class::Material, "csf"),
        ("pleural effusion", Class::Material, "effusion"),
        ("腹腔积液", Class::Material, "effusion"),
        ("bone marrow smear", Class::Material, "smear"),
        ("血涂片", Class::Material, "smear"),
        ("hair with follicle", Class::Material, "hair_with_follicle"),
        ("毛发（带毛囊）", Class::Material, "hair_with_follicle"),
        ("organ", Class::Material, "organ"),
        // Not declared: cell-free secretions, body fluids, swabs.
        ("cell-free saliva", Class::OutOfScope, "cell_free_secretion"),
        (
            "不含细胞的人体分泌物",
            Class::OutOfScope,
            "cell_free_secretion",
        ),
        (
            "cell-free body fluid",
            Class::OutOfScope,
            "cell_free_body_fluid",
        ),
        ("不含细胞的体液", Class::OutOfScope, "cell_free_body_fluid"),
        ("cell-free swab", Class::OutOfScope, "cell_free_swab"),
        ("不含细胞的拭子", Class::OutOfScope, "cell_free_swab"),
        // Untreated: the HK caution.
        ("saliva", Class::NeedsReview, "untreated_secretion"),
        ("swab", Class::NeedsReview, "untreated_secretion"),
        ("咽拭子", Class::NeedsReview, "untreated_secretion"),
        ("plasma", Class::NeedsReview, "serum_plasma"),
        // Information: the 指南 list.
        ("gene", Class::Information, "gene_data"),
        ("genome", Class::Information, "genome"),
        ("WGS", Class::Information, "genome"),
        ("基因组", Class::Information, "genome"),
        ("whole exome sequencing", Class::Information, "exome"),
        ("transcriptome", Class::Information, "transcriptome"),
        ("RNA-seq", Class::Information, "transcriptome"),
        ("mRNA数据", Class::Information, "transcriptome"),
        ("epigenome", Class::Information, "epigenome"),
        ("DNA methylation", Class::Information, "epigenome"),
        ("表观组", Class::Information, "epigenome"),
        ("ctDNA", Class::Information, "nucleic_acid_biomarker"),
        (
            "核酸类生物标志物",
            Class::Information,
            "nucleic_acid_biomarker",
        ),
        // Excluded data (细则 art. 2).
        ("clinical data", Class::OutOfScope, "clinical_data"),
        ("临床数据", Class::OutOfScope, "clinical_data"),
        ("imaging data", Class::OutOfScope, "imaging_data"),
        ("MRI", Class::OutOfScope, "imaging_data"),
        ("protein data", Class::OutOfScope, "protein_data"),
        ("proteomics", Class::OutOfScope, "protein_data"),
        ("metabolic data", Class::OutOfScope, "metabolic_data"),
        ("代谢组", Class::OutOfScope, "metabolic_data"),
        (
            "protein biomarker",
            Class::OutOfScope,
            "non_nucleic_biomarker",
        ),
        // Unknown: never guessed.
        ("hair", Class::NeedsReview, ""),
        ("extracted DNA", Class::NeedsReview, ""),
        ("gut microbiome", Class::NeedsReview, ""),
        ("", Class::NeedsReview, ""),
    ];

    #[test]
    fn guideline_lists() {
        let scope = scope();
        for &(input, class, item) in CASES {
            let got = scope.classify(input);
            assert_eq!(got.class, class, "class of {input:?}");
            assert_eq!(got.item.as_deref().unwrap_or(""), item, "item of {input:?}");
            assert_eq!(
                got.cite.is_empty(),
                item.is_empty(),
                "citations of {input:?}"
            );
        }
    }

    /// Issue 19 item 12: ordinary lab wording classified by documented composition.
    /// (input, expected class, expected item id or "" for unknown).
    const COMPOSED: &[(&str, Class, &str)] = &[
        (
            "ctDNA测序数据",
            Class::Information,
            "nucleic_acid_biomarker",
        ),
        ("proteomics data", Class::OutOfScope, "protein_data"),
        ("cfDNA data", Class::Information, "nucleic_acid_biomarker"),
        ("全外显子测序数据", Class::Information, "exome"),
        ("WGS FASTQ", Class::Information, "genome"),
        ("exome VCF", Class::Information, "exome"),
        ("全血测序数据", Class::Information, "whole_blood"),
        ("肿瘤组织样本", Class::Material, "tissue"),
        ("肿瘤组织", Class::Material, "tissue"),
        ("plasma cfDNA", Class::Information, "nucleic_acid_biomarker"),
        ("临床数据集", Class::OutOfScope, "clinical_data"),
        (
            "cell-free saliva samples",
            Class::OutOfScope,
            "cell_free_secretion",
        ),
        // Combinations the table leaves open, and unknown stems: never guessed.
        ("全血数据", Class::NeedsReview, "whole_blood"),
        ("ctDNA样本", Class::NeedsReview, "nucleic_acid_biomarker"),
        ("临床测序数据", Class::NeedsReview, "clinical_data"),
        ("血浆样本", Class::NeedsReview, "serum_plasma"),
        ("粪便测序数据", Class::NeedsReview, ""),
        ("microbiome data", Class::NeedsReview, ""),
        ("测序数据", Class::NeedsReview, ""),
        ("extracted DNA", Class::NeedsReview, ""),
    ];

    #[test]
    fn composition() {
        let scope = scope();
        for &(input, class, item) in COMPOSED {
            let got = scope.classify(input);
            assert_eq!(got.class, class, "class of {input:?}: {}", got.reason_en);
            assert_eq!(got.item.as_deref().unwrap_or(""), item, "item of {input:?}");
            assert_eq!(
                got.cite.is_empty(),
                item.is_empty(),
                "citations of {input:?}"
            );
        }
        // Genetic data of a material cites 条例 art. 2 first.
        let blood = scope.classify("全血测序数据");
        assert_eq!(blood.cite.first().map(|c| c.article.as_str()), Some("2"));
    }

    /// The shipped list of biobank and trial names (examples/hgr/biobank-names.txt): at least 90 %
    /// get a classification with a citation; the share of definite classes is printed.
    #[test]
    fn shipped_name_list_is_classified_with_citations() {
        let text = include_str!("../../../examples/hgr/biobank-names.txt");
        let names: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(names.len() >= 200, "{} names", names.len());
        let results = scope().classify_all(names.iter().copied());
        let cited = results.iter().filter(|c| !c.cite.is_empty()).count();
        let definite = results
            .iter()
            .filter(|c| c.class != Class::NeedsReview)
            .count();
        eprintln!(
            "{} names: {cited} with a citation, {definite} material/information/out of scope",
            names.len()
        );
        assert!(
            cited * 100 >= names.len() * 90,
            "{cited} of {}",
            names.len()
        );
        assert!(
            results
                .iter()
                .all(|c| c.class == Class::NeedsReview || !c.cite.is_empty())
        );
    }

    #[test]
    fn every_listed_item_cites_a_source() {
        for item in scope().items() {
            assert!(!item.cite.is_empty(), "{} has no citation", item.id);
            assert!(!item.names.is_empty(), "{} has no names", item.id);
        }
    }

    #[test]
    fn folding_ignores_case_width_and_separators() {
        assert_eq!(fold("Whole-Blood"), "wholeblood");
        assert_eq!(fold("ＷＧＳ"), "wgs");
        assert_eq!(fold(" cell_free  saliva "), "cellfreesaliva");
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let text = r#"
[[item]]
id = "a"
class = "material"
names = ["Blood"]
reason_en = "x"
reason_zh = "x"
cite = []
[[item]]
id = "b"
class = "material"
names = ["blood"]
reason_en = "x"
reason_zh = "x"
cite = []
"#;
        let err = Scope::parse(text).expect_err("duplicate");
        insta::assert_snapshot!(err, @"invalid scope list: the name `blood` is used by both `a` and `b`");
    }
}
