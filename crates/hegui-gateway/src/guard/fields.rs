//! What in the untyped part of a request or an answer (the `rest` of a [`crate::wire`] type) is
//! text, and the rule over it: **every text the gateway forwards, in either direction, is
//! scanned, or it is not forwarded.** JSON string escapes (`\uXXXX`) are decoded by the JSON
//! parser before anything is scanned.
//!
//! - A string is text unless it sits under one of the [`NOT_TEXT`] keys (ids, roles, types,
//!   media as URLs or base64), which the lexicon cannot judge and which would only slow it down.
//! - Fields the gateway does not know are scanned like any other (`unknown-fields = "scan"`,
//!   the default) or removed before forwarding (`"drop"`: each wire type's `drop_unknown`, over
//!   the OpenAI API's fields).
//! - In an answer, the streamed text (`content`, `reasoning_content`) goes through the streaming
//!   scanner; every other text-bearing field is gathered by [`HeldText`] per field path, so that
//!   the fragments of one field (a tool call's arguments, logprobs tokens) are scanned joined
//!   and two interleaved tool calls are not mixed up.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Keys whose string values are not text a person or a model reads. Only a *string* under one
/// of them is passed over: a list or an object under such a key is searched like any other
/// (an images answer's `data` holds each image's `revised_prompt`).
const NOT_TEXT: &[&str] = &[
    "model",
    "id",
    "object",
    "created",
    "index",
    "finish_reason",
    "role",
    "type",
    "tool_call_id",
    "user",
    "url",
    "image_url",
    "input_audio",
    "data",
    "b64_json",
    "file_data",
    "detail",
    "format",
];

/// `text` with its `\uXXXX` escapes decoded (surrogate pairs joined), when it has any: a string
/// that is itself JSON (tool-call arguments, a response-format schema) may spell a word that
/// way, and the client that parses it reads the word.
pub(crate) fn decode_escapes(text: &str) -> Option<String> {
    if !text.contains("\\u") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let hex = |s: &str| {
        s.get(..4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(high) = hex(after) else {
            out.push_str("\\u");
            rest = after;
            continue;
        };
        let mut used = 4;
        let mut code = high;
        if (0xD800..0xDC00).contains(&high)
            && let Some(low) = after
                .get(4..)
                .and_then(|s| s.strip_prefix("\\u"))
                .and_then(hex)
            && (0xDC00..0xE000).contains(&low)
        {
            code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            used = 10;
        }
        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
        rest = &after[used..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether `value`, found under `key`, may hold text: anything but a string under one of the
/// [`NOT_TEXT`] keys.
pub(crate) fn may_hold_text(key: &str, value: &Value) -> bool {
    !(value.is_string() && NOT_TEXT.contains(&key))
}

/// Appends every non-empty string inside `value` to `out` (and its decoded form, see
/// [`decode_escapes`]), except strings under [`NOT_TEXT`] keys.
pub(crate) fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if !s.is_empty() => {
            out.push(s.clone());
            out.extend(decode_escapes(s));
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => field_strings(map, &[], out),
        _ => {}
    }
}

/// [`strings`] of the fields of `map`, except those named in `skip`.
pub(crate) fn field_strings(map: &Map<String, Value>, skip: &[&str], out: &mut Vec<String>) {
    map.iter()
        .filter(|(key, v)| !skip.contains(&key.as_str()) && may_hold_text(key, v))
        .for_each(|(_, v)| strings(v, out));
}

/// Every text of `value` (see [`strings`]), one per line.
pub(crate) fn text_of(value: &Value) -> String {
    let mut out = Vec::new();
    strings(value, &mut out);
    out.join("\n")
}

/// The strings of an answer's non-streamed fields, gathered per field path until the end of the
/// answer. The path names the choice and the keys; array positions are left out (so that
/// streamed fragments and logprobs tokens join), except an element's own `index` (so that each
/// streamed tool call has its own text).
#[derive(Debug, Default)]
pub(crate) struct HeldText {
    paths: BTreeMap<String, String>,
}

impl HeldText {
    /// Adds the strings of `value`, found at `path`.
    pub(crate) fn add(&mut self, path: &str, value: &Value) {
        let mut path = path.to_owned();
        self.add_at(&mut path, value);
    }

    fn add_at(&mut self, path: &mut String, value: &Value) {
        let len = path.len();
        match value {
            Value::String(s) if !s.is_empty() => {
                self.paths.entry(path.clone()).or_default().push_str(s);
            }
            Value::Array(items) => {
                for item in items {
                    if let Some(i) = item.get("index").and_then(Value::as_u64) {
                        path.push_str(&format!("[{i}]"));
                    }
                    self.add_at(path, item);
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, v) in map {
                    if !may_hold_text(key, v) {
                        continue;
                    }
                    path.push('.');
                    path.push_str(key);
                    self.add_at(path, v);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }

    /// Adds the texts of a delta (or message) of choice `index` other than the streamed ones:
    /// `content` given as parts, and every other field (tool calls, `refusal`, …); whether
    /// there was any.
    pub(crate) fn add_delta(&mut self, index: u64, delta: &crate::wire::message::Message) -> bool {
        let mut any = false;
        if let Some(crate::wire::message::Content::Parts(parts)) = &delta.content {
            let parts = serde_json::to_value(parts).unwrap_or_default();
            self.add(&format!("{index}.content"), &parts);
            any = true;
        }
        for (key, value) in delta.rest.iter().filter(|(_, v)| !v.is_null()) {
            self.add(&format!("{index}.{key}"), value);
            any = true;
        }
        any
    }

    /// Each field path with its text.
    pub(crate) fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.paths.iter().map(|(p, t)| (p.as_str(), t.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn held_text_keeps_fields_and_tool_calls_apart() {
        let mut held = HeldText::default();
        // Two interleaved streamed tool calls; the first fragment carries id, type and name.
        let fragments = [
            json!([{"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "search", "arguments": "{\"q\": \"冰"}}]),
            json!([{"index": 1, "id": "call_2", "type": "function",
                    "function": {"name": "lookup", "arguments": "{\"city\": "}}]),
            json!([{"index": 0, "function": {"arguments": "毒\"}"}}]),
            json!([{"index": 1, "function": {"arguments": "\"北京\"}"}}]),
        ];
        for f in &fragments {
            held.add("0.tool_calls", f);
        }
        held.add(
            "0.logprobs",
            &json!({"content": [{"token": "冰", "logprob": -0.1, "bytes": [1]},
                                                   {"token": "毒", "logprob": -0.2}]}),
        );
        let texts: Vec<(&str, &str)> = held.texts().collect();
        assert_eq!(
            texts,
            [
                ("0.logprobs.content.token", "冰毒"),
                ("0.tool_calls[0].function.arguments", "{\"q\": \"冰毒\"}"),
                ("0.tool_calls[0].function.name", "search"),
                ("0.tool_calls[1].function.arguments", "{\"city\": \"北京\"}"),
                ("0.tool_calls[1].function.name", "lookup"),
            ]
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let cases = [
            ("no escape", None),
            ("{\"q\": \"\\u51b0\\u6bd2\"}", Some("{\"q\": \"冰毒\"}")),
            ("\\ud83d\\ude00!", Some("😀!")),
            ("\\ud83d alone", Some("\u{FFFD} alone")),
            ("bad \\uZZZZ", Some("bad \\uZZZZ")),
            ("cut \\u51", Some("cut \\u51")),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_escapes(input).as_deref(), expected, "{input}");
        }
    }
}
