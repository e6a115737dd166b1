//! The compiled-form reader on arbitrary bytes: an error, never a panic.
#![no_main]

use hegui_lexicon::Matcher;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Matcher::from_bytes(data) {
        let _ = m.find_all("赌博 test 13812345678 a@b.cn");
    }
});
