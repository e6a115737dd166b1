//! The compiled matcher: normalized patterns in one charwise double-array Aho-Corasick automaton
//! (daachorse), plus the per-pattern data needed to turn automaton matches into [`Hit`]s with
//! spans in the original text.
//!
//! This module builds the matcher and holds its tables; the scanning loop itself, shared by
//! [`Matcher::find_all`] and the streaming [`crate::Scanner`] (a one-shot scan is a stream of one
//! chunk), is in [`scan`].
//!
//! Overlapping hits: every occurrence of every pattern is reported (standard overlapping
//! semantics), then sorted by `(start, end, rule id)`. Nothing is merged or dropped, except hits
//! covered by an allow-list phrase and hits of short patterns that fail their word-boundary rule.

mod scan;

use std::collections::HashMap;
use std::sync::Arc;

use daachorse::charwise::CharwiseDoubleArrayAhoCorasick;
use serde::Serialize;

pub(crate) use self::scan::Core;
use crate::combo::{ComboInfo, ComboWindow};
use crate::lexicon::{Level, Lexicon, PiiOptions, Source};
use crate::normalize::{CharMap, NormalizeOptions};
use crate::pii::{PiiKind, PiiMatch};

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
    /// When every target of this pattern is a rule and no allow phrase can cover its hits (the
    /// lexicon has none), its first rule; otherwise [`INDIRECT`]. Derived from the fields above
    /// by [`mark_direct`], never stored in the compiled form.
    pub(crate) direct: u32,
}

/// [`PatInfo::direct`] of a pattern whose hits need the full target-table path.
pub(crate) const INDIRECT: u32 = u32::MAX;

/// Sets [`PatInfo::direct`]. A hit of a pattern that stands only for rules and that no allow
/// phrase can cover is final once its word boundaries hold, so the scanner records it without
/// the general path (allow spans, combination parts, waiting): most patterns of most lexicons.
pub(crate) fn mark_direct(pats: &mut [PatInfo], targets: &[Target], has_allow: bool) {
    for p in pats {
        p.direct = INDIRECT;
        let from = p.t_start as usize;
        let Some(list) = targets.get(from..from + p.t_len as usize) else {
            continue;
        };
        if has_allow || p.wait != 0 {
            continue;
        }
        if let [Target::Rule(first), ..] = list
            && list.iter().all(|t| matches!(t, Target::Rule(_)))
        {
            p.direct = *first;
        }
    }
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
    /// Whether any pattern stands for an allow phrase (without one, a hit with no word
    /// boundary is final as soon as it is found).
    pub(crate) has_allow: bool,
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
                direct: INDIRECT,
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
        let has_allow = targets.contains(&Target::Allow);
        mark_direct(&mut pats, &targets, has_allow);
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
            has_allow,
            pii: lexicon.manifest.pii,
            pii_rules: pii_rules(lexicon.manifest.pii.level),
            skipped_empty,
        })
    }

    /// Every hit in `text`, sorted by `(start, end, rule id)`, spans in `text`.
    pub fn find_all(&self, text: &str) -> Vec<Hit> {
        scan::with_core(self, |core| {
            core.feed(self, text);
            core.finish(self);
            core.take_ready(self)
        })
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
