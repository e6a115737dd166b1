//! MP3: the label is an ID3v2 `TXXX` frame with description `AIGC` (audio guide 202510A ◐), the
//! frame ffmpeg writes for `-metadata AIGC=…`. Values are ASCII, so the frame uses encoding 0
//! (ISO-8859-1), valid in both ID3v2.3 and v2.4.
//!
//! Reading accepts v2.2 is not supported; v2.3 and v2.4 with any text encoding, tag-level
//! unsynchronisation and an extended header. Writing rebuilds the tag: other frames are copied
//! verbatim, an old `TXXX:AIGC` is dropped, the extended header and unsynchronisation are removed
//! (v2.4 frame-level flags are kept). A file without a tag gets a new v2.3 tag. The audio after
//! the tag is copied verbatim.
//!
//! Content for the integrity code: every byte after the ID3v2 tag (audio frames and any ID3v1
//! tail). Other ID3v2 frames (title, artist, cover) are not covered.

use crate::LabelError;
use crate::codec::{Bytes, Carrier, Codec, Piece, Pieces, Raw, latin1};

pub(crate) struct Mp3;

fn syncsafe(b: &[u8]) -> usize {
    b.iter()
        .take(4)
        .fold(0usize, |acc, &x| (acc << 7) | usize::from(x & 0x7f))
}

fn to_syncsafe(n: usize) -> Result<[u8; 4], LabelError> {
    if n >= 1 << 28 {
        return Err(LabelError::unsupported("mp3", "ID3v2 tag over 256 MiB"));
    }
    Ok([
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ])
}

struct Tag {
    major: u8,
    /// Frames as (id, flags, data), data already de-unsynchronised at tag level.
    frames: Vec<([u8; 4], [u8; 2], Vec<u8>)>,
    /// Offset of the audio after the tag (and footer).
    end: usize,
}

fn undo_unsync(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        out.push(data[i]);
        if data[i] == 0xff && data.get(i + 1) == Some(&0) {
            i += 1;
        }
        i += 1;
    }
    out
}

fn parse(bytes: &[u8]) -> Result<Option<Tag>, LabelError> {
    if !bytes.starts_with(b"ID3") {
        return Ok(None);
    }
    let b = Bytes::new(bytes, "mp3");
    let major = b.u8(3)?;
    let flags = b.u8(5)?;
    let size = syncsafe(b.slice(6, 4)?);
    if !(3..=4).contains(&major) {
        return Err(LabelError::unsupported("mp3", format!("ID3v2.{major} tag")));
    }
    let body = b.slice(10, size)?;
    let end = 10
        + size
        + if major == 4 && flags & 0x10 != 0 {
            10
        } else {
            0
        };
    let body = if flags & 0x80 != 0 && major == 3 {
        undo_unsync(body)
    } else {
        body.to_vec()
    };
    let bb = Bytes::new(&body, "mp3");
    let mut at = 0;
    if flags & 0x40 != 0 {
        at = if major == 4 {
            syncsafe(bb.slice(0, 4)?)
        } else {
            bb.be32(0)? as usize + 4
        };
    }
    let mut frames = Vec::new();
    while at + 10 <= body.len() && body[at] != 0 {
        let id: [u8; 4] = bb.slice(at, 4)?.try_into().unwrap_or([0; 4]);
        let len = if major == 4 {
            syncsafe(bb.slice(at + 4, 4)?)
        } else {
            bb.be32(at + 4)? as usize
        };
        let frame_flags: [u8; 2] = bb.slice(at + 8, 2)?.try_into().unwrap_or([0; 2]);
        let data = bb.slice(at + 10, len).map_err(|_| {
            LabelError::corrupt(
                "mp3",
                10 + at,
                format!(
                    "ID3 frame `{}` runs past the tag",
                    String::from_utf8_lossy(&id)
                ),
            )
        })?;
        frames.push((id, frame_flags, data.to_vec()));
        at += 10 + len;
    }
    Ok(Some(Tag {
        major,
        frames,
        end: end.min(bytes.len()),
    }))
}

/// Decodes an ID3 text of `encoding`, returning (first string, rest after its terminator).
fn decode(encoding: u8, data: &[u8]) -> (String, &[u8]) {
    let wide = encoding == 1 || encoding == 2;
    let terminator = if wide {
        data.chunks_exact(2)
            .position(|c| c == [0, 0])
            .map(|p| (p * 2, 2))
    } else {
        data.iter().position(|&b| b == 0).map(|p| (p, 1))
    };
    let (text, rest) = match terminator {
        Some((p, n)) => (&data[..p], &data[p + n..]),
        None => (data, &data[data.len()..]),
    };
    let decoded = match encoding {
        0 => latin1(text),
        3 => String::from_utf8_lossy(text).into_owned(),
        _ => {
            let (big, body) = match text {
                [0xfe, 0xff, rest @ ..] => (true, rest),
                [0xff, 0xfe, rest @ ..] => (false, rest),
                _ => (encoding == 2, text),
            };
            let units: Vec<u16> = body
                .chunks_exact(2)
                .map(|c| {
                    if big {
                        u16::from_be_bytes([c[0], c[1]])
                    } else {
                        u16::from_le_bytes([c[0], c[1]])
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
    };
    (decoded, rest)
}

/// (description, value) of a `TXXX` frame body.
fn txxx(data: &[u8]) -> Option<(String, String)> {
    let (&encoding, rest) = data.split_first()?;
    let (description, rest) = decode(encoding, rest);
    let (value, _) = decode(encoding, rest);
    Some((description, value.trim_end_matches('\0').to_string()))
}

fn is_label(id: &[u8; 4], data: &[u8]) -> bool {
    id == b"TXXX" && txxx(data).is_some_and(|(d, _)| d.eq_ignore_ascii_case("AIGC"))
}

impl Codec for Mp3 {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let Some(tag) = parse(bytes)? else {
            return Ok(Vec::new());
        };
        Ok(tag
            .frames
            .iter()
            .filter(|(id, _, _)| id == b"TXXX")
            .filter_map(|(_, _, data)| txxx(data))
            .filter(|(d, _)| d.eq_ignore_ascii_case("AIGC"))
            .map(|(_, v)| Raw::new(Carrier::Id3Txxx, v))
            .collect())
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        let tag = parse(bytes)?;
        let (major, frames, audio) = match &tag {
            Some(t) => (t.major, t.frames.as_slice(), t.end),
            None => (3, &[][..], 0),
        };
        let mut body = Vec::new();
        for (id, flags, data) in frames {
            if is_label(id, data) {
                continue;
            }
            body.extend_from_slice(id);
            let len = if major == 4 {
                to_syncsafe(data.len())?
            } else {
                u32::try_from(data.len())
                    .map_err(|_| LabelError::unsupported("mp3", "frame over 4 GiB"))?
                    .to_be_bytes()
            };
            body.extend_from_slice(&len);
            body.extend_from_slice(flags);
            body.extend_from_slice(data);
        }
        let mut frame = vec![0u8];
        frame.extend_from_slice(b"AIGC\0");
        frame.extend(
            value
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')),
        );
        body.extend_from_slice(b"TXXX");
        body.extend_from_slice(&if major == 4 {
            to_syncsafe(frame.len())?
        } else {
            (frame.len() as u32).to_be_bytes()
        });
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&frame);
        let mut head = Vec::with_capacity(body.len() + 10);
        head.extend_from_slice(&[b'I', b'D', b'3', major, 0, 0]);
        head.extend_from_slice(&to_syncsafe(body.len())?);
        head.extend_from_slice(&body);
        let mut out = Pieces::new();
        out.owned(head);
        out.input(audio..bytes.len());
        Ok(out.into_vec())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let start = parse(bytes)?.map_or(0, |t| t.end);
        sink(&bytes[start..]);
        Ok(())
    }
}
