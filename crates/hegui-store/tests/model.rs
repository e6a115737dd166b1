//! Model-based property test: random appends, reopens, tampering and verifications against an
//! in-memory model of the ledger, on both backends.

mod common;

use hegui_store::ledger::NewRecord;
use hegui_store::{Store, WriterOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<String>),
    Reopen,
    Verify,
    /// Edit the record at this fraction of the ledger.
    Edit(f64),
    /// Delete the record at this fraction of the ledger.
    Delete(f64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::vec("[a-z一-龥]{0,6}", 1..20).prop_map(Op::Append),
        1 => Just(Op::Reopen),
        2 => Just(Op::Verify),
        1 => (0.0..1.0f64).prop_map(Op::Edit),
        1 => (0.0..1.0f64).prop_map(Op::Delete),
    ]
}

/// The model: every appended request text by seq, which are deleted, and the first broken seq.
#[derive(Default)]
struct Model {
    requests: Vec<String>,
    deleted: Vec<bool>,
    first_break: Option<i64>,
}

impl Model {
    fn breaks_at(&mut self, seq: i64) {
        self.first_break = Some(self.first_break.map_or(seq, |b| b.min(seq)));
    }
}

async fn check(store: &Store, model: &Model) {
    let report = store.verify(&Default::default()).await.unwrap();
    assert_eq!(
        report.broken.as_ref().map(|b| b.seq),
        model.first_break,
        "{report:?}"
    );
    let head = store.head().await.unwrap();
    assert_eq!(head.last_seq, model.requests.len() as i64);
    if model.first_break.is_none() {
        assert_eq!(report.records, model.requests.len() as u64);
        let page = store.records_page(1, 1_000_000).await.unwrap();
        let texts: Vec<_> = page
            .iter()
            .map(|(r, _)| r.request_text.clone().unwrap())
            .collect();
        assert_eq!(texts, model.requests);
    }
}

async fn run(db: &common::TestDb, ops: &[Op]) {
    let mut store = db.open().await;
    let mut model = Model::default();
    let options = WriterOptions::default();
    for op in ops {
        match op {
            Op::Append(texts) => {
                let records: Vec<_> = texts
                    .iter()
                    .map(|t| NewRecord::new("chat").request(t.as_str()))
                    .collect();
                let receipts = store.append_batch(&records, &options).await.unwrap();
                for (r, t) in receipts.iter().zip(texts) {
                    model.requests.push(t.clone());
                    model.deleted.push(false);
                    assert_eq!(r.seq, model.requests.len() as i64);
                }
            }
            Op::Reopen => {
                store.close().await;
                store = db.open().await;
            }
            Op::Verify => check(&store, &model).await,
            Op::Edit(at) | Op::Delete(at) => {
                if model.requests.is_empty() {
                    continue;
                }
                let index =
                    ((model.requests.len() as f64 * at) as usize).min(model.requests.len() - 1);
                if model.deleted[index] {
                    continue;
                }
                let seq = index as i64 + 1;
                let sql = if matches!(op, Op::Edit(_)) {
                    format!("UPDATE audit_records SET outcome = 'edited' WHERE seq = {seq}")
                } else {
                    model.deleted[index] = true;
                    format!("DELETE FROM audit_records WHERE seq = {seq}")
                };
                store.execute_raw_for_tests(&sql).await.unwrap();
                model.breaks_at(seq);
            }
        }
    }
    check(&store, &model).await;
    store.close().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]
    #[test]
    fn ledger_matches_model(ops in proptest::collection::vec(op(), 1..25)) {
        for db in common::backends() {
            hegui_store::block_on(run(&db, &ops));
        }
    }
}
