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

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _};

use super::page::Page;
use super::{Break, Head, PAGE, VerifyOptions, VerifyReport, Walk};
use crate::StoreError;
use crate::ledger::{self, Checkpoint, Fields};

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
        let checker = scope.spawn(move || {
            let mut walk = walk;
            for mut page in full_rx {
                if !walk.page(&mut page) {
                    break;
                }
                page.clear();
                // The reader may have finished already; then the page is simply dropped.
                let _ = empty_tx.send(page);
            }
            walk
        });
        let read = read_records(&conn, start, &full_tx, &empty_rx);
        drop(full_tx);
        let walk = checker.join().map_err(|_| StoreError::Invalid {
            what: "verification task",
            reason: "the checking thread failed".into(),
        })?;
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
    let e = StoreError::sqlite("reading audit records");
    let sql = format!(
        "SELECT {} FROM audit_records WHERE seq >= ?1 ORDER BY seq",
        ledger::RECORD_COLUMNS
    );
    let mut statement = conn.prepare(&sql).map_err(e)?;
    let mut rows = statement
        .query([start])
        .map_err(StoreError::sqlite("reading audit records"))?;
    let mut page = Page::default();
    while let Some(row) = rows
        .next()
        .map_err(StoreError::sqlite("reading audit records"))?
    {
        if let Err(bad) = push_row(&mut page, row) {
            page.set_bad(bad);
        }
        if page.len() >= PAGE || page.is_closed() {
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
    let column = Columns { row, seq };
    let fields = Fields {
        id: column.text(1, "id")?,
        time_ms: column.integer(2, "time_ms")?,
        kind: column.text(3, "kind")?,
        tenant: column.text(4, "tenant")?,
        end_user: column.text(5, "end_user")?,
        client_addr: column.text(6, "client_addr")?,
        model: column.text(7, "model")?,
        request_digest: column.digest(8, "request_digest")?,
        response_digest: column.digest(10, "response_digest")?,
        verdicts: column.text(12, "verdicts")?,
        label: column.text(13, "label")?,
        latency_ms: column.integer(14, "latency_ms")?,
        outcome: column.text(15, "outcome")?,
    };
    let request_text = column.optional_text(9, "request_text")?;
    let response_text = column.optional_text(11, "response_text")?;
    let stored = column.blob(16, "hash")?;
    page.push(seq, &fields, request_text, response_text, stored);
    Ok(())
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
            .map_err(|e| self.bad(name, &e.to_string()))
    }

    fn bad(&self, name: &str, what: &str) -> Break {
        Break {
            seq: self.seq,
            reason: format!("column `{name}` holds {what} (edited in the database?)"),
        }
    }

    fn wrong(&self, name: &str, value: ValueRef<'_>, want: &str) -> Break {
        let found = match value {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real number",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        };
        self.bad(name, &format!("{found}, not {want}"))
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

    fn blob(&self, index: usize, name: &str) -> Result<&'r [u8], Break> {
        match self.value(index, name)? {
            ValueRef::Blob(bytes) => Ok(bytes),
            other => Err(self.wrong(name, other, "a blob")),
        }
    }

    fn digest(&self, index: usize, name: &str) -> Result<&'r [u8; 32], Break> {
        let bytes = self.blob(index, name)?;
        bytes.try_into().map_err(|_| {
            self.bad(
                name,
                &format!("{} bytes, not a 32-byte digest", bytes.len()),
            )
        })
    }
}

fn read_head(conn: &Connection) -> Result<Head, StoreError> {
    let (last_seq, last_hash, base_seq, base_hash, checkpoint_seq) = conn
        .query_row(
            "SELECT last_seq, last_hash, base_seq, base_hash, checkpoint_seq FROM ledger_head WHERE id = 1",
            [],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Vec<u8>>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            },
        )
        .map_err(StoreError::sqlite("reading the ledger head"))?;
    Ok(Head {
        last_seq,
        last_hash: ledger::to_hash(&last_hash, "ledger head hash")?,
        base_seq,
        base_hash: ledger::to_hash(&base_hash, "ledger base hash")?,
        checkpoint_seq,
    })
}

fn read_checkpoints(conn: &Connection, from: i64) -> Result<Vec<Checkpoint>, StoreError> {
    let e = StoreError::sqlite;
    let mut statement = conn
        .prepare("SELECT seq, hash, time_ms, reason, signature FROM audit_checkpoints WHERE seq >= ?1 ORDER BY seq")
        .map_err(e("reading checkpoints"))?;
    let rows = statement
        .query_map([from], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .map_err(e("reading checkpoints"))?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, hash, time_ms, reason, signature) = row.map_err(e("reading checkpoints"))?;
        out.push(Checkpoint {
            seq,
            hash: ledger::to_hash(&hash, "checkpoint hash")?,
            time_ms,
            reason,
            signature,
        });
    }
    Ok(out)
}

fn read_stored_hash(conn: &Connection, seq: i64) -> Result<Option<[u8; 32]>, StoreError> {
    let hash: Option<Vec<u8>> = conn
        .query_row(
            "SELECT hash FROM audit_records WHERE seq = ?1",
            [seq],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::sqlite("reading audit records"))?;
    hash.map(|hash| ledger::to_hash(&hash, "record hash"))
        .transpose()
}
