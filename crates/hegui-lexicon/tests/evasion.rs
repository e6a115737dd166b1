//! The evasion suite and the false-positive cases, table-driven. Each evasion case names the
//! normalization step that defeats it: the case must be caught with every step on, and missed
//! with that one step off (so the suite proves each step is needed, and that nothing else
//! catches it by accident).

use hegui_lexicon::{Lexicon, Matcher, NormalizeOptions};

const TSV: &str = "pattern\trisk\tlevel\tnote
赌博\tA.1.h\tblock\t
海洛因\tA.1.h\tblock\t
一夜情\tA.1.f\tblock\t
sex\tA.1.f\tblock\t
fuck\tA.2.i\treview\t
ass\tA.2.i\tflag\t
69\tA.1.f\tflag\t
靠\tA.2.i\tflag\t
大麻\tA.1.h\tblock\t
代开&发票\tA.1.h\tblock\t
";

const ALLOW: &str = "pattern\tnote\n大麻哈鱼\tfish\n拒绝赌博\tcampaign\n";

fn matcher(opts: NormalizeOptions) -> Matcher {
    let mut lex = Lexicon::from_sources(
        "name = \"evasion\"\nversion = \"1\"\n[pii]\nenabled = false\n",
        &[("e.tsv", TSV)],
        Some(ALLOW),
    )
    .unwrap();
    lex.manifest.normalize = opts;
    Matcher::build(&lex).unwrap()
}

/// The matched original texts, in order.
fn found(m: &Matcher, text: &str) -> Vec<String> {
    m.find_all(text)
        .iter()
        .map(|h| format!("{}={}", h.rule.pattern, h.text(text)))
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Nfkc,
    CaseFold,
    T2s,
    Digits,
    Skip,
    Repeats,
}

fn without(step: Step) -> NormalizeOptions {
    let mut o = NormalizeOptions::default();
    match step {
        Step::Nfkc => o.nfkc = false,
        Step::CaseFold => o.case_fold = false,
        Step::T2s => o.traditional_to_simplified = false,
        Step::Digits => o.digit_variants = false,
        Step::Skip => o.skip = false,
        Step::Repeats => o.collapse_repeats = false,
    }
    o
}

#[test]
fn evasions_are_caught_and_each_step_is_needed() {
    use Step::*;
    // (name, text, expected `pattern=original span`, the step that defeats the evasion)
    let cases: &[(&str, &str, &str, Step)] = &[
        (
            "zero-width space",
            "网上赌\u{200b}博",
            "赌博=赌\u{200b}博",
            Skip,
        ),
        (
            "zero-width joiner",
            "赌\u{200d}博",
            "赌博=赌\u{200d}博",
            Skip,
        ),
        ("BOM inside", "赌\u{feff}博", "赌博=赌\u{feff}博", Skip),
        ("space", "来 赌 博 吧", "赌博=赌 博", Skip),
        (
            "ideographic space",
            "赌\u{3000}博",
            "赌博=赌\u{3000}博",
            Skip,
        ),
        ("ASCII punctuation", "赌.博", "赌博=赌.博", Skip),
        ("CJK punctuation", "赌。。。博", "赌博=赌。。。博", Skip),
        ("symbols", "赌★博", "赌博=赌★博", Skip),
        ("emoji", "赌🎲博", "赌博=赌🎲博", Skip),
        (
            "combining mark",
            "s\u{0336}e\u{0336}x",
            "sex=s\u{0336}e\u{0336}x",
            Skip,
        ),
        ("dotted letters", "f.u.c.k", "fuck=f.u.c.k", Skip),
        ("full-width letters", "ＳＥＸ", "sex=ＳＥＸ", Nfkc),
        ("full-width lower", "ｆｕｃｋ", "fuck=ｆｕｃｋ", Nfkc),
        ("mathematical letters", "𝐬𝐞𝐱", "sex=𝐬𝐞𝐱", Nfkc),
        ("mixed case", "FuCk", "fuck=FuCk", CaseFold),
        ("upper case", "SEX", "sex=SEX", CaseFold),
        ("traditional", "賭博", "赌博=賭博", T2s),
        ("half traditional", "赌博 賭博", "赌博=赌博,赌博=賭博", T2s),
        ("ASCII digit", "1夜情", "一夜情=1夜情", Digits),
        ("circled digit", "①夜情", "一夜情=①夜情", Digits),
        ("negative circled digit", "❶夜情", "一夜情=❶夜情", Digits),
        ("financial numeral", "壹夜情", "一夜情=壹夜情", Digits),
        (
            "repeated inner char",
            "海洛洛洛因",
            "海洛因=海洛洛洛因",
            Repeats,
        ),
        (
            "repeats with spaces",
            "海 洛 洛 因",
            "海洛因=海 洛 洛 因",
            Repeats,
        ),
    ];
    let all = matcher(NormalizeOptions::default());
    for (name, text, want, step) in cases {
        let want: Vec<String> = want.split(',').map(str::to_string).collect();
        assert_eq!(
            found(&all, text),
            want,
            "{name}: not caught with every step on"
        );
        let off = matcher(without(*step));
        let got = found(&off, text);
        assert!(
            !got.iter().any(|g| want.contains(g)) || got.len() < want.len(),
            "{name}: still caught with {step:?} off: {got:?}"
        );
    }
}

#[test]
fn gaps_longer_than_max_gap_break_a_match() {
    let m = matcher(NormalizeOptions::default());
    assert_eq!(found(&m, "赌   博"), vec!["赌博=赌   博"]); // 3 = max-gap
    assert!(found(&m, "赌    博").is_empty()); // 4 > max-gap
    assert!(found(&m, "赌。今天天气很好。博").is_empty());
}

#[test]
fn false_positives_are_avoided() {
    let m = matcher(NormalizeOptions::default());
    let cases: &[(&str, &[&str])] = &[
        ("the grass is green", &[]),
        ("classic bass", &[]),
        ("kick ass!", &["ass=ass"]),
        ("ASS", &["ass=ASS"]),
        ("kick-ass", &["ass=ass"]),
        ("sussex", &[]),
        ("essex county", &[]),
        ("编号695", &[]),
        ("6969", &[]),
        ("call 69 now", &["69=69"]),
        ("这个人很可靠", &[]),
        ("靠！", &["靠=靠"]),
        ("靠，又迟到了", &["靠=靠"]),
        ("依靠自己", &[]),
        ("大麻哈鱼很好吃", &[]),
        ("出售大麻", &["大麻=大麻"]),
        ("我们要拒绝赌博", &[]),
        ("拒绝赌博，也拒绝赌博网站", &[]),
        ("他去赌博了", &["赌博=赌博"]),
    ];
    for (text, want) in cases {
        assert_eq!(found(&m, text), *want, "{text}");
    }
}

#[test]
fn overlapping_hits_are_all_reported_in_order() {
    let lex = Lexicon::from_sources(
        "name = \"o\"\nversion = \"1\"\n",
        &[(
            "o.tsv",
            "pattern\trisk\tlevel\tnote\n网上赌场\tA.1.h\tblock\t\n赌场\tA.1.h\tblock\t\n上赌\tX.test\tflag\t\n",
        )],
        None,
    )
    .unwrap();
    let m = Matcher::build(&lex).unwrap();
    let text = "网上赌场";
    let got: Vec<(usize, usize, &str)> = m
        .find_all(text)
        .iter()
        .map(|h| {
            (
                h.start,
                h.end,
                lex.entries[h.rule.id as usize].pattern.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(0, 12, "网上赌场"), (3, 9, "上赌"), (6, 12, "赌场")]
    );
}

fn pinyin_matcher(on: bool) -> Matcher {
    let manifest = format!(
        "name = \"pinyin\"\nversion = \"1\"\n[pii]\nenabled = false\n[variants]\npinyin = {on}\n"
    );
    let lex = Lexicon::from_sources(&manifest, &[("e.tsv", TSV)], Some(ALLOW)).unwrap();
    Matcher::build(&lex).unwrap()
}

#[test]
fn pinyin_variants_catch_pinyin_spellings_only_when_on() {
    let on = pinyin_matcher(true);
    let off = pinyin_matcher(false);
    for (text, expected) in [
        ("一起dubo吧", vec!["赌博=dubo"]),
        ("一起 du bo 吧", vec!["赌博=du bo"]),
        ("一起DU-BO吧", vec!["赌博=DU-BO"]),
        ("ｄｕｂｏ", vec!["赌博=ｄｕｂｏ"]),
        ("买点hai luo yin", vec!["海洛因=hai luo yin"]),
        ("代开 fa piao", vec!["代开&发票=代开 fa piao"]),
        // ASCII word boundaries apply to the variants.
        ("fandubond", vec![]),
        // Single characters get no variant (`kao` is common in Latin text).
        ("kao", vec![]),
    ] {
        assert_eq!(found(&on, text), expected, "on: {text}");
        if !expected.is_empty() {
            assert!(found(&off, text).is_empty(), "off: {text}");
        }
    }
}
