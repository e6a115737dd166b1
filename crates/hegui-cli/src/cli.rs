//! Clap structures only: the top-level command and its subcommands. Each subcommand's own
//! arguments live next to its implementation in `commands/<name>.rs`.

use clap::{Parser, Subcommand};

use crate::commands;

/// hegui (合规): compliance infrastructure for generative-AI services in China.
#[derive(Debug, Parser)]
#[command(name = "hegui", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every `hegui` subcommand.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Which obligations apply to a service, with citations, deadlines and gaps.
    Assess(commands::assess::Args),

    /// Browse and check rule packs.
    #[command(subcommand)]
    Rules(commands::rules::Command),

    /// Scan text or a JSONL dataset with the feature library.
    Scan(commands::scan::Args),

    /// Check and compile a feature library (特征库).
    #[command(subcommand)]
    Lexicon(commands::lexicon::Command),

    /// Write, read and verify GB 45438-2025 AIGC labels.
    #[command(subcommand)]
    Label(commands::label::Command),

    /// Create the provider's signing key pair.
    #[command(subcommand)]
    Keys(commands::keys::Command),

    /// Run the compliance gateway (OpenAI-compatible proxy that moderates, labels and logs).
    Serve(commands::serve::Args),

    /// Verify, export, trace and prune the audit ledger.
    #[command(subcommand)]
    Audit(commands::audit::Command),

    /// Tokens of the gateway's admin API (governance workflows).
    #[command(subcommand)]
    Admin(commands::admin::Command),

    /// People of the operator console (`/console`).
    #[command(subcommand)]
    Console(commands::admin::ConsoleCommand),

    /// Human genetic resources: classify materials, classify approval changes.
    #[command(subcommand)]
    Hgr(commands::hgr::Command),

    /// Audit a training corpus: source registry, seeded sample, scan, per-source shares.
    #[command(subcommand)]
    Corpus(commands::corpus::Command),

    /// Run test banks against an OpenAI-compatible endpoint; pass and refusal rates.
    Eval(commands::eval::Args),

    /// Annotation QA: accuracy per batch and annotator, safety coverage, a review plan.
    #[command(subcommand)]
    Annotate(commands::annotate::Command),

    /// Write the security self-assessment and filing dossier (Markdown, HTML, DOCX).
    Filing(commands::filing::Args),

    /// Import State Council holiday schedules published after this release; list known years.
    #[command(subcommand)]
    Calendar(commands::calendar::Command),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::Cli;

    /// Flag names retired for one name each (README "Flags"): they may stay as hidden aliases
    /// for a release, never as visible names.
    const RETIRED: &[&str] = &["out", "pub", "pubkey", "json"];

    /// The `--format` values, one spelling each, whatever the command.
    const FORMATS: &[&str] = &["table", "md", "json", "jsonl", "html", "docx"];

    /// Walks every subcommand and collects each breach of the one-vocabulary rule.
    fn breaches(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id();
            let long = arg.get_long();
            if arg.get_short() == Some('o') && long != Some("output") {
                out.push(format!(
                    "{path}: `-o` is `--{}`, not `--output`",
                    long.unwrap_or("?")
                ));
            }
            // A hidden flag (a retired spelling kept for a release) is not a visible name.
            let shown = (!arg.is_hide_set()).then_some(long).flatten();
            let visible = shown
                .into_iter()
                .chain(arg.get_visible_aliases().unwrap_or_default());
            for name in visible {
                if RETIRED.contains(&name) {
                    out.push(format!("{path}: `--{name}` ({id}) is a retired name"));
                }
                if name.contains("pub") && name != "public-key" {
                    out.push(format!(
                        "{path}: public keys are `--public-key`, not `--{name}`"
                    ));
                }
            }
            if long == Some("format") {
                for value in arg.get_possible_values() {
                    if !FORMATS.contains(&value.get_name()) {
                        out.push(format!(
                            "{path}: `--format {}` is not one of {FORMATS:?}",
                            value.get_name()
                        ));
                    }
                }
            }
        }
        for sub in command.get_subcommands() {
            breaches(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn one_name_per_flag_across_the_cli() {
        let mut found = Vec::new();
        breaches(&Cli::command(), "hegui", &mut found);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn the_command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
