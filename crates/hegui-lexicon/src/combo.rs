//! Combination rules `a&b[&c…]`: a rule that fires when all its parts occur close together.
//!
//! "Close" is a window with two limits, both on the normalized text (what the automaton sees):
//!
//! - **one sentence**: no sentence end ([`is_sentence_end`]) between the first character of the
//!   earliest part and the last character of the latest part; a part occurrence that itself
//!   spans a sentence end counts for neither sentence;
//! - **`window` characters** ([`ComboWindow`], `[combinations] window` in `lexicon.toml`,
//!   default 20): from the first character of the earliest part to the last character of the
//!   latest part, parts included. Skip characters (punctuation, spaces) do not count, a collapsed
//!   repeat counts once, a gap marker (a run of skip characters longer than `max-gap`) counts one.
//!
//! Parts are found by the same automaton as literal entries, in any order, and may overlap. A hit
//! ends at the part occurrence that completes the set and starts at the earliest part, taking the
//! latest occurrence of every part, so that it is the shortest span ending there. All part
//! matches ending at one position are recorded before any set is tested, so the result does not
//! depend on the order in which the automaton reports them. After a hit, the next hit of the
//! same rule needs every part again, each ending after the previous hit: two complete sets give
//! two hits, and a hit suppressed by an allow phrase does not hide a later one.
//!
//! Why the window: without a distance limit, parts anywhere in one long sentence (clauses
//! joined by commas, or a paragraph without punctuation) fire by coincidence. A bounded window is
//! also what lets the streaming scanner hold back the text of a part only until the combination
//! can no longer complete ([`ComboScan::held_from`]), so that a combination is reported before
//! any of its text is released, at a bounded cost ([`crate::Matcher::holdback_bound`]).
//!
//! The language has no negation (`a&!b`) and no ordering: a rule that needs either is a literal
//! entry or an allow phrase.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::lexicon::MAX_COMBO_PARTS;

/// Original characters that end a sentence for combination rules.
///
/// - full stops `。` (U+3002), `｡` (U+FF61 halfwidth), `︒` (U+FE12 vertical);
/// - exclamation and question marks, full-width, half-width, small and vertical
///   (`！ ! ﹗ ︕ ？ ? ﹖ ︖`) and doubled (`‼ ⁇ ⁈ ⁉`);
/// - semicolons, full-width, half-width, small and vertical (`； ; ﹔ ︔`);
/// - the ellipsis `…` (U+2026);
/// - line breaks: LF, CR, VT, FF, NEL (U+0085), LINE SEPARATOR (U+2028), PARAGRAPH SEPARATOR
///   (U+2029).
///
/// Not sentence ends: commas and colons (`，,、：:`), which join clauses of one sentence, and
/// the ASCII and full-width full stops `.` `．` `﹒`, which are too often something else
/// (`3.5`, `www.example.com`, `f.u.c.k`).
///
/// ```
/// use hegui_lexicon::is_sentence_end;
/// assert!(is_sentence_end('。') && is_sentence_end('?') && is_sentence_end('\n'));
/// assert!(!is_sentence_end('，') && !is_sentence_end('.'));
/// ```
#[inline]
pub fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '。' | '｡'
            | '︒'
            | '！'
            | '!'
            | '﹗'
            | '︕'
            | '？'
            | '?'
            | '﹖'
            | '︖'
            | '‼'
            | '⁇'
            | '⁈'
            | '⁉'
            | '；'
            | ';'
            | '﹔'
            | '︔'
            | '…'
            | '\n'
            | '\r'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The most normalized characters a combination hit may span: the `window` of the
/// `[combinations]` table of `lexicon.toml`, from 1 to [`ComboWindow::MAX`].
///
/// ```
/// use hegui_lexicon::ComboWindow;
/// assert_eq!(ComboWindow::default().chars(), 20);
/// assert_eq!(ComboWindow::new(8).unwrap().chars(), 8);
/// assert!(ComboWindow::new(0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ComboWindow(u16);

impl ComboWindow {
    /// The default: 20 normalized characters, a short clause or two around the parts.
    pub const DEFAULT: ComboWindow = ComboWindow(20);
    /// The largest window. It bounds the text the streaming scanner may hold back.
    pub const MAX: u16 = 200;

    /// A window of `chars` normalized characters.
    pub fn new(chars: u16) -> Result<ComboWindow, ComboWindowError> {
        if (1..=Self::MAX).contains(&chars) {
            Ok(ComboWindow(chars))
        } else {
            Err(ComboWindowError { chars })
        }
    }

    /// The window in normalized characters.
    pub fn chars(self) -> u16 {
        self.0
    }
}

impl Default for ComboWindow {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for ComboWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<u16> for ComboWindow {
    type Error = ComboWindowError;

    fn try_from(chars: u16) -> Result<Self, Self::Error> {
        ComboWindow::new(chars)
    }
}

impl From<ComboWindow> for u16 {
    fn from(window: ComboWindow) -> u16 {
        window.0
    }
}

/// A combination window out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "combination window `{chars}` is out of range: expected 1 to {max} normalized characters",
    max = ComboWindow::MAX
)]
pub struct ComboWindowError {
    chars: u16,
}

/// The `[combinations]` table of `lexicon.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComboOptions {
    /// Most normalized characters from the first character of the earliest part to the last
    /// character of the latest part of an `a&b` hit. Default 20, at most 200.
    pub window: ComboWindow,
}

/// A combination `a&b…` of the built matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ComboInfo {
    /// The rule it reports.
    pub(crate) rule: u32,
    /// One bit per part.
    pub(crate) full: u8,
}

/// The parts of one combination seen in the current sentence.
#[derive(Debug, Clone, Copy)]
struct ComboState {
    combo: u32,
    /// One bit per part seen.
    seen: u8,
    /// Normalized position at which a part was last recorded.
    at: u64,
    /// Normalized end of the last hit: part occurrences ending there or before are used up.
    after: u64,
    /// For each part seen, its latest start: normalized position and original byte offset.
    hs: [u64; MAX_COMBO_PARTS],
    start: [usize; MAX_COMBO_PARTS],
}

/// The combination state of one scan, shared by one-shot and streaming scans.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComboScan {
    states: Vec<ComboState>,
    /// Normalized position of the first character of the current sentence.
    sentence_from: u64,
}

impl ComboScan {
    /// Back to the start of a text (keeps the buffer).
    pub(crate) fn reset(&mut self) {
        self.states.clear();
        self.sentence_from = 0;
    }

    /// Frees the buffer if it holds more than `max` entries.
    pub(crate) fn trim(&mut self, max: usize) {
        if self.states.capacity() > max {
            self.states = Vec::new();
        }
    }

    /// A sentence ended after normalized position `n`: nothing before it combines with what
    /// follows.
    pub(crate) fn end_sentence(&mut self, n: u64) {
        self.states.clear();
        self.sentence_from = n;
    }

    /// Records an occurrence of part `bit` of `combo`, from normalized position `hs` (original
    /// offset `start`) to `n`.
    pub(crate) fn record(&mut self, combo: u32, bit: u8, hs: u64, start: usize, n: u64) {
        if hs < self.sentence_from {
            // It spans a sentence end.
            return;
        }
        let index = match self.states.iter().position(|s| s.combo == combo) {
            Some(index) => index,
            None => {
                self.states.push(ComboState {
                    combo,
                    seen: 0,
                    at: n,
                    after: 0,
                    hs: [0; MAX_COMBO_PARTS],
                    start: [0; MAX_COMBO_PARTS],
                });
                self.states.len() - 1
            }
        };
        let state = &mut self.states[index];
        let b = usize::from(bit);
        if n <= state.after || b >= MAX_COMBO_PARTS {
            return;
        }
        if state.seen & (1 << bit) == 0 || hs > state.hs[b] {
            state.hs[b] = hs;
            state.start[b] = start;
        }
        state.seen |= 1 << bit;
        state.at = n;
    }

    /// Tests the combinations that got a part at normalized position `n` (after every match
    /// ending there was recorded); calls `fire(rule, hs, start)` for each complete set within
    /// `window` characters, whose earliest part starts at `hs` (original offset `start`).
    pub(crate) fn complete(
        &mut self,
        combos: &[ComboInfo],
        window: ComboWindow,
        n: u64,
        mut fire: impl FnMut(u32, u64, usize),
    ) {
        for state in self.states.iter_mut().filter(|s| s.at == n) {
            let Some(info) = combos.get(state.combo as usize) else {
                continue;
            };
            if state.seen != info.full {
                continue;
            }
            let Some((hs, start)) = earliest(state) else {
                continue;
            };
            if n - hs <= u64::from(window.chars()) {
                fire(info.rule, hs, start);
                state.seen = 0;
                state.after = n;
            }
        }
    }

    /// The original offset of the earliest part that may still belong to a hit once more text
    /// arrives (one that starts fewer than `window` characters before `n`): the streaming scanner
    /// releases no text from there on.
    pub(crate) fn held_from(&self, window: ComboWindow, n: u64) -> Option<usize> {
        let window = u64::from(window.chars());
        self.states
            .iter()
            .flat_map(|s| {
                (0..MAX_COMBO_PARTS)
                    .filter(|&b| s.seen & (1 << b) != 0 && n - s.hs[b] < window)
                    .map(|b| s.start[b])
            })
            .min()
    }
}

/// The earliest of the latest starts of the parts seen.
fn earliest(state: &ComboState) -> Option<(u64, usize)> {
    (0..MAX_COMBO_PARTS)
        .filter(|&b| state.seen & (1 << b) != 0)
        .map(|b| (state.hs[b], state.start[b]))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_errors() {
        insta::assert_snapshot!(ComboWindow::new(0).unwrap_err(), @"combination window `0` is out of range: expected 1 to 200 normalized characters");
        assert!(ComboWindow::new(ComboWindow::MAX).is_ok());
        assert!(ComboWindow::new(ComboWindow::MAX + 1).is_err());
    }

    #[test]
    fn completion_does_not_depend_on_match_order() {
        // Parts 0 and 1 both end at position 10; part 1 was also seen earlier at 1..3.
        let combos = [ComboInfo {
            rule: 7,
            full: 0b11,
        }];
        let window = ComboWindow::new(5).unwrap();
        for order in [[0u8, 1], [1, 0]] {
            let mut scan = ComboScan::default();
            scan.record(0, 1, 1, 1, 3);
            let mut fired = Vec::new();
            scan.complete(&combos, window, 3, |r, hs, s| fired.push((r, hs, s)));
            for bit in order {
                let hs = if bit == 0 { 6 } else { 8 };
                scan.record(0, bit, hs, hs as usize, 10);
            }
            scan.complete(&combos, window, 10, |r, hs, s| fired.push((r, hs, s)));
            assert_eq!(fired, vec![(7, 6, 6)], "order {order:?}");
        }
    }
}
