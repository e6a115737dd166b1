//! `hegui rules`: placeholder until its issue lands.

use std::process::ExitCode;

/// `hegui rules` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Not built yet.
    #[command(hide = true)]
    Pending,
}

/// Runs `hegui rules`.
pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui rules` is not built yet")
}
