//! PDF: the label is `/AIGC` in the document Info dictionary (text-file guide 20258A ◐), written as
//! an **incremental update**: the original bytes stay as they are, and a new Info object, a
//! cross-reference section and a trailer are appended (ISO 32000-1 §7.5.6). A file whose
//! cross-reference is a stream (PDF 1.5+) gets an uncompressed cross-reference stream; a classic
//! file gets a classic `xref` table.
//!
//! The update starts with the comment line `%hegui-aigc-label`. Writing a new label over an
//! earlier hegui update at the end of the file replaces it rather than stacking a second one.
//! The old Info entries are copied when the Info object is a plain object in the file; an Info
//! dictionary inside a compressed object stream is not decoded, so the new Info then holds only
//! `/AIGC` (and a warning-free note in the docs is all the user gets).
//!
//! Reading takes the last `/AIGC` string in the file (later updates win), literal or hex, and
//! falls back to an uncompressed XMP packet. Content for the integrity code: the file bytes with
//! every hegui update section removed. Hand-written: `lopdf` parses the whole document tree,
//! which costs far more than appending three objects.

use crate::LabelError;
use crate::codec::{Carrier, Codec, Piece, Pieces, Raw, xmp};

pub(crate) struct Pdf;

const MARKER: &[u8] = b"\n%hegui-aigc-label\n";

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Hegui update sections: (start, end) byte ranges.
fn sections(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = find_from(bytes, MARKER, from) {
        let Some(eof) = find_from(bytes, b"%%EOF", start) else {
            break;
        };
        let mut end = eof + 5;
        while bytes.get(end).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            end += 1;
        }
        out.push((start, end));
        from = end;
    }
    out
}

/// Parses a PDF string at `at` (literal `(…)` or hex `<…>`), returning its bytes.
fn parse_string(bytes: &[u8], mut at: usize) -> Option<Vec<u8>> {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    match bytes.get(at)? {
        b'(' => {
            let mut out = Vec::new();
            let mut depth = 0usize;
            let mut i = at + 1;
            loop {
                let c = *bytes.get(i)?;
                match c {
                    b'\\' => {
                        let e = *bytes.get(i + 1)?;
                        i += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            b'0'..=b'7' => {
                                let mut v = 0u32;
                                let mut n = 0;
                                while n < 3
                                    && bytes.get(i).is_some_and(|d| (b'0'..=b'7').contains(d))
                                {
                                    v = v * 8 + u32::from(bytes[i] - b'0');
                                    i += 1;
                                    n += 1;
                                }
                                out.push(v as u8);
                                continue;
                            }
                            b'\n' | b'\r' => {}
                            other => out.push(other),
                        }
                    }
                    b'(' => {
                        depth += 1;
                        out.push(c);
                    }
                    b')' if depth == 0 => return Some(out),
                    b')' => {
                        depth -= 1;
                        out.push(c);
                    }
                    _ => out.push(c),
                }
                i += 1;
            }
        }
        b'<' => {
            let end = find_from(bytes, b">", at)?;
            let digits: Vec<u8> = bytes[at + 1..end]
                .iter()
                .copied()
                .filter(u8::is_ascii_hexdigit)
                .collect();
            let mut padded = digits;
            if padded.len() % 2 == 1 {
                padded.push(b'0');
            }
            hex::decode(padded).ok()
        }
        _ => None,
    }
}

/// PDF text string: UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding (read as Latin-1).
fn text_string(raw: &[u8]) -> String {
    if let Some(body) = raw.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(body) = raw.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(body).into_owned()
    } else {
        crate::codec::latin1(raw)
    }
}

fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    out.push('(');
    for c in value.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

/// The value of `/Key N G R` or `/Key N` in a dictionary text.
fn dict_ref(dict: &[u8], key: &[u8]) -> Option<(u64, u64)> {
    let mut at = 0;
    loop {
        let p = find_from(dict, key, at)?;
        at = p + key.len();
        // The key must end here (not `/InfoX`).
        if dict.get(at).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let rest = std::str::from_utf8(&dict[at..dict.len().min(at + 40)]).ok()?;
        let mut words = rest.split_whitespace();
        let n = words.next()?.trim_end_matches(['/', '>']).parse().ok()?;
        let g = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        return Some((n, g));
    }
}

/// The index just past the literal string that opens at `at` (escapes and nesting honoured).
fn skip_literal(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0usize;
    let mut j = at + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 1,
            b'(' => depth += 1,
            b')' if depth == 0 => return j + 1,
            b')' => depth -= 1,
            _ => {}
        }
        j += 1;
    }
    bytes.len()
}

/// The `<<…>>` starting at `at`, with nested dictionaries balanced.
fn dict_at(bytes: &[u8], at: usize) -> Option<std::ops::Range<usize>> {
    let start = find_from(bytes, b"<<", at)?;
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'<', b'<') => {
                depth += 1;
                i += 2;
            }
            (b'>', b'>') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(start..i);
                }
            }
            (b'(', _) => i = skip_literal(bytes, i),
            _ => i += 1,
        }
    }
    None
}

struct Trailer {
    startxref: usize,
    dict: Vec<u8>,
    stream: bool,
}

fn trailer(bytes: &[u8]) -> Result<Trailer, LabelError> {
    let sx = find_last(bytes, b"startxref")
        .ok_or_else(|| LabelError::corrupt("pdf", bytes.len(), "no `startxref`"))?;
    let number: String = bytes[sx + 9..bytes.len().min(sx + 40)]
        .iter()
        .map(|&b| char::from(b))
        .skip_while(|c| c.is_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    let startxref: usize = number
        .parse()
        .map_err(|_| LabelError::corrupt("pdf", sx, "bad `startxref` offset"))?;
    if startxref >= bytes.len() {
        return Err(LabelError::corrupt(
            "pdf",
            sx,
            "`startxref` points past the end",
        ));
    }
    let stream = !bytes[startxref..].starts_with(b"xref");
    let dict_start = if stream {
        startxref
    } else {
        find_from(bytes, b"trailer", startxref)
            .ok_or_else(|| LabelError::corrupt("pdf", startxref, "no `trailer`"))?
    };
    let range = dict_at(bytes, dict_start)
        .ok_or_else(|| LabelError::corrupt("pdf", dict_start, "unterminated trailer dictionary"))?;
    Ok(Trailer {
        startxref,
        dict: bytes[range].to_vec(),
        stream,
    })
}

/// The dictionary text of object `n g` if it is a plain object in the file (the last definition).
fn object_dict(bytes: &[u8], n: u64, g: u64) -> Option<Vec<u8>> {
    let header = format!("{n} {g} obj");
    let mut end = bytes.len();
    // The last definition whose header starts a token (not `14 0 obj` for `4 0 obj`).
    let at = loop {
        let at = find_last(&bytes[..end], header.as_bytes())?;
        if at == 0 || bytes[at - 1].is_ascii_whitespace() {
            break at;
        }
        end = at;
    };
    let range = dict_at(bytes, at + header.len())?;
    Some(bytes[range].to_vec())
}

/// Removes `/AIGC (…)` or `/AIGC <…>` entries from a dictionary text.
fn without_aigc(dict: &[u8]) -> Vec<u8> {
    let mut out = dict.to_vec();
    while let Some(p) = find_last(&out, b"/AIGC") {
        if parse_string(&out, p + 5).is_none() {
            break;
        }
        // Find the end of the string token.
        let mut i = p + 5;
        while out.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let end = if out.get(i) == Some(&b'<') {
            find_from(&out, b">", i).map_or(out.len(), |e| e + 1)
        } else {
            skip_literal(&out, i)
        };
        out.drain(p..end);
    }
    out
}

impl Codec for Pdf {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        if let Some(p) = find_last(bytes, b"/AIGC")
            && let Some(s) = parse_string(bytes, p + 5)
        {
            return Ok(vec![Raw::new(Carrier::PdfInfo, text_string(&s))]);
        }
        if let Some(start) = find_last(bytes, b"<x:xmpmeta") {
            let end = find_from(bytes, b"</x:xmpmeta>", start).unwrap_or(bytes.len());
            return xmp::find(&bytes[start..end], Carrier::PdfXmp);
        }
        Ok(Vec::new())
    }

    fn splice(&self, bytes: &[u8], value: &str) -> Result<Vec<Piece>, LabelError> {
        if !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
            return Err(LabelError::corrupt("pdf", 0, "no `%PDF-` header"));
        }
        // Drop an earlier hegui update at the tail, so that labels do not stack.
        let base = match sections(bytes).last() {
            Some(&(start, end)) if bytes[end..].iter().all(u8::is_ascii_whitespace) => {
                &bytes[..start]
            }
            _ => bytes,
        };
        let t = trailer(base)?;
        let size = dict_ref(&t.dict, b"/Size")
            .map(|(n, _)| n)
            .ok_or_else(|| LabelError::corrupt("pdf", t.startxref, "trailer has no `/Size`"))?;
        let root = dict_ref(&t.dict, b"/Root")
            .ok_or_else(|| LabelError::corrupt("pdf", t.startxref, "trailer has no `/Root`"))?;
        let old_info = dict_ref(&t.dict, b"/Info");
        let (info_num, entries) = match old_info {
            Some((n, g)) => {
                let inner = object_dict(base, n, g)
                    .map(|d| without_aigc(&d))
                    .map(|d| d[2..d.len().saturating_sub(2)].to_vec())
                    .unwrap_or_default();
                (n, inner)
            }
            None => (size, Vec::new()),
        };
        let new_size = size.max(info_num + 1) + u64::from(t.stream);
        let id = find_from(&t.dict, b"/ID", 0).and_then(|p| {
            let open = find_from(&t.dict, b"[", p)?;
            let close = find_from(&t.dict, b"]", open)?;
            Some(String::from_utf8_lossy(&t.dict[p..=close]).into_owned())
        });
        // The file is `base` (copied verbatim) and the update `out`, whose offsets count from
        // the start of the file.
        let mut out = Vec::with_capacity(value.len() + 512);
        // The marker's leading newline belongs to the section, so `content` gives back `base`.
        out.extend_from_slice(MARKER);
        let info_at = base.len() + out.len();
        out.extend_from_slice(format!("{info_num} 0 obj\n<<").as_bytes());
        out.extend_from_slice(&entries);
        out.extend_from_slice(format!(" /AIGC {} >>\nendobj\n", literal(value)).as_bytes());
        let xref_at = base.len() + out.len();
        let id = id.map(|i| format!(" {i}")).unwrap_or_default();
        let common = format!(
            "/Size {new_size} /Root {} {} R /Info {info_num} 0 R /Prev {}{id}",
            root.0, root.1, t.startxref
        );
        if t.stream {
            // Uncompressed xref stream: entries for the Info object and the stream itself.
            let xref_num = new_size - 1;
            let mut data = Vec::new();
            for offset in [info_at, xref_at] {
                data.push(1u8);
                data.extend_from_slice(&(offset as u32).to_be_bytes());
                data.extend_from_slice(&[0, 0]);
            }
            out.extend_from_slice(
                format!(
                    "{xref_num} 0 obj\n<< /Type /XRef {common} /Index [{info_num} 1 {xref_num} 1] /W [1 4 2] /Length {} >>\nstream\n",
                    data.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\nendstream\nendobj\n");
        } else {
            out.extend_from_slice(
                format!("xref\n{info_num} 1\n{info_at:010} 00000 n \ntrailer\n<< {common} >>\n")
                    .as_bytes(),
            );
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        if u32::try_from(base.len() + out.len()).is_err() {
            return Err(LabelError::unsupported("pdf", "files over 4 GiB"));
        }
        let mut pieces = Pieces::new();
        pieces.input(0..base.len());
        pieces.owned(out);
        Ok(pieces.into_vec())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        let mut from = 0;
        for (start, end) in sections(bytes) {
            sink(&bytes[from..start]);
            from = end;
        }
        sink(&bytes[from..]);
        Ok(())
    }
}
