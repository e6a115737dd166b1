//! `hegui eval BANK… --endpoint URL --model M`: runs test banks against an OpenAI-compatible
//! endpoint (a model, or `hegui serve` in front of it), keeps every transcript in a resumable
//! results file, and reports pass and refusal rates against the TC260 figures
//! (`hegui_assess::eval`). Without `--endpoint` it only reports on the results file.
//!
//! A bank below the TC260 minimums is refused (exit 2) unless `--allow-below-minimums` makes
//! the run a trial. Exit codes: 0 every figure met; 1 a finding (a rate or a minimum not met,
//! questions still unanswered); 2 usage or input errors (a bad bank line, an unreachable
//! endpoint).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use hegui_assess::eval::runner::{self, JudgeModel, RunOptions};
use hegui_assess::eval::{Bank, report};

use super::corpus::Output;
use super::scan::load_matcher;

/// Arguments of `hegui eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Bank files (JSONL: `id`, `risk`, `kind` generate|should_refuse|should_answer, `prompt`).
    #[arg(required = true, value_name = "BANK")]
    banks: Vec<PathBuf>,
    /// Base URL of the OpenAI-compatible endpoint (`http://127.0.0.1:8080/v1`); without it,
    /// only report on `--results`.
    #[arg(long, value_name = "URL", requires = "model")]
    endpoint: Option<String>,
    /// Model name sent with every request.
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// API key for the endpoint.
    #[arg(
        long,
        value_name = "KEY",
        env = "HEGUI_EVAL_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
    /// The results file: every transcript, one JSON line each; an interrupted run resumes
    /// from it.
    #[arg(long, default_value = "eval-results.jsonl", value_name = "FILE")]
    results: PathBuf,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Requests per second at most.
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Retries of a failed request (429, 5xx, timeout).
    #[arg(long, default_value_t = 3)]
    retries: u32,
    /// Timeout of one request, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Ask at most N new questions in this run.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// A judge model's endpoint, asked about every generated answer.
    #[arg(long, value_name = "URL", requires = "judge_model")]
    judge_endpoint: Option<String>,
    /// The judge model.
    #[arg(long, value_name = "MODEL")]
    judge_model: Option<String>,
    /// API key of the judge endpoint.
    #[arg(
        long,
        value_name = "KEY",
        env = "HEGUI_JUDGE_API_KEY",
        hide_env_values = true
    )]
    judge_api_key: Option<String>,
    /// Run a bank below the TC260 minimums, as a trial.
    #[arg(long)]
    allow_below_minimums: bool,
    /// Lexicon used to scan answers; default: the bundled sample lexicon.
    #[arg(long, value_name = "DIR|FILE", env = "HEGUI_LEXICON")]
    lexicon: Option<PathBuf>,
    #[command(flatten)]
    output: Output,
}

/// Runs `hegui eval`.
#[expect(
    clippy::needless_pass_by_value,
    reason = "every subcommand takes its arguments by value"
)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bank = Bank::load(&args.banks)?;
    let coverage = bank.coverage();
    if !coverage.meets_minimums() && !args.allow_below_minimums {
        let names: Vec<String> = args
            .banks
            .iter()
            .map(|b| format!("`{}`", b.display()))
            .collect();
        anyhow::bail!(
            "{}: the bank is below the TC260 minimums: {}; `--allow-below-minimums` runs it as a trial",
            names.join(", "),
            coverage.shortfalls()
        );
    }
    let matcher = load_matcher(args.lexicon.as_deref())?;
    let target = match (&args.endpoint, &args.model) {
        (Some(endpoint), Some(model)) => {
            let options = RunOptions {
                endpoint: endpoint.clone(),
                model: model.clone(),
                api_key: args.api_key.clone(),
                judge: match (&args.judge_endpoint, &args.judge_model) {
                    (Some(e), Some(m)) => Some(JudgeModel {
                        endpoint: e.clone(),
                        model: m.clone(),
                        api_key: args.judge_api_key.clone(),
                    }),
                    _ => None,
                },
                concurrency: args.concurrency,
                rate: args.rate,
                retries: args.retries,
                timeout: Duration::from_secs(args.timeout),
                limit: args.limit,
            };
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(bank.questions.len() as u64),
                indicatif::ProgressDrawTarget::stderr_with_hz(4),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{pos}/{len} questions {per_sec} ETA {eta} {wide_bar}",
            ) {
                bar.set_style(style);
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let done = runner::read_results(&args.results)?.len() as u64;
            bar.set_position(done);
            let summary = runtime.block_on(runner::run(
                &bank,
                &args.results,
                &matcher,
                &options,
                &|| bar.inc(1),
            ))?;
            bar.finish_and_clear();
            eprintln!(
                "eval: {} resumed from `{}`, {} answered now, {} failed, {} still to ask",
                summary.resumed,
                args.results.display(),
                summary.answered,
                summary.failed.len(),
                summary.missing
            );
            for (id, error) in summary.failed.iter().take(10) {
                eprintln!("warning: question `{id}`: {error} (asked again by the next run)");
            }
            Some(format!("`{endpoint}` model `{model}`"))
        }
        _ => None,
    };
    let transcripts = runner::read_results(&args.results)?;
    let report = report::build(&bank, &args.results, &transcripts, target)?;
    args.output.emit(&report)?;
    Ok(if report.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
