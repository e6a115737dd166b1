//! Quality of a moderation layer against labelled data: precision, recall and F1 of a lexicon
//! (or of anything else that says "block" for a text, through [`Predictor`]), overall, per
//! group (e.g. COLD's `topic`), per risk code and per pattern, with 95 % Wilson intervals; and
//! the patterns that cause most false positives, with examples, so that a provider can move them
//! to `review`, combine them with `a&b`, or allow-list their contexts.
//!
//! Why it matters for compliance: over-blocking fails the should-answer bank (≤ 5 % refusals,
//! regulation.md §(c) ◐) as surely as under-blocking fails the rest, and a keyword list alone
//! blocks ordinary discussion. Measure on your own labelled data before trusting it.
//!
//! A record is *predicted positive* when the predictor says so (for a lexicon: a hit at or above
//! the chosen level). Per risk and per pattern only precision is defined (the labels are binary);
//! "share of positives" says how many labelled positives that risk or pattern catches.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hegui_lexicon::{Level, Matcher, taxonomy};
use serde::{Deserialize, Serialize};

use crate::doc::{Doc, Report};
use crate::input::{self, InputError, InputFile};
use crate::stats::Proportion;

/// One pattern that fired on a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fired {
    /// The pattern.
    pub pattern: String,
    /// Its risk code.
    pub risk: String,
}

/// What a predictor says about one text.
#[derive(Debug, Clone, Default)]
pub struct Prediction {
    /// Whether it would block (or otherwise act on) the text.
    pub positive: bool,
    /// The patterns that fired (at the counted level), each once.
    pub fired: Vec<Fired>,
}

/// Something that classifies texts: a lexicon, or the gateway's whole input guard.
pub trait Predictor {
    /// What it is, for the report (`lexicon hegui-sample 0.3, level ≥ block`).
    fn describe(&self) -> String;
    /// Its prediction for `text`.
    ///
    /// # Errors
    ///
    /// A message when the prediction could not be made (an unreachable endpoint).
    fn predict(&self, text: &str) -> Result<Prediction, String>;
}

/// A lexicon as a predictor: positive when a hit is at `level` or stronger.
pub struct LexiconPredictor<'a> {
    /// The compiled lexicon.
    pub matcher: &'a Matcher,
    /// The weakest level that counts.
    pub level: Level,
}

impl Predictor for LexiconPredictor<'_> {
    fn describe(&self) -> String {
        let (name, version) = self.matcher.name_version();
        format!(
            "lexicon {name} {version}, hits at level ≥ {}",
            self.level.as_str()
        )
    }

    fn predict(&self, text: &str) -> Result<Prediction, String> {
        let mut fired: Vec<Fired> = self
            .matcher
            .find_all(text)
            .into_iter()
            .filter(|h| h.rule.level >= self.level)
            .map(|h| Fired {
                pattern: h.rule.pattern.clone(),
                risk: h.rule.risk.clone(),
            })
            .collect();
        fired.sort();
        fired.dedup();
        Ok(Prediction {
            positive: !fired.is_empty(),
            fired,
        })
    }
}

/// Which fields hold what.
#[derive(Debug, Clone)]
pub struct Options {
    /// The text field (`TEXT` in COLD).
    pub text_field: String,
    /// The label field.
    pub label_field: String,
    /// Label values that mean "should be blocked" (default `1`).
    pub positive: Vec<String>,
    /// An optional grouping field (`topic` in COLD).
    pub group_field: Option<String>,
    /// How many false-positive patterns to list.
    pub top: usize,
    /// How many example texts per listed pattern.
    pub examples: usize,
}

/// Confusion counts and the scores derived from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Labelled positive, predicted positive.
    pub true_positives: u64,
    /// Labelled negative, predicted positive.
    pub false_positives: u64,
    /// Labelled positive, predicted negative.
    pub false_negatives: u64,
    /// Labelled negative, predicted negative.
    pub true_negatives: u64,
    /// TP / (TP + FP).
    pub precision: Option<Proportion>,
    /// TP / (TP + FN).
    pub recall: Option<Proportion>,
    /// Harmonic mean of precision and recall (no interval).
    pub f1: f64,
    /// FP / (FP + TN): the share of harmless records blocked.
    pub false_positive_rate: Option<Proportion>,
}

impl Scores {
    fn add(&mut self, labelled: bool, predicted: bool) {
        match (labelled, predicted) {
            (true, true) => self.true_positives += 1,
            (false, true) => self.false_positives += 1,
            (true, false) => self.false_negatives += 1,
            (false, false) => self.true_negatives += 1,
        }
    }

    fn finish(&mut self) {
        let (tp, fp, fn_, tn) = (
            self.true_positives,
            self.false_positives,
            self.false_negatives,
            self.true_negatives,
        );
        self.precision = Some(Proportion::new(tp, tp + fp));
        self.recall = Some(Proportion::new(tp, tp + fn_));
        self.false_positive_rate = Some(Proportion::new(fp, fp + tn));
        self.f1 = if tp == 0 {
            0.0
        } else {
            2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
        };
    }
}

/// Precision of one risk code or one pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    /// The risk code (and, for a pattern row, the pattern).
    pub risk: String,
    /// The pattern, for a pattern row.
    pub pattern: Option<String>,
    /// Records it fired on that are labelled positive.
    pub true_positives: u64,
    /// Records it fired on that are labelled negative.
    pub false_positives: u64,
    /// Precision with interval.
    pub precision: Proportion,
    /// Labelled positives it catches, of all labelled positives.
    pub share_of_positives: Proportion,
    /// Example false positives: `file:line` and the text (at most 80 characters).
    pub examples: Vec<String>,
}

/// The result of `hegui lexicon eval` (JSON shape `"schema": "hegui.lexicon-eval/1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexiconEvalReport {
    /// Always `hegui.lexicon-eval/1`.
    pub schema: String,
    /// What was evaluated.
    pub predictor: String,
    /// The labelled files.
    pub inputs: Vec<InputFile>,
    /// The label field and the values counted as positive.
    pub label: String,
    /// Records read.
    pub records: u64,
    /// Overall scores.
    pub overall: Scores,
    /// Scores per group value, when a group field was given.
    pub groups: BTreeMap<String, Scores>,
    /// Precision per risk code.
    pub risks: Vec<Firing>,
    /// Patterns with the most false positives, most first.
    pub top_false_positives: Vec<Firing>,
    /// Every pattern that fired, most false positives first.
    pub patterns: Vec<Firing>,
}

#[derive(Default)]
struct Tally {
    tp: u64,
    fp: u64,
    examples: Vec<String>,
}

/// Evaluates `predictor` against the labelled records of `paths`.
///
/// # Errors
///
/// A file that cannot be read, a record without the text or label field, or a failed
/// prediction (named by file and line).
pub fn evaluate(
    paths: &[PathBuf],
    predictor: &dyn Predictor,
    options: &Options,
) -> Result<LexiconEvalReport, InputError> {
    let mut fields = vec![options.text_field.as_str(), options.label_field.as_str()];
    if let Some(group) = &options.group_field {
        fields.push(group);
    }
    let mut overall = Scores::default();
    let mut groups: BTreeMap<String, Scores> = BTreeMap::new();
    let mut risks: BTreeMap<String, Tally> = BTreeMap::new();
    let mut patterns: BTreeMap<Fired, Tally> = BTreeMap::new();
    let mut records = 0u64;
    let mut inputs = Vec::new();
    for path in paths {
        inputs.push(InputFile::of(path)?);
        let name = path.display().to_string();
        input::for_each_record(path, &fields, &|_| {}, |record| {
            let mut fields = record.fields.into_iter();
            let (Some(text), label, group) = (
                fields.next().flatten(),
                fields.next().flatten(),
                fields.next().flatten(),
            ) else {
                return Err(InputError::invalid(
                    &name,
                    record.line,
                    format!("no `{}` field", options.text_field),
                ));
            };
            let Some(label) = label else {
                return Err(InputError::invalid(
                    &name,
                    record.line,
                    format!("no `{}` field", options.label_field),
                ));
            };
            let labelled = options.positive.iter().any(|p| *p == label.trim());
            let prediction = predictor
                .predict(&text)
                .map_err(|e| InputError::invalid(&name, record.line, e))?;
            records += 1;
            overall.add(labelled, prediction.positive);
            if let Some(group) = group {
                groups
                    .entry(group)
                    .or_default()
                    .add(labelled, prediction.positive);
            }
            let example = || {
                let short: String = text.chars().take(80).collect();
                format!("{name}:{}: {short}", record.line)
            };
            let mut seen_risks: Vec<&str> = Vec::new();
            for fired in &prediction.fired {
                let tally = patterns.entry(fired.clone()).or_default();
                count(tally, labelled, options.examples, example);
                if !seen_risks.contains(&fired.risk.as_str()) {
                    seen_risks.push(&fired.risk);
                    let tally = risks.entry(fired.risk.clone()).or_default();
                    count(tally, labelled, 0, example);
                }
            }
            Ok(())
        })?;
    }
    overall.finish();
    groups.values_mut().for_each(Scores::finish);
    let positives = overall.true_positives + overall.false_negatives;
    let firing = |risk: String, pattern: Option<String>, t: Tally| Firing {
        risk,
        pattern,
        true_positives: t.tp,
        false_positives: t.fp,
        precision: Proportion::new(t.tp, t.tp + t.fp),
        share_of_positives: Proportion::new(t.tp, positives),
        examples: t.examples,
    };
    let risks = risks
        .into_iter()
        .map(|(risk, t)| firing(risk, None, t))
        .collect();
    let mut patterns: Vec<Firing> = patterns
        .into_iter()
        .map(|(f, t)| firing(f.risk, Some(f.pattern), t))
        .collect();
    patterns.sort_by(|a, b| {
        b.false_positives
            .cmp(&a.false_positives)
            .then(a.true_positives.cmp(&b.true_positives))
            .then(a.pattern.cmp(&b.pattern))
    });
    let top_false_positives = patterns
        .iter()
        .filter(|p| p.false_positives > 0)
        .take(options.top)
        .cloned()
        .collect();
    Ok(LexiconEvalReport {
        schema: "hegui.lexicon-eval/1".to_string(),
        predictor: predictor.describe(),
        inputs,
        label: format!(
            "`{}` ∈ {{{}}} is positive",
            options.label_field,
            options.positive.join(", ")
        ),
        records,
        overall,
        groups,
        risks,
        top_false_positives,
        patterns,
    })
}

fn count(tally: &mut Tally, labelled: bool, examples: usize, example: impl Fn() -> String) {
    if labelled {
        tally.tp += 1;
    } else {
        tally.fp += 1;
        if tally.examples.len() < examples {
            tally.examples.push(example());
        }
    }
}

fn score_row(name: &str, s: &Scores) -> Vec<String> {
    let show = |p: &Option<Proportion>| p.as_ref().map_or("–".into(), Proportion::display);
    vec![
        name.to_string(),
        show(&s.precision),
        show(&s.recall),
        format!("{:.3}", s.f1),
        show(&s.false_positive_rate),
    ]
}

fn firing_rows(rows: &[Firing], with_examples: bool) -> Vec<Vec<String>> {
    rows.iter()
        .map(|f| {
            let mut row = vec![];
            if let Some(p) = &f.pattern {
                row.push(p.clone());
            }
            let name = taxonomy::risk(&f.risk).map_or("(custom)", |r| r.name_zh);
            row.extend([
                format!("{} {name}", f.risk),
                f.true_positives.to_string(),
                f.false_positives.to_string(),
                f.precision.display(),
            ]);
            if with_examples {
                row.push(f.examples.join("\n"));
            } else {
                row.push(f.share_of_positives.display());
            }
            row
        })
        .collect()
}

impl Report for LexiconEvalReport {
    fn doc(&self) -> Doc {
        let mut doc = Doc::new("特征库质量评估 Lexicon quality against labelled data");
        doc.para(format!(
            "{}; {} records; {}. Intervals: 95 % Wilson.",
            self.predictor, self.records, self.label
        ));
        doc.list(self.inputs.iter().map(InputFile::describe).collect());
        doc.heading(2, "Overall and per group");
        let header = ["", "precision", "recall", "F1", "harmless blocked (FPR)"];
        let mut rows = vec![score_row("all", &self.overall)];
        rows.extend(self.groups.iter().map(|(g, s)| score_row(g, s)));
        doc.table(&header, rows);
        let o = &self.overall;
        doc.para(format!(
            "TP {} · FP {} · FN {} · TN {}",
            o.true_positives, o.false_positives, o.false_negatives, o.true_negatives
        ));
        doc.heading(2, "Per risk code");
        doc.table(
            &["risk", "TP", "FP", "precision", "share of positives"],
            firing_rows(&self.risks, false),
        );
        doc.heading(2, "Patterns with the most false positives");
        if self.top_false_positives.is_empty() {
            doc.para("No false positives.");
        } else {
            doc.table(
                &["pattern", "risk", "TP", "FP", "precision", "examples"],
                firing_rows(&self.top_false_positives, true),
            );
            doc.para(
                "Move these to `review`, combine them with another word (`a&b`), or allow-list \
                 the harmless contexts (`allow.tsv`).",
            );
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hegui_lexicon::Lexicon;

    /// Six records checked by hand against the sample lexicon: `冰毒` (block) fires on 1, 2 and
    /// 5; record 5 is labelled harmless (news about a seizure). `赌博` fires on 3 (positive).
    const DATA: &str = "text,label,topic\n\
        出售冰毒联系我,1,drugs\n\
        哪里买冰毒,1,drugs\n\
        网上赌博稳赚,1,gambling\n\
        今天天气很好,0,weather\n\
        警方缴获冰毒十公斤,0,drugs\n\
        教你造假币,1,other\n";

    #[test]
    fn figures_checked_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.csv");
        std::fs::write(&path, DATA).unwrap();
        let matcher = Matcher::build(&Lexicon::sample()).unwrap();
        let predictor = LexiconPredictor {
            matcher: &matcher,
            level: Level::Block,
        };
        let options = Options {
            text_field: "text".into(),
            label_field: "label".into(),
            positive: vec!["1".into()],
            group_field: Some("topic".into()),
            top: 5,
            examples: 2,
        };
        let report = evaluate(&[path], &predictor, &options).unwrap();
        let o = &report.overall;
        // Predicted: records 1, 2, 3, 5 (and 6 only if the sample has 假币 at block).
        let six = u64::from(
            matcher
                .find_all("教你造假币")
                .iter()
                .any(|h| h.rule.level >= Level::Block),
        );
        assert_eq!(o.true_positives, 3 + six);
        assert_eq!(o.false_positives, 1);
        assert_eq!(o.true_negatives, 1);
        assert_eq!(o.false_negatives, 1 - six);
        let top = &report.top_false_positives[0];
        assert_eq!(top.pattern.as_deref(), Some("冰毒"));
        assert_eq!((top.true_positives, top.false_positives), (2, 1));
        assert!(
            top.examples[0].ends_with(":6: 警方缴获冰毒十公斤"),
            "{top:?}"
        );
        assert_eq!(report.groups["drugs"].false_positives, 1);
        assert_eq!(report.groups["weather"].true_negatives, 1);
    }
}
