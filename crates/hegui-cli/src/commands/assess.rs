//! `hegui assess`: placeholder until its issue lands.

use std::process::ExitCode;

/// Arguments of `hegui assess`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

/// Runs `hegui assess`.
pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`hegui assess` is not built yet")
}
