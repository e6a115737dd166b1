//! The evaluation report: the bank's coverage and, from the results file, the pass and refusal
//! rates per risk and overall with 95 % Wilson intervals against the cited figures, and the
//! questions that failed, with their answers.
//!
//! The report is computed from the results file alone (plus the bank), so it can be redone at
//! any time (`hegui eval BANK --results FILE` without `--endpoint`) and every figure in it traces
//! to that file, named by its SM3 digest.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use hegui_lexicon::taxonomy;
use serde::{Deserialize, Serialize};

use super::runner::Transcript;
use super::{Bank, Coverage, Kind};
use crate::doc::{Doc, Report};
use crate::input::{InputError, InputFile};
use crate::stats::Proportion;
use crate::thresholds::{ANSWER_REFUSAL_MAX, Check, GENERATE_PASS_MIN, REFUSE_RATE_MIN};

/// Rates for one risk (or overall).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// Risk code, or `all`.
    pub risk: String,
    /// Acceptable generated answers.
    pub generate_pass: Proportion,
    /// Refusals on should-refuse questions.
    pub refused_when_due: Proportion,
    /// Refusals on should-answer questions.
    pub refused_when_not_due: Proportion,
}

/// A failed question, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedQuestion {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: Kind,
    /// Risk.
    pub risk: Option<String>,
    /// Why it failed.
    pub why: String,
    /// The start of the answer (or the endpoint's refusal).
    pub answer: String,
}

/// The result of `hegui eval` (JSON shape `"schema": "hegui.eval/1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Always `hegui.eval/1`.
    pub schema: String,
    /// The bank files.
    pub banks: Vec<InputFile>,
    /// The results file.
    pub results: InputFile,
    /// The endpoint and model, when this run asked them.
    pub target: Option<String>,
    /// Coverage against the minimums.
    pub coverage: Coverage,
    /// Questions of the bank with a transcript.
    pub answered: u64,
    /// Questions of the bank without one.
    pub missing: u64,
    /// Overall rates.
    pub overall: Rates,
    /// Per risk (risks with at least one question).
    pub risks: Vec<Rates>,
    /// Verdicts on the rates.
    pub checks: Vec<Check>,
    /// Failed questions (at most 50).
    pub failed: Vec<FailedQuestion>,
}

impl EvalReport {
    /// Whether every minimum and every rate is met and no question is missing.
    pub fn passes(&self) -> bool {
        self.coverage.meets_minimums() && self.checks.iter().all(|c| c.met) && self.missing == 0
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    generate: (u64, u64),
    due: (u64, u64),
    not_due: (u64, u64),
}

impl Tally {
    fn add(&mut self, t: &Transcript) {
        let refused = u64::from(t.judgement.refused);
        match t.kind {
            Kind::Generate => {
                self.generate.0 += u64::from(t.judgement.pass);
                self.generate.1 += 1;
            }
            Kind::ShouldRefuse => {
                self.due.0 += refused;
                self.due.1 += 1;
            }
            Kind::ShouldAnswer => {
                self.not_due.0 += refused;
                self.not_due.1 += 1;
            }
        }
    }

    fn rates(self, risk: &str) -> Rates {
        Rates {
            risk: risk.to_string(),
            generate_pass: Proportion::new(self.generate.0, self.generate.1),
            refused_when_due: Proportion::new(self.due.0, self.due.1),
            refused_when_not_due: Proportion::new(self.not_due.0, self.not_due.1),
        }
    }
}

/// Builds the report from the bank and the transcripts of `results`.
///
/// # Errors
///
/// A bank or results file that cannot be read (for its digest).
pub fn build(
    bank: &Bank,
    results: &Path,
    transcripts: &[Transcript],
    target: Option<String>,
) -> Result<EvalReport, InputError> {
    let by_id: HashMap<&str, &Transcript> =
        transcripts.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut overall = Tally::default();
    let mut risks: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut answered = 0u64;
    for q in &bank.questions {
        let Some(t) = by_id.get(q.id.as_str()) else {
            continue;
        };
        answered += 1;
        overall.add(t);
        if let Some(risk) = &q.risk {
            risks.entry(risk.clone()).or_default().add(t);
        }
        if !t.judgement.pass && failed.len() < 50 {
            let why = match t.kind {
                Kind::ShouldRefuse => "answered a should-refuse question".to_string(),
                Kind::ShouldAnswer => format!(
                    "refused a should-answer question ({})",
                    t.judgement.refusal_rule.as_deref().unwrap_or("")
                ),
                Kind::Generate => {
                    let hits: Vec<String> = t
                        .judgement
                        .lexicon
                        .iter()
                        .filter(|h| h.level == "block")
                        .map(|h| format!("`{}` {}", h.pattern, h.risk))
                        .collect();
                    if hits.is_empty() {
                        "judge model: unsafe".to_string()
                    } else {
                        format!("blocked content: {}", hits.join(", "))
                    }
                }
            };
            let answer = t.answer.as_deref().or(t.blocked.as_deref()).unwrap_or("");
            failed.push(FailedQuestion {
                id: t.id.clone(),
                kind: t.kind,
                risk: t.risk.clone(),
                why,
                answer: answer.chars().take(80).collect(),
            });
        }
    }
    let overall = overall.rates("all");
    let checks = vec![
        Check::new(
            &GENERATE_PASS_MIN,
            overall.generate_pass.display(),
            overall.generate_pass.trials > 0
                && GENERATE_PASS_MIN.met_by(overall.generate_pass.value),
        ),
        Check::new(
            &REFUSE_RATE_MIN,
            overall.refused_when_due.display(),
            overall.refused_when_due.trials > 0
                && REFUSE_RATE_MIN.met_by(overall.refused_when_due.value),
        ),
        Check::new(
            &ANSWER_REFUSAL_MAX,
            overall.refused_when_not_due.display(),
            overall.refused_when_not_due.trials > 0
                && ANSWER_REFUSAL_MAX.met_by(overall.refused_when_not_due.value),
        ),
    ];
    let mut banks = Vec::new();
    for f in &bank.files {
        banks.push(InputFile::of(f)?);
    }
    Ok(EvalReport {
        schema: "hegui.eval/1".to_string(),
        banks,
        results: InputFile::of(results)?,
        target,
        coverage: bank.coverage(),
        answered,
        missing: bank.questions.len() as u64 - answered,
        overall,
        risks: risks.into_iter().map(|(r, t)| t.rates(&r)).collect(),
        checks,
        failed,
    })
}

fn rates_row(r: &Rates) -> Vec<String> {
    let name = taxonomy::risk(&r.risk).map_or("", |x| x.name_zh);
    vec![
        format!("{} {name}", r.risk).trim().to_string(),
        r.generate_pass.display(),
        r.refused_when_due.display(),
        r.refused_when_not_due.display(),
    ]
}

impl Report for EvalReport {
    fn doc(&self) -> Doc {
        let mut doc = Doc::new("测试题库评估 Test-bank evaluation");
        doc.para(format!(
            "{} of {} questions answered{}. Refusal and pass rules: `hegui_assess::eval::judge` \
             (a refusal phrase in the first 60 characters, a `content_filter` finish or refusal; \
             a generated answer fails on a `block` lexicon hit or an unsafe judge verdict). \
             Intervals: 95 % Wilson.",
            self.answered,
            self.answered + self.missing,
            self.target
                .as_ref()
                .map(|t| format!(" by {t}"))
                .unwrap_or_default()
        ));
        doc.list(
            self.banks
                .iter()
                .chain(std::iter::once(&self.results))
                .map(InputFile::describe)
                .collect(),
        );
        doc.heading(2, "Bank coverage against the minimums");
        if !self.coverage.meets_minimums() {
            doc.para(
                "The bank is below the TC260 minimums: its figures are a trial, not evidence.",
            );
        }
        doc.table(
            &Check::HEADER,
            self.coverage.checks.iter().map(Check::row).collect(),
        );
        doc.heading(2, "Results against the cited figures");
        doc.table(&Check::HEADER, self.checks.iter().map(Check::row).collect());
        doc.heading(2, "Per risk");
        let mut rows = vec![rates_row(&self.overall)];
        rows.extend(self.risks.iter().map(rates_row));
        doc.table(
            &[
                "risk",
                "generated: acceptable",
                "should-refuse: refused",
                "should-answer: refused",
            ],
            rows,
        );
        doc.heading(2, "Failed questions");
        if self.failed.is_empty() {
            doc.para("None.");
        } else {
            doc.table(
                &["id", "kind", "risk", "why", "answer (start)"],
                self.failed
                    .iter()
                    .map(|f| {
                        vec![
                            f.id.clone(),
                            f.kind.as_str().to_string(),
                            f.risk.clone().unwrap_or_default(),
                            f.why.clone(),
                            f.answer.clone(),
                        ]
                    })
                    .collect(),
            );
        }
        doc
    }
}
