//! Snapshots of the Markdown and JSON reports of the fixture pack, and profile error messages.

use std::path::{Path, PathBuf};

use hegui_rules::chrono::NaiveDate;
use hegui_rules::{Calendar, Pack, Profile, SourceFile, assess, report};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn pack() -> Pack {
    Pack::load_dir(&fixtures().join("mini")).unwrap()
}

fn profile(pack: &Pack, name: &str) -> Result<Profile, String> {
    let path = fixtures().join("profiles").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let file = SourceFile::new(format!("profiles/{name}"), text);
    Profile::parse(&file, pack).map_err(|found| {
        found
            .iter()
            .map(|l| format!("{l}\n{}", l.snippet()))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn report_for(name: &str, as_of: &str) -> hegui_rules::Report {
    let pack = pack();
    let profile = profile(&pack, name).unwrap();
    let date = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    assess(&pack, &profile, date, &Calendar::cn_mainland().unwrap())
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(report::markdown(
        &report_for("chatbot.toml", "2026-01-15"),
        report::Options::default()
    ));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(report::json(&report_for("chatbot.toml", "2026-01-15")));
}

#[test]
fn html_report_is_self_contained() {
    let html = report::html(
        &report_for("chatbot.toml", "2026-01-15"),
        report::Options::default(),
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<style>"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<link"));
    assert!(html.contains("合规评估") && html.contains("Compliance assessment"));
}

/// Issue 19 item 10: the HTML is bilingual throughout: reasons, deadlines and the not-in-force
/// dates have a Chinese line beside the English one, not only the headings.
#[test]
fn html_report_is_bilingual_line_by_line() {
    let html = report::html(
        &report_for("chatbot.toml", "2026-01-15"),
        report::Options::default(),
    );
    for (zh, en) in [
        ("适用依据：", "because "),
        ("后 10 个工作日", "10 working days after"),
        ("理由 why", "依据 cites"),
    ] {
        assert!(html.contains(zh), "no Chinese `{zh}`");
        assert!(html.contains(en), "no English `{en}`");
    }
    let before = report::html(
        &report_for("chatbot.toml", "2025-08-31"),
        report::Options::default(),
    );
    assert!(before.contains("尚未生效（自 2025-09-01 起施行）"));
    assert!(before.contains("not yet in force (from 2025-09-01)"));
}

#[test]
fn role_resolves_to_the_authority_of_the_date() {
    for (as_of, want) in [
        ("2024-04-30", "MOST"),
        ("2024-05-01", "NHC"),
        ("2026-01-15", "NHC"),
    ] {
        let report = report_for("chatbot.toml", as_of);
        let label = report
            .obligations
            .iter()
            .find(|o| o.id == "lm.art5.implicit_label")
            .unwrap();
        assert_eq!(label.authority.as_ref().unwrap().id, want, "{as_of}");
    }
}

#[test]
fn obligations_before_their_instrument_are_not_in_force() {
    let report = report_for("chatbot.toml", "2025-08-31");
    let label = report
        .obligations
        .iter()
        .find(|o| o.id == "lm.art5.implicit_label")
        .unwrap();
    assert_eq!(label.status, hegui_rules::Status::NotInForce);
    assert_eq!(
        report::why(label),
        "`LM` not yet in force (from 2025-09-01)"
    );
    let report = report_for("chatbot.toml", "2025-09-01");
    let label = report
        .obligations
        .iter()
        .find(|o| o.id == "lm.art5.implicit_label")
        .unwrap();
    assert_eq!(label.status, hegui_rules::Status::Applicable);
}

#[test]
fn profile_errors_point_at_the_line() {
    let pack = pack();
    insta::assert_snapshot!(profile(&pack, "bad-enum.toml").unwrap_err(), @r#"
    profiles/bad-enum.toml:2:12: `service.audience`: `domestic` is not allowed, did you mean `domestic_public`; expected one of `domestic_public`, `enterprise_only`, `overseas_only`
    2 | audience = "domestic"
      |            ^^^^^^^^^^
    profiles/bad-enum.toml:3:15: `service.launch_date`: expected a date such as 2026-03-01 (unquoted), found the string "2026-02-13"
    3 | launch_date = "2026-02-13"
      |               ^^^^^^^^^^^^
    "#);
    insta::assert_snapshot!(profile(&pack, "unknown-fact.toml").unwrap_err(), @r"
    profiles/unknown-fact.toml:3:1: unknown fact `service.publc_opinion`, did you mean `service.public_opinion`
    3 | publc_opinion = true
      | ^^^^^^^^^^^^^
    ");
    insta::assert_snapshot!(profile(&pack, "malformed.toml").unwrap_err(), @r#"
    profiles/malformed.toml:2:28: invalid basic string, expected `"`
    2 | audience = "domestic_public
      |                            ^
    "#);
}

#[test]
fn pack_errors_point_at_the_line() {
    let dir = fixtures().join("mini");
    let mut files: Vec<(String, String)> =
        ["pack.toml", "facts.toml", "params.toml", "controls.toml"]
            .iter()
            .map(|name| {
                (
                    (*name).to_string(),
                    std::fs::read_to_string(dir.join(name)).unwrap(),
                )
            })
            .collect();
    files.push((
        "obligations/bad.toml".into(),
        "[[obligation]]\nid = \"x\"\nkind = \"duty\"\nsummary_zh = \"x\"\nsummary_en = \"x\"\nwhen = 'service.generates == \"text\"'\nsevere = true\n".into(),
    ));
    let err = Pack::from_files("mini", files.clone())
        .unwrap_err()
        .to_string();
    insta::assert_snapshot!(err, @"mini/obligations/bad.toml:7:1: unknown field `severe`, expected one of `id`, `kind`, `summary_zh`, `summary_en`, `when`, `authority`, `controls`, `controls_require`, `measure`, `evidence`, `control_points`, `note_en`, `note_zh`, `cite`, `deadline`");
    if let Some(last) = files.last_mut() {
        last.1 = last.1.replace("severe = true\n", "");
    }
    let err = Pack::from_files("mini", files).unwrap_err().to_string();
    insta::assert_snapshot!(err, @"mini/obligations/bad.toml:6:9: in `when` of `x`: cannot compare `set` with `string` using `==`");
}

#[test]
fn month_deadlines_in_an_unpublished_year_are_provisional() {
    let dir = fixtures().join("mini");
    let mut files: Vec<(String, String)> =
        ["pack.toml", "facts.toml", "params.toml", "controls.toml"]
            .iter()
            .map(|name| {
                (
                    (*name).to_string(),
                    std::fs::read_to_string(dir.join(name)).unwrap(),
                )
            })
            .collect();
    files.push((
        "obligations/report.toml".into(),
        "[[obligation]]\nid = \"x.closing_report\"\nkind = \"report\"\nsummary_zh = \"x\"\nsummary_en = \"x\"\n\
         [[obligation.cite]]\ninstrument = \"IM\"\narticle = \"14\"\nconfidence = \"verified\"\n\
         [obligation.deadline]\namount = 6\nunit = \"months\"\nanchor = \"service.launch_date\"\n"
            .into(),
    ));
    let pack = Pack::from_files("mini", files).unwrap();
    let calendar = Calendar::cn_mainland().unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
    let cases = [
        (
            "2025-08-17",
            // Due before the as-of date (2026-12-20) and not shown done: overdue.
            "2026-02-24 OVERDUE (6 months after `service.launch_date`)",
        ),
        (
            "2026-12-15",
            "2027-06-15 upcoming (6 months after `service.launch_date`; provisional: calendar not published for 2027; moves to the day after the holiday if 2027-06-15 is in an announced off period)",
        ),
    ];
    for (launch, want) in cases {
        let file = SourceFile::new("p.toml", format!("[service]\nlaunch_date = {launch}\n"));
        let profile = Profile::parse(&file, &pack).unwrap();
        let report = assess(&pack, &profile, date, &calendar);
        let result = report
            .obligations
            .iter()
            .find(|o| o.id == "x.closing_report")
            .unwrap();
        assert_eq!(report::deadline(result), want);
    }
}

#[test]
fn reserved_tables_and_groups_are_checked() {
    let pack = pack();
    let text = "service = \"x\"\n[profile]\ntitle = \"x\"\n[hegui]\ncontrols = [\"gateway.output_gard\"]\n[evidence]\n\"im.art99.nothing\" = [\"x\"]\n";
    let file = SourceFile::new("p.toml", text);
    let errors = Profile::parse(&file, &pack).unwrap_err().to_string();
    insta::assert_snapshot!(errors, @r"
    p.toml:1:1: `service` is a group of facts, not a fact: write `service.<name> = …`
    p.toml:3:1: unknown key `profile.title`: expected `name` or `description`
    p.toml:5:13: unknown control `gateway.output_gard`, did you mean `gateway.output_guard`
    p.toml:7:1: unknown obligation `im.art99.nothing` in `[evidence]`
    ");
}

/// Issue 19 item 6: a missed 宜/不宜 (should) figure is listed as a warning, apart from the gaps;
/// a figure within it is not.
#[test]
fn should_figures_are_warnings_not_gaps() {
    let pack = Pack::embedded("cn-genai").unwrap();
    let calendar = Calendar::cn_mainland().unwrap();
    let render = |age: u32| {
        let text = format!(
            "[service]\naudience = \"domestic_public\"\ngenerates = [\"text\"]\npublic_opinion = true\n\n[model]\nfoundation = \"own\"\n\n[measured]\ngenerated_bank_size = 2000\ngenerated_bank_age_days = {age}\n\n[evidence]\n\"sbr.test_bank.generated\" = [\"bank.xlsx\"]\n"
        );
        let profile = Profile::parse(&SourceFile::new("p.toml", text), &pack).unwrap();
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let report = assess(&pack, &profile, date, &calendar);
        let md = report::markdown(&report, report::Options::default());
        let html = report::html(&report, report::Options::default());
        (report::warnings(&report).len(), md, html)
    };
    let (count, md, html) = render(45);
    assert_eq!(count, 1);
    assert!(md.contains("## Warnings 提示"), "{md}");
    assert!(
        md.contains("`measured.generated_bank_age_days` = 45 > 31"),
        "{md}"
    );
    assert!(html.contains("提示 Warnings"));
    assert!(
        !md.contains("| `sbr.test_bank.generated` | 生成内容"),
        "a warning is not a gap"
    );
    let (count, md, _) = render(31);
    assert_eq!(count, 0);
    assert!(!md.contains("## Warnings"));
}
