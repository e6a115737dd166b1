//! The scanning core shared by [`Matcher::find_all`] and the streaming [`crate::Scanner`]: it
//! maps each original character, runs the normalization state machine, steps the automaton,
//! and turns automaton matches into hits with spans in the original text.
//!
//! Why it looks the way it does: this loop is the matcher's throughput. Per original character
//! it does one table lookup (an 8 KiB bit set first, for characters that map to themselves),
//! the repeat/gap state machine, one 16-byte ring write and one automaton step; everything
//! else (targets, word boundaries, the allow-list, combinations) runs only when the automaton
//! reports a match or a hit is waiting, out of line. The automaton stepper is a local of the
//! loop that no out-of-line call borrows, so that its state stays in a register: the
//! transition is the loop's critical path. The loop is compiled once per combination of PII
//! detectors and `a&b` rules on or off (const generics), so that a lexicon without them pays
//! nothing for them. [`Matcher::find_all`] reuses one core per thread ([`with_core`]), so that a
//! scan of a short line allocates nothing but its result.
//!
//! The core never keeps a borrowed automaton state between chunks; it keeps the last
//! `max_len - 1` normalized characters in the ring and replays them into a fresh stepper at the
//! start of each chunk, which reaches exactly the state the unsplit scan would be in (an
//! Aho-Corasick state is the longest suffix of the input that is a pattern prefix, always
//! shorter than the longest pattern).

use std::cell::RefCell;

use daachorse::Match;
use daachorse::charwise::iter::{FindOverlappingStepper, FindOverlappingStepperIterator};

use self::ready::Ready;
use super::{Boundary, Hit, INDIRECT, Matcher, PatInfo, Target};
use crate::combo::{ComboScan, is_sentence_end};
use crate::normalize::{Lookup, NormState};
use crate::pii::{Finding, PiiScan};

mod ready;

const CLASS_ASCII_WORD: u8 = 1;
const CLASS_WORD: u8 = 2;

/// Word class of an original character, for the word-boundary rules.
#[inline]
fn class_of(c: char) -> u8 {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            CLASS_ASCII_WORD | CLASS_WORD
        } else {
            0
        }
    } else if matches!(c, '\u{4E00}'..='\u{9FFF}') {
        // CJK Unified Ideographs first: all letters, and what the text mostly is (the general
        // test below searches Unicode tables).
        CLASS_WORD
    } else if matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
    {
        CLASS_ASCII_WORD | CLASS_WORD
    } else if c.is_alphanumeric() {
        CLASS_WORD
    } else {
        0
    }
}

impl Boundary {
    /// Whether a neighbour of class `class` breaks the rule.
    #[inline]
    fn blocked_by(self, class: u8) -> bool {
        match self {
            Boundary::None => false,
            Boundary::Ascii => class & CLASS_ASCII_WORD != 0,
            Boundary::Standalone => class & CLASS_WORD != 0,
        }
    }
}

/// A hit waiting for its right word boundary or for an allow phrase that could still cover it.
#[derive(Debug, Clone, Copy)]
struct Pending {
    hs: u64,
    /// Normalized count at which no allow phrase can still cover the hit.
    final_at: u64,
    start: usize,
    end: usize,
    rule: u32,
    /// Right-boundary rule still to check against the next original character.
    right: Boundary,
}

/// What the target-table path found among the matches at one position, acted on once all of
/// them are recorded.
#[derive(Debug, Default)]
struct Indirect {
    /// Start of the longest allow phrase ending here.
    allow_from: Option<u64>,
    /// Whether a combination part was recorded.
    parts: bool,
}

/// One normalized character in the ring: the character (replayed at the start of the next
/// chunk), the original character before it (for the left word boundary) and its original
/// start offset (the start of a hit that begins there).
#[derive(Debug, Clone, Copy)]
struct Slot {
    ch: char,
    prev: char,
    start: usize,
}

const EMPTY_SLOT: Slot = Slot {
    ch: '\0',
    prev: '\0',
    start: 0,
};

/// Cores with a ring of at most this many slots are kept for reuse by [`with_core`]; larger
/// ones (lexicons with very long patterns) are not worth holding on to per thread.
const REUSE_SLOTS: usize = 4096;

/// Buffers of a reused core that grew beyond this many entries (a text with a flood of hits)
/// are freed rather than kept per thread.
const REUSE_ENTRIES: usize = 1024;

thread_local! {
    static SPARE: RefCell<Option<Core>> = const { RefCell::new(None) };
}

/// Runs `f` with a core at the start of a text, reusing this thread's spare core in place when
/// there is one (its buffers keep their capacity; nothing of the previous scan is read again).
pub(super) fn with_core<R>(m: &Matcher, f: impl FnOnce(&mut Core) -> R) -> R {
    let mut f = Some(f);
    let reused = SPARE.try_with(|spare| {
        // Busy only if `f` itself scanned on this thread; then it gets a core of its own.
        let mut spare = spare.try_borrow_mut().ok()?;
        let f = f.take()?;
        let core = spare.get_or_insert_with(|| Core::new(m));
        core.reset(m);
        let out = f(core);
        if core.ring.len() > REUSE_SLOTS {
            *spare = None;
        } else {
            core.trim();
        }
        Some(out)
    });
    match (reused, f) {
        (Ok(Some(out)), _) => out,
        // The thread is being torn down, or the spare core is in use.
        (_, Some(f)) => f(&mut Core::new(m)),
        (_, None) => unreachable!("`f` is taken only by a scan that returns its result"),
    }
}

/// The scanning state shared by one-shot and streaming scans.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    st: NormState,
    n: u64,
    /// The last normalized characters, indexed by their count modulo the ring size (a power
    /// of two).
    ring: Box<[Slot]>,
    prev_char: char,
    pub(crate) offset: usize,
    pending: Vec<Pending>,
    combos: ComboScan,
    pii: PiiScan,
    findings: Vec<Finding>,
    /// Buffer for characters above the Basic Multilingual Plane that map to several.
    outside: Vec<char>,
    /// Completed hits, handed out by [`Core::take_ready`].
    ready: Ready,
}

impl Core {
    pub(crate) fn new(m: &Matcher) -> Core {
        let size = Self::ring_size(m);
        Core {
            st: NormState::default(),
            n: 0,
            ring: vec![EMPTY_SLOT; size].into_boxed_slice(),
            prev_char: '\0',
            offset: 0,
            pending: Vec::new(),
            combos: ComboScan::default(),
            pii: PiiScan::default(),
            findings: Vec::new(),
            outside: Vec::new(),
            ready: Ready::default(),
        }
    }

    fn ring_size(m: &Matcher) -> usize {
        (m.max_len + 1).next_power_of_two()
    }

    /// Back to the start of a text for matcher `m`. Ring slots are not cleared: a slot is read
    /// only after this scan wrote it.
    fn reset(&mut self, m: &Matcher) {
        let size = Self::ring_size(m);
        if self.ring.len() != size {
            self.ring = vec![EMPTY_SLOT; size].into_boxed_slice();
        }
        self.st = NormState::default();
        self.n = 0;
        self.prev_char = '\0';
        self.offset = 0;
        self.pending.clear();
        self.combos.reset();
        self.pii.reset();
        self.findings.clear();
        self.ready.clear();
    }

    /// Frees buffers that grew large, before the core is kept for reuse.
    fn trim(&mut self) {
        self.ready.trim(REUSE_ENTRIES);
        if self.pending.capacity() > REUSE_ENTRIES {
            self.pending = Vec::new();
        }
        if self.findings.capacity() > REUSE_ENTRIES {
            self.findings = Vec::new();
        }
        self.combos.trim(REUSE_ENTRIES);
        self.pii.trim(REUSE_ENTRIES);
        if self.outside.capacity() > REUSE_ENTRIES {
            self.outside = Vec::new();
        }
    }

    /// Scans the next chunk of original text.
    pub(crate) fn feed(&mut self, m: &Matcher, text: &str) {
        match (m.pii.enabled, !m.combos.is_empty()) {
            (false, false) => self.feed_with::<false, false>(m, text),
            (true, false) => self.feed_with::<true, false>(m, text),
            (false, true) => self.feed_with::<false, true>(m, text),
            (true, true) => self.feed_with::<true, true>(m, text),
        }
    }

    fn feed_with<const PII: bool, const COMBOS: bool>(&mut self, m: &Matcher, text: &str) {
        let base = self.offset;
        let mut stepper = m.pma.find_overlapping_stepper();
        let keep = self.n.min(m.max_len as u64 - 1);
        for i in self.n - keep..self.n {
            stepper.consume(self.slot(i).ch);
        }
        let map = &*m.map;
        let mut prev_char = self.prev_char;
        for (i, c) in text.char_indices() {
            let start = base + i;
            if PII {
                self.pii
                    .step(c, start, start + c.len_utf8(), &mut self.findings);
                if !self.findings.is_empty() {
                    self.ready.push_findings(m, &mut self.findings);
                }
            }
            let left = prev_char;
            prev_char = c;
            let before = self.n;
            let mapped_any = match map.lookup(c) {
                Lookup::One(ch) => {
                    if let Some(ch) = self.st.char(&m.opts, ch) {
                        self.emit::<COMBOS>(m, &mut stepper, ch, start, c, left);
                    }
                    true
                }
                Lookup::Skip => {
                    if let Some(ch) = self.st.skip(&m.opts) {
                        self.emit::<COMBOS>(m, &mut stepper, ch, start, c, left);
                    }
                    false
                }
                Lookup::Many(chars) => {
                    self.emit_all::<COMBOS>(m, &mut stepper, chars, start, c, left);
                    true
                }
                Lookup::Outside => {
                    let mut chars = std::mem::take(&mut self.outside);
                    map.map_outside(c, &mut chars);
                    let any = !chars.is_empty();
                    if any {
                        self.emit_all::<COMBOS>(m, &mut stepper, &chars, start, c, left);
                    } else if let Some(ch) = self.st.skip(&m.opts) {
                        self.emit::<COMBOS>(m, &mut stepper, ch, start, c, left);
                    }
                    self.outside = chars;
                    any
                }
            };
            if !self.pending.is_empty() {
                self.after_char(mapped_any && self.n == before, c, start);
            }
            if COMBOS && is_sentence_end(c) {
                // After the character's own normalized output (if any), so that a part
                // containing it spans the sentence end.
                self.combos.end_sentence(self.n);
            }
        }
        self.prev_char = prev_char;
        self.offset = base + text.len();
    }

    /// Pending hits meet the next original character `c`.
    #[inline(never)]
    fn after_char(&mut self, collapsed: bool, c: char, start: usize) {
        if collapsed {
            let end = start + c.len_utf8();
            // A collapsed repeat of the previous character: it extends a hit that ends just
            // before it (`ass` in `kick ass` ends after both `s`), and is not the right
            // neighbour of that hit.
            for p in &mut self.pending {
                if p.right != Boundary::None && p.end == start {
                    p.end = end;
                }
            }
        } else {
            self.resolve_right(start, Some(class_of(c)));
        }
    }

    /// The hits completed so far, sorted by `(start, end, rule id)` (see [`Ready::take`]).
    pub(crate) fn take_ready(&mut self, m: &Matcher) -> Vec<Hit> {
        self.ready.take(m)
    }

    /// Ends the text: resolves everything still pending.
    pub(crate) fn finish(&mut self, m: &Matcher) {
        if m.pii.enabled {
            self.pii.close(&mut self.findings);
            self.ready.push_findings(m, &mut self.findings);
        }
        if self.pending.is_empty() {
            return;
        }
        self.resolve_right(usize::MAX, None);
        let pending = std::mem::take(&mut self.pending);
        for p in &pending {
            self.ready.push(p.rule, p.start, p.end);
        }
        // Keep the buffer for the next text.
        self.pending = pending;
        self.pending.clear();
    }

    /// Offset before which no future hit can start: text before it may be released.
    pub(crate) fn safe_offset(&self, m: &Matcher) -> usize {
        let mut safe = self.offset;
        let keep = self.n.min(m.max_len as u64 - 1);
        if keep > 0 {
            safe = safe.min(self.slot(self.n - keep).start);
        }
        for p in &self.pending {
            safe = safe.min(p.start);
        }
        if let Some(part) = self.combos.held_from(m.combo_window, self.n) {
            safe = safe.min(part);
        }
        if let Some(t) = self.pii.token_start() {
            safe = safe.min(t);
        }
        safe
    }

    fn resolve_right(&mut self, at: usize, class: Option<u8>) {
        let mut i = 0;
        while i < self.pending.len() {
            let p = &mut self.pending[i];
            if p.right != Boundary::None && p.end <= at {
                let blocked = class.is_some_and(|c| p.right.blocked_by(c));
                if blocked {
                    self.pending.swap_remove(i);
                    continue;
                }
                p.right = Boundary::None;
            }
            i += 1;
        }
        self.flush();
    }

    /// Moves pending hits that can no longer change to `ready`.
    fn flush(&mut self) {
        let n = self.n;
        let mut i = 0;
        while i < self.pending.len() {
            let p = self.pending[i];
            if p.right == Boundary::None && p.final_at <= n {
                self.pending.swap_remove(i);
                self.ready.push(p.rule, p.start, p.end);
            } else {
                i += 1;
            }
        }
    }

    /// Emits the normalized characters of one original character that maps to several.
    /// Inlined, like [`Core::emit`], so that the stepper never has its address taken.
    #[inline(always)]
    fn emit_all<const COMBOS: bool>(
        &mut self,
        m: &Matcher,
        stepper: &mut FindOverlappingStepper<'_, u32>,
        chars: &[char],
        start: usize,
        orig: char,
        left: char,
    ) {
        for &ch in chars {
            if let Some(ch) = self.st.char(&m.opts, ch) {
                self.emit::<COMBOS>(m, stepper, ch, start, orig, left);
            }
        }
    }

    /// Feeds one normalized character, from original character `orig` at byte `start`, to the
    /// ring and the automaton.
    #[inline(always)]
    fn emit<const COMBOS: bool>(
        &mut self,
        m: &Matcher,
        stepper: &mut FindOverlappingStepper<'_, u32>,
        ch: char,
        start: usize,
        orig: char,
        left: char,
    ) {
        *self.slot_mut(self.n) = Slot {
            ch,
            prev: left,
            start,
        };
        self.n += 1;
        stepper.consume(ch);
        let mut matches = stepper.matches();
        if let Some(first) = matches.next() {
            // The iterator, not the stepper, goes out of line: a stepper whose address is
            // taken lives in memory, and its state would make a store-to-load round trip on
            // every character.
            self.matched::<COMBOS>(m, first, matches, start + orig.len_utf8());
        } else if !self.pending.is_empty() {
            self.flush();
        }
    }

    /// The slot of normalized character `i` (the ring's length is a power of two).
    #[inline(always)]
    fn slot(&self, i: u64) -> &Slot {
        &self.ring[i as usize & (self.ring.len() - 1)]
    }

    #[inline(always)]
    fn slot_mut(&mut self, i: u64) -> &mut Slot {
        let mask = self.ring.len() - 1;
        &mut self.ring[i as usize & mask]
    }

    /// The automaton reports matches ending at the current character: turn them into hits,
    /// pending hits, combination parts and allow-list spans.
    #[inline(never)]
    fn matched<const COMBOS: bool>(
        &mut self,
        m: &Matcher,
        first: Match<u32>,
        rest: FindOverlappingStepperIterator<'_, u32>,
        end: usize,
    ) {
        let mut indirect = Indirect::default();
        self.one_match::<COMBOS>(m, first, end, &mut indirect);
        for mt in rest {
            self.one_match::<COMBOS>(m, mt, end, &mut indirect);
        }
        if COMBOS && indirect.parts {
            self.complete_combos(m, end);
        }
        if let Some(from) = indirect.allow_from {
            // An allow phrase [from, n) covers every pending hit that starts at or after `from`:
            // all pending hits end at or before n.
            self.pending.retain(|p| p.hs < from);
        }
        if !self.pending.is_empty() {
            self.flush();
        }
    }

    /// One automaton match. A pattern with [`PatInfo::direct`] set (only rules, no allow phrase
    /// to wait for) needs only its word boundaries; others take the general path.
    #[inline(always)]
    fn one_match<const COMBOS: bool>(
        &mut self,
        m: &Matcher,
        mt: Match<u32>,
        end: usize,
        indirect: &mut Indirect,
    ) {
        let Some(info) = m.pats.get(mt.value() as usize) else {
            return;
        };
        let hs = self.n.saturating_sub(u64::from(info.len));
        let slot = *self.slot(hs);
        if info.direct == INDIRECT {
            self.targets::<COMBOS>(m, info, hs, slot, end, indirect);
            return;
        }
        if info.boundary != Boundary::None && info.boundary.blocked_by(class_of(slot.prev)) {
            return;
        }
        self.direct_hit(info.direct, info.boundary, hs, slot.start, end);
        if info.t_len > 1 {
            // Several rules with the same normalized pattern: the first is inline above.
            let from = info.t_start as usize + 1;
            let to = info.t_start as usize + info.t_len as usize;
            for target in m.targets.get(from..to).unwrap_or(&[]) {
                if let Target::Rule(rule) = *target {
                    self.direct_hit(rule, info.boundary, hs, slot.start, end);
                }
            }
        }
    }

    /// A hit of a [`PatInfo::direct`] pattern whose left boundary holds: final now, or when
    /// its right boundary is known.
    #[inline(always)]
    fn direct_hit(&mut self, rule: u32, right: Boundary, hs: u64, start: usize, end: usize) {
        if right == Boundary::None {
            self.ready.push(rule, start, end);
        } else {
            self.pending.push(Pending {
                hs,
                final_at: self.n,
                start,
                end,
                rule,
                right,
            });
        }
    }

    /// A match of a pattern that is not [`PatInfo::direct`](super::PatInfo): every target it
    /// stands for.
    #[inline(never)]
    fn targets<const COMBOS: bool>(
        &mut self,
        m: &Matcher,
        info: &PatInfo,
        hs: u64,
        slot: Slot,
        end: usize,
        indirect: &mut Indirect,
    ) {
        let from = info.t_start as usize;
        let to = from + info.t_len as usize;
        for target in m.targets.get(from..to).unwrap_or(&[]) {
            match *target {
                Target::Rule(rule) => {
                    if info.boundary != Boundary::None
                        && info.boundary.blocked_by(class_of(slot.prev))
                    {
                        continue;
                    }
                    if !m.has_allow && info.boundary == Boundary::None && info.wait == 0 {
                        // Final at once (no allow phrase can cover it, no right boundary to
                        // wait for): what `flush` would do, without the detour.
                        self.ready.push(rule, slot.start, end);
                        continue;
                    }
                    self.pending.push(Pending {
                        hs,
                        final_at: self.n + u64::from(info.wait),
                        start: slot.start,
                        end,
                        rule,
                        right: info.boundary,
                    });
                }
                Target::Allow => {
                    indirect.allow_from = Some(indirect.allow_from.map_or(hs, |a| a.min(hs)));
                }
                Target::Part { combo, bit } => {
                    if COMBOS {
                        self.combos.record(combo, bit, hs, slot.start, self.n);
                        indirect.parts = true;
                    }
                }
            }
        }
    }

    /// Turns the combinations completed at the current position into pending hits. A hit
    /// waits only until no allow phrase can still cover it: one that covers it starts at or
    /// before its first character and is at most `max_allow_len` characters long.
    fn complete_combos(&mut self, m: &Matcher, end: usize) {
        let n = self.n;
        let wait = m.max_allow_len as u64;
        let pending = &mut self.pending;
        self.combos
            .complete(&m.combos, m.combo_window, n, |rule, hs, start| {
                pending.push(Pending {
                    hs,
                    final_at: (hs + wait).max(n),
                    start,
                    end,
                    rule,
                    right: Boundary::None,
                });
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_fast_path_agrees_with_unicode() {
        for c in '\u{4E00}'..='\u{9FFF}' {
            assert!(c.is_alphanumeric(), "{c:?}");
        }
    }

    #[test]
    fn class_of_neighbours() {
        assert_eq!(class_of('a'), CLASS_ASCII_WORD | CLASS_WORD);
        assert_eq!(class_of('Ｚ'), CLASS_ASCII_WORD | CLASS_WORD);
        assert_eq!(class_of('可'), CLASS_WORD);
        assert_eq!(class_of('é'), CLASS_WORD);
        assert_eq!(class_of('，'), 0);
        assert_eq!(class_of(' '), 0);
    }
}
