//! The splice writers (`splice_label`, `write_label_to`, `Labeled::write_file_atomically`,
//! `write_label_file`) write exactly the bytes of `write_label`, and exactly the bytes the
//! whole-buffer writers wrote.

use std::path::Path;

mod common;

use hegui_keys::{Algorithm, SigningKey};
use hegui_label::{
    Format, Label, content_digest, splice_label, splice_label_with_digest, testdata, verify_as,
    write_label, write_label_file, write_label_to,
};
use proptest::prelude::*;

/// Every fixture in `tests/fixtures` and the synthetic files of `testdata`, with the format.
fn all_inputs() -> Vec<(String, Format, Vec<u8>)> {
    let mut out = common::fixtures();
    assert!(out.len() >= 14, "fixtures missing");
    out.extend([
        (
            "testdata-png".to_string(),
            Format::Png,
            testdata::png_sized(5000),
        ),
        (
            "testdata-jpeg".to_string(),
            Format::Jpeg,
            testdata::jpeg_sized(5000),
        ),
        ("testdata-wav-odd".to_string(), Format::Wav, {
            // An odd-sized data chunk without its pad byte at the end of the file.
            let mut wav = testdata::wav(100);
            wav.push(7);
            let at = wav.len() - 201 - 4;
            wav[at..at + 4].copy_from_slice(&201u32.to_le_bytes());
            wav
        }),
        ("testdata-mp3".to_string(), Format::Mp3, testdata::mp3(10)),
        (
            "testdata-flac".to_string(),
            Format::Flac,
            testdata::flac(1000),
        ),
    ]);
    out
}
/// Byte-level golden record of the writers: SM3 of every unsigned labeled output, for every
/// fixture, its labeled version relabeled, and the synthetic files of `testdata`. The snapshot
/// was recorded with the whole-buffer writers that preceded the splice plans, so it pins the
/// splice writers to the exact bytes the old ones wrote.
#[test]
fn labeled_bytes_match_the_recorded_writers() {
    use sm3::Digest as _;
    let hex = |b: &[u8]| -> String {
        sm3::Sm3::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    let label = Label::new("001191440300708461136T1XGW3", "audit-0001");
    let mut report = String::new();
    for (name, format, original) in all_inputs() {
        let once = write_label(&original, format, &label, None).unwrap();
        let twice = write_label(&once, format, &Label::new("P", "2"), None).unwrap();
        report.push_str(&format!("{name}: {} {}\n", hex(&once), hex(&twice)));
    }
    insta::assert_snapshot!(report);
}

/// `write_label_to` and every view of the plan give the bytes of `write_label`, or the same
/// error; a labeled input relabels the same way.
fn assert_same(name: &str, format: Format, bytes: &[u8], label: &Label, key: Option<&SigningKey>) {
    let whole = write_label(bytes, format, label, key);
    let mut streamed = Vec::new();
    let to = write_label_to(bytes, format, label, key, &mut streamed);
    match (&whole, &to) {
        (Ok(whole), Ok(())) => assert!(whole == &streamed, "{name}: write_label_to differs"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
        _ => panic!("{name}: write_label {whole:?} but write_label_to {to:?}"),
    }
    let Ok(whole) = whole else { return };
    let plan = splice_label(bytes, format, label, key).unwrap();
    assert_eq!(plan.len(), whole.len(), "{name}: len");
    assert_eq!(plan.to_vec(), whole, "{name}: to_vec");
    assert_eq!(
        plan.slices().collect::<Vec<_>>().concat(),
        whole,
        "{name}: slices"
    );
    assert!(plan.new_bytes() <= whole.len(), "{name}: new_bytes");
}

#[test]
fn write_label_to_equals_write_label_for_every_format_and_fixture() {
    // Ed25519 signatures are deterministic, so signed outputs compare byte for byte too.
    let key = SigningKey::generate(Algorithm::Ed25519);
    let label = Label::new("001191440300708461136T1XGW3", "audit-0001");
    for (name, format, bytes) in all_inputs() {
        for key in [None, Some(&key)] {
            assert_same(&name, format, &bytes, &label, key);
            let labeled = write_label(&bytes, format, &label, key).unwrap();
            assert_same(&name, format, &labeled, &Label::new("P", "2"), key);
        }
    }
}

#[test]
fn large_media_is_spliced_not_copied() {
    let label = Label::new("P", "1");
    let big = 1 << 20;
    let mp4 = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/video-faststart.mp4"),
    )
    .unwrap();
    for (name, format, bytes) in [
        ("png", Format::Png, testdata::png_sized(big)),
        ("jpeg", Format::Jpeg, testdata::jpeg_sized(big)),
        ("wav", Format::Wav, testdata::wav(big / 2)),
        ("mp3", Format::Mp3, testdata::mp3(big / 417)),
        ("flac", Format::Flac, testdata::flac(big)),
        ("mp4", Format::Mp4, mp4),
    ] {
        let plan = splice_label(&bytes, format, &label, None).unwrap();
        // Only the label carrier (and, for MP4, `moov`; for RIFF, the header) is new.
        let moov_and_label = if format == Format::Mp4 {
            64 << 10
        } else {
            4096
        };
        assert!(
            plan.new_bytes() < moov_and_label,
            "{name}: {} new bytes",
            plan.new_bytes()
        );
    }
    let webp =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/image.webp"))
            .unwrap();
    let plan = splice_label(&webp, Format::Webp, &label, None).unwrap();
    assert!(plan.new_bytes() < 4096 && plan.len() > webp.len());
}

#[test]
fn a_known_digest_signs_like_a_computed_one() {
    let key = SigningKey::generate(Algorithm::Ed25519);
    let label = Label::new("P", "1");
    for (name, format, bytes) in all_inputs() {
        let digest = content_digest(&bytes, format).unwrap();
        let with = splice_label_with_digest(&bytes, format, &label, Some(&key), &digest)
            .unwrap()
            .to_vec();
        assert_eq!(
            with,
            write_label(&bytes, format, &label, Some(&key)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn the_atomic_file_writer_writes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let label = Label::new("P", "1");
    for (name, format, bytes) in all_inputs() {
        let path = dir.path().join("sub").join(&name);
        let plan = splice_label(&bytes, format, &label, None).unwrap();
        plan.write_file_atomically(&path).unwrap();
        // Over an existing file too (rename replaces it).
        plan.write_file_atomically(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), plan.to_vec(), "{name}");
    }
    // Only the labeled files are left: no temporary file behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
        all_inputs().len()
    );
}

#[test]
fn write_label_file_writes_the_bytes_of_write_label_signed_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let ed25519 = SigningKey::generate(Algorithm::Ed25519);
    let sm2 = SigningKey::generate(Algorithm::Sm2);
    let mut ring = hegui_keys::KeyRing::new();
    ring.insert(ed25519.verifying_key().clone());
    ring.insert(sm2.verifying_key().clone());
    let label = Label::new("P", "1");
    for (name, format, bytes) in all_inputs() {
        let path = dir.path().join(&name);
        for key in [None, Some(&ed25519)] {
            write_label_file(&bytes, format, &label, key, &path).unwrap();
            let expected = write_label(&bytes, format, &label, key).unwrap();
            assert!(std::fs::read(&path).unwrap() == expected, "{name}");
        }
        // SM2 signatures are randomized: the file must verify instead.
        write_label_file(&bytes, format, &label, Some(&sm2), &path).unwrap();
        let written = std::fs::read(&path).unwrap();
        let verdict = verify_as(&written, format, &ring).unwrap();
        assert!(verdict.is_intact(), "{name}: {verdict:?}");
        assert_eq!(
            content_digest(&written, format).unwrap(),
            content_digest(&bytes, format).unwrap(),
            "{name}"
        );
    }
    // A refused input leaves nothing behind.
    let path = dir.path().join("refused.png");
    let truncated = &testdata::png()[..20];
    assert!(write_label_file(truncated, Format::Png, &label, Some(&sm2), &path).is_err());
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        all_inputs().len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Corrupt input: both writers agree (same bytes or same error), and neither panics.
    #[test]
    fn mutated_inputs_write_alike(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6),
    ) {
        let inputs = all_inputs();
        let (name, format, original) = &inputs[index.index(inputs.len())];
        let mut bytes = original.clone();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.truncate(at),
                _ => bytes.insert(at, byte),
            }
        }
        assert_same(name, *format, &bytes, &Label::new("P", "3"), None);
    }
}
