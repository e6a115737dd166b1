//! `hegui lexicon check DIR`: coverage of a feature library against the TC260 minimums
//! (≥ 10,000 keywords; ≥ 200 per A.1 risk, ≥ 100 per A.2 risk), duplicates, patterns that
//! normalize to the same string or to nothing, combinations (`a&b`) whose parts do not fit in
//! the combination window. Exit code 1 when a minimum is not met.
//!
//! `hegui lexicon build DIR -o FILE`: the compiled form, which `hegui scan --lexicon FILE` and
//! the gateway load without rebuilding the automaton.
//!
//! `hegui lexicon eval DATA… --label-field F`: precision, recall and F1 of a lexicon against
//! labelled records (per group, risk code and pattern, with intervals) and the patterns with the
//! most false positives (`hegui_assess::lexicon_eval`). Exit code 0: the report was written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use hegui_lexicon::{CheckReport, Finding, Lexicon, Matcher};

use super::scan::write_output;

/// `hegui lexicon` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Coverage against the TC260 minimums, duplicates, dead patterns.
    Check {
        /// Lexicon directory (with `lexicon.toml`).
        dir: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
        /// Write the report to FILE instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Compile a lexicon directory into one file that loads fast.
    Build {
        /// Lexicon directory (with `lexicon.toml`).
        dir: PathBuf,
        /// The compiled file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// Precision, recall and F1 against labelled data; the patterns with most false positives.
    Eval(EvalArgs),
}

/// Arguments of `hegui lexicon eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct EvalArgs {
    /// Labelled records: JSONL, CSV or TSV.
    #[arg(required = true, value_name = "DATA")]
    data: Vec<PathBuf>,
    /// The field with the label.
    #[arg(long, value_name = "FIELD")]
    label_field: String,
    /// Label values that mean "should be blocked" (repeatable).
    #[arg(long, default_value = "1", value_name = "VALUE")]
    positive: Vec<String>,
    /// The field with the text.
    #[arg(long, default_value = "text", value_name = "FIELD")]
    text_field: String,
    /// A field to break the scores down by (e.g. `topic`).
    #[arg(long, value_name = "FIELD")]
    group_field: Option<String>,
    /// The weakest hit level counted as "blocked".
    #[arg(long, default_value = "block", value_parser = ["block", "review", "flag"])]
    level: String,
    /// How many false-positive patterns to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Lexicon directory or compiled file; default: the bundled sample lexicon.
    #[arg(long, value_name = "DIR|FILE", env = "HEGUI_LEXICON")]
    lexicon: Option<PathBuf>,
    #[command(flatten)]
    output: super::corpus::Output,
}

/// Formats of `lexicon check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// Human-readable table.
    Table,
    /// JSON.
    Json,
}

/// Runs `hegui lexicon`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check {
            dir,
            format,
            output,
        } => {
            let lexicon = Lexicon::from_dir(&dir)
                .with_context(|| format!("cannot load the lexicon `{}`", dir.display()))?;
            let report = lexicon.check();
            let text = match format {
                CheckFormat::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
                CheckFormat::Table => table(&report),
            };
            write_output(output.as_deref(), &text)?;
            Ok(if report.meets_minimums() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Build { dir, output } => {
            let started = Instant::now();
            let lexicon = Lexicon::from_dir(&dir)
                .with_context(|| format!("cannot load the lexicon `{}`", dir.display()))?;
            let matcher = Matcher::build(&lexicon)?;
            let bytes = matcher.to_bytes();
            super::write_atomically(&output, &bytes)?;
            let stats = matcher.stats();
            println!(
                "{}: {} rules, {} patterns, {} states, {} bytes",
                output.display(),
                stats.rules,
                stats.patterns,
                stats.states,
                bytes.len()
            );
            eprintln!("built in {:.2} s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(args) => eval(args),
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    use hegui_assess::lexicon_eval::{LexiconPredictor, Options, evaluate};
    let matcher = super::scan::load_matcher(args.lexicon.as_deref())?;
    let level = match args.level.as_str() {
        "flag" => hegui_lexicon::Level::Flag,
        "review" => hegui_lexicon::Level::Review,
        _ => hegui_lexicon::Level::Block,
    };
    let predictor = LexiconPredictor {
        matcher: &matcher,
        level,
    };
    let options = Options {
        text_field: args.text_field,
        label_field: args.label_field,
        positive: args.positive,
        group_field: args.group_field,
        top: args.top,
        examples: 3,
    };
    let report = evaluate(&args.data, &predictor, &options)?;
    args.output.emit(&report)?;
    Ok(ExitCode::SUCCESS)
}

fn table(r: &CheckReport) -> String {
    let mut out = format!(
        "lexicon {} {}: {} entries ({} in A.1/A.2; TC260 minimum {}), {} allow phrases\n",
        r.name, r.version, r.total, r.keyword_total, r.minimum_total, r.allow
    );
    if r.combinations > 0 {
        out.push_str(&format!(
            "combinations (`a&b`): {}, each matching within one sentence and {} normalized characters\n",
            r.combinations, r.combination_window
        ));
    }
    out.push('\n');
    out.push_str(&format!(
        "  {:<8} {:>7} {:>7}  {:<4} name\n",
        "risk", "entries", "minimum", "ok"
    ));
    for row in &r.risks {
        out.push_str(&format!(
            "  {:<8} {:>7} {:>7}  {:<4} {}\n",
            row.risk,
            row.count,
            row.minimum.map_or("-".to_string(), |m| m.to_string()),
            if row.meets_minimum() { "yes" } else { "NO" },
            row.name_zh.unwrap_or("(custom)")
        ));
    }
    let short: Vec<&str> = r
        .risks
        .iter()
        .filter(|row| !row.meets_minimum())
        .map(|row| row.risk.as_str())
        .collect();
    out.push('\n');
    if r.meets_minimums() {
        out.push_str("meets the TC260 keyword-library minimums\n");
    } else {
        out.push_str(&format!(
            "does NOT meet the TC260 minimums: total {} of {}; short risks: {}\n",
            r.total,
            r.minimum_total,
            if short.is_empty() {
                "none".to_string()
            } else {
                short.join(", ")
            }
        ));
    }
    if !r.findings.is_empty() {
        out.push_str(&format!("\n{} findings:\n", r.findings.len()));
        for f in &r.findings {
            match f {
                Finding::Duplicate { pattern, at } => {
                    out.push_str(&format!("  duplicate `{pattern}` at {}\n", at.join(", ")));
                }
                Finding::SameNormalized {
                    normalized,
                    patterns,
                } => out.push_str(&format!(
                    "  same normalized form `{normalized}`: {}\n",
                    patterns.join(", ")
                )),
                Finding::Empty { pattern, at } => {
                    out.push_str(&format!("  `{pattern}` at {at} normalizes to nothing\n"));
                }
                Finding::SingleCharacter {
                    pattern,
                    at,
                    normalized,
                } => out.push_str(&format!(
                    "  `{pattern}` at {at} normalizes to the single character `{normalized}`: it matches inside ordinary text\n"
                )),
                Finding::WiderThanWindow {
                    pattern,
                    at,
                    chars,
                    window,
                } => out.push_str(&format!(
                    "  `{pattern}` at {at}: its parts take {chars} normalized characters, more than the combination window of {window}; it matches only where they overlap\n"
                )),
                _ => out.push_str(&format!("  {f:?}\n")),
            }
        }
    }
    out
}
