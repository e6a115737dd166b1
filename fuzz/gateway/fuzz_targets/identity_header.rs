//! The signed identity header on arbitrary bytes: never a panic; a header signed with the
//! secret verifies to its user, a forged signature does not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(e) = hegui_gateway::fuzzing::identity_header(bytes) {
        panic!("{e}");
    }
});
