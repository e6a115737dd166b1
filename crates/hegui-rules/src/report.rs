//! Rendering an assessment [`Report`]: Markdown, JSON and one self-contained, printable HTML page
//! (inline CSS, no scripts, Chinese and English; [`html()`]). The terminal table lives in the CLI,
//! which owns the terminal; it uses the one-line helpers here.
//!
//! Every human format puts the same things first: what is **overdue**, then the timeline of
//! deadlines (by due date), then the gaps, then the warnings (missed 宜/不宜 figures). Not-applicable obligations are collapsed into a count
//! with their ids unless [`Options::show_not_applicable`] asks for them in full (HTML: a
//! `<details>` element, open when asked).
//!
//! # JSON shape (`"schema": "hegui.assessment/1"`)
//!
//! The JSON is the serde form of [`Report`]; fields are only added within a schema version.
//!
//! ```text
//! { schema, pack: {id, version, name_zh, name_en}, profile: {name, description}, as_of,
//!   summary: {applicable, not_applicable, unknown, not_in_force, gaps|null, overdue},
//!   tracks_gaps, hegui_config|null,
//!   obligations: [ { id, kind, summary_zh, summary_en,
//!     status: "applicable"|"not_applicable"|"unknown"|"not_in_force",
//!     condition, condition_value: "true"|"false"|"unknown",
//!     atoms: [{text, value}], needs: [fact path],
//!     force: null | {instrument, state: "not_yet"|"no_longer", date},
//!     citations: [{instrument, title_zh, title_en, version, article, item, confidence, reference}],
//!     authority: null | {id, name_zh, name_en, role},
//!     deadline: null | {amount, unit, before, param, anchor, anchor_date, calendar, due,
//!                       state: null|"upcoming"|"overdue"|"done", problem, caveat,
//!                       provisional: null|date, rule_en, rule_zh},
//!     controls: [{id, summary_en, summary_zh, in_use, planned}],
//!     evidence_expected, evidence_given,
//!     measures: [{fact, value, param, threshold, pass: "<"|"<="|">"|">=", force: "shall"|"should",
//!                 outcome: "pass"|"fail"|"warn"|"unknown"}],
//!     coverage: null|"evidence"|"hegui"|"gap",
//!     gap_reasons: [{reason: "failing_measure", fact, value, op, threshold, param}
//!                   | {reason: "controls_not_in_use"|"controls_planned", controls}
//!                   | {reason: "no_evidence"}],
//!     control_points, note_en, note_zh } ] }
//! ```

mod html;
mod zh;

use std::fmt::Write as _;

pub use html::html;
pub use zh::{controls_zh, deadline_zh, measures_zh, why_zh};

use crate::assess::{Coverage, MeasureOutcome, ObligationResult, Report, Status};

/// What the human formats show beyond the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Not-applicable obligations in full rather than as a count with their ids.
    pub show_not_applicable: bool,
}

/// The report as pretty-printed JSON (with a final newline).
pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}"));
    text.push('\n');
    text
}

/// One line saying why an obligation has its status.
pub fn why(result: &ObligationResult) -> String {
    if let Some(force) = &result.force {
        let date = force.date.map(|d| d.to_string()).unwrap_or_default();
        return if force.state == "not_yet" {
            format!("`{}` not yet in force (from {date})", force.instrument)
        } else {
            format!("`{}` no longer in force (until {date})", force.instrument)
        };
    }
    if result.status == Status::Unknown {
        let needs: Vec<String> = result.needs.iter().map(|n| format!("`{n}`")).collect();
        return format!("needs {}", needs.join(", "));
    }
    if result.atoms.is_empty() {
        return "always".to_string();
    }
    let decided = match result.status {
        Status::Applicable => "because",
        _ => "since",
    };
    let atoms: Vec<String> = result
        .atoms
        .iter()
        .map(|atom| format!("`{}` = {}", atom.text, atom.value))
        .collect();
    format!("{decided} {}", atoms.join("; "))
}

/// Citations as `IM art. 17 (verified)`, joined by `; `.
pub fn citations(result: &ObligationResult) -> String {
    result
        .citations
        .iter()
        .map(|c| {
            format!(
                "{} art. {}{} ({})",
                c.instrument,
                c.article,
                c.item
                    .as_deref()
                    .map(|i| format!(" {i}"))
                    .unwrap_or_default(),
                c.confidence
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The deadline as `2026-03-05 (10 working_days after service.launch_date)` or its problem.
pub fn deadline(result: &ObligationResult) -> String {
    let Some(deadline) = &result.deadline else {
        return String::new();
    };
    let rule = match (deadline.amount, deadline.unit) {
        (Some(amount), Some(unit)) => format!("{amount} {unit} after `{}`", deadline.anchor),
        _ => format!("after `{}`", deadline.anchor),
    };
    let rule = if deadline.before {
        match deadline.amount {
            Some(1) => format!("the day before `{}`", deadline.anchor),
            Some(n) => format!("{n} days before `{}`", deadline.anchor),
            None => format!("before `{}`", deadline.anchor),
        }
    } else {
        rule
    };
    let state = deadline
        .state
        .map(|s| format!(" {}", s.label_en()))
        .unwrap_or_default();
    match (deadline.due, &deadline.problem) {
        (Some(due), _) => match &deadline.caveat {
            Some(caveat) => format!("{due}{state} ({rule}; {caveat})"),
            None => format!("{due}{state} ({rule})"),
        },
        (None, Some(problem)) => match deadline.provisional {
            Some(provisional) => format!(
                "unknown: {problem}; provisional {provisional} (weekends only, holidays not announced) ({rule})"
            ),
            None => format!("unknown: {problem} ({rule})"),
        },
        (None, None) => rule,
    }
}

/// The authority as `CAC 国家互联网信息办公室` (with the role it resolves, if any).
pub fn authority(result: &ObligationResult) -> String {
    result.authority.as_ref().map_or_else(String::new, |a| {
        let role = a
            .role
            .as_deref()
            .map(|r| format!(" (role `{r}`)"))
            .unwrap_or_default();
        format!("{} {}{role}", a.id, a.name_zh).trim().to_string()
    })
}

/// The controls as `gateway.output_guard ✓` (✓ when in use; `(planned)` when this version of
/// hegui does not implement it, which never counts).
pub fn controls(result: &ObligationResult) -> String {
    result
        .controls
        .iter()
        .map(|c| match (c.planned, c.in_use) {
            (true, _) => format!("{} (planned)", c.id),
            (false, true) => format!("{} ✓", c.id),
            (false, false) => c.id.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The measured figures as `` `measured.x` = 6.8 > 5 (`param`) FAIL``, joined by `; `.
pub fn measures(result: &ObligationResult) -> String {
    result
        .measures
        .iter()
        .filter(|m| m.outcome != MeasureOutcome::Unknown)
        .map(|m| {
            let outcome = match m.outcome {
                MeasureOutcome::Pass => "pass",
                MeasureOutcome::Fail => "FAIL",
                MeasureOutcome::Warn => "warning (宜/不宜)",
                MeasureOutcome::Unknown => "unknown",
            };
            format!("{} {outcome}", m.describe())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Met (by evidence or hegui) or gap with its reasons, when tracked.
pub fn coverage(result: &ObligationResult) -> String {
    match result.coverage {
        Some(Coverage::Evidence) => format!("met: evidence {}", result.evidence_given.join(", ")),
        Some(Coverage::Hegui) => "met by hegui controls in use".to_string(),
        Some(Coverage::Gap) => {
            let reasons: Vec<String> = result.gap_reasons.iter().map(|r| r.describe()).collect();
            if reasons.is_empty() {
                "GAP".to_string()
            } else {
                format!("GAP: {}", reasons.join("; "))
            }
        }
        None => String::new(),
    }
}

/// The same in Chinese.
pub fn coverage_zh(result: &ObligationResult) -> String {
    match result.coverage {
        Some(Coverage::Evidence) => format!("已满足（证据）：{}", result.evidence_given.join("，")),
        Some(Coverage::Hegui) => "已满足（hegui 控制）".to_string(),
        Some(Coverage::Gap) => {
            let reasons: Vec<String> = result.gap_reasons.iter().map(|r| r.describe_zh()).collect();
            format!("差距：{}", reasons.join("；"))
        }
        None => String::new(),
    }
}

/// Applicable obligations whose deadline is overdue, earliest first.
pub fn overdue(report: &Report) -> Vec<&ObligationResult> {
    let mut list: Vec<&ObligationResult> = report
        .obligations
        .iter()
        .filter(|o| o.deadline.as_ref().is_some_and(|d| d.is_overdue()))
        .collect();
    list.sort_by_key(|o| o.deadline.as_ref().and_then(|d| d.due));
    list
}

/// The timeline: applicable obligations with a deadline, by due date (dates unknown last).
pub fn timeline(report: &Report) -> Vec<&ObligationResult> {
    let mut list: Vec<&ObligationResult> = report
        .obligations
        .iter()
        .filter(|o| o.status == Status::Applicable && o.deadline.is_some())
        .collect();
    // A provisional date sorts like a due date: it is the best estimate there is.
    list.sort_by_key(|o| {
        let due = o.deadline.as_ref().and_then(|d| d.due.or(d.provisional));
        (due.is_none(), due)
    });
    list
}

/// Applicable obligations that are gaps.
pub fn gaps(report: &Report) -> Vec<&ObligationResult> {
    report
        .obligations
        .iter()
        .filter(|o| o.coverage == Some(Coverage::Gap))
        .collect()
}

/// Applicable obligations with a measured figure that misses a `should` (宜/不宜) threshold: a
/// warning, listed apart from the gaps (a warning alone never makes a gap).
pub fn warnings(report: &Report) -> Vec<&ObligationResult> {
    report
        .obligations
        .iter()
        .filter(|o| o.status == Status::Applicable)
        .filter(|o| o.measures.iter().any(|m| m.outcome == MeasureOutcome::Warn))
        .collect()
}

/// The missed `should` figures of an obligation, as `` `fact` = 45 > 31 (`param`)``.
pub fn warned_figures(result: &ObligationResult) -> String {
    result
        .measures
        .iter()
        .filter(|m| m.outcome == MeasureOutcome::Warn)
        .map(crate::coverage::MeasureResult::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The deadline's rule in both languages, Chinese first.
pub fn rule_both(result: &ObligationResult) -> String {
    result
        .deadline
        .as_ref()
        .map(|d| {
            format!(
                "{} {}",
                d.rule_zh.clone().unwrap_or_default(),
                d.rule_en.clone().unwrap_or_default()
            )
            .trim()
            .to_string()
        })
        .unwrap_or_default()
}

const ORDER: [Status; 4] = [
    Status::Applicable,
    Status::Unknown,
    Status::NotInForce,
    Status::NotApplicable,
];

/// The obligations by status, in [`ORDER`], leaving out empty groups.
fn groups(report: &Report) -> impl Iterator<Item = (Status, Vec<&ObligationResult>)> {
    ORDER.into_iter().filter_map(|status| {
        let group: Vec<&ObligationResult> = report
            .obligations
            .iter()
            .filter(|o| o.status == status)
            .collect();
        (!group.is_empty()).then_some((status, group))
    })
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A Markdown section of obligations with their due dates and rules (nothing when empty).
fn deadline_table(out: &mut String, heading: &str, list: &[&ObligationResult]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## {heading}\n\n| obligation | due | rule 规则 |\n|---|---|---|"
    );
    for o in list {
        let _ = writeln!(
            out,
            "| `{}` {} | {} | {} |",
            o.id,
            cell(&o.summary_zh),
            cell(&deadline(o)),
            cell(&rule_both(o))
        );
    }
    out.push('\n');
}

/// The report as Markdown.
pub fn markdown(report: &Report, options: Options) -> String {
    let mut out = String::new();
    let name = report
        .profile
        .name
        .as_deref()
        .unwrap_or("(unnamed service)");
    let _ = writeln!(out, "# Compliance assessment 合规评估: {name}\n");
    if let Some(description) = &report.profile.description {
        let _ = writeln!(out, "{description}\n");
    }
    let _ = writeln!(
        out,
        "Pack `{}` {} ({} / {}), as of {}.\n",
        report.pack.id, report.pack.version, report.pack.name_zh, report.pack.name_en, report.as_of
    );
    let s = &report.summary;
    let _ = write!(
        out,
        "**{}** overdue 逾期 · **{}** applicable 适用 · **{}** unknown 待定 · **{}** not in force 未生效 · **{}** not applicable 不适用",
        s.overdue, s.applicable, s.unknown, s.not_in_force, s.not_applicable
    );
    if let Some(gaps) = s.gaps {
        let _ = write!(out, " · **{gaps}** gaps 差距");
    }
    out.push_str("\n\n");
    if let Some(config) = &report.hegui_config {
        let _ = writeln!(out, "hegui config cited as evidence: `{config}`\n");
    }
    deadline_table(&mut out, "Overdue 已逾期", &overdue(report));
    deadline_table(&mut out, "Deadlines 期限 (timeline)", &timeline(report));
    if report.tracks_gaps {
        let gaps = gaps(report);
        out.push_str("## Gaps 差距\n\n");
        if gaps.is_empty() {
            out.push_str(
                "No gaps: every applicable obligation has evidence or the hegui controls it needs, and no measured figure fails.\n\n",
            );
        } else {
            out.push_str("| obligation | summary | why it is a gap | evidence expected |\n|---|---|---|---|\n");
            for o in gaps {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    o.id,
                    cell(&o.summary_zh),
                    cell(&coverage(o)),
                    cell(&o.evidence_expected.join("; "))
                );
            }
            out.push('\n');
        }
    }
    let warned = warnings(report);
    if !warned.is_empty() {
        out.push_str(
            "## Warnings 提示 (宜/不宜: should, not a gap)\n\n| obligation | figure |\n|---|---|\n",
        );
        for o in warned {
            let _ = writeln!(
                out,
                "| `{}` {} | {} |",
                o.id,
                cell(&o.summary_zh),
                cell(&warned_figures(o))
            );
        }
        out.push('\n');
    }
    for (status, group) in groups(report) {
        let _ = writeln!(
            out,
            "## {} {} ({})\n",
            capitalise(status.label_en()),
            status.label_zh(),
            group.len()
        );
        if status == Status::NotApplicable && !options.show_not_applicable {
            let ids: Vec<String> = group.iter().map(|o| format!("`{}`", o.id)).collect();
            let _ = writeln!(
                out,
                "{} (details: `--show-not-applicable`)\n",
                ids.join(", ")
            );
            continue;
        }
        for o in group {
            let _ = writeln!(out, "### `{}` ({})\n", o.id, o.kind);
            let _ = writeln!(out, "{}  \n{}\n", o.summary_zh, o.summary_en);
            let _ = writeln!(out, "- why: {}", why(o));
            let _ = writeln!(out, "- cites: {}", citations(o));
            let auth = authority(o);
            if !auth.is_empty() {
                let _ = writeln!(out, "- authority: {auth}");
            }
            let due = deadline(o);
            if !due.is_empty() {
                let _ = writeln!(out, "- deadline: {due} — {}", rule_both(o));
            }
            let ctl = controls(o);
            if !ctl.is_empty() {
                let _ = writeln!(out, "- hegui controls: {ctl}");
            }
            let measured = measures(o);
            if !measured.is_empty() {
                let _ = writeln!(out, "- measured: {measured}");
            }
            if !o.evidence_expected.is_empty() {
                let _ = writeln!(
                    out,
                    "- evidence expected: {}",
                    o.evidence_expected.join("; ")
                );
            }
            let cov = coverage(o);
            if !cov.is_empty() {
                let _ = writeln!(out, "- status of evidence: {cov}");
            }
            if let Some(note) = &o.note_en {
                let _ = writeln!(out, "- note: {note}");
            }
            if let Some(note) = &o.note_zh {
                let _ = writeln!(out, "- 备注: {note}");
            }
            out.push('\n');
        }
    }
    out.push_str("Confidence: verified = official text; secondary = other sources only; unconfirmed = no source found. Not legal advice.\n");
    out
}
