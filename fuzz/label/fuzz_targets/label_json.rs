//! The label value parser: any text parses or errors; a parsed valid label round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok((label, _, _)) = hegui_label::Label::parse(text) {
        if label.problems().is_empty() {
            let (again, _, _) = hegui_label::Label::parse(&label.to_json_wrapped()).expect("own output parses");
            assert_eq!(again, label);
        }
    }
});
