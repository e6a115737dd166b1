//! PNG: the label is XMP in an uncompressed `iTXt` chunk with keyword `XML:com.adobe.xmp`,
//! placed right after `IHDR` (so before `IDAT`, as the image guide 20259A asks ◐).
//!
//! Also read: `tEXt`/`zTXt`/`iTXt` chunks with keyword `AIGC` (wrapped or bare JSON, the Doubao
//! variant), compressed `iTXt` XMP, and XMP after `IDAT`.
//!
//! Content for the integrity code: the signature and every chunk (length, type, data, CRC) except
//! XMP `iTXt` chunks and `AIGC` text chunks. Hand-written because the `png` crate's encoder
//! rewrites `IDAT`; a chunk walker copies it verbatim.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw, crc32, inflate, latin1, xmp};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

pub(crate) struct Png;

struct Chunk<'a> {
    start: usize,
    end: usize,
    kind: [u8; 4],
    data: &'a [u8],
}

fn chunks(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, LabelError> {
    let b = Bytes::new(bytes, "png");
    if b.slice(0, 8)? != SIGNATURE {
        return Err(LabelError::corrupt("png", 0, "missing PNG signature"));
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let len = b.be32(at)? as usize;
        let kind: [u8; 4] = b.slice(at + 4, 4)?.try_into().unwrap_or([0; 4]);
        let data = b.slice(at + 8, len)?;
        b.slice(at + 8 + len, 4)?;
        let end = at + 12 + len;
        out.push(Chunk {
            start: at,
            end,
            kind,
            data,
        });
        at = end;
        if &kind == b"IEND" {
            break;
        }
    }
    if out.first().map(|c| &c.kind) != Some(b"IHDR") {
        return Err(LabelError::corrupt("png", 8, "first chunk is not `IHDR`"));
    }
    Ok(out)
}

/// Keyword and text of a text chunk, if it is one; text is decompressed.
/// Keyword and (decompressed) text.
type TextChunk<'a> = (&'a [u8], Result<Vec<u8>, LabelError>);

/// The keyword of a text chunk (`tEXt`, `zTXt`, `iTXt`); `None` for any other chunk, whose data
/// (image data, possibly many megabytes) is never scanned.
fn text_keyword<'a>(chunk: &Chunk<'a>) -> Option<(&'a [u8], &'a [u8])> {
    if !matches!(&chunk.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return None;
    }
    // Keywords are 1–79 bytes (PNG spec 11.3.4.2); look no further for the separator.
    let head = &chunk.data[..chunk.data.len().min(80)];
    let nul = head.iter().position(|&b| b == 0)?;
    Some((&chunk.data[..nul], &chunk.data[nul + 1..]))
}

fn text_chunk<'a>(chunk: &Chunk<'a>) -> Option<TextChunk<'a>> {
    let (keyword, rest) = text_keyword(chunk)?;
    let text = match &chunk.kind {
        b"tEXt" => Ok(rest.to_vec()),
        b"zTXt" => inflate(rest.get(1..).unwrap_or_default(), "png"),
        b"iTXt" => {
            let compressed = rest.first().copied().unwrap_or(0) == 1;
            // Skip compression flag, method, language tag, translated keyword.
            let after = rest.get(2..).unwrap_or_default();
            let lang_end = after
                .iter()
                .position(|&b| b == 0)
                .map_or(after.len(), |p| p + 1);
            let after = after.get(lang_end..).unwrap_or_default();
            let trans_end = after
                .iter()
                .position(|&b| b == 0)
                .map_or(after.len(), |p| p + 1);
            let text = after.get(trans_end..).unwrap_or_default();
            if compressed {
                inflate(text, "png")
            } else {
                Ok(text.to_vec())
            }
        }
        _ => return None,
    };
    Some((keyword, text))
}

fn is_label_chunk(chunk: &Chunk<'_>) -> bool {
    text_keyword(chunk).is_some_and(|(k, _)| k == XMP_KEYWORD || k == b"AIGC")
}

impl Codec for Png {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let mut found = Vec::new();
        for chunk in chunks(bytes)? {
            let Some((keyword, text)) = text_chunk(&chunk) else {
                continue;
            };
            if keyword == XMP_KEYWORD {
                found.extend(xmp::find(&text?, Carrier::PngXmp)?);
            } else if keyword == b"AIGC" {
                let text = text?;
                let value = if &chunk.kind == b"iTXt" {
                    String::from_utf8_lossy(&text).into_owned()
                } else {
                    latin1(&text)
                };
                found.push(Raw::new(Carrier::PngText, value));
            }
        }
        Ok(found)
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let chunks = chunks(bytes)?;
        let mut existing = None;
        for chunk in &chunks {
            if let Some((keyword, Ok(text))) = text_chunk(chunk)
                && keyword == XMP_KEYWORD
                && existing.is_none()
            {
                existing = Some(String::from_utf8_lossy(&text).into_owned());
            }
        }
        splice_packet(bytes, &xmp::merge(existing.as_deref(), value))
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let chunks = chunks(bytes)?;
        sink(SIGNATURE);
        let mut run_start = None;
        for chunk in &chunks {
            // Feed runs of consecutive non-label chunks in one call (fewer, larger updates).
            if is_label_chunk(chunk) {
                if let Some(s) = run_start.take() {
                    sink(&bytes[s..chunk.start]);
                }
            } else if run_start.is_none() {
                run_start = Some(chunk.start);
            }
        }
        if let (Some(s), Some(last)) = (run_start, chunks.last()) {
            sink(&bytes[s..last.end]);
        }
        Ok(())
    }
}

/// The file with `packet` as its only XMP `iTXt` chunk, right after `IHDR`, and no `AIGC` text
/// chunk (what `splice` writes once the label is merged into the old packet; tests also place
/// other tools' packets with it).
pub(crate) fn splice_packet(bytes: &[u8], packet: &str) -> Result<Vec<Piece>, LabelError> {
    let chunks = chunks(bytes)?;
    let mut data = Vec::with_capacity(packet.len() + 24);
    data.extend_from_slice(XMP_KEYWORD);
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(packet.as_bytes());
    let len = u32::try_from(data.len())
        .map_err(|_| LabelError::unsupported("png", "XMP packet over 4 GiB"))?;
    let mut itxt = Vec::with_capacity(data.len() + 12);
    itxt.extend_from_slice(&len.to_be_bytes());
    itxt.extend_from_slice(b"iTXt");
    itxt.extend_from_slice(&data);
    itxt.extend_from_slice(&crc32(&[b"iTXt", &data]).to_be_bytes());
    let mut out = Pieces::new();
    // The signature is at 0..8 of the input (checked by `chunks`).
    out.input(0..SIGNATURE.len());
    let mut itxt = Some(itxt);
    for (i, chunk) in chunks.iter().enumerate() {
        if is_label_chunk(chunk) {
            continue;
        }
        out.input(chunk.start..chunk.end);
        if i == 0
            && let Some(itxt) = itxt.take()
        {
            out.owned(itxt);
        }
    }
    let tail = chunks.last().map_or(bytes.len(), |c| c.end);
    out.input(tail..bytes.len());
    Ok(out.into_vec())
}
