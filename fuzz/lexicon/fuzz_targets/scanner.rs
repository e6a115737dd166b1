//! The streaming scanner on arbitrary text and chunking, with the sample lexicon: the same hits
//! as the one-shot scan, all text released in order, spans on character boundaries.
#![no_main]

use std::sync::{Arc, OnceLock};

use hegui_lexicon::{Lexicon, Matcher, Scanner};
use libfuzzer_sys::fuzz_target;

fn matcher() -> Arc<Matcher> {
    static M: OnceLock<Arc<Matcher>> = OnceLock::new();
    M.get_or_init(|| Arc::new(Matcher::build(&Lexicon::sample()).expect("sample builds")))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&cuts, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let m = matcher();
    let mut want = m.find_all(text);
    want.sort_by_key(|h| (h.start, h.end, h.rule.id));
    let mut scanner = Scanner::new(m);
    let mut got = Vec::new();
    let mut released = String::new();
    let step = usize::from(cuts % 7) + 1;
    let mut pos = 0;
    while pos < text.len() {
        let mut end = (pos + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let s = scanner.push(&text[pos..end]);
        released.push_str(&s.released);
        got.extend(s.hits);
        pos = end;
    }
    let s = scanner.finish();
    released.push_str(&s.released);
    got.extend(s.hits);
    got.sort_by_key(|h| (h.start, h.end, h.rule.id));
    assert_eq!(released, text);
    assert_eq!(got, want);
});
