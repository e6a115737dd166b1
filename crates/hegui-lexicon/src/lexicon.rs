//! Loading a lexicon: a directory with `lexicon.toml` and UTF-8 TSV files, or the bundled
//! sample. Errors name the file and line.
//!
//! Format (DESIGN.md, "Lexicon"):
//!
//! - `lexicon.toml`: `name`, `version`, optional `description`, a `[normalize]` table
//!   ([`NormalizeOptions`]), a `[pii]` table ([`PiiOptions`]), a `[variants]` table
//!   ([`crate::VariantOptions`]) and a `[combinations]` table ([`ComboOptions`]).
//! - every other `*.tsv` file (sorted by name): a header `pattern<TAB>risk<TAB>level[<TAB>note]`,
//!   then one entry per line. Empty lines and lines starting with `#` are ignored. A pattern is a
//!   literal, or `a&b[&c…]` (at most 8 parts, all within one sentence and within the window of
//!   `[combinations]`; see `combo.rs`).
//! - `allow.tsv`: a header `pattern[<TAB>note]`; each phrase suppresses any hit it covers.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::combo::ComboOptions;
use crate::normalize::NormalizeOptions;
use crate::taxonomy;

/// How strongly a hit is acted on. Ordered: `Flag < Review < Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Record only.
    Flag,
    /// Send to a human.
    Review,
    /// Refuse or stop the output.
    Block,
}

impl Level {
    /// The lower-case name used in TSV files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Flag => "flag",
            Level::Review => "review",
            Level::Block => "block",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        match text {
            "flag" => Some(Level::Flag),
            "review" => Some(Level::Review),
            "block" => Some(Level::Block),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an entry was defined.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    /// File name relative to the lexicon directory.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One lexicon entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The pattern as written (`a&b` for combinations).
    pub pattern: String,
    /// Appendix A code or a custom code.
    pub risk: String,
    /// What to do on a hit.
    pub level: Level,
    /// Free text.
    pub note: String,
    /// Where it was defined.
    pub source: Source,
}

impl Entry {
    /// The parts of a combination (`a&b` → `["a", "b"]`), or the whole pattern.
    pub fn parts(&self) -> Vec<&str> {
        self.pattern.split('&').collect()
    }
}

/// One allow-list phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowPhrase {
    /// The phrase.
    pub phrase: String,
    /// Where it was defined.
    pub source: Source,
}

/// PII detector options, the `[pii]` table of `lexicon.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct PiiOptions {
    /// Run the detectors (resident ID, mobile, bank card, e-mail) as risk `A.4.f`. Default on.
    pub enabled: bool,
    /// Level of PII hits. Default `review`.
    pub level: Level,
}

impl Default for PiiOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            level: Level::Review,
        }
    }
}

/// The contents of `lexicon.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Name of the lexicon.
    pub name: String,
    /// Version string (free form; a date works well).
    pub version: String,
    /// Optional description.
    #[serde(default)]
    pub description: String,
    /// Normalization steps.
    #[serde(default)]
    pub normalize: NormalizeOptions,
    /// PII detectors.
    #[serde(default)]
    pub pii: PiiOptions,
    /// Generated pattern variants (pinyin).
    #[serde(default)]
    pub variants: crate::variants::VariantOptions,
    /// The window of `a&b` combinations.
    #[serde(default)]
    pub combinations: ComboOptions,
}

/// A loaded (not yet compiled) lexicon. Build a [`crate::Matcher`] from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexicon {
    /// `lexicon.toml`.
    pub manifest: Manifest,
    /// All entries, in file then line order.
    pub entries: Vec<Entry>,
    /// Allow-list phrases.
    pub allow: Vec<AllowPhrase>,
}

/// Maximum parts in an `a&b` combination.
pub const MAX_COMBO_PARTS: usize = 8;

/// Why a lexicon could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file could not be read.
    // The cause is in the message and deliberately not a `source()`: callers that print the
    // chain (`{:#}` in the CLI) would show it twice.
    #[error("cannot read `{path}`: {cause}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// `lexicon.toml` is invalid.
    #[error("`{file}`: {message}")]
    Manifest {
        /// The file, with `:LINE` when the error has a place.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A TSV line is invalid.
    #[error("`{file}:{line}`: {message}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl LoadError {
    fn line(source: &Source, message: impl Into<String>) -> Self {
        LoadError::Line {
            file: source.file.clone(),
            line: source.line,
            message: message.into(),
        }
    }
}

const SAMPLE_MANIFEST: &str = include_str!("../../../data/lexicon/lexicon.toml");
const SAMPLE_FILES: &[(&str, &str)] = &[(
    "sample.tsv",
    include_str!("../../../data/lexicon/sample.tsv"),
)];
const SAMPLE_ALLOW: &str = include_str!("../../../data/lexicon/allow.tsv");

impl Lexicon {
    /// The bundled SAMPLE lexicon (`data/lexicon/`): a few hundred non-political entries across
    /// the risks, for trying hegui out. A provider brings its own.
    pub fn sample() -> Lexicon {
        match Lexicon::from_sources(SAMPLE_MANIFEST, SAMPLE_FILES, Some(SAMPLE_ALLOW)) {
            Ok(lexicon) => lexicon,
            // The sample is checked by a unit test; an invalid sample is a build defect.
            Err(err) => panic!("the bundled sample lexicon is invalid: {err}"),
        }
    }

    /// Loads a lexicon directory.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Lexicon, LoadError> {
        let dir = dir.as_ref();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|cause| LoadError::Io {
                path: path.to_path_buf(),
                cause,
            })
        };
        let manifest = read(&dir.join("lexicon.toml"))?;
        let listing = std::fs::read_dir(dir).map_err(|cause| LoadError::Io {
            path: dir.to_path_buf(),
            cause,
        })?;
        let mut names = Vec::new();
        for item in listing {
            let item = item.map_err(|cause| LoadError::Io {
                path: dir.to_path_buf(),
                cause,
            })?;
            let name = item.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tsv") && name != "allow.tsv" {
                names.push(name);
            }
        }
        names.sort();
        let mut files = Vec::new();
        for name in names {
            let text = read(&dir.join(&name))?;
            files.push((name, text));
        }
        let allow_path = dir.join("allow.tsv");
        let allow = if allow_path.exists() {
            Some(read(&allow_path)?)
        } else {
            None
        };
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        Lexicon::from_sources(&manifest, &borrowed, allow.as_deref())
    }

    /// Loads a lexicon from in-memory texts: `lexicon.toml`, `(file name, TSV text)` pairs and an
    /// optional `allow.tsv` text.
    pub fn from_sources(
        manifest: &str,
        files: &[(&str, &str)],
        allow: Option<&str>,
    ) -> Result<Lexicon, LoadError> {
        let manifest: Manifest = toml::from_str(manifest).map_err(|err| {
            // The line, as TSV errors give theirs: `lexicon.toml:LINE`.
            let file = match err.span() {
                Some(span) => format!(
                    "lexicon.toml:{}",
                    manifest.as_bytes()[..span.start.min(manifest.len())]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count()
                        + 1
                ),
                None => "lexicon.toml".into(),
            };
            LoadError::Manifest {
                file,
                message: err.message().to_string(),
            }
        })?;
        let mut entries = Vec::new();
        for (file, text) in files {
            parse_entries(file, text, &mut entries)?;
        }
        let mut phrases = Vec::new();
        if let Some(text) = allow {
            parse_allow("allow.tsv", text, &mut phrases)?;
        }
        Ok(Lexicon {
            manifest,
            entries,
            allow: phrases,
        })
    }
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
}

fn parse_entries(file: &str, text: &str, out: &mut Vec<Entry>) -> Result<(), LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header_seen = false;
    for (line, raw) in lines(text) {
        let source = Source {
            file: file.to_string(),
            line,
        };
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        if !header_seen {
            let want = ["pattern", "risk", "level"];
            if cols.len() < 3 || cols[..3] != want || (cols.len() == 4 && cols[3] != "note") {
                return Err(LoadError::line(
                    &source,
                    format!(
                        "expected the header `pattern<TAB>risk<TAB>level<TAB>note`, found `{raw}`"
                    ),
                ));
            }
            header_seen = true;
            continue;
        }
        if cols.len() < 3 || cols.len() > 4 {
            return Err(LoadError::line(
                &source,
                format!(
                    "expected 3 or 4 tab-separated columns (pattern, risk, level, note), found {}",
                    cols.len()
                ),
            ));
        }
        let pattern = cols[0].trim();
        if pattern.is_empty() {
            return Err(LoadError::line(&source, "empty pattern"));
        }
        let parts: Vec<&str> = pattern.split('&').collect();
        if parts.len() > MAX_COMBO_PARTS {
            return Err(LoadError::line(
                &source,
                format!(
                    "`{pattern}` has {} parts; at most {MAX_COMBO_PARTS} are allowed",
                    parts.len()
                ),
            ));
        }
        if parts.iter().any(|p| p.trim().is_empty()) {
            return Err(LoadError::line(
                &source,
                format!("`{pattern}` has an empty part around `&`"),
            ));
        }
        let risk = cols[1].trim();
        if !taxonomy::is_valid_risk_code(risk) {
            return Err(LoadError::line(
                &source,
                format!(
                    "unknown risk `{risk}`: use an Appendix A code `A.1.a` … `A.5.b` or a custom code not starting with `A.`"
                ),
            ));
        }
        let level_text = cols[2].trim();
        let Some(level) = Level::parse(level_text) else {
            return Err(LoadError::line(
                &source,
                format!("unknown level `{level_text}`: expected `block`, `review` or `flag`"),
            ));
        };
        out.push(Entry {
            pattern: pattern.to_string(),
            risk: risk.to_string(),
            level,
            note: cols
                .get(3)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            source,
        });
    }
    Ok(())
}

fn parse_allow(file: &str, text: &str, out: &mut Vec<AllowPhrase>) -> Result<(), LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut header_seen = false;
    for (line, raw) in lines(text) {
        let source = Source {
            file: file.to_string(),
            line,
        };
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        if !header_seen {
            if cols[0] != "pattern" || cols.len() > 2 {
                return Err(LoadError::line(
                    &source,
                    format!("expected the header `pattern<TAB>note`, found `{raw}`"),
                ));
            }
            header_seen = true;
            continue;
        }
        if cols.len() > 2 {
            return Err(LoadError::line(
                &source,
                format!(
                    "expected 1 or 2 tab-separated columns (pattern, note), found {}",
                    cols.len()
                ),
            ));
        }
        let phrase = cols[0].trim();
        if phrase.is_empty() {
            return Err(LoadError::line(&source, "empty pattern"));
        }
        out.push(AllowPhrase {
            phrase: phrase.to_string(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "name = \"t\"\nversion = \"1\"\n";

    fn err(tsv: &str) -> String {
        Lexicon::from_sources(MANIFEST, &[("x.tsv", tsv)], None)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn sample_loads() {
        let lex = Lexicon::sample();
        assert!(lex.entries.len() >= 200, "{}", lex.entries.len());
        assert!(!lex.allow.is_empty());
    }

    #[test]
    fn errors_name_file_and_line() {
        insta::assert_snapshot!(err("pattern\trisk\tlevel\tnote\n赌博\tA.9.z\tblock\n"), @"`x.tsv:2`: unknown risk `A.9.z`: use an Appendix A code `A.1.a` … `A.5.b` or a custom code not starting with `A.`");
        insta::assert_snapshot!(err("pattern\trisk\tlevel\tnote\n\n赌博\tA.1.h\tstop\n"), @"`x.tsv:3`: unknown level `stop`: expected `block`, `review` or `flag`");
        insta::assert_snapshot!(err("pattern\trisk\n"), @"`x.tsv:1`: expected the header `pattern<TAB>risk<TAB>level<TAB>note`, found `pattern\trisk`");
        insta::assert_snapshot!(err("pattern\trisk\tlevel\n赌博\n"), @"`x.tsv:2`: expected 3 or 4 tab-separated columns (pattern, risk, level, note), found 1");
        insta::assert_snapshot!(err("pattern\trisk\tlevel\na&&b\tA.1.h\tflag\n"), @"`x.tsv:2`: `a&&b` has an empty part around `&`");
    }

    #[test]
    fn manifest_errors_name_the_file_and_line() {
        // (manifest, start of the message, a word it must contain)
        for (manifest, start, word) in [
            ("name = 1\n", "`lexicon.toml:1`: ", "string"),
            ("name = \"a\"\nversion = \n", "`lexicon.toml:2`: ", "quoted"),
            (
                "name=\"a\"\nversion=\"1\"\n[normalize]\nbogus = true\n",
                "`lexicon.toml:4`: ",
                "bogus",
            ),
        ] {
            let e = Lexicon::from_sources(manifest, &[], None)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(start) && e.contains(word),
                "{manifest:?}: {e}"
            );
        }
    }
}
