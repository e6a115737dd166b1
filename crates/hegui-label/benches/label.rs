//! Labeling cost versus a plain file copy, on 20 MB PNG, JPEG and MP4 files (DESIGN.md quality
//! bar: an implicit label costs no more than 2× a copy). Each iteration goes through the file
//! system the way `hegui label add --produce-id …` does: read the file, then
//! [`write_label_file`]: plan the label (a splice plan over the input), write the plan to a
//! temporary file in the destination's directory, sync, rename.
//!
//! - `copy`: `std::fs::copy`, the baseline of the bar.
//! - `copy-synced`: the same plus `sync_all` of the copy, the baseline that does what the CLI's
//!   atomic write does (a crash leaves the old file or the new one).
//! - `label-unsigned`, `label-signed-sm2`: the CLI path.
//! - `label-unsigned-vec`: the whole-output path ([`write_label`], then the atomic write), for
//!   comparison. Its time swings between ~1.1× and ~2.5× copy with glibc's state, not with the
//!   format: two fresh 20 MB buffers per iteration are `mmap`ed and page-faulted (~10,240 faults,
//!   kernel-zeroed) unless the dynamic mmap threshold has already risen past 20 MB, when both
//!   come from a reused heap. With `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:
//!   glibc.malloc.trim_threshold=134217728` the old JPEG path fell from 55 to 25 ms and its page
//!   faults from 1.23 M to 21 k per run; PNG looked cheaper in earlier runs only by that luck.
//!   A one-shot `hegui label add` process always starts fresh, so the splice path, which never
//!   allocates the output, is what removes the second buffer's cost.
//! - group `20MB-sm3`: the content digest alone (SM3 over the media), what signing adds.
//!
//! Run: `cargo bench -p hegui-label --bench label`.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use hegui_keys::{Algorithm, SigningKey};
use hegui_label::{Format, Label, content_digest, testdata, write_label, write_label_file};

const SIZE: usize = 20 << 20;

/// The faststart MP4 fixture with its `mdat` (the last box) grown to about 20 MB, so that
/// labeling must also shift every chunk offset.
fn mp4() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/video-faststart.mp4");
    let mut bytes = std::fs::read(path).expect("fixture");
    let at = bytes.windows(4).rposition(|w| w == b"mdat").expect("mdat") - 4;
    bytes.resize(SIZE, 0);
    let size = u32::try_from(bytes.len() - at).expect("fits");
    bytes[at..at + 4].copy_from_slice(&size.to_be_bytes());
    bytes
}

fn label() -> Label {
    Label::new("001191440300708461136T1XGW3", "audit-0001")
}

/// What `hegui label add FILE --produce-id ID [--key KEY] -o DST` does.
fn label_file(src: &Path, dst: &Path, format: Format, key: Option<&SigningKey>) {
    let bytes = std::fs::read(src).expect("read");
    write_label_file(&bytes, format, &label(), key, dst).expect("label");
}

/// The whole-output path: the labeled file built in memory, then written the same way.
fn label_file_vec(src: &Path, dst: &Path, format: Format) {
    let bytes = std::fs::read(src).expect("read");
    let out = write_label(&bytes, format, &label(), None).expect("label");
    hegui_label::write_file_atomically(dst, &out).expect("write");
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = SigningKey::generate(Algorithm::Sm2);
    let files = [
        ("png", Format::Png, testdata::png_sized(SIZE)),
        ("jpeg", Format::Jpeg, testdata::jpeg_sized(SIZE)),
        ("mp4", Format::Mp4, mp4()),
    ];
    for (name, format, bytes) in files {
        let src = dir.path().join(format!("in.{name}"));
        let dst = dir.path().join(format!("out.{name}"));
        std::fs::write(&src, &bytes).expect("write source");
        let mut group = c.benchmark_group(format!("20MB-{name}"));
        group.sample_size(10);
        group.measurement_time(std::time::Duration::from_secs(3));
        group.bench_function("copy", |b| {
            b.iter(|| std::fs::copy(black_box(&src), &dst).expect("copy"));
        });
        group.bench_function("copy-synced", |b| {
            b.iter(|| {
                std::fs::copy(black_box(&src), &dst).expect("copy");
                std::fs::File::open(&dst)
                    .and_then(|f| f.sync_all())
                    .expect("sync");
            });
        });
        group.bench_function("label-unsigned", |b| {
            b.iter(|| label_file(black_box(&src), &dst, format, None));
        });
        group.bench_function("label-unsigned-vec", |b| {
            b.iter(|| label_file_vec(black_box(&src), &dst, format));
        });
        group.bench_function("label-signed-sm2", |b| {
            b.iter(|| label_file(black_box(&src), &dst, format, Some(&key)));
        });

        group.finish();
    }
    let jpeg = testdata::jpeg_sized(SIZE);
    let mut group = c.benchmark_group("20MB-sm3");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Bytes(jpeg.len() as u64));
    group.bench_function("content-digest-jpeg", |b| {
        b.iter(|| content_digest(black_box(&jpeg), Format::Jpeg).expect("digest"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
