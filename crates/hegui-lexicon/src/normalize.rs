//! Normalization: the one function applied to both lexicon patterns and scanned text.
//!
//! Each original character is mapped, independently of its neighbours, through
//! NFKC (width folding, circled and parenthesised forms) → case folding → traditional→simplified
//! (character table from fast2s, MIT, `data/t2s.txt`) → digit variants (一 → 1, ❶ → 1, 〇 → 0) →
//! skip test (Unicode punctuation, symbols, separators, format and control characters, combining
//! marks, emoji). The mapped characters then pass a small state machine that drops skip
//! characters (but emits a gap marker once a run exceeds `max-gap`) and collapses repeated
//! characters (at most `max-repeat` originals per emitted character, so that hold-back stays
//! bounded). Every emitted character remembers the byte span of the original character it came
//! from, which is how hits are reported in the original text.
//!
//! Mapping is per character, not per string: NFKC compositions across characters (a base letter
//! plus a separate combining accent) are not formed; the combining mark is simply skipped. This
//! keeps the mapping a pure table lookup for the whole Basic Multilingual Plane and makes the
//! streaming scanner trivially equal to the one-shot scan.
//!
//! Use [`NormalizeOptions::normalize`] to see what the matcher sees; you rarely need it otherwise.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The gap marker emitted when a run of skip characters is longer than `max-gap`. A Unicode
/// noncharacter: text containing it is skipped like any other `Cn` code point, and patterns never
/// contain it, so no hit can span a long gap.
pub(crate) const GAP: char = '\u{FDD0}';

/// Which normalization steps run; the `[normalize]` table of `lexicon.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct NormalizeOptions {
    /// NFKC per character: full-width → ASCII, ① → 1, ㊙ → 秘, ﬁ → fi. Default on.
    pub nfkc: bool,
    /// Unicode lower-casing. Default on.
    pub case_fold: bool,
    /// Traditional → simplified characters. Default on.
    pub traditional_to_simplified: bool,
    /// Chinese and decorated digits → ASCII digits (〇零 → 0, 一壹 → 1 …, ❶ ➀ ⓵ → 1). Default on.
    pub digit_variants: bool,
    /// Drop punctuation, symbols, spaces, zero-width and format characters. Default on.
    pub skip: bool,
    /// Longest run of skip characters a hit may span. Default 3.
    pub max_gap: u8,
    /// Collapse repeated characters (赌赌赌博 → 赌博). Default on.
    pub collapse_repeats: bool,
    /// At most this many equal originals fold into one emitted character. Default 8.
    pub max_repeat: u8,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        Self {
            nfkc: true,
            case_fold: true,
            traditional_to_simplified: true,
            digit_variants: true,
            skip: true,
            max_gap: 3,
            collapse_repeats: true,
            max_repeat: 8,
        }
    }
}

/// Text after normalization, with the original byte span of every character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized text (gap markers removed).
    pub text: String,
    /// For each character of `text`, the byte range of the original character it came from.
    pub spans: Vec<(usize, usize)>,
}

impl NormalizeOptions {
    /// Normalizes `text` exactly as the matcher does, without gap markers.
    ///
    /// ```
    /// use hegui_lexicon::NormalizeOptions;
    /// let opts = NormalizeOptions::default();
    /// assert_eq!(opts.normalize("賭\u{200b}博 ＡＢＣ①"), "赌博abc1");
    /// ```
    pub fn normalize(&self, text: &str) -> String {
        self.normalize_with_spans(text).text
    }

    /// Normalizes `text` and keeps each character's original span.
    pub fn normalize_with_spans(&self, text: &str) -> Normalized {
        let map = CharMap::shared(*self);
        let mut state = NormState::default();
        let mut out = Normalized {
            text: String::new(),
            spans: Vec::new(),
        };
        for (start, c) in text.char_indices() {
            let end = start + c.len_utf8();
            map.map(c, |m| {
                if let Some(ch) = state.step(self, m)
                    && ch != GAP
                {
                    out.text.push(ch);
                    out.spans.push((start, end));
                }
            });
        }
        out
    }
}

/// The per-character mapping result fed to [`NormState::step`]: `None` is a skip character.
pub(crate) type MappedChar = Option<char>;

/// The streaming half of normalization: gap counting and repeat collapsing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NormState {
    last: Option<char>,
    repeat: u32,
    gap: u32,
}

impl NormState {
    /// Feeds one mapped character; returns the character to emit, if any (possibly [`GAP`]).
    #[inline]
    pub(crate) fn step(&mut self, opts: &NormalizeOptions, m: MappedChar) -> Option<char> {
        match m {
            None => self.skip(opts),
            Some(c) => self.char(opts, c),
        }
    }

    /// Feeds a skip character.
    #[inline(always)]
    pub(crate) fn skip(&mut self, opts: &NormalizeOptions) -> Option<char> {
        self.gap += 1;
        if self.gap == u32::from(opts.max_gap) + 1 {
            self.last = None;
            Some(GAP)
        } else {
            None
        }
    }

    /// Feeds a mapped (non-skip) character.
    #[inline(always)]
    pub(crate) fn char(&mut self, opts: &NormalizeOptions, c: char) -> Option<char> {
        self.gap = 0;
        if opts.collapse_repeats
            && self.last == Some(c)
            && self.repeat < u32::from(opts.max_repeat.max(1))
        {
            self.repeat += 1;
            return None;
        }
        self.last = Some(c);
        self.repeat = 1;
        Some(c)
    }
}

const SKIP: u32 = 0x11_0000;
const MANY: u32 = 0x20_0000;
const BMP: usize = 0x1_0000;

/// The character mapping as a table over the Basic Multilingual Plane plus a slow path above it.
///
/// Next to the table, one bit per BMP character says whether it maps to itself: for common text
/// (simplified Chinese, lower-case ASCII) the scanner then reads an 8 KiB bit set that stays in
/// the first-level cache instead of the 256 KiB table.
#[derive(Debug)]
pub(crate) struct CharMap {
    opts: NormalizeOptions,
    bmp: Box<[u32; BMP]>,
    same: Box<[u64; BMP / 64]>,
    many: Vec<Box<[char]>>,
}

impl CharMap {
    /// The map for `opts`, built once per option set and shared.
    pub(crate) fn shared(opts: NormalizeOptions) -> std::sync::Arc<CharMap> {
        static CACHE: OnceLock<
            std::sync::Mutex<HashMap<NormalizeOptions, std::sync::Arc<CharMap>>>,
        > = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut guard = match cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard
            .entry(opts)
            .or_insert_with(|| std::sync::Arc::new(CharMap::new(opts)))
            .clone()
    }

    /// Heap bytes of the table.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.bmp.len() * 4
            + self.same.len() * 8
            + self.many.iter().map(|m| m.len() * 4 + 16).sum::<usize>()
    }

    fn new(opts: NormalizeOptions) -> Self {
        let mut bmp: Box<[u32; BMP]> = boxed(SKIP);
        let mut same: Box<[u64; BMP / 64]> = boxed(0);
        let mut many = Vec::new();
        let mut buf = Vec::new();
        for code in 0..BMP as u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            buf.clear();
            map_slow(&opts, c, &mut buf);
            bmp[code as usize] = match buf.as_slice() {
                [] => SKIP,
                [one] => u32::from(*one),
                more => {
                    many.push(more.to_vec().into_boxed_slice());
                    MANY + (many.len() as u32 - 1)
                }
            };
            if bmp[code as usize] == code {
                same[code as usize / 64] |= 1 << (code % 64);
            }
        }
        Self {
            opts,
            bmp,
            same,
            many,
        }
    }

    /// Calls `f` once per mapped character (`None` for a skip character) for original `c`.
    #[inline]
    pub(crate) fn map(&self, c: char, mut f: impl FnMut(MappedChar)) {
        match self.lookup(c) {
            Lookup::Skip => f(None),
            Lookup::One(ch) => f(Some(ch)),
            Lookup::Many(chars) => chars.iter().for_each(|&ch| f(Some(ch))),
            Lookup::Outside => {
                let mut buf = Vec::new();
                self.map_outside(c, &mut buf);
                if buf.is_empty() {
                    f(None);
                }
                buf.into_iter().for_each(|ch| f(Some(ch)));
            }
        }
    }

    /// The mapping of original `c` from the tables; [`Lookup::Outside`] above the Basic
    /// Multilingual Plane, where [`CharMap::map_outside`] computes it.
    #[inline(always)]
    pub(crate) fn lookup(&self, c: char) -> Lookup<'_> {
        let code = u32::from(c) as usize;
        if code >= BMP {
            return Lookup::Outside;
        }
        if self.same[code / 64] & (1 << (code % 64)) != 0 {
            return Lookup::One(c);
        }
        let v = self.bmp[code];
        if v < SKIP {
            // INVARIANT: values below SKIP were stored from a `char`.
            match char::from_u32(v) {
                Some(ch) => Lookup::One(ch),
                None => Lookup::Skip,
            }
        } else if v == SKIP {
            Lookup::Skip
        } else {
            match self.many.get((v - MANY) as usize) {
                Some(chars) => Lookup::Many(chars),
                None => Lookup::Skip,
            }
        }
    }

    /// The mapping of a character above the Basic Multilingual Plane, into `out` (cleared
    /// first; empty for a skip character).
    #[cold]
    pub(crate) fn map_outside(&self, c: char, out: &mut Vec<char>) {
        out.clear();
        map_slow(&self.opts, c, out);
    }
}

/// An array of `N` copies of `v` on the heap (built as a vector: 256 KiB is too much for some
/// threads' stacks).
fn boxed<T: Copy, const N: usize>(v: T) -> Box<[T; N]> {
    match vec![v; N].into_boxed_slice().try_into() {
        Ok(array) => array,
        Err(_) => unreachable!("a vector of N elements converts to an array of N"),
    }
}

/// The table mapping of one original character.
pub(crate) enum Lookup<'a> {
    /// A skip character.
    Skip,
    /// One character.
    One(char),
    /// Several characters.
    Many(&'a [char]),
    /// Above the Basic Multilingual Plane: not in the table.
    Outside,
}

/// The reference mapping of one character, used to fill the table.
fn map_slow(opts: &NormalizeOptions, c: char, out: &mut Vec<char>) {
    let mut stage: Vec<char> = if opts.nfkc {
        std::iter::once(c).nfkc().collect()
    } else {
        vec![c]
    };
    if opts.case_fold {
        stage = stage.into_iter().flat_map(char::to_lowercase).collect();
    }
    for ch in stage {
        let ch = if opts.traditional_to_simplified {
            t2s(ch)
        } else {
            ch
        };
        if opts.digit_variants
            && let Some(digits) = digit_variant(ch)
        {
            out.extend(digits.chars());
            continue;
        }
        if opts.skip && is_skip(ch) {
            continue;
        }
        if ch == GAP || is_noncharacter(ch) {
            continue;
        }
        out.push(ch);
    }
}

fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Traditional → simplified, one character.
pub(crate) fn t2s(c: char) -> char {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    if u32::from(c) < 0x3400 {
        return c;
    }
    let table = TABLE.get_or_init(|| {
        include_str!("../data/t2s.txt")
            .lines()
            .filter_map(|line| {
                let mut chars = line.chars();
                let from = chars.next()?;
                let _space = chars.next()?;
                let to = chars.next()?;
                Some((from, to))
            })
            .collect()
    });
    table.get(&c).copied().unwrap_or(c)
}

/// Digit variants that NFKC leaves alone.
fn digit_variant(c: char) -> Option<&'static str> {
    const DIGITS: [&str; 21] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
        "17", "18", "19", "20",
    ];
    let code = u32::from(c);
    let d = |n: u32| Some(DIGITS[n as usize]);
    match c {
        '〇' | '零' => d(0),
        '一' | '壹' | '幺' => d(1),
        '二' | '贰' => d(2),
        '三' | '叁' => d(3),
        '四' | '肆' => d(4),
        '五' | '伍' => d(5),
        '六' | '陆' => d(6),
        '七' | '柒' => d(7),
        '八' | '捌' => d(8),
        '九' | '玖' => d(9),
        _ => match code {
            0x2776..=0x277F => d(code - 0x2776 + 1),  // ❶ … ❿
            0x2780..=0x2789 => d(code - 0x2780 + 1),  // ➀ … ➉
            0x278A..=0x2793 => d(code - 0x278A + 1),  // ➊ … ➓
            0x24EB..=0x24F4 => d(code - 0x24EB + 11), // ⓫ … ⓴
            0x24F5..=0x24FE => d(code - 0x24F5 + 1),  // ⓵ … ⓾
            0x24FF => d(0),                           // ⓿
            0x3021..=0x3029 => d(code - 0x3021 + 1),  // 〡 … 〩 (Hangzhou numerals)
            _ => None,
        },
    }
}

/// Skip characters: Unicode punctuation (P*), symbols (S*), separators (Z*), control (Cc) and
/// format (Cf) characters, combining marks, variation selectors, emoji and noncharacters, as
/// code-point ranges (an approximation of the general categories that needs no tables).
pub(crate) fn is_skip(c: char) -> bool {
    let code = u32::from(c);
    if code < 0x80 {
        return !c.is_ascii_alphanumeric();
    }
    if c.is_whitespace() || c.is_control() {
        return true;
    }
    matches!(code,
        0xA1..=0xA9 | 0xAB..=0xB1 | 0xB4 | 0xB6..=0xB8 | 0xBB | 0xBF | 0xD7 | 0xF7
        | 0x02C2..=0x02C5 | 0x02D2..=0x02DF | 0x02E5..=0x02EB | 0x02ED | 0x02EF..=0x02FF
        | 0x0300..=0x036F // combining diacritics
        | 0x0483..=0x0489
        | 0x0591..=0x05C7
        | 0x0E3F
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF
        | 0x2000..=0x206F // general punctuation, zero-width, bidi controls
        | 0x20A0..=0x20FF // currency, combining marks for symbols
        | 0x2100..=0x214F // letterlike symbols left after NFKC
        | 0x2190..=0x245F // arrows … OCR
        | 0x2460..=0x24FF // enclosed alphanumerics left after NFKC / digit variants
        | 0x2500..=0x2BFF // box drawing … dingbats … misc symbols and arrows
        | 0x2E00..=0x2E7F // supplemental punctuation
        | 0x2FF0..=0x2FFF // ideographic description
        | 0x3000..=0x3004 | 0x3008..=0x3020 | 0x3030 | 0x3036..=0x3037 | 0x303D..=0x303F
        | 0x30FB
        | 0x3190..=0x319F
        | 0xA490..=0xA4CF
        | 0xD800..=0xDFFF
        | 0xE000..=0xF8FF // private use
        | 0xFD3E..=0xFD3F
        | 0xFDD0..=0xFDEF
        | 0xFE00..=0xFE0F // variation selectors
        | 0xFE10..=0xFE1F | 0xFE20..=0xFE2F | 0xFE30..=0xFE4F | 0xFE50..=0xFE6F
        | 0xFEFF
        | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65
        | 0xFFE0..=0xFFEE | 0xFFF0..=0xFFFF
        | 0x1F000..=0x1FAFF // mahjong, cards, enclosed, emoji, pictographs
        | 0x1FB00..=0x1FBFF
        | 0xE0000..=0xE0FFF // tags, variation selectors supplement
        | 0xF0000..=0x10FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut NormalizeOptions)) -> NormalizeOptions {
        let mut o = NormalizeOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn each_step_on_and_off() {
        let all = NormalizeOptions::default();
        let cases: &[(&str, NormalizeOptions, &str)] = &[
            ("ＡＢＣ１２３", all, "abc123"),
            ("ＡＢＣ１２３", with(|o| o.nfkc = false), "ａｂｃ１２３"),
            ("FuCk", all, "fuck"),
            ("FuCk", with(|o| o.case_fold = false), "FuCk"),
            ("賭博", all, "赌博"),
            (
                "賭博",
                with(|o| o.traditional_to_simplified = false),
                "賭博",
            ),
            ("一夜情", all, "1夜情"),
            ("❶⓶➂", all, "123"),
            ("一夜情", with(|o| o.digit_variants = false), "一夜情"),
            ("赌\u{200b}.博", all, "赌博"),
            ("赌 博", with(|o| o.skip = false), "赌 博"),
            ("赌赌赌博博", all, "赌博"),
            ("赌赌赌博", with(|o| o.collapse_repeats = false), "赌赌赌博"),
            ("㊙密", all, "秘密"),
            ("🎲赌🎲博🎲", all, "赌博"),
            ("s\u{0301}ex", all, "sex"),
        ];
        for (input, opts, want) in cases {
            assert_eq!(opts.normalize(input), *want, "{input:?} with {opts:?}");
        }
    }

    #[test]
    fn spans_point_into_the_original() {
        let n = NormalizeOptions::default().normalize_with_spans("Ａ 賭");
        assert_eq!(n.text, "a赌");
        assert_eq!(n.spans, vec![(0, 3), (4, 7)]);
    }

    #[test]
    fn long_gaps_emit_a_marker() {
        let opts = NormalizeOptions::default();
        let mut st = NormState::default();
        let emitted: Vec<char> = [Some('a'), None, None, None, None, Some('b')]
            .into_iter()
            .filter_map(|m| st.step(&opts, m))
            .collect();
        assert_eq!(emitted, vec!['a', GAP, 'b']);
    }

    #[test]
    fn repeats_are_capped() {
        let opts = with(|o| o.max_repeat = 2);
        assert_eq!(opts.normalize("aaaaa"), "aaa");
    }
}
