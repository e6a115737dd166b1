//! The audit ledger: records, their canonical encoding, the SM3 hash chain and signed
//! checkpoints.
//!
//! A record's **leaf** is `SM3(0x00 ‖ canonical bytes)`; the chain value after record `n` is
//! `hash(n) = SM3(0x01 ‖ hash(n-1) ‖ leaf(n))`, with `hash(0)` = 32 zero bytes. The canonical
//! bytes cover the sequence number, so moving a row breaks the link at that row; request and
//! response bodies enter only as their SM3 digests, so that a deployment may store digests only
//! (privacy) and still verify, and a stored full text is checked against its digest.
//!
//! A **checkpoint** signs `hegui-ledger-checkpoint/1\n{seq}\n{hash hex}\n{time_ms}\n` with the
//! provider key (`hegui-keys`, SM2 by default). Anyone holding the public key can check an
//! export (see [`export`]) without access to the database.
//!
//! Why SM3 and not SHA-256: auditors in mainland China check integrity protection against the
//! commercial-cryptography standards (GB/T 39786-2021), which name SM3; the signing key is SM2
//! over SM3 already. SM3 costs more CPU than SHA-256 with SHA-NI, and it is what bounds the
//! verification rate (BENCHMARKS.md, "Audit ledger").

mod exchange;
pub mod export;
mod prune;
pub mod schema;
pub mod search;
mod verify;

use serde::{Deserialize, Serialize};

pub use exchange::{Exchange, StreamState};
pub use prune::PruneReport;
pub(crate) use verify::fuzz_stream as verify_fuzz_stream;
pub use verify::{Break, Head, SignatureCheck, VerifyOptions, VerifyReport};

/// The chain value before the first record.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// What [`RecordId::completion`] appends to a started exchange's id.
const COMPLETION_SUFFIX: &str = ".end";

/// Version tag at the start of every canonical encoding.
const CANONICAL_TAG: &[u8; 4] = b"HGL1";

/// The checkpoint message prefix.
const CHECKPOINT_TAG: &str = "hegui-ledger-checkpoint/1";

/// How request and response bodies are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyMode {
    /// Full text and digest (the default: a regulator may ask what was said).
    #[default]
    Full,
    /// Digests only: the text is never stored (privacy); a user who presents the text can prove
    /// that it matches.
    Digest,
}

/// A record id: 32 lowercase hex digits (48-bit millisecond time, 80 random bits). Unique,
/// roughly time-ordered, and short enough to serve as the GB 45438 `ProduceID` of the content
/// the record describes, so that a labeled file leads back to its record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(String);

impl RecordId {
    /// A fresh id.
    pub fn generate() -> RecordId {
        // The system's time, whatever clock the store has: it only keeps ids roughly ordered.
        let time = (chrono::Utc::now().timestamp_millis().max(0) as u64) & 0xFFFF_FFFF_FFFF;
        let random: [u8; 10] = crate::id_random_bytes();
        RecordId(format!("{time:012x}{}", hex::encode(random)))
    }

    /// Accepts any non-empty id of printable ASCII up to 64 bytes (ids made elsewhere, for
    /// example by another system that writes the label first).
    pub fn parse(text: &str) -> Result<RecordId, crate::StoreError> {
        if text.is_empty() || text.len() > 64 || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(crate::StoreError::Invalid {
                what: "record id",
                reason: format!("`{text}` is not 1 to 64 printable ASCII characters"),
            });
        }
        Ok(RecordId(text.to_owned()))
    }

    /// The id of the record that completes a streamed exchange begun under this id (outcome
    /// [`schema::Outcome::Started`]): this id and `.end`.
    pub fn completion(&self) -> RecordId {
        RecordId(format!("{}{COMPLETION_SUFFIX}", self.0))
    }

    pub(crate) fn from_stored(text: String) -> RecordId {
        RecordId(text)
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A record to append. Build it with [`NewRecord::new`] and the setters; empty strings mean
/// "not applicable".
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    /// Its id; generated when `None`. Use [`RecordId::generate`] first when the id must be
    /// known before the record is written (for example to put it in a label).
    pub id: Option<RecordId>,
    /// Time in milliseconds since the Unix epoch; now when `None`.
    pub time_ms: Option<i64>,
    /// What happened: `chat`, `image`, `sanction`, `takedown`, `complaint`, `download`, ….
    pub kind: String,
    /// Tenant id.
    pub tenant: String,
    /// End user id.
    pub end_user: String,
    /// Client network address.
    pub client_addr: String,
    /// Model name.
    pub model: String,
    /// Request body (text).
    pub request: String,
    /// Response body (text).
    pub response: String,
    /// Guard verdicts, as JSON text: [`schema::Verdicts`] (`.verdicts(verdicts)` takes them).
    pub verdicts: String,
    /// The label written on the output (JSON text), if any.
    pub label: String,
    /// Latency in milliseconds.
    pub latency_ms: i64,
    /// Outcome: a [`schema::Outcome`] for guarded exchanges (`.outcome(Outcome::Ok)`), or the
    /// text of another kind of event.
    pub outcome: String,
}

macro_rules! setters {
    ($($field:ident),*) => {$(
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $field(mut self, value: impl Into<String>) -> Self {
            self.$field = value.into();
            self
        }
    )*};
}

impl NewRecord {
    /// A record of `kind` with everything else empty.
    pub fn new(kind: impl Into<String>) -> NewRecord {
        NewRecord {
            kind: kind.into(),
            verdicts: "[]".into(),
            outcome: "ok".into(),
            ..NewRecord::default()
        }
    }

    setters!(
        tenant,
        end_user,
        client_addr,
        model,
        request,
        response,
        verdicts,
        label,
        outcome
    );

    /// Sets the id.
    pub fn with_id(mut self, id: RecordId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the time (milliseconds since the Unix epoch).
    pub fn at(mut self, time_ms: i64) -> Self {
        self.time_ms = Some(time_ms);
        self
    }

    /// Sets the latency.
    pub fn latency(mut self, latency_ms: i64) -> Self {
        self.latency_ms = latency_ms;
        self
    }

    /// The stored form at `seq`, keeping or dropping the bodies per `mode`; stamped `now_ms`
    /// unless it has a time of its own.
    pub(crate) fn into_record(self, seq: i64, mode: BodyMode, now_ms: i64) -> Record {
        let request_digest = hegui_keys::sm3(self.request.as_bytes());
        let response_digest = hegui_keys::sm3(self.response.as_bytes());
        let keep = mode == BodyMode::Full;
        Record {
            seq,
            id: self.id.unwrap_or_else(RecordId::generate).0,
            time_ms: self.time_ms.unwrap_or(now_ms),
            kind: self.kind,
            tenant: self.tenant,
            end_user: self.end_user,
            client_addr: self.client_addr,
            model: self.model,
            request_digest,
            request_text: keep.then_some(self.request),
            response_digest,
            response_text: keep.then_some(self.response),
            verdicts: self.verdicts,
            label: self.label,
            latency_ms: self.latency_ms,
            outcome: self.outcome,
        }
    }
}

/// A stored record (without its chain hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Sequence number: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// Record id (a `ProduceID`).
    pub id: String,
    /// Time, milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Kind of event.
    pub kind: String,
    /// Tenant.
    pub tenant: String,
    /// End user.
    pub end_user: String,
    /// Client address.
    pub client_addr: String,
    /// Model.
    pub model: String,
    /// SM3 of the request text.
    #[serde(with = "hex32")]
    pub request_digest: [u8; 32],
    /// The request text, when kept.
    pub request_text: Option<String>,
    /// SM3 of the response text.
    #[serde(with = "hex32")]
    pub response_digest: [u8; 32],
    /// The response text, when kept.
    pub response_text: Option<String>,
    /// Guard verdicts (JSON text).
    pub verdicts: String,
    /// Label (JSON text).
    pub label: String,
    /// Latency, milliseconds.
    pub latency_ms: i64,
    /// Outcome.
    pub outcome: String,
}

impl Record {
    /// The canonical bytes: a version tag, then every field in declaration order; integers as
    /// 8-byte big-endian, strings as a 4-byte big-endian length and UTF-8, digests as 32 raw
    /// bytes. The bodies' texts are not included (their digests are).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.canonical_at(self.seq, &mut out);
        out
    }

    /// The canonical bytes with `seq` in place of the record's own sequence number, appended to
    /// `out`.
    fn canonical_at(&self, seq: i64, out: &mut Vec<u8>) {
        self.fields().encode(seq, out);
    }

    /// The fields the leaf covers, borrowed.
    pub(crate) fn fields(&self) -> Fields<'_> {
        Fields {
            id: self.id.as_bytes(),
            time_ms: self.time_ms,
            kind: self.kind.as_bytes(),
            tenant: self.tenant.as_bytes(),
            end_user: self.end_user.as_bytes(),
            client_addr: self.client_addr.as_bytes(),
            model: self.model.as_bytes(),
            request_digest: &self.request_digest,
            response_digest: &self.response_digest,
            verdicts: self.verdicts.as_bytes(),
            label: self.label.as_bytes(),
            latency_ms: self.latency_ms,
            outcome: self.outcome.as_bytes(),
        }
    }

    /// `SM3(0x00 ‖ canonical)`.
    pub fn leaf(&self) -> [u8; 32] {
        self.leaf_at(self.seq, &mut Vec::new())
    }

    /// The leaf this record would have at sequence number `seq`, encoding into `buffer` (reused
    /// across records by the writer).
    pub(crate) fn leaf_at(&self, seq: i64, buffer: &mut Vec<u8>) -> [u8; 32] {
        buffer.clear();
        self.fields().encode_leaf_input(seq, buffer);
        hegui_keys::sm3(buffer)
    }

    /// Checks stored texts against their digests; names the first that differs.
    pub fn check_bodies(&self) -> Result<(), &'static str> {
        for (text, digest, name) in [
            (&self.request_text, &self.request_digest, "request"),
            (&self.response_text, &self.response_digest, "response"),
        ] {
            if let Some(text) = text
                && hegui_keys::sm3(text.as_bytes()) != *digest
            {
                return Err(name);
            }
        }
        Ok(())
    }
}

/// The fields of a record that its leaf covers, borrowed from a [`Record`] or straight from a
/// database row (verification encodes rows without building a `Record`). Text fields are the
/// stored bytes (UTF-8).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) id: &'a [u8],
    pub(crate) time_ms: i64,
    pub(crate) kind: &'a [u8],
    pub(crate) tenant: &'a [u8],
    pub(crate) end_user: &'a [u8],
    pub(crate) client_addr: &'a [u8],
    pub(crate) model: &'a [u8],
    pub(crate) request_digest: &'a [u8; 32],
    pub(crate) response_digest: &'a [u8; 32],
    pub(crate) verdicts: &'a [u8],
    pub(crate) label: &'a [u8],
    pub(crate) latency_ms: i64,
    pub(crate) outcome: &'a [u8],
}

impl Fields<'_> {
    /// Appends what the leaf hashes, `0x00 ‖ canonical bytes` at sequence number `seq`, to
    /// `out`; returns where the id's bytes sit in `out` (for messages about the record).
    pub(crate) fn encode_leaf_input(&self, seq: i64, out: &mut Vec<u8>) -> std::ops::Range<usize> {
        let start = out.len();
        out.push(0x00);
        self.encode(seq, out);
        // The domain byte, the tag, the sequence number and the id's length come first.
        let id = start + 1 + CANONICAL_TAG.len() + 8 + 4;
        id..id + self.id.len()
    }

    /// Appends the canonical bytes at sequence number `seq` to `out` (see [`Record::canonical`]).
    pub(crate) fn encode(&self, seq: i64, out: &mut Vec<u8>) {
        out.reserve(160 + self.id.len() + self.verdicts.len() + self.label.len());
        out.extend_from_slice(CANONICAL_TAG);
        out.extend_from_slice(&seq.to_be_bytes());
        put_str(out, self.id);
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        for s in [
            self.kind,
            self.tenant,
            self.end_user,
            self.client_addr,
            self.model,
        ] {
            put_str(out, s);
        }
        out.extend_from_slice(self.request_digest);
        out.extend_from_slice(self.response_digest);
        put_str(out, self.verdicts);
        put_str(out, self.label);
        out.extend_from_slice(&self.latency_ms.to_be_bytes());
        put_str(out, self.outcome);
    }
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    // INVARIANT: strings longer than 4 GiB cannot reach here (the databases cap text far lower);
    // saturate rather than wrap so that such a string could never collide with a short one.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s);
}

/// The chain step: `SM3(0x01 ‖ prev ‖ leaf)`.
pub fn link(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 32] {
    hegui_keys::sm3(&link_input(prev, leaf))
}

/// What the chain step hashes: `0x01 ‖ prev ‖ leaf`.
pub(crate) fn link_input(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 65] {
    let mut bytes = [0u8; 65];
    bytes[0] = 0x01;
    bytes[1..33].copy_from_slice(prev);
    bytes[33..].copy_from_slice(leaf);
    bytes
}

/// A signed statement that the chain's value after `seq` is `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The last record covered.
    pub seq: i64,
    /// The chain value after that record.
    #[serde(with = "hex32")]
    pub hash: [u8; 32],
    /// When it was signed.
    pub time_ms: i64,
    /// Why: `periodic`, `prune`, `export`, `manual`.
    pub reason: String,
    /// `ALG:KEYID:HEX`.
    pub signature: String,
}

impl Checkpoint {
    /// The signed message.
    pub fn message(seq: i64, hash: &[u8; 32], time_ms: i64) -> String {
        format!(
            "{CHECKPOINT_TAG}\n{seq}\n{}\n{time_ms}\n",
            hex::encode(hash)
        )
    }

    /// Signs a checkpoint of the chain at `seq` (value `hash`), made at `time_ms`.
    pub fn sign(
        key: &hegui_keys::SigningKey,
        seq: i64,
        hash: [u8; 32],
        time_ms: i64,
        reason: &str,
    ) -> Checkpoint {
        let signature = key
            .sign(Checkpoint::message(seq, &hash, time_ms).as_bytes())
            .to_string();
        Checkpoint {
            seq,
            hash,
            time_ms,
            reason: reason.to_owned(),
            signature,
        }
    }

    /// Checks the signature with a key from `keys`; returns the id of the key that made it.
    pub fn verify(&self, keys: &hegui_keys::KeyRing) -> Result<String, hegui_keys::KeyError> {
        let signature: hegui_keys::Signature = self.signature.parse()?;
        keys.verify(
            Checkpoint::message(self.seq, &self.hash, self.time_ms).as_bytes(),
            &signature,
        )?;
        Ok(signature.key_id)
    }
}

/// What [`crate::AuditWriter::append`] returns once the record is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The record's sequence number.
    pub seq: i64,
    /// The record's id.
    pub id: RecordId,
    /// The chain value after this record.
    pub hash: [u8; 32],
}

/// Serde for 32-byte digests as hex.
pub(crate) mod hex32 {
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(text.as_bytes(), &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

/// Parses a time for the CLI: RFC 3339 (`2026-05-01T08:00:00+08:00`) or a date (`2026-05-01`,
/// midnight UTC). Returns milliseconds since the Unix epoch.
pub fn parse_time(text: &str) -> Result<i64, crate::StoreError> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| crate::StoreError::Invalid {
            what: "time",
            reason: format!("`{text}` is neither a date `YYYY-MM-DD` nor an RFC 3339 time"),
        })
}

/// Finds the GB 45438 `ProduceID` in a labeled file's bytes, wherever the label JSON sits
/// (text, XMP with `&quot;` or `\"` escaping, metadata chunks stored uncompressed). Returns the
/// first non-empty value.
pub fn find_produce_id(bytes: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"ProduceID";
    let mut from = 0;
    while let Some(pos) = bytes.get(from..)?.windows(KEY.len()).position(|w| w == KEY) {
        let start = from + pos + KEY.len();
        let tail = bytes.get(start..bytes.len().min(start + 300))?;
        let text = String::from_utf8_lossy(tail)
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace('\\', "");
        // `"` (end of the key), then `:` or `=`, then `"`, the value, and `"`.
        let rest = text.strip_prefix('"').unwrap_or(&text).trim_start();
        let value = rest
            .strip_prefix([':', '='])
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix('"'))
            .and_then(|r| r.split_once('"'))
            .map(|(value, _)| value)
            .filter(|v| !v.chars().any(char::is_control))
            .unwrap_or("");
        if !value.is_empty() {
            return Some(value.to_owned());
        }
        from = start;
    }
    None
}

/// How many columns [`RECORD_COLUMNS`] names.
pub(crate) const RECORD_COLUMN_COUNT: usize = 17;

/// The record columns in canonical order, then `hash`.
pub(crate) const RECORD_COLUMNS: &str = "seq, id, time_ms, kind, tenant, end_user, client_addr, model, request_digest, request_text, response_digest, response_text, verdicts, label, latency_ms, outcome, hash";

/// Decodes a row selected with [`RECORD_COLUMNS`] into the record and its stored hash.
macro_rules! record_from_row {
    ($row:expr) => {{
        let row = &$row;
        (|| -> Result<($crate::ledger::Record, Vec<u8>), $crate::StoreError> {
            let g = |source| $crate::StoreError::Database {
                action: "reading audit records",
                source,
            };
            let request_digest: Vec<u8> = row.try_get(8).map_err(g)?;
            let response_digest: Vec<u8> = row.try_get(10).map_err(g)?;
            Ok((
                $crate::ledger::Record {
                    seq: row.try_get(0).map_err(g)?,
                    id: row.try_get(1).map_err(g)?,
                    time_ms: row.try_get(2).map_err(g)?,
                    kind: row.try_get(3).map_err(g)?,
                    tenant: row.try_get(4).map_err(g)?,
                    end_user: row.try_get(5).map_err(g)?,
                    client_addr: row.try_get(6).map_err(g)?,
                    model: row.try_get(7).map_err(g)?,
                    request_digest: $crate::ledger::to_hash(&request_digest, "request digest")?,
                    request_text: row.try_get(9).map_err(g)?,
                    response_digest: $crate::ledger::to_hash(&response_digest, "response digest")?,
                    response_text: row.try_get(11).map_err(g)?,
                    verdicts: row.try_get(12).map_err(g)?,
                    label: row.try_get(13).map_err(g)?,
                    latency_ms: row.try_get(14).map_err(g)?,
                    outcome: row.try_get(15).map_err(g)?,
                },
                row.try_get(16).map_err(g)?,
            ))
        })()
    }};
}
pub(crate) use record_from_row;

pub(crate) fn to_hash(bytes: &[u8], what: &'static str) -> Result<[u8; 32], crate::StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| crate::StoreError::Invalid {
        what,
        reason: format!("expected 32 bytes, found {}", bytes.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        NewRecord::new("chat")
            .tenant("t")
            .request("q")
            .response("a")
            .at(5)
            .with_id(RecordId::parse("r1").unwrap())
            .into_record(1, BodyMode::Full, 0)
    }

    #[test]
    fn canonical_encoding_is_stable() {
        // A change here breaks every existing ledger: bump CANONICAL_TAG instead.
        assert_eq!(
            hex::encode(sample().leaf()),
            hex::encode(hegui_keys::sm3(
                &[&[0u8][..], &sample().canonical()].concat()
            ))
        );
        insta::assert_snapshot!(hex::encode(sample().canonical()));
    }

    #[test]
    fn the_column_count_matches_the_column_list() {
        assert_eq!(RECORD_COLUMNS.split(", ").count(), RECORD_COLUMN_COUNT);
    }

    #[test]
    fn every_field_changes_the_leaf() {
        let base = sample();
        let edits: [fn(&mut Record); 14] = [
            |r| r.seq += 1,
            |r| r.id.push('x'),
            |r| r.time_ms += 1,
            |r| r.kind.push('x'),
            |r| r.tenant.push('x'),
            |r| r.end_user.push('x'),
            |r| r.client_addr.push('x'),
            |r| r.model.push('x'),
            |r| r.request_digest[0] ^= 1,
            |r| r.response_digest[0] ^= 1,
            |r| r.verdicts.push('x'),
            |r| r.label.push('x'),
            |r| r.latency_ms += 1,
            |r| r.outcome.push('x'),
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut r = base.clone();
            edit(&mut r);
            assert_ne!(r.leaf(), base.leaf(), "edit {i}");
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = sample();
        let mut b = sample();
        a.tenant = "ab".into();
        a.end_user = "c".into();
        b.tenant = "a".into();
        b.end_user = "bc".into();
        assert_ne!(a.canonical(), b.canonical());
    }

    #[test]
    fn digest_mode_drops_text_but_keeps_digest() {
        let r = NewRecord::new("chat")
            .request("secret")
            .into_record(1, BodyMode::Digest, 0);
        assert_eq!(r.request_text, None);
        assert_eq!(r.request_digest, hegui_keys::sm3(b"secret"));
    }

    #[test]
    fn checkpoint_signature_round_trip() {
        let key = hegui_keys::SigningKey::generate(hegui_keys::Algorithm::Sm2);
        let mut ring = hegui_keys::KeyRing::new();
        ring.insert(key.verifying_key().clone());
        let mut cp = Checkpoint::sign(&key, 7, [3; 32], 1_780_000_000_000, "manual");
        assert!(cp.verify(&ring).is_ok());
        cp.seq = 8;
        assert!(cp.verify(&ring).is_err());
    }

    #[test]
    fn produce_id_is_found_in_any_wrapping() {
        for (bytes, want) in [
            (&br#"{"AIGC":{"Label":"1","ContentProducer":"p","ProduceID":"abc123"}}"#[..], Some("abc123")),
            (&br#"<TC260:AIGC>{&quot;Label&quot;:&quot;1&quot;,&quot;ProduceID&quot;:&quot;x9&quot;}</TC260:AIGC>"#[..], Some("x9")),
            (&br#"AIGC="{\"Label\":\"1\",\"ProduceID\": \"q-1\"}""#[..], Some("q-1")),
            (&b"\x89PNG....tEXtAIGC\0{\"ProduceID\":\"\",\"ProduceID\":\"second\"}"[..], Some("second")),
            (&b"no label here"[..], None),
            (&b"ProduceID"[..], None),
        ] {
            assert_eq!(find_produce_id(bytes).as_deref(), want, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_time("1970-01-01T08:00:00+08:00").unwrap(), 0);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn record_ids_are_hex_and_unique() {
        let a = RecordId::generate();
        let b = RecordId::generate();
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(RecordId::parse("").is_err());
        assert!(RecordId::parse("has space").is_err());
    }
}
