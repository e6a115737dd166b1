//! Markdown: the label is an `AIGC:` mapping in the YAML front matter, one `Key: "value"` line per
//! Annex E key (text-file guide 20258A per AigcTotal ◐). A file without front matter gets one.
//!
//! Reading accepts the mapping (values plain, single- or double-quoted) and an inline JSON value
//! (`AIGC: {"Label":"1",…}`). No YAML library: `serde_yaml` is archived, and the shape is fixed.
//!
//! Content for the integrity code: the document with the `AIGC:` block removed, and the front
//! matter removed as well when nothing else is left in it.

use crate::codec::{Carrier, Codec, Raw};
use crate::{Form, Label, LabelError};

pub(crate) struct Markdown;

struct Parts<'a> {
    /// Line ending used by the document.
    newline: &'a str,
    /// Front matter body (between the delimiter lines), if any.
    body: Option<&'a str>,
    /// Text after the closing delimiter line (or the whole text).
    rest: &'a str,
}

fn split(text: &str) -> Parts<'_> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let no = Parts {
        newline,
        body: None,
        rest: text,
    };
    let Some(after) = text
        .strip_prefix("---\r\n")
        .or_else(|| text.strip_prefix("---\n"))
    else {
        return no;
    };
    let mut offset = 0;
    for line in after.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare == "---" || bare == "..." {
            return Parts {
                newline,
                body: Some(&after[..offset]),
                rest: &after[offset + line.len()..],
            };
        }
        offset += line.len();
    }
    no
}

/// (start, end) byte ranges of `AIGC:` blocks within a front matter body.
fn blocks(body: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut open: Option<usize> = None;
    for line in body.split_inclusive('\n') {
        let indented = line.starts_with([' ', '\t']) || line.trim().is_empty();
        if let Some(start) = open
            && !indented
        {
            out.push((start, offset));
            open = None;
        }
        if open.is_none() && (line.starts_with("AIGC:") || line.starts_with("\"AIGC\":")) {
            open = Some(offset);
        }
        offset += line.len();
    }
    if let Some(start) = open {
        out.push((start, body.len()));
    }
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        inner.replace("\\\"", "\"").replace("\\\\", "\\")
    } else if let Some(inner) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else {
        v.to_string()
    }
}

/// Parses the text after `AIGC:`: inline JSON or `Key: value` lines.
pub(crate) fn parse_value(text: &str) -> Result<(Label, Form, Vec<String>), LabelError> {
    let trimmed = text.trim();
    let inline = unquote(trimmed.lines().next().unwrap_or(""));
    if inline.starts_with('{') {
        return Label::parse(&inline);
    }
    let pairs = trimmed.lines().filter_map(|line| {
        let (k, v) = line.split_once(':')?;
        Some((k.trim().trim_matches('"'), v))
    });
    let pairs: Vec<(&str, String)> = pairs.map(|(k, v)| (k, unquote(v))).collect();
    let (label, warnings) = Label::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))?;
    Ok((label, Form::Lines, warnings))
}

/// Length of the front matter block (delimiters included), 0 when there is none.
pub(crate) fn front_matter_len(text: &str) -> usize {
    let parts = split(text);
    if parts.body.is_some() {
        text.len() - parts.rest.len()
    } else {
        0
    }
}

fn text_of(bytes: &[u8]) -> Result<&str, LabelError> {
    std::str::from_utf8(bytes)
        .map_err(|e| LabelError::corrupt("markdown", e.valid_up_to(), "not UTF-8"))
}

/// The document without `AIGC:` blocks (and without front matter if it ends up empty).
fn strip(text: &str) -> String {
    let parts = split(text);
    let Some(body) = parts.body else {
        return text.to_string();
    };
    let mut kept = String::with_capacity(body.len());
    let mut last = 0;
    for (start, end) in blocks(body) {
        kept.push_str(&body[last..start]);
        last = end;
    }
    kept.push_str(&body[last..]);
    if kept.trim().is_empty() {
        parts.rest.to_string()
    } else {
        let head_len = text.len() - parts.rest.len();
        // Rebuild: opening line, kept body, the original closing line, rest.
        let opening = if text.starts_with("---\r\n") { 5 } else { 4 };
        let closing = &text[opening + body.len()..head_len];
        format!("{}{kept}{closing}{}", &text[..opening], parts.rest)
    }
}

fn render(label_json: &str, newline: &str) -> Result<String, LabelError> {
    let (label, _, _) = Label::parse(label_json)?;
    let mut out = format!("AIGC:{newline}");
    for (key, value) in label.fields() {
        out.push_str(&format!(
            "  {key}: \"{}\"{newline}",
            value.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    Ok(out)
}

impl Codec for Markdown {
    fn find(&self, bytes: &[u8]) -> Result<Vec<Raw>, LabelError> {
        let text = text_of(bytes)?;
        let Some(body) = split(text).body else {
            return Ok(Vec::new());
        };
        Ok(blocks(body)
            .into_iter()
            .map(|(s, e)| {
                let block = &body[s..e];
                let after = block.split_once(':').map_or("", |(_, v)| v);
                Raw::new(Carrier::FrontMatter, after)
            })
            .collect())
    }

    fn write(&self, bytes: &[u8], value: &str) -> Result<Vec<u8>, LabelError> {
        let text = strip(text_of(bytes)?);
        let parts = split(&text);
        let block = render(value, parts.newline)?;
        let nl = parts.newline;
        let out = match parts.body {
            Some(_) => {
                let opening = if text.starts_with("---\r\n") { 5 } else { 4 };
                format!("{}{block}{}", &text[..opening], &text[opening..])
            }
            None => format!("---{nl}{block}---{nl}{text}"),
        };
        Ok(out.into_bytes())
    }

    fn content(&self, bytes: &[u8], sink: &mut dyn FnMut(&[u8])) -> Result<(), LabelError> {
        sink(strip(text_of(bytes)?).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_cases() {
        let value = crate::Label::new("P", "1").to_json_wrapped();
        for doc in [
            "# Title\n",
            "---\ntitle: x\n---\nbody\n",
            "",
            "---\n---\n",
            "---\r\ntitle: y\r\n---\r\nbody\r\n",
        ] {
            let written = Markdown.write(doc.as_bytes(), &value).unwrap();
            let text = String::from_utf8(written.clone()).unwrap();
            assert_eq!(strip(&text), strip(doc), "{doc:?}");
            let found = Markdown.find(&written).unwrap();
            assert_eq!(found.len(), 1, "{text}");
            let (label, form, _) = parse_value(&found[0].value).unwrap();
            assert_eq!((label.produce_id.as_str(), form), ("1", Form::Lines));
            // Rewriting replaces, never appends.
            let again = Markdown.write(&written, &value).unwrap();
            assert_eq!(again, written);
        }
        insta::assert_snapshot!(String::from_utf8(Markdown.write(b"---\ntitle: x\n---\nbody\n", &value).unwrap()).unwrap(), @r#"
        ---
        AIGC:
          Label: "1"
          ContentProducer: "P"
          ProduceID: "1"
          ReservedCode1: ""
          ContentPropagator: "P"
          PropagateID: "1"
          ReservedCode2: ""
        title: x
        ---
        body
        "#);
    }

    #[test]
    fn inline_json() {
        let doc =
            "---\nAIGC: {\"Label\":\"1\",\"ContentProducer\":\"P\",\"ProduceID\":\"9\"}\n---\n";
        let found = Markdown.find(doc.as_bytes()).unwrap();
        let (label, form, _) = parse_value(&found[0].value).unwrap();
        assert_eq!((label.produce_id.as_str(), form), ("9", Form::Bare));
    }
}
