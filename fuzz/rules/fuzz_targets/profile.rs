//! Service profiles (`hegui assess PROFILE.toml`) on arbitrary text against the bundled cn-genai
//! pack: located diagnostics, never a panic; a profile that parses is assessed.
#![no_main]

use std::sync::OnceLock;

use hegui_rules::chrono::NaiveDate;
use hegui_rules::{Calendar, Pack, Profile, SourceFile, assess};
use libfuzzer_sys::fuzz_target;

fn setup() -> Option<&'static (Pack, Calendar)> {
    static SETUP: OnceLock<Option<(Pack, Calendar)>> = OnceLock::new();
    SETUP
        .get_or_init(|| Some((Pack::embedded("cn-genai").ok()?, Calendar::cn_mainland().ok()?)))
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((pack, calendar)) = setup() else {
        return;
    };
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(profile) = Profile::parse(&SourceFile::new("profile.toml", text), pack) {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let _ = assess(pack, &profile, date, calendar);
    }
});
