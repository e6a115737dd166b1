//! One module per subcommand. Each exposes its clap arguments and a `run` function returning the
//! process exit code; [`run`] dispatches.

pub(crate) mod admin;
pub(crate) mod annotate;
pub(crate) mod assess;
pub(crate) mod audit;
pub(crate) mod calendar;
pub(crate) mod corpus;
pub(crate) mod eval;
pub(crate) mod filing;
pub(crate) mod hgr;
pub(crate) mod keys;
pub(crate) mod label;
pub(crate) mod lexicon;
pub(crate) mod rules;
pub(crate) mod scan;
pub(crate) mod serve;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::Command;

/// Writes an output file (`-o FILE`, a compiled lexicon, a labeled file) through a synced
/// temporary file in the same directory and a rename: a reader never sees half of it. A new file
/// gets the mode the umask gives, a replaced one keeps its own (see
/// `hegui_label::write_file_atomically`).
pub(crate) fn write_atomically(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    hegui_label::write_file_atomically(path, bytes.as_ref())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// Runs one parsed subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Assess(inner) => assess::run(inner),
        Command::Rules(inner) => rules::run(inner),
        Command::Scan(inner) => scan::run(inner),
        Command::Lexicon(inner) => lexicon::run(inner),
        Command::Label(inner) => label::run(inner),
        Command::Keys(inner) => keys::run(inner),
        Command::Audit(inner) => audit::run(inner),
        Command::Admin(inner) => admin::run(inner),
        Command::Console(inner) => admin::run_console(inner),
        Command::Hgr(inner) => hgr::run(inner),
        Command::Serve(inner) => serve::run(inner),
        Command::Corpus(inner) => corpus::run(inner),
        Command::Eval(inner) => eval::run(inner),
        Command::Annotate(inner) => annotate::run(inner),
        Command::Filing(inner) => filing::run(inner),
        Command::Calendar(inner) => calendar::run(inner),
    }
}
