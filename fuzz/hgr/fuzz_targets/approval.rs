//! `APPROVAL.toml` (`hegui hgr change`) on arbitrary text: located errors, never a panic (no
//! overflow in the cumulative arithmetic either); a file that classifies renders in every format.
#![no_main]

use hegui_hgr::report::{Format, render_change};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(report) = hegui_hgr::change::classify_file("APPROVAL.toml", &text) {
        for format in [Format::Table, Format::Markdown, Format::Json, Format::Html] {
            let _ = render_change(&report, format);
        }
    }
});
