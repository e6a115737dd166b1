//! The group-commit audit writer.
//!
//! Callers send records over a channel and wait on a one-shot reply. One task drains the
//! channel: everything that queued up while the previous transaction was committing becomes the
//! next batch, written in one transaction (one `fsync`), after which every caller in the batch
//! is answered. A record is therefore never acknowledged before it is durable, and under load the
//! cost of the `fsync` is shared by the whole batch.
//!
//! Each batch takes the ledger's head row lock first (`UPDATE ledger_head …`), reads the last
//! sequence number and chain value, and assigns the next numbers inside the transaction. Several
//! writers, in one process or in several gateway instances on one PostgreSQL, therefore append
//! to one gapless chain, one batch at a time (see DESIGN.md).

use std::sync::{Arc, OnceLock};

use sqlx::Row as _;
use tokio::sync::{mpsc, oneshot};

use crate::backend::with_pool;
use crate::ledger::{self, BodyMode, Checkpoint, NewRecord, Receipt, Record, RecordId};
use crate::{Store, StoreError};

/// Inserts checkpoint `$cp` in transaction `$tx`.
macro_rules! insert_checkpoint {
    ($tx:ident, $cp:expr) => {{
        let cp = &$cp;
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, time_ms, reason, signature) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(cp.seq)
        .bind(&cp.hash[..])
        .bind(cp.time_ms)
        .bind(cp.reason.as_str())
        .bind(cp.signature.as_str())
        .execute(&mut *$tx)
        .await
        .map_err(StoreError::db("storing a checkpoint"))?;
    }};
}

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

/// Appends audit records with group commit. Cheap to clone; the background task stops when the
/// last clone is dropped.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    sender: mpsc::Sender<(NewRecord, Reply)>,
}

impl AuditWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(store: Store, options: WriterOptions) -> AuditWriter {
        let (sender, receiver) = mpsc::channel(options.max_batch.max(1) * 4);
        tokio::spawn(run(store, options, receiver));
        AuditWriter { sender }
    }

    /// Appends `record`; resolves once its transaction has committed.
    pub async fn append(&self, record: NewRecord) -> Result<Receipt, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((record, reply))
            .await
            .map_err(|_| StoreError::WriterClosed)?;
        answer.await.map_err(|_| StoreError::WriterClosed)?
    }
}

async fn run(
    store: Store,
    options: WriterOptions,
    mut receiver: mpsc::Receiver<(NewRecord, Reply)>,
) {
    let limit = options.max_batch.max(1);
    let mut jobs = Vec::with_capacity(limit);
    while receiver.recv_many(&mut jobs, limit).await > 0 {
        let (records, replies): (Vec<NewRecord>, Vec<Reply>) = jobs.drain(..).unzip();
        match store.append_batch(&records, &options).await {
            Ok(receipts) => {
                for (reply, receipt) in replies.into_iter().zip(receipts) {
                    // The caller may have gone away; the record is written all the same.
                    let _ = reply.send(Ok(receipt));
                }
            }
            Err(error) if records.len() == 1 => {
                if let Some(reply) = replies.into_iter().next() {
                    let _ = reply.send(Err(error));
                }
            }
            Err(_) => {
                // One bad record (say, a duplicate id) must not fail its neighbours: retry
                // each on its own.
                for (record, reply) in records.into_iter().zip(replies) {
                    let result = store
                        .append_batch(std::slice::from_ref(&record), &options)
                        .await
                        .and_then(|mut r| r.pop().ok_or(StoreError::WriterClosed));
                    let _ = reply.send(result);
                }
            }
        }
    }
}

/// Rows per `INSERT` statement (17 parameters each; SQLite allows 32,766).
const CHUNK: usize = 512;

const COLUMNS: &str = ledger::RECORD_COLUMNS;
const NCOLUMNS: usize = 17;

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

fn full_chunk_sql(anonymous: bool) -> &'static str {
    static NUMBERED: OnceLock<String> = OnceLock::new();
    static ANONYMOUS: OnceLock<String> = OnceLock::new();
    if anonymous {
        ANONYMOUS.get_or_init(|| insert_sql(CHUNK, true))
    } else {
        NUMBERED.get_or_init(|| insert_sql(CHUNK, false))
    }
}

impl Store {
    /// Appends records in one transaction, directly (without group commit). The
    /// [`AuditWriter`] calls this; tests and tools may too.
    pub async fn append_batch(
        &self,
        records: &[NewRecord],
        options: &WriterOptions,
    ) -> Result<Vec<Receipt>, StoreError> {
        let err = StoreError::db("appending audit records");
        let anonymous = self.backend() == crate::backend::Backend::Sqlite;
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(err)?;
            // Take the head row's write lock first: this serializes appenders across
            // connections and processes (SQLite: the database write lock; PostgreSQL: the row
            // lock), and numbers are assigned only while holding it.
            sqlx::query("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("locking the ledger"))?;
            let head = sqlx::query(
                "SELECT last_seq, last_hash, checkpoint_seq FROM ledger_head WHERE id = 1",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::db("reading the ledger head"))?;
            let last_seq: i64 = head
                .try_get(0)
                .map_err(StoreError::db("reading the ledger head"))?;
            let last_hash: Vec<u8> = head
                .try_get(1)
                .map_err(StoreError::db("reading the ledger head"))?;
            let mut checkpoint_seq: i64 = head
                .try_get(2)
                .map_err(StoreError::db("reading the ledger head"))?;
            let mut hash = ledger::to_hash(&last_hash, "ledger head hash")?;
            let mut seq = last_seq;
            let mut rows: Vec<(Record, [u8; 32])> = Vec::with_capacity(records.len());
            for new in records {
                seq += 1;
                let record = new.clone().into_record(seq, options.body_mode);
                hash = ledger::link(&hash, &record.leaf());
                rows.push((record, hash));
            }
            for chunk in rows.chunks(CHUNK) {
                let mut query = if chunk.len() == CHUNK {
                    sqlx::query(full_chunk_sql(anonymous))
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(insert_sql(chunk.len(), anonymous)))
                };
                for (r, h) in chunk {
                    query = query
                        .bind(r.seq)
                        .bind(r.id.as_str())
                        .bind(r.time_ms)
                        .bind(r.kind.as_str())
                        .bind(r.tenant.as_str())
                        .bind(r.end_user.as_str())
                        .bind(r.client_addr.as_str())
                        .bind(r.model.as_str())
                        .bind(&r.request_digest[..])
                        .bind(r.request_text.as_deref())
                        .bind(&r.response_digest[..])
                        .bind(r.response_text.as_deref())
                        .bind(r.verdicts.as_str())
                        .bind(r.label.as_str())
                        .bind(r.latency_ms)
                        .bind(r.outcome.as_str())
                        .bind(&h[..]);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("appending audit records"))?;
            }
            if let Some(key) = &options.key
                && seq - checkpoint_seq >= options.checkpoint_every.max(1)
            {
                let cp = Checkpoint::sign(key, seq, hash, "periodic");
                insert_checkpoint!(tx, cp);
                checkpoint_seq = seq;
            }
            sqlx::query(
                "UPDATE ledger_head SET last_seq = $1, last_hash = $2, checkpoint_seq = $3 WHERE id = 1",
            )
            .bind(seq)
            .bind(&hash[..])
            .bind(checkpoint_seq)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("updating the ledger head"))?;
            tx.commit()
                .await
                .map_err(StoreError::db("committing audit records"))?;
            Ok(rows
                .into_iter()
                .map(|(r, hash)| Receipt {
                    seq: r.seq,
                    id: RecordId::from_stored(r.id),
                    hash,
                })
                .collect())
        })
    }

    /// Signs and stores a checkpoint at the current head. Returns `None` when the ledger is
    /// empty.
    pub async fn checkpoint(
        &self,
        key: &hegui_keys::SigningKey,
        reason: &str,
    ) -> Result<Option<Checkpoint>, StoreError> {
        with_pool!(self, |pool| {
            let mut tx = pool
                .begin()
                .await
                .map_err(StoreError::db("signing a checkpoint"))?;
            sqlx::query("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("locking the ledger"))?;
            let head = sqlx::query("SELECT last_seq, last_hash FROM ledger_head WHERE id = 1")
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::db("reading the ledger head"))?;
            let seq: i64 = head
                .try_get(0)
                .map_err(StoreError::db("reading the ledger head"))?;
            let hash: Vec<u8> = head
                .try_get(1)
                .map_err(StoreError::db("reading the ledger head"))?;
            if seq == 0 {
                return Ok(None);
            }
            let existing = sqlx::query("SELECT seq FROM audit_checkpoints WHERE seq = $1")
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::db("reading checkpoints"))?;
            let cp = Checkpoint::sign(
                key,
                seq,
                ledger::to_hash(&hash, "ledger head hash")?,
                reason,
            );
            if existing.is_some() {
                sqlx::query("DELETE FROM audit_checkpoints WHERE seq = $1")
                    .bind(seq)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("replacing a checkpoint"))?;
            }
            insert_checkpoint!(tx, cp);
            sqlx::query("UPDATE ledger_head SET checkpoint_seq = $1 WHERE id = 1")
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("updating the ledger head"))?;
            tx.commit()
                .await
                .map_err(StoreError::db("signing a checkpoint"))?;
            Ok(Some(cp))
        })
    }
}
