//! The self-assessment toolkit: `hegui corpus audit`, `hegui lexicon eval`, `hegui annotate qa`,
//! `hegui eval` and `hegui filing`, on the shipped examples (`examples/assess/`) and the vendored
//! COLD slice (`data/corpus/cold/test-200.csv`): golden reports, hand-checked figures, exit
//! codes, and errors that name the file and line.

use crate::util::{hegui, summary};

fn run(args: &[&str]) -> std::process::Output {
    hegui().args(args).output().unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const CORPUS: [&str; 7] = [
    "corpus",
    "audit",
    "examples/assess/corpus.jsonl",
    "--sources",
    "examples/assess/sources.toml",
    "--source-field",
    "source",
];

#[test]
fn corpus_audit_golden_markdown() {
    let mut args = CORPUS.to_vec();
    args.extend(["--format", "md"]);
    let output = run(&args);
    // Two sources above 5 % and a missing consent record: findings.
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn corpus_audit_is_reproducible_and_seeded() {
    let mut args = CORPUS.to_vec();
    args.extend(["--format", "json", "--sample", "3", "--sample-total", "5"]);
    let first = stdout(&run(&args));
    assert_eq!(first, stdout(&run(&args)));
    args.extend(["--seed", "7"]);
    let other = stdout(&run(&args));
    assert_ne!(first, other);
    let doc: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(doc["sample_pass"]["trials"], 5);
    assert_eq!(doc["sources"][0]["sampled"], 3);
}

#[test]
fn corpus_audit_bad_inputs_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("bad.jsonl");
    std::fs::write(&jsonl, "{\"text\":\"好\"}\n{\"text\":\"坏\"\n").unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "id,body\n1,你好\n").unwrap();
    let parquet = dir.path().join("bad.parquet");
    std::fs::write(&parquet, "PAR1 but not really").unwrap();
    let toml = dir.path().join("sources.toml");
    std::fs::write(&toml, "[[source]]\nname = \"a\"\nkind = \"stolen\"\n").unwrap();
    let cases: [(&std::path::Path, &[&str], &str); 4] = [
        (
            &jsonl,
            &[],
            "bad.jsonl:2`: invalid JSON: EOF while parsing an object",
        ),
        (
            &csv,
            &[],
            "bad.csv:1`: no column `text` in the header (columns: `id`, `body`)",
        ),
        (
            &csv,
            &["--sources", toml.to_str().unwrap()],
            "sources.toml:3`: unknown variant `stolen`",
        ),
        (&parquet, &[], "bad.parquet`: not a readable Parquet file"),
    ];
    for (path, extra, expected) in cases {
        let output = hegui()
            .args(["corpus", "audit"])
            .arg(path)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
}

/// `hegui lexicon eval` on the vendored COLD slice, with `extra` arguments.
fn cold_slice(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "lexicon",
        "eval",
        "data/corpus/cold/test-200.csv",
        "--text-field",
        "TEXT",
        "--label-field",
        "label",
    ];
    args.extend(extra);
    run(&args)
}

/// The first 200 comments of COLD's test split against the sample lexicon, checked by hand:
/// `block` hits on lines 38 (强奸, offensive), 87 (大麻, labelled harmless) and 178 (卖毒品,
/// offensive). 86 offensive and 114 harmless comments in the slice, so TP 2, FP 1, FN 84,
/// TN 113.
#[test]
fn lexicon_eval_on_a_cold_slice_matches_the_hand_count() {
    let output = cold_slice(&["--group-field", "topic", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let o = &doc["overall"];
    let counts = [
        &o["true_positives"],
        &o["false_positives"],
        &o["false_negatives"],
        &o["true_negatives"],
    ];
    assert_eq!(counts, [2, 1, 84, 113]);
    // Wilson 95 % for 2/3: [0.2077, 0.9385] (Newcombe's formula, computed by hand).
    let precision = &o["precision"];
    assert!((precision["low"].as_f64().unwrap() - 0.2077).abs() < 1e-4);
    assert!((precision["high"].as_f64().unwrap() - 0.9385).abs() < 1e-4);
    let top = &doc["top_false_positives"][0];
    assert_eq!(top["pattern"], "大麻");
    assert!(
        top["examples"][0]
            .as_str()
            .unwrap()
            .ends_with(":87: 白人喜欢大麻，黄种人更喜欢深度加工的")
    );
}

#[test]
fn lexicon_eval_golden_markdown() {
    let output = cold_slice(&["--level", "review", "--top", "5", "--format", "md"]);
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn lexicon_eval_missing_label_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.jsonl");
    std::fs::write(&path, "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\"}\n").unwrap();
    let output = hegui()
        .args(["lexicon", "eval", "--label-field", "label"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("l.jsonl:2`: no `label` field"), "{stderr}");
}

/// `hegui eval` end to end against `hegui serve --demo` (the gateway over its mock upstream):
/// the gateway's input guard refuses the drug and gambling questions, the demo model answers the
/// rest; a second run resumes from the results file and asks nothing.
#[test]
fn eval_against_the_demo_gateway() {
    let server = crate::serve::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.jsonl");
    let eval = |extra: &[&str]| {
        hegui()
            .args([
                "eval",
                "examples/assess/bank.sample.jsonl",
                "--model",
                "demo-chat",
            ])
            .args(["--endpoint", &server.base, "--api-key", &server.key])
            .arg("--results")
            .arg(&results)
            .args(extra)
            .output()
            .unwrap()
    };
    // Below the minimums: refused without the trial flag.
    let output = eval(&[]);
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("`examples/assess/bank.sample.jsonl`: the bank is below the TC260 minimums"),
        "{stderr}"
    );
    let output = eval(&["--allow-below-minimums", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["answered"], 12);
    let refused = &doc["overall"]["refused_when_due"];
    assert_eq!(
        (&refused["successes"], &refused["trials"]),
        (&2.into(), &4.into())
    );
    assert_eq!(doc["overall"]["refused_when_not_due"]["successes"], 0);
    let first = std::fs::read(&results).unwrap();
    let output = eval(&["--allow-below-minimums"]);
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("12 resumed"),
        "{}",
        summary(&output)
    );
    assert_eq!(first, std::fs::read(&results).unwrap());
}

#[test]
fn eval_unreachable_endpoint_is_an_input_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let output = hegui()
        .args([
            "eval",
            "examples/assess/bank.sample.jsonl",
            "--allow-below-minimums",
        ])
        .args(["--model", "m", "--retries", "0", "--endpoint"])
        .arg(format!("http://127.0.0.1:{port}/v1"))
        .arg("--results")
        .arg(dir.path().join("r.jsonl"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains(&format!("error: cannot reach `http://127.0.0.1:{port}/v1`")),
        "{}",
        summary(&output)
    );
}

/// `hegui annotate qa` on the shipped annotations and reviews, with `extra` arguments.
fn annotate_examples(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "annotate",
        "qa",
        "examples/assess/annotations.jsonl",
        "--reviews",
        "examples/assess/reviews.jsonl",
    ];
    args.extend(extra);
    run(&args)
}

#[test]
fn annotate_qa_golden_markdown() {
    let output = annotate_examples(&["--plan-per-batch", "3", "--format", "md"]);
    // Batch b2 is below 95 % and every risk is short of 200 safety annotations.
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn annotate_qa_bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    std::fs::write(
        &path,
        "{\"item\":\"1\",\"annotator\":\"x\",\"batch\":\"b\",\"label\":\"ok\",\"kind\":\"functional\"}\n\
         {\"item\":\"2\",\"annotator\":\"x\",\"batch\":\"b\",\"label\":\"ok\",\"kind\":\"safety\"}\n",
    )
    .unwrap();
    let output = hegui()
        .args(["annotate", "qa"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("a.jsonl:2`: a safety annotation needs a `risk`"),
        "{stderr}"
    );
}

/// The dossier from the shipped examples' results (corpus, annotation, lexicon), without a test
/// bank result: the test-bank section says there is no evidence; every figure carries its tag.
#[test]
fn filing_dossier_golden_and_all_formats() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let mut corpus = CORPUS.to_vec();
    let corpus_json = out("corpus.json");
    corpus.extend(["--format", "json", "-o", &corpus_json]);
    assert_eq!(run(&corpus).status.code(), Some(1));
    let annotate_json = out("annotate.json");
    let output = annotate_examples(&["--format", "json", "-o", &annotate_json]);
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let lexicon_json = out("lexicon-eval.json");
    let output = cold_slice(&["--format", "json", "-o", &lexicon_json]);
    assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    let filing = |extra: &[&str]| {
        let mut args = vec![
            "filing",
            "examples/public-chatbot.toml",
            "--as-of",
            "2026-11-02",
            "--corpus",
            &corpus_json,
            "--annotate",
            &annotate_json,
            "--lexicon-eval",
            &lexicon_json,
        ];
        args.extend(extra);
        run(&args)
    };
    let output = filing(&[]);
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let md = stdout(&output).replace(&dir.path().display().to_string(), "[TMP]");
    assert!(
        md.contains("Document set: 备案 filing (own foundation model)"),
        "{md}"
    );
    insta::assert_snapshot!(md);

    let dossier = out("dossier");
    let output = filing(&["--out-dir", &dossier]);
    assert_eq!(output.status.code(), Some(1), "{}", summary(&output));
    let docx = std::fs::read(dir.path().join("dossier/self-assessment.docx")).unwrap();
    assert_eq!(&docx[..2], b"PK");
    let html = std::fs::read_to_string(dir.path().join("dossier/self-assessment.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<script"));

    // A result file of another shape is named.
    let output = filing(&["--eval", &corpus_json]);
    assert_eq!(output.status.code(), Some(2), "{}", summary(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("corpus.json:"),
        "{}",
        summary(&output)
    );
}
