//! Pattern variants generated at build time: the toneless pinyin of CJK patterns.
//!
//! Users spell a forbidden word in pinyin to get past a character lexicon (`dubo` or `du bo` for
//! 赌博). With `[variants] pinyin = true` in `lexicon.toml`, every pattern (and every part of an
//! `a&b` combination) whose normalized form has at least `pinyin-min-chars` CJK characters also
//! matches its pinyin: syllables without tones, joined (`dubo`). Because the text goes through
//! the same normalization, `du bo`, `DU-BO` and `ｄｕｂｏ` match too, and the variant, being ASCII,
//! obeys the ASCII word-boundary rule (`dubo` does not fire inside `fandubond`).
//!
//! Polyphonic characters (多音字) give one variant per reading, up to `pinyin-max` variants per
//! pattern (the first readings of each character win; the pinyin crate lists the common reading
//! first). Characters without pinyin (non-CJK) are kept as they are. Off by default: short
//! pinyin strings are common in ordinary Latin text, so a provider turns it on deliberately
//! and checks the false positives with `hegui lexicon check`.
//!
//! The readings come from the `pinyin` crate (MIT, data from pinyin-data).

use serde::{Deserialize, Serialize};

/// The `[variants]` table of `lexicon.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct VariantOptions {
    /// Also match the toneless pinyin of CJK patterns. Default off.
    pub pinyin: bool,
    /// Most pinyin variants per pattern (polyphonic characters multiply them). Default 4.
    pub pinyin_max: u8,
    /// Fewest CJK characters a pattern needs to get pinyin variants. Default 2 (one syllable
    /// alone is too common in Latin text).
    pub pinyin_min_chars: u8,
}

impl Default for VariantOptions {
    fn default() -> Self {
        Self {
            pinyin: false,
            pinyin_max: 4,
            pinyin_min_chars: 2,
        }
    }
}

impl VariantOptions {
    /// Pinyin variants of an already normalized pattern, without the pattern itself; empty when
    /// the option is off or the pattern has too few CJK characters.
    ///
    /// ```
    /// use hegui_lexicon::VariantOptions;
    /// let opts = VariantOptions { pinyin: true, ..VariantOptions::default() };
    /// assert_eq!(opts.pinyin_variants("赌博"), ["dubo"]);
    /// assert!(opts.pinyin_variants("赌").is_empty());
    /// assert!(VariantOptions::default().pinyin_variants("赌博").is_empty());
    /// ```
    pub fn pinyin_variants(&self, normalized: &str) -> Vec<String> {
        if !self.pinyin || self.pinyin_max == 0 {
            return Vec::new();
        }
        let max = usize::from(self.pinyin_max);
        let mut cjk = 0;
        let mut readings: Vec<Vec<&'static str>> = Vec::new();
        for c in normalized.chars() {
            match reading_of(c) {
                Some(list) => {
                    cjk += 1;
                    readings.push(list);
                }
                None => readings.push(Vec::new()),
            }
        }
        if cjk < usize::from(self.pinyin_min_chars.max(1)) {
            return Vec::new();
        }
        // Cartesian product in reading order, capped at `max`.
        let mut variants = vec![String::new()];
        for (c, list) in normalized.chars().zip(&readings) {
            if list.is_empty() {
                for v in &mut variants {
                    v.push(c);
                }
                continue;
            }
            let mut next = Vec::with_capacity(max);
            'outer: for reading in list {
                for prefix in &variants {
                    if next.len() == max {
                        break 'outer;
                    }
                    next.push(format!("{prefix}{reading}"));
                }
            }
            variants = next;
        }
        variants.sort();
        variants.dedup();
        variants
    }
}

/// Toneless readings of one character, common reading first, without repeats.
fn reading_of(c: char) -> Option<Vec<&'static str>> {
    use pinyin::ToPinyinMulti as _;
    let multi = c.to_pinyin_multi()?;
    let mut list: Vec<&'static str> = Vec::with_capacity(multi.count());
    for p in multi {
        let plain = p.plain();
        if !plain.is_empty() && !list.contains(&plain) {
            list.push(plain);
        }
    }
    (!list.is_empty()).then_some(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> VariantOptions {
        VariantOptions {
            pinyin: true,
            ..VariantOptions::default()
        }
    }

    #[test]
    fn table() {
        let opts = on();
        for (pattern, expected) in [
            ("赌博", vec!["dubo"]),
            ("海洛因", vec!["haluoyin", "hailuoyin"]),
            ("赌", vec![]),
            ("abc", vec![]),
            ("k粉", vec![]),
            ("冰毒", vec!["bingdu"]),
        ] {
            let mut got = opts.pinyin_variants(pattern);
            got.sort();
            let mut want: Vec<String> = expected.into_iter().map(String::from).collect();
            want.sort();
            // Polyphones may add readings beyond the common one; the common one must be there.
            if want.is_empty() {
                assert!(got.is_empty(), "{pattern}: {got:?}");
            } else {
                assert!(
                    want.iter().any(|w| got.contains(w)),
                    "{pattern}: {got:?} lacks {want:?}"
                );
            }
        }
    }

    #[test]
    fn polyphones_are_capped() {
        let opts = VariantOptions {
            pinyin_max: 3,
            ..on()
        };
        // 还 (hai, huan), 行 (xing, hang, …), 长 (chang, zhang): many combinations.
        let got = opts.pinyin_variants("还行长还行长");
        assert!(!got.is_empty() && got.len() <= 3, "{got:?}");
    }

    #[test]
    fn mixed_patterns_keep_non_cjk_characters() {
        let got = on().pinyin_variants("冰毒2号");
        assert!(got.iter().any(|v| v == "bingdu2hao"), "{got:?}");
    }
}
