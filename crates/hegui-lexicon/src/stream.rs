//! The streaming scanner for model output: feed chunks as they arrive, get back the text that is
//! safe to forward and the hits found so far.
//!
//! Text is released only when no pattern can still complete over it: the scanner keeps the
//! original text of the last `longest pattern - 1` normalized characters, of hits whose
//! allow-list or word-boundary check is still open, of an open PII token, and of `a&b` parts that
//! may still complete a combination (until the combination window has passed or the sentence has
//! ended). The worst case is [`Matcher::holdback_bound`]. A hit, combinations included, split
//! across any chunk boundary is found exactly as in the unsplit text and reported before any of
//! its text is released (a property test checks every split position).

use std::sync::Arc;

use crate::matcher::{Core, Hit, HoldbackBound, Matcher};

/// What one [`Scanner::push`] or [`Scanner::finish`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Original text that may now be forwarded, in order; concatenating every `released` gives
    /// back the whole input.
    pub released: String,
    /// Byte offset of `released` in the whole stream.
    pub released_at: usize,
    /// Hits completed in this step, spans relative to the whole stream, sorted.
    pub hits: Vec<Hit>,
}

/// A streaming scan over one text (one response). Owns an [`Arc<Matcher>`], so it is `'static`
/// and can live in a stream adapter.
///
/// ```
/// use std::sync::Arc;
/// use hegui_lexicon::{Lexicon, Matcher, Scanner};
/// let m = Arc::new(Matcher::build(&Lexicon::sample()).unwrap());
/// let mut s = Scanner::new(m);
/// let a = s.push("这是网上赌");
/// assert!(a.hits.is_empty());
/// assert!(!a.released.contains('赌')); // held back: "赌博" may still complete
/// let b = s.push("博平台");
/// assert_eq!(b.hits[0].rule.pattern, "赌博");
/// let c = s.finish();
/// assert_eq!(format!("{}{}{}", a.released, b.released, c.released), "这是网上赌博平台");
/// ```
#[derive(Debug, Clone)]
pub struct Scanner {
    matcher: Arc<Matcher>,
    core: Core,
    /// Original text not yet released, starting at byte `released`.
    buffer: String,
    released: usize,
    finished: bool,
}

impl Scanner {
    /// A scanner at the start of a text.
    pub fn new(matcher: Arc<Matcher>) -> Scanner {
        let core = Core::new(&matcher);
        Scanner {
            matcher,
            core,
            buffer: String::new(),
            released: 0,
            finished: false,
        }
    }

    /// Feeds the next chunk.
    pub fn push(&mut self, chunk: &str) -> Step {
        if self.finished {
            return Step {
                released: String::new(),
                released_at: self.released,
                hits: Vec::new(),
            };
        }
        self.core.feed(&self.matcher, chunk);
        self.buffer.push_str(chunk);
        let safe = self.core.safe_offset(&self.matcher);
        self.step(safe)
    }

    /// Ends the text: releases everything held back and reports the last hits.
    pub fn finish(&mut self) -> Step {
        if self.finished {
            return Step {
                released: String::new(),
                released_at: self.released,
                hits: Vec::new(),
            };
        }
        self.finished = true;
        self.core.finish(&self.matcher);
        let end = self.core.offset;
        self.step(end)
    }

    fn step(&mut self, safe: usize) -> Step {
        let take = safe.saturating_sub(self.released).min(self.buffer.len());
        let released: String = self.buffer.drain(..take).collect();
        let at = self.released;
        self.released += take;
        let hits = self.core.take_ready(&self.matcher);
        Step {
            released,
            released_at: at,
            hits,
        }
    }

    /// Original text currently held back.
    pub fn held_back(&self) -> &str {
        &self.buffer
    }

    /// The worst-case hold-back (same as [`Matcher::holdback_bound`]).
    pub fn holdback_bound(&self) -> HoldbackBound {
        self.matcher.holdback_bound()
    }

    /// The matcher this scanner uses.
    pub fn matcher(&self) -> &Arc<Matcher> {
        &self.matcher
    }
}
