//! Crash durability: a child process appends under load through the group-commit writer and is
//! killed with SIGKILL; every record it had acknowledged (printed) must be present afterwards,
//! and the chain must verify.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use hegui_store::Store;

#[test]
fn sigkill_under_load_loses_no_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("crash.db").display());
    // Create the database first, so the child's start-up is not part of the race.
    hegui_store::block_on(async { Store::open(&url).await.unwrap().close().await });
    let mut child = Command::new(env!("CARGO_BIN_EXE_hegui-ledger-load"))
        .args([url.as_str(), "64"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut reader = BufReader::new(stdout);
    let mut acknowledged = Vec::new();
    let mut line = String::new();
    while acknowledged.len() < 3_000 {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the child stopped early"
        );
        acknowledged.push(line.trim().to_owned());
    }
    // SIGKILL in the middle of the load: no chance to flush or clean up.
    child.kill().unwrap();
    // Lines printed before the kill were acknowledged too.
    for rest in reader.lines() {
        match rest {
            Ok(l) if !l.is_empty() => acknowledged.push(l),
            _ => break,
        }
    }
    child.wait().unwrap();
    hegui_store::block_on(async {
        let store = Store::open(&url).await.unwrap();
        let report = store.verify(&Default::default()).await.unwrap();
        assert!(report.is_ok(), "{report:?}");
        for ack in &acknowledged {
            let (seq, id) = ack.split_once(' ').unwrap();
            let record = store
                .record_by_id(id)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged record {ack} was lost"));
            assert_eq!(record.seq.to_string(), seq);
        }
        assert!(report.last_seq >= acknowledged.len() as i64);
        store.close().await;
    });
}
