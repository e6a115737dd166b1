//! `hegui annotate qa ANNOTATIONS.jsonl [--reviews REVIEWS.jsonl]`: annotation accuracy per batch
//! and per annotator against the reviewers' sample, safety-annotation coverage per risk, and a
//! seeded sample plan for the reviewers (`hegui_assess::annotate`).
//!
//! Exit codes: 0 every check met; 1 a finding (a batch below `--min-accuracy`, safety coverage
//! short); 2 usage or input errors, naming the file and line.

use std::path::PathBuf;
use std::process::ExitCode;

use hegui_assess::annotate::{self, Options};

use super::corpus::Output;

/// `hegui annotate` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Accuracy per batch and annotator, safety coverage per risk, a review plan.
    Qa(QaArgs),
}

/// Arguments of `hegui annotate qa`.
#[derive(Debug, clap::Args)]
pub(crate) struct QaArgs {
    /// Annotations (JSONL: `item`, `annotator`, `batch`, `label`, `kind` functional|safety, `risk`).
    annotations: PathBuf,
    /// The reviewers' labels for a sample of items (JSONL: `item`, `label`).
    #[arg(long, value_name = "FILE")]
    reviews: Option<PathBuf>,
    /// Accuracy each batch must reach (hegui's default; no cited figure).
    #[arg(long, default_value_t = 0.95, value_name = "SHARE")]
    min_accuracy: f64,
    /// Items per batch in the review plan.
    #[arg(long, default_value_t = 20)]
    plan_per_batch: usize,
    /// Seed of the review plan.
    #[arg(long, default_value_t = 2024)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// Runs `hegui annotate`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    let Command::Qa(args) = command;
    if !(0.0..=1.0).contains(&args.min_accuracy) {
        anyhow::bail!(
            "`--min-accuracy {}` is not a share between 0 and 1",
            args.min_accuracy
        );
    }
    let options = Options {
        min_accuracy: args.min_accuracy,
        plan_per_batch: args.plan_per_batch,
        seed: args.seed,
    };
    let report = annotate::qa(&args.annotations, args.reviews.as_deref(), &options)?;
    args.output.emit(&report)?;
    Ok(if report.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
