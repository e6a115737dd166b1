//! `hegui rules list | show | lint`.

use crate::util::{hegui, summary};

#[test]
fn lint_of_a_clean_pack_exits_0() {
    let output = hegui()
        .args(["rules", "lint", "crates/hegui-rules/tests/fixtures/mini"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("ok (3 obligations, 2 params, 2 scenarios passed)")
    );
}

#[test]
fn lint_reports_problems_with_exit_1_and_load_errors_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let source = crate::util::repo_root().join("crates/hegui-rules/tests/fixtures/mini");
    for sub in ["", "obligations", "scenarios"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        for entry in std::fs::read_dir(source.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.path().join(sub).join(path.file_name().unwrap())).unwrap();
            }
        }
    }
    let scenario = dir.path().join("scenarios/public.toml");
    let text = std::fs::read_to_string(&scenario)
        .unwrap()
        .replace("due = 2026-03-05", "due = 2026-03-06");
    std::fs::write(&scenario, text).unwrap();
    let output = hegui()
        .args(["rules", "lint"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("scenarios/public.toml:14:16: scenario `Public chatbot with public-opinion attributes`: expected `im.art17.security_assessment` due 2026-03-06, got 2026-03-05"), "{stdout}");

    std::fs::write(dir.path().join("params.toml"), "[param.x]\nvalue = [1]\n").unwrap();
    let output = hegui()
        .args(["rules", "lint"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("params.toml:1:1: missing field `summary_en`")
    );
}

#[test]
fn lint_of_a_non_pack_is_a_usage_error() {
    let output = hegui().args(["rules", "lint", "crates"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a rule pack directory"));
}

#[test]
fn list_and_show() {
    let output = hegui().args(["rules", "list"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let output = hegui()
        .args(["rules", "show", "no.such.thing"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("no bundled pack or obligation `no.such.thing`")
    );
}
