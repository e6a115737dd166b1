//! The compiled matcher: normalized patterns in one charwise double-array Aho-Corasick automaton
//! (daachorse), plus the per-pattern data needed to turn automaton matches into [`Hit`]s with
//! spans in the original text.
//!
//! One scanning core ([`Core`]) serves both [`Matcher::find_all`] and the streaming
//! [`crate::Scanner`]: a one-shot scan is a stream of one chunk. The core never keeps a borrowed
//! automaton state between chunks; it keeps the last `max_len - 1` normalized characters and
//! replays them into a fresh stepper at the start of each chunk, which reaches exactly the state
//! the unsplit scan would be in (an Aho-Corasick state is the longest suffix of the input that
//! is a pattern prefix, always shorter than the longest pattern).
//!
//! Overlapping hits: every occurrence of every pattern is reported (standard overlapping
//! semantics), then sorted by `(start, end, rule id)`. Nothing is merged or dropped, except hits
//! covered by an allow-list phrase and hits of short patterns that fail their word-boundary rule.

use std::collections::HashMap;
use std::sync::Arc;

use daachorse::charwise::CharwiseDoubleArrayAhoCorasick;
use daachorse::charwise::iter::FindOverlappingStepper;
use serde::Serialize;

use crate::combo::{ComboInfo, ComboScan, ComboWindow, is_sentence_end};
use crate::lexicon::{Level, Lexicon, PiiOptions, Source};
use crate::normalize::{CharMap, GAP, Mapped, NormState, NormalizeOptions};
use crate::pii::{Finding, PiiKind, PiiMatch, PiiScan};

/// A rule a hit refers to: one lexicon entry, or one PII detector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Rule {
    /// Index of the entry in the lexicon; PII detectors use `u32::MAX - kind`.
    pub id: u32,
    /// The pattern as written in the lexicon (`<resident-id>` etc. for PII).
    pub pattern: String,
    /// Risk code (Appendix A or custom).
    pub risk: String,
    /// Level.
    pub level: Level,
    /// Note from the lexicon.
    pub note: String,
    /// Where the entry was defined (`None` for PII detectors).
    #[serde(skip)]
    pub source: Option<Source>,
}

/// One match, with its byte span in the original text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Hit {
    /// Byte offset of the first original character of the match.
    pub start: usize,
    /// Byte offset just after the last original character of the match.
    pub end: usize,
    /// The rule that matched.
    pub rule: Arc<Rule>,
    /// For PII hits, the kind and the masked value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pii: Option<PiiMatch>,
}

impl Hit {
    /// The matched original text (`haystack` must be the scanned text).
    pub fn text<'a>(&self, haystack: &'a str) -> &'a str {
        haystack.get(self.start..self.end).unwrap_or("")
    }

    /// The text to show in a report: the masked value for PII, the matched text otherwise.
    pub fn display_text(&self, haystack: &str) -> String {
        match &self.pii {
            Some(p) => p.masked.clone(),
            None => self.text(haystack).to_string(),
        }
    }

    /// The level of the rule.
    pub fn level(&self) -> Level {
        self.rule.level
    }
}

/// Word-boundary rule of a pattern, decided from its normalized form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// None: CJK words of two or more characters.
    None = 0,
    /// All ASCII letters and digits: the original characters around the hit must not be ASCII
    /// letters or digits (`ass` does not fire in `grass`, `69` not in `695`).
    Ascii = 1,
    /// One non-ASCII character: the characters around it must not be letters or ideographs
    /// (`靠` does not fire in `可靠`).
    Standalone = 2,
}

impl Boundary {
    pub(crate) fn of(normalized: &str) -> Boundary {
        if !normalized.is_empty() && normalized.chars().all(|c| c.is_ascii_alphanumeric()) {
            Boundary::Ascii
        } else if normalized.chars().count() == 1 {
            Boundary::Standalone
        } else {
            Boundary::None
        }
    }

    pub(crate) fn from_u8(v: u8) -> Boundary {
        match v {
            1 => Boundary::Ascii,
            2 => Boundary::Standalone,
            _ => Boundary::None,
        }
    }

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

const CLASS_ASCII_WORD: u8 = 1;
const CLASS_WORD: u8 = 2;

#[inline]
fn class_of(c: char) -> u8 {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            CLASS_ASCII_WORD | CLASS_WORD
        } else {
            0
        }
    } else if matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
    {
        CLASS_ASCII_WORD | CLASS_WORD
    } else if c.is_alphanumeric() {
        CLASS_WORD
    } else {
        0
    }
}

/// What an automaton pattern stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A literal entry (rule index).
    Rule(u32),
    /// An allow-list phrase.
    Allow,
    /// Part `bit` of combination `combo`.
    Part { combo: u32, bit: u8 },
}

/// Per automaton pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PatInfo {
    /// Length in normalized characters.
    pub(crate) len: u32,
    pub(crate) boundary: Boundary,
    pub(crate) t_start: u32,
    pub(crate) t_len: u32,
    /// Normalized characters to wait after a hit of this pattern before it is final: the most
    /// characters any allow phrase containing the pattern extends past it (0 when none does).
    pub(crate) wait: u32,
}

/// Sizes of a built matcher, for `lexicon check` and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MatcherStats {
    /// Rules (lexicon entries).
    pub rules: usize,
    /// Distinct normalized patterns in the automaton (entries, combination parts, allow phrases).
    pub patterns: usize,
    /// Entries skipped because they normalize to nothing.
    pub skipped_empty: usize,
    /// Longest pattern, in normalized characters.
    pub max_pattern_chars: usize,
    /// Automaton states.
    pub states: usize,
    /// Heap bytes of the automaton.
    pub automaton_bytes: usize,
}

/// Why a matcher could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The automaton could not be built (too many states).
    #[error("cannot build the automaton: {0}")]
    Automaton(String),
    /// Too many rules.
    #[error("too many rules: {0} (at most {max})", max = u32::MAX / 2)]
    TooManyRules(usize),
}

/// The compiled feature library: build once, share behind an [`Arc`], scan from many threads.
pub struct Matcher {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) opts: NormalizeOptions,
    pub(crate) map: Arc<CharMap>,
    pub(crate) pma: CharwiseDoubleArrayAhoCorasick<u32>,
    pub(crate) pats: Vec<PatInfo>,
    pub(crate) targets: Vec<Target>,
    pub(crate) rules: Vec<Arc<Rule>>,
    pub(crate) combos: Vec<ComboInfo>,
    pub(crate) combo_window: ComboWindow,
    pub(crate) max_len: usize,
    pub(crate) max_allow_len: usize,
    pub(crate) pii: PiiOptions,
    pub(crate) pii_rules: Vec<Arc<Rule>>,
    pub(crate) skipped_empty: usize,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("options", &self.opts)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A pattern that never occurs in normalized text (noncharacters are skipped), used when a
/// lexicon has no pattern at all, since an automaton needs at least one.
const SENTINEL: &str = "\u{FDD1}";

impl Matcher {
    /// Builds the matcher for a lexicon.
    ///
    /// ```
    /// use hegui_lexicon::{Lexicon, Matcher};
    /// let m = Matcher::build(&Lexicon::sample()).unwrap();
    /// let hits = m.find_all("网上赌\u{200b}博，稳赚不赔");
    /// assert_eq!(hits[0].text("网上赌\u{200b}博，稳赚不赔"), "赌\u{200b}博");
    /// ```
    pub fn build(lexicon: &Lexicon) -> Result<Matcher, BuildError> {
        let opts = lexicon.manifest.normalize;
        let variants = lexicon.manifest.variants;
        if lexicon.entries.len() >= (u32::MAX / 2) as usize {
            return Err(BuildError::TooManyRules(lexicon.entries.len()));
        }
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut strings: Vec<String> = Vec::new();
        let mut lists: Vec<Vec<Target>> = Vec::new();
        let mut add = |norm: String, target: Target| {
            let id = *index.entry(norm.clone()).or_insert_with(|| {
                strings.push(norm);
                lists.push(Vec::new());
                strings.len() - 1
            });
            if !lists[id].contains(&target) {
                lists[id].push(target);
            }
        };
        let mut rules = Vec::with_capacity(lexicon.entries.len());
        let mut combos = Vec::new();
        let mut skipped_empty = 0;
        for (i, entry) in lexicon.entries.iter().enumerate() {
            let id = i as u32;
            rules.push(Arc::new(Rule {
                id,
                pattern: entry.pattern.clone(),
                risk: entry.risk.clone(),
                level: entry.level,
                note: entry.note.clone(),
                source: Some(entry.source.clone()),
            }));
            let parts = entry.parts();
            let norms: Vec<String> = parts.iter().map(|p| opts.normalize(p)).collect();
            if norms.iter().any(String::is_empty) {
                skipped_empty += 1;
                continue;
            }
            if norms.len() == 1 {
                for norm in norms {
                    for variant in variants.pinyin_variants(&norm) {
                        add(opts.normalize(&variant), Target::Rule(id));
                    }
                    add(norm, Target::Rule(id));
                }
            } else {
                let combo = combos.len() as u32;
                combos.push(ComboInfo {
                    rule: id,
                    full: ((1u16 << norms.len()) - 1) as u8,
                });
                for (bit, norm) in norms.into_iter().enumerate() {
                    let target = Target::Part {
                        combo,
                        bit: bit as u8,
                    };
                    for variant in variants.pinyin_variants(&norm) {
                        add(opts.normalize(&variant), target);
                    }
                    add(norm, target);
                }
            }
        }
        for phrase in &lexicon.allow {
            let norm = opts.normalize(&phrase.phrase);
            if !norm.is_empty() {
                add(norm, Target::Allow);
            }
        }
        if strings.is_empty() {
            strings.push(SENTINEL.to_string());
            lists.push(Vec::new());
        }
        let mut pats = Vec::with_capacity(strings.len());
        let mut targets = Vec::new();
        let mut max_len = 1;
        let mut max_allow_len = 0;
        for (s, list) in strings.iter().zip(&lists) {
            let len = s.chars().count();
            max_len = max_len.max(len);
            if list.contains(&Target::Allow) {
                max_allow_len = max_allow_len.max(len);
            }
            pats.push(PatInfo {
                len: len as u32,
                boundary: Boundary::of(s),
                t_start: targets.len() as u32,
                t_len: list.len() as u32,
                wait: 0,
            });
            targets.extend_from_slice(list);
        }
        let pma = CharwiseDoubleArrayAhoCorasick::with_values(
            strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i as u32)),
        )
        .map_err(|e| BuildError::Automaton(e.to_string()))?;
        // How long a hit must wait for an allow phrase that could still cover it.
        for (s, list) in strings.iter().zip(&lists) {
            if !list.contains(&Target::Allow) {
                continue;
            }
            let allow_end = s.len();
            for mt in pma.find_overlapping_iter(s) {
                if let Some(info) = pats.get_mut(mt.value() as usize) {
                    let after = s[mt.end()..allow_end].chars().count() as u32;
                    info.wait = info.wait.max(after);
                }
            }
        }
        Ok(Matcher {
            name: lexicon.manifest.name.clone(),
            version: lexicon.manifest.version.clone(),
            opts,
            map: CharMap::shared(opts),
            pma,
            pats,
            targets,
            rules,
            combos,
            combo_window: lexicon.manifest.combinations.window,
            max_len,
            max_allow_len,
            pii: lexicon.manifest.pii,
            pii_rules: pii_rules(lexicon.manifest.pii.level),
            skipped_empty,
        })
    }

    /// Every hit in `text`, sorted by `(start, end, rule id)`, spans in `text`.
    pub fn find_all(&self, text: &str) -> Vec<Hit> {
        let mut core = Core::new(self);
        core.feed(self, text);
        core.finish(self);
        let mut hits = std::mem::take(&mut core.ready);
        sort_hits(&mut hits);
        hits
    }

    /// Whether `text` has any hit (same as `!find_all(text).is_empty()`).
    pub fn is_match(&self, text: &str) -> bool {
        !self.find_all(text).is_empty()
    }

    /// The normalization options in force.
    pub fn options(&self) -> &NormalizeOptions {
        &self.opts
    }

    /// Name and version from `lexicon.toml`.
    pub fn name_version(&self) -> (&str, &str) {
        (&self.name, &self.version)
    }

    /// All rules, indexed by [`Rule::id`].
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// Sizes.
    pub fn stats(&self) -> MatcherStats {
        MatcherStats {
            rules: self.rules.len(),
            patterns: self.pats.len(),
            skipped_empty: self.skipped_empty,
            max_pattern_chars: self.max_len,
            states: self.pma.num_states(),
            automaton_bytes: self.pma.heap_bytes(),
        }
    }

    /// Approximate heap bytes owned by this matcher: the automaton, the pattern and rule tables
    /// and the shared character table (counted in full).
    pub fn heap_bytes(&self) -> usize {
        let rules: usize = self
            .rules
            .iter()
            .map(|r| {
                std::mem::size_of::<Rule>()
                    + 2 * std::mem::size_of::<usize>()
                    + r.pattern.capacity()
                    + r.risk.capacity()
                    + r.note.capacity()
                    + r.source.as_ref().map_or(0, |s| s.file.capacity())
            })
            .sum();
        self.pma.heap_bytes()
            + self.pats.capacity() * std::mem::size_of::<PatInfo>()
            + self.targets.capacity() * std::mem::size_of::<Target>()
            + self.combos.capacity() * std::mem::size_of::<ComboInfo>()
            + self.rules.capacity() * std::mem::size_of::<Arc<Rule>>()
            + rules
            + self.map.heap_bytes()
    }

    /// The most original text a [`crate::Scanner`] can hold back before releasing it: the longest
    /// pattern or, when the lexicon has `a&b` combinations and the window is longer, the
    /// combination window (a part is held until the window has passed), where each normalized
    /// character may stand for `max-repeat` repeated originals each followed by up to `max-gap`
    /// skip characters; or one open PII token, if that is longer.
    pub fn holdback_bound(&self) -> HoldbackBound {
        let per_char = usize::from(self.opts.max_repeat.max(1))
            * (1 + if self.opts.skip {
                usize::from(self.opts.max_gap)
            } else {
                0
            });
        let span = if self.combos.is_empty() {
            self.max_len
        } else {
            self.max_len.max(usize::from(self.combo_window.chars()))
        };
        let lexicon = span.saturating_sub(1) * per_char
            + if self.opts.skip {
                usize::from(self.opts.max_gap)
            } else {
                0
            };
        let pii = if self.pii.enabled {
            crate::pii::TOKEN_CAP
        } else {
            0
        };
        let chars = lexicon.max(pii);
        HoldbackBound {
            chars,
            bytes: chars * 4,
        }
    }
}

/// Worst-case hold-back of the streaming scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HoldbackBound {
    /// In original characters.
    pub chars: usize,
    /// In bytes (4 per character, the UTF-8 worst case).
    pub bytes: usize,
}

pub(crate) fn pii_rules(level: Level) -> Vec<Arc<Rule>> {
    PiiKind::ALL
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Arc::new(Rule {
                id: u32::MAX - i as u32,
                pattern: format!("<{}>", kind.as_str()),
                risk: "A.4.f".to_string(),
                level,
                note: kind.description().to_string(),
                source: None,
            })
        })
        .collect()
}

pub(crate) fn sort_hits(hits: &mut [Hit]) {
    hits.sort_by_key(|h| (h.start, h.end, h.rule.id));
}

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

/// The scanning state shared by one-shot and streaming scans.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    st: NormState,
    n: u64,
    /// Ring of the last normalized characters (as `u32`), the original character before each
    /// (for the left word boundary) and each one's original start offset. Three zero-initialised
    /// arrays, so that a scan of a short line costs no more than a calloc.
    ring_ch: Vec<u32>,
    ring_prev: Vec<u32>,
    ring_start: Vec<usize>,
    mask: usize,
    prev_char: char,
    pub(crate) offset: usize,
    pending: Vec<Pending>,
    combos: ComboScan,
    pii: PiiScan,
    findings: Vec<Finding>,
    pub(crate) ready: Vec<Hit>,
}

impl Core {
    pub(crate) fn new(m: &Matcher) -> Core {
        let size = (m.max_len + 1).next_power_of_two();
        Core {
            st: NormState::default(),
            n: 0,
            ring_ch: vec![0; size],
            ring_prev: vec![0; size],
            ring_start: vec![0; size],
            mask: size - 1,
            prev_char: '\0',
            offset: 0,
            pending: Vec::new(),
            combos: ComboScan::default(),
            pii: PiiScan::default(),
            findings: Vec::new(),
            ready: Vec::new(),
        }
    }

    /// Scans the next chunk of original text.
    pub(crate) fn feed(&mut self, m: &Matcher, text: &str) {
        let base = self.offset;
        let mut stepper = m.pma.find_overlapping_stepper();
        let keep = self.n.min(m.max_len as u64 - 1);
        for i in self.n - keep..self.n {
            let ch = char::from_u32(self.ring_ch[i as usize & self.mask]).unwrap_or(GAP);
            stepper.consume(ch);
        }
        let pii_on = m.pii.enabled;
        let combos_on = !m.combos.is_empty();
        for (i, c) in text.char_indices() {
            let start = base + i;
            let end = start + c.len_utf8();
            if pii_on {
                self.pii.step(c, start, end, &mut self.findings);
                if !self.findings.is_empty() {
                    self.take_findings(m);
                }
            }
            let left = self.prev_char;
            let before = self.n;
            let mut mapped_any = false;
            match m.map.get(c) {
                Mapped::One(ch) => {
                    mapped_any = true;
                    if let Some(ch) = self.st.step(&m.opts, Some(ch)) {
                        self.emit(m, &mut stepper, ch, start, end, left);
                    }
                }
                Mapped::Skip => {
                    if let Some(ch) = self.st.step(&m.opts, None) {
                        self.emit(m, &mut stepper, ch, start, end, left);
                    }
                }
                Mapped::Many(chars) => {
                    for &ch in chars {
                        mapped_any = true;
                        if let Some(ch) = self.st.step(&m.opts, Some(ch)) {
                            self.emit(m, &mut stepper, ch, start, end, left);
                        }
                    }
                }
                Mapped::Owned(chars) => {
                    for ch in chars {
                        mapped_any = true;
                        if let Some(ch) = self.st.step(&m.opts, Some(ch)) {
                            self.emit(m, &mut stepper, ch, start, end, left);
                        }
                    }
                }
            }
            if !self.pending.is_empty() {
                if mapped_any && self.n == before {
                    // A collapsed repeat of the previous character: it extends a hit that ends
                    // just before it (`ass` in `kick ass` ends after both `s`), and is not the
                    // right neighbour of that hit.
                    for p in &mut self.pending {
                        if p.right != Boundary::None && p.end == start {
                            p.end = end;
                        }
                    }
                } else {
                    self.resolve_right(m, start, Some(class_of(c)));
                }
            }
            if combos_on && is_sentence_end(c) {
                // After the character's own normalized output (if any), so that a part
                // containing it spans the sentence end.
                self.combos.end_sentence(self.n);
            }
            self.prev_char = c;
        }
        self.offset = base + text.len();
    }

    /// Ends the text: resolves everything still pending.
    pub(crate) fn finish(&mut self, m: &Matcher) {
        if m.pii.enabled {
            self.pii.close(&mut self.findings);
            self.take_findings(m);
        }
        self.resolve_right(m, usize::MAX, None);
        let pending = std::mem::take(&mut self.pending);
        for p in pending {
            self.push_ready(m, &p);
        }
    }

    /// Offset before which no future hit can start: text before it may be released.
    pub(crate) fn safe_offset(&self, m: &Matcher) -> usize {
        let mut safe = self.offset;
        let keep = self.n.min(m.max_len as u64 - 1);
        if keep > 0 {
            safe = safe.min(self.ring_start[(self.n - keep) as usize & self.mask]);
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

    fn take_findings(&mut self, m: &Matcher) {
        for (kind, start, end, masked) in self.findings.drain(..) {
            let rule = m.pii_rules[kind as usize].clone();
            self.ready.push(Hit {
                start,
                end,
                rule,
                pii: Some(PiiMatch { kind, masked }),
            });
        }
    }

    fn resolve_right(&mut self, m: &Matcher, at: usize, class: Option<u8>) {
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
        self.flush(m);
    }

    /// Moves pending hits that can no longer change to `ready`.
    fn flush(&mut self, m: &Matcher) {
        let n = self.n;
        let mut i = 0;
        while i < self.pending.len() {
            let p = self.pending[i];
            if p.right == Boundary::None && p.final_at <= n {
                self.pending.swap_remove(i);
                self.push_ready(m, &p);
            } else {
                i += 1;
            }
        }
    }

    fn push_ready(&mut self, m: &Matcher, p: &Pending) {
        if let Some(rule) = m.rules.get(p.rule as usize) {
            self.ready.push(Hit {
                start: p.start,
                end: p.end,
                rule: rule.clone(),
                pii: None,
            });
        }
    }

    #[inline]
    fn emit(
        &mut self,
        m: &Matcher,
        stepper: &mut FindOverlappingStepper<'_, u32>,
        ch: char,
        start: usize,
        end: usize,
        left: char,
    ) {
        let at = self.n as usize & self.mask;
        self.ring_ch[at] = u32::from(ch);
        self.ring_prev[at] = u32::from(left);
        self.ring_start[at] = start;
        self.n += 1;
        stepper.consume(ch);
        let mut allow_from: Option<u64> = None;
        let mut parts = false;
        for mt in stepper.matches() {
            let Some(info) = m.pats.get(mt.value() as usize) else {
                continue;
            };
            let hs = self.n.saturating_sub(u64::from(info.len));
            let slot_at = hs as usize & self.mask;
            let slot_start = self.ring_start[slot_at];
            let from = info.t_start as usize;
            let to = from + info.t_len as usize;
            for target in m.targets.get(from..to).unwrap_or(&[]) {
                match *target {
                    Target::Rule(rule) => {
                        if info.boundary != Boundary::None {
                            let left = char::from_u32(self.ring_prev[slot_at]).unwrap_or('\0');
                            if info.boundary.blocked_by(class_of(left)) {
                                continue;
                            }
                        }
                        self.pending.push(Pending {
                            hs,
                            final_at: self.n + u64::from(info.wait),
                            start: slot_start,
                            end,
                            rule,
                            right: info.boundary,
                        });
                    }
                    Target::Allow => {
                        allow_from = Some(allow_from.map_or(hs, |a| a.min(hs)));
                    }
                    Target::Part { combo, bit } => {
                        self.combos.record(combo, bit, hs, slot_start, self.n);
                        parts = true;
                    }
                }
            }
        }
        if parts {
            self.complete_combos(m, end);
        }
        if let Some(from) = allow_from {
            // An allow phrase [from, n) covers every pending hit that starts at or after `from`:
            // all pending hits end at or before n.
            self.pending.retain(|p| p.hs < from);
        }
        if !self.pending.is_empty() {
            self.flush(m);
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

    fn matcher(tsv: &str, allow: Option<&str>) -> Matcher {
        let lex =
            Lexicon::from_sources("name = \"t\"\nversion = \"1\"\n", &[("t.tsv", tsv)], allow)
                .unwrap();
        Matcher::build(&lex).unwrap()
    }

    #[test]
    fn send_sync() {
        fn assert<T: Send + Sync + std::panic::UnwindSafe>() {}
        assert::<Matcher>();
        assert::<Hit>();
    }

    #[test]
    fn empty_lexicon_finds_only_pii() {
        let m = matcher("pattern\trisk\tlevel\tnote\n", None);
        assert!(m.find_all("hello 赌博").is_empty());
        assert_eq!(m.find_all("13812345678").len(), 1);
    }
}
