//! Shared by the integration tests: the fixture files in `tests/fixtures` (made by `make.sh`).

#![allow(unreachable_pub)]

use std::path::Path;

use hegui_label::Format;

/// Every fixture whose extension names a format, as `(file name, format, bytes)`, sorted by
/// name.
pub fn fixtures() -> Vec<(String, Format, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let Some(format) = Format::from_extension(extension) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, format, std::fs::read(&path).unwrap()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
