//! `hegui scan`: placeholder until its issue lands.

use std::process::ExitCode;

/// Arguments of `hegui scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `hegui scan`.
pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui scan` is not built yet")
}
