//! The lexicon loader and matcher build on arbitrary files: errors, never panics; whatever
//! loads must build, scan its own patterns and round-trip through the compiled form.
#![no_main]

use hegui_lexicon::{Lexicon, Matcher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Input: manifest, entries TSV and allow TSV separated by NUL characters.
    let mut parts = text.splitn(3, '\0');
    let manifest = parts.next().unwrap_or_default();
    let tsv = parts.next().unwrap_or_default();
    let allow = parts.next();
    let Ok(lexicon) = Lexicon::from_sources(manifest, &[("f.tsv", tsv)], allow) else {
        return;
    };
    let _ = lexicon.check();
    let Ok(matcher) = Matcher::build(&lexicon) else {
        return;
    };
    let hits = matcher.find_all(tsv);
    for h in &hits {
        assert!(h.start <= h.end && h.end <= tsv.len());
        assert!(tsv.is_char_boundary(h.start) && tsv.is_char_boundary(h.end));
    }
    let again = Matcher::from_bytes(&matcher.to_bytes()).expect("round trip");
    assert_eq!(again.find_all(tsv), hits);
});
