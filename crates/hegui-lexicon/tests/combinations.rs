//! Combination rules `a&b[&c…]`, table-driven: every part must lie in one sentence and within
//! the window (`[combinations] window`, normalized characters from the first character of the
//! earliest part to the last character of the latest part). Both the one-shot matcher and the
//! streaming scanner are checked on every case, at every split position.

use std::sync::Arc;

use hegui_lexicon::{Lexicon, Matcher, Scanner};

const TSV: &str = "pattern\trisk\tlevel\tnote
代开&发票\tA.1.h\tblock\t
赌博&博彩\tA.1.h\tblock\t
枪&子弹&出售\tA.1.h\tblock\t
";

const ALLOW: &str = "pattern\tnote\n拒绝代开发票\tcampaign\n";

fn matcher(window: Option<u16>) -> Arc<Matcher> {
    let mut manifest = String::from("name = \"c\"\nversion = \"1\"\n[pii]\nenabled = false\n");
    if let Some(window) = window {
        manifest.push_str(&format!("[combinations]\nwindow = {window}\n"));
    }
    let lexicon = Lexicon::from_sources(&manifest, &[("c.tsv", TSV)], Some(ALLOW)).unwrap();
    Arc::new(Matcher::build(&lexicon).unwrap())
}

/// `pattern=original span` of every hit, in order.
fn found(m: &Matcher, text: &str) -> Vec<String> {
    m.find_all(text)
        .iter()
        .map(|h| format!("{}={}", h.rule.pattern, h.text(text)))
        .collect()
}

/// The same, from the streaming scanner fed `chunks`.
fn streamed(m: &Arc<Matcher>, text: &str, chunks: &[&str]) -> Vec<String> {
    let mut scanner = Scanner::new(m.clone());
    let mut hits = Vec::new();
    for chunk in chunks {
        hits.extend(scanner.push(chunk).hits);
    }
    hits.extend(scanner.finish().hits);
    hits.sort_by_key(|h| (h.start, h.end, h.rule.id));
    hits.iter()
        .map(|h| format!("{}={}", h.rule.pattern, h.text(text)))
        .collect()
}

/// Checks the one-shot matcher, then the scanner at every two-chunk split and char by char;
/// returns what went wrong, so that a table reports every failing case at once.
fn check(m: &Arc<Matcher>, name: &str, text: &str, want: &[&str]) -> Option<String> {
    let got = found(m, text);
    if got != want {
        return Some(format!(
            "{name}: one-shot on {text:?} gave {got:?}, want {want:?}"
        ));
    }
    let mut splits: Vec<Vec<&str>> = text
        .char_indices()
        .map(|(i, _)| vec![&text[..i], &text[i..]])
        .collect();
    splits.push(
        text.char_indices()
            .map(|(i, c)| &text[i..i + c.len_utf8()])
            .collect(),
    );
    for chunks in splits {
        let got = streamed(m, text, &chunks);
        if got != want {
            return Some(format!(
                "{name}: streamed as {chunks:?} gave {got:?}, want {want:?}"
            ));
        }
    }
    None
}

/// Runs a table of `(name, text, expected hits)` and fails with every failing case.
fn run(m: &Arc<Matcher>, cases: &[(&str, &str, &[&str])]) {
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|(name, text, want)| check(m, name, text, want))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

/// Sixteen CJK characters that are no part of any pattern.
const FILL_16: &str = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳";

#[test]
fn window_with_the_default_of_20_characters() {
    let m = matcher(None);
    let at_20 = format!("代开{FILL_16}发票");
    let at_21 = format!("代开{FILL_16}午发票");
    // Skip characters do not count: 20 normalized characters, 30 original ones.
    let spaced = format!(
        "代开，{}，发票",
        FILL_16.chars().map(|c| format!("{c} ")).collect::<String>()
    );
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "inside the window",
            "可以代开各类发票",
            &["代开&发票=代开各类发票"],
        ),
        ("b before a", "发票也能代开", &["代开&发票=发票也能代开"]),
        (
            "comma-separated clauses",
            "我们代开，也卖发票",
            &["代开&发票=代开，也卖发票"],
        ),
        ("enumeration comma", "代开、发票", &["代开&发票=代开、发票"]),
        ("colon", "代开：发票", &["代开&发票=代开：发票"]),
        (
            "exactly the window",
            &at_20,
            &["代开&发票=代开甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳发票"],
        ),
        ("one past the window", &at_21, &[]),
        (
            "skip characters do not count",
            &spaced,
            &["代开&发票=代开，甲 乙 丙 丁 戊 己 庚 辛 壬 癸 子 丑 寅 卯 辰 巳 ，发票"],
        ),
        ("overlapping parts", "赌博彩", &["赌博&博彩=赌博彩"]),
        (
            "overlapping parts, b first",
            "博彩赌博",
            &["赌博&博彩=博彩赌博"],
        ),
        (
            "three parts in any order",
            "出售子弹和枪",
            &["枪&子弹&出售=出售子弹和枪"],
        ),
        ("three parts, one missing", "出售子弹", &[]),
        (
            "the shortest span: the latest occurrence of each part",
            "代开代开，的发票",
            &["代开&发票=代开，的发票"],
        ),
        (
            "after a hit every part is needed again",
            "代开发票，发票",
            &["代开&发票=代开发票"],
        ),
        (
            "two complete sets in one sentence are two hits",
            "代开发票，也代开发票",
            &["代开&发票=代开发票", "代开&发票=代开发票"],
        ),
        (
            "an allow phrase suppresses only the hit it covers",
            "我们拒绝代开发票，但有人代开发票",
            &["代开&发票=代开发票"],
        ),
        ("only one part", "只说发票", &[]),
    ];
    run(&m, cases);
}

#[test]
fn sentence_ends_close_the_window() {
    let m = matcher(None);
    // (name, sentence end between the parts)
    let ends: &[(&str, &str)] = &[
        ("ideographic full stop", "。"),
        ("halfwidth ideographic full stop", "｡"),
        ("full-width exclamation mark", "！"),
        ("exclamation mark", "!"),
        ("full-width question mark", "？"),
        ("question mark", "?"),
        ("full-width semicolon", "；"),
        ("semicolon", ";"),
        ("small exclamation mark", "﹗"),
        ("small question mark", "﹖"),
        ("small semicolon", "﹔"),
        ("vertical ideographic full stop", "︒"),
        ("vertical exclamation mark", "︕"),
        ("vertical question mark", "︖"),
        ("vertical semicolon", "︔"),
        ("double exclamation mark", "‼"),
        ("double question mark", "⁇"),
        ("question exclamation mark", "⁈"),
        ("exclamation question mark", "⁉"),
        ("ellipsis", "…"),
        ("line feed", "\n"),
        ("carriage return", "\r"),
        ("CRLF", "\r\n"),
        ("vertical tab", "\u{b}"),
        ("form feed", "\u{c}"),
        ("next line", "\u{85}"),
        ("line separator", "\u{2028}"),
        ("paragraph separator", "\u{2029}"),
    ];
    let texts: Vec<(String, String)> = ends
        .iter()
        .flat_map(|(name, end)| {
            [
                (format!("{name}, a first"), format!("可以代开{end}发票另说")),
                (format!("{name}, b first"), format!("发票{end}代开")),
            ]
        })
        .collect();
    let mut cases: Vec<(&str, &str, &[&str])> = texts
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str(), &[][..]))
        .collect();
    cases.extend_from_slice(&[
        // A part that itself spans a sentence end is not in one sentence.
        ("part across a sentence end", "代。开发票", &[][..]),
        ("part across a line break", "子\n弹出售枪", &[]),
        // ASCII and full-width full stops are not sentence ends (decimals, URLs, `f.u.c.k`).
        ("ASCII full stop", "代开.发票", &["代开&发票=代开.发票"]),
        (
            "full-width full stop",
            "代开．发票",
            &["代开&发票=代开．发票"],
        ),
        // A sentence end before or after both parts changes nothing.
        (
            "parts in the second sentence",
            "你好。代开发票！",
            &["代开&发票=代开发票"],
        ),
    ]);
    run(&m, &cases);
}

#[test]
fn the_window_is_configurable_per_lexicon() {
    let wide = format!("代开{FILL_16}{FILL_16}发票");
    let wide_hit = format!("代开&发票={wide}");
    run(
        &matcher(Some(8)),
        &[
            (
                "8 characters",
                "代开甲乙丙丁发票",
                &["代开&发票=代开甲乙丙丁发票"],
            ),
            ("9 characters", "代开甲乙丙丁戊发票", &[]),
        ],
    );
    run(
        &matcher(Some(40)),
        &[(
            "36 characters in a window of 40",
            &wide,
            &[wide_hit.as_str()],
        )],
    );
}

#[test]
fn the_window_must_be_in_range() {
    for (manifest, want) in [
        (
            "name = \"c\"\nversion = \"1\"\n[combinations]\nwindow = 0\n",
            "`lexicon.toml:4`: combination window `0` is out of range: expected 1 to 200 normalized characters",
        ),
        (
            "name = \"c\"\nversion = \"1\"\n[combinations]\nwindow = 201\n",
            "`lexicon.toml:4`: combination window `201` is out of range: expected 1 to 200 normalized characters",
        ),
    ] {
        let err = Lexicon::from_sources(manifest, &[("c.tsv", TSV)], None).unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    let err = Lexicon::from_sources(
        "name = \"c\"\nversion = \"1\"\n[combinations]\nsentence = false\n",
        &[("c.tsv", TSV)],
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("sentence"), "{err}");
}

#[test]
fn the_compiled_form_keeps_the_window() {
    let m = matcher(Some(8));
    let again = Matcher::from_bytes(&m.to_bytes()).unwrap();
    for text in ["代开甲乙丙丁发票", "代开甲乙丙丁戊发票"] {
        assert_eq!(found(&again, text), found(&m, text), "{text}");
    }
}

#[test]
fn the_scanner_holds_back_a_part_until_the_combination_is_decided() {
    let m = matcher(None);
    let mut scanner = Scanner::new(m.clone());
    let first = scanner.push("可以代开各类服务");
    assert!(first.hits.is_empty());
    assert_eq!(
        first.released, "可以",
        "`代开` may still be completed by `发票`"
    );
    let second = scanner.push("发票，谢谢");
    assert_eq!(second.hits.len(), 1);
    assert_eq!(
        second.hits[0].start,
        "可以".len(),
        "reported before its text is released"
    );

    // Once the window has passed, the part is released without a sentence end.
    let mut scanner = Scanner::new(m.clone());
    let step = scanner.push(&format!("代开{FILL_16}午未"));
    assert!(step.released.starts_with("代开"), "{:?}", step.released);

    // A sentence end releases it too.
    let mut scanner = Scanner::new(m);
    let step = scanner.push("代开。你好吗朋友们");
    assert!(step.released.starts_with("代开。"), "{:?}", step.released);
}

#[test]
fn the_holdback_bound_covers_the_window() {
    // Normalized characters held: max(longest pattern, window) - 1 = 19; each may stand for
    // `max-repeat` (8) originals each followed by `max-gap` (3) skip characters, plus a gap.
    assert_eq!(matcher(None).holdback_bound().chars, 19 * 8 * 4 + 3);
    assert_eq!(matcher(Some(8)).holdback_bound().chars, 7 * 8 * 4 + 3);
    // Worst case for the default window: a part and 17 more characters, each written 8 times
    // (collapsed into one) with 3 spaces after each; nothing of it may be released yet.
    let m = matcher(None);
    let mut text = String::new();
    for c in "代开".chars().chain(FILL_16.chars()).chain(['午']) {
        for _ in 0..8 {
            text.push(c);
            text.push_str("   ");
        }
    }
    let mut scanner = Scanner::new(m.clone());
    let step = scanner.push(&text);
    assert_eq!(step.released, "");
    assert_eq!(scanner.held_back().chars().count(), 19 * 8 * 4);
    assert!(scanner.held_back().chars().count() <= m.holdback_bound().chars);
}
