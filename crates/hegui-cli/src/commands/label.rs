//! `hegui label add | read | verify`: GB 45438-2025 AIGC labels on files and directories.
//!
//! All format work is in `hegui-label`; this module holds the arguments and what the
//! subcommands share (walking paths, loading keys, progress); `add` labels files and writes them
//! through a temporary file and a rename (the original is never half-written), `report` reads
//! and verifies.
//! A directory argument is walked recursively and only files with a known extension are taken;
//! a file named explicitly must be in a supported format. Progress goes to stderr when it is a
//! terminal; results go to stdout (with `--format json`, only the JSON document).
//!
//! The flags follow one vocabulary with `hegui keys`: `-o/--output`, `--key` (secret key),
//! `--public-key` (repeatable), `--format table|json`; the old spellings (`--out`, `--pubkey`,
//! `--pub`, `--json`) are hidden aliases. Exit codes: 0 ok, 1 a finding (`verify`: a file not
//! intact; `read` has none), 2 a usage or input error (a missing or unreadable file, named; a
//! `--produce-id` that the ledger's takedowns name, when `add` is given the ledger).

mod add;
mod report;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_label::Format;

/// `hegui label` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write the implicit label (and with `--explicit` a visible one) into files.
    Add(Box<AddArgs>),
    /// Show the labels found in files: the Annex E format verdict and whether a signature is
    /// there (not checked: that is `verify`).
    Read {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        format: FormatArgs,
    },
    /// Check labels against trusted public keys; exit 1 when any file is not intact, 2 when one
    /// cannot be read.
    Verify {
        /// Files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A trusted public key file (`hegui keys generate` writes `STEM.pub`); repeatable.
        #[arg(
            long = "public-key",
            value_name = "FILE",
            required = true,
            alias = "pubkey",
            alias = "pub"
        )]
        public_keys: Vec<PathBuf>,
        #[command(flatten)]
        format: FormatArgs,
    },
}

/// `--format table|json` of `read` and `verify`, and the older `--json`.
#[derive(Debug, clap::Args)]
pub(crate) struct FormatArgs {
    /// Output format: a table, or JSON (stdout then holds only the JSON document).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// The old spelling of `--format json`.
    #[arg(long, hide = true, conflicts_with = "format")]
    json: bool,
}

impl FormatArgs {
    fn is_json(&self) -> bool {
        self.json || self.format == ReportFormat::Json
    }
}

/// Report formats of `read` and `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// Tab-separated rows, one per file.
    Table,
    /// One JSON array, one object per file.
    Json,
}

/// Arguments of `hegui label add`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["output", "in_place"])))]
pub(crate) struct AddArgs {
    /// Files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The provider's name or code (`ContentProducer`), e.g. `001191440300708461136T1XGW3`; a
    /// value that looks like a code but breaks the observed layout draws a warning.
    #[arg(long, value_name = "NAME|CODE")]
    producer: String,
    /// The content number (`ProduceID`); default: `sm3-` and 16 hex digits of the content digest.
    #[arg(long)]
    produce_id: Option<String>,
    /// The generation attribute: 1 (AI-generated), 2 (possibly), 3 (suspected).
    #[arg(long, default_value = "1", value_parser = ["1", "2", "3"])]
    label: String,
    /// Sign the integrity code in `ReservedCode1` with this secret key (`STEM.key`).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Also add the explicit label: image caption, WAV rhythm cue, text notice.
    #[arg(long)]
    explicit: bool,
    /// Text of the notice or caption (must contain 人工智能/AI and 生成/合成).
    #[arg(long)]
    notice: Option<String>,
    /// Where a text notice or audio cue goes: start, end, both.
    #[arg(long, default_value = "start")]
    position: String,
    /// Image caption corner: top-left, top-right, bottom-left, bottom-right.
    #[arg(long, default_value = "bottom-right")]
    corner: String,
    /// Output file (one input) or directory (several inputs or a directory).
    #[arg(short = 'o', long = "output", value_name = "FILE|DIR", alias = "out")]
    output: Option<PathBuf>,
    /// Replace the input files.
    #[arg(long)]
    in_place: bool,
    /// The audit ledger whose takedowns a `--produce-id` is checked against: content taken
    /// down is not labeled again.
    #[command(flatten, next_help_heading = "Takedowns (with --produce-id)")]
    database: super::audit::Database,
}

/// Runs `hegui label`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Add(args) => add::add(&args),
        Command::Read { paths, format } => report::read(&paths, format.is_json()),
        Command::Verify {
            paths,
            public_keys,
            format,
        } => report::verify(&paths, &public_keys, format.is_json()),
    }
}

/// Input files: (path, path relative to its argument for mirroring under `-o DIR`).
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    for root in paths {
        let meta =
            std::fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
        if meta.is_dir() {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let mut entries: Vec<_> = std::fs::read_dir(&dir)
                    .with_context(|| format!("cannot list `{}`", dir.display()))?
                    .collect::<Result<_, _>>()?;
                entries.sort_by_key(std::fs::DirEntry::path);
                for entry in entries {
                    let path = entry.path();
                    if entry.file_type()?.is_dir() {
                        stack.push(path);
                    } else if extension_format(&path).is_some() || is_text(&path) {
                        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                        out.push((path, relative));
                    }
                }
            }
        } else {
            let name = root
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| root.clone());
            out.push((root.clone(), name));
        }
    }
    Ok(out)
}

/// Loads a key file (`what`: "signing key", "public key"). A `KeyError` already shows its cause
/// in its message, so it is flattened into this one rather than chained (which would print the
/// cause twice).
fn load_key<T>(
    what: &str,
    path: &Path,
    load: impl FnOnce(&Path) -> Result<T, hegui_keys::KeyError>,
) -> anyhow::Result<T> {
    load(path).map_err(|err| anyhow::anyhow!("cannot load the {what} `{}`: {err}", path.display()))
}

fn extension_format(path: &Path) -> Option<Format> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
}

fn is_text(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

fn detect(path: &Path, bytes: &[u8]) -> anyhow::Result<Format> {
    let extension = path.extension().and_then(|e| e.to_str());
    Format::detect(bytes, extension)
        .with_context(|| format!("`{}`: not a supported format (PNG, JPEG, WebP, WAV, MP3, FLAC, Ogg, MP4/MOV/M4A, PDF, DOCX/XLSX/PPTX, Markdown)", path.display()))
}

struct Progress {
    total: usize,
    enabled: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            enabled: total > 1 && std::io::stderr().is_terminal(),
        }
    }
    fn tick(&self, index: usize, path: &Path) {
        if self.enabled {
            eprint!("\r\x1b[K[{}/{}] {}", index + 1, self.total, path.display());
        }
    }
    fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }
}
