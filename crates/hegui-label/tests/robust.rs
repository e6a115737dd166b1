//! Corrupt input never panics, and labels round-trip for any valid field values.
//!
//! Mutations of every fixture (truncation, flipped bytes, inserted bytes) go through every entry
//! point; each must return `Ok` or an error, never panic. Then a property test writes random
//! Annex E labels into every format and reads them back unchanged.

use std::path::Path;

use hegui_label::{
    Format, Label, content_digest, read_all, read_label, read_label_as, verify_as, write_label,
};
use proptest::prelude::*;

fn fixtures() -> Vec<(Format, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(Format, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let format = Format::from_extension(path.extension()?.to_str()?)?;
            Some((format, std::fs::read(path).unwrap()))
        })
        .collect();
    // Labeled versions exercise the label parsers too.
    let labeled: Vec<_> = out
        .iter()
        .map(|(f, b)| (*f, write_label(b, *f, &Label::new("P", "1"), None).unwrap()))
        .collect();
    out.extend(labeled);
    out
}

fn exercise(format: Format, bytes: &[u8]) {
    let _ = read_label(bytes);
    let _ = read_all(bytes, format);
    let _ = read_label_as(bytes, format);
    let _ = content_digest(bytes, format);
    let _ = verify_as(bytes, format, &hegui_keys::KeyRing::new());
    if let Ok(out) = write_label(bytes, format, &Label::new("P", "2"), None) {
        // Whatever we accept, we must be able to read back.
        let found = read_label_as(&out, format)
            .unwrap_or_else(|e| panic!("{format}: our own output does not parse: {e}"));
        assert_eq!(
            found.map(|f| f.label.produce_id),
            Some("2".into()),
            "{format}"
        );
    }
}

#[test]
fn truncations_never_panic() {
    for (format, bytes) in fixtures() {
        let step = (bytes.len() / 97).max(1);
        for len in (0..bytes.len()).step_by(step) {
            exercise(format, &bytes[..len]);
        }
    }
}

/// Every byte of every MP4 fixture, plain and labeled, set to values that make box sizes lie
/// (0: "to the end", 34: a size that cuts `mvhd` short): a label written must read back, or
/// the write must fail. A random mutation found an `mvhd` size that hid the new `udta`.
#[test]
fn damaged_mp4_box_sizes_never_hide_the_label() {
    for (format, bytes) in fixtures() {
        if format != Format::Mp4 {
            continue;
        }
        for i in 0..bytes.len() {
            for value in [0u8, 34, 255] {
                let mut damaged = bytes.clone();
                damaged[i] = value;
                exercise(format, &damaged);
            }
        }
    }
}

/// A RIFF file (WebP, WAV) that ends where an odd-sized chunk's pad byte should be: the label
/// written after that chunk must stay aligned. A random mutation found WebP writing it one byte
/// off, so that its own output did not parse.
#[test]
fn a_missing_pad_byte_keeps_the_label_aligned() {
    for (format, bytes) in fixtures() {
        if !matches!(format, Format::Webp | Format::Wav) {
            continue;
        }
        let mut odd = bytes.clone();
        odd.extend_from_slice(b"ABCD\x03\0\0\0xyz");
        let size = u32::try_from(odd.len() - 8).unwrap();
        odd[4..8].copy_from_slice(&size.to_le_bytes());
        exercise(format, &odd);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutations_never_panic(index in 0usize..64, edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let all = fixtures();
        let (format, mut bytes) = all[index % all.len()].clone();
        for (at, value, kind) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = value,
                1 => bytes.insert(i, value),
                _ => { bytes.remove(i); }
            }
        }
        exercise(format, &bytes);
    }

    #[test]
    fn any_valid_label_round_trips(
        index in 0usize..64,
        producer in "[!#-\\[\\]-~]{1,40}",
        id in "[!-\\[\\]-~]{1,40}",
        value in "[123]",
        propagator in "[!#-\\[\\]-~]{0,20}",
    ) {
        let all = fixtures();
        let (format, bytes) = all[index % (all.len() / 2)].clone();
        let label = Label { label: value, content_producer: producer, produce_id: id, content_propagator: propagator, ..Label::default() };
        let out = write_label(&bytes, format, &label, None).unwrap();
        let found = read_label_as(&out, format).unwrap().unwrap();
        prop_assert_eq!(found.label, label.first_write());
        prop_assert_eq!(content_digest(&out, format).unwrap(), content_digest(&bytes, format).unwrap());
    }
}
