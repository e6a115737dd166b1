//! `hegui lexicon check`: coverage against the TC260 minimums and lint findings (duplicates,
//! patterns that normalize to the same string, patterns that normalize to nothing or to a single
//! character, combinations whose parts do not fit in the combination window).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::lexicon::{Lexicon, Source};
use crate::taxonomy;

/// Count of entries for one risk, against its TC260 minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskCoverage {
    /// Risk code.
    pub risk: String,
    /// Chinese name, for Appendix A codes.
    pub name_zh: Option<&'static str>,
    /// Entries with this risk.
    pub count: usize,
    /// TC260 minimum (A.1: 200, A.2: 100), if any.
    pub minimum: Option<usize>,
}

impl RiskCoverage {
    /// Whether the minimum (if any) is met.
    pub fn meets_minimum(&self) -> bool {
        self.minimum.is_none_or(|m| self.count >= m)
    }
}

/// A lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Finding {
    /// The same pattern, written the same way, more than once.
    Duplicate {
        /// The pattern.
        pattern: String,
        /// Where it appears (`file:line`).
        at: Vec<String>,
    },
    /// Different spellings that normalize to the same string (one is redundant).
    SameNormalized {
        /// The normalized form.
        normalized: String,
        /// The patterns and where they are.
        patterns: Vec<String>,
    },
    /// A pattern that normalizes to nothing (only punctuation or symbols): it never matches.
    Empty {
        /// The pattern.
        pattern: String,
        /// Where it is.
        at: String,
    },
    /// A pattern (or a part of a combination) that normalizes to a single Latin letter or digit,
    /// as `xxx` does (repeats collapse to `x`): it matches ordinary text (`2 x 4`, `Twitter
    /// (X)`). Or a `block` pattern of one other character: it blocks every text where the
    /// character stands alone (`毒！`). A single character at `review` or `flag` is a choice
    /// (the sample's `靠`) and is not reported.
    SingleCharacter {
        /// The pattern.
        pattern: String,
        /// Where it is.
        at: String,
        /// Its normalized form.
        normalized: String,
    },
    /// A combination whose parts together are longer than the combination window: it matches
    /// only where its parts overlap, if at all.
    WiderThanWindow {
        /// The pattern.
        pattern: String,
        /// Where it is.
        at: String,
        /// Normalized characters of all its parts.
        chars: usize,
        /// The window (`[combinations] window`).
        window: u16,
    },
}

/// The result of checking a lexicon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Lexicon name.
    pub name: String,
    /// Lexicon version.
    pub version: String,
    /// All entries.
    pub total: usize,
    /// Entries in A.1 and A.2 (the 17 keyword risks).
    pub keyword_total: usize,
    /// TC260 minimum for the whole library.
    pub minimum_total: usize,
    /// Allow-list phrases.
    pub allow: usize,
    /// Combination entries (`a&b`).
    pub combinations: usize,
    /// Most normalized characters a combination hit may span (`[combinations] window`).
    pub combination_window: u16,
    /// One row per Appendix A risk (all 31, in order), then custom risks.
    pub risks: Vec<RiskCoverage>,
    /// Lint findings.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Whether the library meets every TC260 minimum.
    pub fn meets_minimums(&self) -> bool {
        self.total >= self.minimum_total && self.risks.iter().all(RiskCoverage::meets_minimum)
    }
}

fn at(s: &Source) -> String {
    s.to_string()
}

impl Lexicon {
    /// Coverage and lint report.
    pub fn check(&self) -> CheckReport {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for e in &self.entries {
            *counts.entry(e.risk.as_str()).or_default() += 1;
        }
        let mut risks: Vec<RiskCoverage> = taxonomy::RISKS
            .iter()
            .map(|r| RiskCoverage {
                risk: r.code.to_string(),
                name_zh: Some(r.name_zh),
                count: counts.get(r.code).copied().unwrap_or(0),
                minimum: taxonomy::minimum_keywords(r.code),
            })
            .collect();
        for (code, count) in &counts {
            if taxonomy::risk(code).is_none() {
                risks.push(RiskCoverage {
                    risk: code.to_string(),
                    name_zh: None,
                    count: *count,
                    minimum: None,
                });
            }
        }
        let keyword_total = self
            .entries
            .iter()
            .filter(|e| e.risk.starts_with("A.1.") || e.risk.starts_with("A.2."))
            .count();

        let opts = self.manifest.normalize;
        let window = self.manifest.combinations.window.chars();
        let mut combinations = 0;
        let mut findings = Vec::new();
        let mut raw: HashMap<&str, Vec<&Source>> = HashMap::new();
        let mut normalized: BTreeMap<String, Vec<(&str, &Source)>> = BTreeMap::new();
        for e in &self.entries {
            raw.entry(e.pattern.as_str()).or_default().push(&e.source);
            let norm: Vec<String> = e.parts().iter().map(|p| opts.normalize(p)).collect();
            if norm.iter().any(String::is_empty) {
                findings.push(Finding::Empty {
                    pattern: e.pattern.clone(),
                    at: at(&e.source),
                });
                continue;
            }
            let one_letter = |p: &&String| p.len() == 1 && p.as_bytes()[0].is_ascii_alphanumeric();
            let blocking_char = |p: &&String| {
                norm.len() == 1 && e.level == crate::Level::Block && p.chars().count() < 2
            };
            if let Some(short) = norm.iter().find(|p| one_letter(p) || blocking_char(p)) {
                findings.push(Finding::SingleCharacter {
                    pattern: e.pattern.clone(),
                    at: at(&e.source),
                    normalized: short.clone(),
                });
            }
            if norm.len() > 1 {
                combinations += 1;
                let chars = norm.iter().map(|p| p.chars().count()).sum();
                if chars > usize::from(window) {
                    findings.push(Finding::WiderThanWindow {
                        pattern: e.pattern.clone(),
                        at: at(&e.source),
                        chars,
                        window,
                    });
                }
            }
            normalized
                .entry(norm.join("&"))
                .or_default()
                .push((e.pattern.as_str(), &e.source));
        }
        let mut dups: Vec<_> = raw.into_iter().filter(|(_, v)| v.len() > 1).collect();
        dups.sort_by(|a, b| a.1[0].cmp(b.1[0]));
        for (pattern, sources) in dups {
            findings.push(Finding::Duplicate {
                pattern: pattern.to_string(),
                at: sources.into_iter().map(at).collect(),
            });
        }
        for (norm, list) in normalized {
            let mut spellings: Vec<&str> = list.iter().map(|(p, _)| *p).collect();
            spellings.sort_unstable();
            spellings.dedup();
            if spellings.len() > 1 {
                findings.push(Finding::SameNormalized {
                    normalized: norm,
                    patterns: list
                        .iter()
                        .map(|(p, s)| format!("{p} ({})", at(s)))
                        .collect(),
                });
            }
        }
        CheckReport {
            name: self.manifest.name.clone(),
            version: self.manifest.version.clone(),
            total: self.entries.len(),
            keyword_total,
            minimum_total: taxonomy::MINIMUM_TOTAL_KEYWORDS,
            allow: self.allow.len(),
            combinations,
            combination_window: window,
            risks,
            findings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_patterns_of_one_normalized_character() {
        let lex = Lexicon::from_sources(
            "name = \"t\"\nversion = \"1\"\n",
            &[(
                "t.tsv",
                "pattern\trisk\tlevel\nxxx\tA.1.f\tblock\n毒\tA.1.h\tblock\n靠\tA.2.i\tflag\n枪&出售\tA.1.h\tblock\n赌博&x\tA.1.h\tblock\n冰毒\tA.1.h\tblock\n",
            )],
            None,
        )
        .unwrap();
        let short: Vec<(String, String)> = lex
            .check()
            .findings
            .into_iter()
            .filter_map(|f| match f {
                Finding::SingleCharacter {
                    pattern,
                    normalized,
                    ..
                } => Some((pattern, normalized)),
                _ => None,
            })
            .collect();
        let expected = [("xxx", "x"), ("毒", "毒"), ("赌博&x", "x")];
        assert_eq!(short, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    }

    /// The bundled sample blocks nothing in ordinary text: maths, product names, English.
    #[test]
    fn the_sample_blocks_nothing_ordinary() {
        let sample = Lexicon::sample();
        assert!(
            !sample
                .check()
                .findings
                .iter()
                .any(|f| matches!(f, Finding::SingleCharacter { .. })),
            "the sample has a single-character pattern"
        );
        let m = crate::Matcher::build(&sample).unwrap();
        let ordinary = [
            "solve for x: 2x = 4",
            "3 x 4 = 12",
            "答案是 3 x 4 = 12。",
            "Follow us on Twitter (X) and Xbox Series X",
            "XXL T-shirt, size XXX-large",
            "The county of Essex and Sussex, near Middlesex",
            "Use an explicit type in Rust: let x: u32 = 5;",
            "iPhone 15 Pro Max、华为 Mate 60、小米 14 Ultra",
            "今天天气很好，我们去公园散步吧。",
            "The unisex design won an award in Sussex.",
        ];
        for text in ordinary {
            let blocks: Vec<_> = m
                .find_all(text)
                .into_iter()
                .filter(|h| h.rule.level == crate::Level::Block)
                .map(|h| h.rule.pattern.clone())
                .collect();
            assert!(blocks.is_empty(), "`{text}` is blocked by {blocks:?}");
        }
    }

    #[test]
    fn finds_combinations_wider_than_the_window() {
        let lex = Lexicon::from_sources(
            "name = \"t\"\nversion = \"1\"\n[combinations]\nwindow = 5\n",
            &[(
                "t.tsv",
                "pattern\trisk\tlevel\tnote\n代开&发票\tA.1.h\tblock\n出售&身份证号\tA.1.h\tblock\n",
            )],
            None,
        )
        .unwrap();
        let report = lex.check();
        assert_eq!((report.combinations, report.combination_window), (2, 5));
        insta::assert_debug_snapshot!(report.findings, @r#"
        [
            WiderThanWindow {
                pattern: "出售&身份证号",
                at: "t.tsv:3",
                chars: 6,
                window: 5,
            },
        ]
        "#);
    }

    #[test]
    fn finds_duplicates_collisions_and_empties() {
        let lex = Lexicon::from_sources(
            "name = \"t\"\nversion = \"1\"\n",
            &[(
                "t.tsv",
                "pattern\trisk\tlevel\tnote\n赌博\tA.1.h\tblock\n賭博\tA.1.h\tblock\n赌博\tA.1.h\tflag\n！！\tA.1.h\tflag\n",
            )],
            None,
        )
        .unwrap();
        let report = lex.check();
        assert_eq!(report.total, 4);
        assert_eq!(
            report
                .risks
                .iter()
                .find(|r| r.risk == "A.1.h")
                .unwrap()
                .count,
            4
        );
        assert!(!report.meets_minimums());
        insta::assert_debug_snapshot!(report.findings, @r#"
        [
            Empty {
                pattern: "！！",
                at: "t.tsv:5",
            },
            Duplicate {
                pattern: "赌博",
                at: [
                    "t.tsv:2",
                    "t.tsv:4",
                ],
            },
            SameNormalized {
                normalized: "赌博",
                patterns: [
                    "赌博 (t.tsv:2)",
                    "賭博 (t.tsv:3)",
                    "赌博 (t.tsv:4)",
                ],
            },
        ]
        "#);
    }
}
