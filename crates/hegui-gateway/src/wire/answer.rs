//! The answers: a plain chat answer ([`Completion`]) and a streamed one's chunks ([`Chunk`]).
//! The output guards work on chunks; a plain answer goes through them one choice at a time, as
//! a chunk whose `delta` is the choice's message ([`Choice::as_chunk`]).
//!
//! An upstream's answer that does not fit these types (`choices` that is not a list, a `delta`
//! that is not an object, `content` that is neither a string nor parts) is not forwarded: the
//! gateway answers 502 instead, as for any answer it cannot read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::message::Message;

/// One chunk of a streamed chat answer (`chat.completion.chunk`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct Chunk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    /// None in the usage chunk of `stream_options.include_usage`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub(crate) choices: Vec<ChunkChoice>,
    /// The implicit label the gateway adds to the final chunk (GB 45438-2025 §5.1).
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub(crate) aigc: Option<hegui_label::Label>,
    /// `usage`, `system_fingerprint`, `error`, … as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// One choice of a [`Chunk`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a choice (an object)")]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub(crate) index: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delta: Option<Message>,
    /// Serialized as `null` while the choice goes on, as OpenAI does.
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
    /// `logprobs`, a legacy `text`, … as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// A plain chat answer (`chat.completion`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct Completion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) model: Option<String>,
    /// None when the upstream sent none (its text is then in other fields, scanned as such).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) choices: Option<Vec<Choice>>,
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub(crate) aigc: Option<hegui_label::Label>,
    /// `usage`, `system_fingerprint`, … as sent.
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// One choice of a [`Completion`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a choice (an object)")]
pub(crate) struct Choice {
    #[serde(default)]
    pub(crate) index: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<ChoiceMessage>,
    #[serde(default)]
    pub(crate) finish_reason: Option<String>,
    #[serde(flatten)]
    pub(crate) rest: Map<String, Value>,
}

/// A choice's `message`: an object, or (some upstreams) the text alone.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub(crate) enum ChoiceMessage {
    Message(Message),
    Text(String),
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

impl Chunk {
    /// Whether a choice of the chunk ends.
    pub(crate) fn has_finish(&self) -> bool {
        self.choices.iter().any(|c| c.finish_reason.is_some())
    }

    /// Sets the implicit label (replacing a field of that name the upstream may have sent).
    pub(crate) fn set_label(&mut self, label: hegui_label::Label) {
        self.rest.remove("aigc");
        self.aigc = Some(label);
    }
}

impl Completion {
    /// Sets the implicit label (replacing a field of that name the upstream may have sent).
    pub(crate) fn set_label(&mut self, label: hegui_label::Label) {
        self.rest.remove("aigc");
        self.aigc = Some(label);
    }

    /// The answer's own fields as a chunk without choices (for the output guards).
    pub(crate) fn top_chunk(&self) -> Chunk {
        Chunk {
            id: self.id.clone(),
            object: self.object.clone(),
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            aigc: None,
            rest: self.rest.clone(),
        }
    }
}

impl ChoiceMessage {
    /// The message as an object (the text alone is the content of an assistant message).
    pub(crate) fn into_message(self) -> Message {
        match self {
            ChoiceMessage::Message(message) => message,
            ChoiceMessage::Text(text) => Message {
                role: Some("assistant".into()),
                ..Message::text(text)
            },
        }
    }
}

impl Choice {
    /// The choice as the one choice of a chunk with the answer's own fields (`top`): its
    /// message as the `delta`.
    pub(crate) fn as_chunk(&self, top: &Chunk) -> Chunk {
        let choice = ChunkChoice {
            index: self.index,
            delta: self.message.clone().map(ChoiceMessage::into_message),
            finish_reason: self.finish_reason.clone(),
            rest: self.rest.clone(),
        };
        Chunk {
            choices: vec![choice],
            ..top.clone()
        }
    }

    /// The choice replaced by the output notice.
    pub(crate) fn stopped(index: u64, notice: &str) -> Choice {
        Choice {
            index,
            message: Some(ChoiceMessage::Message(Message {
                role: Some("assistant".into()),
                ..Message::text(notice)
            })),
            finish_reason: Some("content_filter".into()),
            rest: Map::new(),
        }
    }
}

/// The `id`, `object`, `created`, `model` of an answer's first chunk, for the chunks the gateway
/// makes itself; and which choices have been seen and finished.
#[derive(Debug, Default)]
pub(crate) struct ChunkShape {
    /// Only fields that are not text: the chunks the gateway makes carry nothing that was not
    /// scanned.
    template: Option<Chunk>,
    /// Choice index → its `finish_reason` has gone out.
    choices: BTreeMap<u64, bool>,
}

impl ChunkShape {
    /// Notes a chunk coming in (its template, the choices it names).
    pub(crate) fn incoming(&mut self, chunk: &Chunk) {
        if self.template.is_none() {
            self.template = Some(Chunk {
                id: chunk.id.clone(),
                object: chunk.object.clone(),
                created: chunk.created,
                model: chunk.model.clone(),
                ..Chunk::default()
            });
        }
        for choice in &chunk.choices {
            self.choices.entry(choice.index).or_insert(false);
        }
    }

    /// Notes a chunk going out: the choices it finishes are done.
    pub(crate) fn outgoing(&mut self, chunk: &Chunk) {
        for choice in &chunk.choices {
            if choice.finish_reason.is_some() {
                self.choices.insert(choice.index, true);
            }
        }
    }

    /// A chunk made by the gateway, with the upstream's `id`, `model` and `created`.
    pub(crate) fn make_chunk(&self, index: u64, delta: Message, finish: Option<&str>) -> Chunk {
        self.chunk_with(vec![ChunkChoice {
            index,
            delta: Some(delta),
            finish_reason: finish.map(str::to_owned),
            rest: Map::new(),
        }])
    }

    /// The final chunk after a block: every choice still open ends with the notice and
    /// `finish_reason: "content_filter"` (choice 0 when none was seen).
    pub(crate) fn stop_chunk(&self, notice: &str) -> Chunk {
        let mut open: Vec<u64> = self
            .choices
            .iter()
            .filter(|(_, finished)| !**finished)
            .map(|(index, _)| *index)
            .collect();
        if open.is_empty() {
            open.push(0);
        }
        self.chunk_with(
            open.into_iter()
                .map(|index| ChunkChoice {
                    index,
                    delta: Some(Message::text(notice)),
                    finish_reason: Some("content_filter".into()),
                    rest: Map::new(),
                })
                .collect(),
        )
    }

    /// A chunk made by the gateway with these `choices`.
    fn chunk_with(&self, choices: Vec<ChunkChoice>) -> Chunk {
        let mut chunk = self.template.clone().unwrap_or_default();
        chunk
            .object
            .get_or_insert_with(|| "chat.completion.chunk".into());
        chunk.choices = choices;
        chunk
    }
}

/// The top-level fields of a chat answer (plain or a chunk) the gateway knows.
const ANSWER: &[&str] = &["system_fingerprint", "service_tier", "usage"];

/// The fields of a choice of a chat answer the gateway knows, besides the typed ones.
const CHOICE: &[&str] = &["logprobs"];

impl Chunk {
    /// Removes the fields the gateway does not know, at every level.
    pub(crate) fn drop_unknown(&mut self) {
        self.rest.retain(|key, _| ANSWER.contains(&key.as_str()));
        for choice in &mut self.choices {
            choice.rest.retain(|key, _| CHOICE.contains(&key.as_str()));
            if let Some(delta) = &mut choice.delta {
                delta.drop_unknown();
            }
        }
    }
}

impl Completion {
    /// Removes the fields the gateway does not know, at every level.
    pub(crate) fn drop_unknown(&mut self) {
        self.rest.retain(|key, _| ANSWER.contains(&key.as_str()));
        for choice in self.choices.iter_mut().flatten() {
            choice.rest.retain(|key, _| CHOICE.contains(&key.as_str()));
            if let Some(ChoiceMessage::Message(message)) = &mut choice.message {
                message.drop_unknown();
            }
        }
    }
}
