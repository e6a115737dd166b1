//! `hegui assess`: which obligations of a rule pack apply to a service, with reasons, citations,
//! authorities, deadlines, hegui controls and gaps.
//!
//! The profile is validated against the pack's facts schema; every problem is printed with its
//! file, line and column, and the command exits with 2. A report is written to stdout, or with
//! `-o FILE` to a temporary file renamed into place.
//!
//! Exit codes: 0 the report is written and nothing is overdue; 3 the report is written and at
//! least one applicable obligation is overdue (a deadline before `--as-of` not shown done), so a
//! CI pipeline can gate on it; 2 a bad profile, pack or argument.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_rules::chrono::{self, NaiveDate};
use hegui_rules::report;
use hegui_rules::{Pack, Profile, Report, SourceFile, Status, assess};

use super::rules::{render, report_load_error};

/// Output formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    /// A table for terminals.
    Table,
    /// Markdown.
    Md,
    /// JSON (shape `hegui.assessment/1`, documented in `hegui_rules::report`).
    Json,
    /// One self-contained printable HTML page.
    Html,
}

/// Arguments of `hegui assess`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The service profile (TOML; format in packs/FORMAT.md).
    profile: PathBuf,
    /// A bundled rule pack.
    #[arg(long, default_value = "cn-genai", conflicts_with = "pack_dir")]
    pack: String,
    /// Load the rule pack from this directory instead of the bundled ones.
    #[arg(long, value_name = "DIR")]
    pack_dir: Option<PathBuf>,
    /// Evaluation date (YYYY-MM-DD); default: today in China (UTC+8).
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Show not-applicable obligations in full (default: a count with their ids; HTML: closed).
    #[arg(long)]
    show_not_applicable: bool,
}

/// The exit status when the report is written and something is overdue.
const EXIT_OVERDUE: u8 = 3;

/// `--as-of DATE` (YYYY-MM-DD), or today in China (UTC+8).
pub(crate) fn as_of(text: Option<&str>) -> anyhow::Result<NaiveDate> {
    Ok(match text {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .with_context(|| format!("`--as-of {text}` is not a date in the form YYYY-MM-DD"))?,
        None => (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive(),
    })
}

/// Runs `hegui assess`.
#[expect(
    clippy::needless_pass_by_value,
    reason = "every subcommand takes its arguments by value"
)]
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let as_of = as_of(args.as_of.as_deref())?;
    let pack = match &args.pack_dir {
        Some(dir) => Pack::load_dir(dir),
        None => Pack::embedded(&args.pack),
    };
    let pack = match pack {
        Ok(pack) => pack,
        Err(err) => {
            if matches!(err, hegui_rules::LoadError::Invalid(_)) {
                report_load_error(&err);
                anyhow::bail!(
                    "rule pack `{}` does not load",
                    args.pack_dir
                        .as_ref()
                        .map_or(args.pack.clone(), |d| d.display().to_string())
                );
            }
            return Err(err.into());
        }
    };
    let text = std::fs::read_to_string(&args.profile)
        .with_context(|| format!("cannot read profile `{}`", args.profile.display()))?;
    let file = SourceFile::new(args.profile.display().to_string(), text);
    let profile = match Profile::parse(&file, &pack) {
        Ok(profile) => profile,
        Err(found) => {
            for located in found.iter() {
                eprintln!("{}", render(located));
            }
            anyhow::bail!(
                "profile `{}` has {} error{}",
                args.profile.display(),
                found.0.len(),
                if found.0.len() == 1 { "" } else { "s" }
            );
        }
    };
    let calendar = super::calendar::load()?;
    let report = assess(&pack, &profile, as_of, &calendar);
    let options = report::Options {
        show_not_applicable: args.show_not_applicable,
    };
    let rendered = match args.format {
        Format::Table => table(&report, options),
        Format::Md => report::markdown(&report, options),
        Format::Json => report::json(&report),
        Format::Html => report::html(&report, options),
    };
    match &args.output {
        Some(path) => super::write_atomically(path, &rendered)?,
        None => std::io::stdout().write_all(rendered.as_bytes())?,
    }
    if report.summary.overdue > 0 {
        eprintln!(
            "overdue: {} obligation{} past {} deadline{} (exit {EXIT_OVERDUE})",
            report.summary.overdue,
            if report.summary.overdue == 1 { "" } else { "s" },
            if report.summary.overdue == 1 {
                "its"
            } else {
                "their"
            },
            if report.summary.overdue == 1 { "" } else { "s" },
        );
        return Ok(ExitCode::from(EXIT_OVERDUE));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(report: &Report, options: report::Options) -> String {
    let mut out = String::new();
    let name = report
        .profile
        .name
        .as_deref()
        .unwrap_or("(unnamed service)");
    let s = &report.summary;
    out.push_str(&format!(
        "{name} — pack {} {} — as of {}\n{} overdue, {} applicable, {} unknown, {} not in force, {} not applicable{}\n",
        report.pack.id,
        report.pack.version,
        report.as_of,
        s.overdue,
        s.applicable,
        s.unknown,
        s.not_in_force,
        s.not_applicable,
        s.gaps.map(|g| format!(", {g} gaps")).unwrap_or_default()
    ));
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    // Without the terminal-size feature the table cannot measure the terminal: honour
    // `COLUMNS` when the shell exports it, else assume a wide terminal.
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(160);
    table.set_width(width);
    let mut header = vec![
        "status",
        "obligation",
        "why",
        "cites",
        "deadline",
        "controls",
    ];
    if report.tracks_gaps {
        header.push("evidence / gap");
    }
    table.set_header(header);
    // Overdue rows first, then the timeline of deadlines, then the rest by status. Not-applicable
    // obligations are listed by id under the table unless asked for: on a terminal the rows that
    // need action matter; the Markdown, JSON and HTML reports have every detail.
    let overdue = report::overdue(report);
    let timeline = report::timeline(report);
    let mut rows: Vec<(&str, &hegui_rules::assess::ObligationResult)> =
        overdue.iter().map(|o| ("OVERDUE", *o)).collect();
    rows.extend(
        timeline
            .iter()
            .filter(|o| !overdue.iter().any(|late| late.id == o.id))
            .map(|o| (Status::Applicable.label_en(), *o)),
    );
    let mut statuses = vec![Status::Applicable, Status::Unknown, Status::NotInForce];
    if options.show_not_applicable {
        statuses.push(Status::NotApplicable);
    }
    for status in statuses {
        for o in report.obligations.iter().filter(|o| o.status == status) {
            if !rows.iter().any(|(_, listed)| listed.id == o.id) {
                rows.push((status.label_en(), o));
            }
        }
    }
    for (label, o) in rows {
        let mut row = vec![
            label.to_string(),
            format!("{}\n{}", o.id, o.summary_zh),
            report::why(o),
            report::citations(o),
            // The date, then the rule in Chinese (the words a regulator reads).
            o.deadline
                .as_ref()
                .and_then(|d| d.rule_zh.as_deref())
                .map_or_else(
                    || report::deadline(o),
                    |zh| {
                        format!(
                            "{}
{zh}",
                            report::deadline(o)
                        )
                    },
                ),
            report::controls(o),
        ];
        if report.tracks_gaps {
            row.push(report::coverage(o));
        }
        table.add_row(row);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    let not_applicable: Vec<&str> = report
        .obligations
        .iter()
        .filter(|o| o.status == Status::NotApplicable)
        .map(|o| o.id.as_str())
        .collect();
    if !not_applicable.is_empty() && !options.show_not_applicable {
        out.push_str(&format!(
            "not applicable ({}): {}\n",
            not_applicable.len(),
            not_applicable.join(", ")
        ));
    }
    out
}
