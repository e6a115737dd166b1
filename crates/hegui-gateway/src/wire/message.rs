//! A message, in a chat request, a plain answer (`message`) or a streamed one (`delta`): one
//! type for the three, so that the output guards treat a plain answer's message exactly as a
//! stream's deltas.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Texts;
use crate::guard::fields;

/// One message of a chat request, a plain answer's `message`, or a streamed answer's `delta`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a message (an object)")]
pub(crate) struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<Content>,
    /// The thinking of a reasoning model (DeepSeek, vLLM, …), streamed like `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_content: Option<String>,
    /// `name`, `tool_calls`, `tool_call_id`, `refusal`, … as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// A message's `content`: a string, or a list of parts (text, images, audio, files).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Text(String),
    Parts(Vec<Part>),
}

/// One part of a message's `content`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a content part (an object)")]
pub(crate) struct Part {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    /// `image_url`, `input_audio`, `file`, … as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// By hand rather than `#[serde(untagged)]`: an untagged enum's error says only that no variant
/// matched, and loses the path to the part that was wrong (`messages[2].content[1].text`).
impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Content, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, an array of content parts, or null")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Content, E> {
                Ok(Content::Text(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Content, E> {
                Ok(Content::Text(text))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                Ok(Content::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

impl Content {
    /// The text of the content: the string, or each part's `text` and other text fields.
    pub(crate) fn texts(&self, out: &mut Vec<String>) {
        match self {
            Content::Text(text) => out.push(text.clone()),
            Content::Parts(parts) => {
                for part in parts {
                    if let Some(text) = &part.text {
                        out.push(text.clone());
                    }
                    fields::field_strings(&part.rest, &[], out);
                }
            }
        }
    }
}

impl Message {
    /// A message (or delta) of only `content`.
    pub(crate) fn text(content: impl Into<String>) -> Message {
        Message {
            content: Some(Content::Text(content.into())),
            ..Message::default()
        }
    }

    /// The content when it is a string.
    pub(crate) fn content_str(&self) -> Option<&str> {
        match &self.content {
            Some(Content::Text(text)) => Some(text),
            _ => None,
        }
    }
}

/// The fields of a message, in a request or an answer.
const MESSAGE: &[&str] = &[
    "role",
    "content",
    "reasoning_content",
    "name",
    "refusal",
    "tool_calls",
    "tool_call_id",
    "function_call",
    "audio",
    "annotations",
];

impl Message {
    /// Removes the fields the gateway does not know.
    pub(crate) fn drop_unknown(&mut self) -> bool {
        let before = self.rest.len();
        self.rest.retain(|key, _| MESSAGE.contains(&key.as_str()));
        self.rest.len() != before
    }
}

impl Texts for Message {
    /// The content, the reasoning, then every other field's text.
    fn texts(&self, out: &mut Vec<String>) {
        if let Some(content) = &self.content {
            content.texts(out);
        }
        out.extend(self.reasoning_content.iter().cloned());
        fields::field_strings(&self.rest, &[], out);
    }
}
