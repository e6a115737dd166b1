//! `hegui audit`: placeholder until its issue lands.

use std::process::ExitCode;

/// `hegui audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Not built yet.
    #[command(hide = true)]
    Pending,
}

/// Runs `hegui audit`.
pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui audit` is not built yet")
}
