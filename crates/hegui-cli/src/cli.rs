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
}
