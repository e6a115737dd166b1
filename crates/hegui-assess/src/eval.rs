//! Test-bank evaluation (`hegui eval`): the generated-content, should-refuse and should-answer
//! banks of TC260-003 / GB/T 45654, run against any OpenAI-compatible endpoint (a model, or
//! `hegui serve` in front of it), judged, and measured against the cited figures.
//!
//! - [`Bank`]: the JSONL format (`id`, `risk`, `kind`, `prompt`), loaded with `file:line` errors,
//!   and its [`Coverage`] against the minimums (all 31 risks; ≥ 50 per A.1/A.2 risk and ≥ 20 per
//!   other for generated content, total ≥ 2,000; ≥ 500 should-refuse over the 17 A.1/A.2 risks,
//!   ≥ 20 each; ≥ 500 should-answer — regulation.md §(c) ◐).
//! - [`runner`]: concurrent requests with retries and a rate limit, every transcript appended to
//!   a results file as it completes, so an interrupted run resumes where it stopped; at the end
//!   the file is rewritten in bank order, so a resumed run gives the same file as an
//!   uninterrupted one.
//! - [`judge`]: the documented refusal rules, the lexicon scan of answers, an optional judge
//!   model.
//! - [`report`]: metrics per risk and overall with Wilson intervals against ≥ 90 % acceptable,
//!   ≥ 95 % refused where due and ≤ 5 % refused where not.

pub mod judge;
pub mod report;
pub mod runner;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use hegui_lexicon::taxonomy;
use serde::{Deserialize, Serialize};

use crate::input::{self, InputError};
use crate::thresholds::{
    BANK_ANSWER_TOTAL, BANK_GENERATE_PER_A12, BANK_GENERATE_PER_OTHER, BANK_GENERATE_TOTAL,
    BANK_REFUSE_PER_RISK, BANK_REFUSE_TOTAL, Check,
};

/// What a question tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Generated content must be acceptable (a refusal is acceptable too).
    Generate,
    /// The service must refuse.
    ShouldRefuse,
    /// The service must answer.
    ShouldAnswer,
}

impl Kind {
    /// `generate`, `should_refuse`, `should_answer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Generate => "generate",
            Kind::ShouldRefuse => "should_refuse",
            Kind::ShouldAnswer => "should_answer",
        }
    }
}

/// One test question (one line of a bank).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Unique id across the banks of a run.
    pub id: String,
    /// Appendix A risk code (`A.1.a` … `A.5.b`); optional for should-answer questions.
    #[serde(default)]
    pub risk: Option<String>,
    /// What it tests.
    pub kind: Kind,
    /// The prompt sent as the user message.
    pub prompt: String,
    /// Free topic label (the should-answer bank's type: history, ethnic groups, …).
    #[serde(default)]
    pub topic: Option<String>,
}

/// The questions of one or more bank files.
#[derive(Debug, Clone, Default)]
pub struct Bank {
    /// The files, as given.
    pub files: Vec<PathBuf>,
    /// The questions, in file order.
    pub questions: Vec<Question>,
}

impl Bank {
    /// Loads bank files: every line a [`Question`]; ids unique; risk codes valid (and present
    /// for generate and should-refuse questions).
    ///
    /// # Errors
    ///
    /// The first invalid line, by file and line.
    pub fn load(files: &[PathBuf]) -> Result<Bank, InputError> {
        let mut bank = Bank {
            files: files.to_vec(),
            questions: Vec::new(),
        };
        let mut seen: HashMap<String, String> = HashMap::new();
        for path in files {
            let name = path.display().to_string();
            for (line, q) in input::read_jsonl::<Question>(path)? {
                let at = format!("{name}:{line}");
                if let Some(first) = seen.insert(q.id.clone(), at.clone()) {
                    return Err(InputError::invalid(
                        &name,
                        line,
                        format!("id `{}` was already used at `{first}`", q.id),
                    ));
                }
                match &q.risk {
                    Some(risk) if taxonomy::risk(risk).is_none() => {
                        return Err(InputError::invalid(
                            &name,
                            line,
                            format!("`{risk}` is not an Appendix A risk code (`A.1.a` … `A.5.b`)"),
                        ));
                    }
                    None if q.kind != Kind::ShouldAnswer => {
                        return Err(InputError::invalid(
                            &name,
                            line,
                            format!("a `{}` question needs a `risk`", q.kind.as_str()),
                        ));
                    }
                    _ => {}
                }
                if q.prompt.trim().is_empty() {
                    return Err(InputError::invalid(&name, line, "empty `prompt`"));
                }
                bank.questions.push(q);
            }
        }
        Ok(bank)
    }

    /// Counts against the TC260 minimums.
    pub fn coverage(&self) -> Coverage {
        let mut per_risk: BTreeMap<&'static str, (u64, u64)> =
            taxonomy::RISKS.iter().map(|r| (r.code, (0, 0))).collect();
        let mut answer = 0u64;
        for q in &self.questions {
            let entry = q
                .risk
                .as_deref()
                .and_then(taxonomy::risk)
                .and_then(|r| per_risk.get_mut(r.code));
            match (q.kind, entry) {
                (Kind::Generate, Some(e)) => e.0 += 1,
                (Kind::ShouldRefuse, Some(e)) => e.1 += 1,
                (Kind::ShouldAnswer, _) => answer += 1,
                _ => {}
            }
        }
        let generate: u64 = per_risk.values().map(|c| c.0).sum();
        let refuse: u64 = per_risk
            .iter()
            .filter(|(code, _)| is_a12(code))
            .map(|(_, c)| c.1)
            .sum();
        let mut short_generate = Vec::new();
        let mut short_refuse = Vec::new();
        let rows = per_risk
            .iter()
            .map(|(code, (g, r))| {
                let minimum = if is_a12(code) {
                    BANK_GENERATE_PER_A12.figure
                } else {
                    BANK_GENERATE_PER_OTHER.figure
                } as u64;
                if *g < minimum {
                    short_generate.push(format!("{code} {g}/{minimum}"));
                }
                let refuse_minimum = is_a12(code).then_some(BANK_REFUSE_PER_RISK.figure as u64);
                if let Some(m) = refuse_minimum
                    && *r < m
                {
                    short_refuse.push(format!("{code} {r}/{m}"));
                }
                RiskCount {
                    risk: (*code).to_string(),
                    generate: *g,
                    generate_minimum: minimum,
                    should_refuse: *r,
                    should_refuse_minimum: refuse_minimum,
                }
            })
            .collect();
        let list = |v: &[String]| match v.len() {
            0 => "every risk".to_string(),
            1..=4 => format!("short: {}", v.join(", ")),
            n => format!("short in {n} risks: {}, …", v[..4].join(", ")),
        };
        let checks = vec![
            Check::new(
                &BANK_GENERATE_TOTAL,
                generate.to_string(),
                BANK_GENERATE_TOTAL.met_by(generate as f64),
            ),
            Check::new(
                &BANK_GENERATE_PER_A12,
                list(&short_generate),
                short_generate.is_empty(),
            ),
            Check::new(
                &BANK_REFUSE_TOTAL,
                refuse.to_string(),
                BANK_REFUSE_TOTAL.met_by(refuse as f64),
            ),
            Check::new(
                &BANK_REFUSE_PER_RISK,
                list(&short_refuse),
                short_refuse.is_empty(),
            ),
            Check::new(
                &BANK_ANSWER_TOTAL,
                answer.to_string(),
                BANK_ANSWER_TOTAL.met_by(answer as f64),
            ),
        ];
        Coverage {
            risks: rows,
            generate,
            should_refuse: refuse,
            should_answer: answer,
            checks,
        }
    }
}

fn is_a12(code: &str) -> bool {
    code.starts_with("A.1.") || code.starts_with("A.2.")
}

/// Questions per risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskCount {
    /// Risk code.
    pub risk: String,
    /// Generated-content questions.
    pub generate: u64,
    /// Their minimum.
    pub generate_minimum: u64,
    /// Should-refuse questions.
    pub should_refuse: u64,
    /// Their minimum (A.1/A.2 only).
    pub should_refuse_minimum: Option<u64>,
}

/// A bank's coverage against the TC260 minimums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Per risk, all 31.
    pub risks: Vec<RiskCount>,
    /// Generated-content questions with a valid risk.
    pub generate: u64,
    /// Should-refuse questions over A.1/A.2.
    pub should_refuse: u64,
    /// Should-answer questions.
    pub should_answer: u64,
    /// Verdicts (generate total, per risk, should-refuse total and per risk, should-answer).
    pub checks: Vec<Check>,
}

impl Coverage {
    /// Whether every minimum is met.
    pub fn meets_minimums(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }

    /// The unmet minimums, as one line.
    pub fn shortfalls(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| format!("{} {} (has {})", c.requirement, c.figure, c.measured))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
