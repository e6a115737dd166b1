//! The same suite on SQLite and PostgreSQL: repositories, appends, verification, tampering,
//! concurrency, prune.

mod common;

use std::sync::Arc;

use common::TestDb;
use hegui_store::ledger::NewRecord;
use hegui_store::tenants::ApiKey;
use hegui_store::users::UserState;
use hegui_store::{AuditWriter, Store, WriterOptions};

fn key() -> Arc<hegui_keys::SigningKey> {
    Arc::new(hegui_keys::SigningKey::generate(hegui_keys::Algorithm::Sm2))
}

fn ring(key: &hegui_keys::SigningKey) -> hegui_keys::KeyRing {
    let mut ring = hegui_keys::KeyRing::new();
    ring.insert(key.verifying_key().clone());
    ring
}

fn rec(i: usize) -> NewRecord {
    NewRecord::new("chat")
        .tenant("t1")
        .end_user(format!("u{}", i % 3))
        .request(format!("question {i}"))
        .response(format!("answer {i}"))
        .latency(i as i64)
}

async fn fill(store: &Store, n: usize, options: &WriterOptions) {
    let records: Vec<_> = (0..n).map(rec).collect();
    store.append_batch(&records, options).await.unwrap();
}

async fn verify_break(store: &Store) -> Option<(i64, String)> {
    let report = store.verify(&Default::default()).await.unwrap();
    report.broken.map(|b| (b.seq, b.reason))
}

async fn tenants_and_keys(db: &TestDb) {
    let store = db.open().await;
    store.create_tenant("t1", "Tenant One").await.unwrap();
    assert_eq!(
        store.tenant("t1").await.unwrap().unwrap().name,
        "Tenant One"
    );
    assert!(store.create_tenant("t1", "again").await.is_err());
    let (info, text) = store.create_api_key("t1", "prod").await.unwrap();
    assert!(text.starts_with("hg_"));
    let found: ApiKey = store.authenticate(&text).await.unwrap().unwrap();
    assert_eq!(found.key_id, info.key_id);
    // A wrong secret with the right key id, garbage, and a revoked key all fail.
    let mut wrong = text.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    assert_eq!(store.authenticate(&wrong).await.unwrap(), None);
    assert_eq!(store.authenticate("nonsense").await.unwrap(), None);
    store.revoke_api_key(&info.key_id).await.unwrap();
    assert_eq!(store.authenticate(&text).await.unwrap(), None);
    assert!(store.revoke_api_key(&info.key_id).await.is_err());
    assert_eq!(store.api_keys("t1").await.unwrap().len(), 1);
    store.close().await;
}
both!(tenants_and_keys_work, tenants_and_keys);

async fn users_and_sanctions(db: &TestDb) {
    let store = db.open().await;
    store.set_minor("t1", "alice", true).await.unwrap();
    let alice = store.end_user("t1", "alice").await.unwrap().unwrap();
    assert_eq!((alice.state, alice.minor), (UserState::Normal, true));
    let s = store
        .sanction(
            "t1",
            "alice",
            UserState::Suspended,
            "repeated violations",
            Some("rec1"),
            "policy",
        )
        .await
        .unwrap();
    assert_eq!(s.state, UserState::Suspended);
    let alice = store.end_user("t1", "alice").await.unwrap().unwrap();
    assert_eq!((alice.state, alice.minor), (UserState::Suspended, true));
    store
        .sanction("t1", "bob", UserState::Warned, "first", None, "li")
        .await
        .unwrap();
    assert_eq!(
        store.end_user("t1", "bob").await.unwrap().unwrap().state,
        UserState::Warned
    );
    assert_eq!(store.sanctions("t1", "alice").await.unwrap().len(), 1);
    assert_eq!(store.end_user("t1", "nobody").await.unwrap(), None);
    store.close().await;
}
both!(users_and_sanctions_work, users_and_sanctions);

async fn identity_and_minors(db: &TestDb) {
    use hegui_store::users::IdentityStatus;
    let store = db.open().await;
    // Unknown users are created; the fields round-trip.
    let carol = store
        .set_identity("t1", "carol", true, "sms")
        .await
        .unwrap();
    assert_eq!(
        (
            carol.identity,
            carol.identity_source.as_deref(),
            carol.minor
        ),
        (IdentityStatus::Verified, Some("sms"), false)
    );
    assert!(carol.identity_ms.is_some());
    assert_eq!(store.end_user("t1", "carol").await.unwrap().unwrap(), carol);
    let dave = store.set_minor("t1", "dave", true).await.unwrap();
    assert_eq!(
        (dave.identity, dave.identity_source, dave.minor),
        (IdentityStatus::Unverified, None, true)
    );
    // Setting one keeps the other, and a sanction keeps both.
    let dave = store
        .set_identity("t1", "dave", true, "header")
        .await
        .unwrap();
    assert!(dave.minor);
    let dave = store.set_minor("t1", "dave", false).await.unwrap();
    assert_eq!(dave.identity, IdentityStatus::Verified);
    store
        .sanction("t1", "dave", UserState::Warned, "test", None, "li")
        .await
        .unwrap();
    let dave = store.end_user("t1", "dave").await.unwrap().unwrap();
    assert_eq!(
        (dave.state, dave.identity, dave.identity_source.as_deref()),
        (UserState::Warned, IdentityStatus::Verified, Some("header"))
    );
    let dave = store
        .set_identity("t1", "dave", false, "admin")
        .await
        .unwrap();
    assert_eq!(dave.identity, IdentityStatus::Unverified);
    // Sources are short lowercase words.
    for bad in ["", "SMS", "a b", &"x".repeat(33)] {
        assert!(
            store.set_identity("t1", "dave", true, bad).await.is_err(),
            "{bad:?}"
        );
    }
    store.close().await;
}
both!(identity_and_minors_work, identity_and_minors);

async fn minutes_of_use(db: &TestDb) {
    let store = db.open().await;
    let day = "2026-12-04";
    // (minute, limit) → (minutes counted, allowed)
    let steps = [
        ((600, 2), (1, true)),  // a first minute
        ((600, 2), (1, true)),  // the same minute again: not counted twice
        ((601, 2), (2, true)),  // a second minute: the limit reached
        ((601, 2), (2, true)),  // still within that minute
        ((602, 2), (2, false)), // a third minute: over the limit, not counted
        ((600, 2), (2, true)),  // a late request of a counted minute
        ((603, 3), (3, true)),  // a larger limit
    ];
    for ((minute, limit), expected) in steps {
        let got = store
            .count_use_minute("t1", "erin", day, minute, limit)
            .await
            .unwrap();
        assert_eq!((got.minutes, got.allowed), expected, "minute {minute}");
    }
    assert_eq!(store.minutes_used("t1", "erin", day).await.unwrap(), 3);
    // Another day, another user: counted apart.
    assert_eq!(
        store
            .minutes_used("t1", "erin", "2026-12-05")
            .await
            .unwrap(),
        0
    );
    let other = store
        .count_use_minute("t1", "frank", day, 603, 3)
        .await
        .unwrap();
    assert_eq!((other.minutes, other.allowed), (1, true));
    store.close().await;
}
both!(minutes_of_use_work, minutes_of_use);

async fn appends_verify_and_survive_reopen(db: &TestDb) {
    let key = key();
    let options = WriterOptions {
        key: Some(key.clone()),
        checkpoint_every: 7,
        ..WriterOptions::default()
    };
    let store = db.open().await;
    let writer = AuditWriter::start(store.clone(), options.clone());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(
            async move { writer.append(rec(i)).await.unwrap() },
        ));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap().seq);
    }
    seqs.sort();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    drop(writer);
    store.close().await;
    let store = db.open().await;
    let report = store
        .verify(&hegui_store::ledger::VerifyOptions {
            from: None,
            keys: Some(ring(&key)),
        })
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        (report.first_seq, report.last_seq, report.records),
        (1, 200, 200)
    );
    assert!(report.checkpoints > 0);
    // A different key's ring rejects the checkpoints.
    let other = key_ring_other();
    let report = store
        .verify(&hegui_store::ledger::VerifyOptions {
            from: None,
            keys: Some(other),
        })
        .await
        .unwrap();
    assert!(report.broken.unwrap().reason.contains("signature"));
    store.close().await;
}
both!(
    appends_verify_and_survive_reopen_works,
    appends_verify_and_survive_reopen
);

fn key_ring_other() -> hegui_keys::KeyRing {
    ring(&hegui_keys::SigningKey::generate(
        hegui_keys::Algorithm::Sm2,
    ))
}

async fn duplicate_id_fails_alone(db: &TestDb) {
    let store = db.open().await;
    let writer = AuditWriter::start(store.clone(), WriterOptions::default());
    let id = hegui_store::RecordId::generate();
    writer.append(rec(0).with_id(id.clone())).await.unwrap();
    let (a, b, c) = tokio::join!(
        writer.append(rec(1)),
        writer.append(rec(2).with_id(id.clone())),
        writer.append(rec(3))
    );
    assert!(a.is_ok() && b.is_err() && c.is_ok());
    assert_eq!(verify_break(&store).await, None);
    assert_eq!(store.head().await.unwrap().last_seq, 3);
    store.close().await;
}
both!(duplicate_id_fails_alone_works, duplicate_id_fails_alone);

/// Tampering directly in the database: verify names the first broken sequence number.
async fn tampering(db: &TestDb) {
    let cases: &[(&str, i64, &str)] = &[
        (
            "UPDATE audit_records SET outcome = 'blocked' WHERE seq = 5",
            5,
            "chain value",
        ),
        (
            "UPDATE audit_records SET request_text = 'changed' WHERE seq = 4",
            4,
            "digest",
        ),
        ("DELETE FROM audit_records WHERE seq = 6", 6, "missing"),
        (
            "UPDATE audit_records SET seq = -seq WHERE seq IN (3, 4); UPDATE audit_records SET seq = 7 + seq WHERE seq IN (-3, -4)",
            3,
            "chain value",
        ),
        ("DELETE FROM audit_records WHERE seq >= 9", 9, "missing"),
        // A stored chain value cut short.
        (
            "UPDATE audit_records SET hash = substr(hash, 1, 31) WHERE seq = 7",
            7,
            "chain value is 31 bytes",
        ),
        // Records removed just before a deleted one are reported first.
        (
            "DELETE FROM audit_records WHERE seq = 2; UPDATE audit_records SET hash = substr(hash, 1, 1) WHERE seq = 3",
            2,
            "missing",
        ),
        (
            "DELETE FROM audit_records WHERE seq >= 11; UPDATE ledger_head SET last_seq = 10",
            11,
            "missing",
        ),
    ];
    let options = WriterOptions {
        key: Some(key()),
        checkpoint_every: 12,
        ..WriterOptions::default()
    };
    expect_breaks(db, cases, 12, &options).await;
}

/// For each `(sql, seq, reason)`: an intact ledger of `n` records verifies, and after `sql` it
/// breaks at `seq` with a reason containing `reason`.
async fn expect_breaks(
    db: &TestDb,
    cases: &[(&str, i64, &str)],
    n: usize,
    options: &WriterOptions,
) {
    for (sql, seq, reason) in cases {
        let store = db.open().await;
        store.execute_raw_for_tests("DELETE FROM audit_records; DELETE FROM audit_checkpoints; UPDATE ledger_head SET last_seq = 0, last_hash = base_hash, checkpoint_seq = 0").await.unwrap();
        fill(&store, n, options).await;
        assert_eq!(verify_break(&store).await, None);
        store.execute_raw_for_tests(sql).await.unwrap();
        let (at, why) = verify_break(&store)
            .await
            .unwrap_or_else(|| panic!("{sql}: not detected"));
        assert_eq!((at, why.contains(reason)), (*seq, true), "{sql}: {why}");
        store.close().await;
    }
}
both!(tampering_is_detected, tampering);

/// The same tampering in a SQLite database in memory, which verification reads through sqlx
/// instead of a connection of its own.
#[test]
fn tampering_is_detected_in_memory() {
    hegui_store::block_on(tampering(&common::sqlite_memory()));
}

/// SQLite keeps whatever type an edit writes; verification names the column and the record
/// instead of failing to decode the row.
#[test]
fn sqlite_columns_of_the_wrong_type_are_breaks() {
    let cases: &[(&str, i64, &str)] = &[
        (
            "UPDATE audit_records SET time_ms = 'soon' WHERE seq = 4",
            4,
            "column `time_ms` holds text, not an integer",
        ),
        (
            "UPDATE audit_records SET request_digest = 'abc' WHERE seq = 3",
            3,
            "column `request_digest` holds text, not a blob",
        ),
        (
            "UPDATE audit_records SET response_digest = X'00' WHERE seq = 5",
            5,
            "column `response_digest` holds 1 bytes, not a 32-byte digest",
        ),
        (
            "UPDATE audit_records SET kind = X'6368' WHERE seq = 2",
            2,
            "column `kind` holds a blob, not text",
        ),
        (
            "UPDATE audit_records SET response_text = X'00' WHERE seq = 6",
            6,
            "column `response_text` holds a blob, not text or NULL",
        ),
    ];
    let db = common::sqlite();
    hegui_store::block_on(expect_breaks(&db, cases, 8, &WriterOptions::default()));
}

/// PostgreSQL keeps types, but not lengths: a digest or a bigint of the wrong size in the COPY
/// stream is the break at that record.
#[test]
fn postgres_values_of_the_wrong_length_are_breaks() {
    let Some(db) = common::postgres() else {
        return;
    };
    let cases: &[(&str, i64, &str)] = &[
        (
            "UPDATE audit_records SET request_digest = substr(request_digest, 1, 5) WHERE seq = 3",
            3,
            "column `request_digest` holds 5 bytes, not a 32-byte digest",
        ),
        (
            "UPDATE audit_records SET hash = hash || hash WHERE seq = 6",
            6,
            "chain value is 64 bytes long",
        ),
    ];
    hegui_store::block_on(expect_breaks(&db, cases, 8, &WriterOptions::default()));
}

/// Verifying while the gateway keeps appending: the walk sees one snapshot, so records
/// committed after it began are neither checked nor taken for a truncated head.
async fn verify_while_appending(db: &TestDb) {
    let store = db.open().await;
    fill(&store, 3_000, &WriterOptions::default()).await;
    let writer = AuditWriter::start(store.clone(), WriterOptions::default());
    let appending = {
        let writer = writer.clone();
        tokio::spawn(async move {
            for i in 0..2_000 {
                writer.append(rec(i)).await.unwrap();
            }
        })
    };
    for _ in 0..5 {
        let report = store.verify(&Default::default()).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.last_seq, report.records as i64);
    }
    appending.await.unwrap();
    let report = store.verify(&Default::default()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, 5_000);
    store.close().await;
}
both!(verify_while_appending_works, verify_while_appending);

async fn prune_keeps_rest_verifiable(db: &TestDb) {
    let key = key();
    let options = WriterOptions {
        key: Some(key.clone()),
        ..WriterOptions::default()
    };
    let store = db.open().await;
    let day = 86_400_000i64;
    let now = chrono::Utc::now().timestamp_millis();
    let old: Vec<_> = (0..10)
        .map(|i| rec(i).at(now - 400 * day + i as i64))
        .collect();
    let young: Vec<_> = (10..15).map(|i| rec(i).at(now - day)).collect();
    store.append_batch(&old, &options).await.unwrap();
    store.append_batch(&young, &options).await.unwrap();
    // Inside the retention period: refused.
    assert!(store.prune(now - 10 * day, &key).await.is_err());
    let report = store.prune(now - 200 * day, &key).await.unwrap();
    assert_eq!((report.removed, report.boundary_seq), (10, 10));
    let verify = store
        .verify(&hegui_store::ledger::VerifyOptions {
            from: None,
            keys: Some(ring(&key)),
        })
        .await
        .unwrap();
    assert!(verify.is_ok(), "{verify:?}");
    assert_eq!((verify.first_seq, verify.records), (11, 5));
    // Appending continues the chain.
    fill(&store, 3, &options).await;
    assert_eq!(verify_break(&store).await, None);
    // Tampering with the boundary checkpoint is caught.
    store
        .execute_raw_for_tests("UPDATE audit_checkpoints SET time_ms = time_ms + 1 WHERE seq = 10")
        .await
        .unwrap();
    let verify = store
        .verify(&hegui_store::ledger::VerifyOptions {
            from: None,
            keys: Some(ring(&key)),
        })
        .await
        .unwrap();
    assert_eq!(verify.broken.unwrap().seq, 10);
    store.close().await;
}
both!(
    prune_keeps_rest_verifiable_works,
    prune_keeps_rest_verifiable
);

/// Two stores (two "gateway instances") with their own writers append to one chain.
async fn several_writers(db: &TestDb) {
    let a = db.open().await;
    let b = db.open().await;
    let wa = AuditWriter::start(a.clone(), WriterOptions::default());
    let wb = AuditWriter::start(b.clone(), WriterOptions::default());
    let mut tasks = Vec::new();
    for i in 0..300 {
        let w = if i % 2 == 0 { wa.clone() } else { wb.clone() };
        tasks.push(tokio::spawn(
            async move { w.append(rec(i)).await.unwrap().seq },
        ));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
    assert_eq!(verify_break(&a).await, None);
    a.close().await;
    b.close().await;
}
both!(several_writers_share_one_chain, several_writers);

async fn export_round_trip(db: &TestDb) {
    use hegui_store::ledger::export::{self, ExportFilter};
    let key = key();
    let options = WriterOptions {
        key: Some(key.clone()),
        checkpoint_every: 10,
        ..WriterOptions::default()
    };
    let store = db.open().await;
    fill(&store, 20, &options).await;
    fill(&store, 5, &options).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.jsonl");
    let filter = ExportFilter {
        user: Some("u1".into()),
        ..ExportFilter::default()
    };
    // Records up to 25 but the last checkpoint is at 20: without a key, the tail cannot be
    // covered.
    assert!(store.export(&filter, None, &file).await.is_err());
    let manifest = store.export(&filter, Some(&key), &file).await.unwrap();
    assert_eq!(manifest.records, 9); // u1 = i % 3 == 1 for i in 0..20 and 0..5
    assert_eq!((manifest.start.seq, manifest.end.seq), (0, 25));
    let report = export::verify_export(&file, &ring(&key)).unwrap();
    assert_eq!(report.broken, None);
    assert_eq!((report.lines, report.records), (25, 9));
    // Only the public key is needed, and another key fails.
    let report = export::verify_export(&file, &key_ring_other()).unwrap();
    assert!(report.broken.unwrap().reason.contains("signature"));
    // A changed record: the file digest no longer matches; with the digest "fixed" too, the
    // chain no longer reaches the checkpoint.
    let text = std::fs::read_to_string(&file).unwrap();
    let tampered = text.replacen("answer 1\"", "answer X\"", 1);
    assert_ne!(text, tampered);
    std::fs::write(&file, &tampered).unwrap();
    let report = export::verify_export(&file, &ring(&key)).unwrap();
    assert!(report.broken.unwrap().reason.contains("SM3"));
    let manifest_file = export::manifest_path(&file);
    let mut m: export::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&manifest_file).unwrap()).unwrap();
    m.file_sm3 = hex::encode(hegui_keys::sm3(tampered.as_bytes()));
    let report = export::check_export(&m, tampered.as_bytes(), &ring(&key)).unwrap();
    assert_eq!(report.broken.unwrap().seq, 2);
    // A later export for a time window starts from a signed checkpoint, not the genesis.
    let filter = ExportFilter {
        user: Some("u2".into()),
        since_ms: Some(0),
        until_ms: None,
        tenant: None,
    };
    let manifest = store.export(&filter, Some(&key), &file).await.unwrap();
    assert_eq!(manifest.start.seq, 0);
    store.close().await;
}
both!(export_round_trip_works, export_round_trip);

/// `Access::ReadOnly` and `Access::Existing` never create a database: a missing one (a SQLite
/// file, a PostgreSQL schema) is an error and stays missing; an existing ledger opened
/// read-only verifies but refuses writes.
async fn only_create_creates(db: &TestDb) {
    use hegui_store::{Access, OpenOptions, StoreError};
    // The same location, with a name that does not exist yet.
    let (missing_url, missing_options) = match db.name {
        "postgres" => (
            db.url.clone(),
            OpenOptions {
                pg_schema: Some(format!("{}_missing", db.options.pg_schema.clone().unwrap())),
                ..db.options.clone()
            },
        ),
        _ => (format!("{}-missing.db", db.url), db.options.clone()),
    };
    for access in [Access::ReadOnly, Access::Existing] {
        let options = OpenOptions {
            access,
            ..missing_options.clone()
        };
        let err = Store::open_with(&missing_url, options).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Missing { .. } | StoreError::NotHegui { .. }
            ),
            "{access:?}: {err}"
        );
    }
    if db.name != "postgres" {
        let path = missing_url.strip_prefix("sqlite:").unwrap();
        assert!(!std::path::Path::new(path).exists(), "{path} was created");
    }
    // An existing ledger, read-only: verification works, appends are refused.
    let store = db.open().await;
    fill(&store, 5, &WriterOptions::default()).await;
    store.close().await;
    let read_only = Store::open_with(
        &db.url,
        OpenOptions {
            access: Access::ReadOnly,
            ..db.options.clone()
        },
    )
    .await
    .unwrap();
    let report = read_only.verify(&Default::default()).await.unwrap();
    assert!(report.is_ok() && report.records == 5, "{report:?}");
    assert!(
        read_only
            .append_batch(&[rec(9)], &WriterOptions::default())
            .await
            .is_err(),
        "a read-only store wrote"
    );
    read_only.close().await;
}
both!(only_create_creates_works, only_create_creates);

/// Every time the store writes for itself comes from the clock it was given: rows, audit records
/// (through both writers) and checkpoints.
async fn stamps_by_its_clock(db: &TestDb) {
    const AT: i64 = 1_772_415_000_000; // 2026-03-02T01:30:00Z, far from the system's time
    let clock: hegui_store::clock::Clock =
        Arc::new(|| chrono::DateTime::from_timestamp_millis(AT).unwrap());
    let store = db.open().await.with_clock(clock);
    assert_eq!(store.now_ms(), AT);
    let tenant = store.create_tenant("t1", "Tenant One").await.unwrap();
    assert_eq!(tenant.created_ms, AT);
    let options = WriterOptions {
        key: Some(key()),
        checkpoint_every: 1,
        ..WriterOptions::default()
    };
    let writer = AuditWriter::start(store.clone(), options.clone());
    let receipt = writer.append(rec(0)).await.unwrap();
    store.append_batch(&[rec(1)], &options).await.unwrap();
    let records = store.records_page(1, 10).await.unwrap();
    let times: Vec<i64> = records.iter().map(|(r, _)| r.time_ms).collect();
    assert_eq!(times, [AT, AT], "record {}", receipt.seq);
    let checkpoints = store.checkpoints_from(0).await.unwrap();
    assert!(!checkpoints.is_empty());
    assert!(
        checkpoints.iter().all(|c| c.time_ms == AT),
        "{checkpoints:?}"
    );
    store.close().await;
}
both!(stamps_by_its_clock_works, stamps_by_its_clock);
