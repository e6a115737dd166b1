//! The SQLite walk: a plain connection of its own to the database file, one read transaction
//! (one snapshot) for the head, the checkpoints and the records, and one statement stepping
//! through every record in sequence order. Rows are encoded into [`Page`]s straight from
//! SQLite's buffers on this thread while another thread hashes and checks the previous page.
//!
//! A column whose stored type is wrong (text where a digest belongs, a NULL in a required
//! field: only an edit in the database does that) is a break at that record, not an error.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::types::{FromSql, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::page::{Page, Row};
use super::{
    Break, CHECKPOINTS_SQL, HEAD_SQL, Head, STORED_HASH_SQL, VerifyOptions, VerifyReport, Walk,
    column_break, task_failed,
};
use crate::StoreError;
use crate::ledger::{self, Checkpoint};

/// Pages in flight between the reader and the checker.
const IN_FLIGHT: usize = 3;

/// Verifies the ledger in the SQLite file at `path`.
pub(super) fn verify(path: &Path, options: VerifyOptions) -> Result<VerifyReport, StoreError> {
    let e = StoreError::sqlite;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(e("opening the database for verification"))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(e("opening the database for verification"))?;
    // One snapshot for everything below: a deferred transaction takes it at the first read.
    conn.execute_batch("BEGIN")
        .map_err(e("starting the verification snapshot"))?;
    let head = read_head(&conn)?;
    let start = Walk::start(&options, &head);
    let checkpoints = read_checkpoints(&conn, start - 1)?;
    let before = match Walk::needs_before(&options, &head) {
        Some(seq) => read_stored_hash(&conn, seq)?,
        None => None,
    };
    let walk = match Walk::new(options, head, checkpoints, before) {
        Ok(walk) => walk,
        Err(report) => return Ok(report),
    };
    let (full_tx, full_rx) = mpsc::sync_channel::<Page>(IN_FLIGHT);
    let (empty_tx, empty_rx) = mpsc::channel::<Page>();
    std::thread::scope(|scope| {
        let checker = scope.spawn(move || walk.check_pages(full_rx, &empty_tx));
        let read = read_records(&conn, start, &full_tx, &empty_rx);
        drop(full_tx);
        let walk = checker
            .join()
            .map_err(|_| task_failed("the checking thread failed"))?;
        read?;
        Ok(walk.finish())
    })
}

/// Sends pages of the records with `seq >= start` until the last record, a bad row, or the
/// checker stopping (a broken chain).
fn read_records(
    conn: &Connection,
    start: i64,
    full: &mpsc::SyncSender<Page>,
    empty: &mpsc::Receiver<Page>,
) -> Result<(), StoreError> {
    let e = || StoreError::sqlite("reading audit records");
    let sql = format!(
        "SELECT {} FROM audit_records WHERE seq >= ?1 ORDER BY seq",
        ledger::RECORD_COLUMNS
    );
    let mut statement = conn.prepare(&sql).map_err(e())?;
    let mut rows = statement.query([start]).map_err(e())?;
    let mut page = Page::default();
    while let Some(row) = rows.next().map_err(e())? {
        if let Err(bad) = push_row(&mut page, row) {
            page.set_bad(bad);
        }
        if page.is_ready() {
            let closed = page.is_closed();
            if full.send(page).is_err() || closed {
                return Ok(());
            }
            page = empty.try_recv().unwrap_or_default();
        }
    }
    if page.len() > 0 {
        // A checker that stopped early has its answer already.
        let _ = full.send(page);
    }
    Ok(())
}

/// Adds one row (selected with [`ledger::RECORD_COLUMNS`]) to the page; a column of the wrong
/// type is the break at that record.
fn push_row(page: &mut Page, row: &rusqlite::Row<'_>) -> Result<(), Break> {
    let seq = match row.get_ref(0) {
        Ok(ValueRef::Integer(seq)) => seq,
        other => {
            // `seq` is the INTEGER PRIMARY KEY: SQLite stores nothing else there.
            return Err(Break {
                seq: 0,
                reason: format!("a record's sequence number is not an integer: {other:?}"),
            });
        }
    };
    page.push_row(&Columns { row, seq })
}

/// Typed access to one row's columns; a wrong type is a [`Break`] at the row's record.
struct Columns<'r, 's> {
    row: &'r rusqlite::Row<'s>,
    seq: i64,
}

impl<'r> Columns<'r, '_> {
    fn value(&self, index: usize, name: &str) -> Result<ValueRef<'r>, Break> {
        self.row
            .get_ref(index)
            .map_err(|e| column_break(self.seq, name, &e.to_string()))
    }

    fn wrong(&self, name: &str, value: ValueRef<'_>, want: &str) -> Break {
        let found = match value {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real number",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        };
        column_break(self.seq, name, &format!("{found}, not {want}"))
    }
}

impl<'r> Row<'r> for Columns<'r, '_> {
    fn seq(&self) -> i64 {
        self.seq
    }

    fn text(&self, index: usize, name: &str) -> Result<&'r [u8], Break> {
        match self.value(index, name)? {
            ValueRef::Text(text) => Ok(text),
            other => Err(self.wrong(name, other, "text")),
        }
    }

    fn optional_text(&self, index: usize, name: &str) -> Result<Option<&'r [u8]>, Break> {
        match self.value(index, name)? {
            ValueRef::Text(text) => Ok(Some(text)),
            ValueRef::Null => Ok(None),
            other => Err(self.wrong(name, other, "text or NULL")),
        }
    }

    fn integer(&self, index: usize, name: &str) -> Result<i64, Break> {
        match self.value(index, name)? {
            ValueRef::Integer(value) => Ok(value),
            other => Err(self.wrong(name, other, "an integer")),
        }
    }

    fn bytes(&self, index: usize, name: &str) -> Result<&'r [u8], Break> {
        match self.value(index, name)? {
            ValueRef::Blob(bytes) => Ok(bytes),
            other => Err(self.wrong(name, other, "a blob")),
        }
    }
}

/// Columns 0 to 4 of a row.
fn five<A: FromSql, B: FromSql, C: FromSql, D: FromSql, E: FromSql>(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(A, B, C, D, E)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let row = conn
        .query_row(HEAD_SQL, [], five)
        .map_err(StoreError::sqlite("reading the ledger head"))?;
    Head::from_row(row)
}

fn read_checkpoints(conn: &Connection, from: i64) -> Result<Vec<Checkpoint>, StoreError> {
    let e = StoreError::sqlite;
    let mut statement = conn
        .prepare(CHECKPOINTS_SQL)
        .map_err(e("reading checkpoints"))?;
    let rows = statement
        .query_map([from, i64::MAX], five)
        .map_err(e("reading checkpoints"))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(Checkpoint::from_row(
            row.map_err(e("reading checkpoints"))?,
        )?);
    }
    Ok(out)
}

fn read_stored_hash(conn: &Connection, seq: i64) -> Result<Option<[u8; 32]>, StoreError> {
    let hash: Option<Vec<u8>> = conn
        .query_row(STORED_HASH_SQL, [seq], |row| row.get(0))
        .optional()
        .map_err(StoreError::sqlite("reading audit records"))?;
    hash.map(|hash| ledger::to_hash(&hash, "record hash"))
        .transpose()
}
