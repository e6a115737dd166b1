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
        (
            "table",
            "2 applicable, 1 unknown, 0 not in force, 0 not applicable, 1 gaps",
        ),
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

fn public_chatbot(as_of: &str, extra: &[&str]) -> std::process::Output {
    hegui()
        .args(["assess", "examples/public-chatbot.toml", "--as-of", as_of])
        .args(extra)
        .output()
        .unwrap()
}

/// Issue 19 items 1 and 3: the example launched on 2026-11-16 without the pre-launch filing. The
/// day before launch nothing is overdue (exit 0); from the launch day on, the filing is overdue,
/// listed first in every format, and the command exits with 3.
#[test]
fn overdue_is_first_in_every_format_and_exits_3() {
    let before = public_chatbot("2026-11-15", &[]);
    assert_eq!(before.status.code(), Some(0), "{}", summary(&before));
    let launch = public_chatbot("2026-11-16", &[]);
    assert_eq!(launch.status.code(), Some(3), "{}", summary(&launch));
    assert!(
        String::from_utf8_lossy(&launch.stderr).contains("overdue: 1 obligation past its deadline")
    );
    for (format, first, marker) in [
        ("table", "OVERDUE", "genai.filing"),
        ("md", "## Overdue 已逾期", "`genai.filing`"),
        ("html", "已逾期 Overdue</h2>", "genai.filing"),
    ] {
        let output = public_chatbot("2026-12-03", &["--format", format]);
        assert_eq!(
            output.status.code(),
            Some(3),
            "{format}: {}",
            summary(&output)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        let at = text
            .find(first)
            .unwrap_or_else(|| panic!("{format}: no `{first}`"));
        let filing = text[at..].find(marker).map(|i| i + at);
        assert!(
            filing.is_some(),
            "{format}: the filing is not in the overdue part"
        );
        for later in [
            "## Deadlines",
            "## Gaps",
            "<h2>期限",
            "<h2>差距",
            "│ applicable",
        ] {
            if let Some(other) = text.find(later) {
                assert!(at < other, "{format}: overdue after `{later}`");
            }
        }
    }
    let output = public_chatbot("2026-12-03", &["--format", "json"]);
    assert_eq!(output.status.code(), Some(3));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["summary"]["overdue"], 2);
}

/// Issue 19 item 2: the non-refusal rate of 6.8 % against the 5 % cap is a gap with the figure,
/// and obligations covered only by planned controls are never "met by hegui".
#[test]
fn met_means_met_in_the_public_chatbot() {
    let output = public_chatbot("2026-12-03", &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let coverage = |id: &str| {
        value["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("{id}"))["coverage"]
            .clone()
    };
    assert_eq!(coverage("sbr.assessment.refusal"), "gap");
    assert_eq!(coverage("ar.art7.service_rules"), "gap");
    assert_eq!(
        coverage("im.art2.scope"),
        serde_json::Value::Null,
        "a scope statement"
    );
    assert_eq!(coverage("ds.art16.technical_label"), "hegui");
    let md = String::from_utf8_lossy(&public_chatbot("2026-12-03", &["--format", "md"]).stdout)
        .into_owned();
    assert!(md.contains(
        "GAP: `measured.non_refusal_refusal_percent` = 6.8 > 5 (`sbr_non_refusal_rate_max_percent`)"
    ));
}

/// Issue 19 item 10: not-applicable obligations are a count with their ids unless asked for.
#[test]
fn not_applicable_is_collapsed_unless_asked() {
    let collapsed =
        String::from_utf8_lossy(&public_chatbot("2026-11-15", &["--format", "md"]).stdout)
            .into_owned();
    assert!(collapsed.contains("(details: `--show-not-applicable`)"));
    assert!(!collapsed.contains("### `ar.art21.no_price_discrimination`"));
    let full = String::from_utf8_lossy(
        &public_chatbot("2026-11-15", &["--format", "md", "--show-not-applicable"]).stdout,
    )
    .into_owned();
    assert!(full.contains("### `ar.art21.no_price_discrimination`"));
    let html = String::from_utf8_lossy(&public_chatbot("2026-11-15", &["--format", "html"]).stdout)
        .into_owned();
    assert!(html.contains("<details><summary>不适用 Not applicable"));
}

/// Issue 19 item 11: `hegui calendar import` adds a schedule published after the release to the
/// user data directory; `hegui assess` then gives the exact date where it gave only a provisional
/// one, and a schedule without a notice is refused.
#[test]
fn calendar_import_turns_a_provisional_deadline_exact() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("late.toml");
    std::fs::write(
        &profile,
        "[service]\naudience = \"domestic_public\"\ngenerates = [\"text\"]\nlaunch_date = 2026-12-24\npublic_opinion = true\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let assess_md = || {
        let output = hegui()
            .env("HEGUI_DATA_DIR", &data)
            .args(["assess", "--as-of", "2026-12-24", "--format", "md"])
            .arg(&profile)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let before = assess_md();
    assert!(
        before.contains("unknown: calendar not published for 2027; provisional 2027-01-07"),
        "{before}"
    );
    let unpublished = dir.path().join("2027-empty.json");
    std::fs::write(&unpublished, r#"{"year": 2027, "papers": [], "days": []}"#).unwrap();
    let refused = hegui()
        .args(["calendar", "import", "--data-dir"])
        .arg(&data)
        .arg(&unpublished)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not published yet"));
    let year = dir.path().join("2027.json");
    std::fs::write(
        &year,
        r#"{"year": 2027, "papers": ["https://www.gov.cn/example/2027-notice.htm"], "days": [
            {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
            {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
            {"name": "元旦", "date": "2027-01-03", "isOffDay": true}]}"#,
    )
    .unwrap();
    let imported = hegui()
        .env("HEGUI_DATA_DIR", &data)
        .args(["calendar", "import"])
        .arg(&year)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", summary(&imported));
    assert!(String::from_utf8_lossy(&imported.stdout).contains("imported 2027: 3 listed days"));
    let listed = hegui()
        .args(["calendar", "list", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("2026  bundled") && listed.contains("2027  imported"),
        "{listed}"
    );
    let after = assess_md();
    // Dec 25, 28–31, Jan 4–8 (Jan 1–3 off): exact now, no provisional caveat.
    assert!(after.contains("2027-01-08"), "{after}");
    assert!(!after.contains("provisional 2027"), "{after}");
}

/// Issue 19 item 10: the terminal table gives every deadline's rule in Chinese under its date.
#[test]
fn the_table_shows_the_chinese_rule_under_each_deadline() {
    let output = public_chatbot("2026-12-03", &[]);
    let table = String::from_utf8_lossy(&output.stdout);
    // Cells wrap, so look for a short piece of each rule.
    for piece in ["上线前完成", "十个工作日内"] {
        assert!(table.contains(piece), "no `{piece}` in:\n{table}");
    }
}
