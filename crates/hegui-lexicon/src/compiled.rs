//! The compiled form of a matcher: everything [`Matcher::build`] computed (rules, pattern table,
//! serialized automaton), so that a large lexicon loads without parsing TSV, normalizing
//! patterns or building the automaton again.
//!
//! Layout (little-endian): magic `HEGUILEX`, format version `u32`, FNV-1a 64 checksum of the
//! rest, then length-prefixed fields. The automaton is daachorse's own serialization, read back
//! with its checked `deserialize`. Every index is validated on load, so a corrupt file gives an
//! error, never a panic or a wrong match table.

use std::sync::Arc;

use daachorse::charwise::CharwiseDoubleArrayAhoCorasick;

use crate::combo::{ComboInfo, ComboWindow};
use crate::lexicon::{Level, MAX_COMBO_PARTS, PiiOptions, Source};
use crate::matcher::{Boundary, INDIRECT, Matcher, PatInfo, Rule, Target, mark_direct, pii_rules};
use crate::normalize::{CharMap, NormalizeOptions};

const MAGIC: &[u8; 8] = b"HEGUILEX";
/// Version 2 added the combination window.
const FORMAT: u32 = 2;

/// Why a compiled matcher could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid compiled lexicon: {message}")]
pub struct CompiledError {
    message: String,
}

fn bad(message: impl Into<String>) -> CompiledError {
    CompiledError {
        message: message.into(),
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CompiledError> {
        if self.0.len() < n {
            return Err(bad("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, CompiledError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, CompiledError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, CompiledError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn str(&mut self) -> Result<String, CompiledError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("a string is not UTF-8"))
    }
    fn count(&mut self, item_bytes: usize) -> Result<usize, CompiledError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(item_bytes) > self.0.len() {
            return Err(bad("a count exceeds the file size"));
        }
        Ok(n)
    }
}

fn level_from(v: u8) -> Result<Level, CompiledError> {
    match v {
        0 => Ok(Level::Flag),
        1 => Ok(Level::Review),
        2 => Ok(Level::Block),
        _ => Err(bad(format!("unknown level {v}"))),
    }
}

fn level_to(l: Level) -> u8 {
    match l {
        Level::Flag => 0,
        Level::Review => 1,
        Level::Block => 2,
    }
}

impl Matcher {
    /// Serializes the built matcher.
    ///
    /// ```
    /// use hegui_lexicon::{Lexicon, Matcher};
    /// let m = Matcher::build(&Lexicon::sample()).unwrap();
    /// let again = Matcher::from_bytes(&m.to_bytes()).unwrap();
    /// assert_eq!(m.find_all("赌博"), again.find_all("赌博"));
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.str(&self.name);
        w.str(&self.version);
        let o = &self.opts;
        for flag in [
            o.nfkc,
            o.case_fold,
            o.traditional_to_simplified,
            o.digit_variants,
            o.skip,
            o.collapse_repeats,
        ] {
            w.u8(u8::from(flag));
        }
        w.u8(o.max_gap);
        w.u8(o.max_repeat);
        w.u8(u8::from(self.pii.enabled));
        w.u8(level_to(self.pii.level));
        w.u32(self.rules.len() as u32);
        for r in &self.rules {
            w.str(&r.pattern);
            w.str(&r.risk);
            w.u8(level_to(r.level));
            w.str(&r.note);
            match &r.source {
                Some(s) => {
                    w.str(&s.file);
                    w.u32(s.line as u32);
                }
                None => {
                    w.str("");
                    w.u32(0);
                }
            }
        }
        w.u32(self.pats.len() as u32);
        for p in &self.pats {
            w.u32(p.len);
            w.u8(p.boundary as u8);
            w.u32(p.t_start);
            w.u32(p.t_len);
            w.u32(p.wait);
        }
        w.u32(self.targets.len() as u32);
        for t in &self.targets {
            match *t {
                Target::Rule(r) => {
                    w.u8(0);
                    w.u32(r);
                    w.u8(0);
                }
                Target::Allow => {
                    w.u8(1);
                    w.u32(0);
                    w.u8(0);
                }
                Target::Part { combo, bit } => {
                    w.u8(2);
                    w.u32(combo);
                    w.u8(bit);
                }
            }
        }
        w.u32(self.combos.len() as u32);
        for c in &self.combos {
            w.u32(c.rule);
            w.u8(c.full);
        }
        w.u32(u32::from(self.combo_window.chars()));
        w.u32(self.max_len as u32);
        w.u32(self.max_allow_len as u32);
        w.u32(self.skipped_empty as u32);
        let pma = self.pma.serialize();
        w.u64(pma.len() as u64);
        w.0.extend_from_slice(&pma);
        let mut out = Vec::with_capacity(w.0.len() + 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&fnv(&w.0).to_le_bytes());
        out.extend_from_slice(&w.0);
        out
    }

    /// Reads a matcher written by [`Matcher::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Matcher, CompiledError> {
        let mut r = Reader(bytes);
        if r.take(8)
            .map_err(|_| bad("not a compiled lexicon (too short)"))?
            != MAGIC
        {
            return Err(bad("not a compiled lexicon (bad magic)"));
        }
        let format = r.u32()?;
        if format != FORMAT {
            return Err(bad(format!(
                "format version {format}, expected {FORMAT}: build it again from the lexicon"
            )));
        }
        let sum = r.u64()?;
        if fnv(r.0) != sum {
            return Err(bad("checksum mismatch"));
        }
        let name = r.str()?;
        let version = r.str()?;
        let mut flags = [false; 6];
        for f in &mut flags {
            *f = r.u8()? != 0;
        }
        let opts = NormalizeOptions {
            nfkc: flags[0],
            case_fold: flags[1],
            traditional_to_simplified: flags[2],
            digit_variants: flags[3],
            skip: flags[4],
            collapse_repeats: flags[5],
            max_gap: r.u8()?,
            max_repeat: r.u8()?,
        };
        let pii = PiiOptions {
            enabled: r.u8()? != 0,
            level: level_from(r.u8()?)?,
        };
        let n = r.count(14)?;
        let mut rules = Vec::with_capacity(n);
        for id in 0..n {
            let pattern = r.str()?;
            let risk = r.str()?;
            let level = level_from(r.u8()?)?;
            let note = r.str()?;
            let file = r.str()?;
            let line = r.u32()? as usize;
            rules.push(Arc::new(Rule {
                id: id as u32,
                pattern,
                risk,
                level,
                note,
                source: (!file.is_empty()).then_some(Source { file, line }),
            }));
        }
        let n = r.count(17)?;
        let mut pats = Vec::with_capacity(n);
        for _ in 0..n {
            pats.push(PatInfo {
                len: r.u32()?,
                boundary: Boundary::from_u8(r.u8()?),
                t_start: r.u32()?,
                t_len: r.u32()?,
                wait: r.u32()?,
                direct: INDIRECT,
            });
        }
        let n = r.count(6)?;
        let mut targets = Vec::with_capacity(n);
        for _ in 0..n {
            let tag = r.u8()?;
            let a = r.u32()?;
            let b = r.u8()?;
            targets.push(match tag {
                0 => Target::Rule(a),
                1 => Target::Allow,
                2 => Target::Part { combo: a, bit: b },
                _ => return Err(bad(format!("unknown target tag {tag}"))),
            });
        }
        let n = r.count(5)?;
        let mut combos = Vec::with_capacity(n);
        for _ in 0..n {
            combos.push(ComboInfo {
                rule: r.u32()?,
                full: r.u8()?,
            });
        }
        let window = r.u32()?;
        let combo_window = u16::try_from(window)
            .ok()
            .and_then(|chars| ComboWindow::new(chars).ok())
            .ok_or_else(|| bad(format!("combination window {window} out of range")))?;
        let max_len = r.u32()? as usize;
        let max_allow_len = r.u32()? as usize;
        let skipped_empty = r.u32()? as usize;
        let pma_len = r.u64()?;
        let pma_bytes =
            r.take(usize::try_from(pma_len).map_err(|_| bad("automaton too large"))?)?;
        let (pma, _) = CharwiseDoubleArrayAhoCorasick::<u32>::deserialize(pma_bytes)
            .map_err(|e| bad(format!("automaton: {e}")))?;
        // Validate every index the scanner follows.
        if max_len == 0 || max_len > 1 << 20 || max_allow_len > max_len {
            return Err(bad("pattern lengths out of range"));
        }
        for p in &pats {
            let end = u64::from(p.t_start) + u64::from(p.t_len);
            if end > targets.len() as u64
                || p.len as usize > max_len
                || p.len == 0
                || p.wait as usize > max_len
            {
                return Err(bad("pattern table out of range"));
            }
        }
        for t in &targets {
            let ok = match *t {
                Target::Rule(rule) => (rule as usize) < rules.len(),
                Target::Allow => true,
                Target::Part { combo, bit } => {
                    (combo as usize) < combos.len() && usize::from(bit) < MAX_COMBO_PARTS
                }
            };
            if !ok {
                return Err(bad("target table out of range"));
            }
        }
        if combos.iter().any(|c| c.rule as usize >= rules.len()) {
            return Err(bad("combination table out of range"));
        }
        if pma.num_states() == 0 {
            return Err(bad("empty automaton"));
        }
        let has_allow = targets.contains(&Target::Allow);
        mark_direct(&mut pats, &targets, has_allow);
        Ok(Matcher {
            name,
            version,
            opts,
            map: CharMap::shared(opts),
            pma,
            pats,
            targets,
            rules,
            combos,
            combo_window,
            max_len,
            max_allow_len,
            has_allow,
            pii,
            pii_rules: pii_rules(pii.level),
            skipped_empty,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Lexicon, Matcher};

    #[test]
    fn corrupt_input_is_an_error() {
        let bytes = Matcher::build(&Lexicon::sample()).unwrap().to_bytes();
        for cut in [0, 5, 12, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(Matcher::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut flipped = bytes;
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        let err = Matcher::from_bytes(&flipped).unwrap_err();
        insta::assert_snapshot!(err, @"invalid compiled lexicon: checksum mismatch");
    }
}
