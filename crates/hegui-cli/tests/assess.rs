//! `hegui assess`: formats, output file, exit codes and error messages.

use crate::util::{hegui, summary};

const PACK: &str = "crates/hegui-rules/tests/fixtures/mini";
const PROFILES: &str = "crates/hegui-rules/tests/fixtures/profiles";

fn assess(profile: &str, extra: &[&str]) -> std::process::Output {
    hegui()
        .args([
            "assess",
            &format!("{PROFILES}/{profile}"),
            "--pack-dir",
            PACK,
            "--as-of",
            "2026-01-15",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn every_format_succeeds() {
    for (format, marker) in [
        ("table", "im.art14.illegal_content"),
        ("md", "# Compliance assessment"),
        ("json", "\"schema\": \"hegui.assessment/1\""),
        ("html", "<!DOCTYPE html>"),
    ] {
        let output = assess("chatbot.toml", &["--format", format]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            summary(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(marker),
            "{format}"
        );
    }
}

#[test]
fn json_is_valid_and_has_the_gap() {
    let output = assess("chatbot.toml", &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["summary"]["gaps"], 1);
    let deadline = value["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "im.art17.security_assessment")
        .unwrap()["deadline"]["due"]
        .clone();
    assert_eq!(deadline, "2026-03-05");
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let output = assess(
        "chatbot.toml",
        &["--format", "html", "-o", path.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    assert!(output.stdout.is_empty());
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("</html>"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn bad_profiles_exit_2_with_located_errors() {
    let cases = [
        (
            "bad-enum.toml",
            "bad-enum.toml:2:12: `service.audience`: `domestic` is not allowed",
        ),
        (
            "bad-enum.toml",
            "bad-enum.toml:3:15: `service.launch_date`: expected a date",
        ),
        (
            "unknown-fact.toml",
            "unknown-fact.toml:3:1: unknown fact `service.publc_opinion`, did you mean `service.public_opinion`",
        ),
        (
            "malformed.toml",
            "malformed.toml:2:28: invalid basic string",
        ),
        (
            "missing.toml",
            "cannot read profile `crates/hegui-rules/tests/fixtures/profiles/missing.toml`",
        ),
    ];
    for (profile, message) in cases {
        let output = assess(profile, &[]);
        assert_eq!(output.status.code(), Some(2), "{profile}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{profile}: {stderr}");
        assert!(output.stdout.is_empty(), "{profile}");
    }
}

#[test]
fn bad_arguments_exit_2() {
    let output = hegui()
        .args([
            "assess",
            &format!("{PROFILES}/chatbot.toml"),
            "--pack-dir",
            PACK,
            "--as-of",
            "2026-13-01",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`--as-of 2026-13-01` is not a date"));
    let output = hegui()
        .args([
            "assess",
            &format!("{PROFILES}/chatbot.toml"),
            "--pack",
            "no-such-pack",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no bundled rule pack `no-such-pack`")
    );
}
