//! The upstream SSE parser on arbitrary bytes cut at arbitrary points: the same events
//! whatever the cuts, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (Vec<u8>, Vec<usize>)| {
    let (bytes, cuts) = input;
    if let Err(e) = hegui_gateway::fuzzing::sse(&bytes, &cuts) {
        panic!("{e}");
    }
});
