//! The group-commit audit writer.
//!
//! Callers send records over a channel and wait on a one-shot reply. One task drains the
//! channel: everything that queued up while the previous transaction was committing becomes the
//! next batch, written in one transaction (one `fsync`), after which every caller in the batch
//! is answered. A record is therefore never acknowledged before it is durable, and under load the
//! cost of the `fsync` is shared by the whole batch.
//!
//! Each batch takes the ledger's write lock first (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: the
//! head row, `FOR UPDATE`), reads the last sequence number and chain value, and assigns the next
//! numbers inside the transaction. Several writers, in one process or in several gateway
//! instances on one PostgreSQL, therefore append to one gapless chain, one batch at a time (see
//! DESIGN.md).
//!
//! Two writers do this: [`file`], on a SQLite database file (a plain connection on a thread
//! of its own), and [`pooled`], over sqlx's pools: PostgreSQL, SQLite in memory and
//! [`Store::append_batch`]. This module holds what they share: the jobs and replies, the
//! statements, and how a failed batch is answered.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

mod file;
mod pooled;

use crate::backend::Backend;
use crate::clock::Clock;
use crate::ledger::{self, BodyMode, NewRecord, Receipt, Record, RecordId};
use crate::{Store, StoreError};

/// The statements both writers run (SQLite takes `$n` parameters too).
const INSERT_CHECKPOINT_SQL: &str = "INSERT INTO audit_checkpoints (seq, hash, time_ms, reason, signature) VALUES ($1, $2, $3, $4, $5)";
/// The head as the appending transaction reads it (SQLite holds the write lock already).
const HEAD_FOR_APPEND_SQL: &str =
    "SELECT last_seq, last_hash, checkpoint_seq FROM ledger_head WHERE id = 1";
/// The same on PostgreSQL, taking the head row's lock.
const HEAD_FOR_APPEND_LOCKED_SQL: &str =
    "SELECT last_seq, last_hash, checkpoint_seq FROM ledger_head WHERE id = 1 FOR UPDATE";
const UPDATE_HEAD_SQL: &str =
    "UPDATE ledger_head SET last_seq = $1, last_hash = $2, checkpoint_seq = $3 WHERE id = 1";

/// Options for [`AuditWriter::start`].
#[derive(Clone)]
pub struct WriterOptions {
    /// Keep full request and response texts, or digests only.
    pub body_mode: BodyMode,
    /// The most records in one transaction.
    pub max_batch: usize,
    /// Sign a checkpoint when this many records have been appended since the last one (needs
    /// `key`).
    pub checkpoint_every: i64,
    /// The provider key that signs checkpoints; without it no checkpoints are made.
    pub key: Option<Arc<hegui_keys::SigningKey>>,
}

impl std::fmt::Debug for WriterOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterOptions")
            .field("body_mode", &self.body_mode)
            .field("max_batch", &self.max_batch)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("key", &self.key.as_ref().map(|k| k.key_id().to_owned()))
            .finish()
    }
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            body_mode: BodyMode::Full,
            max_batch: 4096,
            checkpoint_every: 10_000,
            key: None,
        }
    }
}

type Reply = oneshot::Sender<Result<Receipt, StoreError>>;

/// A record on its way to the writer: everything but its sequence number is settled (id, time,
/// body digests). `seq` is 0 until the writer numbers it.
type Job = (Record, Reply);

/// Appends audit records with group commit. Cheap to clone; the background task stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Job>,
    body_mode: BodyMode,
    /// The store's clock when the writer started: the time of records that bring none.
    clock: Clock,
}

impl std::fmt::Debug for AuditWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditWriter")
            .field("body_mode", &self.body_mode)
            .finish_non_exhaustive()
    }
}

impl AuditWriter {
    /// Starts the writer. On a SQLite file it gets a thread of its own with a plain connection
    /// (no sqlx, no async runtime; see the `file` module); on SQLite in memory a thread with a
    /// single-threaded Tokio runtime, so that its round trips to the database are not queued
    /// behind the caller's other tasks; on PostgreSQL, whose connections belong to the runtime
    /// that opened them, and wherever no thread can be started, it runs on the current Tokio
    /// runtime.
    pub fn start(store: Store, options: WriterOptions) -> AuditWriter {
        let (sender, receiver) = mpsc::channel(options.max_batch.max(1) * 4);
        let body_mode = options.body_mode;
        let sqlite = store.backend() == Backend::Sqlite;
        let file = store.sqlite_file.clone();
        let clock = store.clock.clone();
        let slot = Arc::new(std::sync::Mutex::new(Some((store, options, receiver))));
        let take = |slot: &std::sync::Mutex<Option<_>>| slot.lock().ok().and_then(|mut w| w.take());
        let on_thread = if let Some(path) = file {
            // A SQLite file: the plain-connection writer on a thread of its own.
            let slot = Arc::clone(&slot);
            std::thread::Builder::new()
                .name("hegui-audit".into())
                .spawn(move || {
                    if let Some((store, options, mut receiver)) = take(&slot) {
                        file::run(&path, &options, &store.clock, &mut receiver);
                    }
                })
                .ok()
        } else {
            sqlite
                .then(|| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()
                })
                .flatten()
                .and_then(|runtime| {
                    let slot = Arc::clone(&slot);
                    std::thread::Builder::new()
                        .name("hegui-audit".into())
                        .spawn(move || {
                            if let Some((store, options, receiver)) = take(&slot) {
                                runtime.block_on(pooled::run(store, options, receiver));
                            }
                        })
                        .ok()
                })
        };
        if on_thread.is_none()
            && let Some((store, options, receiver)) = take(&slot)
        {
            tokio::spawn(pooled::run(store, options, receiver));
        }
        AuditWriter {
            sender,
            body_mode,
            clock,
        }
    }

    /// Appends `record`; resolves once its transaction has committed.
    ///
    /// The record's id, time and body digests are settled here, on the caller's task, so that
    /// concurrent callers hash their bodies in parallel and the writer task, which every record
    /// passes through, only numbers and chains them.
    pub async fn append(&self, record: NewRecord) -> Result<Receipt, StoreError> {
        let record = record.into_record(0, self.body_mode, crate::clock::ms(&self.clock));
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((record, reply))
            .await
            .map_err(|_| StoreError::WriterClosed)?;
        answer.await.map_err(|_| StoreError::WriterClosed)?
    }
}

/// How long the checkpointer waits after a checkpoint before the next.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Answers a batch's callers from its result. When a batch of several records failed, one bad
/// record (say, a duplicate id) must not fail its neighbours: the records are returned with
/// their replies, to be retried one by one (and answered with [`only`]).
fn answer(
    records: &[Record],
    replies: Vec<Reply>,
    result: Result<Vec<Receipt>, StoreError>,
) -> Vec<(&Record, Reply)> {
    match result {
        Ok(receipts) => {
            for (reply, receipt) in replies.into_iter().zip(receipts) {
                // The caller may have gone away; the record is written all the same.
                let _ = reply.send(Ok(receipt));
            }
            Vec::new()
        }
        Err(error) if records.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(error));
            }
            Vec::new()
        }
        Err(_) => records.iter().zip(replies).collect(),
    }
}

/// The receipt of a one-record batch.
fn only(result: Result<Vec<Receipt>, StoreError>) -> Result<Receipt, StoreError> {
    result.and_then(|mut r| r.pop().ok_or(StoreError::WriterClosed))
}

/// The receipts of `records`, numbered from `last_seq + 1`, with their chain values.
fn receipts(last_seq: i64, records: &[Record], hashes: Vec<[u8; 32]>) -> Vec<Receipt> {
    records
        .iter()
        .zip(hashes)
        .enumerate()
        .map(|(i, (r, hash))| Receipt {
            seq: last_seq + i as i64 + 1,
            id: RecordId::from_stored(r.id.clone()),
            hash,
        })
        .collect()
}

impl WriterOptions {
    /// The key to sign a periodic checkpoint with, when one is due at `seq` (the last was at
    /// `checkpoint_seq`).
    fn checkpoint_due(&self, seq: i64, checkpoint_seq: i64) -> Option<&hegui_keys::SigningKey> {
        self.key
            .as_deref()
            .filter(|_| seq - checkpoint_seq >= self.checkpoint_every.max(1))
    }
}

/// Rows per `INSERT` statement: powers of two, largest first. A batch of `n` rows is written as
/// `n / 128` statements of 128 rows and one statement per bit of `n % 128`, so every statement
/// is prepared once per connection and then found in sqlx's statement cache (a statement per
/// batch length was parsed afresh for almost every batch and churned the cache), and no batch
/// needs more than seven short statements. 128 rows × 17 parameters stays far below SQLite's
/// limit of 32,766 parameters.
const CHUNKS: [usize; 8] = [128, 64, 32, 16, 8, 4, 2, 1];

const COLUMNS: &str = ledger::RECORD_COLUMNS;
const NCOLUMNS: usize = ledger::RECORD_COLUMN_COUNT;

/// A multi-row `INSERT`. SQLite gets anonymous `?` parameters: with numbered ones, sqlx asks
/// SQLite for every parameter's name, a linear lookup each, which made a 512-row statement
/// (8,704 parameters) quadratic and the writer ten times slower. PostgreSQL needs `$n`.
fn insert_sql(rows: usize, anonymous: bool) -> String {
    let mut sql = format!("INSERT INTO audit_records ({COLUMNS}) VALUES ");
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for col in 0..NCOLUMNS {
            if col > 0 {
                sql.push(',');
            }
            n += 1;
            if anonymous {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// The `INSERT` for `CHUNKS[size]` rows, built once per process.
fn chunk_sql(size: usize, anonymous: bool) -> &'static str {
    static SQL: [[OnceLock<String>; 2]; CHUNKS.len()] =
        [const { [const { OnceLock::new() }; 2] }; CHUNKS.len()];
    SQL[size][usize::from(anonymous)].get_or_init(|| insert_sql(CHUNKS[size], anonymous))
}

/// The one-row `INSERT` with anonymous parameters (the SQLite file writer's statement).
fn insert_one_sql() -> &'static str {
    chunk_sql(CHUNKS.len() - 1, true)
}
