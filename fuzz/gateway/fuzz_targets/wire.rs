//! The wire types' decoding on arbitrary text: never a panic, a lossless round trip for what
//! decodes, an error with a path for what does not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = hegui_gateway::fuzzing::wire(text) {
        panic!("{e}");
    }
});
