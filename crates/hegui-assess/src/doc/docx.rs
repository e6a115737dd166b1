//! [`Doc`] as a DOCX file a compliance officer can open and edit in Word or WPS, written with the
//! pure-Rust `docx-rs` crate (no LibreOffice, no templates).
//!
//! Headings use the built-in style ids `Heading1`…`Heading3` (declared here so that Word's
//! navigation pane and table of contents see them), tables get single borders, and the East
//! Asian font is set to 宋体 / SimSun so that Chinese text renders without font substitution
//! warnings.

use docx_rs::{Docx, Paragraph, Run, RunFonts, Style, StyleType, Table, TableCell, TableRow};

use super::{Block, Doc};

/// A DOCX could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the DOCX: {0}")]
pub struct DocxError(String);

fn fonts() -> RunFonts {
    RunFonts::new().east_asia("SimSun").ascii("Calibri")
}

fn run(text: &str) -> Run {
    // Word keeps line breaks inside a run only as explicit breaks.
    let mut run = Run::new().fonts(fonts());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(docx_rs::BreakType::TextWrapping);
        }
        run = run.add_text(line);
    }
    run
}

fn heading(level: u8, text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text))
        .style(&format!("Heading{}", level.clamp(1, 3)))
}

/// Writes `doc` as a DOCX into a byte vector.
///
/// # Errors
///
/// Only when the ZIP writer fails, which it does not for an in-memory buffer.
pub fn to_docx(doc: &Doc) -> Result<Vec<u8>, DocxError> {
    let mut docx = Docx::new();
    for (level, size) in [(1u8, 36usize), (2, 30), (3, 26)] {
        docx = docx.add_style(
            Style::new(format!("Heading{level}"), StyleType::Paragraph)
                .name(format!("Heading {level}"))
                .size(size)
                .bold(),
        );
    }
    docx = docx.add_paragraph(heading(1, &doc.title));
    for block in &doc.blocks {
        docx = match block {
            Block::Heading(level, text) => docx.add_paragraph(heading(*level, text)),
            Block::Para(text) => docx.add_paragraph(Paragraph::new().add_run(run(text))),
            Block::List(items) => items.iter().fold(docx, |d, item| {
                d.add_paragraph(Paragraph::new().add_run(run(&format!("• {item}"))))
            }),
            Block::Table(header, rows) => {
                let row = |cells: &[String], bold: bool| {
                    TableRow::new(
                        cells
                            .iter()
                            .map(|c| {
                                let r = if bold { run(c).bold() } else { run(c) };
                                TableCell::new().add_paragraph(Paragraph::new().add_run(r))
                            })
                            .collect(),
                    )
                };
                let mut table_rows = vec![row(header, true)];
                table_rows.extend(rows.iter().map(|r| row(r, false)));
                docx.add_table(Table::new(table_rows))
                    .add_paragraph(Paragraph::new())
            }
        };
    }
    let mut buffer = std::io::Cursor::new(Vec::new());
    docx.build()
        .pack(&mut buffer)
        .map_err(|e| DocxError(e.to_string()))?;
    Ok(buffer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_zip_with_the_text() {
        let mut doc = Doc::new("自评估报告");
        doc.heading(2, "语料");
        doc.para("合格率 97.1 %");
        doc.table(&["k", "v"], vec![vec!["a".into(), "1\n2".into()]]);
        let bytes = to_docx(&doc).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let mut zip = zip_text(&bytes);
        assert!(zip.contains("合格率 97.1 %"), "{zip}");
        zip.clear();
    }

    /// The document part, found by its XML text in the stored (deflated) archive: decompressing
    /// needs a ZIP reader, so this only checks that the text made it into some part by looking
    /// for it after re-reading with docx-rs's own reader.
    fn zip_text(bytes: &[u8]) -> String {
        let docx = docx_rs::read_docx(bytes).unwrap();
        docx.json()
    }
}
