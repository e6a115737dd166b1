//! Rendering of classification and change reports in the four formats `hegui assess` uses:
//! a terminal table, Markdown, JSON and a self-contained HTML page. Chinese first, English beside
//! it where that is cheap.
//!
//! JSON is the stable, machine-readable form (the serde shape of [`ChangeReport`] and
//! [`Classification`]); the others are for people and may change.

use std::fmt::Write as _;
use std::str::FromStr;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use crate::change::{ChangeClass, ChangeReport, Status};
use crate::scope::{Class, Classification};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table for the terminal.
    Table,
    /// Markdown.
    Markdown,
    /// JSON (pretty-printed).
    Json,
    /// A self-contained HTML page.
    Html,
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`, expected one of `table`, `md`, `json`, `html`")]
pub struct FormatError(String);

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "table" => Ok(Format::Table),
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            other => Err(FormatError(other.to_string())),
        }
    }
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(header.iter().copied());
    table
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:system-ui,\"Noto Sans CJK SC\",sans-serif;margin:2em;max-width:72em}}\ntable{{border-collapse:collapse;margin:1em 0}}\nth,td{{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}}\nth{{background:#f3f3f3}}\n.major{{color:#a00;font-weight:bold}}\n.non_major{{color:#a60}}\n.none{{color:#070}}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        html_escape(title)
    )
}

fn class_label(class: Class) -> String {
    format!("{} {}", class.label_zh(), class.label_en())
}

/// Renders the classification of materials and data types.
///
/// # Errors
///
/// Only JSON serialization, which cannot fail for these types.
pub fn render_classification(
    items: &[Classification],
    format: Format,
) -> Result<String, serde_json::Error> {
    let cites = |c: &Classification| {
        c.cite
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    Ok(match format {
        Format::Json => {
            let mut out = serde_json::to_string_pretty(&serde_json::json!({ "items": items }))?;
            out.push('\n');
            out
        }
        Format::Table => {
            let mut t = table(&["输入 Input", "结论 Class", "理由 Reason", "依据 Source"]);
            for c in items {
                t.add_row(vec![
                    c.input.clone(),
                    class_label(c.class),
                    format!("{}\n{}", c.reason_zh, c.reason_en),
                    cites(c),
                ]);
            }
            format!("{t}\n")
        }
        Format::Markdown => {
            let mut out = String::from(
                "# 人类遗传资源范围判断 HGR scope classification\n\n| 输入 Input | 结论 Class | 理由 Reason | 依据 Source |\n|---|---|---|---|\n",
            );
            for c in items {
                let _ = writeln!(
                    out,
                    "| {} | {} | {}<br>{} | {} |",
                    md_cell(&c.input),
                    class_label(c.class),
                    md_cell(&c.reason_zh),
                    md_cell(&c.reason_en),
                    md_cell(&cites(c))
                );
            }
            out
        }
        Format::Html => {
            let mut body = String::from(
                "<h1>人类遗传资源范围判断 HGR scope classification</h1>\n<table>\n<tr><th>输入 Input</th><th>结论 Class</th><th>理由 Reason</th><th>依据 Source</th></tr>\n",
            );
            for c in items {
                let _ = writeln!(
                    body,
                    "<tr><td>{}</td><td>{}</td><td>{}<br>{}</td><td>{}</td></tr>",
                    html_escape(&c.input),
                    html_escape(&class_label(c.class)),
                    html_escape(&c.reason_zh),
                    html_escape(&c.reason_en),
                    html_escape(&cites(c))
                );
            }
            body.push_str("</table>\n");
            html_page("HGR scope classification", &body)
        }
    })
}

fn status_label(status: Status) -> &'static str {
    match status {
        Status::Declared => "已申报 declared",
        Status::Proposed => "拟变更 proposed",
    }
}

fn headline(report: &ChangeReport) -> Vec<String> {
    let mut lines = vec![format!("类型 Kind: {}", report.kind.label())];
    if let Some(number) = &report.number {
        lines.push(format!("编号 Number: {number}"));
    }
    if let Some(title) = &report.title {
        lines.push(format!("项目 Project: {title}"));
    }
    lines
}

fn resource_rows(report: &ChangeReport) -> Vec<Vec<String>> {
    report
        .resources
        .iter()
        .map(|r| {
            let mut name = r.kind.clone();
            if let Some(display) = &r.name {
                let _ = write!(name, " ({display})");
            }
            let unit = r.unit.clone().unwrap_or_default();
            // Under a filing the 10% rule does not apply: no base, no cumulative share.
            let (base, cumulative) = match (r.base, r.cumulative) {
                (Some(base), Some(cumulative)) => {
                    let bp = cumulative.saturating_mul(10_000) / base.max(1);
                    (
                        base.to_string(),
                        format!("{cumulative} ({}.{:02}%)", bp / 100, bp % 100),
                    )
                }
                _ => ("—".to_string(), "—".to_string()),
            };
            let proposed = if r.proposed == 0 {
                "—".to_string()
            } else {
                format!("{:+} → {}", r.proposed, r.after_proposed)
            };
            vec![
                name,
                format!("{} {unit}", r.initial).trim_end().to_string(),
                r.on_file.to_string(),
                proposed,
                base,
                cumulative,
                r.decreased.to_string(),
                r.added_by.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

/// On file (declared) first, then what is proposed, then the 10% rule's base and share (an
/// approval only).
const RESOURCE_HEADER: [&str; 8] = [
    "类型 Type",
    "初始获批 Initial",
    "在案（已申报）On file (declared)",
    "拟变更 Proposed",
    "10%基数 Base",
    "累计增加 Cumulative",
    "减少 Decreased",
    "新增于 Added by",
];

const CHANGE_HEADER: [&str; 5] = [
    "变更 Change",
    "日期 Date",
    "状态 Status",
    "结论 Class",
    "理由 Reasons",
];

fn change_rows(report: &ChangeReport) -> Vec<Vec<String>> {
    report
        .changes
        .iter()
        .map(|c| {
            let reasons = c
                .reasons
                .iter()
                .map(|r| {
                    let cites = r
                        .cite
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    if cites.is_empty() {
                        format!("{}\n{}", r.zh, r.en)
                    } else {
                        format!("{}\n{} [{cites}]", r.zh, r.en)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let mut class = c.class.label().to_string();
            if let Some(declared) = c.declared_as
                && declared != c.class
            {
                let _ = write!(class, " (declared {declared})");
            }
            let mut id = c.id.clone();
            if let Some(description) = &c.description {
                let _ = write!(id, ": {description}");
            }
            vec![
                id,
                c.date.clone().unwrap_or_default(),
                status_label(c.status).to_string(),
                class,
                reasons,
            ]
        })
        .collect()
}

fn summary_line(report: &ChangeReport) -> String {
    let proposed: Vec<&str> = report
        .changes
        .iter()
        .filter(|c| c.status == Status::Proposed && c.class == ChangeClass::Major)
        .map(|c| c.id.as_str())
        .collect();
    let what = match report.kind {
        crate::change::ApprovalKind::Approval => "变更审批 change approval",
        crate::change::ApprovalKind::Filing => "备案变更 filing change",
    };
    if proposed.is_empty() {
        "拟变更均无需按重大事项申报 No proposed change is major.".to_string()
    } else {
        format!("需办理{what}: {}", proposed.join(", "))
    }
}

/// Renders a change report.
///
/// # Errors
///
/// Only JSON serialization, which cannot fail for these types.
pub fn render_change(report: &ChangeReport, format: Format) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Json => {
            let mut out = serde_json::to_string_pretty(report)?;
            out.push('\n');
            out
        }
        Format::Table => {
            let mut out = headline(report).join("\n");
            out.push('\n');
            let mut resources = table(&RESOURCE_HEADER);
            for row in resource_rows(report) {
                resources.add_row(row);
            }
            let _ = writeln!(out, "{resources}");
            let mut changes = table(&CHANGE_HEADER);
            for row in change_rows(report) {
                changes.add_row(row);
            }
            let _ = writeln!(out, "{changes}");
            for f in &report.findings {
                let _ = writeln!(out, "! {}: {} / {}", f.change, f.zh, f.en);
            }
            let _ = writeln!(out, "{}", summary_line(report));
            out
        }
        Format::Markdown => {
            let mut out = String::from("# 人类遗传资源变更判断 HGR change classification\n\n");
            for line in headline(report) {
                let _ = writeln!(out, "- {}", md_cell(&line));
            }
            out.push_str("\n## 获批数量 Approved quantities\n\n");
            let _ = writeln!(out, "| {} |", RESOURCE_HEADER.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(RESOURCE_HEADER.len()));
            for row in resource_rows(report) {
                let _ = writeln!(
                    out,
                    "| {} |",
                    row.iter()
                        .map(|c| md_cell(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
            out.push_str("\n## 变更 Changes\n\n");
            let _ = writeln!(out, "| {} |", CHANGE_HEADER.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(CHANGE_HEADER.len()));
            for row in change_rows(report) {
                let _ = writeln!(
                    out,
                    "| {} |",
                    row.iter()
                        .map(|c| md_cell(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                );
            }
            if !report.findings.is_empty() {
                out.push_str("\n## 问题 Findings\n\n");
                for f in &report.findings {
                    let _ = writeln!(
                        out,
                        "- **{}**: {} / {}",
                        md_cell(&f.change),
                        md_cell(&f.zh),
                        md_cell(&f.en)
                    );
                }
            }
            let _ = writeln!(out, "\n**{}**", summary_line(report));
            out
        }
        Format::Html => {
            let mut body =
                String::from("<h1>人类遗传资源变更判断 HGR change classification</h1>\n<ul>\n");
            for line in headline(report) {
                let _ = writeln!(body, "<li>{}</li>", html_escape(&line));
            }
            body.push_str("</ul>\n<h2>获批数量 Approved quantities</h2>\n<table>\n<tr>");
            for h in RESOURCE_HEADER {
                let _ = write!(body, "<th>{}</th>", html_escape(h));
            }
            body.push_str("</tr>\n");
            for row in resource_rows(report) {
                body.push_str("<tr>");
                for cell in row {
                    let _ = write!(body, "<td>{}</td>", html_escape(&cell));
                }
                body.push_str("</tr>\n");
            }
            body.push_str("</table>\n<h2>变更 Changes</h2>\n<table>\n<tr>");
            for h in CHANGE_HEADER {
                let _ = write!(body, "<th>{}</th>", html_escape(h));
            }
            body.push_str("</tr>\n");
            for (row, change) in change_rows(report).into_iter().zip(&report.changes) {
                body.push_str("<tr>");
                for (index, cell) in row.into_iter().enumerate() {
                    let escaped = html_escape(&cell).replace('\n', "<br>");
                    if index == 3 {
                        let _ = write!(body, "<td class=\"{}\">{escaped}</td>", change.class);
                    } else {
                        let _ = write!(body, "<td>{escaped}</td>");
                    }
                }
                body.push_str("</tr>\n");
            }
            body.push_str("</table>\n");
            if !report.findings.is_empty() {
                body.push_str("<h2>问题 Findings</h2>\n<ul>\n");
                for f in &report.findings {
                    let _ = writeln!(
                        body,
                        "<li><b>{}</b>: {} / {}</li>",
                        html_escape(&f.change),
                        html_escape(&f.zh),
                        html_escape(&f.en)
                    );
                }
                body.push_str("</ul>\n");
            }
            let _ = writeln!(body, "<p><b>{}</b></p>", html_escape(&summary_line(report)));
            html_page("HGR change classification", &body)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::classify_file;
    use crate::scope::Scope;

    const SEED: &str = r#"
[approval]
kind = "approval"
number = "国科遗办审字〔2023〕示例号"
title = "Example cooperation | seed 004"

[[resource]]
type = "whole_blood"
name = "全血"
quantity = 1000
unit = "例"

[[resource]]
type = "tissue"
quantity = 200

[[change]]
id = "c1"
date = 2024-01-10
status = "declared"
declared_as = "non_major"
[[change.item]]
type = "whole_blood"
delta = 40

[[change]]
id = "c2"
date = 2024-03-01
status = "declared"
declared_as = "non_major"
[[change.item]]
type = "whole_blood"
delta = 50

[[change]]
id = "c3"
description = "3% more whole blood"
[[change.item]]
type = "whole_blood"
delta = 30

[[change]]
id = "c4"
[[change.item]]
type = "tissue"
delta = -20

[[change]]
id = "c5"
[[change.item]]
type = "csf"
delta = 100
"#;

    fn seed() -> ChangeReport {
        classify_file("APPROVAL.toml", SEED).expect("valid")
    }

    #[test]
    fn change_markdown() {
        insta::assert_snapshot!(render_change(&seed(), Format::Markdown).expect("render"));
    }

    #[test]
    fn change_json() {
        insta::assert_snapshot!(render_change(&seed(), Format::Json).expect("render"));
    }

    #[test]
    fn change_html_escapes() {
        let mut report = seed();
        report.title = Some("<script>alert('x')</script>".into());
        let html = render_change(&report, Format::Html).expect("render");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<td class=\"major\">"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    }

    #[test]
    fn change_table_has_summary() {
        let table = render_change(&seed(), Format::Table).expect("render");
        assert!(
            table.contains("需办理变更审批 change approval: c3, c5"),
            "{table}"
        );
    }

    #[test]
    fn classification_markdown_and_json() {
        let scope = Scope::bundled().expect("bundled");
        let items = scope.classify_all([
            "whole blood",
            "saliva",
            "ctDNA",
            "imaging data",
            "hair | wig",
        ]);
        insta::assert_snapshot!(
            "classification_md",
            render_classification(&items, Format::Markdown).expect("render")
        );
        insta::assert_snapshot!(
            "classification_json",
            render_classification(&items, Format::Json).expect("render")
        );
    }

    #[test]
    fn format_names() {
        for (name, format) in [
            ("table", Format::Table),
            ("md", Format::Markdown),
            ("json", Format::Json),
            ("html", Format::Html),
        ] {
            assert_eq!(name.parse::<Format>(), Ok(format));
        }
        insta::assert_snapshot!("pdf".parse::<Format>().expect_err("unknown"), @"unknown format `pdf`, expected one of `table`, `md`, `json`, `html`");
    }
}
