//! The requests: a chat request and its messages, and the embeddings, images and speech
//! requests. Typed where the gateway reads (`model`, `user`, `stream`, the messages' `role` and
//! `content`, the media `prompt` / `input`); every other field is kept in `rest`, forwarded as
//! it came and scanned as text (see [`super::Texts`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Texts;
use super::message::Message;
use crate::guard::fields;

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct ChatRequest {
    /// Required: checked by the route, so that its absence gets its own error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    /// Required, like `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) messages: Option<Vec<Message>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    /// The end user, when the client names one in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// `POST /v1/embeddings`, `/v1/images/generations`, `/v1/audio/speech`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct MediaRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    /// The images prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) prompt: Option<String>,
    /// The speech input (a string) or the embeddings input (a string, a list of strings, or
    /// lists of token ids): checked per route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) input: Option<Value>,
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// Only the model: what pass-through reads of any request.
#[derive(Debug, Deserialize)]
pub(crate) struct ModelOnly {
    #[serde(default)]
    pub(crate) model: Option<String>,
}

/// The top-level fields of a chat request the gateway knows.
const CHAT_REQUEST: &[&str] = &[
    "messages",
    "model",
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "metadata",
    "modalities",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// The top-level fields of an embeddings, images or speech request.
const MEDIA_REQUEST: &[&str] = &[
    "model",
    "input",
    "prompt",
    "user",
    "dimensions",
    "encoding_format",
    "n",
    "quality",
    "response_format",
    "size",
    "style",
    "background",
    "moderation",
    "output_compression",
    "output_format",
    "voice",
    "instructions",
    "speed",
    "stream_format",
];

impl ChatRequest {
    /// Removes the fields the gateway does not know, here and in every message; whether any
    /// went.
    pub(crate) fn drop_unknown(&mut self) -> bool {
        let before = self.rest.len();
        self.rest
            .retain(|key, _| CHAT_REQUEST.contains(&key.as_str()));
        let mut changed = self.rest.len() != before;
        for message in self.messages.iter_mut().flatten() {
            changed |= message.drop_unknown();
        }
        changed
    }
}

impl MediaRequest {
    /// Removes the fields the gateway does not know; whether any went.
    pub(crate) fn drop_unknown(&mut self) -> bool {
        let before = self.rest.len();
        self.rest
            .retain(|key, _| MEDIA_REQUEST.contains(&key.as_str()));
        self.rest.len() != before
    }
}

impl Texts for ChatRequest {
    /// Each message's content, then its other fields (a `name`, tool-call arguments,
    /// `reasoning_content`, …), then the request's other fields (tool descriptions,
    /// response-format schemas, a vLLM `prompt` or `documents`, any field the gateway does not
    /// know). `model`, `stream` and `user` are not text.
    fn texts(&self, out: &mut Vec<String>) {
        for message in self.messages.iter().flatten() {
            message.texts(out);
        }
        fields::field_strings(&self.rest, &[], out);
    }
}

impl Texts for MediaRequest {
    /// The prompt or input (for embeddings, every string of a list, nested or not), then every
    /// other field's.
    fn texts(&self, out: &mut Vec<String>) {
        if let Some(prompt) = &self.prompt {
            out.push(prompt.clone());
        }
        if let Some(input) = &self.input {
            fields::strings(input, out);
        }
        fields::field_strings(&self.rest, &[], out);
    }
}
