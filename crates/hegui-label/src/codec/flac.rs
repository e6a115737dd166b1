//! FLAC: the label is the Vorbis comment `AIGC=<wrapped JSON>` in the `VORBIS_COMMENT` metadata
//! block (audio guide 202510A per AigcTotal ◐).
//!
//! Writing rebuilds only the metadata blocks: the comment block gets the new entry (old `AIGC`
//! entries removed, other comments kept), a missing block is created after `STREAMINFO`, and the
//! `last` flag is set on the final block. Audio frames are copied verbatim. Content for the
//! integrity code: every metadata block except `VORBIS_COMMENT` and `PADDING` (type and data,
//! not the header byte whose `last` flag may move), then the audio frames.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw};

pub(crate) struct Flac;

const VORBIS_COMMENT: u8 = 4;
const PADDING: u8 = 1;

struct Block {
    kind: u8,
    data: std::ops::Range<usize>,
}

fn blocks(bytes: &[u8]) -> Result<(Vec<Block>, usize), LabelError> {
    let b = Bytes::new(bytes, "flac");
    if b.slice(0, 4)? != b"fLaC" {
        return Err(LabelError::corrupt("flac", 0, "missing `fLaC` marker"));
    }
    let mut out = Vec::new();
    let mut at = 4;
    loop {
        let header = b.u8(at)?;
        let len = (b.be32(at)? & 0x00ff_ffff) as usize;
        b.slice(at + 4, len)?;
        out.push(Block {
            kind: header & 0x7f,
            data: at + 4..at + 4 + len,
        });
        at += 4 + len;
        if header & 0x80 != 0 {
            return Ok((out, at));
        }
    }
}

/// (vendor, comments) of a `VORBIS_COMMENT` block body (little-endian lengths).
pub(crate) fn parse_comments(data: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), LabelError> {
    let b = Bytes::new(data, "vorbis comment");
    let vendor_len = b.le32(0)? as usize;
    let vendor = b.slice(4, vendor_len)?.to_vec();
    let mut at = 4 + vendor_len;
    let count = b.le32(at)? as usize;
    at += 4;
    let mut comments = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let len = b.le32(at)? as usize;
        comments.push(b.slice(at + 4, len)?.to_vec());
        at += 4 + len;
    }
    Ok((vendor, comments))
}

fn aigc_value(comment: &[u8]) -> Option<String> {
    let eq = comment.iter().position(|&b| b == b'=')?;
    comment[..eq]
        .eq_ignore_ascii_case(b"AIGC")
        .then(|| String::from_utf8_lossy(&comment[eq + 1..]).into_owned())
}

/// A `VORBIS_COMMENT` body with `AIGC=value` replacing any old `AIGC` entries.
pub(crate) fn render_comments(
    vendor: &[u8],
    comments: &[Vec<u8>],
    value: &str,
) -> Result<Vec<u8>, LabelError> {
    let too_big = || LabelError::unsupported("vorbis comment", "comment block too large");
    let mut out = Vec::new();
    out.extend_from_slice(
        &u32::try_from(vendor.len())
            .map_err(|_| too_big())?
            .to_le_bytes(),
    );
    out.extend_from_slice(vendor);
    let kept: Vec<&Vec<u8>> = comments
        .iter()
        .filter(|c| aigc_value(c).is_none())
        .collect();
    out.extend_from_slice(
        &u32::try_from(kept.len() + 1)
            .map_err(|_| too_big())?
            .to_le_bytes(),
    );
    let entry = format!("AIGC={value}");
    for comment in kept
        .into_iter()
        .map(Vec::as_slice)
        .chain([entry.as_bytes()])
    {
        out.extend_from_slice(
            &u32::try_from(comment.len())
                .map_err(|_| too_big())?
                .to_le_bytes(),
        );
        out.extend_from_slice(comment);
    }
    Ok(out)
}

/// Every `AIGC` entry among Vorbis comments.
pub(crate) fn find_in_comments(comments: &[Vec<u8>]) -> Vec<Raw> {
    comments
        .iter()
        .filter_map(|c| aigc_value(c))
        .map(|v| Raw::new(Carrier::VorbisComment, v))
        .collect()
}

impl Codec for Flac {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let (blocks, _) = blocks(bytes)?;
        let mut found = Vec::new();
        for block in blocks.iter().filter(|b| b.kind == VORBIS_COMMENT) {
            let (_, comments) = parse_comments(&bytes[block.data.clone()])?;
            found.extend(find_in_comments(&comments));
        }
        Ok(found)
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let (blocks, audio) = blocks(bytes)?;
        let (vendor, comments) = match blocks.iter().find(|b| b.kind == VORBIS_COMMENT) {
            Some(block) => parse_comments(&bytes[block.data.clone()])?,
            None => (b"hegui".to_vec(), Vec::new()),
        };
        let comment_block = render_comments(&vendor, &comments, value)?;
        if comment_block.len() >= 1 << 24 {
            return Err(LabelError::unsupported("flac", "comment block over 16 MiB"));
        }
        let mut parts: Vec<(u8, &[u8])> = Vec::with_capacity(blocks.len() + 1);
        let mut placed = false;
        for block in &blocks {
            if block.kind == VORBIS_COMMENT {
                if !placed {
                    parts.push((VORBIS_COMMENT, &comment_block));
                    placed = true;
                }
                continue;
            }
            parts.push((block.kind, &bytes[block.data.clone()]));
            if !placed && block.kind == 0 && !blocks.iter().any(|b| b.kind == VORBIS_COMMENT) {
                parts.push((VORBIS_COMMENT, &comment_block));
                placed = true;
            }
        }
        if !placed {
            parts.push((VORBIS_COMMENT, &comment_block));
        }
        let mut out = Vec::with_capacity(audio + comment_block.len() + 8);
        out.extend_from_slice(b"fLaC");
        let last = parts.len() - 1;
        for (i, (kind, data)) in parts.iter().enumerate() {
            let len = data.len() as u32;
            out.push(kind | if i == last { 0x80 } else { 0 });
            out.extend_from_slice(&len.to_be_bytes()[1..]);
            out.extend_from_slice(data);
        }
        let mut pieces = Pieces::new();
        pieces.owned(out);
        pieces.input(audio..bytes.len());
        Ok(pieces.into_vec())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let (blocks, audio) = blocks(bytes)?;
        for block in blocks
            .iter()
            .filter(|b| b.kind != VORBIS_COMMENT && b.kind != PADDING)
        {
            sink(&[block.kind]);
            sink(&bytes[block.data.clone()]);
        }
        sink(&bytes[audio..]);
        Ok(())
    }
}
