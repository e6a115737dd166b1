//! The explicit text label (GB 45438-2025 §5; Labeling Measures art. 4): the configured notice
//! (`label.notice`) before the answer, after it, or both (`label.explicit-text`). In a stream
//! the start notice rides on the first chunk and the end notice is a chunk of its own before the
//! final one; in a plain answer both end up in the message's `content`.
//!
//! [`UserNotices`] puts the notices an admission guard chose for one caller (the minors
//! guidance, a reminder that the user is talking to an AI) before the answer the same way, and
//! names them in the record's output verdicts (guard `user_notice`, one note per notice).

use std::sync::Arc;

use hegui_store::ledger::schema::{Decision, Stage, StageVerdict};

use super::{Blocked, Caller, OutputGuard, OutputPass};
use crate::config::{ExplicitText, LabelConfig};
use crate::wire::answer::{Chunk, ChunkShape};
use crate::wire::message::{Content, Message};

/// The explicit notice as an output guard.
pub(crate) struct ExplicitNotice {
    notice: String,
    start: bool,
    end: bool,
}

impl ExplicitNotice {
    /// The guard, or `None` when `label.explicit-text = "off"`.
    pub(crate) fn new(config: &LabelConfig) -> Option<ExplicitNotice> {
        let (start, end) = match config.explicit_text {
            ExplicitText::Off => return None,
            ExplicitText::Start => (true, false),
            ExplicitText::End => (false, true),
            ExplicitText::Both => (true, true),
        };
        Some(ExplicitNotice {
            notice: config.notice.clone(),
            start,
            end,
        })
    }
}

impl OutputGuard for ExplicitNotice {
    fn name(&self) -> &'static str {
        "explicit_notice"
    }

    fn open(&self, _caller: &Caller) -> Box<dyn OutputPass> {
        Box::new(NoticePass {
            notice: self.notice.clone(),
            start: self.start,
            end: self.end,
            started: false,
        })
    }
}

struct NoticePass {
    notice: String,
    start: bool,
    end: bool,
    /// The start notice has gone out.
    started: bool,
}

/// Puts `notice` and a line break before the `content` of every choice of `chunk` that has a
/// delta; `false` when it has none.
fn prepend(chunk: &mut Chunk, notice: &str) -> bool {
    let mut done = false;
    for delta in chunk.choices.iter_mut().filter_map(|c| c.delta.as_mut()) {
        let content = delta.content_str().unwrap_or("");
        delta.content = Some(Content::Text(format!("{notice}\n{content}")));
        done = true;
    }
    done
}

impl OutputPass for NoticePass {
    fn on_chunk(&mut self, mut chunk: Chunk) -> Result<Option<Chunk>, Blocked> {
        if self.start && !self.started {
            self.started = prepend(&mut chunk, &self.notice);
        }
        Ok(Some(chunk))
    }

    fn finish(&mut self, shape: &ChunkShape) -> Result<Vec<Chunk>, Blocked> {
        let mut out = Vec::new();
        if self.start && !self.started {
            let mut chunk = shape.make_chunk(0, Message::text(""), None);
            self.started = prepend(&mut chunk, &self.notice);
            out.push(chunk);
        }
        if self.end {
            out.push(shape.make_chunk(0, Message::text(format!("\n{}", self.notice)), None));
        }
        Ok(out)
    }

    fn verdict(&self) -> Option<hegui_store::ledger::schema::StageVerdict> {
        None
    }
}

/// A notice for one caller, chosen at admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserNotice {
    /// What it is, in the record: `minor_guidance`, `reminder_first_use`, `reminder_continuous`.
    pub(crate) kind: &'static str,
    /// The text.
    pub(crate) text: Arc<str>,
}

/// The caller's notices, before the answer.
pub(crate) struct UserNotices;

impl OutputGuard for UserNotices {
    fn name(&self) -> &'static str {
        "user_notice"
    }

    fn open(&self, caller: &Caller) -> Box<dyn OutputPass> {
        let text = caller
            .notices
            .iter()
            .map(|n| &*n.text)
            .collect::<Vec<_>>()
            .join("\n");
        Box::new(UserNoticePass {
            pass: NoticePass {
                notice: text,
                start: !caller.notices.is_empty(),
                end: false,
                started: false,
            },
            kinds: caller.notices.iter().map(|n| n.kind.to_owned()).collect(),
        })
    }
}

struct UserNoticePass {
    pass: NoticePass,
    kinds: Vec<String>,
}

impl OutputPass for UserNoticePass {
    fn on_chunk(&mut self, chunk: Chunk) -> Result<Option<Chunk>, Blocked> {
        self.pass.on_chunk(chunk)
    }

    fn finish(&mut self, shape: &ChunkShape) -> Result<Vec<Chunk>, Blocked> {
        self.pass.finish(shape)
    }

    fn verdict(&self) -> Option<StageVerdict> {
        (!self.kinds.is_empty()).then(|| StageVerdict {
            notes: self.kinds.clone(),
            ..StageVerdict::new(Stage::Output, Decision::Clean, Vec::new()).by("user_notice")
        })
    }
}
