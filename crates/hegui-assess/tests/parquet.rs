//! Parquet input: files written here with the `parquet` crate's own writer (snappy, zstd, several
//! row groups, nulls) read back as the same records as JSONL, the corpus audit of the same data
//! as Parquet and as JSONL giving the same sample and figures, and errors that name the file,
//! row group, row and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hegui_assess::corpus::{self, CorpusReport};
use hegui_assess::input::{self, InputError, Record};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use proptest::prelude::*;

/// A column to write: optional strings or required 64-bit integers.
enum Col {
    Str(Vec<Option<String>>),
    I64(Vec<i64>),
}

impl Col {
    fn len(&self) -> usize {
        match self {
            Col::Str(v) => v.len(),
            Col::I64(v) => v.len(),
        }
    }
}

/// Writes `columns` (in `schema` order) with `group_rows` rows per row group.
fn write(path: &Path, schema: &str, columns: &[Col], group_rows: usize, codec: Compression) {
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(WriterProperties::builder().set_compression(codec).build());
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
    let rows = columns[0].len();
    let mut start = 0;
    while start < rows {
        let end = (start + group_rows).min(rows);
        let mut group = writer.next_row_group().unwrap();
        let mut columns = columns.iter();
        while let Some(mut column) = group.next_column().unwrap() {
            match columns.next().unwrap() {
                Col::Str(values) => {
                    let slice = &values[start..end];
                    let present: Vec<ByteArray> = slice
                        .iter()
                        .flatten()
                        .map(|s| ByteArray::from(s.as_str()))
                        .collect();
                    let levels: Vec<i16> = slice.iter().map(|v| i16::from(v.is_some())).collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&present, Some(&levels), None)
                        .unwrap();
                }
                Col::I64(values) => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&values[start..end], None, None)
                        .unwrap();
                }
            }
            column.close().unwrap();
        }
        group.close().unwrap();
        start = end;
    }
    writer.close().unwrap();
}

fn records(path: &Path, fields: &[&str]) -> Result<Vec<Record>, InputError> {
    let mut out = Vec::new();
    input::for_each_record(path, fields, &|_| {}, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

const SCHEMA: &str = "message m { required int64 id; optional binary source (STRING); \
                      optional binary text (STRING); }";

/// Three columns of COLD comments (`n` rows), a source per row and an id.
fn cold_rows(n: usize) -> (Vec<i64>, Vec<Option<String>>, Vec<Option<String>>) {
    let comments = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/corpus/cold/comments.txt"),
    )
    .unwrap();
    let texts: Vec<Option<String>> = comments
        .lines()
        .take(n)
        .map(|l| Some(l.to_string()))
        .collect();
    let sources = (0..n)
        .map(|i| Some(["weibo", "zhihu", "news"][i % 3].to_string()))
        .collect();
    ((1..=n as i64).collect(), sources, texts)
}

fn audit(path: &Path, threads: usize) -> CorpusReport {
    let lexicon = hegui_lexicon::Lexicon::from_sources(
        "name = \"t\"\nversion = \"1\"\n",
        &[(
            "t.tsv",
            "pattern\trisk\tlevel\tnote\n黑人\tA.1.h\tblock\t\n女\tA.1.h\treview\t\n",
        )],
        None,
    )
    .unwrap();
    let matcher = hegui_lexicon::Matcher::build(&lexicon).unwrap();
    let options = corpus::Options {
        text_field: "text".into(),
        source_field: Some("source".into()),
        sample_per_source: 40,
        sample_total: 90,
        seed: 7,
        scan_all: true,
        threads,
        max_listed: 1000,
    };
    corpus::audit(&[path.to_path_buf()], None, &matcher, &options, &|_| {}).unwrap()
}

/// The report with the input's name, digest and size blanked (they differ by format).
fn comparable(mut report: CorpusReport, name: &str) -> String {
    report.inputs.clear();
    serde_json::to_string_pretty(&report)
        .unwrap()
        .replace(name, "DATA")
}

#[test]
fn audit_of_parquet_equals_audit_of_the_same_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let (ids, sources, texts) = cold_rows(1000);
    let jsonl: PathBuf = dir.path().join("c.jsonl");
    let mut lines = String::new();
    for ((id, source), text) in ids.iter().zip(&sources).zip(&texts) {
        let row = serde_json::json!({"id": id, "source": source, "text": text});
        lines.push_str(&format!("{row}\n"));
    }
    std::fs::write(&jsonl, lines).unwrap();
    let reference = comparable(audit(&jsonl, 2), jsonl.to_str().unwrap());
    assert!(reference.contains("\"records\": 1000"), "{reference}");
    let codecs = [
        Compression::SNAPPY,
        Compression::ZSTD(ZstdLevel::default()),
        Compression::UNCOMPRESSED,
    ];
    for (i, codec) in codecs.into_iter().enumerate() {
        let parquet = dir.path().join(format!("c{i}.parquet"));
        let columns = [
            Col::I64(ids.clone()),
            Col::Str(sources.clone()),
            Col::Str(texts.clone()),
        ];
        write(&parquet, SCHEMA, &columns, 300, codec);
        let report = audit(&parquet, 1);
        assert_eq!(report.records, 1000);
        assert_eq!(
            report.inputs[0].bytes,
            std::fs::metadata(&parquet).unwrap().len()
        );
        let got = comparable(report, parquet.to_str().unwrap());
        assert_eq!(got, reference, "{codec:?}");
    }
}

#[test]
fn errors_name_file_group_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    let texts = vec![Some("a".to_string()), None, Some("c".to_string())];
    write(
        &path,
        SCHEMA,
        &[
            Col::I64(vec![7, 8, 9]),
            Col::Str(vec![None; 3]),
            Col::Str(texts),
        ],
        2,
        Compression::SNAPPY,
    );
    // Nulls are missing fields, integers are given as text; rows count across row groups.
    let got = records(&path, &["text", "id"]).unwrap();
    let fields: Vec<_> = got.iter().map(|r| (r.line, r.fields.clone())).collect();
    assert_eq!(
        fields,
        [
            (1, vec![Some("a".into()), Some("7".into())]),
            (2, vec![None, Some("8".into())]),
            (3, vec![Some("c".into()), Some("9".into())]),
        ]
    );
    let bad_utf8 = dir.path().join("u.parquet");
    {
        let schema = Arc::new(parse_message_type("message m { required binary text; }").unwrap());
        let props = Arc::new(WriterProperties::builder().build());
        let file = std::fs::File::create(&bad_utf8).unwrap();
        let mut writer = SerializedFileWriter::new(file, schema, props).unwrap();
        for values in [
            vec![ByteArray::from("ok")],
            vec![ByteArray::from("ok"), ByteArray::from(vec![0xff, 0xfe])],
        ] {
            let mut group = writer.next_row_group().unwrap();
            let mut column = group.next_column().unwrap().unwrap();
            column
                .typed::<ByteArrayType>()
                .write_batch(&values, None, None)
                .unwrap();
            column.close().unwrap();
            group.close().unwrap();
        }
        writer.close().unwrap();
    }
    let corrupt = dir.path().join("x.parquet");
    std::fs::write(&corrupt, "id,text\n1,not parquet at all\n").unwrap();
    let name = |p: &Path| p.display().to_string();
    let cases: [(&Path, &[&str], String); 5] = [
        (
            &path,
            &["id"],
            format!(
                "`{}`: column `id` is INT64; expected a string column (BYTE_ARRAY, STRING)",
                name(&path)
            ),
        ),
        (
            &path,
            &["body"],
            format!(
                "`{}`: no column `body` (columns: `id`, `source`, `text`)",
                name(&path)
            ),
        ),
        (
            &path,
            &["text", "nope"],
            format!(
                "`{}`: no column `nope` (columns: `id`, `source`, `text`)",
                name(&path)
            ),
        ),
        (
            &bad_utf8,
            &["text"],
            format!(
                "`{}`: row group 2 of 2, row 2 (row 3 of the file), column `text`: not UTF-8 text: \
                 invalid utf-8 sequence of 1 bytes from index 0",
                name(&bad_utf8)
            ),
        ),
        (
            &corrupt,
            &["text"],
            format!("`{}`: not a readable Parquet file: ", name(&corrupt)),
        ),
    ];
    for (file, fields, expected) in cases {
        let err = records(file, fields).unwrap_err().to_string();
        assert!(err.starts_with(&expected), "{err}\nwanted: {expected}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the rows, nulls and row-group size, the records read are the rows written.
    #[test]
    fn rows_round_trip(
        rows in proptest::collection::vec((proptest::option::of("[a-z\u{4e00}-\u{4e20} ]{0,12}"), any::<i64>()), 0..700),
        group_rows in 1usize..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let texts: Vec<Option<String>> = rows.iter().map(|r| r.0.clone()).collect();
        let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
        write(&path, SCHEMA, &[Col::I64(ids.clone()), Col::Str(vec![None; rows.len()]), Col::Str(texts.clone())], group_rows, Compression::ZSTD(ZstdLevel::default()));
        let got = records(&path, &["text", "id", "source"]).unwrap();
        prop_assert_eq!(got.len(), rows.len());
        for (i, r) in got.iter().enumerate() {
            prop_assert_eq!(r.line, i as u64 + 1);
            prop_assert_eq!(&r.fields, &vec![texts[i].clone(), Some(ids[i].to_string()), None]);
        }
    }
}

/// A small valid file per codec (two row groups, nulls), for the corruption test.
fn intact(codec: usize) -> &'static [u8] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    &FILES.get_or_init(|| {
        let codecs = [
            Compression::UNCOMPRESSED,
            Compression::SNAPPY,
            Compression::ZSTD(ZstdLevel::default()),
        ];
        let (ids, sources, mut texts) = cold_rows(120);
        for text in texts.iter_mut().step_by(7) {
            *text = None;
        }
        let dir = tempfile::tempdir().unwrap();
        codecs
            .into_iter()
            .map(|codec| {
                let path = dir.path().join("intact.parquet");
                let columns = [
                    Col::I64(ids.clone()),
                    Col::Str(sources.clone()),
                    Col::Str(texts.clone()),
                ];
                write(&path, SCHEMA, &columns, 60, codec);
                std::fs::read(&path).unwrap()
            })
            .collect()
    })[codec]
}

proptest! {
    // About one random corruption in 200 made the `parquet` crate panic before its calls were
    // contained; 3,000 cases find one almost surely.
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// A corrupt Parquet file (bytes overwritten, the end cut off) gives records or an error
    /// naming the file, never a panic.
    #[test]
    fn corrupt_files_are_errors_not_panics(
        codec in 0usize..3,
        writes in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..5),
        cut in proptest::option::weighted(0.2, any::<proptest::sample::Index>()),
    ) {
        let mut bytes = intact(codec).to_vec();
        for (at, byte) in writes {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()).max(1));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("corrupt.parquet");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(e) = records(&path, &["text", "id", "source"]) {
            let message = e.to_string();
            prop_assert!(message.contains("corrupt.parquet"), "{}", message);
        }
    }
}
