//! A small document model (headings, paragraphs, lists, tables) that every report of this crate
//! builds once, and its renderers: a terminal table, Markdown, one self-contained HTML page (inline
//! CSS, no scripts) and DOCX ([`docx`]).
//!
//! Why a model instead of writing each format by hand: the crate has five reports and the filing
//! dossier, each in four or five formats; one model keeps their contents identical across formats
//! (a figure in the DOCX is the figure in the Markdown) and keeps escaping in one place. JSON is
//! not rendered from the model: it is the serde form of each typed report, the stable shape
//! other tools (and `hegui filing`) read.

pub mod docx;

use std::fmt::Write as _;
use std::str::FromStr;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

/// An output format of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text with tables, for the terminal.
    Table,
    /// Markdown.
    Markdown,
    /// Pretty-printed JSON (the typed report).
    Json,
    /// One self-contained HTML page.
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

/// One block of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 2 or deeper (the title is level 1).
    Heading(u8, String),
    /// A paragraph.
    Para(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header and rows.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// A document: a title and blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    /// Title (level-1 heading).
    pub title: String,
    /// The body.
    pub blocks: Vec<Block>,
}

impl Doc {
    /// An empty document.
    pub fn new(title: impl Into<String>) -> Doc {
        Doc {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Adds a heading.
    pub fn heading(&mut self, level: u8, text: impl Into<String>) {
        self.blocks.push(Block::Heading(level.max(2), text.into()));
    }

    /// Adds a paragraph.
    pub fn para(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Para(text.into()));
    }

    /// Adds a list (nothing when empty).
    pub fn list(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// Adds a table.
    pub fn table(&mut self, header: &[&str], rows: Vec<Vec<String>>) {
        self.blocks.push(Block::Table(
            header.iter().map(|h| (*h).to_string()).collect(),
            rows,
        ));
    }

    /// Appends another document's blocks, its title becoming a heading of `level`.
    pub fn append(&mut self, level: u8, other: Doc) {
        self.heading(level, other.title);
        for block in other.blocks {
            self.blocks.push(match block {
                Block::Heading(l, t) => Block::Heading(l + level - 1, t),
                b => b,
            });
        }
    }

    /// Text for the terminal: tables drawn with box characters, 120 columns wide.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n{}\n", self.title, "=".repeat(40));
        for block in &self.blocks {
            match block {
                Block::Heading(_, t) => {
                    let _ = write!(out, "\n{t}\n{}\n", "-".repeat(40));
                }
                Block::Para(t) => {
                    let _ = writeln!(out, "{t}");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(out, "  - {item}");
                    }
                }
                Block::Table(header, rows) => {
                    let mut table = Table::new();
                    table
                        .load_preset(UTF8_FULL_CONDENSED)
                        .set_content_arrangement(ContentArrangement::Dynamic)
                        .set_width(120)
                        .set_header(header.iter().map(String::as_str));
                    for row in rows {
                        table.add_row(row.iter().map(String::as_str));
                    }
                    let _ = writeln!(out, "{table}");
                }
            }
        }
        out
    }

    /// Markdown.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n", self.title);
        for block in &self.blocks {
            out.push('\n');
            match block {
                Block::Heading(level, t) => {
                    let _ = writeln!(out, "{} {t}", "#".repeat(usize::from(*level)));
                }
                Block::Para(t) => {
                    let _ = writeln!(out, "{t}");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(out, "- {item}");
                    }
                }
                Block::Table(header, rows) => {
                    let cells =
                        |r: &[String]| r.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ");
                    let _ = writeln!(out, "| {} |", cells(header));
                    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
                    for row in rows {
                        let _ = writeln!(out, "| {} |", cells(row));
                    }
                }
            }
        }
        out
    }

    /// One self-contained, printable HTML page.
    pub fn html(&self) -> String {
        let mut body = format!("<h1>{}</h1>\n", escape(&self.title));
        for block in &self.blocks {
            match block {
                Block::Heading(level, t) => {
                    let level = (*level).min(6);
                    let _ = writeln!(body, "<h{level}>{}</h{level}>", escape(t));
                }
                Block::Para(t) => {
                    let _ = writeln!(body, "<p>{}</p>", escape(t));
                }
                Block::List(items) => {
                    body.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(body, "<li>{}</li>", escape(item));
                    }
                    body.push_str("</ul>\n");
                }
                Block::Table(header, rows) => {
                    body.push_str("<table>\n<tr>");
                    for h in header {
                        let _ = write!(body, "<th>{}</th>", escape(h));
                    }
                    body.push_str("</tr>\n");
                    for row in rows {
                        body.push_str("<tr>");
                        for c in row {
                            let _ = write!(body, "<td>{}</td>", escape(c));
                        }
                        body.push_str("</tr>\n");
                    }
                    body.push_str("</table>\n");
                }
            }
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:system-ui,\"Noto Sans CJK SC\",sans-serif;margin:2em;max-width:72em}}\ntable{{border-collapse:collapse;margin:1em 0}}\nth,td{{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}}\nth{{background:#f3f3f3}}\n@media print{{body{{margin:0}}}}\n</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
            escape(&self.title)
        )
    }
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

/// HTML-escapes text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            other => out.push(other),
        }
    }
    out
}

/// A report of this crate: a typed, serializable value that also lays itself out as a [`Doc`].
pub trait Report: Serialize {
    /// The report as a document.
    fn doc(&self) -> Doc;

    /// The report in `format` (JSON: the serde form, with a final newline).
    fn render(&self, format: Format) -> String {
        match format {
            Format::Json => {
                let mut out = serde_json::to_string_pretty(self)
                    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
                out.push('\n');
                out
            }
            Format::Table => self.doc().text(),
            Format::Markdown => self.doc().markdown(),
            Format::Html => self.doc().html(),
        }
    }
}

/// `yes` / `NO`, for verdict columns.
pub fn yes_no(ok: bool) -> String {
    if ok { "yes" } else { "NO" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Doc {
        let mut doc = Doc::new("T <1>");
        doc.heading(2, "Part");
        doc.para("a | b");
        doc.list(vec!["x".into()]);
        doc.table(&["k", "v"], vec![vec!["a|b".into(), "1".into()]]);
        doc
    }

    #[test]
    fn markdown_and_html_escape() {
        insta::assert_snapshot!(sample().markdown(), @r"
        # T <1>

        ## Part

        a | b

        - x

        | k | v |
        |---|---|
        | a\|b | 1 |
        ");
        let html = sample().html();
        assert!(html.contains("<h1>T &lt;1&gt;</h1>"), "{html}");
        assert!(html.contains("<td>a|b</td>"), "{html}");
    }
}
