//! `hegui rules`: browse the bundled rule packs and check a pack directory.
//!
//! `list` shows the packs embedded in this binary; `show ID` prints a pack (by pack id) or one
//! obligation (by obligation id, searched in every bundled pack); `lint DIR` loads a pack from
//! disk, runs every lint check and scenario, and prints each problem with its file, line and
//! column. Exit codes: 0 clean, 1 lint problems or failing scenarios, 2 a pack that does not load.

use std::path::PathBuf;
use std::process::ExitCode;

use hegui_rules::{Calendar, LoadError, Located, Pack, embedded_ids, lint};

/// `hegui rules` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List the rule packs bundled in this binary.
    List,
    /// Show a bundled pack (by pack id) or one obligation (by obligation id).
    Show {
        /// A pack id (e.g. `cn-genai`) or an obligation id (e.g. `im.art17.security_assessment`).
        id: String,
    },
    /// Check a pack directory: load, lint, and run its scenarios.
    Lint {
        /// The pack directory (the one with `pack.toml`).
        dir: PathBuf,
    },
}

/// Runs `hegui rules`.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::List => list(),
        Command::Show { id } => show(&id),
        Command::Lint { dir } => lint_dir(&dir),
    }
}

/// A located problem as `error: file:line:col: message` plus the source line and a caret.
pub(crate) fn render(located: &Located) -> String {
    format!("error: {located}\n{}", located.snippet())
}

/// Prints a load error to stderr: every located problem with its snippet.
pub(crate) fn report_load_error(err: &LoadError) {
    match err {
        LoadError::Invalid(found) => {
            for located in found.iter() {
                eprintln!("{}", render(located));
            }
        }
        other => eprintln!("error: {other}"),
    }
}

fn list() -> anyhow::Result<ExitCode> {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["id", "version", "name", "obligations", "scenarios"]);
    for id in embedded_ids() {
        match Pack::embedded(id) {
            Ok(pack) => {
                table.add_row([
                    id.to_string(),
                    pack.meta.version.clone(),
                    format!("{} / {}", pack.meta.name_zh, pack.meta.name_en),
                    pack.obligations.len().to_string(),
                    pack.scenarios.len().to_string(),
                ]);
            }
            Err(err) => {
                table.add_row([
                    id.to_string(),
                    String::new(),
                    format!("does not load: {}", first_line(&err.to_string())),
                    String::new(),
                    String::new(),
                ]);
            }
        }
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn show(id: &str) -> anyhow::Result<ExitCode> {
    if embedded_ids().contains(&id) {
        let pack = Pack::embedded(id).map_err(|err| {
            report_load_error(&err);
            anyhow::anyhow!("bundled pack `{id}` does not load")
        })?;
        println!(
            "{} {} — {} / {}",
            pack.id(),
            pack.meta.version,
            pack.meta.name_zh,
            pack.meta.name_en
        );
        println!();
        println!("Instruments:");
        for instrument in &pack.meta.instruments {
            let versions: Vec<String> = instrument
                .versions
                .iter()
                .map(|v| {
                    format!(
                        "{} from {}{}",
                        v.label,
                        v.effective,
                        v.until.map(|u| format!(" until {u}")).unwrap_or_default()
                    )
                })
                .collect();
            println!(
                "  {:<8} {} ({}) [{}]",
                instrument.id.get_ref(),
                instrument.title_zh,
                instrument.title_en,
                versions.join("; ")
            );
        }
        println!();
        println!("Obligations:");
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        table.set_header(["id", "kind", "summary", "cites"]);
        for obligation in &pack.obligations {
            let cites: Vec<String> = obligation
                .def
                .cite
                .iter()
                .map(|c| {
                    format!(
                        "{} art. {} ({})",
                        c.instrument.get_ref(),
                        c.article,
                        c.confidence
                    )
                })
                .collect();
            table.add_row([
                obligation.def.id.get_ref().clone(),
                obligation.def.kind.to_string(),
                format!(
                    "{}\n{}",
                    obligation.def.summary_zh, obligation.def.summary_en
                ),
                cites.join("\n"),
            ]);
        }
        println!("{table}");
        return Ok(ExitCode::SUCCESS);
    }
    for pack_id in embedded_ids() {
        let Ok(pack) = Pack::embedded(pack_id) else {
            continue;
        };
        if let Some(obligation) = pack.obligation(id) {
            let def = &obligation.def;
            println!("{} ({}, pack {})", def.id.get_ref(), def.kind, pack_id);
            println!("  {}", def.summary_zh);
            println!("  {}", def.summary_en);
            println!(
                "  when: {}",
                def.when.as_ref().map_or("true", |w| w.get_ref().trim())
            );
            if let Some(authority) = &def.authority {
                println!("  authority: {}", authority.get_ref());
            }
            for cite in &def.cite {
                println!(
                    "  cites: {} art. {}{} ({}){}",
                    cite.instrument.get_ref(),
                    cite.article,
                    cite.item
                        .as_deref()
                        .filter(|i| !i.is_empty())
                        .map(|i| format!(" {i}"))
                        .unwrap_or_default(),
                    cite.confidence,
                    cite.reference
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default()
                );
            }
            if let Some(deadline) = &def.deadline {
                println!(
                    "  deadline: {} / {} from `{}`",
                    deadline.rule_en.as_deref().unwrap_or("see pack"),
                    deadline.rule_zh.as_deref().unwrap_or("见规则包"),
                    deadline.anchor.get_ref()
                );
            }
            for control in &def.controls {
                println!("  hegui control: {}", control.get_ref());
            }
            for evidence in &def.evidence {
                println!("  evidence: {evidence}");
            }
            if let Some(note) = &def.note_en {
                println!("  note: {note}");
            }
            println!("  defined in: {}", obligation.file.name());
            return Ok(ExitCode::SUCCESS);
        }
    }
    anyhow::bail!(
        "no bundled pack or obligation `{id}`; bundled packs: {}",
        embedded_ids().join(", ")
    )
}

fn lint_dir(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    if !dir.join("pack.toml").is_file() {
        anyhow::bail!(
            "`{}` is not a rule pack directory: it has no `pack.toml`",
            dir.display()
        );
    }
    let pack = match Pack::load_dir(dir) {
        Ok(pack) => pack,
        Err(err) => {
            report_load_error(&err);
            eprintln!("{}: does not load", dir.display());
            return Ok(ExitCode::from(2));
        }
    };
    let calendar = Calendar::cn_mainland()?;
    let problems = lint(&pack, &calendar);
    for located in problems.iter() {
        println!("{}", render(located));
    }
    if problems.is_empty() {
        println!(
            "{}: ok ({} obligations, {} params, {} scenarios passed)",
            dir.display(),
            pack.obligations.len(),
            pack.params.len(),
            pack.scenarios.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        let count = problems.0.len();
        let plural = if count == 1 { "" } else { "s" };
        println!("{}: {count} problem{plural}", dir.display());
        Ok(ExitCode::from(1))
    }
}
