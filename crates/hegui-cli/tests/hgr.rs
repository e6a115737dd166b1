//! `hegui hgr` and `hegui assess --pack cn-hgr` on the examples in `examples/hgr/`: the seed's
//! worked cases, the authority switch on 2024-05-01, report formats, exit codes and errors.

use crate::util::{hegui, summary};

fn run(args: &[&str]) -> std::process::Output {
    hegui().args(args).output().unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let output = run(&all);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        summary(&output)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", summary(&output)))
}

fn change_classes(report: &serde_json::Value) -> Vec<(String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["class"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect()
}

#[test]
fn seed_four_five_three_percent_crosses_ten_percent_at_the_third_change() {
    let report = json(&["hgr", "change", "examples/hgr/approval-4-5-3.toml"]);
    assert_eq!(
        change_classes(&report),
        pairs(&[("C1", "non_major"), ("C2", "non_major"), ("C3", "major")])
    );
    let c3 = &report["changes"][2];
    let blood = c3["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "whole_blood")
        .unwrap();
    assert_eq!(blood["cumulative"], 120);
    let together: Vec<i64> = blood["declare_together"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(
        together,
        [40, 50, 30],
        "all three increases declared together"
    );
    let serum = c3["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "serum")
        .unwrap();
    assert_eq!(serum["class"], "none", "a decrease needs no declaration");
}

#[test]
fn the_same_four_percent_under_a_filing_is_major() {
    let report = json(&["hgr", "change", "examples/hgr/filing-4pct.toml"]);
    assert_eq!(change_classes(&report), pairs(&[("F1", "major")]));
}

#[test]
fn decrease_needs_nothing_and_a_new_type_is_major() {
    let report = json(&[
        "hgr",
        "change",
        "examples/hgr/approval-new-type-decrease.toml",
    ]);
    assert_eq!(
        change_classes(&report),
        pairs(&[("D1", "none"), ("N1", "major")])
    );
}

#[test]
fn change_reports_in_every_format() {
    for (format, marker) in [
        ("table", "重大变更"),
        ("md", "C3"),
        ("json", "\"changes\""),
        ("html", "<!DOCTYPE html>"),
    ] {
        let output = run(&[
            "hgr",
            "change",
            "examples/hgr/approval-4-5-3.toml",
            "--format",
            format,
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{format}: {}",
            summary(&output)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(marker),
            "{format}: {}",
            summary(&output)
        );
    }
}

#[test]
fn change_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[approval]\nkind = \"approval\"\n[[resource]]\ntype = \"blood\"\nquantity = \"many\"\n",
    )
    .unwrap();
    let output = run(&["hgr", "change", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml:5"), "{stderr}");
}

#[test]
fn classify_sorts_materials_information_and_out_of_scope() {
    let report = json(&["hgr", "classify", "--file", "examples/hgr/materials.txt"]);
    let text = report.to_string();
    let class_of = |name: &str| -> String {
        let items = report["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items: {text}"));
        let item = items
            .iter()
            .find(|i| i["input"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {text}"));
        item["class"].as_str().unwrap().to_string()
    };
    assert_eq!(class_of("全血"), "material");
    assert_eq!(class_of("hair with follicle"), "material");
    assert_eq!(
        class_of("唾液"),
        "needs_review",
        "untreated saliva may hold cells"
    );
    assert_eq!(class_of("cell-free saliva"), "out_of_scope");
    assert_eq!(class_of("蛋白质组数据"), "out_of_scope");
    assert_eq!(
        class_of("血浆游离DNA"),
        "information",
        "plasma (a listed qualifier) + cfDNA (a listed biomarker): issue 19 item 12"
    );
    assert_eq!(class_of("ctDNA"), "information");
    assert_eq!(class_of("exome"), "information");
    assert_eq!(class_of("临床数据"), "out_of_scope");
    assert_eq!(class_of("医学影像"), "out_of_scope");
}

#[test]
fn classify_without_names_is_a_usage_error() {
    let output = run(&["hgr", "classify"]);
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no names to classify"));
}

fn obligation<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("{id} missing"))
}

#[test]
fn worked_cases_assess_as_the_seed_says() {
    for (profile, as_of, applies, not_applicable) in [
        (
            "mrct-no-export.toml",
            "2025-01-15",
            "hgr.r22.trial_filing",
            "hgr.r22.cooperation_approval",
        ),
        (
            "population-study-3001.toml",
            "2025-06-01",
            "hgr.r11.collection_approval",
            "hgr.r28.info_prior_report",
        ),
        (
            "exome-501-abroad.toml",
            "2025-06-01",
            "hgr.r28.security_review",
            "hgr.r11.collection_approval",
        ),
    ] {
        let path = format!("examples/hgr/{profile}");
        let report = json(&["assess", &path, "--pack", "cn-hgr", "--as-of", as_of]);
        assert_eq!(
            obligation(&report, applies)["status"],
            "applicable",
            "{profile}: {applies}"
        );
        assert_eq!(
            obligation(&report, not_applicable)["status"],
            "not_applicable",
            "{profile}: {not_applicable}"
        );
    }
}

#[test]
fn the_authority_switches_from_most_to_nhc_on_2024_05_01() {
    let authority = |as_of: &str| {
        let report = json(&[
            "assess",
            "examples/hgr/population-study-3001.toml",
            "--pack",
            "cn-hgr",
            "--as-of",
            as_of,
        ]);
        obligation(&report, "hgr.r11.collection_approval")["authority"].to_string()
    };
    let before = authority("2024-04-30");
    let after = authority("2024-05-01");
    assert!(
        before.contains("MOST") || before.contains("科学技术部"),
        "{before}"
    );
    assert!(
        after.contains("NHC") || after.contains("卫生健康委"),
        "{after}"
    );
}

/// Issue 19 item 12: the shipped biobank and trial names are classified with a citation (≥ 90 %).
#[test]
fn classify_the_shipped_name_list() {
    let report = json(&[
        "hgr",
        "classify",
        "--file",
        "examples/hgr/biobank-names.txt",
    ]);
    let items = report["items"].as_array().unwrap();
    let cited = items
        .iter()
        .filter(|i| !i["cite"].as_array().unwrap().is_empty())
        .count();
    assert!(items.len() >= 200);
    assert!(
        cited * 100 >= items.len() * 90,
        "{cited} of {}",
        items.len()
    );
}
