//! XMP packets: find the label in every form tools write, and write the TC260 one.
//!
//! hegui writes `<TC260:AIGC>` with namespace `http://www.tc260.org.cn/ns/AIGC/1.0/` (labels.md
//! §4 "XMP", ✅ quoted from the image guide), holding the wrapped Annex E string, XML-escaped.
//! When the file already has XMP, the other properties are kept: every old label property, in
//! any of the forms below, is removed and a new `rdf:Description` is inserted before
//! `</rdf:RDF>`.
//!
//! Reading accepts every form seen in the wild, since the image carrier is vendor convention
//! (labels.md §4 ◐), and reports each as its own candidate, so that the caller can say which
//! carrier it found and flag two that disagree:
//!
//! 1. **JSON property**: any element or attribute whose local name is `AIGC`, holding the
//!    Annex E JSON; the carrier is the container's (`jpeg-xmp`, `png-xmp`, …). The
//!    wrong-namespace variant (labels.md §5: `TC260` bound to `http://ns.adobe.com/xap/1.0/tc/`)
//!    is still found, with a warning.
//! 2. **`XmpKvBase64`**: a property of that local name holding the JSON, or `AIGC={…}` (the
//!    Alibaba Cloud transport form, labels.md R7 ◐), in base64: [`Carrier::XmpKvBase64`].
//! 3. **Per-field properties**: one property per Annex E key (`AIGC:Label="1"`,
//!    `<TC260:ProduceID>…</TC260:ProduceID>`), attribute or element, in the TC260 namespace (or
//!    under the prefix `AIGC`/`TC260`, with a warning if bound elsewhere): [`Carrier::XmpFields`],
//!    the keys of one packet make one candidate.
//!
//! Candidates come in that order, so that the full JSON is the label reported when a packet
//! holds several forms. Packets with a DTD or entity declarations are rejected before anything
//! else (ai-mark-lint XMP-001). This is a small scanner rather than an XML parser because an XMP
//! packet is a known, flat shape and the scanner never expands anything.

use base64::Engine as _;

use crate::codec::{Carrier, Raw};
use crate::{Form, KEYS, LabelError};

/// The TC260 namespace URI.
pub(crate) const NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";

/// Local name of the base64 property.
const KV_BASE64: &str = "XmpKvBase64";

/// Prefixes that name the TC260 namespace in the wild, accepted for per-field properties even when
/// bound to another URI (with a warning).
const TC260_PREFIXES: [&str; 2] = ["AIGC", "TC260"];

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

/// `existing` with its label properties (every form) replaced by `value`; a new packet if it has
/// no `</rdf:RDF>` to insert into.
pub(crate) fn merge(existing: Option<&str>, value: &str) -> String {
    let Some(existing) = existing else {
        return packet(value);
    };
    let mut spans: Vec<std::ops::Range<usize>> = label_properties(existing)
        .into_iter()
        .map(|(_, property)| property.span)
        .collect();
    spans.sort_by_key(|span| span.start);
    let mut cleaned = String::with_capacity(existing.len());
    let mut last = 0;
    for span in spans {
        if span.start >= last {
            cleaned.push_str(&existing[last..span.start]);
            last = span.end;
        }
    }
    cleaned.push_str(&existing[last..]);
    // What hegui's own description leaves once its property is gone.
    let cleaned = cleaned.replace(&description_shell(), "");
    // Namespace declarations may stay; any other mention of a label property is one the scanner
    // could not take apart (no closing tag), and a DTD could hide one: keeping the packet would
    // leave a second label, so start a fresh packet instead.
    let residue = cleaned.replace(NAMESPACE, "").replace("xmlns:AIGC=", "");
    if residue.contains("AIGC") || residue.contains(KV_BASE64) || residue.contains("<!") {
        return packet(value);
    }
    match cleaned.rfind("</rdf:RDF>") {
        Some(at) => format!("{}{}{}", &cleaned[..at], description(value), &cleaned[at..]),
        None => packet(value),
    }
}

/// hegui's `rdf:Description` without its property.
fn description_shell() -> String {
    format!("<rdf:Description rdf:about=\"\" xmlns:TC260=\"{NAMESPACE}\"></rdf:Description>")
}

/// One property of a packet: an element `<p:Name …>text</p:Name>` or an attribute
/// `p:Name="text"`.
struct Property {
    /// The whole element, or the attribute with its leading space.
    span: std::ops::Range<usize>,
    prefix: String,
    /// The text, entities resolved.
    value: String,
}

/// Every element or attribute whose local name is `name`. Namespace declarations
/// (`xmlns:AIGC="…"`) are not properties.
fn properties(text: &str, name: &str) -> Vec<Property> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let at = from + i;
        let after_name = at + name.len();
        from = after_name;
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
        if prefix == "xmlns" {
            continue;
        }
        let after = bytes.get(after_name).copied();
        if start > 0
            && bytes[start - 1] == b'<'
            && after.is_some_and(|b| b == b'>' || b.is_ascii_whitespace())
        {
            // Element: <P:Name ...>text</P:Name>
            let Some(open_end) = text[after_name..].find('>').map(|e| after_name + e + 1) else {
                continue;
            };
            let close = if prefix.is_empty() {
                format!("</{name}>")
            } else {
                format!("</{prefix}:{name}>")
            };
            let Some(close_at) = text[open_end..].find(&close).map(|e| open_end + e) else {
                continue;
            };
            let end = close_at + close.len();
            found.push(Property {
                span: start - 1..end,
                prefix,
                value: unescape(&text[open_end..close_at]),
            });
            from = end;
        } else if start > 0
            && bytes[start - 1].is_ascii_whitespace()
            && text[after_name..].trim_start().starts_with('=')
        {
            // Attribute: P:Name="…"
            let rest = text[after_name..].trim_start()[1..].trim_start();
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let value_start = text.len() - rest.len() + 1;
            let Some(value_end) = text[value_start..].find(quote).map(|e| value_start + e) else {
                continue;
            };
            found.push(Property {
                span: start - 1..value_end + 1,
                prefix,
                value: unescape(&text[value_start..value_end]),
            });
            from = value_end + 1;
        }
    }
    found
}

/// Which label form a property belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `AIGC`: the Annex E JSON.
    Json,
    /// `XmpKvBase64`: the JSON in base64.
    Base64,
    /// One Annex E key.
    Field(&'static str),
}

/// Every label property of a packet in reading order: JSON properties, then `XmpKvBase64`, then
/// per-field properties in the TC260 namespace (or under a TC260 prefix). `find` reads these and
/// `merge` removes them, so that what is read is what a new label replaces.
fn label_properties(text: &str) -> Vec<(Kind, Property)> {
    let mut out: Vec<(Kind, Property)> = properties(text, "AIGC")
        .into_iter()
        .map(|p| (Kind::Json, p))
        .collect();
    out.extend(
        properties(text, KV_BASE64)
            .into_iter()
            .map(|p| (Kind::Base64, p)),
    );
    let mut fields: Vec<(Kind, Property)> = KEYS
        .iter()
        .flat_map(|&key| {
            properties(text, key)
                .into_iter()
                .map(move |p| (Kind::Field(key), p))
        })
        .filter(|(_, p)| {
            namespace_of(text, &p.prefix) == Some(NAMESPACE)
                || TC260_PREFIXES.contains(&p.prefix.as_str())
        })
        .collect();
    fields.sort_by_key(|(_, p)| p.span.start);
    out.extend(fields);
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

/// A warning when `prefix` is not bound to the TC260 namespace.
fn namespace_warning(text: &str, prefix: &str, name: &str) -> Option<String> {
    match namespace_of(text, prefix) {
        Some(NAMESPACE) => None,
        Some(other) => Some(format!(
            "XMP namespace of `{prefix}:{name}` is `{other}`, expected `{NAMESPACE}`"
        )),
        None => Some(format!("XMP prefix `{prefix}` is not declared")),
    }
}

/// The text of an `XmpKvBase64` value: base64 (standard or URL-safe alphabet, padding optional,
/// whitespace ignored) of the JSON or of `AIGC={…}`.
fn decode_base64(value: &str) -> Result<String, LabelError> {
    use base64::alphabet;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = GeneralPurpose::new(&alphabet::STANDARD, config)
        .decode(&compact)
        .or_else(|_| GeneralPurpose::new(&alphabet::URL_SAFE, config).decode(&compact))
        .map_err(|e| LabelError::Encoding(format!("`{KV_BASE64}` is not base64: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        LabelError::Encoding(format!("`{KV_BASE64}` does not decode to UTF-8 text"))
    })?;
    Ok(match text.trim_start().strip_prefix("AIGC=") {
        Some(json) => json.to_string(),
        None => text,
    })
}

/// Every label candidate in an XMP packet; `carrier` is the container's XMP carrier, used for
/// the JSON property.
pub(crate) fn find(packet: &[u8], carrier: Carrier) -> Result<Vec<Raw>, LabelError> {
    let text = String::from_utf8_lossy(packet);
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(LabelError::unsupported(
            "xmp",
            "the packet declares a DTD or entities; refused before parsing",
        ));
    }
    let mut found = Vec::new();
    let mut fields = serde_json::Map::new();
    let mut field_warnings = Vec::new();
    for (kind, property) in label_properties(&text) {
        match kind {
            Kind::Json => {
                let mut raw = Raw::new(carrier, property.value);
                raw.warnings
                    .extend(namespace_warning(&text, &property.prefix, "AIGC"));
                found.push(raw);
            }
            Kind::Base64 => found.push(match decode_base64(&property.value) {
                Ok(json) => Raw::new(Carrier::XmpKvBase64, json),
                Err(err) => Raw::broken(Carrier::XmpKvBase64, err),
            }),
            Kind::Field(key) => {
                if let Some(warning) = namespace_warning(&text, &property.prefix, key)
                    && !field_warnings.contains(&warning)
                {
                    field_warnings.push(warning);
                }
                match fields.get(key) {
                    None => {
                        fields.insert(key.to_string(), property.value.into());
                    }
                    Some(kept) if kept.as_str() != Some(property.value.as_str()) => field_warnings
                        .push(format!(
                            "XMP property `{key}` appears twice with different values; the first is used"
                        )),
                    Some(_) => {}
                }
            }
        }
    }
    if !fields.is_empty() {
        let mut raw = Raw::new(
            Carrier::XmpFields,
            serde_json::Value::Object(fields).to_string(),
        );
        raw.form = Some(Form::Fields);
        raw.warnings = field_warnings;
        found.push(raw);
    }
    Ok(found)
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

    /// Per-field properties: read under the TC260 namespace or a TC260 prefix (with a warning
    /// when that prefix is bound elsewhere), never under another namespace's prefix; the
    /// namespace declaration `xmlns:AIGC` is not a label (it was read as one and failed as
    /// "not Annex E JSON").
    #[test]
    fn per_field_properties_table() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                r#"<rdf:Description xmlns:AIGC="http://www.tc260.org.cn/ns/AIGC/1.0/" AIGC:Label="1" AIGC:ProduceID="a"/>"#,
                r#"{"Label":"1","ProduceID":"a"}"#,
                &[],
            ),
            (
                r#"<rdf:Description xmlns:t="http://www.tc260.org.cn/ns/AIGC/1.0/"><t:Label>1</t:Label><t:ContentProducer>P&amp;Q</t:ContentProducer></rdf:Description>"#,
                r#"{"ContentProducer":"P&Q","Label":"1"}"#,
                &[],
            ),
            (
                r#"<rdf:Description AIGC:Label="1" AIGC:ProduceID="a"/>"#,
                r#"{"Label":"1","ProduceID":"a"}"#,
                &["XMP prefix `AIGC` is not declared"],
            ),
            (
                r#"<rdf:Description xmlns:TC260="http://ns.adobe.com/xap/1.0/tc/" TC260:Label="1"/>"#,
                r#"{"Label":"1"}"#,
                &[
                    "XMP namespace of `TC260:Label` is `http://ns.adobe.com/xap/1.0/tc/`, expected `http://www.tc260.org.cn/ns/AIGC/1.0/`",
                ],
            ),
            (
                r#"<rdf:Description xmlns:AIGC="http://www.tc260.org.cn/ns/AIGC/1.0/" AIGC:Label="1" AIGC:Label="2"/>"#,
                r#"{"Label":"1"}"#,
                &["XMP property `Label` appears twice with different values; the first is used"],
            ),
            (
                r#"<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:Label="1"/>"#,
                "",
                &[],
            ),
            (
                r#"<x:xmpmeta xmlns:AIGC="http://www.tc260.org.cn/ns/AIGC/1.0/"><rdf:Description/></x:xmpmeta>"#,
                "",
                &[],
            ),
        ];
        for (packet, value, warnings) in cases {
            let found = find(packet.as_bytes(), Carrier::JpegXmp).unwrap();
            match found.as_slice() {
                [] => assert_eq!(*value, "", "{packet}"),
                [raw] => {
                    assert_eq!(
                        (raw.carrier, raw.form, raw.value.as_str()),
                        (Carrier::XmpFields, Some(Form::Fields), *value),
                        "{packet}"
                    );
                    assert_eq!(raw.warnings, *warnings, "{packet}");
                }
                more => panic!("{packet}: {} candidates", more.len()),
            }
        }
    }

    /// A new label replaces every form, and the packet's other properties stay.
    #[test]
    fn merge_removes_every_form_and_keeps_other_properties() {
        let old = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:AIGC="http://www.tc260.org.cn/ns/AIGC/1.0/" xmlns:kv="http://ns.adobe.com/xap/1.0/kv/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/png" AIGC:Label="1" AIGC:ProduceID="old" kv:XmpKvBase64="e30="><AIGC:ContentProducer>P</AIGC:ContentProducer></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let merged = merge(Some(old), r#"{"AIGC":{"Label":"1"}}"#);
        assert!(merged.contains(r#"dc:format="image/png""#), "{merged}");
        let found = find(merged.as_bytes(), Carrier::PngXmp).unwrap();
        let found: Vec<(Carrier, &str)> = found
            .iter()
            .map(|raw| (raw.carrier, raw.value.as_str()))
            .collect();
        assert_eq!(found, [(Carrier::PngXmp, r#"{"AIGC":{"Label":"1"}}"#)]);
    }

    /// Base64 in either alphabet, with or without padding and line breaks, of the JSON or of
    /// `AIGC={…}`.
    #[test]
    fn base64_variants() {
        for encoded in [
            "eyJMYWJlbCI6IjEifQ==",
            "eyJMYWJlbCI6IjEifQ",
            "eyJMYWJl\n  bCI6IjEifQ==",
        ] {
            assert_eq!(
                decode_base64(encoded).unwrap(),
                r#"{"Label":"1"}"#,
                "{encoded}"
            );
        }
        assert_eq!(
            decode_base64("QUlHQz17IkxhYmVsIjoiMSJ9").unwrap(),
            r#"{"Label":"1"}"#
        );
        assert_eq!(
            decode_base64("-_8").unwrap_err().to_string(),
            "label value cannot be decoded: `XmpKvBase64` does not decode to UTF-8 text"
        );
    }
}
