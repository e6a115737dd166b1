//! `hegui hgr`: human genetic resources tools beside the `cn-hgr` rule pack.
//!
//! - `hegui hgr classify NAME… [--file FILE]`: HGR material, HGR information or out of scope,
//!   with the reason and citation; names not in the guideline lists are "needs review".
//! - `hegui hgr change APPROVAL.toml`: each change major, non-major or needing no declaration.
//!
//! Both print a report (`--format table|md|json|html`, `-o FILE`). Exit codes: 0 done; 1 from
//! `change` when a change in the history was declared as less than the rule requires; 2 for
//! input errors, naming the file and line.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_hgr::report::{Format, render_change, render_classification};
use hegui_hgr::scope::Scope;

/// `hegui hgr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Classify materials or data types: HGR material, HGR information, or out of scope.
    Classify(ClassifyArgs),
    /// Classify the changes of an approval or trial filing (APPROVAL.toml): major or not.
    Change(ChangeArgs),
}

/// Output options shared by both subcommands.
#[derive(Debug, clap::Args)]
pub(crate) struct Output {
    /// Report format.
    #[arg(long, default_value = "table", value_parser = ["table", "md", "json", "html"])]
    format: String,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Arguments of `hegui hgr classify`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClassifyArgs {
    /// Names of materials or data types, e.g. "whole blood" ctDNA 临床数据.
    names: Vec<String>,
    /// Read names from FILE, one per line (`#` comments and blank lines skipped; `-` = stdin).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    output: Output,
}

/// Arguments of `hegui hgr change`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChangeArgs {
    /// The APPROVAL.toml: approved quantities per HGR type and the changes, in order.
    approval: PathBuf,
    #[command(flatten)]
    output: Output,
}

/// Runs `hegui hgr`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Classify(args) => classify(args),
        Command::Change(args) => change(&args),
    }
}

fn emit(output: &Output, text: &str) -> anyhow::Result<()> {
    match &output.output {
        Some(path) => super::write_atomically(path, text)?,
        None => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}

fn format(output: &Output) -> anyhow::Result<Format> {
    Ok(output.format.parse::<Format>()?)
}

fn classify(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let mut names = args.names;
    if let Some(path) = &args.file {
        let text = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read names from stdin")?;
            text
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read `{}`", path.display()))?
        };
        names.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_string),
        );
    }
    if names.is_empty() {
        anyhow::bail!("no names to classify: give them as arguments or with `--file FILE`");
    }
    let scope = Scope::bundled()?;
    let items = scope.classify_all(names.iter().map(String::as_str));
    let text = render_classification(&items, format(&args.output)?)?;
    emit(&args.output, &text)?;
    Ok(ExitCode::SUCCESS)
}

fn change(args: &ChangeArgs) -> anyhow::Result<ExitCode> {
    let name = args.approval.display().to_string();
    let text =
        std::fs::read_to_string(&args.approval).with_context(|| format!("cannot read `{name}`"))?;
    let report = hegui_hgr::change::classify_file(&name, &text)?;
    let rendered = render_change(&report, format(&args.output)?)?;
    emit(&args.output, &rendered)?;
    for finding in &report.findings {
        eprintln!("warning: change `{}`: {}", finding.change, finding.en);
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
