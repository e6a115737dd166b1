//! The PostgreSQL walk: a connection of its own (not the pool's), one `REPEATABLE READ, READ
//! ONLY` transaction for the head, the checkpoints and the records, and the records streamed
//! with `COPY (SELECT …) TO STDOUT (FORMAT binary)`. The binary tuples are parsed straight into
//! [`Page`]s on this task (no row objects, no per-field allocation) while a blocking thread
//! hashes and checks the previous page.
//!
//! Binary COPY (PostgreSQL manual, "COPY", "Binary Format"): an 11-byte signature, a 32-bit
//! flags word and a header extension; then per tuple a 16-bit field count and per field a 32-bit
//! length (−1 for NULL) and the value in the type's binary form (`bigint`: 8 bytes big-endian;
//! `text`: its bytes in the client encoding, UTF-8 here; `bytea`: its bytes); then a field count
//! of −1. The stream is parsed as bytes, whatever the message boundaries.

use futures_util::StreamExt as _;
use sqlx::Connection as _;

use super::page::{Page, Row};
use super::{
    Break, Conn, VerifyOptions, VerifyReport, Walk, begin_walk, column_break, task_failed,
};
use crate::StoreError;
use crate::ledger;

/// Pages in flight between the reader and the checker.
const IN_FLIGHT: usize = 3;

/// The binary COPY signature.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// Verifies the ledger on a fresh connection made with the pool's options.
pub(super) async fn verify(
    pool: &sqlx::PgPool,
    options: &VerifyOptions,
) -> Result<VerifyReport, StoreError> {
    let e = StoreError::db;
    let mut conn = sqlx::PgConnection::connect_with(&pool.connect_options())
        .await
        .map_err(e("connecting for verification"))?;
    let mut tx = conn
        .begin()
        .await
        .map_err(e("starting the verification snapshot"))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(e("starting the verification snapshot"))?;
    let walk = match begin_walk(&mut Conn::from(&mut *tx), options).await? {
        Ok(walk) => walk,
        Err(report) => return Ok(report),
    };
    let start = walk.expected;
    let (full_tx, mut full_rx) = tokio::sync::mpsc::channel::<Page>(IN_FLIGHT);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Page>();
    let checker = tokio::task::spawn_blocking(move || {
        walk.check_pages(std::iter::from_fn(|| full_rx.blocking_recv()), &empty_tx)
    });
    // INVARIANT: `start` is an integer; COPY takes no bind parameters.
    let sql = format!(
        "COPY (SELECT {} FROM audit_records WHERE seq >= {start} ORDER BY seq) TO STDOUT (FORMAT binary)",
        ledger::RECORD_COLUMNS
    );
    let mut complete = false;
    let read: Result<(), StoreError> = async {
        let mut stream = tx
            .copy_out_raw(&sql)
            .await
            .map_err(e("reading audit records"))?;
        let mut parser = CopyParser::default();
        let mut page = Page::default();
        let mut ready = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(e("reading audit records"))?;
            parser.feed(&chunk, |tuple| {
                if let Err(bad) = push_tuple(&mut page, tuple) {
                    page.set_bad(bad);
                }
                let closed = page.is_closed();
                if page.is_ready() {
                    let next = empty_rx.try_recv().unwrap_or_default();
                    ready.push(std::mem::replace(&mut page, next));
                }
                // Nothing after a bad row is read.
                !closed
            })?;
            for full in ready.drain(..) {
                let closed = full.is_closed();
                if full_tx.send(full).await.is_err() || closed {
                    // The checker stopped, or stops at this page: its report is ready.
                    return Ok(());
                }
            }
        }
        if !parser.finished {
            return Err(invalid("the stream ended without its trailer"));
        }
        if page.len() > 0 {
            let _ = full_tx.send(page).await;
        }
        complete = true;
        Ok(())
    }
    .await;
    drop(full_tx);
    let walk = checker.await.map_err(task_failed)?;
    read?;
    if complete {
        tx.rollback()
            .await
            .map_err(e("ending the verification snapshot"))?;
        conn.close()
            .await
            .map_err(e("ending the verification snapshot"))?;
    }
    // Otherwise the connection is dropped in the middle of its COPY; the server ends the
    // transaction when the socket closes.
    Ok(walk.finish())
}

/// One tuple's fields: `None` for NULL.
type Tuple<'a> = [Option<&'a [u8]>; COLUMNS];

/// Columns in [`ledger::RECORD_COLUMNS`].
const COLUMNS: usize = ledger::RECORD_COLUMN_COUNT;

/// An incremental parser of a binary COPY stream of [`ledger::RECORD_COLUMNS`] rows.
#[derive(Debug, Default)]
struct CopyParser {
    /// Bytes of a tuple (or the header) split across chunks.
    pending: Vec<u8>,
    header: bool,
    /// The trailer was seen.
    finished: bool,
    /// The caller asked for no more tuples.
    stopped: bool,
}

impl CopyParser {
    /// Takes the next chunk of the stream and hands every tuple completed by it to `take`,
    /// until `take` returns `false` (after which all further data is ignored).
    fn feed(
        &mut self,
        chunk: &[u8],
        mut take: impl FnMut(&Tuple<'_>) -> bool,
    ) -> Result<(), StoreError> {
        if self.stopped {
            return Ok(());
        }
        // Parse straight from the chunk when nothing is pending (the usual case: PostgreSQL
        // sends a tuple per message); otherwise from the pending bytes with the chunk added.
        let mut joined = std::mem::take(&mut self.pending);
        let bytes: &[u8] = if joined.is_empty() {
            chunk
        } else {
            joined.extend_from_slice(chunk);
            &joined
        };
        let mut at = 0;
        if !self.header {
            let Some(length) = header_length(bytes)? else {
                self.pending = bytes.to_vec();
                return Ok(());
            };
            at = length;
            self.header = true;
        }
        while at < bytes.len() {
            if self.finished {
                return Err(invalid("data after the trailer"));
            }
            match tuple(&bytes[at..])? {
                None => break,
                Some((None, used)) => {
                    at += used;
                    self.finished = true;
                }
                Some((Some(fields), used)) => {
                    at += used;
                    if !take(&fields) {
                        self.stopped = true;
                        return Ok(());
                    }
                }
            }
        }
        self.pending = bytes[at..].to_vec();
        Ok(())
    }
}

/// Parses `bytes` as a binary COPY stream of audit records, cut into chunks at `cuts`, into
/// pages, and hashes and checks them as verification would (from an empty ledger): for the fuzz
/// target. Returns the records taken, or the first error or break as text.
pub(crate) fn fuzz_stream(bytes: &[u8], cuts: &[usize]) -> Result<usize, String> {
    let mut parser = CopyParser::default();
    let mut page = Page::default();
    let mut taken = 0;
    let mut from = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.push(bytes.len());
    for to in points {
        parser
            .feed(&bytes[from..to], |tuple| {
                if let Err(bad) = push_tuple(&mut page, tuple) {
                    page.set_bad(bad);
                }
                taken += 1;
                !page.is_closed()
            })
            .map_err(|e| e.to_string())?;
        from = to;
    }
    let head = super::Head {
        last_seq: taken as i64,
        last_hash: [0; 32],
        base_seq: 0,
        base_hash: [0; 32],
        checkpoint_seq: 0,
    };
    let mut walk = Walk::new(VerifyOptions::default(), head, Vec::new(), None)
        .map_err(|report| format!("{report:?}"))?;
    walk.page(&mut page);
    match walk.finish().broken {
        Some(broken) => Err(broken.to_string()),
        None => Ok(taken),
    }
}

fn invalid(reason: &str) -> StoreError {
    StoreError::Invalid {
        what: "COPY data from PostgreSQL",
        reason: reason.to_owned(),
    }
}

/// The header's length, once all of it is there.
fn header_length(bytes: &[u8]) -> Result<Option<usize>, StoreError> {
    if bytes.len() < SIGNATURE.len() + 8 {
        // Check what is there already, so that garbage fails early.
        let n = bytes.len().min(SIGNATURE.len());
        if bytes[..n] != SIGNATURE[..n] {
            return Err(invalid("not a binary COPY stream"));
        }
        return Ok(None);
    }
    if bytes[..SIGNATURE.len()] != SIGNATURE[..] {
        return Err(invalid("not a binary COPY stream"));
    }
    let flags = be32(&bytes[11..15]);
    if flags & (1 << 16) != 0 {
        return Err(invalid("the stream carries OIDs"));
    }
    let extension = usize::try_from(be32(&bytes[15..19]))
        .map_err(|_| invalid("negative header extension length"))?;
    let total = (SIGNATURE.len() + 8)
        .checked_add(extension)
        .ok_or_else(|| invalid("header extension too long"))?;
    Ok((bytes.len() >= total).then_some(total))
}

/// One tuple at the start of `bytes`: `None` when incomplete; `Some((None, n))` for the trailer.
fn tuple(bytes: &[u8]) -> Result<Option<(Option<Tuple<'_>>, usize)>, StoreError> {
    let Some(count) = bytes.get(..2) else {
        return Ok(None);
    };
    let count = i16::from_be_bytes([count[0], count[1]]);
    if count == -1 {
        return Ok(Some((None, 2)));
    }
    if usize::try_from(count).ok() != Some(COLUMNS) {
        return Err(invalid(&format!(
            "a tuple has {count} fields, not {COLUMNS}"
        )));
    }
    let mut fields: Tuple<'_> = [None; COLUMNS];
    let mut at = 2;
    for field in &mut fields {
        let Some(length) = bytes.get(at..at + 4) else {
            return Ok(None);
        };
        let length = be32(length);
        at += 4;
        if length == -1 {
            continue;
        }
        let length = usize::try_from(length).map_err(|_| invalid("negative field length"))?;
        let Some(value) = bytes.get(at..at.saturating_add(length)) else {
            return Ok(None);
        };
        *field = Some(value);
        at += length;
    }
    Ok(Some((Some(fields), at)))
}

fn be32(bytes: &[u8]) -> i32 {
    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Adds one tuple to the page; a NULL where a value is required, or a digest of the wrong
/// length, is the break at that record.
fn push_tuple(page: &mut Page, tuple: &Tuple<'_>) -> Result<(), Break> {
    let seq = match tuple[0] {
        Some(bytes) if bytes.len() == 8 => i64::from_be_bytes(bytes.try_into().unwrap_or([0; 8])),
        _ => {
            return Err(Break {
                seq: 0,
                reason: "a record's sequence number is not a bigint".into(),
            });
        }
    };
    page.push_row(&Columns { tuple, seq })
}

/// Typed access to one tuple's fields; a wrong value is a [`Break`] at the tuple's record.
struct Columns<'t, 'a> {
    tuple: &'t Tuple<'a>,
    seq: i64,
}

impl<'a> Row<'a> for Columns<'_, 'a> {
    fn seq(&self) -> i64 {
        self.seq
    }

    fn text(&self, index: usize, name: &str) -> Result<&'a [u8], Break> {
        self.bytes(index, name)
    }

    fn optional_text(&self, index: usize, _name: &str) -> Result<Option<&'a [u8]>, Break> {
        Ok(self.tuple[index])
    }

    fn integer(&self, index: usize, name: &str) -> Result<i64, Break> {
        let bytes = self.bytes(index, name)?;
        let bytes: [u8; 8] = bytes.try_into().map_err(|_| {
            column_break(
                self.seq,
                name,
                &format!("{} bytes, not a bigint", bytes.len()),
            )
        })?;
        Ok(i64::from_be_bytes(bytes))
    }

    fn bytes(&self, index: usize, name: &str) -> Result<&'a [u8], Break> {
        self.tuple[index].ok_or_else(|| column_break(self.seq, name, "NULL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A binary COPY stream of `rows` (each 17 fields, `None` for NULL), with a header
    /// extension of `extension` bytes.
    fn stream(rows: &[Vec<Option<Vec<u8>>>], extension: usize) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&(extension as i32).to_be_bytes());
        out.extend(std::iter::repeat_n(7u8, extension));
        for row in rows {
            out.extend_from_slice(&(row.len() as i16).to_be_bytes());
            for field in row {
                match field {
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    Some(bytes) => {
                        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                        out.extend_from_slice(bytes);
                    }
                }
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    fn row(seq: i64, text: Option<&str>) -> Vec<Option<Vec<u8>>> {
        let mut row: Vec<Option<Vec<u8>>> = vec![Some(b"x".to_vec()); COLUMNS];
        row[0] = Some(seq.to_be_bytes().to_vec());
        for i in [2, 14] {
            row[i] = Some(9i64.to_be_bytes().to_vec());
        }
        for i in [8, 10, 16] {
            row[i] = Some(vec![seq as u8; 32]);
        }
        row[9] = text.map(|t| t.as_bytes().to_vec());
        row[11] = None;
        row
    }

    /// Each tuple's sequence number and request text.
    type Seen = Vec<(i64, Option<Vec<u8>>)>;

    /// Parses `bytes` split at `cuts`; returns what it saw and whether the trailer was seen.
    fn parse(bytes: &[u8], cuts: &[usize]) -> Result<(Seen, bool), StoreError> {
        let mut parser = CopyParser::default();
        let mut seen = Vec::new();
        let mut from = 0;
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        points.push(bytes.len());
        for to in points {
            parser.feed(&bytes[from..to], |t| {
                let seq = t[0].map_or(-1, |b| i64::from_be_bytes(b.try_into().unwrap_or([0; 8])));
                seen.push((seq, t[9].map(<[u8]>::to_vec)));
                true
            })?;
            from = to;
        }
        Ok((seen, parser.finished))
    }

    #[test]
    fn parses_tuples_nulls_and_the_trailer() {
        let rows = vec![row(1, Some("问题")), row(2, None), row(3, Some(""))];
        let bytes = stream(&rows, 3);
        let (seen, finished) = parse(&bytes, &[]).unwrap();
        assert!(finished);
        assert_eq!(
            seen,
            vec![
                (1, Some("问题".as_bytes().to_vec())),
                (2, None),
                (3, Some(Vec::new()))
            ]
        );
    }

    #[test]
    fn malformed_streams_are_errors_with_a_reason() {
        let good = stream(&[row(1, None)], 0);
        let mut wrong_count = good.clone();
        wrong_count[19..21].copy_from_slice(&16i16.to_be_bytes());
        let mut oids = good.clone();
        oids[11..15].copy_from_slice(&(1i32 << 16).to_be_bytes());
        let mut negative = good.clone();
        negative[21..25].copy_from_slice(&(-5i32).to_be_bytes());
        let mut extra = good.clone();
        extra.push(0);
        for (bytes, want) in [
            (b"COPY 1\n".to_vec(), "not a binary COPY stream"),
            (wrong_count, "a tuple has 16 fields, not 17"),
            (oids, "carries OIDs"),
            (negative, "negative field length"),
            (extra, "data after the trailer"),
        ] {
            let error = parse(&bytes, &[]).unwrap_err().to_string();
            assert!(error.contains(want), "{error}");
        }
        // A stream cut short is not finished (the caller reports that).
        let (_, finished) = parse(&good[..good.len() - 1], &[]).unwrap();
        assert!(!finished);
    }

    #[test]
    fn tuples_become_page_records_or_breaks() {
        let mut page = Page::default();
        let fields = |r: &Vec<Option<Vec<u8>>>| -> Vec<Option<Vec<u8>>> { r.clone() };
        let as_tuple = |r: &[Option<Vec<u8>>]| -> [Option<Vec<u8>>; COLUMNS] {
            std::array::from_fn(|i| r[i].clone())
        };
        let ok = as_tuple(&fields(&row(1, Some("q"))));
        let ok: Tuple<'_> = std::array::from_fn(|i| ok[i].as_deref());
        assert_eq!(push_tuple(&mut page, &ok), Ok(()));
        assert_eq!(page.len(), 1);
        for (index, value, want) in [
            (
                8,
                Some(vec![0u8; 31]),
                "column `request_digest` holds 31 bytes",
            ),
            (
                2,
                Some(vec![0u8; 4]),
                "column `time_ms` holds 4 bytes, not a bigint",
            ),
            (3, None, "column `kind` holds NULL"),
        ] {
            let mut r = row(5, None);
            r[index] = value;
            let owned = as_tuple(&r);
            let t: Tuple<'_> = std::array::from_fn(|i| owned[i].as_deref());
            let bad = push_tuple(&mut page, &t).unwrap_err();
            assert_eq!(bad.seq, 5);
            assert!(bad.reason.contains(want), "{}", bad.reason);
        }
    }

    proptest! {
        /// However the stream is cut into chunks, the same tuples come out in order.
        #[test]
        fn chunking_does_not_matter(
            texts in proptest::collection::vec(proptest::option::of("[a-z问]{0,40}"), 0..30),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
            extension in 0usize..5,
        ) {
            let rows: Vec<_> = texts.iter().enumerate().map(|(i, t)| row(i as i64 + 1, t.as_deref())).collect();
            let bytes = stream(&rows, extension);
            let (seen, finished) = parse(&bytes, &cuts).unwrap();
            prop_assert!(finished);
            let want: Vec<_> = texts.iter().enumerate().map(|(i, t)| (i as i64 + 1, t.as_ref().map(|t| t.as_bytes().to_vec()))).collect();
            prop_assert_eq!(seen, want);
        }

        /// Garbage never panics: it is an error, or an unfinished stream.
        #[test]
        fn garbage_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(any::<usize>(), 0..6),
            keep_signature in any::<bool>(),
        ) {
            let mut bytes = bytes;
            if keep_signature {
                let mut with = SIGNATURE.to_vec();
                with.extend_from_slice(&[0; 8]);
                with.extend(bytes);
                bytes = with;
            }
            let _ = parse(&bytes, &cuts);
        }
    }
}
