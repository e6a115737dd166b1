//! `hegui.toml` (`hegui serve --config`) on arbitrary text: an error that names the field, never
//! a panic.
#![no_main]

use std::path::Path;

use hegui_gateway::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Config::parse(&String::from_utf8_lossy(data), Path::new("hegui.toml"));
});
