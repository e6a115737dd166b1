//! The command line as a whole: help, version, unknown subcommands.

use crate::util::{hegui, summary};

#[test]
fn help_lists_the_subcommands() {
    let output = hegui().arg("--help").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for name in ["assess", "rules"] {
        assert!(
            stdout.contains(name),
            "`{name}` missing from --help:\n{stdout}"
        );
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = hegui().arg("no-such-command").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = summary(&output);
    assert!(text.contains("no-such-command"), "{text}");
}
