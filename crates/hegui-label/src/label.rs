//! The implicit label value of GB 45438-2025 Annex E: seven string fields, serialized as
//! `{"AIGC":{…}}` (wrapped) or `{…}` (bare).
//!
//! Facts used here (all from `shared/reference/labels.md` §3, with their confidence):
//! - the seven keys and their order ✅ (Annex E, as reproduced in the TC260 guides);
//! - `Label` is `"1"` (属于), `"2"` (可能) or `"3"` (疑似) ✅ per open-source Annex E copies;
//! - values use printable ASCII without space and backslash, `"` only escaped (Annex E j) ✅
//!   (checked in [`crate::check`], with the rule and its confidence);
//! - first write: `ContentPropagator` = `ContentProducer`, `PropagateID` = `ProduceID` ◐ (note 1);
//! - `Label`, `ContentProducer`, `ProduceID` must be non-empty ◐ (AigcTotal).
//!
//! Parsing is lenient (a verifier must report what it found, see labels.md §5): a numeric
//! `Label` is accepted with a warning, unknown keys are warnings, and [`Label::problems`] lists the
//! rule violations separately. Writing is strict: [`crate::write_label`] refuses a label with
//! problems and always writes the wrapped form with string values in Annex E key order.

use serde::{Deserialize, Serialize};

use crate::LabelError;

/// The seven Annex E keys, in the order Annex E lists them.
pub const KEYS: [&str; 7] = [
    "Label",
    "ContentProducer",
    "ProduceID",
    "ReservedCode1",
    "ContentPropagator",
    "PropagateID",
    "ReservedCode2",
];

/// One implicit label (GB 45438-2025 Annex E).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Generation attribute: `"1"` is AI-generated, `"2"` possibly, `"3"` suspected.
    #[serde(rename = "Label")]
    pub label: String,
    /// The provider's name or code (use the code: Chinese names break the charset).
    #[serde(rename = "ContentProducer")]
    pub content_producer: String,
    /// The provider's unique number for this content (in hegui's gateway: the audit record id).
    #[serde(rename = "ProduceID")]
    pub produce_id: String,
    /// The provider's integrity information; hegui writes its signed integrity code here.
    #[serde(rename = "ReservedCode1")]
    pub reserved_code1: String,
    /// The propagating platform's name or code.
    #[serde(rename = "ContentPropagator")]
    pub content_propagator: String,
    /// The platform's unique number for the content.
    #[serde(rename = "PropagateID")]
    pub propagate_id: String,
    /// The platform's integrity information.
    #[serde(rename = "ReservedCode2")]
    pub reserved_code2: String,
}

/// How a label value was serialized where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// `{"AIGC":{…}}`, the Annex E string.
    Wrapped,
    /// `{…}`, the seven keys without the wrapper.
    Bare,
    /// `Key: value` lines (Markdown front matter).
    Lines,
    /// One XMP property per key (`AIGC:Label="1"`, …), see [`crate::Carrier::XmpFields`].
    Fields,
}

#[derive(Serialize)]
struct Wrapped<'a> {
    #[serde(rename = "AIGC")]
    aigc: &'a Label,
}

impl Label {
    /// A first-write label for AI-generated content (`Label` = `"1"`): the propagator fields
    /// repeat the producer fields, as Annex E note 1 asks.
    pub fn new(producer: impl Into<String>, produce_id: impl Into<String>) -> Label {
        let content_producer = producer.into();
        let produce_id = produce_id.into();
        Label {
            label: "1".into(),
            content_propagator: content_producer.clone(),
            propagate_id: produce_id.clone(),
            content_producer,
            produce_id,
            ..Label::default()
        }
    }

    /// Fills empty propagator fields from the producer fields (the first-write rule).
    #[must_use]
    pub fn first_write(mut self) -> Label {
        if self.content_propagator.is_empty() {
            self.content_propagator = self.content_producer.clone();
        }
        if self.propagate_id.is_empty() {
            self.propagate_id = self.produce_id.clone();
        }
        self
    }

    /// The fields as (Annex E key, value) pairs, in Annex E order.
    pub fn fields(&self) -> [(&'static str, &str); 7] {
        [
            (KEYS[0], &self.label),
            (KEYS[1], &self.content_producer),
            (KEYS[2], &self.produce_id),
            (KEYS[3], &self.reserved_code1),
            (KEYS[4], &self.content_propagator),
            (KEYS[5], &self.propagate_id),
            (KEYS[6], &self.reserved_code2),
        ]
    }

    fn field_mut(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "Label" => &mut self.label,
            "ContentProducer" => &mut self.content_producer,
            "ProduceID" => &mut self.produce_id,
            "ReservedCode1" => &mut self.reserved_code1,
            "ContentPropagator" => &mut self.content_propagator,
            "PropagateID" => &mut self.propagate_id,
            "ReservedCode2" => &mut self.reserved_code2,
            _ => return None,
        })
    }

    /// Every Annex E rule this label breaks (empty when valid): the rules the writer enforces,
    /// from [`crate::check::label`], which also has the producer-code layout warnings.
    pub fn problems(&self) -> Vec<String> {
        crate::check::label(self)
            .into_iter()
            .filter(|warning| warning.rule.is_enforced())
            .map(|warning| format!("`{}` {}", warning.field, warning.message))
            .collect()
    }

    /// Checks the label against the Annex E rules.
    pub fn validate(&self) -> Result<(), LabelError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LabelError::Invalid(problems))
        }
    }

    /// The Annex E string `{"AIGC":{…}}`.
    pub fn to_json_wrapped(&self) -> String {
        serde_json::to_string(&Wrapped { aigc: self }).unwrap_or_default()
    }

    /// The seven keys without the wrapper.
    pub fn to_json_bare(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a wrapped or bare JSON value leniently; returns the label, its form and warnings.
    pub fn parse(text: &str) -> Result<(Label, Form, Vec<String>), LabelError> {
        let value: serde_json::Value = serde_json::from_str(text.trim().trim_end_matches('\0'))
            .map_err(|e| LabelError::Json(e.to_string()))?;
        let (object, form) = match value.get("AIGC") {
            Some(inner @ serde_json::Value::Object(_)) => (inner, Form::Wrapped),
            Some(serde_json::Value::String(s)) => {
                // Some writers double-encode: {"AIGC":"{…}"}.
                let (label, _, mut warnings) = Label::parse(s)?;
                warnings.push("`AIGC` holds a JSON string instead of an object".into());
                return Ok((label, Form::Wrapped, warnings));
            }
            _ => (&value, Form::Bare),
        };
        let Some(object) = object.as_object() else {
            return Err(LabelError::Json("not a JSON object".into()));
        };
        let mut label = Label::default();
        let mut warnings = Vec::new();
        let mut seen = 0;
        for (key, value) in object {
            let Some(slot) = label.field_mut(key) else {
                warnings.push(format!("unknown key `{key}`"));
                continue;
            };
            seen += 1;
            *slot = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => {
                    warnings.push(format!("`{key}` is a number, Annex E wants a string"));
                    n.to_string()
                }
                serde_json::Value::Null => String::new(),
                other => {
                    warnings.push(format!("`{key}` is not a string"));
                    other.to_string()
                }
            };
        }
        if seen == 0 {
            return Err(LabelError::Json("none of the seven Annex E keys".into()));
        }
        Ok((label, form, warnings))
    }

    /// Builds a label from `Key: value` pairs (Markdown front matter).
    pub(crate) fn from_pairs<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Label, Vec<String>), LabelError> {
        let mut label = Label::default();
        let mut warnings = Vec::new();
        let mut seen = 0;
        for (key, value) in pairs {
            match label.field_mut(key) {
                Some(slot) => {
                    *slot = value.to_string();
                    seen += 1;
                }
                None => warnings.push(format!("unknown key `{key}`")),
            }
        }
        if seen == 0 {
            return Err(LabelError::Json("none of the seven Annex E keys".into()));
        }
        Ok((label, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_json_in_annex_e_order() {
        let label = Label::new("001191440300708461136T1XGW3", "rec-42");
        insta::assert_snapshot!(label.to_json_wrapped(), @r#"{"AIGC":{"Label":"1","ContentProducer":"001191440300708461136T1XGW3","ProduceID":"rec-42","ReservedCode1":"","ContentPropagator":"001191440300708461136T1XGW3","PropagateID":"rec-42","ReservedCode2":""}}"#);
        let (back, form, warnings) = Label::parse(&label.to_json_wrapped()).unwrap();
        assert_eq!(
            (back, form, warnings.len()),
            (label.clone(), Form::Wrapped, 0)
        );
        let (back, form, _) = Label::parse(&label.to_json_bare()).unwrap();
        assert_eq!((back, form), (label, Form::Bare));
    }

    #[test]
    fn problems_table() {
        let cases: &[(&str, &str, &str, &[&str])] = &[
            ("1", "P", "1", &[]),
            ("4", "P", "1", &["`Label` is `4`, expected `1`, `2` or `3`"]),
            ("1", "", "1", &["`ContentProducer` is empty"]),
            (
                "1",
                "豆包",
                "1",
                &["`ContentProducer` contains '豆' (U+8C46), outside the Annex E character set"],
            ),
            (
                "1",
                "Minimax Agent",
                "1",
                &["`ContentProducer` contains ' ' (U+0020), outside the Annex E character set"],
            ),
            (
                "1",
                "P",
                "a\\b",
                &["`ProduceID` contains '\\\\' (U+005C), outside the Annex E character set"],
            ),
            ("1", "P", "say\"hi\"", &[]),
        ];
        for (value, producer, id, expected) in cases {
            let label = Label {
                label: (*value).into(),
                content_producer: (*producer).into(),
                produce_id: (*id).into(),
                ..Label::default()
            };
            assert_eq!(label.problems(), *expected, "{value} {producer} {id}");
        }
    }

    #[test]
    fn lenient_parse() {
        let (label, form, warnings) =
            Label::parse(r#"{"Label":1,"ContentProducer":"x","ProduceID":"y","Extra":"z"}"#)
                .unwrap();
        assert_eq!(label.label, "1");
        assert_eq!(form, Form::Bare);
        insta::assert_debug_snapshot!(warnings, @r#"
        [
            "unknown key `Extra`",
            "`Label` is a number, Annex E wants a string",
        ]
        "#);
        assert!(Label::parse("{}").is_err());
        assert!(Label::parse("not json").is_err());
        assert!(Label::parse("[1]").is_err());
    }
}
