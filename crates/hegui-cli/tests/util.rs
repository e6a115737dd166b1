//! Helpers shared by the CLI tests: run the binary, capture exit code, stdout and stderr; write
//! a lexicon directory.

use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root (two levels above this crate).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crate lives in crates/<name>")
        .to_path_buf()
}

/// A `hegui` command run from the repository root.
pub(crate) fn hegui() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("hegui").expect("the hegui binary is built");
    // No imported calendars from the machine's user data directory: tests see the bundled ones.
    cmd.current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("HEGUI_DATA_DIR", "/nonexistent/hegui-test-data");
    cmd
}

/// A `hegui` command run from the repository root under `umask`. The umask is process-wide, so a
/// test cannot set it in its own process without racing the others: a shell sets it and then
/// execs the binary.
pub(crate) fn hegui_with_umask(umask: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_hegui"))
        .current_dir(repo_root())
        .env("NO_COLOR", "1");
    cmd
}

/// Exit code, stdout and stderr as one string, for snapshots.
pub(crate) fn summary(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Writes a lexicon directory: `lexicon.toml` (`name = "test"`, `version = "1"`, then the
/// tables in `tables`) and `words.tsv`.
pub(crate) fn write_lexicon(dir: &Path, tables: &str, tsv: &str) {
    std::fs::write(
        dir.join("lexicon.toml"),
        format!("name = \"test\"\nversion = \"1\"\n{tables}"),
    )
    .unwrap();
    std::fs::write(dir.join("words.tsv"), tsv).unwrap();
}
