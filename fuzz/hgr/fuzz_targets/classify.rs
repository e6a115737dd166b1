//! Scope classification (`hegui hgr classify`) on arbitrary names: an answer, never a panic.
#![no_main]

use std::sync::OnceLock;

use hegui_hgr::scope::Scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SCOPE: OnceLock<Option<Scope>> = OnceLock::new();
    if let Some(scope) = SCOPE.get_or_init(|| Scope::bundled().ok()) {
        let _ = scope.classify(&String::from_utf8_lossy(data));
    }
});
