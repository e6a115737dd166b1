//! `hegui audit` on a SQLite ledger that the tests fill through `hegui-store`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hegui_store::ledger::NewRecord;
use hegui_store::{RecordId, Store, WriterOptions};

use crate::util::{hegui, summary};

struct Ledger {
    dir: tempfile::TempDir,
    url: String,
    key: PathBuf,
    public: PathBuf,
    ids: Vec<RecordId>,
}

/// 20 records (end users u0..u2), checkpoints every 10; times `days_ago` days back.
fn ledger(days_ago: i64) -> Ledger {
    ledger_with(days_ago, 10)
}

/// [`ledger`] with checkpoints every `checkpoint_every` records.
fn ledger_with(days_ago: i64, checkpoint_every: i64) -> Ledger {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("audit.db").display());
    let key = hegui_keys::SigningKey::generate(hegui_keys::Algorithm::Sm2);
    let (secret, public) = key.save(&dir.path().join("provider")).unwrap();
    let options = WriterOptions {
        key: Some(Arc::new(key)),
        checkpoint_every,
        ..WriterOptions::default()
    };
    let now = chrono_now_ms();
    let ids = hegui_store::block_on(async {
        let store = Store::open(&url).await.unwrap();
        let mut ids = Vec::new();
        for batch in 0..2 {
            let records: Vec<_> = (0..10)
                .map(|i| {
                    NewRecord::new("chat")
                        .end_user(format!("u{}", i % 3))
                        .request(format!("q{batch}-{i}"))
                        .response("a")
                        .at(now - days_ago * 86_400_000 + i)
                })
                .collect();
            for r in store.append_batch(&records, &options).await.unwrap() {
                ids.push(r.id);
            }
        }
        store.close().await;
        ids
    });
    Ledger {
        dir,
        url,
        key: secret,
        public,
        ids,
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn tamper(url: &str, sql: &str) {
    hegui_store::block_on(async {
        let store = Store::open(url).await.unwrap();
        store.execute_raw_for_tests(sql).await.unwrap();
        store.close().await;
    });
}

fn audit(l: &Ledger, args: &[&str]) -> std::process::Output {
    hegui()
        .arg("audit")
        .args(args)
        .env("HEGUI_DATABASE_URL", &l.url)
        .output()
        .unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn verify_reports_ok_and_signatures() {
    let l = ledger(1);
    let out = audit(&l, &["verify", "--public-key", p(&l.public)]);
    let key_id = hegui_keys::VerifyingKey::load(&l.public)
        .unwrap()
        .key_id()
        .to_owned();
    insta::assert_snapshot!(summary(&out).replace(&key_id, "[KEY]"));
    // The old flag name still works.
    assert!(
        audit(&l, &["verify", "--pub", p(&l.public)])
            .status
            .success()
    );
    let out = audit(&l, &["verify"]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signatures: not checked"));
    let out = audit(&l, &["verify", "--from", "15"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: seq 15..=20"));
}

#[test]
fn verify_names_the_first_broken_record() {
    for (sql, seq) in [
        (
            "UPDATE audit_records SET end_user = 'mallory' WHERE seq = 7",
            "seq 7:",
        ),
        ("DELETE FROM audit_records WHERE seq = 3", "seq 3:"),
        ("DELETE FROM audit_records WHERE seq > 17", "seq 18:"),
    ] {
        let l = ledger(1);
        tamper(&l.url, sql);
        let out = audit(&l, &["verify", "--pub", p(&l.public)]);
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with(&format!("broken: {seq}")),
            "{sql}: {stdout}"
        );
    }
    let l = ledger(1);
    tamper(
        &l.url,
        "UPDATE audit_records SET end_user = 'mallory' WHERE seq = 7",
    );
    let text = summary(&audit(&l, &["verify"])).replace(l.ids[6].as_str(), "[ID]");
    insta::assert_snapshot!(text);
}

#[test]
fn export_then_verify_with_the_public_key_only() {
    let l = ledger(1);
    let file = l.dir.path().join("out.jsonl");
    let out = audit(&l, &["export", "--user", "u1", "-o", p(&file)]);
    assert!(out.status.success(), "{}", summary(&out));
    let out = audit(&l, &["verify", "--export", p(&file), "--pub", p(&l.public)]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(20 lines, 6 records)"));
    // Changing one byte of the export is caught.
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("q0-1", "q0-2", 1);
    std::fs::write(&file, text).unwrap();
    let out = audit(&l, &["verify", "--export", p(&file), "--pub", p(&l.public)]);
    assert_eq!(out.status.code(), Some(1), "{}", summary(&out));
    // The time filters parse; bad ones are usage errors.
    let out = audit(
        &l,
        &[
            "export",
            "--since",
            "2000-01-01",
            "--until",
            "2999-01-01",
            "-o",
            p(&file),
        ],
    );
    assert!(out.status.success(), "{}", summary(&out));
    let out = audit(&l, &["export", "--since", "yesterday", "-o", p(&file)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn exports_get_the_umask_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let l = ledger(1);
    for (umask, mode) in [("022", 0o644), ("077", 0o600)] {
        let file = l.dir.path().join(format!("export-{umask}.jsonl"));
        let out = crate::util::hegui_with_umask(umask)
            .args(["audit", "export", "--database", &l.url, "-o", p(&file)])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", summary(&out));
        for path in [
            file.clone(),
            hegui_store::ledger::export::manifest_path(&file),
        ] {
            let got = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {umask}: {}", path.display());
        }
    }
}

#[test]
fn trace_by_id_and_by_labeled_file() {
    let l = ledger(1);
    let id = l.ids[4].as_str();
    let out = audit(&l, &["trace", id]);
    assert!(out.status.success(), "{}", summary(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(id) && stdout.contains("\"seq\": 5"),
        "{stdout}"
    );
    let file = l.dir.path().join("output.md");
    std::fs::write(
        &file,
        format!(
            "generated text\n<!-- AIGC {{\"AIGC\":{{\"Label\":\"1\",\"ContentProducer\":\"p\",\"ProduceID\":\"{id}\"}}}} -->\n"
        ),
    )
    .unwrap();
    let out = audit(&l, &["trace", p(&file)]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"seq\": 5"));
    let out = audit(&l, &["trace", "no-such-id"]);
    assert_eq!(out.status.code(), Some(1));
    let unlabeled = l.dir.path().join("plain.txt");
    std::fs::write(&unlabeled, "nothing").unwrap();
    let out = audit(&l, &["trace", p(&unlabeled)]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn prune_respects_retention_and_leaves_a_verifiable_rest() {
    let l = ledger(1);
    let out = audit(&l, &["prune", "--before", "2999-01-01", "--key", p(&l.key)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("retention"));
    let l = ledger(400);
    let out = audit(&l, &["prune", "--before", "2000-01-01", "--key", p(&l.key)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to prune"));
    let cutoff = date_days_ago(300);
    let out = audit(&l, &["prune", "--before", &cutoff, "--key", p(&l.key)]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pruned 20 records up to seq 20"));
    // Everything was old enough: the rest is empty, which is said, not passed as verified.
    let out = audit(&l, &["verify", "--public-key", p(&l.public)]);
    assert_eq!(out.status.code(), Some(1), "{}", summary(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("empty: the ledger has no records from seq 21 on"),
        "{}",
        summary(&out)
    );
    // New records after the boundary verify from it.
    hegui_store::block_on(async {
        let store = Store::open(&l.url).await.unwrap();
        let key = hegui_keys::SigningKey::load(&l.key).unwrap();
        let options = WriterOptions {
            key: Some(Arc::new(key)),
            checkpoint_every: 2,
            ..WriterOptions::default()
        };
        let records: Vec<_> = (0..2)
            .map(|i| NewRecord::new("chat").request(format!("new {i}")))
            .collect();
        store.append_batch(&records, &options).await.unwrap();
        store.close().await;
    });
    let out = audit(&l, &["verify", "--public-key", p(&l.public)]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("ok: seq 21..=22"),
        "{}",
        summary(&out)
    );
}

/// `YYYY-MM-DD` of `days` days ago (UTC), by the civil-from-days algorithm.
fn date_days_ago(days: i64) -> String {
    let z = chrono_now_ms() / 86_400_000 - days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn bad_database_url_is_a_usage_error() {
    let out = hegui()
        .args(["audit", "verify", "--database", "mysql://x/y"])
        .output()
        .unwrap();
    insta::assert_snapshot!(summary(&out));
}

/// Every subcommand with the database it would be pointed at by mistake.
fn every_subcommand(l: &Ledger) -> Vec<Vec<String>> {
    let key = p(&l.key).to_owned();
    let out = p(&l.dir.path().join("export.jsonl")).to_owned();
    [
        vec!["verify"],
        vec!["verify", "--public-key", p(&l.public)],
        vec!["trace", l.ids[0].as_str()],
        vec!["export", "-o", &out],
        vec!["export", "-o", &out, "--key", &key],
        vec!["prune", "--before", "2000-01-01", "--key", &key],
        vec!["checkpoint", "--key", &key],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

#[test]
fn no_subcommand_creates_a_database() {
    let l = ledger(1);
    let cwd = tempfile::tempdir().unwrap();
    let missing = l.dir.path().join("typo.db");
    for args in every_subcommand(&l) {
        // A mistyped path: an error naming it, and no file left behind.
        let out = hegui()
            .current_dir(cwd.path())
            .env_remove("HEGUI_CONFIG")
            .arg("audit")
            .args(&args)
            .arg("--database")
            .arg(format!("sqlite:{}", missing.display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", summary(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("`sqlite:{}` does not exist", missing.display())),
            "{args:?}: {stderr}"
        );
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
        // No database at all: an error, and no `hegui.db` in the working directory.
        let out = hegui()
            .current_dir(cwd.path())
            .env_remove("HEGUI_DATABASE_URL")
            .env_remove("HEGUI_CONFIG")
            .arg("audit")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", summary(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no database given"),
            "{args:?}: {}",
            summary(&out)
        );
        let left: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
}

#[test]
fn a_file_that_is_not_a_ledger_is_an_input_error() {
    let l = ledger(1);
    let empty = l.dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = hegui()
        .args(["audit", "verify", "--database"])
        .arg(format!("sqlite:{}", empty.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", summary(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a hegui database"),
        "{}",
        summary(&out)
    );
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "the file was written"
    );
}

#[test]
fn the_database_can_come_from_the_gateway_config() {
    let l = ledger(1);
    let config = l.dir.path().join("hegui.toml");
    std::fs::write(&config, format!("storage = \"{}\"\n", l.url)).unwrap();
    let out = hegui()
        .env_remove("HEGUI_DATABASE_URL")
        .args(["audit", "verify", "--config", p(&config)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", summary(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: seq 1..=20"));
}

#[test]
fn an_empty_ledger_is_reported_as_empty_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("new.db").display());
    hegui_store::block_on(async { Store::open(&url).await.unwrap().close().await });
    let out = hegui()
        .args(["audit", "verify", "--database", &url])
        .output()
        .unwrap();
    insta::assert_snapshot!(summary(&out));
}

#[test]
fn every_public_key_given_must_have_signed_a_checkpoint() {
    let l = ledger(1);
    let stranger = hegui_keys::SigningKey::generate(hegui_keys::Algorithm::Sm2);
    let (_, stranger_pub) = stranger.save(&l.dir.path().join("stranger")).unwrap();
    let own = p(&l.public);
    let other = p(&stranger_pub);
    let stranger_id = stranger.key_id().to_owned();
    // The right key alone: ok, and the output says how many signatures and by which key.
    let out = audit(&l, &["verify", "--public-key", own]);
    assert!(out.status.success(), "{}", summary(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signatures: 2 of 2 checkpoints verified"),
        "{}",
        summary(&out)
    );
    // The right key and one that signed nothing: a finding naming the second.
    let out = audit(&l, &["verify", "--public-key", own, "--public-key", other]);
    assert_eq!(out.status.code(), Some(1), "{}", summary(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("unmatched key: `{stranger_id}` signed none")),
        "{stdout}"
    );
    // Only a key that signed nothing: a finding, never "checked".
    let out = audit(&l, &["verify", "--public-key", other]);
    assert_eq!(out.status.code(), Some(1), "{}", summary(&out));
    // No checkpoints at all: the key matched none of them.
    let l = ledger_with(1, 1_000);
    let out = audit(&l, &["verify", "--public-key", p(&l.public)]);
    assert_eq!(out.status.code(), Some(1), "{}", summary(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signatures: none checked"),
        "{}",
        summary(&out)
    );
}
