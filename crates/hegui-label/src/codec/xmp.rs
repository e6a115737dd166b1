//! XMP packets: find the `AIGC` property and write the TC260 one.
//!
//! hegui writes `<TC260:AIGC>` with namespace `http://www.tc260.org.cn/ns/AIGC/1.0/` (labels.md
//! §4 "XMP", ✅ quoted from the image guide), holding the wrapped Annex E string, XML-escaped.
//! When the file already has XMP, the other properties are kept: any old `AIGC` property is
//! removed and a new `rdf:Description` is inserted before `</rdf:RDF>`.
//!
//! Reading matches any element or attribute whose local name is `AIGC`, so that the
//! wrong-namespace variant (labels.md §5: `TC260` bound to `http://ns.adobe.com/xap/1.0/tc/`) is
//! still found; the namespace is reported as a warning. Packets with a DTD or entity
//! declarations are rejected before anything else (ai-mark-lint XMP-001). This is a small
//! scanner rather than an XML parser because an XMP packet is a known, flat shape and the
//! scanner never expands anything.

use crate::LabelError;
use crate::codec::{Carrier, Raw};

/// The TC260 namespace URI.
pub(crate) const NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Resolves the five predefined entities and numeric character references.
pub(crate) fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn description(value: &str) -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:TC260=\"{NAMESPACE}\"><TC260:AIGC>{}</TC260:AIGC></rdf:Description>",
        escape(value)
    )
}

/// A new packet holding only the label.
pub(crate) fn packet(value: &str) -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">{}</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        description(value)
    )
}

/// `existing` with its `AIGC` properties replaced by `value`; a new packet if it has no
/// `</rdf:RDF>` to insert into.
pub(crate) fn merge(existing: Option<&str>, value: &str) -> String {
    let Some(existing) = existing else {
        return packet(value);
    };
    let cleaned = remove_aigc(existing);
    if cleaned.contains("AIGC") || cleaned.contains("<!") {
        // A broken old property (no closing tag) or a DTD: keeping the packet would leave a
        // second, unparseable label, so start a fresh packet instead.
        return packet(value);
    }
    match cleaned.rfind("</rdf:RDF>") {
        Some(at) => format!("{}{}{}", &cleaned[..at], description(value), &cleaned[at..]),
        None => packet(value),
    }
}

/// Finds element or attribute occurrences whose local name is `AIGC`:
/// (start, end, prefix, value). Element spans cover the whole element; attribute spans the
/// attribute with its leading space.
fn occurrences(text: &str) -> Vec<(usize, usize, String, String)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find("AIGC") {
        let at = from + i;
        from = at + 4;
        // Walk back over the prefix.
        let mut start = at;
        let mut prefix = String::new();
        if start > 0 && bytes[start - 1] == b':' {
            let mut p = start - 1;
            while p > 0
                && (bytes[p - 1].is_ascii_alphanumeric()
                    || bytes[p - 1] == b'_'
                    || bytes[p - 1] == b'-')
            {
                p -= 1;
            }
            prefix = text[p..start - 1].to_string();
            start = p;
        }
        let after = bytes.get(at + 4).copied();
        if start > 0 && bytes[start - 1] == b'<' && matches!(after, Some(b'>' | b' ')) {
            // Element: <P:AIGC ...>text</P:AIGC>
            let Some(open_end) = text[at..].find('>').map(|e| at + e + 1) else {
                continue;
            };
            let close = if prefix.is_empty() {
                "</AIGC>".to_string()
            } else {
                format!("</{prefix}:AIGC>")
            };
            let Some(close_at) = text[open_end..].find(&close).map(|e| open_end + e) else {
                continue;
            };
            let inner = &text[open_end..close_at];
            found.push((start - 1, close_at + close.len(), prefix, unescape(inner)));
            from = close_at + close.len();
        } else if start > 0
            && bytes[start - 1].is_ascii_whitespace()
            && text[at + 4..].trim_start().starts_with('=')
        {
            // Attribute: P:AIGC="…"
            let rest = text[at + 4..].trim_start()[1..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let value_start = text.len() - rest.len() + 1;
            let Some(value_end) = text[value_start..].find(quote).map(|e| value_start + e) else {
                continue;
            };
            found.push((
                start - 1,
                value_end + 1,
                prefix,
                unescape(&text[value_start..value_end]),
            ));
            from = value_end + 1;
        }
    }
    found
}

fn remove_aigc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, _, _) in occurrences(text) {
        out.push_str(&text[last..start]);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// The namespace URI bound to `prefix` in the packet, if declared.
fn namespace_of<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let needle = if prefix.is_empty() {
        "xmlns=".to_string()
    } else {
        format!("xmlns:{prefix}=")
    };
    let at = text.find(&needle)? + needle.len();
    let quote = text[at..].chars().next()?;
    let rest = &text[at + 1..];
    rest.find(quote).map(|end| &rest[..end])
}

/// Every `AIGC` property in an XMP packet.
pub(crate) fn find(packet: &[u8], carrier: Carrier) -> Result<Vec<Raw>, LabelError> {
    let text = String::from_utf8_lossy(packet);
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(LabelError::unsupported(
            "xmp",
            "the packet declares a DTD or entities; refused before parsing",
        ));
    }
    Ok(occurrences(&text)
        .into_iter()
        .map(|(_, _, prefix, value)| {
            let mut raw = Raw::new(carrier, value);
            match namespace_of(&text, &prefix) {
                Some(NAMESPACE) => {}
                Some(other) => raw.warnings.push(format!(
                    "XMP namespace of `{prefix}:AIGC` is `{other}`, expected `{NAMESPACE}`"
                )),
                None => raw
                    .warnings
                    .push(format!("XMP prefix `{prefix}` is not declared")),
            }
            raw
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_round_trip_and_merge() {
        let value = r#"{"AIGC":{"Label":"1","ProduceID":"a<b&\"c"}}"#;
        let p = packet(value);
        let found = find(p.as_bytes(), Carrier::JpegXmp).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, value);
        assert!(found[0].warnings.is_empty());
        let merged = merge(Some(&p), "{}");
        let found = find(merged.as_bytes(), Carrier::JpegXmp).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value, "{}");
    }

    #[test]
    fn wrong_namespace_and_attribute_form() {
        let text = r#"<x:xmpmeta><rdf:RDF><rdf:Description xmlns:TC260="http://ns.adobe.com/xap/1.0/tc/" TC260:AIGC="{&quot;Label&quot;:&quot;1&quot;}"/></rdf:RDF></x:xmpmeta>"#;
        let found = find(text.as_bytes(), Carrier::JpegXmp).unwrap();
        assert_eq!(found[0].value, r#"{"Label":"1"}"#);
        insta::assert_debug_snapshot!(found[0].warnings, @r#"
        [
            "XMP namespace of `TC260:AIGC` is `http://ns.adobe.com/xap/1.0/tc/`, expected `http://www.tc260.org.cn/ns/AIGC/1.0/`",
        ]
        "#);
        assert!(
            find(
                b"<!DOCTYPE x [<!ENTITY a 'b'>]><AIGC>&a;</AIGC>",
                Carrier::JpegXmp
            )
            .is_err()
        );
    }
}
