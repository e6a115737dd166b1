//! The pack loader (TOML, schema checks, the condition language's parser and type checker) on
//! arbitrary text as the obligations file of the small test pack: diagnostics, never a panic. A
//! pack that loads is linted and assesses an empty profile without panicking.
#![no_main]

use hegui_rules::chrono::NaiveDate;
use hegui_rules::{Calendar, Pack, Profile, SourceFile, assess, lint};
use libfuzzer_sys::fuzz_target;

const MINI: &str = "../../crates/hegui-rules/tests/fixtures/mini";
const FILES: [(&str, &str); 4] = [
    ("pack.toml", include_str!("../../../crates/hegui-rules/tests/fixtures/mini/pack.toml")),
    ("facts.toml", include_str!("../../../crates/hegui-rules/tests/fixtures/mini/facts.toml")),
    ("params.toml", include_str!("../../../crates/hegui-rules/tests/fixtures/mini/params.toml")),
    ("controls.toml", include_str!("../../../crates/hegui-rules/tests/fixtures/mini/controls.toml")),
];

fuzz_target!(|data: &[u8]| {
    let mut files: Vec<(String, String)> = FILES
        .iter()
        .map(|(name, text)| ((*name).to_string(), (*text).to_string()))
        .collect();
    files.push((
        "obligations/fuzz.toml".to_string(),
        String::from_utf8_lossy(data).into_owned(),
    ));
    let Ok(pack) = Pack::from_files(MINI, files) else {
        return;
    };
    let Ok(calendar) = Calendar::cn_mainland() else {
        return;
    };
    let _ = lint(&pack, &calendar);
    if let Ok(profile) = Profile::parse(&SourceFile::new("p.toml", ""), &pack) {
        let date = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default();
        let _ = assess(&pack, &profile, date, &calendar);
    }
});
