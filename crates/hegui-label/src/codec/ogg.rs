//! Ogg Vorbis and Ogg Opus: the label is the comment `AIGC=<wrapped JSON>` in the comment header
//! packet (audio guide 202510A per AigcTotal ◐).
//!
//! The comment header shares pages with the other header packets, so labeling re-pages the
//! header packets (identification page untouched, comment and setup packets laced anew) and then
//! renumbers the page sequence of every later page, recomputing each page CRC. Audio packets are
//! copied byte for byte; only page headers change. Only single-stream files are written (a
//! multiplexed stream is refused).
//!
//! Content for the integrity code: the identification header packet, the setup header packet
//! (Vorbis), then for every audio page its granule position and its packet data. Page sequence
//! numbers and CRCs are excluded because labeling rewrites them.

use crate::LabelError;
use crate::codec::flac::{find_in_comments, parse_comments, render_comments};
use crate::codec::{Bytes, Codec, Raw};

pub(crate) struct Ogg;

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = (n as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn ogg_crc(data: &[u8]) -> u32 {
    data.iter().fold(0u32, |c, &b| {
        (c << 8) ^ CRC_TABLE[((c >> 24) as u8 ^ b) as usize]
    })
}

struct Page {
    start: usize,
    end: usize,
    header_type: u8,
    granule: [u8; 8],
    serial: u32,
    /// Lacing values.
    segments: Vec<u8>,
    body: std::ops::Range<usize>,
}

fn pages(bytes: &[u8]) -> Result<Vec<Page>, LabelError> {
    let b = Bytes::new(bytes, "ogg");
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if b.slice(at, 4)? != b"OggS" {
            return Err(LabelError::corrupt("ogg", at, "expected an `OggS` page"));
        }
        let header_type = b.u8(at + 5)?;
        let granule: [u8; 8] = b.slice(at + 6, 8)?.try_into().unwrap_or([0; 8]);
        let serial = b.le32(at + 14)?;
        let count = usize::from(b.u8(at + 26)?);
        let segments = b.slice(at + 27, count)?.to_vec();
        let body_len: usize = segments.iter().map(|&s| usize::from(s)).sum();
        let body_start = at + 27 + count;
        b.slice(body_start, body_len)?;
        out.push(Page {
            start: at,
            end: body_start + body_len,
            header_type,
            granule,
            serial,
            segments,
            body: body_start..body_start + body_len,
        });
        at = body_start + body_len;
    }
    Ok(out)
}

/// The header packets and the index of the first page after them.
fn headers(bytes: &[u8], pages: &[Page]) -> Result<(Vec<Vec<u8>>, usize, bool), LabelError> {
    let first = pages
        .first()
        .ok_or_else(|| LabelError::corrupt("ogg", 0, "no pages"))?;
    let opus = bytes[first.body.clone()].starts_with(b"OpusHead");
    let vorbis = bytes[first.body.clone()].starts_with(b"\x01vorbis");
    if !opus && !vorbis {
        return Err(LabelError::unsupported(
            "ogg",
            "only Vorbis and Opus streams carry comments here",
        ));
    }
    let wanted = if opus { 2 } else { 3 };
    let mut packets = Vec::new();
    let mut current = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        if page.serial != first.serial {
            return Err(LabelError::unsupported("ogg", "multiplexed streams"));
        }
        let mut offset = page.body.start;
        for &lace in &page.segments {
            current.extend_from_slice(&bytes[offset..offset + usize::from(lace)]);
            offset += usize::from(lace);
            if lace < 255 {
                packets.push(std::mem::take(&mut current));
            }
        }
        if packets.len() >= wanted {
            if packets.len() > wanted || !current.is_empty() {
                return Err(LabelError::unsupported(
                    "ogg",
                    "audio data shares a page with the headers",
                ));
            }
            return Ok((packets, index + 1, opus));
        }
    }
    Err(LabelError::corrupt(
        "ogg",
        bytes.len(),
        "header packets are incomplete",
    ))
}

fn comment_body(packet: &[u8], opus: bool) -> &[u8] {
    let skip = if opus { 8 } else { 7 };
    packet.get(skip..).unwrap_or_default()
}

fn push_page(
    out: &mut Vec<u8>,
    header_type: u8,
    granule: [u8; 8],
    serial: u32,
    sequence: u32,
    segments: &[u8],
    body: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(b"OggS\0");
    out.push(header_type);
    out.extend_from_slice(&granule);
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(segments.len() as u8);
    out.extend_from_slice(segments);
    out.extend_from_slice(body);
    let crc = ogg_crc(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

impl Codec for Ogg {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let pages = pages(bytes)?;
        let (packets, _, opus) = headers(bytes, &pages)?;
        let (_, comments) = parse_comments(comment_body(&packets[1], opus))?;
        Ok(find_in_comments(&comments))
    }

    fn write(&self, bytes: &[u8], value: &str) -> Result<Vec<u8>, LabelError> {
        let pages = pages(bytes)?;
        let (packets, audio_page, opus) = headers(bytes, &pages)?;
        let (vendor, comments) = parse_comments(comment_body(&packets[1], opus))?;
        let mut comment = if opus {
            b"OpusTags".to_vec()
        } else {
            b"\x03vorbis".to_vec()
        };
        comment.extend_from_slice(&render_comments(&vendor, &comments, value)?);
        if !opus {
            comment.push(1); // framing bit
        }
        let first = &pages[0];
        let serial = first.serial;
        let mut out = Vec::with_capacity(bytes.len() + value.len() + 64);
        out.extend_from_slice(&bytes[first.start..first.end]);
        // Lace the remaining header packets into new pages of at most 255 segments.
        let mut lacing = Vec::new();
        let mut body = Vec::new();
        let rest = std::iter::once(&comment).chain(packets.iter().skip(2));
        for packet in rest {
            let full = packet.len() / 255;
            lacing.extend(std::iter::repeat_n(255u8, full));
            lacing.push((packet.len() % 255) as u8);
            body.extend_from_slice(packet);
        }
        let packets_joined = body;
        let mut sequence = 1u32;
        let mut offset = 0;
        let mut continued = false;
        for chunk in lacing.chunks(255) {
            let len: usize = chunk.iter().map(|&l| usize::from(l)).sum();
            push_page(
                &mut out,
                if continued { 1 } else { 0 },
                [0; 8],
                serial,
                sequence,
                chunk,
                &packets_joined[offset..offset + len],
            );
            continued = chunk.last() == Some(&255);
            offset += len;
            sequence += 1;
        }
        for page in &pages[audio_page..] {
            push_page(
                &mut out,
                page.header_type,
                page.granule,
                serial,
                sequence,
                &page.segments,
                &bytes[page.body.clone()],
            );
            sequence = sequence.wrapping_add(1);
        }
        Ok(out)
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let pages = pages(bytes)?;
        let (packets, audio_page, _) = headers(bytes, &pages)?;
        sink(&packets[0]);
        for packet in packets.iter().skip(2) {
            sink(packet);
        }
        for page in &pages[audio_page..] {
            sink(&page.granule);
            sink(&bytes[page.body.clone()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc_of_known_page() {
        // CRC-32/MPEG-2 style without final xor, init 0: "123456789" -> 0x89a1897f.
        assert_eq!(super::ogg_crc(b"123456789"), 0x89a1_897f);
    }
}
