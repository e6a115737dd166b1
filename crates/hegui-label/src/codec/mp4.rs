//! MP4, MOV and M4A (ISO BMFF): the label is an `mdta` metadata item with key `AIGC` in
//! `moov/udta/meta` (`hdlr` `mdta`, `keys`, `ilst`), exactly what
//! `ffmpeg -metadata AIGC=… -movflags use_metadata_tags -c copy` writes (video guide 20257A ◐).
//!
//! Writing rebuilds only `moov`: other `mdta` keys are kept (an old `AIGC` key is dropped and the
//! `ilst` indices renumbered), other `udta`/`meta` children are copied verbatim. When `moov` grows
//! and sits before `mdat`, every `stco`/`co64` chunk offset that points past `moov` is shifted by
//! the growth, so the samples stay where the tables say; `mdat` itself is copied verbatim.
//! Fragmented files with a `moov` before `moof` boxes using absolute offsets are refused.
//!
//! Also read: `ilst` freeform items `----` with name `AIGC`, a top-level `uuid` XMP box
//! (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC), and a literal `aigc` box in `moov`, `udta` or at the
//! top level. Content for the integrity code: every top-level box except `moov`, `free`, `skip`
//! and `uuid`, i.e. `ftyp` and the media data. The sample tables in `moov` are not covered,
//! because shifting chunk offsets is part of labeling.
//!
//! Hand-written: `mp4-atom` would add a dependency tree for a few boxes, and the `mp4` crate is
//! not an in-place editor (labels.md §8).

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Raw, xmp};

pub(crate) struct Mp4;

const XMP_UUID: [u8; 16] = [
    0xbe, 0x7a, 0xcf, 0xcb, 0x97, 0xa9, 0x42, 0xe8, 0x9c, 0x71, 0x99, 0x94, 0x91, 0xe3, 0xaf, 0xac,
];

#[derive(Clone)]
struct Bx {
    start: usize,
    end: usize,
    kind: [u8; 4],
    body: std::ops::Range<usize>,
}

fn boxes(bytes: &[u8], range: std::ops::Range<usize>) -> Result<Vec<Bx>, LabelError> {
    let b = Bytes::new(bytes, "mp4");
    let mut out = Vec::new();
    let mut at = range.start;
    while at + 8 <= range.end {
        let size = b.be32(at)? as usize;
        let kind: [u8; 4] = b.slice(at + 4, 4)?.try_into().unwrap_or([0; 4]);
        let (size, header) = match size {
            // "To the end of the file": only a top-level box may say so (ISO/IEC 14496-12
            // §4.2); inside another box it would swallow its siblings.
            0 if range.end == bytes.len() && range.start == 0 => (range.end - at, 8),
            0 => {
                return Err(LabelError::corrupt(
                    "mp4",
                    at,
                    "a box of size 0 inside another box",
                ));
            }
            1 => (usize::try_from(b.be64(at + 8)?).unwrap_or(usize::MAX), 16),
            n => (n, 8),
        };
        let end = at
            .checked_add(size)
            .filter(|&e| e <= range.end && size >= header)
            .ok_or_else(|| {
                LabelError::corrupt(
                    "mp4",
                    at,
                    format!(
                        "box `{}` of size {size} does not fit",
                        String::from_utf8_lossy(&kind)
                    ),
                )
            })?;
        out.push(Bx {
            start: at,
            end,
            kind,
            body: at + header..end,
        });
        at = end;
    }
    Ok(out)
}

fn child<'a>(list: &'a [Bx], kind: &[u8; 4]) -> Option<&'a Bx> {
    list.iter().find(|b| &b.kind == kind)
}

/// The children of a `meta` box, which is a full box in MP4 but not always in QuickTime.
fn meta_children(bytes: &[u8], meta: &Bx) -> Result<(Vec<Bx>, bool), LabelError> {
    let full = bytes.get(meta.body.start + 4..meta.body.start + 8) != Some(b"hdlr");
    let start = if full {
        meta.body.start + 4
    } else {
        meta.body.start
    };
    Ok((boxes(bytes, start.min(meta.body.end)..meta.body.end)?, full))
}

fn handler(bytes: &[u8], children: &[Bx]) -> Option<[u8; 4]> {
    let hdlr = child(children, b"hdlr")?;
    bytes
        .get(hdlr.body.start + 8..hdlr.body.start + 12)?
        .try_into()
        .ok()
}

/// The `mdta` entries of a meta box: (key name with namespace prefix bytes, ilst item payload).
/// (key bytes with namespace, item payload).
type Entry = (Vec<u8>, Vec<u8>);

fn mdta_entries(bytes: &[u8], children: &[Bx]) -> Result<Vec<Entry>, LabelError> {
    let b = Bytes::new(bytes, "mp4");
    let mut keys = Vec::new();
    if let Some(k) = child(children, b"keys") {
        let count = b.be32(k.body.start + 4)? as usize;
        let mut at = k.body.start + 8;
        for _ in 0..count.min(100_000) {
            let size = b.be32(at)? as usize;
            if size < 8 || at + size > k.body.end {
                return Err(LabelError::corrupt("mp4", at, "bad `keys` entry"));
            }
            keys.push(bytes[at + 4..at + size].to_vec());
            at += size;
        }
    }
    let mut out = Vec::new();
    if let Some(ilst) = child(children, b"ilst") {
        for item in boxes(bytes, ilst.body.clone())? {
            let index = u32::from_be_bytes(item.kind) as usize;
            if let Some(key) = index.checked_sub(1).and_then(|i| keys.get(i)) {
                out.push((key.clone(), bytes[item.body.clone()].to_vec()));
            }
        }
    }
    Ok(out)
}

/// The string in an item's `data` box (type 1 UTF-8; other types read as UTF-8 too).
fn data_value(
    bytes: &[u8],
    item_body: std::ops::Range<usize>,
) -> Result<Option<String>, LabelError> {
    Ok(boxes(bytes, item_body)?
        .iter()
        .find(|d| &d.kind == b"data")
        .and_then(|d| bytes.get(d.body.start + 8..d.body.end))
        .map(|v| String::from_utf8_lossy(v).into_owned()))
}

fn is_aigc_key(key: &[u8]) -> bool {
    key.get(4..)
        .is_some_and(|name| name.eq_ignore_ascii_case(b"AIGC"))
}

fn find_in_meta(bytes: &[u8], meta: &Bx, found: &mut Vec<Raw>) -> Result<(), LabelError> {
    let (children, _) = meta_children(bytes, meta)?;
    if handler(bytes, &children) == Some(*b"mdta") {
        for (key, payload) in mdta_entries(bytes, &children)? {
            if is_aigc_key(&key)
                && let Some(v) = data_value(&payload, 0..payload.len())?
            {
                found.push(Raw::new(Carrier::Mp4Mdta, v));
            }
        }
    }
    if let Some(ilst) = child(&children, b"ilst") {
        for item in boxes(bytes, ilst.body.clone())?
            .iter()
            .filter(|i| &i.kind == b"----")
        {
            let parts = boxes(bytes, item.body.clone())?;
            let name = child(&parts, b"name").and_then(|n| bytes.get(n.body.start + 4..n.body.end));
            if name.is_some_and(|n| n.eq_ignore_ascii_case(b"AIGC"))
                && let Some(v) = data_value(bytes, item.body.clone())?
            {
                found.push(Raw::new(Carrier::Mp4Freeform, v));
            }
        }
    }
    Ok(())
}

fn find_aigc_boxes(bytes: &[u8], list: &[Bx], found: &mut Vec<Raw>) {
    for b in list.iter().filter(|b| &b.kind == b"aigc") {
        found.push(Raw::new(
            Carrier::Mp4AigcBox,
            String::from_utf8_lossy(&bytes[b.body.clone()]).trim_end_matches('\0'),
        ));
    }
}

fn push_box(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) -> Result<(), LabelError> {
    let size = u32::try_from(body.len() + 8)
        .map_err(|_| LabelError::unsupported("mp4", "metadata box over 4 GiB"))?;
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    Ok(())
}

/// A new `mdta` meta box body: entries except `AIGC`, then `AIGC` = value.
fn mdta_meta(bytes: &[u8], old: Option<(&[Bx], bool)>, value: &str) -> Result<Vec<u8>, LabelError> {
    let mut entries = match old {
        Some((children, _)) => mdta_entries(bytes, children)?,
        None => Vec::new(),
    };
    entries.retain(|(k, _)| !is_aigc_key(k));
    let mut data = Vec::new();
    data.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    data.extend_from_slice(value.as_bytes());
    let mut item = Vec::new();
    push_box(&mut item, b"data", &data)?;
    entries.push((b"mdtaAIGC".to_vec(), item));

    let mut keys = vec![0, 0, 0, 0];
    keys.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    let mut ilst = Vec::new();
    for (i, (key, payload)) in entries.iter().enumerate() {
        keys.extend_from_slice(&(key.len() as u32 + 4).to_be_bytes());
        keys.extend_from_slice(key);
        push_box(&mut ilst, &(i as u32 + 1).to_be_bytes(), payload)?;
    }
    let mut body = Vec::new();
    let full = old.is_none_or(|(_, full)| full);
    if full {
        body.extend_from_slice(&[0, 0, 0, 0]);
    }
    match old.and_then(|(c, _)| child(c, b"hdlr")) {
        Some(h) => body.extend_from_slice(&bytes[h.start..h.end]),
        None => push_box(
            &mut body,
            b"hdlr",
            &[
                0, 0, 0, 0, 0, 0, 0, 0, b'm', b'd', b't', b'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0,
            ],
        )?,
    }
    push_box(&mut body, b"keys", &keys)?;
    push_box(&mut body, b"ilst", &ilst)?;
    if let Some((children, _)) = old {
        for c in children
            .iter()
            .filter(|c| !matches!(&c.kind, b"hdlr" | b"keys" | b"ilst"))
        {
            body.extend_from_slice(&bytes[c.start..c.end]);
        }
    }
    Ok(body)
}

/// Adds `delta` to every chunk offset at or past `from` in the `stco`/`co64` boxes of a moov body.
fn patch_offsets(
    moov: &mut [u8],
    range: std::ops::Range<usize>,
    from: u64,
    delta: i64,
) -> Result<(), LabelError> {
    let list = boxes(moov, range)?;
    for b in list {
        match &b.kind {
            b"trak" | b"mdia" | b"minf" | b"stbl" => {
                patch_offsets(moov, b.body.clone(), from, delta)?;
            }
            b"stco" | b"co64" => {
                let wide = &b.kind == b"co64";
                let count = Bytes::new(moov, "mp4").be32(b.body.start + 4)? as usize;
                let width = if wide { 8 } else { 4 };
                let base = b.body.start + 8;
                if base + count.saturating_mul(width) > b.body.end {
                    return Err(LabelError::corrupt(
                        "mp4",
                        b.start,
                        "chunk offset table runs past its box",
                    ));
                }
                for i in 0..count {
                    let at = base + i * width;
                    let old = if wide {
                        Bytes::new(moov, "mp4").be64(at)?
                    } else {
                        u64::from(Bytes::new(moov, "mp4").be32(at)?)
                    };
                    if old < from {
                        continue;
                    }
                    let new = old
                        .checked_add_signed(delta)
                        .ok_or_else(|| LabelError::corrupt("mp4", at, "chunk offset underflow"))?;
                    if wide {
                        moov[at..at + 8].copy_from_slice(&new.to_be_bytes());
                    } else {
                        let new = u32::try_from(new).map_err(|_| {
                            LabelError::unsupported("mp4", "chunk offset over 4 GiB in `stco`")
                        })?;
                        moov[at..at + 4].copy_from_slice(&new.to_be_bytes());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

impl Codec for Mp4 {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let top = boxes(bytes, 0..bytes.len())?;
        let mut found = Vec::new();
        find_aigc_boxes(bytes, &top, &mut found);
        for b in &top {
            if &b.kind == b"uuid" && bytes.get(b.body.start..b.body.start + 16) == Some(&XMP_UUID) {
                found.extend(xmp::find(
                    &bytes[b.body.start + 16..b.body.end],
                    Carrier::Mp4UuidXmp,
                )?);
            }
        }
        let Some(moov) = child(&top, b"moov") else {
            return Ok(found);
        };
        let moov_children = boxes(bytes, moov.body.clone())?;
        find_aigc_boxes(bytes, &moov_children, &mut found);
        for c in &moov_children {
            match &c.kind {
                b"meta" => find_in_meta(bytes, c, &mut found)?,
                b"udta" => {
                    let udta = boxes(bytes, c.body.clone())?;
                    find_aigc_boxes(bytes, &udta, &mut found);
                    for m in udta.iter().filter(|m| &m.kind == b"meta") {
                        find_in_meta(bytes, m, &mut found)?;
                    }
                }
                _ => {}
            }
        }
        Ok(found)
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let top = boxes(bytes, 0..bytes.len())?;
        let mut moovs = top.iter().filter(|b| &b.kind == b"moov");
        let moov = moovs
            .next()
            .ok_or_else(|| LabelError::corrupt("mp4", 0, "no `moov` box"))?;
        if moovs.next().is_some() {
            return Err(LabelError::corrupt("mp4", 0, "more than one `moov` box"));
        }
        if top
            .iter()
            .any(|b| &b.kind == b"moof" && b.start > moov.start)
        {
            return Err(LabelError::unsupported(
                "mp4",
                "fragmented files (`moof` after `moov`)",
            ));
        }
        let children = boxes(bytes, moov.body.clone())?;
        let udta = child(&children, b"udta");
        let udta_children = match udta {
            Some(u) => boxes(bytes, u.body.clone())?,
            None => Vec::new(),
        };
        // The mdta meta to replace: in udta (ffmpeg) or directly in moov.
        let mut old_meta = None;
        for m in udta_children.iter().filter(|m| &m.kind == b"meta") {
            let (c, full) = meta_children(bytes, m)?;
            if handler(bytes, &c) == Some(*b"mdta") {
                old_meta = Some((m.clone(), c, full));
                break;
            }
        }
        let meta_body = mdta_meta(
            bytes,
            old_meta.as_ref().map(|(_, c, f)| (c.as_slice(), *f)),
            value,
        )?;
        let mut new_udta = Vec::new();
        let mut placed = false;
        for c in &udta_children {
            if old_meta
                .as_ref()
                .is_some_and(|(m, _, _)| m.start == c.start)
            {
                push_box(&mut new_udta, b"meta", &meta_body)?;
                placed = true;
            } else if &c.kind != b"aigc" {
                new_udta.extend_from_slice(&bytes[c.start..c.end]);
            }
        }
        if !placed {
            push_box(&mut new_udta, b"meta", &meta_body)?;
        }
        let mut moov_body = Vec::with_capacity(moov.body.len() + meta_body.len() + 64);
        let mut udta_placed = false;
        for c in &children {
            if &c.kind == b"udta" && !udta_placed {
                push_box(&mut moov_body, b"udta", &new_udta)?;
                udta_placed = true;
            } else if &c.kind != b"udta" {
                moov_body.extend_from_slice(&bytes[c.start..c.end]);
            }
        }
        if !udta_placed {
            push_box(&mut moov_body, b"udta", &new_udta)?;
        }
        let mut new_moov = Vec::with_capacity(moov_body.len() + 8);
        push_box(&mut new_moov, b"moov", &moov_body)?;
        let delta = new_moov.len() as i64 - (moov.end - moov.start) as i64;
        if delta != 0 {
            let len = new_moov.len();
            patch_offsets(&mut new_moov, 8..len, moov.end as u64, delta)?;
        }
        // What is written must read back: a damaged `moov` (a child whose size swallows the
        // boxes after it) could hide the new `udta` from a reader. Only `moov` is parsed again.
        if !self.find(&new_moov)?.iter().any(|r| r.value == value) {
            return Err(LabelError::corrupt(
                "mp4",
                moov.start,
                "the children of `moov` do not parse to its end (a box size is damaged)",
            ));
        }
        // Only `moov` is new: everything before and after it is copied verbatim.
        Ok([
            Piece::Input(0..moov.start),
            Piece::Owned(new_moov),
            Piece::Input(moov.end..bytes.len()),
        ]
        .into_iter()
        .filter(|p| super::piece_len(p) > 0)
        .collect())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        for b in boxes(bytes, 0..bytes.len())? {
            if !matches!(&b.kind, b"moov" | b"free" | b"skip" | b"uuid") {
                sink(&b.kind);
                sink(&bytes[b.body.clone()]);
            }
        }
        Ok(())
    }
}
