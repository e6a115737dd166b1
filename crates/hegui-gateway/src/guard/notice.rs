//! The explicit text label (GB 45438-2025 §5; Labeling Measures art. 4): the configured notice
//! (`label.notice`) before the answer, after it, or both (`label.explicit-text`). In a stream
//! the start notice rides on the first chunk and the end notice is a chunk of its own before the
//! final one; in a plain answer both end up in the message's `content`.

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
