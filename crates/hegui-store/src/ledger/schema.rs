//! The typed shape of what a guarded exchange writes into an audit record: its [`Outcome`] and
//! its [`Verdicts`], one [`StageVerdict`] per guard stage with the [`Hit`]s behind it.
//!
//! The record keeps both as text (`outcome`, and `verdicts` as JSON), because that text is what
//! the hash chain covers: typing them changes what can be written, not the canonical encoding,
//! so every ledger written before still verifies. New verdicts carry
//! `"schema": SCHEMA_VERSION`; [`Verdicts::parse`] also reads the schema-1 form (a bare JSON
//! array of stage objects) that earlier versions wrote.

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The version of the verdicts JSON written by this code. 1: a bare array (before the typed
/// schema); 2: `{"schema": 2, "stages": [...]}`.
pub const SCHEMA_VERSION: u32 = 2;

/// How a guarded exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Answered (possibly with flags or review-level hits).
    Ok,
    /// The input guard refused the request; the upstream was not called.
    BlockedInput,
    /// The output guard stopped or replaced the answer.
    BlockedOutput,
    /// The upstream failed, timed out, or answered an error.
    UpstreamError,
    /// The client went away before the answer was complete.
    ClientClosed,
    /// An admission guard refused the request (a suspended end user, a spent rate limit); the
    /// input was not scanned and the upstream not called.
    Refused,
    /// A streamed answer began: the request and the input verdicts, written before the first
    /// byte of the answer leaves, so that the `x-hegui-record-id` a client holds always names a
    /// record. The record with the id [`super::RecordId::completion`] completes it with the
    /// answer and its outcome; a `started` record without one was interrupted (the gateway
    /// stopped mid-stream) or is still streaming.
    Started,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::BlockedInput,
        Outcome::BlockedOutput,
        Outcome::UpstreamError,
        Outcome::ClientClosed,
        Outcome::Refused,
        Outcome::Started,
    ];

    /// The text stored in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::BlockedInput => "blocked_input",
            Outcome::BlockedOutput => "blocked_output",
            Outcome::UpstreamError => "upstream_error",
            Outcome::ClientClosed => "client_closed",
            Outcome::Refused => "refused",
            Outcome::Started => "started",
        }
    }

    /// The outcome a stored text names, if any.
    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl From<Outcome> for String {
    fn from(outcome: Outcome) -> String {
        outcome.as_str().to_owned()
    }
}

/// A guard stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Who asks and whether they may ask now (end-user state, rate limits).
    Admission,
    /// The lexicon over the request's text.
    Input,
    /// The guard model over the request's text.
    Classifier,
    /// The output guard (text) or the labeling of media.
    Output,
}

/// A stage's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Nothing found.
    Clean,
    /// Only `flag`-level hits.
    Flag,
    /// `review`-level hits: passed, marked for human review.
    Review,
    /// Refused or stopped.
    Block,
    /// The stage failed (a classifier that did not answer, failing open).
    Error,
}

/// One pattern that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// The lexicon pattern.
    pub pattern: String,
    /// Its risk code (Appendix A, or a custom code).
    pub risk: String,
    /// Its level: `block`, `review` or `flag`.
    pub level: String,
    /// The matched text as it appeared; absent where the guard never saw it whole (streamed
    /// output held back and not sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// What one guard stage decided, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageVerdict {
    /// The stage.
    pub stage: Stage,
    /// The guard that decided, where a stage has several (`sanctions`, `rate_limit`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
    /// Its decision; absent for media outputs, which are labeled, not scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Decision>,
    /// The hits behind the decision: the first ones found, at most a bound the writer sets
    /// (the gateway keeps 32), so that a request of one word repeated cannot swell a record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hits: Vec<Hit>,
    /// How many hits there were in all, when more than `hits` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit_count: Option<u64>,
    /// The risk code a block is recorded under (classifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// The guard model's categories (classifier).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Why the stage failed (classifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How a failed stage was treated: `open` (passed) or `closed` (blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<String>,
    /// Whether the output got its implicit label (media).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labeled: Option<bool>,
    /// What went wrong while labeling (media); the error code of a refusal (admission).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl StageVerdict {
    /// A stage's decision with its hits and nothing else.
    pub fn new(stage: Stage, verdict: Decision, hits: Vec<Hit>) -> StageVerdict {
        StageVerdict {
            stage,
            guard: None,
            verdict: Some(verdict),
            hits,
            hit_count: None,
            risk: None,
            categories: Vec::new(),
            error: None,
            fail: None,
            labeled: None,
            notes: Vec::new(),
        }
    }

    /// The output stage of a media answer: labeled or not, with notes.
    pub fn labeling(labeled: bool, notes: Vec<String>) -> StageVerdict {
        StageVerdict {
            verdict: None,
            labeled: Some(labeled),
            notes,
            ..StageVerdict::new(Stage::Output, Decision::Clean, Vec::new())
        }
    }

    /// Adds `hits` (of which `found` were found in all) to the ones kept, keeping at most
    /// `keep`; [`StageVerdict::hit_count`] says how many there were when some are left out.
    pub fn add_hits(&mut self, hits: impl IntoIterator<Item = Hit>, found: u64, keep: usize) {
        let before = self.hit_count.unwrap_or(self.hits.len() as u64);
        let room = keep.saturating_sub(self.hits.len());
        self.hits.extend(hits.into_iter().take(room));
        let total = before + found;
        self.hit_count = (total > self.hits.len() as u64).then_some(total);
    }

    /// The number of hits in all, kept or not.
    pub fn total_hits(&self) -> u64 {
        self.hit_count.unwrap_or(self.hits.len() as u64)
    }

    /// The same verdict, attributed to the guard named `guard`.
    pub fn by(mut self, guard: &str) -> StageVerdict {
        self.guard = Some(guard.to_owned());
        self
    }
}

/// Every stage's verdict of one exchange, in the order the stages ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdicts {
    /// [`SCHEMA_VERSION`] when written by this code; 1 for records read in the older form.
    pub schema: u32,
    /// The stages.
    pub stages: Vec<StageVerdict>,
}

impl Verdicts {
    /// Verdicts of the current schema.
    pub fn new(stages: Vec<StageVerdict>) -> Verdicts {
        Verdicts {
            schema: SCHEMA_VERSION,
            stages,
        }
    }

    /// Reads a record's `verdicts` text: the current object form, or the schema-1 array.
    /// An empty text (a record that is not a guarded exchange) has no stages.
    pub fn parse(text: &str) -> Result<Verdicts, StoreError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            Current(Verdicts),
            Array(Vec<StageVerdict>),
        }
        if text.trim().is_empty() {
            return Ok(Verdicts::new(Vec::new()));
        }
        match serde_json::from_str::<Any>(text) {
            Ok(Any::Current(verdicts)) => Ok(verdicts),
            Ok(Any::Array(stages)) => Ok(Verdicts { schema: 1, stages }),
            Err(e) => Err(StoreError::Invalid {
                what: "verdicts",
                reason: e.to_string(),
            }),
        }
    }
}

impl From<&Verdicts> for String {
    fn from(verdicts: &Verdicts) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(verdicts).unwrap_or_default()
    }
}

impl From<Verdicts> for String {
    fn from(verdicts: Verdicts) -> String {
        String::from(&verdicts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip_through_their_text() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
            assert_eq!(
                serde_json::to_string(&outcome).unwrap(),
                format!("\"{}\"", outcome.as_str())
            );
        }
        assert_eq!(Outcome::parse("blocked"), None);
    }

    /// What the gateway wrote before the typed schema, in each of its shapes, still reads.
    #[test]
    fn schema_1_verdicts_still_read() {
        let cases = [
            r#"[{"stage":"input","verdict":"clean","hits":[]}]"#,
            r#"[{"stage":"input","verdict":"block","hits":[{"pattern":"冰毒","risk":"A.1.h","level":"block","text":"冰毒"}]}]"#,
            r#"[{"stage":"input","verdict":"clean","hits":[]},{"stage":"classifier","verdict":"error","error":"timeout","fail":"open"}]"#,
            r#"[{"stage":"input","verdict":"clean","hits":[]},{"stage":"output","verdict":"block","hits":[{"pattern":"冰毒","risk":"A.1.h","level":"block"}]}]"#,
            r#"[{"stage":"input","verdict":"clean","hits":[]},{"stage":"output","labeled":true,"notes":[]}]"#,
            r#"[{"stage":"input","verdict":"clean","hits":[]},{"stage":"classifier","verdict":"block","risk":"A.1.a","categories":["S1"]}]"#,
        ];
        for text in cases {
            let verdicts = Verdicts::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(verdicts.schema, 1, "{text}");
            assert!(!verdicts.stages.is_empty());
        }
        assert!(Verdicts::parse("{not json").is_err());
        assert_eq!(Verdicts::parse("").unwrap().stages, Vec::new());
    }

    #[test]
    fn current_verdicts_round_trip() {
        let verdicts = Verdicts::new(vec![
            StageVerdict::new(
                Stage::Input,
                Decision::Review,
                vec![Hit {
                    pattern: "p".into(),
                    risk: "A.2.a".into(),
                    level: "review".into(),
                    text: Some("P".into()),
                }],
            ),
            StageVerdict::labeling(false, vec!["image 0: format not recognized".into()]),
        ]);
        let text = String::from(&verdicts);
        assert!(text.starts_with(r#"{"schema":2,"stages":["#), "{text}");
        assert_eq!(Verdicts::parse(&text).unwrap(), verdicts);
    }
}
