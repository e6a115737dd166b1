//! The data-file readers of `hegui corpus audit` and the annotation audit
//! (`hegui_assess::input::for_each_record`) on arbitrary files: records or an error naming the
//! file, never a panic. The first byte picks the layout (JSONL, CSV, TSV, Parquet, text) and
//! whether a second field is asked for; the rest is the file. Parquet finds more with a seed
//! corpus of real files (for example those `crates/hegui-assess/tests/parquet.rs` writes).
#![no_main]

use hegui_assess::input::{self, InputError};
use libfuzzer_sys::fuzz_target;

const LAYOUTS: [&str; 5] = ["jsonl", "csv", "tsv", "parquet", "txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let extension = LAYOUTS[usize::from(pick) % LAYOUTS.len()];
    let fields: &[&str] = if extension == "txt" || pick & 0x80 == 0 {
        &["text"]
    } else {
        &["text", "source"]
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join(format!("input.{extension}"));
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let result = input::for_each_record(&path, fields, &|_| {}, |record| {
        assert_eq!(record.fields.len(), fields.len());
        Ok::<(), InputError>(())
    });
    if let Err(error) = result {
        assert!(error.to_string().contains("input."), "{error}");
    }
});
