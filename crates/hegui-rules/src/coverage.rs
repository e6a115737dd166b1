//! Whether an applicable obligation is met: by evidence the profile names, or by hegui controls in
//! use, and never while a measured figure fails its threshold.
//!
//! The rules, so that "met" means met:
//!
//! - a measured figure that misses a `shall` (应/不应) threshold is always a gap, with the figure
//!   and the threshold, whatever evidence or controls there are; a miss of a `should` (宜/不宜)
//!   threshold is a warning only;
//! - otherwise evidence named in `[evidence]` meets it;
//! - otherwise hegui meets it when **every** listed control (or, where the pack says
//!   `controls_require = "any"`, at least one) is in use **and implemented** in this version: a
//!   control marked `status = "planned"` in `controls.toml` never counts;
//! - an obligation of kind `scope` states which instrument applies: it is never met or a gap.

use serde::Serialize;

use crate::assess::{ControlResult, Status};
use crate::model::{ControlsRequire, Force, ObligationDef, ObligationKind, PassWhen};
use crate::pack::Pack;
use crate::profile::Profile;
use crate::value::Value;

/// Whether an obligation with evidence tracking is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The profile's `[evidence]` names evidence for it.
    Evidence,
    /// The hegui controls it needs are in use and implemented.
    Hegui,
    /// Neither, or a measured figure fails: a gap.
    Gap,
}

/// The outcome of one measured figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureOutcome {
    /// The figure meets the threshold.
    Pass,
    /// A `shall` threshold is missed: a gap.
    Fail,
    /// A `should` threshold is missed: a warning.
    Warn,
    /// The profile does not give the figure.
    Unknown,
}

/// One measured figure against its threshold.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureResult {
    /// The fact holding the figure.
    pub fact: String,
    /// Its value in the profile.
    pub value: Option<f64>,
    /// The param holding the threshold.
    pub param: String,
    /// The threshold.
    pub threshold: Option<f64>,
    /// How the figure passes (`<=`: value at most the threshold).
    pub pass: PassWhen,
    /// `shall` or `should`.
    pub force: Force,
    /// The outcome.
    pub outcome: MeasureOutcome,
}

impl MeasureResult {
    /// `measured.x = 6.8 > 5 (param sbr_y)` for a miss, `measured.x = 4.2 <= 5` for a pass.
    pub fn describe(&self) -> String {
        let value = self.value.map_or_else(|| "?".to_string(), number);
        let threshold = self.threshold.map_or_else(|| "?".to_string(), number);
        let op = match self.outcome {
            MeasureOutcome::Fail | MeasureOutcome::Warn => self.pass.negated_symbol(),
            _ => self.pass.symbol(),
        };
        format!(
            "`{}` = {value} {op} {threshold} (`{}`)",
            self.fact, self.param
        )
    }
}

/// Why an obligation is a gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum GapReason {
    /// A measured figure misses a `shall` threshold.
    FailingMeasure {
        /// The fact.
        fact: String,
        /// Its value.
        value: f64,
        /// The operator of the miss (`>` for a `<=` rule).
        op: String,
        /// The threshold.
        threshold: f64,
        /// The param.
        param: String,
    },
    /// Controls it needs that this version of hegui implements but the profile does not use.
    ControlsNotInUse {
        /// Their ids.
        controls: Vec<String>,
    },
    /// Controls it needs that hegui has not implemented yet: they cannot meet it.
    ControlsPlanned {
        /// Their ids.
        controls: Vec<String>,
    },
    /// No evidence, and no hegui control exists for it.
    NoEvidence,
}

impl GapReason {
    /// One line, English.
    pub fn describe(&self) -> String {
        match self {
            GapReason::FailingMeasure {
                fact,
                value,
                op,
                threshold,
                param,
            } => format!(
                "`{fact}` = {} {op} {} (`{param}`)",
                number(*value),
                number(*threshold)
            ),
            GapReason::ControlsNotInUse { controls } => {
                format!("controls not in use: {}", controls.join(", "))
            }
            GapReason::ControlsPlanned { controls } => {
                format!(
                    "controls planned, not in this hegui: {}",
                    controls.join(", ")
                )
            }
            GapReason::NoEvidence => "no evidence given".to_string(),
        }
    }

    /// One line, Chinese.
    pub fn describe_zh(&self) -> String {
        match self {
            GapReason::FailingMeasure {
                fact,
                value,
                op,
                threshold,
                ..
            } => format!(
                "实测 `{fact}` = {} {op} {}，未达标",
                number(*value),
                number(*threshold)
            ),
            GapReason::ControlsNotInUse { controls } => {
                format!("未启用的控制：{}", controls.join("、"))
            }
            GapReason::ControlsPlanned { controls } => {
                format!("hegui 尚未实现的控制：{}", controls.join("、"))
            }
            GapReason::NoEvidence => "未提供证据".to_string(),
        }
    }
}

/// A figure without a needless `.0`.
pub(crate) fn number(value: f64) -> String {
    let text = format!("{value}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}

fn numeric(value: Option<&Value>) -> Option<f64> {
    match value? {
        #[expect(
            clippy::cast_precision_loss,
            reason = "measured counts are far below 2^52"
        )]
        Value::Int(n) => Some(*n as f64),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Evaluates an obligation's measured figures against the profile.
pub(crate) fn measures(pack: &Pack, def: &ObligationDef, profile: &Profile) -> Vec<MeasureResult> {
    def.measure
        .iter()
        .map(|m| {
            let value = numeric(profile.facts.get(m.fact.get_ref()));
            let threshold = numeric(pack.params.get(m.param.get_ref()).map(|p| &p.value));
            let outcome = match (value, threshold) {
                (Some(v), Some(t)) if m.pass.passes(v, t) => MeasureOutcome::Pass,
                (Some(_), Some(_)) if m.force == Force::Should => MeasureOutcome::Warn,
                (Some(_), Some(_)) => MeasureOutcome::Fail,
                _ => MeasureOutcome::Unknown,
            };
            MeasureResult {
                fact: m.fact.get_ref().clone(),
                value,
                param: m.param.get_ref().clone(),
                threshold,
                pass: m.pass,
                force: m.force,
                outcome,
            }
        })
        .collect()
}

/// Evidence, hegui or gap (with the reasons of a gap), for a tracked applicable obligation.
pub(crate) fn coverage(
    def: &ObligationDef,
    status: Status,
    tracks_gaps: bool,
    evidence_given: &[String],
    controls: &[ControlResult],
    measured: &[MeasureResult],
) -> (Option<Coverage>, Vec<GapReason>) {
    if !tracks_gaps || status != Status::Applicable || def.kind == ObligationKind::Scope {
        return (None, Vec::new());
    }
    let failing: Vec<GapReason> = measured
        .iter()
        .filter(|m| m.outcome == MeasureOutcome::Fail)
        .filter_map(|m| {
            Some(GapReason::FailingMeasure {
                fact: m.fact.clone(),
                value: m.value?,
                op: m.pass.negated_symbol().to_string(),
                threshold: m.threshold?,
                param: m.param.clone(),
            })
        })
        .collect();
    if !failing.is_empty() {
        return (Some(Coverage::Gap), failing);
    }
    if !evidence_given.is_empty() {
        return (Some(Coverage::Evidence), Vec::new());
    }
    if controls.is_empty() {
        return (Some(Coverage::Gap), vec![GapReason::NoEvidence]);
    }
    let usable = |c: &&ControlResult| c.in_use && !c.planned;
    let met = match def.controls_require {
        ControlsRequire::All => controls.iter().all(|c| usable(&c)),
        ControlsRequire::Any => controls.iter().any(|c| usable(&c)),
    };
    if met {
        return (Some(Coverage::Hegui), Vec::new());
    }
    let ids = |keep: &dyn Fn(&ControlResult) -> bool| -> Vec<String> {
        controls
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.id.clone())
            .collect()
    };
    let mut reasons = Vec::new();
    let not_in_use = ids(&|c| !c.planned && !c.in_use);
    if !not_in_use.is_empty() {
        reasons.push(GapReason::ControlsNotInUse {
            controls: not_in_use,
        });
    }
    let planned = ids(&|c| c.planned);
    if !planned.is_empty() {
        reasons.push(GapReason::ControlsPlanned { controls: planned });
    }
    (Some(Coverage::Gap), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObligationsFile;

    fn def(require: &str) -> ObligationDef {
        let text = format!(
            "[[obligation]]\nid = \"x\"\nkind = \"duty\"\nsummary_zh = \"x\"\nsummary_en = \"x\"\ncontrols_require = \"{require}\"\n"
        );
        let file: ObligationsFile = toml::from_str(&text).unwrap();
        file.obligation.into_iter().next().unwrap()
    }

    fn control(id: &str, in_use: bool, planned: bool) -> ControlResult {
        ControlResult {
            id: id.into(),
            summary_en: String::new(),
            summary_zh: String::new(),
            in_use,
            planned,
        }
    }

    fn measure(outcome: MeasureOutcome) -> MeasureResult {
        MeasureResult {
            fact: "measured.non_refusal_refusal_percent".into(),
            value: Some(6.8),
            param: "sbr_non_refusal_rate_max_percent".into(),
            threshold: Some(5.0),
            pass: PassWhen::Le,
            force: Force::Shall,
            outcome,
        }
    }

    /// (case, require, controls (in use, planned), evidence, measure outcome, expected).
    #[expect(clippy::type_complexity, reason = "a test table")]
    const CASES: &[(
        &str,
        &str,
        &[(bool, bool)],
        bool,
        Option<MeasureOutcome>,
        Coverage,
    )] = &[
        (
            "every control in use",
            "all",
            &[(true, false), (true, false)],
            false,
            None,
            Coverage::Hegui,
        ),
        (
            "one of two in use is not met",
            "all",
            &[(true, false), (false, false)],
            false,
            None,
            Coverage::Gap,
        ),
        (
            "any: one of two in use",
            "any",
            &[(true, false), (false, false)],
            false,
            None,
            Coverage::Hegui,
        ),
        (
            "a planned control in use never counts",
            "all",
            &[(true, false), (true, true)],
            false,
            None,
            Coverage::Gap,
        ),
        (
            "any: only a planned control in use",
            "any",
            &[(false, false), (true, true)],
            false,
            None,
            Coverage::Gap,
        ),
        (
            "evidence meets it",
            "all",
            &[(false, false)],
            true,
            None,
            Coverage::Evidence,
        ),
        (
            "a failing figure beats controls",
            "all",
            &[(true, false)],
            false,
            Some(MeasureOutcome::Fail),
            Coverage::Gap,
        ),
        (
            "a failing figure beats evidence",
            "all",
            &[],
            true,
            Some(MeasureOutcome::Fail),
            Coverage::Gap,
        ),
        (
            "a should-warning does not",
            "all",
            &[(true, false)],
            false,
            Some(MeasureOutcome::Warn),
            Coverage::Hegui,
        ),
        (
            "no controls, no evidence",
            "all",
            &[],
            false,
            None,
            Coverage::Gap,
        ),
    ];

    #[test]
    fn met_means_met() {
        for (case, require, controls, evidence, outcome, want) in CASES {
            let controls: Vec<ControlResult> = controls
                .iter()
                .enumerate()
                .map(|(i, (in_use, planned))| control(&format!("c{i}"), *in_use, *planned))
                .collect();
            let evidence: Vec<String> = if *evidence {
                vec!["doc.pdf".into()]
            } else {
                Vec::new()
            };
            let measured: Vec<MeasureResult> = outcome.iter().map(|o| measure(*o)).collect();
            let (got, reasons) = coverage(
                &def(require),
                Status::Applicable,
                true,
                &evidence,
                &controls,
                &measured,
            );
            assert_eq!(got, Some(*want), "{case}");
            assert_eq!(
                reasons.is_empty(),
                *want != Coverage::Gap,
                "{case}: {reasons:?}"
            );
        }
    }

    #[test]
    fn a_failing_figure_names_the_figure_and_the_threshold() {
        let (_, reasons) = coverage(
            &def("all"),
            Status::Applicable,
            true,
            &[],
            &[control("c", true, false)],
            &[measure(MeasureOutcome::Fail)],
        );
        let text: Vec<String> = reasons.iter().map(GapReason::describe).collect();
        assert_eq!(
            text,
            [
                "`measured.non_refusal_refusal_percent` = 6.8 > 5 (`sbr_non_refusal_rate_max_percent`)"
            ]
        );
    }

    #[test]
    fn a_scope_statement_is_never_a_gap() {
        let mut scope = def("all");
        scope.kind = ObligationKind::Scope;
        assert_eq!(
            coverage(&scope, Status::Applicable, true, &[], &[], &[]),
            (None, Vec::new())
        );
    }
}
