//! `hegui scan`: text and JSONL input, formats, exit codes, errors that name the line.

use crate::util::{hegui, summary, write_lexicon};

#[test]
fn text_report_with_evasion_pii_and_exit_code() {
    let output = hegui()
        .args(["scan", "-"])
        .write_stdin("网上賭\u{200b}博，加我13812345678，这人很可靠。\n")
        .output()
        .unwrap();
    insta::assert_snapshot!(summary(&output), @r#"
    exit: 1
    --- stdout
    -: block (2 hits; lexicon hegui-sample 2026.11.23)

    ┌──────────┬────────┬───────┬──────────┬────────────────┬────────────────────────┐
    │ line:col ┆ level  ┆ risk  ┆ pattern  ┆ text           ┆ note                   │
    ╞══════════╪════════╪═══════╪══════════╪════════════════╪════════════════════════╡
    │ 1:3      ┆ block  ┆ A.1.h ┆ 赌博     ┆ "賭\u{200b}博" ┆ 赌博 gambling          │
    │ 1:9      ┆ review ┆ A.4.f ┆ <mobile> ┆ "138****5678"  ┆ mainland mobile number │
    └──────────┴────────┴───────┴──────────┴────────────────┴────────────────────────┘

    by risk:
    ┌───────┬──────┬─────────┬──────────────────────────────┐
    │ risk  ┆ hits ┆ records ┆ name                         │
    ╞═══════╪══════╪═════════╪══════════════════════════════╡
    │ A.1.h ┆    1 ┆       1 ┆ 其他法律、行政法规禁止的内容 │
    │ A.4.f ┆    1 ┆       1 ┆ 侵害他人个人信息权益         │
    └───────┴──────┴─────────┴──────────────────────────────┘
    --- stderr
    "#);
}

/// Display width of the characters these tests put in a table: CJK ideographs, CJK and
/// full-width punctuation and forms take two columns, combining and zero-width characters none,
/// everything else (ASCII, box drawing) one.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match u32::from(c) {
            0x0300..=0x036F | 0x200B..=0x200F => 0,
            0x3000..=0x303E | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xFF01..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

/// Asserts that every line of every box-drawn table in `output` has its borders and column
/// separators at the same display columns; returns how many tables it checked.
fn assert_tables_aligned(output: &str) -> usize {
    let mut tables = 0;
    let mut columns: Option<Vec<usize>> = None;
    for line in output.lines() {
        if line.starts_with('┌') {
            tables += 1;
            columns = None;
        }
        if !line.starts_with(['┌', '│', '╞', '├', '└']) {
            continue;
        }
        let mut at = Vec::new();
        let mut width = 0;
        for c in line.chars() {
            if "┌┐└┘│┆╞╪╡┬┴┼├┤".contains(c) {
                at.push(width);
            }
            width += display_width(&c.to_string());
        }
        at.push(width);
        match &columns {
            None => columns = Some(at),
            Some(first) => assert_eq!(&at, first, "misaligned line {line:?} in\n{output}"),
        }
    }
    tables
}

#[test]
fn table_columns_align_by_display_width() {
    let dir = tempfile::tempdir().unwrap();
    // Chinese, full-width, ASCII and a combining accent (`cafe\u{301}`) in the cells.
    write_lexicon(
        dir.path(),
        "",
        "pattern\trisk\tlevel\tnote\n赌博\tA.1.h\tblock\t赌博 gambling\nsex\tA.1.f\treview\tascii only\n代开&发票\t自定义.发票\tflag\t组合，全角ＡＢＣ and cafe\u{301}\n",
    );
    let output = hegui()
        .args(["scan", "--lexicon"])
        .arg(dir.path())
        .arg("-")
        .write_stdin("网上賭\u{200b}博 and ＳＥＸ or sex, 可以代开各类发票\n")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(assert_tables_aligned(&stdout), 2, "{stdout}");
    insta::assert_snapshot!(summary(&output), @r#"
    exit: 1
    --- stdout
    -: block (4 hits; lexicon test 1)

    ┌──────────┬────────┬─────────────┬───────────┬────────────────┬───────────────────────────┐
    │ line:col ┆ level  ┆ risk        ┆ pattern   ┆ text           ┆ note                      │
    ╞══════════╪════════╪═════════════╪═══════════╪════════════════╪═══════════════════════════╡
    │ 1:3      ┆ block  ┆ A.1.h       ┆ 赌博      ┆ "賭\u{200b}博" ┆ 赌博 gambling             │
    │ 1:11     ┆ review ┆ A.1.f       ┆ sex       ┆ "ＳＥＸ"       ┆ ascii only                │
    │ 1:18     ┆ review ┆ A.1.f       ┆ sex       ┆ "sex"          ┆ ascii only                │
    │ 1:25     ┆ flag   ┆ 自定义.发票 ┆ 代开&发票 ┆ "代开各类发票" ┆ 组合，全角ＡＢＣ and café │
    └──────────┴────────┴─────────────┴───────────┴────────────────┴───────────────────────────┘

    by risk:
    ┌─────────────┬──────┬─────────┬──────────────────────────────┐
    │ risk        ┆ hits ┆ records ┆ name                         │
    ╞═════════════╪══════╪═════════╪══════════════════════════════╡
    │ A.1.f       ┆    2 ┆       1 ┆ 宣扬暴力、淫秽色情           │
    │ A.1.h       ┆    1 ┆       1 ┆ 其他法律、行政法规禁止的内容 │
    │ 自定义.发票 ┆    1 ┆       1 ┆ (custom)                     │
    └─────────────┴──────┴─────────┴──────────────────────────────┘
    --- stderr
    "#);
}

#[test]
fn clean_text_exits_zero() {
    let output = hegui()
        .args(["scan", "--format", "json"])
        .write_stdin("今天天气很好，这个方案很可靠。")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["verdict"], "clean");
    assert_eq!(doc["hits"].as_array().unwrap().len(), 0);
}

#[test]
fn review_only_exits_zero_and_masks_pii() {
    let output = hegui()
        .args(["scan", "--format", "jsonl"])
        .write_stdin("身份证 11010519491231002X")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("110***********002X"), "{stdout}");
    assert!(!stdout.contains("11010519491231002X"), "{stdout}");
}

#[test]
fn jsonl_dataset_summary_and_nested_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.jsonl");
    std::fs::write(
        &path,
        "{\"messages\":[{\"content\":\"hi\"},{\"content\":\"出售冰毒\"}]}\n\n{\"messages\":[{\"content\":\"你好\"},{\"content\":\"好的\"}]}\n",
    )
    .unwrap();
    let output = hegui()
        .args([
            "scan",
            "--jsonl",
            "--field",
            "messages.1.content",
            "--format",
            "json",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["records"], 2);
    assert_eq!(doc["records_with_hits"], 1);
    assert_eq!(doc["hits"][0]["line"], 1);
    assert_eq!(doc["summary"]["by_risk"]["A.1.h"]["hits"], 1);
}

#[test]
fn jsonl_errors_name_the_line_and_field() {
    for (input, want) in [
        ("{\"text\":\"a\"}\nnot json\n", "`-:2`: not a JSON object"),
        (
            "{\"text\":\"a\"}\n{\"body\":\"b\"}\n",
            "`-:2`: field `text` not found",
        ),
        ("{\"text\":3}\n", "`-:1`: field `text` is not a string"),
    ] {
        let output = hegui()
            .args(["scan", "--jsonl", "--field", "text"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(want), "{stderr}");
    }
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let output = hegui()
        .args(["scan", "--format", "json", "-o"])
        .arg(&out)
        .write_stdin("赌博")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["verdict"], "block");
}

#[test]
fn missing_lexicon_is_an_input_error() {
    let output = hegui()
        .args(["scan", "--lexicon", "no/such/dir", "-"])
        .write_stdin("x")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/dir"));
}
