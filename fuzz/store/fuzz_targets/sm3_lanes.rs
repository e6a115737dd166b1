//! Differential: every SM3 engine this CPU runs (AVX-512 and AVX2 lanes) against the
//! one-message reference, on batches of arbitrary messages.
#![no_main]

use hegui_sm3::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Split the input into messages at every 0xff byte (so lengths vary inside a batch).
    let messages: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    let want: Vec<[u8; 32]> = messages.iter().map(|m| hegui_sm3::digest(m)).collect();
    for engine in Engine::available() {
        let mut got = vec![[0u8; 32]; messages.len()];
        engine.digest_many(&messages, &mut got);
        assert_eq!(got, want, "{} engine", engine.name());
    }
});
