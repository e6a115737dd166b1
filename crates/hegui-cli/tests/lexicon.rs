//! `hegui lexicon check | build`, and `hegui scan --lexicon` with a directory and a compiled file.

use crate::util::{hegui, summary, write_lexicon};

#[test]
fn check_reports_coverage_and_fails_the_minimums() {
    let output = hegui()
        .args(["lexicon", "check", "data/lexicon"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("lexicon hegui-sample"), "{stdout}");
    assert!(stdout.contains("A.1.h"), "{stdout}");
    assert!(
        stdout.contains("does NOT meet the TC260 minimums"),
        "{stdout}"
    );
}

#[test]
fn check_lists_findings_in_json() {
    let dir = tempfile::tempdir().unwrap();
    write_lexicon(
        dir.path(),
        "",
        "pattern\trisk\tlevel\tnote\n赌博\tA.1.h\tblock\t\n賭博\tA.1.h\tblock\t\n？？\tA.1.h\tflag\t\n",
    );
    let output = hegui()
        .args(["lexicon", "check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["empty", "same-normalized"]);
}

#[test]
fn check_reports_combinations_wider_than_the_window() {
    let dir = tempfile::tempdir().unwrap();
    write_lexicon(
        dir.path(),
        "[combinations]\nwindow = 5\n",
        "pattern\trisk\tlevel\tnote\n代开&发票\tA.1.h\tblock\t\n出售&身份证号\tA.1.h\tblock\t\n",
    );
    let output = hegui()
        .args(["lexicon", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("combination") || l.contains("findings"))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    combinations (`a&b`): 2, each matching within one sentence and 5 normalized characters
    1 findings:
      `出售&身份证号` at words.tsv:3: its parts take 6 normalized characters, more than the combination window of 5; it matches only where they overlap
    ");
}

#[test]
fn load_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_lexicon(
        dir.path(),
        "",
        "pattern\trisk\tlevel\tnote\n赌博\tA.1.h\tblock\t\n冰毒\tA.1.h\tforbid\t\n",
    );
    let output = hegui()
        .args(["lexicon", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`words.tsv:3`: unknown level `forbid`"),
        "{stderr}"
    );
}

#[test]
fn build_then_scan_with_the_compiled_file() {
    let dir = tempfile::tempdir().unwrap();
    write_lexicon(
        dir.path(),
        "",
        "pattern\trisk\tlevel\tnote\n蓝鲸游戏\tA.4.a\tblock\t\n",
    );
    let compiled = dir.path().join("lexicon.hgl");
    let output = hegui()
        .args(["lexicon", "build"])
        .arg(dir.path())
        .arg("-o")
        .arg(&compiled)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    for lexicon in [dir.path().to_path_buf(), compiled] {
        let output = hegui()
            .args(["scan", "--format", "jsonl", "--lexicon"])
            .arg(&lexicon)
            .write_stdin("玩 藍 鯨 遊 戲")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("\"pattern\":\"蓝鲸游戏\""));
    }
    let garbage = dir.path().join("garbage.hgl");
    std::fs::write(&garbage, b"not a lexicon").unwrap();
    let output = hegui()
        .args(["scan", "--lexicon"])
        .arg(&garbage)
        .write_stdin("x")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid compiled lexicon"));
}
