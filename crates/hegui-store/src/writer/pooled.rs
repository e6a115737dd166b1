//! The writer on sqlx: PostgreSQL, SQLite in memory, and [`Store::append_batch`]. The same
//! batches, numbering, chaining, checkpoints and replies as the SQLite file writer
//! ([`super::file`]), over the store's pools.
//!
//! Where the time goes, and what was done about it (BENCHMARKS.md has the figures):
//!
//! - The writer runs on a thread of its own, so that its round trips to the database are not
//!   queued behind the caller's request handling.
//! - Body digests, ids and times are settled by each caller (in parallel); the writer only
//!   computes leaves and chain values, which depend on the sequence number.
//! - Within a transaction the rows go out in statements of up to 128 rows, and the next
//!   statement is hashed and bound while the database executes the current one.
//! - The writer keeps its own connection, whose page cache stays warm.
//! - SQLite: WAL checkpoints run on another connection (see [`checkpointer`]), not inside the
//!   commit that crosses SQLite's threshold.

use sqlx::Connection as _;
use sqlx::Row as _;
use sqlx::pool::PoolConnection;
use tokio::sync::mpsc;

use super::{
    CHECKPOINT_PAUSE, CHUNKS, HEAD_FOR_APPEND_LOCKED_SQL, HEAD_FOR_APPEND_SQL,
    INSERT_CHECKPOINT_SQL, Job, Reply, UPDATE_HEAD_SQL, WriterOptions, answer, chunk_sql, only,
    receipts,
};
use crate::backend::{Backend, Pools, with_pool};
use crate::ledger::{self, Checkpoint, NewRecord, Receipt, Record};
use crate::{Store, StoreError};

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

/// The writer: until every [`AuditWriter`] is gone, batches off the channel, each in one
/// transaction, and (SQLite) the checkpointer.
pub(super) async fn run(store: Store, options: WriterOptions, mut receiver: mpsc::Receiver<Job>) {
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
    /// [`crate::AuditWriter`] does the same for its batches; tests and tools may call this.
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
