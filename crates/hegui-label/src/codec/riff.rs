//! RIFF containers (WAV and WebP share the walker) and the WAV carrier: a RIFF chunk with ID
//! `AIGC` holding the wrapped Annex E string, placed right after `fmt ` (audio guide 202510A ◐).
//!
//! No crate needed: a chunk is a 4-byte ID, a little-endian size, the data and a pad byte to an
//! even length. Content for the integrity code: the form type and every chunk except `AIGC`
//! (ID, size, data, pad). The RIFF size field is excluded because labeling changes it.
//! `RF64` files (over 4 GiB) are read but not written.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw};

pub(crate) struct Wav;

pub(crate) struct Chunk {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) id: [u8; 4],
    pub(crate) data: std::ops::Range<usize>,
}

/// The chunks of a RIFF file whose form type is `form`.
pub(crate) fn chunks(
    bytes: &[u8],
    form: &[u8; 4],
    format: &'static str,
) -> Result<Vec<Chunk>, LabelError> {
    let b = Bytes::new(bytes, format);
    let magic = b.slice(0, 4)?;
    if (magic != b"RIFF" && magic != b"RF64") || b.slice(8, 4)? != form {
        return Err(LabelError::corrupt(
            format,
            0,
            "not a RIFF file of the expected form",
        ));
    }
    // Trust the file length over the RIFF size: streamed files carry 0 or 0xFFFFFFFF.
    let declared = (b.le32(4)? as usize).saturating_add(8);
    let end = if declared >= 12 && declared <= bytes.len() {
        declared
    } else {
        bytes.len()
    };
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= end {
        let id: [u8; 4] = b.slice(at, 4)?.try_into().unwrap_or([0; 4]);
        let size = b.le32(at + 4)? as usize;
        let data_end = (at + 8).checked_add(size).filter(|&e| e <= bytes.len());
        let data_end = match data_end {
            Some(e) => e,
            // A truncated last `data` chunk is common in the wild: keep what is there.
            None if &id == b"data" => bytes.len(),
            None => {
                return Err(LabelError::corrupt(
                    format,
                    at,
                    format!("chunk `{}` runs past the end", String::from_utf8_lossy(&id)),
                ));
            }
        };
        let chunk_end = (data_end + (size & 1)).min(bytes.len());
        out.push(Chunk {
            start: at,
            end: chunk_end,
            id,
            data: at + 8..data_end,
        });
        at = chunk_end;
    }
    Ok(out)
}

/// Feeds the form type and every chunk not rejected by `skip`.
pub(crate) fn content(
    bytes: &[u8],
    chunks: &[Chunk],
    skip: impl Fn(&Chunk) -> bool,
    sink: &mut dyn FnMut(&[u8]),
) {
    sink(&bytes[8..12]);
    for chunk in chunks.iter().filter(|c| !skip(c)) {
        sink(&bytes[chunk.start..chunk.end]);
        // A missing pad byte at the end of the file counts as present (writers add it).
        if chunk.end - chunk.data.end < (chunk.data.len() & 1) {
            sink(&[0]);
        }
    }
}

/// Copies `chunk` from the input into `out` with its pad byte, also when the file ended without
/// it (`content` counts it as present), so that a chunk written after it stays aligned.
pub(crate) fn copy_chunk(out: &mut Pieces, chunk: &Chunk) {
    out.input(chunk.start..chunk.end);
    if chunk.end - chunk.data.end < (chunk.data.len() & 1) {
        out.owned([0u8]);
    }
}

/// Appends a chunk with padding.
pub(crate) fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], data: &[u8]) -> Result<(), LabelError> {
    let size = u32::try_from(data.len())
        .map_err(|_| LabelError::unsupported("riff", "chunk over 4 GiB"))?;
    out.extend_from_slice(id);
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    Ok(())
}

/// Sets the RIFF size field from the buffer length.
pub(crate) fn fix_size(out: &mut [u8], format: &'static str) -> Result<(), LabelError> {
    let size = u32::try_from(out.len() - 8)
        .map_err(|_| LabelError::unsupported(format, "file over 4 GiB"))?;
    out[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(())
}

/// A chunk with padding, as a new buffer.
pub(crate) fn chunk(id: &[u8; 4], data: &[u8]) -> Result<Vec<u8>, LabelError> {
    let mut out = Vec::with_capacity(data.len() + 9);
    push_chunk(&mut out, id, data)?;
    Ok(out)
}

/// Sets the RIFF size field from the plan's length; the plan starts with the 12-byte header as
/// an owned piece.
pub(crate) fn fix_plan_size(out: Pieces, format: &'static str) -> Result<Vec<Piece>, LabelError> {
    let size = u32::try_from(out.len() - 8)
        .map_err(|_| LabelError::unsupported(format, "file over 4 GiB"))?;
    let mut out = out.into_vec();
    match out.first_mut() {
        Some(Piece::Owned(header)) if header.len() >= 12 => {
            header[4..8].copy_from_slice(&size.to_le_bytes());
        }
        _ => return Err(LabelError::corrupt(format, 0, "no RIFF header")),
    }
    Ok(out)
}

impl Codec for Wav {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        Ok(chunks(bytes, b"WAVE", "wav")?
            .iter()
            .filter(|c| &c.id == b"AIGC")
            .map(|c| {
                let text = String::from_utf8_lossy(&bytes[c.data.clone()]);
                let mut raw = Raw::new(Carrier::RiffChunk, text.trim_end_matches('\0').trim());
                if c.data.is_empty() {
                    raw.warnings
                        .push("empty `AIGC` chunk: evidence of a wiped label".into());
                }
                raw
            })
            .collect())
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        if bytes.starts_with(b"RF64") {
            return Err(LabelError::unsupported(
                "wav",
                "writing RF64 (over 4 GiB) files",
            ));
        }
        let chunks = chunks(bytes, b"WAVE", "wav")?;
        let mut out = Pieces::new();
        // The header is owned: its size field changes.
        out.owned(&bytes[..12]);
        let mut label = Some(chunk(b"AIGC", value.as_bytes())?);
        let has_fmt = chunks.iter().any(|c| &c.id == b"fmt ");
        if !has_fmt && let Some(label) = label.take() {
            out.owned(label);
        }
        for c in &chunks {
            if &c.id == b"AIGC" {
                continue;
            }
            copy_chunk(&mut out, c);
            if &c.id == b"fmt "
                && let Some(label) = label.take()
            {
                out.owned(label);
            }
        }
        fix_plan_size(out, "wav")
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let chunks = chunks(bytes, b"WAVE", "wav")?;
        content(bytes, &chunks, |c| &c.id == b"AIGC", sink);
        Ok(())
    }
}
