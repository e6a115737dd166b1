//! Any bytes: sniffing, reading and verifying never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hegui_label::read_label(data);
    let _ = hegui_label::verify(data, &hegui_keys::KeyRing::new());
});
