//! Classification by documented composition: a listed material or information kind (the *stem*),
//! optionally after a listed qualifier (`肿瘤`, `tumour`, `plasma` …), followed by a listed form
//! (`测序数据`, `FASTQ`, `数据`, `样本` …). `全外显子测序数据` is the stem `全外显子` (exome) with the
//! genetic-data form `测序数据`; `WGS FASTQ` is `WGS` (genome) with `FASTQ`.
//!
//! This keeps "never guess": only listed stems, qualifiers and forms combine, and the outcome of
//! each combination is a fixed rule with its citation:
//!
//! | stem \ form | genetic data (测序数据, VCF) | data (数据, dataset) | sample (样本, tubes) |
//! |---|---|---|---|
//! | HGR material | information (条例 2: data produced from the material) | needs review | material |
//! | HGR information | information | information | needs review |
//! | out of scope, information side | needs review | out of scope | needs review |
//! | out of scope, material side | needs review | needs review | out of scope |
//! | needs review | needs review | needs review | needs review |
//!
//! An unknown stem stays "needs review", as before.

use serde::Deserialize;

use super::{Cite, Class, Confidence, Domain, ScopeItem, fold};

/// What a form word says about the thing named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Genetic data produced by sequencing, genotyping or methylation analysis.
    Genetic,
    /// Data or files of an unspecified kind.
    Data,
    /// A physical sample (tube, aliquot, specimen).
    Sample,
}

/// A listed form word with its kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// Its kind.
    pub kind: FormKind,
    /// The words (English and Chinese).
    pub names: Vec<String>,
}

/// The outcome of a composed name.
pub(crate) struct Composed {
    pub(crate) class: Class,
    pub(crate) reason_en: String,
    pub(crate) reason_zh: String,
    pub(crate) cite: Vec<Cite>,
}

fn article_2() -> Cite {
    Cite {
        instrument: "HGRR".into(),
        article: "2".into(),
        item: None,
        confidence: Confidence::Verified,
        reference: Some("hgr.md §3 (information is data produced from the materials)".into()),
    }
}

/// The class a stem and a form combine to (the table in the module docs).
pub(crate) fn combine(item: &ScopeItem, form: FormKind, form_word: &str) -> Composed {
    let domain = item.domain();
    let (class, en, zh) = match (item.class, domain, form) {
        (Class::Material, _, FormKind::Genetic) => (
            Class::Information,
            format!(
                "genetic data (`{form_word}`) produced from {}, an HGR material: HGR information",
                item.id
            ),
            format!(
                "由人类遗传资源材料（{}）产生的基因数据（{form_word}），属于人类遗传资源信息",
                item.id
            ),
        ),
        (Class::Material, _, FormKind::Sample) => (
            Class::Material,
            format!("a sample (`{form_word}`) of {}, an HGR material", item.id),
            format!("{}的样本（{form_word}），属于人类遗传资源材料", item.id),
        ),
        (Class::Information, _, FormKind::Genetic | FormKind::Data) => (
            Class::Information,
            format!("{} data (`{form_word}`): HGR information", item.id),
            format!("{}数据（{form_word}），属于人类遗传资源信息", item.id),
        ),
        (Class::OutOfScope, Domain::Information, FormKind::Data) => (
            Class::OutOfScope,
            format!("{} (`{form_word}`): excluded from HGR information", item.id),
            format!("{}（{form_word}）不属于人类遗传资源信息", item.id),
        ),
        (Class::OutOfScope, Domain::Material, FormKind::Sample) => (
            Class::OutOfScope,
            format!(
                "a sample (`{form_word}`) of {}: needs no declaration",
                item.id
            ),
            format!("{}的样本（{form_word}）无需申报", item.id),
        ),
        _ => (
            Class::NeedsReview,
            format!(
                "{} ({}) with `{form_word}`: the combination is not settled by the lists, needs review",
                item.id, item.class
            ),
            format!(
                "{}与「{form_word}」的组合不在列举规则内，需人工判断",
                item.id
            ),
        ),
    };
    let mut cite = item.cite.clone();
    if class == Class::Information && item.class == Class::Material {
        cite.insert(0, article_2());
    }
    Composed {
        class,
        reason_en: format!("{en} (by composition: {})", item.reason_en),
        reason_zh: format!("{zh}（组合判断：{}）", item.reason_zh),
        cite,
    }
}

/// Splits a folded name into (qualifier-free stem, form word, form kind) candidates, longest form
/// first, and returns the first whose stem is listed.
pub(crate) fn split<'a>(
    folded: &str,
    forms: &'a [(String, FormKind, String)],
    qualifiers: &[String],
    is_stem: impl Fn(&str) -> bool,
) -> Option<(String, &'a str, FormKind)> {
    for (word, kind, shown) in forms {
        let Some(stem) = folded.strip_suffix(word.as_str()) else {
            continue;
        };
        if stem.is_empty() {
            continue;
        }
        if is_stem(stem) {
            return Some((stem.to_string(), shown.as_str(), *kind));
        }
        for qualifier in qualifiers {
            if let Some(rest) = stem.strip_prefix(qualifier.as_str())
                && !rest.is_empty()
                && is_stem(rest)
            {
                return Some((rest.to_string(), shown.as_str(), *kind));
            }
        }
    }
    None
}

/// Strips a listed qualifier (`肿瘤组织` → `组织`) from a name without a form word.
pub(crate) fn strip_qualifier(
    folded: &str,
    qualifiers: &[String],
    is_stem: impl Fn(&str) -> bool,
) -> Option<String> {
    qualifiers.iter().find_map(|qualifier| {
        folded
            .strip_prefix(qualifier.as_str())
            .filter(|rest| !rest.is_empty() && is_stem(rest))
            .map(str::to_string)
    })
}

/// Folds and orders the forms: longest word first, so `测序数据` wins over `数据`.
pub(crate) fn prepare_forms(forms: &[Form]) -> Vec<(String, FormKind, String)> {
    let mut out: Vec<(String, FormKind, String)> = forms
        .iter()
        .flat_map(|form| {
            form.names
                .iter()
                .map(move |name| (fold(name), form.kind, name.clone()))
        })
        .filter(|(word, _, _)| !word.is_empty())
        .collect();
    out.sort_by(|a, b| {
        b.0.chars()
            .count()
            .cmp(&a.0.chars().count())
            .then(a.0.cmp(&b.0))
    });
    out.dedup_by(|a, b| a.0 == b.0);
    out
}
