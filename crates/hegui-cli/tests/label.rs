//! `hegui label add | read | verify`.

use std::path::Path;

use crate::util::{hegui, summary};

/// A well-formed producer code (labels.md §3: `001`, `1`, USCC `91440300708461136T`, `1XGW3`).
const CODE: &str = "001191440300708461136T1XGW3";

fn fixture(name: &str) -> std::path::PathBuf {
    crate::util::repo_root()
        .join("crates/hegui-label/tests/fixtures")
        .join(name)
}

fn keys(dir: &Path) {
    let output = hegui()
        .args(["keys", "generate", "-o"])
        .arg(dir.join("p"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

/// Replaces the temp dir and key ids (16 hex digits after a space or a quote, as in tables and
/// JSON) so snapshots are stable.
fn clean(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "[TMP]");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        let run = rest[at..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(rest.len(), |end| at + end);
        let before = rest[..at].chars().next_back();
        let word = &rest[at..run];
        out.push_str(&rest[..at]);
        if word.len() == 16
            && word.bytes().all(|b| b.is_ascii_hexdigit())
            && before.is_none_or(|c| c.is_whitespace() || c == '"')
        {
            out.push_str("[KEYID]");
        } else {
            out.push_str(word);
        }
        rest = &rest[run..];
    }
    out.push_str(rest);
    out
}

/// `label add FIXTURE --producer CODE --produce-id audit-42 --key DIR/p.key -o OUT`, with the
/// key pair made by [`keys`].
fn add_signed(dir: &Path, fixture_name: &str, out: &Path) -> std::process::Output {
    hegui()
        .args(["label", "add"])
        .arg(fixture(fixture_name))
        .args(["--producer", CODE, "--produce-id", "audit-42", "--key"])
        .arg(dir.join("p.key"))
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

/// `label verify PATHS… --public-key DIR/p.pub`.
fn verify_with_key(dir: &Path, paths: &[&Path]) -> std::process::Output {
    hegui()
        .args(["label", "verify"])
        .args(paths)
        .arg("--public-key")
        .arg(dir.join("p.pub"))
        .output()
        .unwrap()
}

#[test]
fn add_then_verify_then_tamper() {
    let dir = tempfile::tempdir().unwrap();
    keys(dir.path());
    let out = dir.path().join("cat.png");
    let add = add_signed(dir.path(), "image.png", &out);
    insta::assert_snapshot!(clean(&summary(&add), dir.path()), @r"
    exit: 0
    --- stdout
    [TMP]/cat.png	png	audit-42	signed
    --- stderr
    labeled 1 file(s), 0 failed
    ");
    let verify = verify_with_key(dir.path(), &[&out]);
    insta::assert_snapshot!(clean(&summary(&verify), dir.path()), @r"
    exit: 0
    --- stdout
    intact	[TMP]/cat.png	key [KEYID]
    1 of 1 file(s) intact
    --- stderr
    ");
    let read = hegui().args(["label", "read"]).arg(&out).output().unwrap();
    insta::assert_snapshot!(clean(&summary(&read), dir.path()), @r"
    exit: 0
    --- stdout
    [TMP]/cat.png	png	png-xmp	Label=1 ContentProducer=001191440300708461136T1XGW3 ProduceID=audit-42	format: valid	signature: present, not checked (run `hegui label verify`)
    --- stderr
    1 file(s): 1 labeled, 0 without a label, 0 unreadable
    ");
    // Change one byte of the image data: verification fails with exit 1.
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes.windows(4).position(|w| w == b"IDAT").unwrap() + 8;
    bytes[at] ^= 1;
    std::fs::write(&out, bytes).unwrap();
    let unlabeled = fixture("image.jpg");
    let verify = verify_with_key(dir.path(), &[&out, &unlabeled]);
    let text = clean(&summary(&verify), dir.path())
        .replace(&crate::util::repo_root().display().to_string(), "[REPO]");
    insta::assert_snapshot!(text, @r"
    exit: 1
    --- stdout
    tampered-content	[TMP]/cat.png
    absent	[REPO]/crates/hegui-label/tests/fixtures/image.jpg	no label (possibly stripped)
    0 of 2 file(s) intact
    --- stderr
    ");
}

#[test]
fn directories_are_walked_and_mirrored() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::copy(fixture("audio.wav"), src.join("a.wav")).unwrap();
    std::fs::copy(fixture("document.md"), src.join("sub/b.md")).unwrap();
    std::fs::write(src.join("notes.bin"), b"ignored").unwrap();
    let add = hegui()
        .args(["label", "add"])
        .arg(&src)
        .args(["--producer", "P1", "-o"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(add.status.code(), Some(0), "{}", summary(&add));
    let read = hegui()
        .args(["label", "read", "--format", "json"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(read.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let carriers: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"]["carrier"].as_str().unwrap())
        .collect();
    assert_eq!(carriers, ["riff-chunk", "front-matter"]);
    assert!(
        json[0]["label"]["label"]["ProduceID"]
            .as_str()
            .unwrap()
            .starts_with("sm3-")
    );
}

#[test]
fn explicit_labels_and_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("a.txt");
    std::fs::write(&txt, "生成的回答").unwrap();
    let no = hegui()
        .args(["label", "add"])
        .arg(&txt)
        .args(["--producer", "P", "--in-place"])
        .output()
        .unwrap();
    assert_eq!(no.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&no.stderr).contains("plain text has no implicit-label carrier")
    );
    let yes = hegui()
        .args(["label", "add"])
        .arg(&txt)
        .args([
            "--producer",
            "P",
            "--in-place",
            "--explicit",
            "--position",
            "both",
        ])
        .output()
        .unwrap();
    assert_eq!(yes.status.code(), Some(0), "{}", summary(&yes));
    assert_eq!(
        std::fs::read_to_string(&txt).unwrap(),
        "【本内容由人工智能（AI）生成】\n生成的回答\n【本内容由人工智能（AI）生成】"
    );

    let png = dir.path().join("big.png");
    std::fs::write(&png, hegui_label::testdata::png_image(200, 100)).unwrap();
    let out = hegui()
        .args(["label", "add"])
        .arg(&png)
        .args(["--producer", "P", "--in-place", "--explicit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("+caption"));
}

#[test]
fn corrupt_and_unknown_files_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR").unwrap();
    let out = hegui().args(["label", "read"]).arg(&bad).output().unwrap();
    insta::assert_snapshot!(clean(&summary(&out), dir.path()), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `[TMP]/broken.png`: corrupt png at byte 16: needs 13 bytes, only 0 left
    1 file(s): 0 labeled, 0 without a label, 1 unreadable
    ");
    let unknown = dir.path().join("x.bin");
    std::fs::write(&unknown, b"hello").unwrap();
    let out = hegui()
        .args(["label", "add"])
        .arg(&unknown)
        .args(["--producer", CODE, "--in-place"])
        .output()
        .unwrap();
    insta::assert_snapshot!(clean(&summary(&out), dir.path()), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `[TMP]/x.bin`: not a supported format (PNG, JPEG, WebP, WAV, MP3, FLAC, Ogg, MP4/MOV/M4A, PDF, DOCX/XLSX/PPTX, Markdown)
    ");
}

/// Issue "Every answer can be trusted", item 6: a file written through the temporary file and
/// the rename got mode 0600 whatever the umask. A new file (`label add -o`, `scan -o`) gets the
/// mode the umask gives; `--in-place` keeps the original file's mode.
#[cfg(unix)]
#[test]
fn new_files_follow_the_umask_and_in_place_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let run = |cmd: &mut assert_cmd::Command| {
        let output = cmd.output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", summary(&output));
    };
    for (umask, new_mode) in [("022", 0o644), ("077", 0o600)] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new.png");
        run(crate::util::hegui_with_umask(umask)
            .args(["label", "add"])
            .arg(fixture("image.png"))
            .args(["--producer", CODE, "-o"])
            .arg(&out));
        assert_eq!(mode(&out), new_mode, "label add -o, umask {umask}");
        let report = dir.path().join("report.txt");
        run(crate::util::hegui_with_umask(umask)
            .args(["scan", "-", "-o"])
            .arg(&report)
            .write_stdin("今天天气很好。"));
        assert_eq!(mode(&report), new_mode, "scan -o, umask {umask}");
        for original in [0o644, 0o640, 0o600, 0o664] {
            let path = dir.path().join(format!("in-place-{original:o}.png"));
            std::fs::copy(fixture("image.png"), &path).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(original)).unwrap();
            run(crate::util::hegui_with_umask(umask)
                .args(["label", "add"])
                .arg(&path)
                .args(["--producer", CODE, "--in-place"]));
            assert_eq!(mode(&path), original, "--in-place, umask {umask}");
        }
    }
}

/// Issue "Every answer can be trusted", item 4: `--producer BAD` was taken without a word. A
/// value that looks like a malformed producer code draws a warning naming the rule and its
/// confidence, exit code unchanged (a name is fine: the standard allows name or code); a value
/// the writer refuses is refused once, before any file is written, with its rule.
#[test]
fn label_values_are_checked_with_the_rule_they_break() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.md");
    std::fs::copy(fixture("document.md"), &input).unwrap();
    let cases: &[&[&str]] = &[
        &["--producer", CODE],
        &["--producer", "Doubao"],
        &["--producer", "BAD"],
        &["--producer", "011200000091000000000000"],
        &["--producer", "001191440300708461136X1XGW3"],
        &["--producer", "豆包"],
        &["--producer", CODE, "--produce-id", "id with spaces"],
        &["--producer", CODE, "--notice", "AI生成"],
        &["--producer", CODE, "--explicit", "--notice", "机器写的"],
    ];
    let mut report = String::new();
    for args in cases {
        let out = dir.path().join("out.md");
        let _ = std::fs::remove_file(&out);
        let output = hegui()
            .args(["label", "add"])
            .arg(&input)
            .args(*args)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        report.push_str(&format!(
            "$ hegui label add in.md {} -o out.md\n{}written: {}\n\n",
            args.join(" "),
            clean(&summary(&output), dir.path()),
            out.exists()
        ));
    }
    insta::assert_snapshot!(report);
}

/// Issue "Every answer can be trusted", item 3: `label read` printed `signed valid` for a file
/// whose fields were tampered with (`label verify` says `tampered-fields`): "valid" meant the
/// Annex E format rules but read as "signature valid". The format and the signature are now
/// separate in every output, and read never calls a signature good: it does not check it.
#[test]
fn read_separates_the_label_format_from_the_unchecked_signature() {
    let dir = tempfile::tempdir().unwrap();
    keys(dir.path());
    let doc = dir.path().join("doc.md");
    let add = add_signed(dir.path(), "document.md", &doc);
    assert_eq!(add.status.code(), Some(0), "{}", summary(&add));
    // Change the signed `ProduceID` (not the propagator's copy).
    let text = std::fs::read_to_string(&doc).unwrap();
    std::fs::write(&doc, text.replacen("audit-42", "audit-43", 1)).unwrap();
    let verify = verify_with_key(dir.path(), &[&doc]);
    assert!(String::from_utf8_lossy(&verify.stdout).starts_with("tampered-fields"));
    let other = dir.path().join("other-code.md");
    std::fs::write(&other, text.replacen("HG1:", "XX1:", 1)).unwrap();
    let read = hegui()
        .args(["label", "read"])
        .arg(&doc)
        .arg(&other)
        .output()
        .unwrap();
    let shown = clean(&summary(&read), dir.path());
    assert!(!shown.contains("signed"), "{shown}");
    insta::assert_snapshot!(shown, @r"
    exit: 0
    --- stdout
    [TMP]/doc.md	markdown	front-matter	Label=1 ContentProducer=001191440300708461136T1XGW3 ProduceID=audit-43	format: valid	signature: present, not checked (run `hegui label verify`)
    [TMP]/other-code.md	markdown	front-matter	Label=1 ContentProducer=001191440300708461136T1XGW3 ProduceID=audit-42	format: valid	signature: other, not checked (`ReservedCode1` is not a hegui code)
    --- stderr
    2 file(s): 2 labeled, 0 without a label, 0 unreadable
    ");
    let json = hegui()
        .args(["label", "read", "--format", "json"])
        .arg(&doc)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let record = &json[0];
    insta::assert_json_snapshot!(
        [&record["label_format"], &record["signature"], &record["signature_checked"]],
        @r#"
        [
          "valid",
          "present",
          false
        ]
        "#
    );
}

/// Issue "Every answer can be trusted", item 5, through the CLI: the checker sample's form (three
/// `AIGC:` attributes and `XmpKvBase64` in a JPEG) failed with "label value is not Annex E
/// JSON"; `read` now shows the label, both carriers and the duplicate.
#[test]
fn read_shows_labels_other_tools_write_into_xmp() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = crate::util::repo_root().join("crates/hegui-label/tests/fixtures");
    let mut paths = Vec::new();
    for name in ["fields-and-base64.xmp", "fields-and-base64-disagree.xmp"] {
        let packet = std::fs::read_to_string(fixtures.join("xmp").join(name)).unwrap();
        let jpeg = std::fs::read(fixtures.join("image.jpg")).unwrap();
        let file = hegui_label::testdata::with_xmp(&jpeg, hegui_label::Format::Jpeg, &packet);
        let path = dir.path().join(name.replace(".xmp", ".jpg"));
        std::fs::write(&path, file.unwrap()).unwrap();
        paths.push(path);
    }
    let read = hegui()
        .args(["label", "read"])
        .args(&paths)
        .output()
        .unwrap();
    insta::assert_snapshot!(clean(&summary(&read), dir.path()), @r"
    exit: 0
    --- stdout
    [TMP]/fields-and-base64.jpg	jpeg	xmp-kv-base64+xmp-fields	Label=1 ContentProducer=001191440300708461136T1XGW3 ProduceID=img-0005	format: invalid (1 more label(s) in the file (`xmp-fields`); one label per file is required)	signature: absent
    [TMP]/fields-and-base64-disagree.jpg	jpeg	xmp-kv-base64+xmp-fields	Label=2 ContentProducer=001191440300708461136T1XGW3 ProduceID=img-0006-b	format: invalid (1 more label(s) in the file (`xmp-fields`); one label per file is required; `xmp-kv-base64` and `xmp-fields` disagree on `Label` (`2` vs `1`), `ProduceID` (`img-0006-b` vs `img-0006-a`))	signature: absent
    --- stderr
    2 file(s): 2 labeled, 0 without a label, 0 unreadable
    ");
}

/// Issue "Every answer can be trusted", item 10: one vocabulary across `label` and `keys`
/// (`-o/--output`, `--public-key` repeatable, `--format table|json`, `--key`), the old spellings
/// kept as hidden aliases, and one meaning for exit codes: 0 ok, 1 a finding (verify: a file not
/// intact; read has none), 2 usage or input error (a missing or unreadable file, with its path).
#[test]
fn one_vocabulary_and_exit_codes_for_label_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keys(d);
    let other_key = hegui()
        .args(["keys", "generate", "--output"])
        .arg(d.join("q"))
        .output()
        .unwrap();
    assert_eq!(other_key.status.code(), Some(0), "{}", summary(&other_key));
    assert_eq!(
        add_signed(d, "image.png", &d.join("ok.png")).status.code(),
        Some(0)
    );
    let mut bad = std::fs::read(d.join("ok.png")).unwrap();
    let at = bad.windows(4).position(|w| w == b"IDAT").unwrap() + 8;
    bad[at] ^= 1;
    std::fs::write(d.join("bad.png"), bad).unwrap();
    std::fs::write(d.join("broken.png"), b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR").unwrap();
    std::fs::copy(fixture("image.jpg"), d.join("plain.jpg")).unwrap();
    // (arguments, the earlier case whose output it must repeat: an old spelling).
    let cases: &[(&str, Option<usize>)] = &[
        ("label verify ok.png --public-key p.pub", None),
        ("label verify ok.png --pubkey p.pub", Some(0)),
        ("label verify ok.png --pub p.pub", Some(0)),
        (
            "label verify ok.png --public-key q.pub --public-key p.pub",
            Some(0),
        ),
        (
            "label verify ok.png bad.png plain.jpg --public-key p.pub",
            None,
        ),
        ("label verify ok.png broken.png --public-key p.pub", None),
        ("label verify missing.png --public-key p.pub", None),
        ("label verify ok.png --public-key missing.pub", None),
        (
            "label verify ok.png bad.png --public-key p.pub --format json",
            None,
        ),
        (
            "label verify ok.png bad.png --public-key p.pub --json",
            Some(8),
        ),
        ("label read plain.jpg --format json", None),
        ("label read plain.jpg --json", Some(10)),
        ("label read plain.jpg --json --format table", None),
        ("label read plain.jpg broken.png", None),
        ("label read missing.png", None),
        (
            "label add plain.jpg --producer 001191440300708461136T1XGW3 --output o1.jpg",
            None,
        ),
        (
            "label add plain.jpg --producer 001191440300708461136T1XGW3 --out o2.jpg",
            None,
        ),
        ("keys generate --output k1", None),
        ("keys generate --out k2", None),
    ];
    let mut outputs: Vec<String> = Vec::new();
    let mut report = String::new();
    for (args, same_as) in cases {
        let output = hegui()
            .current_dir(d)
            .args(args.split(' '))
            .output()
            .unwrap();
        let shown = clean(&summary(&output), d);
        report.push_str(&format!("$ hegui {args}\n"));
        match same_as {
            Some(index) => {
                assert_eq!(shown, outputs[*index], "{args}");
                report.push_str(&format!("(same as `hegui {}`)\n\n", cases[*index].0));
            }
            None => report.push_str(&format!("{shown}\n")),
        }
        outputs.push(shown);
    }
    assert!(d.join("o1.jpg").exists() && d.join("o2.jpg").exists());
    assert!(d.join("k1.key").exists() && d.join("k2.pub").exists());
    insta::assert_snapshot!(report);
}

/// The old spellings work but are not offered: `--help` shows only the new vocabulary.
#[test]
fn old_spellings_are_hidden_from_help() {
    let mut help = String::new();
    for command in [
        &["label", "add", "--help"][..],
        &["label", "read", "--help"],
        &["label", "verify", "--help"],
        &["keys", "generate", "--help"],
    ] {
        let output = hegui().args(command).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        help.push_str(&String::from_utf8_lossy(&output.stdout));
    }
    for old in ["--out ", "--out,", "--pubkey", "--pub ", "--json"] {
        assert!(!help.contains(old), "help offers `{old}`:\n{help}");
    }
    for new in ["--output", "--public-key", "--format", "--key"] {
        assert!(help.contains(new), "help lacks `{new}`:\n{help}");
    }
}

/// With the ledger (`--database`), `label add --produce-id` refuses an id that a takedown names,
/// in whichever tenant, before any file is written; another id, or no ledger, labels as before.
#[test]
fn a_taken_down_produce_id_is_not_labeled_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("audit.db").display());
    let takedown = hegui_store::block_on(async {
        let store = hegui_store::Store::open(&url).await.unwrap();
        let new = hegui_store::takedowns::NewTakedown {
            record_id: "rec-illegal".into(),
            reason: "违法内容 illegal content".into(),
            risk: "A1".into(),
            ..Default::default()
        };
        let takedown = store.create_takedown("acme", "op1", new).await.unwrap();
        store.close().await;
        takedown
    });
    let out = dir.path().join("out.png");
    // (ProduceID, with the ledger, exit code)
    let cases = [
        ("rec-illegal", true, 2),
        ("rec-fine", true, 0),
        ("rec-illegal", false, 0),
    ];
    for (id, with_ledger, code) in cases {
        let _ = std::fs::remove_file(&out);
        let mut command = hegui();
        command
            .args(["label", "add"])
            .arg(fixture("image.png"))
            .args(["--producer", CODE, "--produce-id", id, "-o"])
            .arg(&out)
            .env_remove("HEGUI_DATABASE_URL")
            .env_remove("HEGUI_CONFIG");
        if with_ledger {
            command.args(["--database", &url]);
        }
        let output = command.output().unwrap();
        assert_eq!(output.status.code(), Some(code), "{id}: {output:?}");
        assert_eq!(out.exists(), code == 0, "{id}: written only when labeled");
        if code == 2 {
            let text = clean(&summary(&output), dir.path())
                .replace(&takedown.id, "[TAKEDOWN]")
                .replace(
                    &hegui_gateway::clock::beijing_rfc3339(takedown.created_ms),
                    "[TIME]",
                );
            insta::assert_snapshot!(text, @r"
            exit: 2
            --- stdout
            --- stderr
            error: ProduceID `rec-illegal` was taken down on [TIME] (takedown `[TAKEDOWN]`, tenant `acme`, by `op1`: 违法内容 illegal content); content taken down is not labeled or served again
            ");
        }
    }
}
