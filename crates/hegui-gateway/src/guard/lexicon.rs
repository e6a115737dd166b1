//! The feature library (特征库) as guards: over the request's text ([`LexiconInput`]) and over
//! the answer, chunk by chunk, through the streaming scanner's hold-back ([`LexiconOutput`],
//! the state machine in [`super::scan`]). A restricted end user and a minor get no benefit of
//! the doubt: their review-level input is refused.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use hegui_lexicon::{SharedMatcher, Verdict};
use hegui_store::ledger::schema::{Stage, StageVerdict};
use hegui_store::users::UserState;

use super::scan::OutputScan;
use super::{
    Blocked, Caller, InputCheck, InputFinding, InputGuard, OutputGuard, OutputPass, scan_text,
};
use crate::config::UnknownFields;
use crate::wire::answer::{Chunk, ChunkShape};

/// The lexicon over the request's text.
pub(crate) struct LexiconInput {
    matcher: Arc<SharedMatcher>,
}

impl LexiconInput {
    pub(crate) fn new(matcher: Arc<SharedMatcher>) -> LexiconInput {
        LexiconInput { matcher }
    }

    fn scan(&self, caller: &Caller, text: &str) -> InputFinding {
        let scan = scan_text(&self.matcher.load(), text);
        let mut verdict = scan.verdict;
        // A restricted end user and a minor get no benefit of the doubt.
        if (caller.state == UserState::Restricted || caller.minor) && verdict == Verdict::Review {
            verdict = Verdict::Block;
        }
        let blocked = (verdict == Verdict::Block).then(|| {
            scan.first_block
                .clone()
                .or_else(|| scan.first_review.clone())
                .unwrap_or_default()
        });
        InputFinding {
            verdict,
            blocked,
            stage: scan.stage(Stage::Input, verdict, text),
        }
    }
}

impl InputGuard for LexiconInput {
    fn name(&self) -> &'static str {
        "input"
    }

    fn check<'a>(
        &'a self,
        caller: &'a Caller,
        text: &'a str,
        _so_far: &'a InputCheck,
    ) -> BoxFuture<'a, Option<InputFinding>> {
        Box::pin(std::future::ready(Some(self.scan(caller, text))))
    }
}

/// The lexicon over the answer.
pub(crate) struct LexiconOutput {
    matcher: Arc<SharedMatcher>,
    unknown: UnknownFields,
}

impl LexiconOutput {
    pub(crate) fn new(matcher: Arc<SharedMatcher>, unknown: UnknownFields) -> LexiconOutput {
        LexiconOutput { matcher, unknown }
    }
}

impl OutputGuard for LexiconOutput {
    fn name(&self) -> &'static str {
        "output"
    }

    fn open(&self, _caller: &Caller) -> Box<dyn OutputPass> {
        Box::new(OutputScan::new(self.matcher.load(), self.unknown))
    }
}

impl OutputPass for OutputScan {
    fn on_chunk(&mut self, chunk: Chunk) -> Result<Option<Chunk>, Blocked> {
        OutputScan::on_chunk(self, chunk)
    }

    fn finish(&mut self, shape: &ChunkShape) -> Result<Vec<Chunk>, Blocked> {
        OutputScan::finish(self, shape)
    }

    fn verdict(&self) -> Option<StageVerdict> {
        Some(self.stage_verdict())
    }
}
