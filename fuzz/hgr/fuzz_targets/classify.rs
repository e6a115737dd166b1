//! Scope classification (`hegui hgr classify`) on arbitrary names: an answer, never a panic.
#![no_main]

use hegui_hgr::scope::Scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(scope) = Scope::bundled() {
        let _ = scope.classify(&String::from_utf8_lossy(data));
    }
});
