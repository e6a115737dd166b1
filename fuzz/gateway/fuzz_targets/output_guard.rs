//! The output guard's state machine on arbitrary chunk sequences (one JSON value per line of
//! the input; lines that are not JSON are skipped): never a panic, and no `block` pattern of
//! the sample lexicon in anything a client would receive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunks: Vec<serde_json::Value> = String::from_utf8_lossy(rest)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    if let Err(e) = hegui_gateway::fuzzing::output_guard(&chunks, mode & 1 == 1) {
        panic!("{e}");
    }
});
