//! The assessment as one self-contained, printable HTML page: inline CSS, no scripts, Chinese and
//! English side by side: every heading, status, reason, deadline and its rule, control, measured
//! figure, gap and note shows its Chinese line first, then the English one. The
//! not-applicable obligations sit in a `<details>` element, closed unless
//! [`Options::show_not_applicable`] asks for them.

use std::fmt::Write as _;

use super::{
    Options, authority, capitalise, citations, controls, controls_zh, coverage, coverage_zh,
    deadline, deadline_zh, gaps, groups, measures, measures_zh, overdue, rule_both, timeline,
    warned_figures, warnings, why, why_zh,
};
use crate::assess::{ObligationResult, Report, Status};

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The Chinese line, then the English one (either may be empty).
fn both(zh: &str, en: &str) -> String {
    match (zh.trim().is_empty(), en.trim().is_empty()) {
        (false, false) => format!("{}<br>{}", rich(zh), rich(en)),
        (false, true) => rich(zh),
        _ => rich(en),
    }
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
.gap,.overdue{color:#b00;font-weight:bold}.meta{color:#555;font-size:.9rem}dl{margin:.3rem 0}dt{float:left;width:8rem;color:#555}dd{margin-left:8.5rem}\
summary{cursor:pointer;font-size:1.2rem;margin-top:2rem}\
@media print{body{margin:0;max-width:none}.o{page-break-inside:avoid}details{display:block}}";

fn obligation_table(
    out: &mut String,
    list: &[&ObligationResult],
    third: (&str, fn(&ObligationResult) -> String),
) {
    let _ = writeln!(
        out,
        "<table><tr><th>义务 Obligation</th><th>截止 Due</th><th>{}</th></tr>",
        third.0
    );
    for o in list {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code><br>{}<br>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&o.id),
            esc(&o.summary_zh),
            esc(&o.summary_en),
            both(&deadline_zh(o), &deadline(o)),
            rich(&third.1(o))
        );
    }
    out.push_str("</table>\n");
}

fn entry(out: &mut String, o: &ObligationResult) {
    let class = match o.status {
        Status::Applicable => "applicable",
        Status::NotApplicable => "not_applicable",
        Status::Unknown => "unknown",
        Status::NotInForce => "not_in_force",
    };
    let _ = writeln!(
        out,
        "<div class=\"o {class}\"><h3><code>{}</code> {} · {} {}</h3><p>{}<br>{}</p><dl>",
        esc(&o.id),
        esc(&o.kind.to_string()),
        o.status.label_zh(),
        o.status.label_en(),
        esc(&o.summary_zh),
        esc(&o.summary_en)
    );
    // Each row: the Chinese text, then the English one.
    let mut row = |zh: &str, en: &str, value_zh: String, value_en: String| {
        let value = both(&value_zh, &value_en);
        if !value.trim().is_empty() {
            let _ = writeln!(out, "<dt>{zh} {en}</dt><dd>{value}</dd>");
        }
    };
    row("理由", "why", why_zh(o), why(o));
    row("依据", "cites", String::new(), citations(o));
    row("主管", "authority", authority(o), String::new());
    if o.deadline.is_some() {
        let zh = o.deadline.as_ref().and_then(|d| d.rule_zh.clone());
        let en = o.deadline.as_ref().and_then(|d| d.rule_en.clone());
        row(
            "期限",
            "deadline",
            format!("{} — {}", deadline_zh(o), zh.unwrap_or_default()),
            format!("{} — {}", deadline(o), en.unwrap_or_default()),
        );
    }
    row("控制", "controls", controls_zh(o), controls(o));
    row("实测", "measured", measures_zh(o), measures(o));
    row(
        "证据",
        "evidence",
        String::new(),
        o.evidence_expected.join("; "),
    );
    if o.coverage.is_some() {
        row("状态", "status", coverage_zh(o), coverage(o));
    }
    row(
        "备注",
        "note",
        o.note_zh.clone().unwrap_or_default(),
        o.note_en.clone().unwrap_or_default(),
    );
    out.push_str("</dl></div>\n");
}

/// The report as one self-contained HTML page (inline CSS, no scripts), printable.
pub fn html(report: &Report, options: Options) -> String {
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
    out.push_str("<table><tr><th>逾期 Overdue</th><th>适用 Applicable</th><th>待定 Unknown</th><th>未生效 Not in force</th><th>不适用 Not applicable</th>");
    if s.gaps.is_some() {
        out.push_str("<th>差距 Gaps</th>");
    }
    let _ = write!(
        out,
        "</tr><tr><td class=\"overdue\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        s.overdue, s.applicable, s.unknown, s.not_in_force, s.not_applicable
    );
    if let Some(gaps) = s.gaps {
        let _ = write!(out, "<td class=\"gap\">{gaps}</td>");
    }
    out.push_str("</tr></table>\n");
    let late = overdue(report);
    if !late.is_empty() {
        out.push_str("<h2 class=\"overdue\">已逾期 Overdue</h2>\n");
        obligation_table(&mut out, &late, ("规则 Rule", rule_both));
    }
    let deadlines = timeline(report);
    if !deadlines.is_empty() {
        out.push_str("<h2>期限 Deadlines (timeline)</h2>\n");
        obligation_table(&mut out, &deadlines, ("规则 Rule", rule_both));
    }
    if report.tracks_gaps {
        out.push_str("<h2>差距 Gaps</h2>\n");
        let gaps = gaps(report);
        if gaps.is_empty() {
            out.push_str("<p>无差距 No gaps.</p>\n");
        } else {
            out.push_str("<table><tr><th>义务 Obligation</th><th>原因 Why it is a gap</th><th>应有证据 Evidence expected</th></tr>\n");
            for o in gaps {
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code><br>{}</td><td>{}<br>{}</td><td>{}</td></tr>",
                    esc(&o.id),
                    esc(&o.summary_zh),
                    rich(&coverage_zh(o)),
                    rich(&coverage(o)),
                    esc(&o.evidence_expected.join("; "))
                );
            }
            out.push_str("</table>\n");
        }
    }
    let warned = warnings(report);
    if !warned.is_empty() {
        out.push_str("<h2>提示 Warnings（宜/不宜，不构成差距 should, not a gap）</h2>\n<table><tr><th>义务 Obligation</th><th>实测 Figure</th></tr>\n");
        for o in warned {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code><br>{}<br>{}</td><td>{}</td></tr>",
                esc(&o.id),
                esc(&o.summary_zh),
                esc(&o.summary_en),
                rich(&warned_figures(o))
            );
        }
        out.push_str("</table>\n");
    }
    for (status, group) in groups(report) {
        let heading = format!(
            "{} {} ({})",
            status.label_zh(),
            capitalise(status.label_en()),
            group.len()
        );
        if status == Status::NotApplicable {
            let open = if options.show_not_applicable {
                " open"
            } else {
                ""
            };
            let _ = writeln!(out, "<details{open}><summary>{heading}</summary>");
            for o in group {
                entry(&mut out, o);
            }
            out.push_str("</details>\n");
        } else {
            let _ = writeln!(out, "<h2>{heading}</h2>");
            for o in group {
                entry(&mut out, o);
            }
        }
    }
    out.push_str("<p class=\"meta\">置信度 Confidence: verified 官方文本 · secondary 二手来源 · unconfirmed 未找到来源。本报告不构成法律意见 Not legal advice.</p>\n</body>\n</html>\n");
    out
}
