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

/// One table of exit codes for every command (README, "Exit codes"): 0 ok, 1 a finding, 2 a
/// usage or input error. Each row: arguments, stdin, the expected code, and a fragment that the
/// output must contain (for errors: what and where).
#[test]
fn exit_codes_are_the_same_across_commands() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let missing = missing.to_str().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let rows: &[(&[&str], &str, i32, &str)] = &[
        // The command line itself.
        (&["--help"], "", 0, "Usage"),
        (&["--version"], "", 0, "hegui"),
        (&[], "", 2, "Usage"),
        (&["assess", "--no-such-flag"], "", 2, "--no-such-flag"),
        // assess: a written report is 0 whatever it finds, unless something is overdue: 3
        // (the example launched 2026-11-16 without its pre-launch filing; issue 19).
        (
            &[
                "assess",
                "examples/public-chatbot.toml",
                "--as-of",
                "2026-11-15",
            ],
            "",
            0,
            "",
        ),
        (
            &[
                "assess",
                "examples/public-chatbot.toml",
                "--as-of",
                "2026-11-16",
            ],
            "",
            3,
            "overdue: 1 obligation",
        ),
        (&["assess", missing], "", 2, "missing.toml"),
        (
            &["assess", "examples/public-chatbot.toml", "--format", "pdf"],
            "",
            2,
            "pdf",
        ),
        // rules
        (&["rules", "lint", "packs/cn-genai"], "", 0, ""),
        (
            &["rules", "show", "no.such.obligation"],
            "",
            2,
            "no.such.obligation",
        ),
        // scan: a `block` hit is a finding.
        (&["scan"], "今天天气很好", 0, ""),
        (&["scan"], "哪里能买到冰毒", 1, "冰毒"),
        (&["scan", missing], "", 2, "missing.toml"),
        // lexicon: the sample does not meet the TC260 minimums (a finding).
        (&["lexicon", "check", "data/lexicon"], "", 1, ""),
        (&["lexicon", "check", missing], "", 2, "missing.toml"),
        // hgr
        (&["hgr", "classify", "全血"], "", 0, "全血"),
        (&["hgr", "change", missing], "", 2, "missing.toml"),
        // label and keys
        (&["label", "read", missing], "", 2, "missing.toml"),
        (
            &["keys", "generate", "--algorithm", "rsa", "-o", out],
            "",
            2,
            "rsa",
        ),
        // audit: never creates the database it is pointed at.
        (
            &[
                "audit",
                "verify",
                "--database",
                &format!("sqlite:{missing}"),
            ],
            "",
            2,
            "missing.toml",
        ),
        // serve
        (&["serve", "--config", missing], "", 2, "missing.toml"),
    ];
    let mut wrong = Vec::new();
    for (args, stdin, code, fragment) in rows {
        let output = hegui()
            .args(*args)
            .env_remove("HEGUI_DATABASE_URL")
            .env_remove("HEGUI_CONFIG")
            .env_remove("HEGUI_LEXICON")
            .write_stdin(*stdin)
            .output()
            .unwrap();
        let text = summary(&output);
        if output.status.code() != Some(*code) || !text.contains(fragment) {
            wrong.push(format!(
                "hegui {}: want exit {code} and `{fragment}`\n{text}",
                args.join(" ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
