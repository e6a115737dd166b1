//! Labels other tools write into image XMP are read (issue "Every answer can be trusted", item 5):
//! the JSON element hegui writes, one TC260 property per Annex E key, and `XmpKvBase64`, alone or
//! together, in PNG, JPEG and WebP. Each packet in `tests/fixtures/xmp` (see its README) is placed
//! verbatim as the XMP of each image format; the reader must find the same labels in all three,
//! say which carrier each came from, and flag carriers that disagree. Relabeling leaves one label.

mod common;

use std::path::Path;

use hegui_label::{Carrier, Form, Format, Label, read_all, read_label_as, testdata, write_label};

/// The XMP fixtures, as (file name, packet), sorted by name.
fn packets() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xmp");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "xmp"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 8, "XMP fixtures missing");
    out
}

/// The image fixtures that carry XMP: one PNG, one JPEG, one WebP.
fn images() -> Vec<(Format, Vec<u8>)> {
    common::fixtures()
        .into_iter()
        .filter(|(name, _, _)| matches!(name.as_str(), "image.png" | "image.jpg" | "image.webp"))
        .map(|(_, format, bytes)| (format, bytes))
        .collect()
}

/// What the reader says about one file. The XMP carrier of the container (`png-xmp`,
/// `jpeg-xmp`, `webp-xmp`) is written `image-xmp`, so that the three formats compare equal.
fn describe(bytes: &[u8], format: Format) -> String {
    describe_as_found(bytes, format)
        .replace("png-xmp", "image-xmp")
        .replace("jpeg-xmp", "image-xmp")
        .replace("webp-xmp", "image-xmp")
}

fn describe_as_found(bytes: &[u8], format: Format) -> String {
    let found = match read_label_as(bytes, format) {
        Ok(Some(found)) => found,
        Ok(None) => return "no label".into(),
        Err(err) => return format!("error: {err}"),
    };
    let others: Vec<&str> = found.other_carriers.iter().map(|c| c.name()).collect();
    let mut out = format!(
        "carrier={} form={:?} others={others:?}\n  Label={} ContentProducer={} ProduceID={} PropagateID={}",
        found.carrier.name(),
        found.variant,
        found.label.label,
        found.label.content_producer,
        found.label.produce_id,
        found.label.propagate_id,
    );
    for problem in &found.problems {
        out.push_str(&format!("\n  problem: {problem}"));
    }
    for warning in &found.warnings {
        out.push_str(&format!("\n  warning: {warning}"));
    }
    out
}

#[test]
fn every_xmp_form_is_read_alike_in_png_jpeg_and_webp() {
    let images = images();
    assert_eq!(images.len(), 3);
    let mut report = String::new();
    for (name, packet) in packets() {
        let mut seen: Option<(Format, String)> = None;
        for (format, image) in &images {
            let file = testdata::with_xmp(image, *format, &packet).unwrap();
            let text = describe(&file, *format);
            match &seen {
                None => seen = Some((*format, text)),
                Some((first, expected)) => {
                    assert_eq!(&text, expected, "{name}: {format} reads unlike {first}");
                }
            }
        }
        let (_, text) = seen.unwrap();
        report.push_str(&format!("{name}: {text}\n"));
    }
    insta::assert_snapshot!(report);
}

/// The exact failure of the issue: the checker's sample form (three `AIGC:` attributes and
/// `XmpKvBase64`) gave "label value is not Annex E JSON".
#[test]
fn the_checker_sample_form_is_read_from_both_carriers() {
    let packet = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xmp/fields-and-base64.xmp"),
    )
    .unwrap();
    for (format, image) in images() {
        let file = testdata::with_xmp(&image, format, &packet).unwrap();
        let all = read_all(&file, format).unwrap();
        let carriers: Vec<(Carrier, Form, &str)> = all
            .iter()
            .map(|f| (f.carrier, f.variant, f.label.produce_id.as_str()))
            .collect();
        assert_eq!(
            carriers,
            [
                (Carrier::XmpKvBase64, Form::Wrapped, "img-0005"),
                (Carrier::XmpFields, Form::Fields, "img-0005"),
            ],
            "{format}"
        );
    }
}

/// Writing a label over any of these forms leaves exactly hegui's label: one label per file
/// (§6.1 c ◐), whichever form the old one had.
#[test]
fn relabeling_replaces_every_form() {
    let label = Label::new("001191440300708461136T1XGW3", "relabeled");
    for (name, packet) in packets() {
        for (format, image) in images() {
            let file = testdata::with_xmp(&image, format, &packet).unwrap();
            let relabeled = write_label(&file, format, &label, None).unwrap();
            let all = read_all(&relabeled, format).unwrap();
            let summary: Vec<(Form, &str)> = all
                .iter()
                .map(|f| (f.variant, f.label.produce_id.as_str()))
                .collect();
            assert_eq!(
                summary,
                [(Form::Wrapped, "relabeled")],
                "{name} in {format}"
            );
        }
    }
}
