//! `hegui lexicon`: placeholder until its issue lands.

use std::process::ExitCode;

/// `hegui lexicon` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Not built yet.
    #[command(hide = true)]
    Pending,
}

/// Runs `hegui lexicon`.
pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui lexicon` is not built yet")
}
