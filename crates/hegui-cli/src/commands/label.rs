//! `hegui label`: placeholder until its issue lands.

use std::process::ExitCode;

/// `hegui label` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Not built yet.
    #[command(hide = true)]
    Pending,
}

/// Runs `hegui label`.
pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui label` is not built yet")
}
