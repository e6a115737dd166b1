//! JPEG: the label is XMP in an APP1 segment (`http://ns.adobe.com/xap/1.0/\0`), property
//! `TC260:AIGC` (image guide 20259A ◐). One APP1 holds at most 65,533 bytes, so the XMP packet
//! must fit (labels.md §4; extended XMP is left alone).
//!
//! Also read: EXIF `UserComment` JSON (Annex B of the image guide).
//!
//! The segment walker stops at the first `SOS`: everything from there on (entropy-coded data,
//! later markers) is copied verbatim. The new APP1 goes after the leading `APP0`/`APP1` Exif
//! segments. Content for the integrity code: every byte except the standard XMP APP1 segments.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw, tiff, xmp};

const XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

pub(crate) struct Jpeg;

struct Segment {
    start: usize,
    end: usize,
    marker: u8,
    payload: std::ops::Range<usize>,
}

/// Segments before `SOS`, and the offset where the rest (scan data) starts.
fn segments(bytes: &[u8]) -> Result<(Vec<Segment>, usize), LabelError> {
    let b = Bytes::new(bytes, "jpeg");
    if b.slice(0, 2)? != b"\xff\xd8" {
        return Err(LabelError::corrupt("jpeg", 0, "missing SOI marker"));
    }
    let mut out = Vec::new();
    let mut at = 2;
    loop {
        if b.u8(at)? != 0xff {
            return Err(LabelError::corrupt("jpeg", at, "expected a marker"));
        }
        let mut marker_at = at;
        while b.u8(marker_at + 1)? == 0xff {
            marker_at += 1; // fill bytes
        }
        let marker = b.u8(marker_at + 1)?;
        if marker == 0xda || marker == 0xd9 {
            return Ok((out, at));
        }
        if (0xd0..=0xd7).contains(&marker) || marker == 0x01 {
            return Err(LabelError::corrupt(
                "jpeg",
                at,
                "unexpected standalone marker before SOS",
            ));
        }
        let len = usize::from(b.be16(marker_at + 2)?);
        if len < 2 {
            return Err(LabelError::corrupt(
                "jpeg",
                marker_at + 2,
                "segment length below 2",
            ));
        }
        b.slice(marker_at + 4, len - 2)?;
        let end = marker_at + 2 + len;
        out.push(Segment {
            start: at,
            end,
            marker,
            payload: marker_at + 4..end,
        });
        at = end;
    }
}

fn is_xmp(bytes: &[u8], s: &Segment) -> bool {
    s.marker == 0xe1 && bytes[s.payload.clone()].starts_with(XMP_HEADER)
}

impl Codec for Jpeg {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let (segments, _) = segments(bytes)?;
        let mut found = Vec::new();
        for s in &segments {
            let payload = &bytes[s.payload.clone()];
            if is_xmp(bytes, s) {
                found.extend(xmp::find(&payload[XMP_HEADER.len()..], Carrier::JpegXmp)?);
            } else if s.marker == 0xe1 && payload.starts_with(b"Exif\0\0") {
                found.extend(tiff::find(&payload[6..])?);
            }
        }
        Ok(found)
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let (segments, _) = segments(bytes)?;
        let existing = segments.iter().find(|s| is_xmp(bytes, s)).map(|s| {
            String::from_utf8_lossy(&bytes[s.payload.start + XMP_HEADER.len()..s.payload.end])
                .into_owned()
        });
        splice_packet(bytes, &xmp::merge(existing.as_deref(), value))
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let (segments, scan) = segments(bytes)?;
        let mut from = 0;
        for s in segments.iter().filter(|s| is_xmp(bytes, s)) {
            sink(&bytes[from..s.start]);
            from = s.end;
        }
        sink(&bytes[from..scan]);
        sink(&bytes[scan..]);
        Ok(())
    }
}

/// The file with `packet` as its only XMP APP1 segment (what `splice` writes once the label is
/// merged into the old packet; tests also place other tools' packets with it).
pub(crate) fn splice_packet(bytes: &[u8], packet: &str) -> Result<Vec<Piece>, LabelError> {
    let (segments, scan) = segments(bytes)?;
    let len = 2 + XMP_HEADER.len() + packet.len();
    let len = u16::try_from(len).map_err(|_| {
        LabelError::unsupported(
            "jpeg",
            format!("XMP packet of {len} bytes does not fit one APP1 segment"),
        )
    })?;
    let mut segment = Vec::with_capacity(usize::from(len) + 2);
    segment.extend_from_slice(&[0xff, 0xe1]);
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(XMP_HEADER);
    segment.extend_from_slice(packet.as_bytes());
    // Insert after the leading APP0 / APP1-Exif segments.
    let insert_after = segments
        .iter()
        .take_while(|s| {
            s.marker == 0xe0
                || (s.marker == 0xe1 && bytes[s.payload.clone()].starts_with(b"Exif\0\0"))
        })
        .last()
        .map_or(2, |s| s.end);
    let mut out = Pieces::new();
    out.input(0..2);
    let mut segment = Some(segment);
    for s in &segments {
        if s.start >= insert_after
            && let Some(segment) = segment.take()
        {
            out.owned(segment);
        }
        if !is_xmp(bytes, s) {
            out.input(s.start..s.end);
        }
    }
    if let Some(segment) = segment {
        out.owned(segment);
    }
    out.input(scan..bytes.len());
    Ok(out.into_vec())
}
