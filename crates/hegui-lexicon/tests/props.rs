//! Property tests: streaming equals one-shot at every split, and reports every hit before its
//! text is released, holding back no more than the bound; hit spans normalize to their pattern;
//! and a differential test against a naive matcher written independently, literals and `a&b`
//! combinations (it shares only the per-character mapping, through the public
//! `NormalizeOptions::normalize`, and the sentence ends, through `is_sentence_end`).

use std::sync::Arc;

use hegui_lexicon::{Hit, Lexicon, Matcher, Scanner, is_sentence_end};
use proptest::prelude::*;

/// Characters that exercise every normalization step.
const TEXT_CHARS: &[char] = &[
    '赌', '博', '賭', '海', '洛', '因', 'a', 's', 'A', 'Ｓ', 'x', ' ', '.', '。', '\u{200b}', '1',
    '一', '①', '靠', '可', '！', '\n', '🎲', '3', '8', '@', 'b',
];
const PATTERN_CHARS: &[char] = &['赌', '博', '海', '洛', 'a', 's', 'x', '1', '靠', '可', 'b'];

/// Characters for every branch of the scanning loop: characters that map to themselves (the bit
/// set), to another character, to several (`ﬁ`, `⑩`), to nothing (skip), and characters above
/// the Basic Multilingual Plane that map to one (`𝐀`, `𝟙`), to themselves (`𠀀`) or to nothing.
const WIDE_TEXT_CHARS: &[char] = &[
    '赌', '博', '賭', 'a', 'A', 'ｓ', 's', 'f', 'i', 'ﬁ', '⑩', '1', '0', '一', '𝐀', '𝟙', '𠀀',
    '🎲', ' ', '.', '\u{200b}', '靠', '可', '。', '\n', '@', '8',
];
const WIDE_PATTERN_CHARS: &[char] = &['赌', '博', 'a', 's', 'f', 'i', '1', '0', '𠀀', '靠'];

fn text_strategy(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEXT_CHARS), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

fn wide_text_strategy(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WIDE_TEXT_CHARS), 0..max)
        .prop_map(|v| v.into_iter().collect())
}

fn wide_rule_strategy() -> impl Strategy<Value = String> {
    let literal = prop::collection::vec(prop::sample::select(WIDE_PATTERN_CHARS), 1..4)
        .prop_map(|v| v.into_iter().collect::<String>());
    prop_oneof![
        3 => literal.clone(),
        1 => prop::collection::vec(literal, 2..3).prop_map(|parts| parts.join("&")),
    ]
}

fn pattern_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PATTERN_CHARS), 1..4)
        .prop_map(|v| v.into_iter().collect())
}

/// A literal, or now and then a combination of two or three literals.
fn rule_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => pattern_strategy(),
        1 => prop::collection::vec(pattern_strategy(), 2..4).prop_map(|parts| parts.join("&")),
    ]
}

fn lexicon(patterns: &[String], allow: &[String], pii: bool) -> Lexicon {
    lexicon_with_window(patterns, allow, pii, 20)
}

fn lexicon_with_window(patterns: &[String], allow: &[String], pii: bool, window: u16) -> Lexicon {
    let mut tsv = String::from("pattern\trisk\tlevel\tnote\n");
    for p in patterns {
        tsv.push_str(&format!("{p}\tA.1.h\tblock\t\n"));
    }
    let mut allow_tsv = String::from("pattern\tnote\n");
    for a in allow {
        allow_tsv.push_str(&format!("{a}\t\n"));
    }
    let manifest = format!(
        "name = \"p\"\nversion = \"1\"\n[pii]\nenabled = {pii}\n[combinations]\nwindow = {window}\n"
    );
    Lexicon::from_sources(&manifest, &[("p.tsv", &tsv)], Some(&allow_tsv)).unwrap()
}

fn key(h: &Hit) -> (usize, usize, u32) {
    (h.start, h.end, h.rule.id)
}

fn stream(m: &Arc<Matcher>, chunks: &[&str]) -> (String, Vec<(usize, usize, u32)>) {
    let mut s = Scanner::new(m.clone());
    let bound = m.holdback_bound().chars;
    let mut released = String::new();
    let mut hits = Vec::new();
    for c in chunks {
        let step = s.push(c);
        assert_eq!(step.released_at, released.len());
        released.push_str(&step.released);
        hits.extend(step.hits.iter().map(key));
        // Every hit, `a&b` combinations included, is reported no later than the release of its
        // first byte.
        for h in &step.hits {
            assert!(
                h.start >= step.released_at,
                "hit {h:?} reported after its text was released"
            );
        }
        let held = s.held_back().chars().count();
        assert!(held <= bound, "{held} characters held back, bound {bound}");
    }
    let step = s.finish();
    released.push_str(&step.released);
    hits.extend(step.hits.iter().map(key));
    hits.sort_unstable();
    (released, hits)
}

fn one_shot(m: &Matcher, text: &str) -> Vec<(usize, usize, u32)> {
    let mut hits: Vec<_> = m.find_all(text).iter().map(key).collect();
    hits.sort_unstable();
    hits
}

/// Splits of `text` at every char boundary into two chunks, and into single characters.
fn splits(text: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    for (i, _) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        out.push(vec![&text[..i], &text[i..]]);
    }
    let singles: Vec<&str> = text
        .char_indices()
        .map(|(i, c)| &text[i..i + c.len_utf8()])
        .collect();
    out.push(singles);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn streaming_equals_one_shot(
        text in text_strategy(24),
        patterns in prop::collection::vec(rule_strategy(), 1..6),
        allow in prop::collection::vec(pattern_strategy(), 0..2),
        window in 1u16..12,
    ) {
        let m = Arc::new(Matcher::build(&lexicon_with_window(&patterns, &allow, true, window)).unwrap());
        let want = one_shot(&m, &text);
        for chunks in splits(&text) {
            let (released, got) = stream(&m, &chunks);
            prop_assert_eq!(&released, &text);
            prop_assert_eq!(&got, &want, "chunks {:?}", chunks);
        }
    }

    #[test]
    fn sample_lexicon_streaming_equals_one_shot(
        parts in prop::collection::vec(
            prop::sample::select(&["赌", "博", "冰", "毒", "\u{200b}", "賭", "代开", "发票", "。", "13812345678", " ", "靠", "可", "ass", "gr"][..]),
            0..16,
        ),
        cuts in prop::collection::vec(0usize..64, 0..6),
    ) {
        let text: String = parts.concat();
        let m = Arc::new(Matcher::build(&Lexicon::sample()).unwrap());
        let want = one_shot(&m, &text);
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % (text.len() + 1)).filter(|&c| text.is_char_boundary(c)).collect();
        bounds.push(0);
        bounds.push(text.len());
        bounds.sort_unstable();
        bounds.dedup();
        let chunks: Vec<&str> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
        let (released, got) = stream(&m, &chunks);
        prop_assert_eq!(&released, &text);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn spans_normalize_to_their_pattern(
        text in text_strategy(32),
        patterns in prop::collection::vec(pattern_strategy(), 1..6),
    ) {
        let lex = lexicon(&patterns, &[], false);
        let opts = lex.manifest.normalize;
        let m = Matcher::build(&lex).unwrap();
        for h in m.find_all(&text) {
            let span = h.text(&text);
            prop_assert_eq!(opts.normalize(span), opts.normalize(&h.rule.pattern), "span {:?}", span);
        }
    }

    #[test]
    fn matches_a_naive_matcher(
        text in text_strategy(32),
        patterns in prop::collection::vec(rule_strategy(), 1..6),
        allow in prop::collection::vec(pattern_strategy(), 0..3),
        window in 1u16..12,
    ) {
        let lex = lexicon_with_window(&patterns, &allow, false, window);
        let m = Matcher::build(&lex).unwrap();
        let got = one_shot(&m, &text);
        let want = naive(&lex, &text);
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The scanning loop against the naive reference on text with every kind of mapping, with
    /// PII detectors off and on (the loop is compiled separately for each; PII hits are left
    /// out of the comparison), one-shot and streamed one character at a time.
    #[test]
    fn scan_paths_match_a_naive_matcher(
        text in wide_text_strategy(40),
        patterns in prop::collection::vec(wide_rule_strategy(), 1..6),
        allow in prop::collection::vec(wide_rule_strategy().prop_filter("literal", |a| !a.contains('&')), 0..2),
        window in 1u16..12,
    ) {
        let lex = lexicon_with_window(&patterns, &allow, false, window);
        let want = naive(&lex, &text);
        let m = Arc::new(Matcher::build(&lex).unwrap());
        prop_assert_eq!(&one_shot(&m, &text), &want);
        let singles: Vec<&str> = text
            .char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect();
        prop_assert_eq!(&stream(&m, &singles).1, &want);
        let with_pii = Matcher::build(&lexicon_with_window(&patterns, &allow, true, window)).unwrap();
        let mut got: Vec<_> = with_pii
            .find_all(&text)
            .iter()
            .filter(|h| h.pii.is_none())
            .map(key)
            .collect();
        got.sort_unstable();
        prop_assert_eq!(&got, &want);
    }
}

/// `find_all` reuses one scanning core per thread: scans that alternate between matchers of
/// different sizes and options find what a fresh core (a new scanner) finds.
#[test]
fn reused_cores_find_what_fresh_ones_find() {
    let long = "赌".repeat(40) + "博";
    let matchers = [
        Arc::new(Matcher::build(&lexicon(&["ass".into(), long.clone()], &[], false)).unwrap()),
        Arc::new(
            Matcher::build(&lexicon(
                &["赌&博".into(), "靠".into()],
                &["可靠".into()],
                true,
            ))
            .unwrap(),
        ),
        Arc::new(Matcher::build(&Lexicon::sample()).unwrap()),
    ];
    let texts = [
        "kick ass 13812345678",
        "赌博。可靠 靠",
        &long,
        "",
        "grass 赌\u{200b}博 𝐀ss",
    ];
    for round in 0..3 {
        for (i, m) in matchers.iter().enumerate() {
            for text in &texts {
                let fresh = stream(m, &[text]).1;
                assert_eq!(
                    one_shot(m, text),
                    fresh,
                    "round {round}, matcher {i}, {text:?}"
                );
            }
        }
    }
}

/// An independent, quadratic reference: normalize character by character (through the public
/// one-string normalizer), apply gap and repeat rules, then test every pattern at every
/// position, then the word-boundary and allow-list rules.
fn naive(lex: &Lexicon, text: &str) -> Vec<(usize, usize, u32)> {
    const GAP: char = '\u{FDD0}';
    let opts = lex.manifest.normalize;
    // Per original char: mapped chars (empty = skip character).
    let mut stream: Vec<(char, usize, usize)> = Vec::new();
    // For each original char index: (start, end, emitted anything, collapsed repeat).
    let mut origs: Vec<(usize, usize, char)> = Vec::new();
    let mut collapsed_at: Vec<bool> = Vec::new();
    let (mut last, mut repeat, mut gap) = (None::<char>, 0u32, 0u32);
    for (start, c) in text.char_indices() {
        let end = start + c.len_utf8();
        origs.push((start, end, c));
        let mapped: Vec<char> = if opts.normalize(&c.to_string()).is_empty() {
            Vec::new()
        } else {
            // One character may map to several; normalizing it alone also collapsed repeats
            // inside it, as the real normalizer does.
            opts.normalize(&c.to_string()).chars().collect()
        };
        let mut emitted = false;
        let mut any = false;
        if mapped.is_empty() {
            gap += 1;
            if gap == u32::from(opts.max_gap) + 1 {
                last = None;
                stream.push((GAP, start, end));
                emitted = true;
            }
        }
        for ch in mapped {
            any = true;
            gap = 0;
            if opts.collapse_repeats && last == Some(ch) && repeat < u32::from(opts.max_repeat) {
                repeat += 1;
                continue;
            }
            last = Some(ch);
            repeat = 1;
            stream.push((ch, start, end));
            emitted = true;
        }
        collapsed_at.push(any && !emitted);
    }
    let class = |c: char| -> (bool, bool) {
        let ascii_word = c.is_ascii_alphanumeric()
            || matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}');
        (ascii_word, ascii_word || c.is_alphanumeric())
    };
    let chars: Vec<char> = stream.iter().map(|s| s.0).collect();
    let occurrences = |pat: &[char]| -> Vec<usize> {
        (0..chars.len())
            .filter(|&i| i + pat.len() <= chars.len() && chars[i..i + pat.len()] == *pat)
            .collect()
    };
    let allows: Vec<(usize, usize)> = lex
        .allow
        .iter()
        .flat_map(|a| {
            let p: Vec<char> = opts.normalize(&a.phrase).chars().collect();
            occurrences(&p)
                .into_iter()
                .map(move |i| (i, i + p.len()))
                .collect::<Vec<_>>()
        })
        .collect();
    // The sentence of each normalized character: how many sentence ends precede its original
    // character.
    let ends: Vec<usize> = origs
        .iter()
        .filter(|o| is_sentence_end(o.2))
        .map(|o| o.0)
        .collect();
    let sentence: Vec<usize> = stream
        .iter()
        .map(|s| ends.iter().filter(|&&e| e < s.1).count())
        .collect();
    let window = usize::from(lex.manifest.combinations.window.chars());
    let mut out = Vec::new();
    for (id, e) in lex.entries.iter().enumerate() {
        let parts: Vec<Vec<char>> = e
            .parts()
            .iter()
            .map(|p| opts.normalize(p).chars().collect())
            .collect();
        if parts.iter().any(Vec::is_empty) {
            continue;
        }
        if parts.len() > 1 {
            // Part occurrences (part, start, end) that lie within one sentence.
            let occs: Vec<(usize, usize, usize)> = parts
                .iter()
                .enumerate()
                .flat_map(|(k, p)| occurrences(p).into_iter().map(move |i| (k, i, i + p.len())))
                .filter(|&(_, hs, he)| sentence[hs] == sentence[he - 1])
                .collect();
            let mut hit_ends: Vec<usize> = occs.iter().map(|o| o.2).collect();
            hit_ends.sort_unstable();
            hit_ends.dedup();
            // (sentence, end) of the last hit: occurrences ending there or before are used up.
            let mut last: Option<(usize, usize)> = None;
            for he in hit_ends {
                let s = sentence[he - 1];
                let after = last.filter(|l| l.0 == s).map_or(0, |l| l.1);
                let mut latest: Vec<Option<usize>> = vec![None; parts.len()];
                for &(k, hs, end) in &occs {
                    if sentence[hs] == s && end > after && end <= he {
                        latest[k] = latest[k].max(Some(hs));
                    }
                }
                let Some(from) = latest.iter().copied().collect::<Option<Vec<usize>>>() else {
                    continue;
                };
                let from = from.into_iter().min().unwrap_or(he);
                if he - from > window {
                    continue;
                }
                last = Some((s, he));
                if !allows.iter().any(|&(a, b)| a <= from && b >= he) {
                    out.push((stream[from].1, stream[he - 1].2, id as u32));
                }
            }
            continue;
        }
        let p = &parts[0];
        let ascii = p.iter().all(|c| c.is_ascii_alphanumeric());
        let standalone = !ascii && p.len() == 1;
        for i in occurrences(p) {
            let (hs, he) = (i, i + p.len());
            if allows.iter().any(|&(a, b)| a <= hs && b >= he) {
                continue;
            }
            let start = stream[hs].1;
            let mut end = stream[he - 1].2;
            // Extend over collapsed repeats right after the hit, for boundary hits only.
            let mut next = origs.iter().position(|o| o.0 == end);
            if ascii || standalone {
                while let Some(k) = next {
                    if collapsed_at[k] {
                        end = origs[k].1;
                        next = if k + 1 < origs.len() {
                            Some(k + 1)
                        } else {
                            None
                        };
                    } else {
                        break;
                    }
                }
            }
            let left = origs
                .iter()
                .rev()
                .find(|o| o.1 <= start && o.1 == start)
                .map(|o| class(o.2));
            let right = next.map(|k| class(origs[k].2));
            let blocked = |n: Option<(bool, bool)>| match n {
                None => false,
                Some((aw, w)) => (ascii && aw) || (standalone && w),
            };
            if blocked(left) || blocked(right) {
                continue;
            }
            out.push((start, end, id as u32));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[test]
fn naive_reference_agrees_on_known_cases() {
    let lex = lexicon(&["ass".into(), "赌博".into()], &[], false);
    assert_eq!(naive(&lex, "kick ass"), vec![(5, 8, 0)]);
    assert_eq!(naive(&lex, "grass"), vec![]);
    assert_eq!(naive(&lex, "赌 博"), vec![(0, 7, 1)]);
    let lex = lexicon_with_window(&["赌&博".into()], &[], false, 3);
    assert_eq!(naive(&lex, "博，赌"), vec![(0, 9, 0)]);
    assert_eq!(naive(&lex, "博。赌"), vec![]);
    assert_eq!(naive(&lex, "博aa赌"), vec![(0, 8, 0)]); // `aa` collapses: 3 characters
    assert_eq!(naive(&lex, "博ab赌"), vec![]); // 4 characters
    assert_eq!(naive(&lex, "赌博赌博"), vec![(0, 6, 0), (6, 12, 0)]);
}
