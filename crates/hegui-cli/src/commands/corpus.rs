//! `hegui corpus audit DATA… [--sources sources.toml]`: the training-data checks of the security
//! self-assessment (source registry, seeded sample of the TC260 size, lexicon and PII scan,
//! per-source illegal share against the 5 % figure, corpus sample against ≥ 96 %).
//!
//! Also home of what the assessment commands share: the report output options
//! (`--format table|md|json|html`, `-o FILE`) and the byte progress bar.
//!
//! Exit codes: 0 every figure met; 1 a finding (a figure not met, a source above 5 %, a registry
//! item missing); 2 usage or input errors, naming the file and line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_assess::corpus::{self, Registry};
use hegui_assess::doc::{Format, Report};

use super::scan::{load_matcher, write_output};

/// Report output options shared by the assessment commands.
#[derive(Debug, clap::Args)]
pub(crate) struct Output {
    /// Report format.
    #[arg(long, default_value = "table", value_parser = ["table", "md", "json", "html"])]
    pub(crate) format: String,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

impl Output {
    /// Renders `report` and writes it where asked.
    pub(crate) fn emit(&self, report: &impl Report) -> anyhow::Result<()> {
        let format: Format = self.format.parse()?;
        write_output(self.output.as_deref(), &report.render(format))
    }
}

/// A progress bar over `total` bytes on stderr (hidden when stderr is not a terminal).
pub(crate) fn byte_progress(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr_with_hz(4),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bytes}/{total_bytes} {bytes_per_sec} ETA {eta} {wide_bar}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Total size of files, for the progress bar.
pub(crate) fn total_size(paths: &[PathBuf]) -> u64 {
    paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// `hegui corpus` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Audit a training corpus: registry, seeded sample, scan, per-source shares.
    Audit(AuditArgs),
}

/// Arguments of `hegui corpus audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// Data files: JSONL (`.jsonl`), CSV (`.csv`), TSV (`.tsv`), Parquet (`.parquet`) or text
    /// (one record a line).
    #[arg(required = true, value_name = "DATA")]
    data: Vec<PathBuf>,
    /// The source registry (`sources.toml`).
    #[arg(long, value_name = "FILE")]
    sources: Option<PathBuf>,
    /// The field (column) with the text; `text` for text files.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    text_field: String,
    /// The field naming each record's source; without it a file's source is the registry source
    /// listing the file.
    #[arg(long, value_name = "FIELD")]
    source_field: Option<String>,
    /// Items sampled per source (TC260: ≥ 4,000 checked).
    #[arg(long, default_value_t = 4000)]
    sample: usize,
    /// Size of the corpus-wide stratified sample.
    #[arg(long, default_value_t = 4000)]
    sample_total: usize,
    /// Seed of the random sample (the same seed gives the same sample).
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    /// Scan every record, not only the sample.
    #[arg(long)]
    scan_all: bool,
    /// Threads parsing each JSONL or text file, and CSV/Parquet files read at once (default:
    /// the number of CPUs).
    #[arg(long)]
    threads: Option<usize>,
    /// Offending items listed at most.
    #[arg(long, default_value_t = 50)]
    max_listed: usize,
    /// Lexicon directory or compiled file; default: the bundled sample lexicon.
    #[arg(long, value_name = "DIR|FILE", env = "HEGUI_LEXICON")]
    lexicon: Option<PathBuf>,
    #[command(flatten)]
    output: Output,
}

/// Runs `hegui corpus`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Audit(args) => audit(&args),
    }
}

fn read_registry(path: &Path) -> anyhow::Result<Registry> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read `{name}`"))?;
    Ok(Registry::parse(&name, &text)?)
}

fn audit(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let matcher = load_matcher(args.lexicon.as_deref())?;
    let registry = match &args.sources {
        Some(path) => Some((path.as_path(), read_registry(path)?)),
        None => None,
    };
    let options = corpus::Options {
        text_field: args.text_field.clone(),
        source_field: args.source_field.clone(),
        sample_per_source: args.sample,
        sample_total: args.sample_total,
        seed: args.seed,
        scan_all: args.scan_all,
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
        }),
        max_listed: args.max_listed,
    };
    let bar = byte_progress(total_size(&args.data));
    let report = corpus::audit(
        &args.data,
        registry.as_ref().map(|(p, r)| (*p, r)),
        &matcher,
        &options,
        &|n| bar.inc(n),
    )?;
    bar.finish_and_clear();
    args.output.emit(&report)?;
    Ok(if report.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
