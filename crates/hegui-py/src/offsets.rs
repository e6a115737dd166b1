//! UTF-8 byte offsets → Python string indices.
//!
//! The matcher reports byte spans in the UTF-8 text; Python indexes a `str` by code point, so
//! `text[hit.start:hit.end]` must use code-point offsets. Conversions walk the text once,
//! forward, for offsets given in nondecreasing order (hits are sorted by start). An ASCII text
//! (as many code points as bytes, which Python knows without a pass) needs no conversion.

/// A forward-only byte → code-point converter over one text.
#[derive(Debug)]
pub struct CodePoints<'a> {
    text: &'a [u8],
    byte: usize,
    chars: usize,
    /// Every byte is a code point: offsets are already string indices.
    ascii: bool,
}

impl<'a> CodePoints<'a> {
    /// A converter positioned at the start of `text`.
    pub fn new(text: &'a str) -> CodePoints<'a> {
        CodePoints {
            text: text.as_bytes(),
            byte: 0,
            chars: 0,
            ascii: false,
        }
    }

    /// A converter for `text` of `chars` code points (Python's `len`): when that is its byte
    /// length, the text is ASCII and offsets pass through without counting.
    pub fn with_len(text: &'a str, chars: usize) -> CodePoints<'a> {
        CodePoints {
            ascii: chars == text.len(),
            ..CodePoints::new(text)
        }
    }

    /// The code-point index of byte offset `byte` (a char boundary). Offsets at or after the
    /// previous call's move the cursor; an earlier one is counted from there without moving it.
    pub fn at(&mut self, byte: usize) -> usize {
        if self.ascii {
            byte
        } else if byte >= self.byte {
            self.chars += count_chars(&self.text[self.byte..byte]);
            self.byte = byte;
            self.chars
        } else {
            self.chars - count_chars(&self.text[byte..self.byte])
        }
    }

    /// The code-point index of `end`, counted from `start` whose index is `start_cp`
    /// (`start <= end`), without moving the cursor.
    pub fn from(&self, start: usize, start_cp: usize, end: usize) -> usize {
        if self.ascii {
            return end;
        }
        start_cp + count_chars(&self.text[start..end])
    }
}

/// Code points in a UTF-8 slice: the bytes that are not continuation bytes (`10xxxxxx`),
/// counted eight at a time (hit offsets in CJK text sit a few hundred bytes in, where a
/// byte-at-a-time count cost more than building the hit).
#[inline]
fn count_chars(bytes: &[u8]) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    let mut continuation = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        // Bit 7 of each byte: set, with bit 6 (shifted up into bit 7) clear.
        continuation += (w & !(w << 1) & HIGH).count_ones() as usize;
    }
    let tail = words.remainder();
    continuation += tail.iter().filter(|&&b| (b as i8) < -0x40).count();
    bytes.len() - continuation
}

#[cfg(test)]
mod tests {
    use super::{CodePoints, count_chars};

    #[test]
    fn counts_match_chars_at_every_length_and_offset() {
        let text = "aé中😀bß\u{20000}c丁ok ۞ 🇨🇳 end";
        for start in 0..=text.len() {
            for end in start..=text.len() {
                let Some(piece) = text.get(start..end) else {
                    continue;
                };
                assert_eq!(
                    count_chars(piece.as_bytes()),
                    piece.chars().count(),
                    "{start}..{end}"
                );
            }
        }
    }

    #[test]
    fn ascii_offsets_pass_through() {
        let mut cp = CodePoints::with_len("hello world", 11);
        assert_eq!(cp.at(6), 6);
        assert_eq!(cp.from(6, 6, 11), 11);
        let text = "中文 ok";
        let mut cp = CodePoints::with_len(text, text.chars().count());
        assert_eq!(cp.at(text.find('o').unwrap()), 3);
    }
}
