//! Annotation QA (`hegui annotate qa`): Interim Measures art. 8 asks for annotation rules and a
//! quality assessment by sampled verification; GB/T 45674 (regulation.md §(c) ◐) asks for
//! ≥ 200 safety annotations per risk and safety annotations making up ≥ 3 % of all.
//!
//! Inputs: annotation records (JSONL: `item`, `annotator`, `batch`, `label`, `kind` functional |
//! safety, `risk` for safety annotations) and the reviewers' labels for a sample of items
//! (JSONL: `item`, `label`). Output: accuracy per batch and per annotator with 95 % Wilson
//! intervals, the batches below the accuracy threshold (the provider's; hegui's default 95 % is
//! not a cited figure, ❓), safety coverage per risk, and a seeded sample plan for the reviewers
//! (the items to review next, per batch).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hegui_lexicon::taxonomy;
use serde::{Deserialize, Serialize};

use crate::doc::{Doc, Report};
use crate::input::{self, InputError, InputFile};
use crate::stats::{self, Proportion, Reservoir};
use crate::thresholds::{
    ANNOTATION_ACCURACY_DEFAULT, ANNOTATION_SAFETY_PER_RISK, ANNOTATION_SAFETY_SHARE, Check,
    Threshold,
};

/// What an annotation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationKind {
    /// Functional (task) annotation.
    Functional,
    /// Safety annotation (a risk label).
    Safety,
}

/// One annotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// The annotated item.
    pub item: String,
    /// Who annotated it.
    pub annotator: String,
    /// The batch.
    pub batch: String,
    /// The label given.
    pub label: String,
    /// Functional or safety.
    pub kind: AnnotationKind,
    /// The Appendix A risk of a safety annotation.
    #[serde(default)]
    pub risk: Option<String>,
}

/// A reviewer's label for an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The item.
    pub item: String,
    /// The correct label.
    pub label: String,
    /// Who reviewed it.
    #[serde(default)]
    pub reviewer: Option<String>,
}

/// How to check.
#[derive(Debug, Clone)]
pub struct Options {
    /// The accuracy each batch must reach.
    pub min_accuracy: f64,
    /// Items per batch in the sample plan.
    pub plan_per_batch: usize,
    /// The seed of the plan.
    pub seed: u64,
}

/// Accuracy of one batch or annotator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Batch or annotator.
    pub name: String,
    /// Annotations.
    pub annotations: u64,
    /// Of them reviewed; correct.
    pub accuracy: Proportion,
    /// At or above the threshold.
    pub met: bool,
}

/// One planned review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// Batch.
    pub batch: String,
    /// Item to review.
    pub item: String,
}

/// The result of `hegui annotate qa` (JSON shape `"schema": "hegui.annotate-qa/1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotateReport {
    /// Always `hegui.annotate-qa/1`.
    pub schema: String,
    /// The input files.
    pub inputs: Vec<InputFile>,
    /// Annotations read.
    pub annotations: u64,
    /// Per batch.
    pub batches: Vec<Accuracy>,
    /// Per annotator.
    pub annotators: Vec<Accuracy>,
    /// Safety annotations per risk (all 31).
    pub safety_per_risk: BTreeMap<String, u64>,
    /// Verdicts.
    pub checks: Vec<Check>,
    /// The sample plan for the reviewers.
    pub plan: Vec<Planned>,
}

impl AnnotateReport {
    /// Whether every check is met.
    pub fn passes(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }
}

/// Checks `annotations` against `reviews` (none: only coverage and the plan).
///
/// # Errors
///
/// An unreadable file or an invalid line, by file and line.
pub fn qa(
    annotations: &Path,
    reviews: Option<&Path>,
    options: &Options,
) -> Result<AnnotateReport, InputError> {
    let records = input::read_jsonl::<Annotation>(annotations)?;
    let name = annotations.display().to_string();
    for (line, a) in &records {
        if let Some(risk) = &a.risk
            && taxonomy::risk(risk).is_none()
        {
            return Err(InputError::invalid(
                &name,
                *line,
                format!("`{risk}` is not an Appendix A risk code"),
            ));
        }
        if a.kind == AnnotationKind::Safety && a.risk.is_none() {
            return Err(InputError::invalid(
                &name,
                *line,
                "a safety annotation needs a `risk`",
            ));
        }
    }
    let mut truth: HashMap<String, String> = HashMap::new();
    let mut inputs = vec![InputFile::of(annotations)?];
    if let Some(path) = reviews {
        for (_, r) in input::read_jsonl::<Review>(path)? {
            truth.insert(r.item, r.label);
        }
        inputs.push(InputFile::of(path)?);
    }
    let mut batches: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut annotators: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    let mut safety: BTreeMap<String, u64> = taxonomy::RISKS
        .iter()
        .map(|r| (r.code.to_string(), 0))
        .collect();
    let mut plan_samples: BTreeMap<&str, Reservoir<&str>> = BTreeMap::new();
    let mut rng = stats::rng(options.seed, 0);
    for (_, a) in &records {
        let reviewed = truth.get(&a.item);
        for entry in [
            batches.entry(&a.batch).or_default(),
            annotators.entry(&a.annotator).or_default(),
        ] {
            entry.0 += 1;
            if let Some(label) = reviewed {
                entry.1 += u64::from(*label == a.label);
                entry.2 += 1;
            }
        }
        if let (AnnotationKind::Safety, Some(risk)) = (a.kind, &a.risk) {
            *safety.entry(risk.clone()).or_default() += 1;
        }
        plan_samples
            .entry(&a.batch)
            .or_insert_with(|| Reservoir::new(options.plan_per_batch))
            .offer(&mut rng, &a.item);
    }
    let threshold = Threshold {
        figure: options.min_accuracy,
        ..ANNOTATION_ACCURACY_DEFAULT
    };
    let accuracy = |m: BTreeMap<&str, (u64, u64, u64)>| -> Vec<Accuracy> {
        m.into_iter()
            .map(|(name, (n, correct, reviewed))| {
                let accuracy = Proportion::new(correct, reviewed);
                Accuracy {
                    name: name.to_string(),
                    annotations: n,
                    met: reviewed > 0 && threshold.met_by(accuracy.value),
                    accuracy,
                }
            })
            .collect()
    };
    let batches = accuracy(batches);
    let annotators = accuracy(annotators);
    let total = records.len() as u64;
    let safety_total: u64 = safety.values().sum();
    let share = Proportion::new(safety_total, total);
    let short: Vec<String> = safety
        .iter()
        .filter(|(_, n)| !ANNOTATION_SAFETY_PER_RISK.met_by(**n as f64))
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let below: Vec<&str> = batches
        .iter()
        .filter(|b| !b.met)
        .map(|b| b.name.as_str())
        .collect();
    let checks = vec![
        Check::new(
            &threshold,
            if below.is_empty() {
                format!("every batch of {}", batches.len())
            } else {
                format!("below: {}", below.join(", "))
            },
            !batches.is_empty() && below.is_empty(),
        ),
        Check::new(
            &ANNOTATION_SAFETY_SHARE,
            share.display(),
            ANNOTATION_SAFETY_SHARE.met_by(share.value),
        ),
        Check::new(
            &ANNOTATION_SAFETY_PER_RISK,
            if short.is_empty() {
                "every risk".to_string()
            } else {
                format!("{} of 31 risks short", short.len())
            },
            short.is_empty(),
        ),
    ];
    let plan = plan_samples
        .into_iter()
        .flat_map(|(batch, sample)| {
            let mut items = sample.into_sorted();
            items.sort_unstable();
            items.dedup();
            items.into_iter().map(move |item| Planned {
                batch: batch.to_string(),
                item: item.to_string(),
            })
        })
        .collect();
    Ok(AnnotateReport {
        schema: "hegui.annotate-qa/1".to_string(),
        inputs,
        annotations: total,
        batches,
        annotators,
        safety_per_risk: safety,
        checks,
        plan,
    })
}

fn accuracy_rows(rows: &[Accuracy]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.annotations.to_string(),
                a.accuracy.display(),
                crate::doc::yes_no(a.met),
            ]
        })
        .collect()
}

impl Report for AnnotateReport {
    fn doc(&self) -> Doc {
        let mut doc = Doc::new("标注质量评估 Annotation QA");
        doc.para(format!(
            "{} annotations; accuracy = reviewer label equals annotator label, over reviewed \
             items; intervals: 95 % Wilson.",
            self.annotations
        ));
        doc.list(self.inputs.iter().map(InputFile::describe).collect());
        doc.heading(2, "Checks");
        doc.table(&Check::HEADER, self.checks.iter().map(Check::row).collect());
        let header = ["name", "annotations", "accuracy (reviewed)", "met"];
        doc.heading(2, "Per batch");
        doc.table(&header, accuracy_rows(&self.batches));
        doc.heading(2, "Per annotator");
        doc.table(&header, accuracy_rows(&self.annotators));
        doc.heading(2, "Safety annotations per risk");
        doc.table(
            &["risk", "safety annotations", "≥ 200"],
            self.safety_per_risk
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(r, n)| {
                    vec![
                        r.clone(),
                        n.to_string(),
                        crate::doc::yes_no(ANNOTATION_SAFETY_PER_RISK.met_by(*n as f64)),
                    ]
                })
                .collect(),
        );
        doc.heading(2, "Sample plan for the reviewers");
        doc.para(format!(
            "{} items to review (seeded; the same inputs and seed give the same plan).",
            self.plan.len()
        ));
        doc.list(
            self.plan
                .iter()
                .take(20)
                .map(|p| format!("{}: {}", p.batch, p.item))
                .collect(),
        );
        doc
    }
}
