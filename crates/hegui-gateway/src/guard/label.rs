//! The implicit label (GB 45438-2025 §6; Labeling Measures art. 5): every generated output
//! carries `ContentProducer` (`label.producer`) and `ProduceID` (the audit record id), signed
//! when `label.key-file` is set. Text answers get it as an `aigc` object and `x-aigc-*` headers;
//! images (b64) and audio get it inside the file, without re-encoding, and optionally an explicit
//! caption or Morse cue. Media answers are labeled, not scanned: their stage verdict says whether
//! the label went in, and why not.

use std::sync::Arc;

use base64::Engine as _;
use hegui_keys::SigningKey;
use hegui_store::ledger::schema::StageVerdict;
use serde_json::Value;

use super::Caller;
use crate::config::LabelConfig;

/// Writes implicit (and optional explicit) labels into outputs.
pub(crate) struct Labeler {
    producer: String,
    key: Option<Arc<SigningKey>>,
    explicit_image: bool,
    explicit_audio: bool,
}

/// A labeled audio answer.
pub(crate) struct LabeledAudio {
    pub(crate) bytes: Vec<u8>,
    pub(crate) labeled: bool,
    pub(crate) verdict: StageVerdict,
}

impl Labeler {
    /// The provider's signing key, when `label.key-file` is set.
    pub(crate) fn key(&self) -> Option<&SigningKey> {
        self.key.as_deref()
    }

    pub(crate) fn new(config: &LabelConfig, key: Option<Arc<SigningKey>>) -> Labeler {
        Labeler {
            producer: config.producer.clone(),
            key,
            explicit_image: config.explicit_image,
            explicit_audio: config.explicit_audio,
        }
    }

    /// The implicit label of `caller`'s answer.
    pub(crate) fn label(&self, caller: &Caller) -> hegui_label::Label {
        hegui_label::Label::new(self.producer.clone(), caller.record_id.as_str())
    }

    /// The `ContentProducer` (for the `x-aigc-content-producer` header).
    pub(crate) fn producer(&self) -> &str {
        &self.producer
    }

    /// Labels a speech answer: the Morse cue first (WAV, if configured), then the label.
    pub(crate) fn audio(&self, caller: &Caller, mut audio: Vec<u8>) -> LabeledAudio {
        let mut notes = Vec::new();
        if self.explicit_audio
            && hegui_label::Format::sniff(&audio) == Some(hegui_label::Format::Wav)
        {
            match hegui_label::explicit::add_morse_cue(
                &audio,
                &hegui_label::explicit::Cue::default(),
            ) {
                Ok(cued) => audio = cued,
                Err(e) => notes.push(format!("explicit audio label failed: {e}")),
            }
        }
        let label = self.label(caller);
        let labeled = match hegui_label::Format::sniff(&audio) {
            Some(format) => {
                match hegui_label::write_label(&audio, format, &label, self.key.as_deref()) {
                    Ok(bytes) => {
                        audio = bytes;
                        true
                    }
                    Err(e) => {
                        notes.push(format!("implicit label failed: {e}"));
                        false
                    }
                }
            }
            None => {
                notes.push("audio format not recognized: no implicit label".into());
                false
            }
        };
        LabeledAudio {
            bytes: audio,
            labeled,
            verdict: StageVerdict::labeling(labeled, notes),
        }
    }

    /// Labels every `b64_json` image of an images answer in place (a caption first, if
    /// configured) and adds the `aigc` object. Returns the record's text for the images and the
    /// stage verdict.
    pub(crate) fn images(&self, caller: &Caller, value: &mut Value) -> (String, StageVerdict) {
        let engine = base64::engine::general_purpose::STANDARD;
        let label = self.label(caller);
        let mut notes = Vec::new();
        let mut text = String::new();
        if let Some(items) = value.get_mut("data").and_then(Value::as_array_mut) {
            for (i, item) in items.iter_mut().enumerate() {
                let Some(b64) = item.get("b64_json").and_then(Value::as_str) else {
                    if let Some(url) = item.get("url").and_then(Value::as_str) {
                        notes.push(format!(
                            "image {i} is a URL: not labeled (ask for b64_json)"
                        ));
                        text.push_str(&format!("[image {i} url {url}]\n"));
                    }
                    continue;
                };
                let Ok(mut bytes) = engine.decode(b64) else {
                    notes.push(format!("image {i}: b64_json is not base64"));
                    continue;
                };
                if self.explicit_image {
                    match hegui_label::explicit::caption_image(
                        &bytes,
                        &hegui_label::explicit::Caption::default(),
                    ) {
                        Ok(captioned) => bytes = captioned.image,
                        Err(e) => notes.push(format!("image {i}: caption failed: {e}")),
                    }
                }
                let Some(format) = hegui_label::Format::sniff(&bytes) else {
                    notes.push(format!("image {i}: format not recognized: not labeled"));
                    continue;
                };
                match hegui_label::write_label(&bytes, format, &label, self.key.as_deref()) {
                    Ok(labeled) => {
                        text.push_str(&format!(
                            "[image {i} {} {} bytes, sm3 {}]\n",
                            format.name(),
                            labeled.len(),
                            hex::encode(hegui_keys::sm3(&labeled))
                        ));
                        item["b64_json"] = Value::String(engine.encode(&labeled));
                    }
                    Err(e) => notes.push(format!("image {i}: label failed: {e}")),
                }
            }
        }
        self.attach(value, &label);
        (text, StageVerdict::labeling(true, notes))
    }

    /// Adds the `aigc` object to a JSON answer.
    pub(crate) fn attach(&self, value: &mut Value, label: &hegui_label::Label) {
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "aigc".into(),
                serde_json::to_value(label).unwrap_or_default(),
            );
        }
    }
}
