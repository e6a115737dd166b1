//! Wav codec: reading, digesting and writing arbitrary bytes never panics, and whatever the writer
//! accepts reads back with the same label and the same content digest.
#![no_main]
use hegui_label::{Format, Label, content_digest, read_label_as, write_label};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = Format::Wav;
    let _ = read_label_as(data, format);
    let before = content_digest(data, format);
    let label = Label::new("P", "fuzz");
    if let Ok(out) = write_label(data, format, &label, None) {
        let found = read_label_as(&out, format).expect("own output reads").expect("label present");
        assert_eq!(found.label, label);
        assert_eq!(content_digest(&out, format).ok(), before.ok());
    }
});
