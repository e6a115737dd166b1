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
//! Where the time goes, and what was done about it (BENCHMARKS.md has the figures):
//!
//! - On a SQLite file the writer is not this async code at all but [`file`]: a plain
//!   connection on a thread of its own, the same batches, numbering and replies. The points
//!   below are about the sqlx writer (PostgreSQL, SQLite in memory, `Store::append_batch`).
//! - The writer runs on a thread of its own, so that its round trips to the database are not
//!   queued behind the caller's request handling.
//! - Body digests, ids and times are settled by each caller (in parallel); the writer only
//!   computes leaves and chain values, which depend on the sequence number.
//! - Within a transaction the rows go out in statements of up to 128 rows, and the next
//!   statement is hashed and bound while the database executes the current one.
//! - The writer keeps its own connection, whose page cache stays warm.
//! - SQLite: WAL checkpoints run on another connection (see [`checkpointer`]), not inside the
//!   commit that crosses SQLite's threshold.

use std::sync::{Arc, OnceLock};

use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::pool::PoolConnection;
use tokio::sync::{mpsc, oneshot};

mod file;

use crate::backend::{Backend, Pools, with_pool};
use crate::clock::Clock;
use crate::ledger::{self, BodyMode, Checkpoint, NewRecord, Receipt, Record, RecordId};
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

/// Inserts checkpoint `$cp` in transaction `$tx`.
macro_rules! insert_checkpoint {
    ($tx:ident, $cp:expr) => {{
        let cp = &$cp;
        sqlx::query(INSERT_CHECKPOINT_SQL)
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
                                runtime.block_on(run(store, options, receiver));
                            }
                        })
                        .ok()
                })
        };
        if on_thread.is_none()
            && let Some((store, options, receiver)) = take(&slot)
        {
            tokio::spawn(run(store, options, receiver));
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

/// The writer: until every [`AuditWriter`] is gone, batches off the channel, each in one
/// transaction, and (SQLite) the checkpointer.
async fn run(store: Store, options: WriterOptions, mut receiver: mpsc::Receiver<Job>) {
    let (wrote, checkpoints) = mpsc::channel(1);
    let checkpointer = async {
        if let Pools::Sqlite(pool) = &store.pools
            && pool.options().get_max_connections() > 1
        {
            checkpointer(pool.clone(), checkpoints).await;
        }
    };
    tokio::join!(write(&store, &options, &mut receiver, wrote), checkpointer);
}

/// How long the checkpointer waits after a checkpoint before the next.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// SQLite: copies the WAL back into the database file (`wal_checkpoint(PASSIVE)`, which never
/// blocks the writer) on a connection of its own, after commits, at most every
/// [`CHECKPOINT_PAUSE`]. Left to SQLite, the commit that crosses 1,000 WAL pages does the
/// checkpoint itself, and its callers wait for it (tens of milliseconds at full load); the
/// writer's own connection keeps that only as a backstop, at 16,384 pages (64 MiB).
async fn checkpointer(pool: sqlx::SqlitePool, mut wrote: mpsc::Receiver<()>) {
    while wrote.recv().await.is_some() {
        // A failed checkpoint is retried after the next commit; the backstop bounds the WAL.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await;
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
}

/// The writer's loop: batches off the channel, each in one transaction; `wrote` hears of every
/// commit.
async fn write(
    store: &Store,
    options: &WriterOptions,
    receiver: &mut mpsc::Receiver<Job>,
    wrote: mpsc::Sender<()>,
) {
    let limit = options.max_batch.max(1);
    let mut jobs = Vec::with_capacity(limit);
    let mut held: Held = None;
    loop {
        // The held connection goes back when the store closes (`Pool::close` waits for it).
        let received = tokio::select! {
            n = receiver.recv_many(&mut jobs, limit) => n,
            () = store.close_event() => {
                held = None;
                receiver.recv_many(&mut jobs, limit).await
            }
        };
        if received == 0 {
            break;
        }
        let (records, replies): (Vec<Record>, Vec<Reply>) = jobs.drain(..).unzip();
        let result = store.append_records(&mut held, &records, options).await;
        if result.is_ok() {
            // Full means a checkpoint is due already.
            let _ = wrote.try_send(());
        }
        for (record, reply) in answer(&records, replies, result) {
            let result = store
                .append_records(&mut held, std::slice::from_ref(record), options)
                .await;
            let _ = reply.send(only(result));
        }
    }
}

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

/// The writer's own connection, kept from one transaction to the next. On SQLite this matters:
/// a connection's page cache is discarded whenever another connection has written, so taking
/// whichever connection the pool hands out (it rotates through them) meant re-reading the
/// index and table pages for every batch. Not kept when the pool has a single connection
/// (in-memory databases), which everything else needs too, nor when it stops answering.
type Held = Option<HeldConnection>;

enum HeldConnection {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
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

/// Splits `len` rows into statements of the sizes in [`CHUNKS`]: the index of each size.
fn chunking(mut len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, size) in CHUNKS.iter().enumerate() {
        while len >= *size {
            out.push(i);
            len -= size;
        }
    }
    out
}

/// Binds `$records` (numbered from `$first`, with chain values `$hashes`) into one `INSERT` of
/// `CHUNKS[$size]` rows for backend `$db`. Expanded once per backend.
macro_rules! bind_rows {
    ($db:ty, $size:expr, $records:expr, $first:expr, $hashes:expr, $anonymous:expr) => {{
        let records: &[Record] = $records;
        let hashes: &[[u8; 32]] = $hashes;
        let first: i64 = $first;
        let mut query = sqlx::query::<$db>(chunk_sql($size, $anonymous));
        for (i, (r, h)) in records.iter().zip(hashes).enumerate() {
            query = query
                .bind(first + i as i64)
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
    }};
}

/// Appends prepared `$records` (numbered from the head) in one transaction on `$conn`, a
/// connection of backend `$db`; evaluates to the receipts. Expanded once per backend.
///
/// The rows go out in statements of [`CHUNKS`] sizes, and while the database executes one
/// statement (on its own thread, or the server), this task hashes and binds the next.
macro_rules! append_on {
    ($conn:expr, $db:ty, $records:expr, $options:expr, $sqlite:expr, $clock:expr) => {{
        let conn = $conn;
        let records: &[Record] = $records;
        let options: &WriterOptions = $options;
        let sqlite: bool = $sqlite;
        // Take the ledger's write lock first, and number records only while holding it: this
        // serializes appenders across connections and processes.
        let mut tx = if sqlite {
            conn.begin_with("BEGIN IMMEDIATE").await
        } else {
            conn.begin().await
        }
        .map_err(StoreError::db("locking the ledger"))?;
        let (last_seq, last_hash, mut checkpoint_seq): (i64, Vec<u8>, i64) =
            sqlx::query_as(if sqlite {
                HEAD_FOR_APPEND_SQL
            } else {
                HEAD_FOR_APPEND_LOCKED_SQL
            })
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::db("reading the ledger head"))?;
        let mut hash = ledger::to_hash(&last_hash, "ledger head hash")?;
        let mut hashes: Vec<[u8; 32]> = Vec::with_capacity(records.len());
        let mut buffer = Vec::new();
        // Hashes and binds the statement for `CHUNKS[size]` rows starting at `offset`.
        let mut prepare = |size: usize, offset: usize| {
            let rows = &records[offset..offset + CHUNKS[size]];
            for (i, record) in rows.iter().enumerate() {
                let seq = last_seq + (offset + i) as i64 + 1;
                hash = ledger::link(&hash, &record.leaf_at(seq, &mut buffer));
                hashes.push(hash);
            }
            bind_rows!(
                $db,
                size,
                rows,
                last_seq + offset as i64 + 1,
                &hashes[offset..],
                sqlite
            )
        };
        let chunks = chunking(records.len());
        let mut offset = 0;
        let mut next = chunks.first().map(|&size| prepare(size, 0));
        for (k, &size) in chunks.iter().enumerate() {
            let Some(statement) = next.take() else { break };
            let following = offset + CHUNKS[size];
            let (done, prepared) = tokio::join!(statement.execute(&mut *tx), async {
                chunks.get(k + 1).map(|&size| prepare(size, following))
            });
            done.map_err(StoreError::db("appending audit records"))?;
            next = prepared;
            offset = following;
        }
        let seq = last_seq + records.len() as i64;
        if let Some(key) = options.checkpoint_due(seq, checkpoint_seq) {
            let cp = Checkpoint::sign(key, seq, hash, crate::clock::ms($clock), "periodic");
            insert_checkpoint!(tx, cp);
            checkpoint_seq = seq;
        }
        sqlx::query(UPDATE_HEAD_SQL)
            .bind(seq)
            .bind(&hash[..])
            .bind(checkpoint_seq)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("updating the ledger head"))?;
        tx.commit()
            .await
            .map_err(StoreError::db("committing audit records"))?;
        Ok::<_, StoreError>(receipts(last_seq, records, hashes))
    }};
}

/// Runs [`append_on!`] on the held connection of backend `$variant`, or on a fresh one from
/// `$pool`, and keeps the connection in `$held` afterwards if it still works. Expanded once per
/// backend.
macro_rules! on_held {
    ($held:expr, $pool:expr, $variant:ident, $records:expr, $options:expr, $clock:expr) => {{
        let held: &mut Held = $held;
        let pool = $pool;
        let sqlite = matches!(Backend::$variant, Backend::Sqlite);
        let mut conn = match held.take() {
            Some(HeldConnection::$variant(conn)) => conn,
            _ => {
                let mut conn = pool
                    .acquire()
                    .await
                    .map_err(StoreError::db("connecting for the audit writer"))?;
                if sqlite {
                    // Checkpoints are the checkpointer's job; this is the backstop.
                    sqlx::query("PRAGMA wal_autocheckpoint = 16384")
                        .execute(&mut *conn)
                        .await
                        .map_err(StoreError::db("configuring the audit writer"))?;
                }
                conn
            }
        };
        // In a block of its own, so that an error still comes back here.
        let result = async {
            append_on!(
                &mut *conn,
                sqlx::$variant,
                $records,
                $options,
                sqlite,
                $clock
            )
        }
        .await;
        // After an error the transaction's rollback is queued on the connection; a ping carries
        // it out and shows whether the connection itself still works.
        if pool.options().get_max_connections() > 1 && (result.is_ok() || conn.ping().await.is_ok())
        {
            *held = Some(HeldConnection::$variant(conn));
        }
        result
    }};
}

impl Store {
    /// Appends records in one transaction, directly (without group commit). The
    /// [`AuditWriter`] does the same for its batches; tests and tools may call this.
    pub async fn append_batch(
        &self,
        records: &[NewRecord],
        options: &WriterOptions,
    ) -> Result<Vec<Receipt>, StoreError> {
        let records: Vec<Record> = records
            .iter()
            .map(|r| r.clone().into_record(0, options.body_mode, self.now_ms()))
            .collect();
        // A connection of the pool's, for this transaction only.
        self.append_records(&mut None, &records, options).await
    }

    /// Numbers, chains and inserts prepared records in one transaction, on the held
    /// connection if there is one.
    async fn append_records(
        &self,
        held: &mut Held,
        records: &[Record],
        options: &WriterOptions,
    ) -> Result<Vec<Receipt>, StoreError> {
        match &self.pools {
            Pools::Sqlite(pool) => on_held!(held, pool, Sqlite, records, options, &self.clock),
            Pools::Postgres(pool) => {
                on_held!(held, pool, Postgres, records, options, &self.clock)
            }
        }
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
                self.now_ms(),
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
