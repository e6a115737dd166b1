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
//! | PNG | `iTXt` XMP `TC260:AIGC`, after `IHDR` | `tEXt`/`zTXt`/`iTXt` keyword `AIGC`; XMP anywhere |
//! | JPEG | APP1 XMP `TC260:AIGC` | EXIF `UserComment` |
//! | WebP | `XMP ` chunk + `VP8X` flag | EXIF `UserComment` |
//! | WAV | RIFF `AIGC` chunk after `fmt ` | |
//! | MP3 | ID3v2 `TXXX` `AIGC` | |
//! | FLAC, Ogg Vorbis/Opus | Vorbis comment `AIGC` | |
//! | MP4/MOV/M4A | `moov/udta/meta` `mdta` key `AIGC` | freeform `----:…:AIGC`, `uuid` XMP, `aigc` box |
//! | PDF | `/AIGC` in the Info dictionary (incremental update) | XMP metadata |
//! | DOCX/XLSX/PPTX | `docProps/custom.xml` property `AIGC` | |
//! | Markdown | front matter `AIGC:` mapping | inline JSON |
//!
//! Every writer writes the wrapped Annex E string `{"AIGC":{…}}` (Markdown: the same seven keys as
//! `Key: "value"` lines) and replaces any earlier label: one label per file (§6.1 c ◐).
//!
//! # Features
//!
//! - `ooxml` (default): DOCX/XLSX/PPTX via the `zip` crate.
//! - `caption` (default): explicit image captions via `image` and `ab_glyph` (the only path that
//!   re-encodes media, by necessity).

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

pub use codec::Carrier;
pub use error::LabelError;
pub use format::Format;
pub use integrity::{Tamper, Verdict};
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
}

/// Writes `label` into a file of `format`, replacing any label it had, and returns the new file.
///
/// The label is validated; empty propagator fields are filled from the producer fields
/// (first-write rule). With a key, `ReservedCode1` is set to hegui's signed integrity code
/// ([`integrity`]); without one, `ReservedCode1` is written as given.
pub fn write_label(
    bytes: &[u8],
    format: Format,
    label: &Label,
    key: Option<&SigningKey>,
) -> Result<Vec<u8>, LabelError> {
    let codec = codec::codec(format)?;
    // Walk the metadata the reader will walk, so that a file we cannot read back is refused
    // here rather than labeled.
    codec.find(bytes)?;
    let mut label = label.clone().first_write();
    if let Some(key) = key {
        let digest = content_digest_with(codec, bytes)?;
        label.reserved_code1 = integrity::code(&digest, &label, key);
    }
    label.validate()?;
    codec.write(bytes, &label.to_json_wrapped())
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
        let parsed = match format {
            Format::Markdown => codec::markdown::parse_value(&raw.value),
            _ => Label::parse(&raw.value),
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
            variant,
            warnings,
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

/// Reads the label of a file of `format`: the first one found, with a problem when there are
/// several (even agreeing duplicates are non-compliant, §6.1 c ◐) and another when they disagree.
pub fn read_label_as(bytes: &[u8], format: Format) -> Result<Option<Found>, LabelError> {
    let mut all = read_all(bytes, format)?;
    if all.is_empty() {
        return Ok(None);
    }
    let first_label = all[0].label.clone();
    let others = all.len() - 1;
    let disagree = all.iter().skip(1).any(|f| f.label != first_label);
    let mut first = all.swap_remove(0);
    if others > 0 {
        // §6.1 c ◐: one label per file; even agreeing duplicates are non-compliant (AigcTotal).
        first.problems.push(format!(
            "{others} more label(s) in the file; one label per file is required"
        ));
    }
    if disagree {
        first
            .problems
            .push("the file holds labels that disagree".into());
    }
    Ok(Some(first))
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced and renamed
/// into place: a crash leaves either the old file or the new one, never half of one.
pub fn write_file_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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
