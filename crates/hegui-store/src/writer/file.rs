//! The writer for a SQLite database file: the same batches, numbering, chaining, checkpoints
//! and replies as the sqlx writer, on a plain `rusqlite` connection of its own, on its own
//! thread, with no async runtime in between.
//!
//! Why: through sqlx, every row cost about 13 µs on the database thread (a boxed value and an
//! `Arc<String>` per text parameter, a hand-over to sqlx's worker thread per statement, and
//! SQLite copying each text again), which capped group commit near 70k records/s however many
//! callers waited. Here a prepared single-row `INSERT` is bound straight from the record.
//!
//! WAL checkpoints run on a second connection on a thread of its own, as in the sqlx writer
//! (see [`super::checkpointer`]), so that no commit copies the WAL back itself.

use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::mpsc;

use super::{
    CHECKPOINT_PAUSE, HEAD_FOR_APPEND_SQL, INSERT_CHECKPOINT_SQL, Job, Reply, UPDATE_HEAD_SQL,
    WriterOptions, answer, insert_one_sql, only, receipts,
};
use crate::StoreError;
use crate::clock::Clock;
use crate::ledger::{self, Checkpoint, Receipt, Record};

/// The commit delay: after a batch of at least [`COMMIT_SIBLINGS`] records, the writer waits
/// this long before it takes the next batch, so that more records share its commit. A commit
/// costs the writer about 85 µs of CPU whatever its size (SQLite's transaction, the WAL frames,
/// the `fsync`), and a busy writer commits about 3,000 times a second, one `fsync` after
/// another; waiting lets the batches grow instead (BENCHMARKS.md, "where the CPU goes").
const COMMIT_DELAY: Duration = Duration::from_micros(500);

/// The batch size from which the next batch waits [`COMMIT_DELAY`]: records are then arriving
/// faster than one per commit. At 1,000 records a second, arriving at random during commits of
/// 0.3 ms, a batch of four or more comes about once in 3,500 commits, so there a record's wait
/// stays one commit (as PostgreSQL's `commit_siblings` keeps `commit_delay` off a quiet server).
const COMMIT_SIBLINGS: usize = 4;

/// Runs until every `AuditWriter` is gone.
pub(super) fn run(
    path: &Path,
    options: &WriterOptions,
    clock: &Clock,
    receiver: &mut mpsc::Receiver<Job>,
) {
    let (wrote, checkpoints) = std_mpsc::sync_channel::<()>(1);
    let checkpointer = {
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("hegui-audit-checkpoint".into())
            .spawn(move || checkpointer(&path, &checkpoints))
            .ok()
    };
    let limit = options.max_batch.max(1);
    let mut jobs = Vec::with_capacity(limit);
    let mut conn: Option<Connection> = None;
    let mut busy = false;
    loop {
        if receiver.blocking_recv_many(&mut jobs, limit) == 0 {
            break;
        }
        // A batch that is full already has nothing to wait for.
        if busy && jobs.len() < limit {
            std::thread::sleep(COMMIT_DELAY);
            while jobs.len() < limit {
                let Ok(job) = receiver.try_recv() else { break };
                jobs.push(job);
            }
        }
        busy = jobs.len() >= COMMIT_SIBLINGS;
        let (records, replies): (Vec<Record>, Vec<Reply>) = jobs.drain(..).unzip();
        let result = append(&mut conn, path, &records, options, clock);
        if result.is_ok() {
            // Full means a checkpoint is due already.
            let _ = wrote.try_send(());
        }
        for (record, reply) in answer(&records, replies, result) {
            let result = append(
                &mut conn,
                path,
                std::slice::from_ref(record),
                options,
                clock,
            );
            let _ = reply.send(only(result));
        }
    }
    drop(wrote);
    if let Some(handle) = checkpointer {
        let _ = handle.join();
    }
}

/// Opens and configures a connection: every commit fsynced, statement journals in memory, a
/// 16 MiB page cache, SQLite's own checkpoints only as a backstop.
fn open(path: &Path) -> Result<Connection, StoreError> {
    let e = || StoreError::sqlite("opening the database for the audit writer");
    let conn = Connection::open(path).map_err(e())?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(e())?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA temp_store = memory; PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 16384;",
    )
    .map_err(StoreError::sqlite("configuring the audit writer"))?;
    Ok(conn)
}

/// Copies the WAL back into the database file after commits, at most every
/// [`CHECKPOINT_PAUSE`], on a connection of its own (`PASSIVE` never blocks the writer).
fn checkpointer(path: &Path, wrote: &std_mpsc::Receiver<()>) {
    let Ok(conn) = open(path) else {
        return;
    };
    while wrote.recv().is_ok() {
        // A failed checkpoint is retried after the next commit; the backstop bounds the WAL.
        let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
        std::thread::sleep(CHECKPOINT_PAUSE);
    }
}

/// Numbers, chains and inserts `records` in one transaction under the ledger's write lock
/// (`BEGIN IMMEDIATE`), on the writer's connection (opened again after a failure).
fn append(
    slot: &mut Option<Connection>,
    path: &Path,
    records: &[Record],
    options: &WriterOptions,
    clock: &Clock,
) -> Result<Vec<Receipt>, StoreError> {
    let conn = match slot {
        Some(conn) => conn,
        None => slot.insert(open(path)?),
    };
    let result = append_on(conn, records, options, clock);
    if result.is_err() && conn.is_autocommit() && conn.execute_batch("SELECT 1").is_err() {
        // The connection itself is broken: open a new one next time.
        *slot = None;
    }
    result
}

fn append_on(
    conn: &mut Connection,
    records: &[Record],
    options: &WriterOptions,
    clock: &Clock,
) -> Result<Vec<Receipt>, StoreError> {
    let e = StoreError::sqlite;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(e("locking the ledger"))?;
    // Cached statements: at low load a batch is one record, and parsing the SQL again for each
    // took more CPU than binding it (perf, `bench/gateway/profile.sh`).
    let (last_seq, last_hash, mut checkpoint_seq): (i64, Vec<u8>, i64) = tx
        .prepare_cached(HEAD_FOR_APPEND_SQL)
        .and_then(|mut head| head.query_row([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))))
        .map_err(e("reading the ledger head"))?;
    let mut hash = ledger::to_hash(&last_hash, "ledger head hash")?;
    let mut hashes = Vec::with_capacity(records.len());
    {
        let mut insert = tx
            .prepare_cached(insert_one_sql())
            .map_err(e("appending audit records"))?;
        let mut buffer = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let seq = last_seq + i as i64 + 1;
            hash = ledger::link(&hash, &r.leaf_at(seq, &mut buffer));
            insert
                .execute(params![
                    seq,
                    r.id,
                    r.time_ms,
                    r.kind,
                    r.tenant,
                    r.end_user,
                    r.client_addr,
                    r.model,
                    &r.request_digest[..],
                    r.request_text,
                    &r.response_digest[..],
                    r.response_text,
                    r.verdicts,
                    r.label,
                    r.latency_ms,
                    r.outcome,
                    &hash[..],
                ])
                .map_err(e("appending audit records"))?;
            hashes.push(hash);
        }
    }
    let seq = last_seq + records.len() as i64;
    if let Some(key) = options.checkpoint_due(seq, checkpoint_seq) {
        let cp = Checkpoint::sign(key, seq, hash, crate::clock::ms(clock), "periodic");
        tx.execute(
            INSERT_CHECKPOINT_SQL,
            params![cp.seq, &cp.hash[..], cp.time_ms, cp.reason, cp.signature],
        )
        .map_err(e("storing a checkpoint"))?;
        checkpoint_seq = seq;
    }
    tx.prepare_cached(UPDATE_HEAD_SQL)
        .and_then(|mut update| update.execute(params![seq, &hash[..], checkpoint_seq]))
        .map_err(e("updating the ledger head"))?;
    tx.commit().map_err(e("committing audit records"))?;
    Ok(receipts(last_seq, records, hashes))
}
