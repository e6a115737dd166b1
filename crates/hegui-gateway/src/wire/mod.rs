//! The OpenAI wire format as types: the parts of requests ([`request`]) and answers
//! ([`answer`]) that the gateway reads or edits are fields; everything else a client or an
//! upstream sends is kept in a `rest` map (`#[serde(flatten)]`) and forwarded as it came, so
//! nothing is dropped by being unknown.
//!
//! The types also decide coverage. [`Texts`] gives, for each type, every text it forwards: the
//! typed text fields, and every string of `rest` that is not under a key that names no text
//! (`guard::fields::NOT_TEXT`). A field is therefore scanned whether the gateway knows it or
//! not; `[guard] unknown-fields = "drop"` removes the unknown ones from `rest` instead.
//!
//! A request that does not fit its type is refused with the path of what is wrong
//! (`messages[2].content[0].text`), found by decoding it a second time with
//! `serde_path_to_error` (the first, plain decode is the fast path).

pub(crate) mod answer;
pub(crate) mod message;
pub(crate) mod request;

use serde::de::DeserializeOwned;

/// Every text a value forwards, for the guards and the record.
pub(crate) trait Texts {
    /// Appends each text, in the order the fields are read.
    fn texts(&self, out: &mut Vec<String>);

    /// Every text, one per line.
    fn text(&self) -> String {
        let mut out = Vec::new();
        self.texts(&mut out);
        out.join("\n")
    }
}

/// Why a body does not decode.
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// Where (`messages[0].content`; `.` for the body itself).
    pub(crate) path: String,
    pub(crate) error: serde_json::Error,
}

impl DecodeError {
    /// Whether the body is not JSON at all (rather than JSON of the wrong shape).
    pub(crate) fn is_syntax(&self) -> bool {
        !matches!(self.error.classify(), serde_json::error::Category::Data)
    }
}

/// Decodes `text` as a `T`.
pub(crate) fn decode<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(plain) => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                Err(e) => Err(DecodeError {
                    path: e.path().to_string(),
                    error: e.into_inner(),
                }),
                // Cannot happen (the same decoder on the same text); keep the first error.
                Ok(_) => Err(DecodeError {
                    path: ".".into(),
                    error: plain,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests;
