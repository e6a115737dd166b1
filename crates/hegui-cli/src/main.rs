//! The `hegui` binary: parses the command line and hands each subcommand to its module in
//! [`commands`]. All logic lives in the library crates; this crate only turns arguments into
//! library calls and results into output (stdout) and diagnostics (stderr).
//!
//! Exit codes, shared by every subcommand: `0` success, `1` "found something" (a `block` hit in
//! `scan`, a failed `verify`), `2` usage or input errors.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's allocator: under load the gateway allocates and frees from
/// many threads at once, and glibc's malloc, free and consolidation took about 12 % of the
/// guarded path's CPU in a perf profile at 6,000 req/s (`bench/gateway/profile.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`hegui scan … | head`) is not an error for the user.
            if err
                .chain()
                .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
                .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
