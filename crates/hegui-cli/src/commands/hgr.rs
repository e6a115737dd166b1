//! `hegui hgr`: placeholder until its issue lands.

use std::process::ExitCode;

/// `hegui hgr` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Not built yet.
    #[command(hide = true)]
    Pending,
}

/// Runs `hegui hgr`.
pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui hgr` is not built yet")
}
