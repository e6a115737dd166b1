//! WebP: the label is XMP in a RIFF `XMP ` chunk, with the XMP flag set in `VP8X` (image guide
//! 20259A ◐). A simple (lossy `VP8 ` or lossless `VP8L`) file gets a `VP8X` header first, with the
//! canvas size read from the bitstream header; no pixel is decoded.
//!
//! Also read: EXIF `UserComment` in the `EXIF` chunk. Content for the integrity code: the form
//! type and every chunk except `XMP ` and `VP8X` (whose flags change when labeling).

use crate::LabelError;
use crate::codec::riff::{self, Chunk};
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw, tiff, xmp};

pub(crate) struct Webp;

const XMP_FLAG: u8 = 0x04;
const ALPHA_FLAG: u8 = 0x10;

/// The `VP8X` payload for a simple file: flags and 24-bit canvas size minus one.
fn vp8x_for(bytes: &[u8], chunk: &Chunk) -> Result<[u8; 10], LabelError> {
    let b = Bytes::new(bytes, "webp");
    let d = chunk.data.start;
    let (width, height, alpha) = match &chunk.id {
        b"VP8 " => {
            if b.slice(d + 3, 3)? != [0x9d, 0x01, 0x2a] {
                return Err(LabelError::corrupt("webp", d + 3, "bad VP8 start code"));
            }
            (
                u32::from(b.be16(d + 6)?.swap_bytes() & 0x3fff),
                u32::from(b.be16(d + 8)?.swap_bytes() & 0x3fff),
                false,
            )
        }
        b"VP8L" => {
            if b.u8(d)? != 0x2f {
                return Err(LabelError::corrupt("webp", d, "bad VP8L signature"));
            }
            let bits = b.le32(d + 1)?;
            (
                (bits & 0x3fff) + 1,
                ((bits >> 14) & 0x3fff) + 1,
                bits & (1 << 28) != 0,
            )
        }
        _ => {
            return Err(LabelError::corrupt(
                "webp",
                chunk.start,
                "first chunk is not VP8, VP8L or VP8X",
            ));
        }
    };
    let (w, h) = (width.saturating_sub(1), height.saturating_sub(1));
    let mut out = [0u8; 10];
    out[0] = XMP_FLAG | if alpha { ALPHA_FLAG } else { 0 };
    out[4..7].copy_from_slice(&w.to_le_bytes()[..3]);
    out[7..10].copy_from_slice(&h.to_le_bytes()[..3]);
    Ok(out)
}

impl Codec for Webp {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let mut found = Vec::new();
        for chunk in riff::chunks(bytes, b"WEBP", "webp")? {
            match &chunk.id {
                b"XMP " => found.extend(xmp::find(&bytes[chunk.data.clone()], Carrier::WebpXmp)?),
                b"EXIF" => {
                    let data = &bytes[chunk.data.clone()];
                    let data = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                    found.extend(tiff::find(data)?);
                }
                _ => {}
            }
        }
        Ok(found)
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let chunks = riff::chunks(bytes, b"WEBP", "webp")?;
        let existing = chunks
            .iter()
            .find(|c| &c.id == b"XMP ")
            .map(|c| String::from_utf8_lossy(&bytes[c.data.clone()]).into_owned());
        splice_packet(bytes, &xmp::merge(existing.as_deref(), value))
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let chunks = riff::chunks(bytes, b"WEBP", "webp")?;
        riff::content(
            bytes,
            &chunks,
            |c| &c.id == b"XMP " || &c.id == b"VP8X",
            sink,
        );
        Ok(())
    }
}

/// The file with `packet` as its only `XMP ` chunk and the `VP8X` XMP flag set (what `splice`
/// writes once the label is merged into the old packet; tests also place other tools' packets
/// with it).
pub(crate) fn splice_packet(bytes: &[u8], packet: &str) -> Result<Vec<Piece>, LabelError> {
    let chunks = riff::chunks(bytes, b"WEBP", "webp")?;
    let Some(first) = chunks.first() else {
        return Err(LabelError::corrupt("webp", 12, "no chunks"));
    };
    let mut out = Pieces::new();
    // The header is owned: its size field changes.
    out.owned(&bytes[..12]);
    if &first.id == b"VP8X" {
        let mut header = bytes[first.data.clone()].to_vec();
        if let Some(flags) = header.first_mut() {
            *flags |= XMP_FLAG;
        }
        out.owned(riff::chunk(b"VP8X", &header)?);
    } else {
        out.owned(riff::chunk(b"VP8X", &vp8x_for(bytes, first)?)?);
        riff::copy_chunk(&mut out, first);
    }
    for chunk in chunks.iter().skip(1) {
        if &chunk.id != b"XMP " {
            riff::copy_chunk(&mut out, chunk);
        }
    }
    out.owned(riff::chunk(b"XMP ", packet.as_bytes())?);
    riff::fix_plan_size(out, "webp")
}
