//! hegui's integrity code, written in `ReservedCode1`.
//!
//! # Encoding (version 1)
//!
//! ```text
//! ReservedCode1 = "HG1:" ALG ":" KEYID ":" CONTENT ":" SIG
//! ALG     = "sm2" | "ed25519"            (hegui-keys algorithm name)
//! KEYID   = 16 lower-case hex digits      (first 8 bytes of SM3 over the public key)
//! CONTENT = 64 lower-case hex digits      (SM3 of the media content, see below)
//! SIG     = 128 lower-case hex digits     (SM2 r‖s over SM3 with ID 1234567812345678, or Ed25519)
//! ```
//!
//! The signed message is the UTF-8 text
//! `"hegui-label/1\n" CONTENT "\n" Label "\n" ContentProducer "\n" ProduceID`.
//! Annex E values cannot contain a newline, so the message is unambiguous. Only the producer's
//! fields are covered: `ContentPropagator`, `PropagateID` and `ReservedCode2` belong to the
//! platforms that later propagate the file (Labeling Measures art. 6), which may rewrite them
//! without breaking the provider's code. The whole code uses only `0-9a-z:` and so fits the
//! Annex E character set.
//!
//! **Media content** is defined per format by the codec's `content` function: the file's bytes
//! minus every label carrier, fed to SM3 in file order. For container formats this means the
//! chunks, segments or boxes other than the carrier (XMP packets as a whole, `AIGC` chunks, ID3v2
//! tag, Vorbis comment, `moov`, Info update) with their type tags; see each codec's module docs.
//! Because the carrier is excluded, the digest of a file is the same before and after labeling,
//! which is what lets a verifier recompute it. Sources: the field's purpose is ✅ (Annex E), its
//! encoding is ❓ open (labels.md §7 q4), so this format is hegui's own and versioned.

use hegui_keys::{KeyRing, Signature, SigningKey};
use serde::Serialize;
use sm3::Digest as _;

use crate::Label;

/// The prefix of hegui's integrity code.
pub const PREFIX: &str = "HG1:";

/// SM3 over a sequence of byte slices.
pub(crate) struct ContentHasher(sm3::Sm3);

impl ContentHasher {
    pub(crate) fn new() -> ContentHasher {
        ContentHasher(sm3::Sm3::new())
    }
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

fn message(content_hex: &str, label: &Label) -> String {
    format!(
        "hegui-label/1\n{content_hex}\n{}\n{}\n{}",
        label.label, label.content_producer, label.produce_id
    )
}

/// The `ReservedCode1` value for this content digest and label, signed by `key`.
pub(crate) fn code(content: &[u8; 32], label: &Label, key: &SigningKey) -> String {
    let content_hex = hex::encode(content);
    let signature = key.sign(message(&content_hex, label).as_bytes());
    format!(
        "{PREFIX}{}:{}:{content_hex}:{}",
        signature.algorithm,
        signature.key_id,
        hex::encode(&signature.bytes)
    )
}

/// What can be said about a label's integrity code without keys or content: whether there is
/// one. Whether it is good is for [`crate::verify`] alone, so this never says "valid".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignaturePresence {
    /// `ReservedCode1` holds a hegui integrity code (`HG1:…`), not yet checked.
    Present,
    /// `ReservedCode1` is empty.
    Absent,
    /// `ReservedCode1` holds something else (another tool's integrity information), which
    /// hegui cannot check.
    Other,
}

impl SignaturePresence {
    /// Of a label's `ReservedCode1`.
    pub fn of(label: &Label) -> SignaturePresence {
        if label.reserved_code1.starts_with(PREFIX) {
            SignaturePresence::Present
        } else if label.reserved_code1.is_empty() {
            SignaturePresence::Absent
        } else {
            SignaturePresence::Other
        }
    }

    /// One word for tables.
    pub fn word(self) -> &'static str {
        match self {
            SignaturePresence::Present => "present",
            SignaturePresence::Absent => "absent",
            SignaturePresence::Other => "other",
        }
    }
}

/// What was changed, when a signed label no longer matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tamper {
    /// The media content differs from what was signed.
    Content,
    /// The content matches but `Label`, `ContentProducer`, `ProduceID` or the code itself changed.
    Fields,
}

/// The result of verifying a file's label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// A label is present, the content and fields match, and a trusted key signed them.
    Intact {
        /// Id of the key that signed.
        key_id: String,
    },
    /// A signed label is present but the content or fields no longer match.
    Tampered {
        /// What changed.
        what: Tamper,
    },
    /// The label is signed by a key that is not in the key ring.
    UnknownKey {
        /// Id of the key that signed.
        key_id: String,
    },
    /// A label is present without a hegui integrity code.
    Unsigned,
    /// No label was found (possibly stripped).
    Absent,
}

impl Verdict {
    /// Whether the file passes verification.
    pub fn is_intact(&self) -> bool {
        matches!(self, Verdict::Intact { .. })
    }

    /// One word for tables.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Intact { .. } => "intact",
            Verdict::Tampered {
                what: Tamper::Content,
            } => "tampered-content",
            Verdict::Tampered {
                what: Tamper::Fields,
            } => "tampered-fields",
            Verdict::UnknownKey { .. } => "unknown-key",
            Verdict::Unsigned => "unsigned",
            Verdict::Absent => "absent",
        }
    }
}

/// Checks a label's integrity code against the recomputed content digest.
pub(crate) fn check(label: &Label, content: &[u8; 32], keys: &KeyRing) -> Verdict {
    let Some(rest) = label.reserved_code1.strip_prefix(PREFIX) else {
        return Verdict::Unsigned;
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let [algorithm, key_id, content_hex, signature_hex] = parts[..] else {
        return Verdict::Tampered {
            what: Tamper::Fields,
        };
    };
    if content_hex != hex::encode(content) {
        return Verdict::Tampered {
            what: Tamper::Content,
        };
    }
    let Ok(signature) = format!("{algorithm}:{key_id}:{signature_hex}").parse::<Signature>() else {
        return Verdict::Tampered {
            what: Tamper::Fields,
        };
    };
    if keys.get(&signature.key_id).is_none() {
        return Verdict::UnknownKey {
            key_id: signature.key_id,
        };
    }
    match keys.verify(message(content_hex, label).as_bytes(), &signature) {
        Ok(()) => Verdict::Intact {
            key_id: signature.key_id,
        },
        Err(_) => Verdict::Tampered {
            what: Tamper::Fields,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read` reports only whether a code is there; `HG1:` with a broken body is still
    /// "present", for `verify` to judge.
    #[test]
    fn signature_presence_table() {
        let cases = [
            ("", SignaturePresence::Absent),
            ("HG1:sm2:0011223344556677:00:00", SignaturePresence::Present),
            ("HG1:", SignaturePresence::Present),
            (
                r#"{"Type":"TC260PG","AlgID":"sm3"}"#,
                SignaturePresence::Other,
            ),
            ("hg1:sm2", SignaturePresence::Other),
        ];
        for (code, expected) in cases {
            let label = Label {
                reserved_code1: code.into(),
                ..Label::new("P", "1")
            };
            assert_eq!(SignaturePresence::of(&label), expected, "{code}");
        }
    }
}
