//! Verifying the ledger in the database: sequence numbers without gaps, every record's chain
//! value recomputed from its canonical bytes, stored texts against their digests, the head row,
//! and checkpoints (their chain values always; their signatures when keys are given). The first
//! broken link is reported with its sequence number.
//!
//! # How it is fast
//!
//! Verification is a read of every record plus four SM3 computations per record (its leaf, its
//! chain link, its two stored texts). Both halves were slow in the obvious form: sqlx hands
//! SQLite rows over one at a time from its worker thread, copying every value (about 10 µs a
//! record), and one SM3 at a time runs at about 200 MB/s. So:
//!
//! - **Rows** are read without sqlx's row objects and encoded straight into a [`page::Page`]
//!   (canonical bytes, texts, stored values in flat buffers, no per-field allocation): on SQLite
//!   from a plain connection of the walk's own ([`sqlite`]), one statement for the whole walk;
//!   on PostgreSQL from a binary `COPY` stream on a connection of its own ([`postgres`]). A
//!   SQLite database in memory (no file to open) goes through sqlx pages.
//! - **Hashes** of a page are computed in batches with [`hegui_sm3::digest_many`] (16 or 8
//!   messages at once in SIMD lanes). Chain links are batched too: each record's link is checked
//!   against its predecessor's *stored* chain value, so no link waits for the one before it, and
//!   since every stored value is itself checked, the first break found in order is the first
//!   break of the sequential definition.
//! - **Reading and checking overlap**: one thread reads the next page while another hashes and
//!   checks the current one.
//!
//! The walk also sees one snapshot (one read transaction for head, checkpoints and records;
//! `REPEATABLE READ` on PostgreSQL), so verifying a ledger that the gateway keeps appending to
//! does not report records appended after the head was read as a truncation.

mod page;
mod postgres;
mod sqlite;

pub(crate) use postgres::fuzz_stream;

use std::collections::BTreeMap;

use sqlx::Row as _;

use crate::backend::{Pools, with_pool};
use crate::ledger::{self, Checkpoint, record_from_row};
use crate::{Store, StoreError};

use page::Page;

/// Options for [`Store::verify`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Start at this sequence number, trusting the stored chain value of the record before it.
    /// Default: the first record (or the prune boundary).
    pub from: Option<i64>,
    /// Public keys to check checkpoint signatures with; without them signatures are not
    /// checked (the report says so).
    pub keys: Option<hegui_keys::KeyRing>,
}

/// The first broken link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The sequence number where the chain breaks.
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}: {}", self.seq, self.reason)
    }
}

/// The result of [`Store::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// First sequence number checked.
    pub first_seq: i64,
    /// Last sequence number checked (0 when there were none).
    pub last_seq: i64,
    /// Records checked.
    pub records: u64,
    /// Checkpoints whose chain value was checked.
    pub checkpoints: u64,
    /// Which checkpoint signatures were checked, by which key; `None` when no keys were given
    /// (then only the checkpoints' chain values were checked).
    pub signatures: Option<SignatureCheck>,
    /// The first broken link, if any.
    pub broken: Option<Break>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_ok(&self) -> bool {
        self.broken.is_none()
    }
}

/// The checkpoint signatures a verification checked. A key that signed none of them proves
/// nothing about this ledger, so callers report [`SignatureCheck::unused_keys`] as a finding.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureCheck {
    /// The ids of the keys given, in order.
    pub keys: Vec<String>,
    /// Signatures verified, by the id of the key that made them.
    pub verified_by: BTreeMap<String, u64>,
}

impl SignatureCheck {
    fn new(keys: &hegui_keys::KeyRing) -> SignatureCheck {
        SignatureCheck {
            keys: keys.key_ids().map(str::to_owned).collect(),
            verified_by: BTreeMap::new(),
        }
    }

    /// Signatures verified in all.
    pub fn verified(&self) -> u64 {
        self.verified_by.values().sum()
    }

    /// The given keys that verified no signature.
    pub fn unused_keys(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .filter(|id| !self.verified_by.contains_key(*id))
            .map(String::as_str)
    }
}

/// Records per page: large enough to fill every SIMD lane many times over and to amortize the
/// hand-over between threads, small enough to stay in cache.
const PAGE: usize = 4096;

/// How many records the in-memory walk reads per query.
const SQLX_PAGE: i64 = 20_000;

impl Store {
    /// Verifies the ledger; see the module docs. Database errors are errors; a broken chain is
    /// a report with [`VerifyReport::broken`] set.
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport, StoreError> {
        match (&self.pools, self.sqlite_file.clone()) {
            (Pools::Postgres(pool), _) => postgres::verify(pool, options).await,
            (Pools::Sqlite(_), Some(path)) => {
                let options = options.clone();
                tokio::task::spawn_blocking(move || sqlite::verify(&path, options))
                    .await
                    .map_err(task_failed)?
            }
            (Pools::Sqlite(pool), None) => verify_in_memory(pool, options).await,
        }
    }

    /// The ledger head: last record and prune boundary.
    pub async fn head(&self) -> Result<Head, StoreError> {
        with_conn_of!(self, |conn| head_on(conn).await)
    }

    /// Up to `limit` records with `seq >= from`, in order, with their stored chain values.
    pub async fn records_page(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(ledger::Record, Vec<u8>)>, StoreError> {
        with_conn_of!(self, |conn| records_page_on(conn, from, limit).await)
    }

    /// The record with this id (a `ProduceID`).
    pub async fn record_by_id(&self, id: &str) -> Result<Option<ledger::Record>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit_records WHERE id = $1",
            ledger::RECORD_COLUMNS
        );
        with_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            row.map(|row| record_from_row!(row).map(|(r, _)| r))
                .transpose()
        })
    }

    /// Checkpoints with `seq >= from`, in order.
    pub async fn checkpoints_from(&self, from: i64) -> Result<Vec<Checkpoint>, StoreError> {
        with_conn_of!(self, |conn| checkpoints_on(conn, from, i64::MAX).await)
    }

    /// The first checkpoint with `seq >= from`, if one was made.
    pub async fn first_checkpoint_from(&self, from: i64) -> Result<Option<Checkpoint>, StoreError> {
        with_conn_of!(self, |conn| Ok(checkpoints_on(conn, from, 1).await?.pop()))
    }

    /// The chain value record `seq` links from: the prune boundary's, or the value stored with
    /// record `seq - 1` (as a walk from `seq` starts).
    pub(crate) async fn chain_value_before(&self, seq: i64) -> Result<[u8; 32], StoreError> {
        with_conn_of!(self, |conn| {
            let head = head_on(conn).await?;
            if seq - 1 == head.base_seq {
                return Ok(head.base_hash);
            }
            stored_hash_on(conn, seq - 1)
                .await?
                .ok_or_else(|| StoreError::Invalid {
                    what: "audit record",
                    reason: format!("record {} before record {seq} is missing", seq - 1),
                })
        })
    }
}

/// The walk over a SQLite database in memory (no file to open beside the pool): sqlx pages in
/// one read transaction on the pool's connection.
async fn verify_in_memory(
    pool: &sqlx::SqlitePool,
    options: &VerifyOptions,
) -> Result<VerifyReport, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(StoreError::db("starting the verification snapshot"))?;
    let report = walk_through_sqlx(&mut Conn::from(&mut *tx), options).await;
    // Nothing was written; the transaction only held the snapshot.
    tx.rollback()
        .await
        .map_err(StoreError::db("ending the verification snapshot"))?;
    report
}

/// One connection of either backend, for queries that must share a transaction (and so a
/// snapshot).
enum Conn<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl<'c> From<&'c mut sqlx::SqliteConnection> for Conn<'c> {
    fn from(conn: &'c mut sqlx::SqliteConnection) -> Self {
        Conn::Sqlite(conn)
    }
}

impl<'c> From<&'c mut sqlx::PgConnection> for Conn<'c> {
    fn from(conn: &'c mut sqlx::PgConnection) -> Self {
        Conn::Postgres(conn)
    }
}

/// Runs `$body` with `$c` bound to the backend's connection; compiled once per backend.
macro_rules! with_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            Conn::Postgres($c) => $body,
        }
    };
}

/// Runs `$body` with `$conn` a [`Conn`] on a connection taken from the store's pool.
macro_rules! with_conn_of {
    ($store:expr, |$conn:ident| $body:expr) => {
        with_pool!($store, |pool| {
            let mut pooled = pool
                .acquire()
                .await
                .map_err(StoreError::db("taking a connection from the pool"))?;
            let $conn = &mut Conn::from(&mut *pooled);
            $body
        })
    };
}
use with_conn_of;

async fn head_on(conn: &mut Conn<'_>) -> Result<Head, StoreError> {
    let e = StoreError::db("reading the ledger head");
    with_conn!(conn, |c| {
        let row: HeadRow = sqlx::query_as(HEAD_SQL)
            .fetch_one(&mut **c)
            .await
            .map_err(e)?;
        Head::from_row(row)
    })
}

/// The head row as selected by [`HEAD_SQL`].
type HeadRow = (i64, Vec<u8>, i64, Vec<u8>, i64);
const HEAD_SQL: &str =
    "SELECT last_seq, last_hash, base_seq, base_hash, checkpoint_seq FROM ledger_head WHERE id = 1";

/// One record's stored chain value.
const STORED_HASH_SQL: &str = "SELECT hash FROM audit_records WHERE seq = $1";

/// A checkpoint row as selected by [`CHECKPOINTS_SQL`] (from `$1` on, at most `$2` of them).
type CheckpointRow = (i64, Vec<u8>, i64, String, String);
const CHECKPOINTS_SQL: &str = "SELECT seq, hash, time_ms, reason, signature FROM audit_checkpoints WHERE seq >= $1 ORDER BY seq LIMIT $2";

impl Head {
    fn from_row(
        (last_seq, last_hash, base_seq, base_hash, checkpoint_seq): HeadRow,
    ) -> Result<Head, StoreError> {
        Ok(Head {
            last_seq,
            last_hash: ledger::to_hash(&last_hash, "ledger head hash")?,
            base_seq,
            base_hash: ledger::to_hash(&base_hash, "ledger base hash")?,
            checkpoint_seq,
        })
    }
}

impl Checkpoint {
    fn from_row(
        (seq, hash, time_ms, reason, signature): CheckpointRow,
    ) -> Result<Self, StoreError> {
        Ok(Checkpoint {
            seq,
            hash: ledger::to_hash(&hash, "checkpoint hash")?,
            time_ms,
            reason,
            signature,
        })
    }
}

async fn records_page_on(
    conn: &mut Conn<'_>,
    from: i64,
    limit: i64,
) -> Result<Vec<(ledger::Record, Vec<u8>)>, StoreError> {
    let sql = format!(
        "SELECT {} FROM audit_records WHERE seq >= $1 ORDER BY seq LIMIT $2",
        ledger::RECORD_COLUMNS
    );
    with_conn!(conn, |c| {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(from)
            .bind(limit)
            .fetch_all(&mut **c)
            .await
            .map_err(StoreError::db("reading audit records"))?;
        rows.iter().map(|row| record_from_row!(row)).collect()
    })
}

/// Up to `limit` checkpoints with `seq >= from`, in order.
async fn checkpoints_on(
    conn: &mut Conn<'_>,
    from: i64,
    limit: i64,
) -> Result<Vec<Checkpoint>, StoreError> {
    with_conn!(conn, |c| {
        let rows: Vec<CheckpointRow> = sqlx::query_as(CHECKPOINTS_SQL)
            .bind(from)
            .bind(limit)
            .fetch_all(&mut **c)
            .await
            .map_err(StoreError::db("reading checkpoints"))?;
        rows.into_iter().map(Checkpoint::from_row).collect()
    })
}

async fn stored_hash_on(conn: &mut Conn<'_>, seq: i64) -> Result<Option<[u8; 32]>, StoreError> {
    with_conn!(conn, |c| {
        let hash: Option<(Vec<u8>,)> = sqlx::query_as(STORED_HASH_SQL)
            .bind(seq)
            .fetch_optional(&mut **c)
            .await
            .map_err(StoreError::db("reading audit records"))?;
        hash.map(|(hash,)| ledger::to_hash(&hash, "record hash"))
            .transpose()
    })
}

/// A verification thread or task that died: an error, never a gap in the walk.
fn task_failed(cause: impl std::fmt::Display) -> StoreError {
    StoreError::task_failed("verification task", cause)
}

/// Reads what a walk starts from on `conn` (head, checkpoints, the stored chain value before
/// the first record) and sets the walk up; `Ok(Err(report))` when it is broken before its first
/// record.
async fn begin_walk(
    conn: &mut Conn<'_>,
    options: &VerifyOptions,
) -> Result<Result<Walk, VerifyReport>, StoreError> {
    let head = head_on(conn).await?;
    let checkpoints = checkpoints_on(conn, Walk::start(options, &head) - 1, i64::MAX).await?;
    let before = match Walk::needs_before(options, &head) {
        Some(seq) => stored_hash_on(conn, seq).await?,
        None => None,
    };
    Ok(Walk::new(options.clone(), head, checkpoints, before))
}

/// The walk on one connection (inside the snapshot's transaction).
async fn walk_through_sqlx(
    conn: &mut Conn<'_>,
    options: &VerifyOptions,
) -> Result<VerifyReport, StoreError> {
    let mut walk = match begin_walk(conn, options).await? {
        Ok(walk) => walk,
        Err(report) => return Ok(report),
    };
    let mut page = Page::default();
    let mut from = walk.expected;
    let mut rows = records_page_on(conn, from, SQLX_PAGE).await?;
    loop {
        let more = rows.len() as i64 == SQLX_PAGE;
        from += rows.len() as i64;
        let check = tokio::task::spawn_blocking(move || {
            let mut going_on = true;
            for chunk in rows.chunks(PAGE) {
                page.clear();
                for (record, stored) in chunk {
                    page.push_record(record, stored);
                }
                if !walk.page(&mut page) {
                    going_on = false;
                    break;
                }
            }
            (walk, page, going_on)
        });
        let (checked, next) = if more {
            let (checked, next) = tokio::join!(check, records_page_on(conn, from, SQLX_PAGE));
            (checked, Some(next))
        } else {
            (check.await, None)
        };
        let going_on;
        (walk, page, going_on) = checked.map_err(task_failed)?;
        match next {
            Some(next) if going_on => rows = next?,
            _ => break,
        }
    }
    Ok(walk.finish())
}

/// The ledger's head row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last record's sequence number (0 when empty).
    pub last_seq: i64,
    /// The chain value after it.
    pub last_hash: [u8; 32],
    /// The last pruned sequence number (0 when nothing was pruned).
    pub base_seq: i64,
    /// The chain value after the last pruned record.
    pub base_hash: [u8; 32],
    /// The last checkpointed sequence number.
    pub checkpoint_seq: i64,
}

/// The checks of one verification walk, fed page by page in sequence order; the same for every
/// way of reading the records.
pub(super) struct Walk {
    keys: Option<hegui_keys::KeyRing>,
    head: Head,
    checkpoints: BTreeMap<i64, Checkpoint>,
    report: VerifyReport,
    /// The chain value before the next record.
    prev: [u8; 32],
    /// The next sequence number.
    expected: i64,
}

/// A column of record `seq` that does not hold what the schema says (only an edit in the
/// database does that): the break at that record.
fn column_break(seq: i64, name: &str, what: &str) -> Break {
    Break {
        seq,
        reason: format!("column `{name}` holds {what} (edited in the database?)"),
    }
}

impl Walk {
    /// The first sequence number the walk checks.
    pub(super) fn start(options: &VerifyOptions, head: &Head) -> i64 {
        options
            .from
            .unwrap_or(head.base_seq + 1)
            .max(head.base_seq + 1)
    }

    /// The record whose stored chain value the walk starts from, when it does not start at the
    /// prune boundary (the caller looks it up for [`Walk::new`]).
    pub(super) fn needs_before(options: &VerifyOptions, head: &Head) -> Option<i64> {
        let start = Walk::start(options, head);
        (start != head.base_seq + 1).then_some(start - 1)
    }

    /// A walk from [`Walk::start`], given the checkpoints from the record before it on and, when
    /// [`Walk::needs_before`] asked for it, that record's stored chain value. A walk that is
    /// broken before its first record is the finished report.
    pub(super) fn new(
        options: VerifyOptions,
        head: Head,
        checkpoints: Vec<Checkpoint>,
        before: Option<[u8; 32]>,
    ) -> Result<Walk, VerifyReport> {
        let start = Walk::start(&options, &head);
        let mut walk = Walk {
            report: VerifyReport {
                first_seq: start,
                last_seq: 0,
                records: 0,
                checkpoints: 0,
                signatures: options.keys.as_ref().map(SignatureCheck::new),
                broken: None,
            },
            keys: options.keys,
            checkpoints: checkpoints.into_iter().map(|c| (c.seq, c)).collect(),
            prev: head.base_hash,
            expected: start,
            head,
        };
        if start != walk.head.base_seq + 1 {
            match before {
                Some(hash) => walk.prev = hash,
                None => {
                    return Err(walk.broken(
                        start - 1,
                        "record is missing (needed as the starting point)".into(),
                    ));
                }
            }
        } else if walk.head.base_seq > 0 {
            // The trusted starting value is the prune boundary: its checkpoint must agree.
            let base = walk.head.base_seq;
            match walk.checkpoints.get(&base).cloned() {
                None if walk.keys.is_some() => {
                    return Err(
                        walk.broken(base, "the prune boundary has no signed checkpoint".into())
                    );
                }
                None => {}
                Some(cp) => {
                    walk.report.checkpoints += 1;
                    let base_hash = walk.head.base_hash;
                    if let Some(reason) = walk.check_checkpoint(&cp, &base_hash) {
                        return Err(walk.broken(base, reason));
                    }
                }
            }
        }
        Ok(walk)
    }

    fn broken(mut self, seq: i64, reason: String) -> VerifyReport {
        self.report.broken = Some(Break { seq, reason });
        self.report
    }

    fn check_checkpoint(&mut self, cp: &Checkpoint, hash: &[u8; 32]) -> Option<String> {
        if cp.hash != *hash {
            return Some(format!(
                "checkpoint signed at this record says the chain value is `{}` but it is `{}`",
                hex::encode(cp.hash),
                hex::encode(hash)
            ));
        }
        if let Some(keys) = &self.keys {
            match cp.verify(keys) {
                Err(e) => return Some(format!("checkpoint signature: {e}")),
                Ok(key_id) => {
                    if let Some(check) = &mut self.report.signatures {
                        *check.verified_by.entry(key_id).or_default() += 1;
                    }
                }
            }
        }
        None
    }

    /// Checks the next page of records (hashing it first); `false` once the chain is broken
    /// (the report then says where) and the walk should stop.
    pub(super) fn page(&mut self, page: &mut Page) -> bool {
        if self.report.broken.is_some() {
            return false;
        }
        let hashed = page.hash(&self.prev);
        for i in 0..hashed.len() {
            let record = hashed.record(i);
            let at = |reason| {
                Some(Break {
                    seq: record.seq,
                    reason,
                })
            };
            let fail = if record.seq != self.expected {
                Some(self.missing(record.seq))
            } else if record.computed != record.stored {
                at(format!(
                    "record `{}` does not match its chain value (edited, moved, or its predecessor changed)",
                    String::from_utf8_lossy(record.id)
                ))
            } else if let Some(body) = record.bad_body {
                at(format!("the stored {body} text does not match its digest"))
            } else if let Some(cp) = self.checkpoints.get(&record.seq).cloned() {
                // Checkpoints are rare (one per thousands of records): the clone costs nothing.
                self.report.checkpoints += 1;
                self.check_checkpoint(&cp, record.stored).and_then(at)
            } else {
                None
            };
            if fail.is_some() {
                self.report.broken = fail;
                return false;
            }
            self.prev = *record.stored;
            self.report.records += 1;
            self.report.last_seq = record.seq;
            self.expected += 1;
        }
        // A row that could not be read as a record ends its page.
        if let Some(bad) = page.take_bad() {
            self.report.broken = Some(if bad.seq != self.expected {
                self.missing(bad.seq)
            } else {
                bad
            });
            return false;
        }
        true
    }

    /// The expected record is missing; the next one present is `present`.
    fn missing(&self, present: i64) -> Break {
        Break {
            seq: self.expected,
            reason: format!("record is missing (the next record present is seq {present})"),
        }
    }

    /// Checks pages as they arrive, giving each back (emptied) through `empty` for the reader to
    /// fill again, until the pages end or the chain is broken.
    pub(super) fn check_pages(
        mut self,
        pages: impl IntoIterator<Item = Page>,
        empty: &std::sync::mpsc::Sender<Page>,
    ) -> Walk {
        for mut page in pages {
            if !self.page(&mut page) {
                break;
            }
            page.clear();
            // The reader may have finished already; then the page is simply dropped.
            let _ = empty.send(page);
        }
        self
    }

    /// The report, after the last page: the head row and any later checkpoint must agree with
    /// where the records ended (truncation).
    pub(super) fn finish(mut self) -> VerifyReport {
        if self.report.broken.is_some() {
            return self.report;
        }
        let start = self.report.first_seq;
        let expected = self.expected;
        if let Some((seq, _)) = self.checkpoints.range(expected..).next() {
            self.report.broken = Some(Break {
                seq: expected,
                reason: format!("record is missing (a checkpoint covers up to seq {seq})"),
            });
        } else if self.head.last_seq != expected - 1
            || (self.head.last_seq >= start && self.head.last_hash != self.prev)
        {
            self.report.broken = Some(Break {
                seq: expected,
                reason: format!(
                    "the ledger head says the last record is seq {}, but the chain ends at seq {}",
                    self.head.last_seq,
                    expected - 1
                ),
            });
        }
        self.report
    }
}
