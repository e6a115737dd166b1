//! A page of records as verification needs them: each record's leaf input (`0x00 ‖ canonical
//! bytes`), its stored texts with their digests, its stored chain value, in flat buffers that
//! are reused from page to page, and the hashing of a whole page in SIMD batches.

use crate::ledger::{self, Fields, Record};

use super::{Break, PAGE, column_break};

/// Typed access to the columns of one row selected with `ledger::RECORD_COLUMNS`, whichever
/// database it came from. A value that is not what the schema says is the break at the row's
/// record.
pub(crate) trait Row<'a> {
    /// The row's sequence number.
    fn seq(&self) -> i64;
    /// A text column (its UTF-8 bytes).
    fn text(&self, index: usize, name: &str) -> Result<&'a [u8], Break>;
    /// A text column that may be NULL.
    fn optional_text(&self, index: usize, name: &str) -> Result<Option<&'a [u8]>, Break>;
    /// An integer column.
    fn integer(&self, index: usize, name: &str) -> Result<i64, Break>;
    /// A BLOB / BYTEA column.
    fn bytes(&self, index: usize, name: &str) -> Result<&'a [u8], Break>;

    /// A 32-byte digest column.
    fn digest(&self, index: usize, name: &str) -> Result<&'a [u8; 32], Break> {
        let bytes = self.bytes(index, name)?;
        bytes.try_into().map_err(|_| {
            column_break(
                self.seq(),
                name,
                &format!("{} bytes, not a 32-byte digest", bytes.len()),
            )
        })
    }
}

/// Records waiting to be hashed and checked, in sequence order.
#[derive(Debug, Default)]
pub(crate) struct Page {
    seqs: Vec<i64>,
    stored: Vec<[u8; 32]>,
    /// Every record's `0x00 ‖ canonical bytes`, back to back; `leaf_ends[i]` ends record `i`'s.
    leaf_input: Vec<u8>,
    leaf_ends: Vec<usize>,
    /// Where record `i`'s id sits in `leaf_input` (for messages).
    ids: Vec<std::ops::Range<usize>>,
    /// Stored texts, back to back, with the digest each must have, the record it belongs to and
    /// which text it is.
    texts: Vec<u8>,
    text_ends: Vec<usize>,
    text_digests: Vec<[u8; 32]>,
    text_of: Vec<(usize, &'static str)>,
    /// A row that could not be read as a record; it ends the page.
    bad: Option<Break>,
    // Hashing output, reused.
    leaves: Vec<[u8; 32]>,
    link_input: Vec<[u8; 65]>,
    links: Vec<[u8; 32]>,
    text_hashes: Vec<[u8; 32]>,
}

/// One record of a hashed page.
pub(crate) struct Checked<'a> {
    pub(crate) seq: i64,
    pub(crate) id: &'a [u8],
    /// The stored chain value.
    pub(crate) stored: &'a [u8; 32],
    /// The chain value recomputed from the record and its predecessor's stored value.
    pub(crate) computed: &'a [u8; 32],
    /// The first stored text that does not match its digest.
    pub(crate) bad_body: Option<&'static str>,
}

/// A page after [`Page::hash`].
pub(crate) struct Hashed<'a> {
    page: &'a Page,
    /// Per record, the first text that failed.
    bad_bodies: Vec<Option<&'static str>>,
}

impl Hashed<'_> {
    pub(crate) fn len(&self) -> usize {
        self.page.seqs.len()
    }

    pub(crate) fn record(&self, i: usize) -> Checked<'_> {
        Checked {
            seq: self.page.seqs[i],
            id: &self.page.leaf_input[self.page.ids[i].clone()],
            stored: &self.page.stored[i],
            computed: &self.page.links[i],
            bad_body: self.bad_bodies[i],
        }
    }
}

impl Page {
    /// Records in the page.
    pub(crate) fn len(&self) -> usize {
        self.seqs.len()
    }

    /// Empties the page, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.seqs.clear();
        self.stored.clear();
        self.leaf_input.clear();
        self.leaf_ends.clear();
        self.ids.clear();
        self.texts.clear();
        self.text_ends.clear();
        self.text_digests.clear();
        self.text_of.clear();
        self.bad = None;
    }

    /// Adds a record read from the database. A stored chain value that is not 32 bytes long
    /// cannot match anything: the row becomes the page's bad row (and ends it).
    pub(crate) fn push(
        &mut self,
        seq: i64,
        fields: &Fields<'_>,
        request_text: Option<&[u8]>,
        response_text: Option<&[u8]>,
        stored: &[u8],
    ) {
        if self.is_closed() {
            return;
        }
        let Ok(stored) = <[u8; 32]>::try_from(stored) else {
            self.set_bad(Break {
                seq,
                reason: format!(
                    "record's stored chain value is {} bytes long, not 32 (edited in the database?)",
                    stored.len()
                ),
            });
            return;
        };
        let index = self.seqs.len();
        self.seqs.push(seq);
        self.stored.push(stored);
        let id = fields.encode_leaf_input(seq, &mut self.leaf_input);
        self.leaf_ends.push(self.leaf_input.len());
        self.ids.push(id);
        for (text, digest, name) in [
            (request_text, fields.request_digest, "request"),
            (response_text, fields.response_digest, "response"),
        ] {
            if let Some(text) = text {
                self.texts.extend_from_slice(text);
                self.text_ends.push(self.texts.len());
                self.text_digests.push(*digest);
                self.text_of.push((index, name));
            }
        }
    }

    /// Adds a row read from the database (its columns in `ledger::RECORD_COLUMNS` order).
    pub(crate) fn push_row<'a>(&mut self, row: &impl Row<'a>) -> Result<(), Break> {
        let fields = Fields {
            id: row.text(1, "id")?,
            time_ms: row.integer(2, "time_ms")?,
            kind: row.text(3, "kind")?,
            tenant: row.text(4, "tenant")?,
            end_user: row.text(5, "end_user")?,
            client_addr: row.text(6, "client_addr")?,
            model: row.text(7, "model")?,
            request_digest: row.digest(8, "request_digest")?,
            response_digest: row.digest(10, "response_digest")?,
            verdicts: row.text(12, "verdicts")?,
            label: row.text(13, "label")?,
            latency_ms: row.integer(14, "latency_ms")?,
            outcome: row.text(15, "outcome")?,
        };
        let request_text = row.optional_text(9, "request_text")?;
        let response_text = row.optional_text(11, "response_text")?;
        let stored = row.bytes(16, "hash")?;
        self.push(row.seq(), &fields, request_text, response_text, stored);
        Ok(())
    }

    /// Adds a record decoded by sqlx.
    pub(crate) fn push_record(&mut self, record: &Record, stored: &[u8]) {
        self.push(
            record.seq,
            &record.fields(),
            record.request_text.as_deref().map(str::as_bytes),
            record.response_text.as_deref().map(str::as_bytes),
            stored,
        );
    }

    /// Marks a row that could not be read as a record; nothing after it is added.
    pub(crate) fn set_bad(&mut self, bad: Break) {
        if self.bad.is_none() {
            self.bad = Some(bad);
        }
    }

    /// Whether the page has a bad row (and so takes no more records).
    pub(crate) fn is_closed(&self) -> bool {
        self.bad.is_some()
    }

    /// Whether the page should go to the checker now: it is full, or closed by a bad row.
    pub(crate) fn is_ready(&self) -> bool {
        self.seqs.len() >= PAGE || self.is_closed()
    }

    pub(crate) fn take_bad(&mut self) -> Option<Break> {
        self.bad.take()
    }

    /// Computes every leaf, every stored text's digest and every chain link (record `i`'s from
    /// record `i − 1`'s *stored* chain value, the first from `prev`), in SIMD batches.
    pub(crate) fn hash(&mut self, prev: &[u8; 32]) -> Hashed<'_> {
        let n = self.seqs.len();
        digest_ranges(&self.leaf_input, &self.leaf_ends, &mut self.leaves);
        self.link_input.clear();
        for (i, leaf) in self.leaves.iter().enumerate() {
            let before = if i == 0 { prev } else { &self.stored[i - 1] };
            self.link_input.push(ledger::link_input(before, leaf));
        }
        let messages: Vec<&[u8]> = self.link_input.iter().map(|m| &m[..]).collect();
        self.links.clear();
        self.links.resize(n, [0; 32]);
        hegui_sm3::digest_many(&messages, &mut self.links);
        digest_ranges(&self.texts, &self.text_ends, &mut self.text_hashes);
        let mut bad_bodies = vec![None; n];
        for ((hash, want), (index, name)) in self
            .text_hashes
            .iter()
            .zip(&self.text_digests)
            .zip(&self.text_of)
        {
            if hash != want && bad_bodies[*index].is_none() {
                bad_bodies[*index] = Some(*name);
            }
        }
        Hashed {
            page: self,
            bad_bodies,
        }
    }
}

/// SM3 of each `bytes[ends[i − 1]..ends[i]]` into `out`.
fn digest_ranges(bytes: &[u8], ends: &[usize], out: &mut Vec<[u8; 32]>) {
    let starts = std::iter::once(0).chain(ends.iter().copied());
    let messages: Vec<&[u8]> = starts.zip(ends).map(|(s, &e)| &bytes[s..e]).collect();
    out.clear();
    out.resize(ends.len(), [0; 32]);
    hegui_sm3::digest_many(&messages, out);
}
