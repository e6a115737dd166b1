//! Interop with the tools users and platforms already have: files labeled by hegui are read by
//! exiftool and ffprobe and still decode to identical pixels and samples (ffmpeg); files labeled by
//! ffmpeg (`-metadata AIGC=…`) and exiftool (EXIF `UserComment`) are read by hegui.
//!
//! Needs `ffmpeg`/`ffprobe` (Debian `ffmpeg`) and `exiftool` (Debian `libimage-exiftool-perl`).
//! When a tool is missing the test skips, loudly and listed by `scripts/test` (which installs
//! both through `scripts/test-deps`; under CI a missing tool fails the run).

use std::path::{Path, PathBuf};
use std::process::Command;

use hegui_label::{Carrier, Format, Label, read_label_as, write_label};

fn tool(name: &str) -> bool {
    let arg = if name == "exiftool" {
        "-ver"
    } else {
        "-version"
    };
    let package = if name == "exiftool" {
        "libimage-exiftool-perl"
    } else {
        "ffmpeg"
    };
    hegui_test::tool(name, arg, package)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn labeled(dir: &Path, name: &str) -> (PathBuf, String) {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let format = Format::from_extension(name.rsplit('.').next().unwrap()).unwrap();
    let label = Label::new(
        "001191440300708461136T1XGW3",
        format!("interop-{}", name.replace('.', "-")),
    );
    let out = dir.join(name);
    std::fs::write(&out, write_label(&bytes, format, &label, None).unwrap()).unwrap();
    (out, label.produce_id)
}

/// Decoded frames/samples as ffmpeg's per-frame MD5 list (stream data only).
fn decoded_md5(path: &Path) -> String {
    let text = run(Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0", "-f", "framemd5", "-"]));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn exiftool_reads_hegui_labels() {
    if !tool("exiftool") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "image.png",
        "image.jpg",
        "image.webp",
        "audio.mp3",
        "video.mp4",
        "video-faststart.mp4",
        "document.pdf",
        "document-xrefstream.pdf",
    ] {
        let (path, id) = labeled(dir.path(), name);
        let text = run(Command::new("exiftool")
            .args(["-a", "-G1", "-s"])
            .arg(&path));
        let line = text
            .lines()
            .find(|l| l.contains("AIGC") || l.contains("Aigc"))
            .unwrap_or_else(|| panic!("{name}: exiftool shows no AIGC tag:\n{text}"));
        assert!(line.contains(&id), "{name}: {line}");
        if name.starts_with("image") {
            assert!(line.starts_with("[XMP-TC260]"), "{name}: {line}");
        }
        let warnings = run(Command::new("exiftool")
            .args(["-validate", "-warning", "-a", "-s"])
            .arg(&path));
        assert!(!warnings.contains("Error"), "{name}: {warnings}");
    }
}

#[test]
fn ffprobe_reads_hegui_labels_and_media_is_unchanged() {
    if !tool("ffprobe") || !tool("ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "video.mp4",
        "video-faststart.mp4",
        "video.mov",
        "audio.m4a",
        "audio.mp3",
        "audio.flac",
        "audio.ogg",
        "audio.opus",
    ] {
        let (path, id) = labeled(dir.path(), name);
        let tags = run(Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format_tags=AIGC:stream_tags=AIGC",
                "-of",
                "default=nw=1",
            ])
            .arg(&path));
        assert!(
            tags.contains("AIGC=") && tags.contains(&id),
            "{name}: {tags}"
        );
    }
    for name in [
        "video.mp4",
        "video-faststart.mp4",
        "video.mov",
        "audio.m4a",
        "audio.mp3",
        "audio.flac",
        "audio.ogg",
        "audio.opus",
        "audio.wav",
        "image.png",
        "image.jpg",
        "image.webp",
        "image-lossless.webp",
    ] {
        let (path, _) = labeled(dir.path(), name);
        assert_eq!(
            decoded_md5(&fixture(name)),
            decoded_md5(&path),
            "{name}: decoded media changed"
        );
    }
}

#[test]
fn hegui_reads_labels_written_by_ffmpeg_and_exiftool() {
    let value = r#"{"AIGC":{"Label":"1","ContentProducer":"001191440300708461136T1XGW3","ProduceID":"by-tool"}}"#;
    let dir = tempfile::tempdir().unwrap();
    if tool("ffmpeg") {
        let cases: [(&str, &[&str], Carrier); 6] = [
            ("audio.ogg", &[], Carrier::VorbisComment),
            ("audio.opus", &[], Carrier::VorbisComment),
            (
                "video.mp4",
                &["-movflags", "use_metadata_tags"],
                Carrier::Mp4Mdta,
            ),
            (
                "audio.m4a",
                &["-movflags", "use_metadata_tags"],
                Carrier::Mp4Mdta,
            ),
            ("audio.mp3", &[], Carrier::Id3Txxx),
            ("audio.flac", &[], Carrier::VorbisComment),
        ];
        for (name, flags, carrier) in cases {
            let out = dir.path().join(format!("ffmpeg-{name}"));
            run(Command::new("ffmpeg")
                .args(["-nostdin", "-loglevel", "error", "-y", "-i"])
                .arg(fixture(name))
                .args(["-metadata", &format!("AIGC={value}")])
                .args(flags)
                .args(["-c", "copy"])
                .arg(&out));
            let bytes = std::fs::read(&out).unwrap();
            let format = Format::sniff(&bytes).unwrap();
            let found = read_label_as(&bytes, format)
                .unwrap()
                .unwrap_or_else(|| panic!("{name}: no label"));
            assert_eq!(
                (found.label.produce_id.as_str(), found.carrier),
                ("by-tool", carrier),
                "{name}"
            );
        }
    }
    if tool("exiftool") {
        let out = dir.path().join("exif.jpg");
        std::fs::copy(fixture("image.jpg"), &out).unwrap();
        run(Command::new("exiftool")
            .args([
                "-q",
                "-overwrite_original",
                &format!("-UserComment={value}"),
            ])
            .arg(&out));
        let found = read_label_as(&std::fs::read(&out).unwrap(), Format::Jpeg)
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.label.produce_id.as_str(), found.carrier),
            ("by-tool", Carrier::ExifUserComment)
        );
    }
}
