//! Located diagnostics: an error in a pack file or a profile, with the file name, the byte span,
//! the line and column, and the source text, so that a reader sees exactly where the problem is.
//!
//! [`Located`] implements [`miette::Diagnostic`] (source code and a labelled span), so a caller with
//! a graphical miette handler can render it; its `Display` form is the plain
//! `file:line:column: message` that every terminal and log understands.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A source file: its display name (a path relative to where it was loaded from) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
}

impl SourceFile {
    /// A source file named `name` with contents `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            text: Arc::from(text.into()),
        }
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The contents.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// A diagnostic at `span` (byte offsets into the text).
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Located {
        let start = span.start.min(self.text.len());
        let end = span.end.clamp(start, self.text.len());
        let (line, column) = line_column(&self.text, start);
        Located {
            file: self.name.clone(),
            text: self.text.clone(),
            span: start..end,
            line,
            column,
            message: message.into(),
        }
    }

    /// A diagnostic for the whole file (line 1, column 1).
    pub fn error_at_start(&self, message: impl Into<String>) -> Located {
        self.error(0..0, message)
    }

    /// Turns a TOML parse or deserialization error into a located diagnostic.
    pub fn toml_error(&self, err: &toml::de::Error) -> Located {
        let span = err.span().unwrap_or(0..0);
        self.error(span, clean_message(err.message()))
    }
}

/// The TOML crate's messages sometimes end in a newline or a period; ours don't.
fn clean_message(message: &str) -> String {
    let trimmed = message.trim();
    trimmed
        .strip_suffix('.')
        .unwrap_or(trimmed)
        .replace('\n', "; ")
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut line_start = 0;
    for (index, ch) in text.char_indices() {
        if index >= offset {
            break;
        }
        if ch == '\n' {
            line += 1;
            line_start = index + 1;
        }
    }
    let column = text
        .get(line_start..offset)
        .map_or(1, |prefix| prefix.chars().count() + 1);
    (line, column)
}

/// One problem at one place in one file.
#[derive(Debug, Clone)]
pub struct Located {
    file: Arc<str>,
    text: Arc<str>,
    span: Range<usize>,
    line: usize,
    column: usize,
    message: String,
}

impl Located {
    /// The file's display name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// 1-based line.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte span in the file.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The source line the diagnostic points at, and a caret line under the span, for terminals.
    pub fn snippet(&self) -> String {
        let line_start = self
            .text
            .get(..self.span.start)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |index| index + 1);
        let line_end = self
            .text
            .get(line_start..)
            .and_then(|rest| rest.find('\n'))
            .map_or(self.text.len(), |index| line_start + index);
        let source_line = self.text.get(line_start..line_end).unwrap_or_default();
        let width = self
            .text
            .get(self.span.start..self.span.end.min(line_end).max(self.span.start))
            .map_or(1, |s| s.chars().count().max(1));
        let gutter = self.line.to_string();
        format!(
            "{gutter} | {source_line}\n{pad} | {spaces}{carets}",
            pad = " ".repeat(gutter.len()),
            spaces = " ".repeat(self.column.saturating_sub(1)),
            carets = "^".repeat(width),
        )
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for Located {}

impl miette::Diagnostic for Located {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.text)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = miette::SourceSpan::new(self.span.start.into(), self.span.len());
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(Some(self.message.clone()), span),
        )))
    }
}

/// Several located problems, in file order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Located>);

impl Diagnostics {
    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems.
    pub fn iter(&self) -> impl Iterator<Item = &Located> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for item in &self.0 {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= limit
                || (name.len() >= 4 && (candidate.starts_with(name) || name.starts_with(candidate)))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// ", did you mean `x`" or nothing.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    suggest(name, candidates).map_or_else(String::new, |s| format!(", did you mean `{s}`"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute =
                previous.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let file = SourceFile::new("a.toml", "x = 1\n名 = \"值\"\n");
        let offset = "x = 1\n名 = ".len();
        let err = file.error(offset..offset + 5, "bad value");
        assert_eq!((err.line(), err.column()), (2, 5));
        assert_eq!(err.to_string(), "a.toml:2:5: bad value");
        insta::assert_snapshot!(err.snippet(), @r#"
        2 | 名 = "值"
          |     ^^^
        "#);
    }
}
