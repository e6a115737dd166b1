//! Round trips over the fixtures in `tests/fixtures` (made by `make.sh`): write, read, verify,
//! rewrite (replace, never append), and tampering with the content or the fields.

mod common;

use hegui_keys::{Algorithm, KeyRing, SigningKey};
use hegui_label::{
    Format, Label, Tamper, Verdict, content_digest, read_all, read_label_as, verify_as, write_label,
};

fn fixtures() -> Vec<(String, Format, Vec<u8>)> {
    let out = common::fixtures();
    for (name, format, bytes) in &out {
        let extension = name.rsplit('.').next();
        assert_eq!(Format::detect(bytes, extension), Some(*format), "{name}");
    }
    assert!(
        out.len() >= 14,
        "fixtures missing: run tests/fixtures/make.sh"
    );
    out
}

fn flip(bytes: &mut [u8], at: usize) {
    bytes[at] ^= 0x55;
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("marker present")
}

/// Changes one byte of the media content, differently per format.
fn tamper(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let len = out.len();
    match name.rsplit('.').next().unwrap() {
        "png" => flip(&mut out, find(bytes, b"IDAT") + 8),
        "jpg" => flip(&mut out, len - 3),
        "webp" => {
            let at = bytes
                .windows(4)
                .position(|w| w == b"VP8 " || w == b"VP8L")
                .unwrap();
            flip(&mut out, at + 12);
        }
        "wav" | "mp3" | "flac" | "ogg" | "opus" => flip(&mut out, len - 1),
        "mp4" | "m4a" | "mov" => flip(&mut out, find(bytes, b"mdat") + 12),
        "pdf" => flip(&mut out, find(bytes, b"(fixture)") + 3),
        "md" => out[find(bytes, b"# ")] = b'=',
        "docx" => {
            use std::io::{Read, Write};
            let mut source = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for i in 0..source.len() {
                let mut file = source.by_index(i).unwrap();
                let name = file.name().to_string();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                if name == "word/document.xml" {
                    data.extend_from_slice(b" ");
                }
                writer
                    .start_file(name, zip::write::SimpleFileOptions::default())
                    .unwrap();
                writer.write_all(&data).unwrap();
            }
            return writer.finish().unwrap().into_inner();
        }
        other => panic!("no tamper rule for {other}"),
    }
    out
}

#[test]
fn every_fixture_round_trips_and_detects_tampering() {
    let key = SigningKey::generate(Algorithm::Sm2);
    let mut ring = KeyRing::new();
    ring.insert(key.verifying_key().clone());
    let label = Label::new("001191440300708461136T1XGW3", "audit-0001");
    for (name, format, original) in fixtures() {
        assert_eq!(
            read_label_as(&original, format).unwrap(),
            None,
            "{name}: fixture is unlabeled"
        );
        assert_eq!(
            verify_as(&original, format, &ring).unwrap(),
            Verdict::Absent,
            "{name}"
        );

        let labeled = write_label(&original, format, &label, Some(&key)).unwrap();
        let digest = content_digest(&original, format).unwrap();
        assert_eq!(
            content_digest(&labeled, format).unwrap(),
            digest,
            "{name}: content changed"
        );
        let found = read_label_as(&labeled, format).unwrap().unwrap();
        assert_eq!(found.label.produce_id, "audit-0001", "{name}");
        assert!(found.problems.is_empty(), "{name}: {:?}", found.problems);
        assert!(found.warnings.is_empty(), "{name}: {:?}", found.warnings);
        assert_eq!(
            verify_as(&labeled, format, &ring).unwrap(),
            Verdict::Intact {
                key_id: key.key_id().to_string()
            },
            "{name}"
        );

        // Relabeling replaces: still one label, the new one.
        let relabeled = write_label(
            &labeled,
            format,
            &Label::new("P2", "audit-0002"),
            Some(&key),
        )
        .unwrap();
        let all = read_all(&relabeled, format).unwrap();
        assert_eq!(all.len(), 1, "{name}: labels stacked");
        assert_eq!(all[0].label.produce_id, "audit-0002");
        assert_eq!(
            content_digest(&relabeled, format).unwrap(),
            digest,
            "{name}"
        );

        // Content changed after labeling.
        let tampered = tamper(&name, &labeled);
        assert_eq!(
            verify_as(&tampered, format, &ring).unwrap(),
            Verdict::Tampered {
                what: Tamper::Content
            },
            "{name}: content tamper not detected"
        );

        // Fields changed: rewrite with another ProduceID, keeping the old code.
        let mut forged = found.label.clone();
        forged.produce_id = "audit-9999".into();
        let forged = write_label(&labeled, format, &forged, None).unwrap();
        assert_eq!(
            verify_as(&forged, format, &ring).unwrap(),
            Verdict::Tampered {
                what: Tamper::Fields
            },
            "{name}: field tamper not detected"
        );

        // Unknown key, unsigned.
        assert!(
            matches!(
                verify_as(&labeled, format, &KeyRing::new()).unwrap(),
                Verdict::UnknownKey { .. }
            ),
            "{name}"
        );
        let unsigned = write_label(&original, format, &label, None).unwrap();
        assert_eq!(
            verify_as(&unsigned, format, &ring).unwrap(),
            Verdict::Unsigned,
            "{name}"
        );
    }
}

#[test]
fn unsigned_labels_snapshot() {
    let label = Label::new("001191440300708461136T1XGW3", "audit-0001");
    let mut report = String::new();
    for (name, format, original) in fixtures() {
        let labeled = write_label(&original, format, &label, None).unwrap();
        let found = read_label_as(&labeled, format).unwrap().unwrap();
        report.push_str(&format!(
            "{name}: {format} carrier={} variant={:?} grew_by={}\n",
            found.carrier.name(),
            found.variant,
            labeled.len() as i64 - original.len() as i64
        ));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn ed25519_keys_work_too() {
    let key = SigningKey::generate(Algorithm::Ed25519);
    let mut ring = KeyRing::new();
    ring.insert(key.verifying_key().clone());
    let png = hegui_label::testdata::png();
    let labeled = write_label(&png, Format::Png, &Label::new("P", "1"), Some(&key)).unwrap();
    assert!(verify_as(&labeled, Format::Png, &ring).unwrap().is_intact());
}

#[test]
fn invalid_labels_are_refused() {
    let png = hegui_label::testdata::png();
    let err = write_label(&png, Format::Png, &Label::new("豆包", ""), None).unwrap_err();
    insta::assert_snapshot!(err, @"invalid label: `ContentProducer` contains '豆' (U+8C46), outside the Annex E character set; `ProduceID` is empty; `ContentPropagator` contains '豆' (U+8C46), outside the Annex E character set");
}

/// The Doubao variant: a raw `tEXt AIGC` chunk next to XMP. Both are read, the duplicate is a
/// problem, and writing leaves exactly one label.
#[test]
fn png_text_chunk_variant_and_duplicates() {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut c = 0xffff_ffffu32;
        for &b in kind.iter().chain(data) {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        out.extend_from_slice(&(c ^ 0xffff_ffff).to_be_bytes());
        out
    }
    let png = hegui_label::testdata::png();
    let bare = br#"AIGC\0{"Label":"1","ContentProducer":"doubao-code","ProduceID":"x1"}"#.to_vec();
    let bare: Vec<u8> = String::from_utf8(bare)
        .unwrap()
        .replace("\\0", "\0")
        .into_bytes();
    let mut with_text = png[..33].to_vec();
    with_text.extend_from_slice(&chunk(b"tEXt", &bare));
    with_text.extend_from_slice(&png[33..]);
    let found = read_label_as(&with_text, Format::Png).unwrap().unwrap();
    assert_eq!(
        (
            found.carrier,
            found.variant,
            found.label.produce_id.as_str()
        ),
        (hegui_label::Carrier::PngText, hegui_label::Form::Bare, "x1")
    );
    assert!(found.problems.is_empty());

    // Beside XMP: a duplicate, and a disagreement only on a field both carriers hold (the bare
    // text has no propagator fields, so the XMP's first-write copies are no disagreement).
    let with_xmp = |produce_id: &str| {
        let xmp = write_label(
            &png,
            Format::Png,
            &Label::new("doubao-code", produce_id),
            None,
        );
        let xmp = xmp.unwrap();
        let mut both = xmp[..33].to_vec();
        both.extend_from_slice(&chunk(b"tEXt", &bare));
        both.extend_from_slice(&xmp[33..]);
        both
    };
    let found = read_label_as(&with_xmp("x1"), Format::Png)
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.problems, found.other_carriers),
        (
            vec![
                "1 more label(s) in the file (`png-xmp`); one label per file is required"
                    .to_string()
            ],
            vec![hegui_label::Carrier::PngXmp]
        )
    );
    let both = with_xmp("x2");
    let found = read_label_as(&both, Format::Png).unwrap().unwrap();
    assert_eq!(
        found.problems,
        [
            "1 more label(s) in the file (`png-xmp`); one label per file is required",
            "`png-text` and `png-xmp` disagree on `ProduceID` (`x1` vs `x2`)"
        ]
    );

    let rewritten = write_label(&both, Format::Png, &Label::new("P", "2"), None).unwrap();
    assert_eq!(read_all(&rewritten, Format::Png).unwrap().len(), 1);
}
