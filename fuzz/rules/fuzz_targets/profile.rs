//! Service profiles (`hegui assess PROFILE.toml`) on arbitrary text against the bundled cn-genai
//! pack: located diagnostics, never a panic; a profile that parses is assessed.
#![no_main]

use hegui_rules::{Calendar, Pack, Profile, SourceFile, assess, chrono::NaiveDate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pack) = Pack::embedded("cn-genai") else {
        return;
    };
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(profile) = Profile::parse(&SourceFile::new("profile.toml", text), &pack)
        && let Ok(calendar) = Calendar::cn_mainland()
    {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let _ = assess(&pack, &profile, date, &calendar);
    }
});
