//! Rendering an assessment [`Report`]: Markdown, JSON and one self-contained, printable HTML page
//! (inline CSS, no scripts, Chinese and English). The terminal table lives in the CLI, which owns
//! the terminal.
//!
//! # JSON shape (`"schema": "hegui.assessment/1"`)
//!
//! The JSON is the serde form of [`Report`]; fields are only added within a schema version.
//!
//! ```text
//! { schema, pack: {id, version, name_zh, name_en}, profile: {name, description}, as_of,
//!   summary: {applicable, not_applicable, unknown, not_in_force, gaps|null},
//!   tracks_gaps, hegui_config|null,
//!   obligations: [ { id, kind, summary_zh, summary_en,
//!     status: "applicable"|"not_applicable"|"unknown"|"not_in_force",
//!     condition, condition_value: "true"|"false"|"unknown",
//!     atoms: [{text, value}], needs: [fact path],
//!     force: null | {instrument, state: "not_yet"|"no_longer", date},
//!     citations: [{instrument, title_zh, title_en, version, article, item, confidence, reference}],
//!     authority: null | {id, name_zh, name_en, role},
//!     deadline: null | {amount, unit, param, anchor, anchor_date, calendar, due, problem, caveat,
//!                       rule_en, rule_zh},
//!     controls: [{id, summary_en, summary_zh, in_use}],
//!     evidence_expected, evidence_given, coverage: null|"evidence"|"hegui"|"gap",
//!     control_points, note_en, note_zh } ] }
//! ```

use std::fmt::Write as _;

use crate::assess::{Coverage, ObligationResult, Report, Status};

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
    match (deadline.due, &deadline.problem) {
        (Some(due), _) => match &deadline.caveat {
            Some(caveat) => format!("{due} ({rule}; {caveat})"),
            None => format!("{due} ({rule})"),
        },
        (None, Some(problem)) => format!("unknown: {problem} ({rule})"),
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

/// The controls as `gateway.output_guard ✓` (✓ when in use).
pub fn controls(result: &ObligationResult) -> String {
    result
        .controls
        .iter()
        .map(|c| {
            if c.in_use {
                format!("{} ✓", c.id)
            } else {
                c.id.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Evidence or gap, when tracked.
pub fn coverage(result: &ObligationResult) -> String {
    match result.coverage {
        Some(Coverage::Evidence) => format!("evidence: {}", result.evidence_given.join(", ")),
        Some(Coverage::Hegui) => "met by hegui controls in use".to_string(),
        Some(Coverage::Gap) => "GAP".to_string(),
        None => String::new(),
    }
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

/// The report as Markdown.
pub fn markdown(report: &Report) -> String {
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
        "**{}** applicable 适用 · **{}** unknown 待定 · **{}** not in force 未生效 · **{}** not applicable 不适用",
        s.applicable, s.unknown, s.not_in_force, s.not_applicable
    );
    if let Some(gaps) = s.gaps {
        let _ = write!(out, " · **{gaps}** gaps 差距");
    }
    out.push_str("\n\n");
    if let Some(config) = &report.hegui_config {
        let _ = writeln!(out, "hegui config cited as evidence: `{config}`\n");
    }
    let deadlines: Vec<&ObligationResult> = report
        .obligations
        .iter()
        .filter(|o| o.status == Status::Applicable && o.deadline.is_some())
        .collect();
    if !deadlines.is_empty() {
        out.push_str("## Deadlines 期限\n\n| obligation | due | rule |\n|---|---|---|\n");
        for o in deadlines {
            let rule = o
                .deadline
                .as_ref()
                .and_then(|d| d.rule_en.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                o.id,
                cell(&deadline(o)),
                cell(&rule)
            );
        }
        out.push('\n');
    }
    if report.tracks_gaps {
        let gaps: Vec<&ObligationResult> = report
            .obligations
            .iter()
            .filter(|o| o.coverage == Some(Coverage::Gap))
            .collect();
        out.push_str("## Gaps 差距\n\n");
        if gaps.is_empty() {
            out.push_str(
                "No gaps: every applicable obligation has evidence or a hegui control in use.\n\n",
            );
        } else {
            out.push_str("| obligation | summary | hegui controls that would cover it | evidence expected |\n|---|---|---|---|\n");
            for o in gaps {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    o.id,
                    cell(&o.summary_zh),
                    cell(&controls(o)),
                    cell(&o.evidence_expected.join("; "))
                );
            }
            out.push('\n');
        }
    }
    for (status, group) in groups(report) {
        let _ = writeln!(
            out,
            "## {} {} ({})\n",
            capitalise(status.label_en()),
            status.label_zh(),
            group.len()
        );
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
                let _ = writeln!(out, "- deadline: {due}");
            }
            let ctl = controls(o);
            if !ctl.is_empty() {
                let _ = writeln!(out, "- hegui controls: {ctl}");
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
            out.push('\n');
        }
    }
    out.push_str("Confidence: verified = official text; secondary = other sources only; unconfirmed = no source found. Not legal advice.\n");
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Escapes text for HTML and turns `code` spans into `<code>` elements.
fn rich(text: &str) -> String {
    let mut out = String::new();
    for (index, part) in text.split('`').enumerate() {
        if index % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

const CSS: &str = "body{font-family:system-ui,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111;line-height:1.45}\
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;margin-top:2rem}h3{font-size:1rem;margin-bottom:.2rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}\
code{font-size:.85em;background:#f3f3f3;padding:0 .2em}.o{border:1px solid #ddd;border-left:4px solid #999;padding:.5rem .8rem;margin:.6rem 0;break-inside:avoid}\
.applicable{border-left-color:#b00}.unknown{border-left-color:#d80}.not_in_force{border-left-color:#06c}.not_applicable{border-left-color:#aaa}\
.gap{color:#b00;font-weight:bold}.meta{color:#555;font-size:.9rem}dl{margin:.3rem 0}dt{float:left;width:8rem;color:#555}dd{margin-left:8.5rem}\
@media print{body{margin:0;max-width:none}.o{page-break-inside:avoid}}";

/// The report as one self-contained HTML page (inline CSS, no scripts), printable.
pub fn html(report: &Report) -> String {
    let mut out = String::new();
    let name = esc(report
        .profile
        .name
        .as_deref()
        .unwrap_or("(unnamed service)"));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>合规评估 Compliance assessment: {name}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
    );
    let _ = writeln!(out, "<h1>合规评估 Compliance assessment: {name}</h1>");
    if let Some(description) = &report.profile.description {
        let _ = writeln!(out, "<p>{}</p>", esc(description));
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">规则包 Pack <code>{}</code> {} ({} / {}) · 评估日期 as of {}</p>",
        esc(&report.pack.id),
        esc(&report.pack.version),
        esc(&report.pack.name_zh),
        esc(&report.pack.name_en),
        report.as_of
    );
    let s = &report.summary;
    out.push_str("<table><tr><th>适用 Applicable</th><th>待定 Unknown</th><th>未生效 Not in force</th><th>不适用 Not applicable</th>");
    if s.gaps.is_some() {
        out.push_str("<th>差距 Gaps</th>");
    }
    let _ = write!(
        out,
        "</tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        s.applicable, s.unknown, s.not_in_force, s.not_applicable
    );
    if let Some(gaps) = s.gaps {
        let _ = write!(out, "<td class=\"gap\">{gaps}</td>");
    }
    out.push_str("</tr></table>\n");
    let deadlines: Vec<&ObligationResult> = report
        .obligations
        .iter()
        .filter(|o| o.status == Status::Applicable && o.deadline.is_some())
        .collect();
    if !deadlines.is_empty() {
        out.push_str("<h2>期限 Deadlines</h2>\n<table><tr><th>义务 Obligation</th><th>截止 Due</th><th>规则 Rule</th></tr>\n");
        for o in deadlines {
            let rule = o
                .deadline
                .as_ref()
                .map(|d| {
                    format!(
                        "{} {}",
                        d.rule_zh.clone().unwrap_or_default(),
                        d.rule_en.clone().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code><br>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.id),
                esc(&o.summary_zh),
                rich(&deadline(o)),
                esc(rule.trim())
            );
        }
        out.push_str("</table>\n");
    }
    if report.tracks_gaps {
        out.push_str("<h2>差距 Gaps</h2>\n");
        let gaps: Vec<&ObligationResult> = report
            .obligations
            .iter()
            .filter(|o| o.coverage == Some(Coverage::Gap))
            .collect();
        if gaps.is_empty() {
            out.push_str("<p>无差距 No gaps.</p>\n");
        } else {
            out.push_str("<table><tr><th>义务 Obligation</th><th>可覆盖的 hegui 控制 hegui controls</th><th>应有证据 Evidence expected</th></tr>\n");
            for o in gaps {
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code><br>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&o.id),
                    esc(&o.summary_zh),
                    esc(&controls(o)),
                    esc(&o.evidence_expected.join("; "))
                );
            }
            out.push_str("</table>\n");
        }
    }
    for (status, group) in groups(report) {
        let _ = writeln!(
            out,
            "<h2>{} {} ({})</h2>",
            status.label_zh(),
            capitalise(status.label_en()),
            group.len()
        );
        for o in group {
            let class = match o.status {
                Status::Applicable => "applicable",
                Status::NotApplicable => "not_applicable",
                Status::Unknown => "unknown",
                Status::NotInForce => "not_in_force",
            };
            let _ = writeln!(
                out,
                "<div class=\"o {class}\"><h3><code>{}</code> {}</h3><p>{}<br>{}</p><dl>",
                esc(&o.id),
                esc(&o.kind.to_string()),
                esc(&o.summary_zh),
                esc(&o.summary_en)
            );
            let mut row = |zh: &str, en: &str, value: String| {
                if !value.is_empty() {
                    let _ = writeln!(out, "<dt>{zh} {en}</dt><dd>{}</dd>", rich(&value));
                }
            };
            row("理由", "why", why(o));
            row("依据", "cites", citations(o));
            row("主管", "authority", authority(o));
            row("期限", "deadline", deadline(o));
            row("控制", "controls", controls(o));
            row("证据", "evidence", o.evidence_expected.join("; "));
            row("状态", "status", coverage(o));
            row(
                "备注",
                "note",
                o.note_zh
                    .clone()
                    .or_else(|| o.note_en.clone())
                    .unwrap_or_default(),
            );
            out.push_str("</dl></div>\n");
        }
    }
    out.push_str("<p class=\"meta\">置信度 Confidence: verified 官方文本 · secondary 二手来源 · unconfirmed 未找到来源。本报告不构成法律意见 Not legal advice.</p>\n</body>\n</html>\n");
    out
}
