//! GB 45438-2025 AIGC labels: write, read and verify the **implicit** label (file metadata) of
//! every common format without re-encoding the media, and add **explicit** labels (a text
//! notice, an image caption, an audio rhythm cue).
//!
//! Legal facts come from `shared/reference/labels.md` and keep its marks: ✅ verified, ◐ secondary,
//! ❓ unconfirmed. Where the standard is silent (the content of `ReservedCode1`), the choice is
//! hegui's own and documented in [`integrity`].
//!
//! ```
//! use hegui_keys::{Algorithm, KeyRing, SigningKey};
//! use hegui_label::{Format, Label, Verdict, read_label, verify, write_label};
//!
//! # let png = hegui_label::testdata::png();
//! let key = SigningKey::generate(Algorithm::Sm2);
//! let label = Label::new("001191440300708461136T1XGW3", "audit-0001");
//! let labeled = write_label(&png, Format::Png, &label, Some(&key))?;
//!
//! let found = read_label(&labeled)?.expect("a label");
//! assert_eq!(found.label.produce_id, "audit-0001");
//!
//! let mut ring = KeyRing::new();
//! ring.insert(key.verifying_key().clone());
//! assert!(matches!(verify(&labeled, &ring)?, Verdict::Intact { .. }));
//! # Ok::<(), hegui_label::LabelError>(())
//! ```
//!
//! # Formats and carriers
//!
//! | format | written carrier | also read |
//! |---|---|---|
//! | PNG | `iTXt` XMP `TC260:AIGC`, after `IHDR` | `tEXt`/`zTXt`/`iTXt` keyword `AIGC`; XMP anywhere; XMP forms* |
//! | JPEG | APP1 XMP `TC260:AIGC` | EXIF `UserComment`; XMP forms* |
//! | WebP | `XMP ` chunk + `VP8X` flag | EXIF `UserComment`; XMP forms* |
//! | WAV | RIFF `AIGC` chunk after `fmt ` | |
//! | MP3 | ID3v2 `TXXX` `AIGC` | |
//! | FLAC, Ogg Vorbis/Opus | Vorbis comment `AIGC` | |
//! | MP4/MOV/M4A | `moov/udta/meta` `mdta` key `AIGC` | freeform `----:…:AIGC`, `uuid` XMP, `aigc` box |
//! | PDF | `/AIGC` in the Info dictionary (incremental update) | XMP metadata |
//! | DOCX/XLSX/PPTX | `docProps/custom.xml` property `AIGC` | |
//! | Markdown | front matter `AIGC:` mapping | inline JSON |
//!
//! \* In every XMP packet hegui reads (images, PDF, MP4 `uuid`), besides the JSON property: one
//! TC260 property per Annex E key (`AIGC:Label="1"` …, carrier `xmp-fields`) and the JSON in
//! base64 under `XmpKvBase64` (`xmp-kv-base64`): forms other tools write.
//! [`read_label_as`] reports the carrier of the label and of every other one in the file, and
//! flags carriers that disagree.
//!
//! Every writer writes the wrapped Annex E string `{"AIGC":{…}}` (Markdown: the same seven keys as
//! `Key: "value"` lines) and replaces any earlier label: one label per file (§6.1 c ◐).
//!
//! # Features
//!
//! - `ooxml` (default): DOCX/XLSX/PPTX via the `zip` crate.
//! - `caption` (default): explicit image captions via `image` and `ab_glyph` (the only path that
//!   re-encodes media, by necessity).

mod atomic;
pub mod check;
pub mod codec;
mod error;
pub mod explicit;
mod format;
pub mod integrity;
mod label;
#[doc(hidden)]
pub mod testdata;

use hegui_keys::{KeyRing, SigningKey};
use serde::Serialize;

pub use atomic::{write_file_atomically, write_file_atomically_with};
pub use codec::Carrier;
pub use error::LabelError;
pub use format::Format;
pub use integrity::{SignaturePresence, Tamper, Verdict};
pub use label::{Form, KEYS, Label};

/// A label found in a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    /// The label as found (not validated: see `problems`).
    pub label: Label,
    /// Where it was found.
    pub carrier: Carrier,
    /// How it was serialized (wrapped, bare, lines).
    pub variant: Form,
    /// Annex E rules it breaks.
    pub problems: Vec<String>,
    /// Non-fatal oddities: wrong XMP namespace, numeric `Label`, duplicates.
    pub warnings: Vec<String>,
    /// The carriers of the other labels in the file, in file order (one label per file is
    /// allowed, so each is also a problem); empty from [`read_all`].
    pub other_carriers: Vec<Carrier>,
}

impl Found {
    /// Whether the label follows the Annex E format rules (no `problems`). This says nothing
    /// about its signature: see [`Found::signature`], and [`verify`] for whether it is good.
    pub fn format_is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether `ReservedCode1` holds a hegui integrity code, unchecked.
    pub fn signature(&self) -> SignaturePresence {
        SignaturePresence::of(&self.label)
    }
}

/// Writes `label` into a file of `format`, replacing any label it had, and returns the new file.
///
/// The label is validated; empty propagator fields are filled from the producer fields
/// (first-write rule). With a key, `ReservedCode1` is set to hegui's signed integrity code
/// ([`integrity`]); without one, `ReservedCode1` is written as given.
///
/// This builds the whole output in memory; [`write_label_to`] and [`splice_label`] write the
/// same bytes without doing so.
pub fn write_label(
    bytes: &[u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
) -> Result<Vec<u8>, LabelError> {
    Ok(splice_label(bytes, format, label, key)?.to_vec())
}

/// Writes the same bytes as [`write_label`] to `out`, streaming the untouched parts of `bytes`
/// (the media data) instead of building the output in memory.
pub fn write_label_to<W: std::io::Write + ?Sized>(
    bytes: &[u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
    out: &mut W,
) -> Result<(), LabelError> {
    splice_label(bytes, format, label, key)?.write_to(out)?;
    Ok(())
}

/// A labeled file as a splice plan over the input: ranges of the input copied verbatim (the
/// media data) and new pieces (the metadata carrying the label, a rebuilt MP4 `moov`, a RIFF
/// header with its new size). Made by [`splice_label`]; nothing is copied until it is written.
///
/// JPEG, PNG, WebP, WAV, MP3, FLAC, PDF (the incremental update) and MP4 (only `moov` is new)
/// splice; Ogg (page CRCs and sequence numbers change), OOXML (a rebuilt zip) and Markdown are
/// one new piece.
#[derive(Debug)]
pub struct Labeled<'a> {
    bytes: &'a [u8],
    pieces: Vec<codec::Piece>,
}

impl Labeled<'_> {
    /// Length of the labeled file in bytes.
    pub fn len(&self) -> usize {
        self.pieces.iter().map(codec::piece_len).sum()
    }

    /// Whether the labeled file is empty (never, for a valid plan).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes are new rather than copied from the input.
    pub fn new_bytes(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                codec::Piece::Owned(v) => v.len(),
                codec::Piece::Input(_) => 0,
            })
            .sum()
    }

    /// The pieces in file order, each as a byte slice.
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> {
        self.pieces.iter().map(|p| match p {
            codec::Piece::Input(r) => &self.bytes[r.clone()],
            codec::Piece::Owned(v) => v.as_slice(),
        })
    }

    /// Writes the labeled file to `out`, piece by piece.
    pub fn write_to<W: std::io::Write + ?Sized>(&self, out: &mut W) -> std::io::Result<()> {
        for slice in self.slices() {
            out.write_all(slice)?;
        }
        Ok(())
    }

    /// The labeled file in one buffer (what [`write_label`] returns).
    pub fn to_vec(&self) -> Vec<u8> {
        codec::concat(self.bytes, &self.pieces)
    }

    /// Writes the labeled file to `path` the way [`write_file_atomically`] does: a temporary file
    /// in the same directory, synced and renamed into place; a replaced file keeps its mode.
    pub fn write_file_atomically(&self, path: &std::path::Path) -> std::io::Result<()> {
        write_file_atomically_with(path, |file| self.write_to(file))
    }
}

/// Labels `bytes` and writes the result to `path` through a temporary file in the same
/// directory, synced and renamed into place: the bytes of [`write_label`], written the way
/// `hegui label add` writes them ([`splice_label`], then [`Labeled::write_file_atomically`]).
///
/// With a key, the SM3 content digest is computed before anything is written. Hashing on a
/// second thread while the file is written with a stand-in code (then patching the label in
/// place) was tried and measured no faster on a shared 2-core machine, so it is not done.
pub fn write_label_file(
    bytes: &[u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
    path: &std::path::Path,
) -> Result<(), LabelError> {
    splice_label(bytes, format, label, key)?.write_file_atomically(path)?;
    Ok(())
}

/// Plans the labeled file: the same bytes as [`write_label`], as a [`Labeled`] splice plan
/// borrowing `bytes`. The label is validated and, with a key, signed (one SM3 pass over the
/// media content).
pub fn splice_label<'a>(
    bytes: &'a [u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
) -> Result<Labeled<'a>, LabelError> {
    splice(bytes, format, label, key, None)
}

/// [`splice_label`] with the media content digest already computed by [`content_digest`] on
/// the same `bytes` and `format` (as `hegui label add` does for a digest-based `ProduceID`),
/// so that signing does not hash the file a second time. A digest of other bytes makes a label
/// that verifies as tampered.
pub fn splice_label_with_digest<'a>(
    bytes: &'a [u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
    digest: &[u8; 32],
) -> Result<Labeled<'a>, LabelError> {
    splice(bytes, format, label, key, Some(digest))
}

fn splice<'a>(
    bytes: &'a [u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
    digest: Option<&[u8; 32]>,
) -> Result<Labeled<'a>, LabelError> {
    let codec = codec::codec(format)?;
    // Walk the metadata the reader will walk, so that a file we cannot read back is refused
    // here rather than labeled.
    codec.find(bytes)?;
    let mut label = label.clone().first_write();
    if let Some(key) = key {
        let digest = match digest {
            Some(d) => *d,
            None => content_digest_with(codec, bytes)?,
        };
        label.reserved_code1 = integrity::code(&digest, &label, key);
    }
    label.validate()?;
    let pieces = codec.splice(bytes, &label.to_json_wrapped())?;
    Ok(Labeled { bytes, pieces })
}

/// SM3 of a file's media content, the part the integrity code covers (the label excluded).
pub fn content_digest(bytes: &[u8], format: Format) -> Result<[u8; 32], LabelError> {
    content_digest_with(codec::codec(format)?, bytes)
}

fn content_digest_with(codec: &dyn codec::Codec, bytes: &[u8]) -> Result<[u8; 32], LabelError> {
    let mut hasher = integrity::ContentHasher::new();
    codec.content(bytes, &mut |part| hasher.update(part))?;
    Ok(hasher.finish())
}

fn sniff(bytes: &[u8]) -> Result<Format, LabelError> {
    Format::sniff(bytes).ok_or_else(|| {
        let head: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        LabelError::UnknownFormat(head)
    })
}

/// Reads the label of a file whose format is recognized by its magic bytes.
pub fn read_label(bytes: &[u8]) -> Result<Option<Found>, LabelError> {
    read_label_as(bytes, sniff(bytes)?)
}

/// Every label candidate in a file of `format`, parsed. A candidate that does not parse is
/// reported as a warning on the others; when no candidate parses, its error is returned.
pub fn read_all(bytes: &[u8], format: Format) -> Result<Vec<Found>, LabelError> {
    let raws = codec::codec(format)?.find(bytes)?;
    let mut out = Vec::with_capacity(raws.len());
    let mut errors = Vec::new();
    for raw in raws {
        let parsed = match (raw.broken, format) {
            (Some(err), _) => Err(err),
            (None, Format::Markdown) => codec::markdown::parse_value(&raw.value),
            (None, _) => Label::parse(&raw.value),
        };
        let (label, variant, mut warnings) = match parsed {
            Ok(parsed) => parsed,
            Err(err) => {
                errors.push((raw.carrier, err));
                continue;
            }
        };
        warnings.extend(raw.warnings);
        out.push(Found {
            problems: label.problems(),
            label,
            carrier: raw.carrier,
            variant: raw.form.unwrap_or(variant),
            warnings,
            other_carriers: Vec::new(),
        });
    }
    match out.first_mut() {
        Some(first) => {
            for (carrier, err) in &errors {
                first.warnings.push(format!(
                    "another label candidate in `{}` does not parse: {err}",
                    carrier.name()
                ));
            }
        }
        None => {
            if let Some((_, err)) = errors.into_iter().next() {
                return Err(err);
            }
        }
    }
    Ok(out)
}

/// Reads the label of a file of `format`: the first one found, with the carriers of the others,
/// a problem when there are several (even agreeing duplicates are non-compliant, §6.1 c ◐) and
/// one for each pair of carriers that disagree on a field both hold.
pub fn read_label_as(bytes: &[u8], format: Format) -> Result<Option<Found>, LabelError> {
    let mut all = read_all(bytes, format)?.into_iter();
    let Some(mut first) = all.next() else {
        return Ok(None);
    };
    let others: Vec<Found> = all.collect();
    if !others.is_empty() {
        // §6.1 c ◐: one label per file; even agreeing duplicates are non-compliant (AigcTotal).
        let names: Vec<String> = others
            .iter()
            .map(|f| format!("`{}`", f.carrier.name()))
            .collect();
        first.problems.push(format!(
            "{} more label(s) in the file ({}); one label per file is required",
            others.len(),
            names.join(", ")
        ));
    }
    let mut disagreements = Vec::new();
    let everyone: Vec<&Found> = std::iter::once(&first).chain(&others).collect();
    for (i, a) in everyone.iter().enumerate() {
        for b in &everyone[i + 1..] {
            if let Some(problem) = disagreement(a, b) {
                disagreements.push(problem);
            }
        }
    }
    first.problems.extend(disagreements);
    first.other_carriers = others.iter().map(|f| f.carrier).collect();
    Ok(Some(first))
}

/// How two labels of one file disagree, on the fields both hold (a carrier that lacks a field,
/// such as three XMP properties beside the full JSON, does not disagree on it).
fn disagreement(a: &Found, b: &Found) -> Option<String> {
    let fields: Vec<String> = a
        .label
        .fields()
        .into_iter()
        .zip(b.label.fields())
        .filter(|((_, x), (_, y))| !x.is_empty() && !y.is_empty() && x != y)
        .map(|((key, x), (_, y))| format!("`{key}` (`{x}` vs `{y}`)"))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let (x, y) = (a.carrier.name(), b.carrier.name());
    let who = if x == y {
        format!("two `{x}` labels")
    } else {
        format!("`{x}` and `{y}`")
    };
    Some(format!("{who} disagree on {}", fields.join(", ")))
}

/// Verifies the label of a file (format sniffed) against trusted keys.
pub fn verify(bytes: &[u8], keys: &KeyRing) -> Result<Verdict, LabelError> {
    verify_as(bytes, sniff(bytes)?, keys)
}

/// Verifies the label of a file of `format` against trusted keys.
pub fn verify_as(bytes: &[u8], format: Format, keys: &KeyRing) -> Result<Verdict, LabelError> {
    let Some(found) = read_label_as(bytes, format)? else {
        return Ok(Verdict::Absent);
    };
    let digest = content_digest(bytes, format)?;
    Ok(integrity::check(&found.label, &digest, keys))
}
