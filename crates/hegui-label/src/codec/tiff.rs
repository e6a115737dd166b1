//! A minimal TIFF/EXIF reader: finds `UserComment` (0x9286) in the Exif IFD and returns it when it
//! holds Annex B's `{"AIGC":…}` JSON. Read-only: hegui never writes EXIF (the guides' carrier is
//! XMP); this exists because labels.md §5 requires reading the EXIF variant.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Raw};

/// Finds a label in TIFF-structured EXIF data (starting at the byte-order mark).
pub(crate) fn find(tiff: &[u8]) -> Result<Vec<Raw>, LabelError> {
    let b = Bytes::new(tiff, "exif");
    let little = match b.slice(0, 2)? {
        b"II" => true,
        b"MM" => false,
        _ => return Err(LabelError::corrupt("exif", 0, "no TIFF byte-order mark")),
    };
    let u16_at = |at: usize| -> Result<u16, LabelError> {
        let s = b.slice(at, 2)?;
        Ok(if little {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        })
    };
    let u32_at = |at: usize| -> Result<u32, LabelError> {
        let s = b.slice(at, 4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    // Entries of one IFD: (tag, type, count, value-or-offset position).
    let ifd = |offset: usize| -> Result<Vec<(u16, u16, u32, usize)>, LabelError> {
        let count = usize::from(u16_at(offset)?);
        let mut entries = Vec::with_capacity(count);
        for i in 0..count {
            let at = offset + 2 + 12 * i;
            entries.push((u16_at(at)?, u16_at(at + 2)?, u32_at(at + 4)?, at + 8));
        }
        Ok(entries)
    };
    let ifd0 = ifd(u32_at(4)? as usize)?;
    let Some(&(_, _, _, pointer)) = ifd0.iter().find(|e| e.0 == 0x8769) else {
        return Ok(Vec::new());
    };
    let exif = ifd(u32_at(pointer)? as usize)?;
    let Some(&(_, _, count, value_at)) = exif.iter().find(|e| e.0 == 0x9286) else {
        return Ok(Vec::new());
    };
    let count = count as usize;
    let data = if count <= 4 {
        b.slice(value_at, count)?
    } else {
        b.slice(u32_at(value_at)? as usize, count)?
    };
    if data.len() < 8 {
        return Ok(Vec::new());
    }
    let (code, text) = data.split_at(8);
    let value = if code.starts_with(b"UNICODE") {
        let units: Vec<u16> = text
            .chunks_exact(2)
            .map(|c| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(text).into_owned()
    };
    let value = value.trim_end_matches('\0').trim();
    Ok(
        if value.contains("AIGC") || value.contains("ContentProducer") {
            vec![Raw::new(Carrier::ExifUserComment, value)]
        } else {
            Vec::new()
        },
    )
}
