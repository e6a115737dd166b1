//! Reading records from data files, streamed: JSON Lines, CSV/TSV, Parquet and plain text,
//! picking a few named fields from each record; and reading typed JSONL files (banks,
//! annotations, results).
//!
//! Every error names the file and, where there is one, the line (`data.csv:17: …`), or for
//! Parquet the row group, row and column, so that a user with a 5 GB file can go straight to the
//! record. Memory stays constant: one line (JSONL, text), one record (CSV) or one batch of rows
//! of the selected columns (Parquet, [`parquet`](self::parquet) module) at a time, buffers reused.
//! Line-oriented files can also be parsed on several threads ([`par_for_each_line`]), which the
//! corpus audit does for its big inputs.
//!
//! Not for: nested fields (only top-level JSON keys, CSV columns and Parquet columns are
//! addressed).

mod contain;
mod lines;
mod parquet;

pub use lines::par_for_each_line;

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The file could not be opened or read.
    #[error("cannot read `{file}`: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A record (or the file as a whole, line 0) is malformed.
    #[error("{}", located(file, *line, message))]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line, 0 when the problem is the whole file.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

fn located(file: &str, line: u64, message: &str) -> String {
    if line == 0 {
        format!("`{file}`: {message}")
    } else {
        format!("`{file}:{line}`: {message}")
    }
}

impl InputError {
    /// A malformed record at `line` of `file`.
    pub fn invalid(file: &str, line: u64, message: impl Into<String>) -> InputError {
        InputError::Invalid {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// A read failure on `file`.
    pub fn io(file: &str, source: std::io::Error) -> InputError {
        InputError::Io {
            file: file.to_string(),
            source,
        }
    }
}

/// The layout of a data file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `.jsonl`, `.ndjson`, `.json`: one JSON object per line.
    Jsonl,
    /// `.csv`: comma-separated with a header line.
    Csv,
    /// `.tsv`: tab-separated with a header line.
    Tsv,
    /// `.parquet`: a Parquet file; a record is a row.
    Parquet,
    /// Anything else: one record per line, its text in the field `text`.
    Text,
}

impl Layout {
    /// The layout for `path`.
    ///
    /// # Errors
    ///
    /// None today; kept for layouts that are recognised but not read.
    pub fn of(path: &Path) -> Result<Layout, InputError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Layout::Jsonl,
            "csv" => Layout::Csv,
            "tsv" => Layout::Tsv,
            "parquet" | "parq" => Layout::Parquet,
            _ => Layout::Text,
        })
    }
}

/// A reader that reports how many bytes went through it, for progress bars.
struct Counting<'a, R> {
    inner: R,
    on_bytes: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_bytes)(n as u64);
        Ok(n)
    }
}

/// One record: its line and the requested fields (`None` when a record lacks one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line where the record starts; for Parquet the 1-based row in the file.
    pub line: u64,
    /// The requested fields, in the order asked for.
    pub fields: Vec<Option<String>>,
}

/// Streams the records of `path`, calling `each` for every record with the `fields` asked for;
/// `on_bytes` is told how many bytes were read, as they are read.
///
/// In a text file the only field is `text` (the whole line). A CSV/TSV or Parquet file must
/// have every requested column, or the error lists the columns it has. A JSON value that is a
/// number or a boolean is given as its text (`1`, `true`); `null` counts as missing. In Parquet
/// the first field (the text) must be a string column, the others may also be integer or
/// boolean columns, and a null counts as missing.
///
/// # Errors
///
/// An unreadable file, a missing column, a line that is not a JSON object, a file that is not
/// Parquet or a Parquet column of another type, or the first error `each` returns.
pub fn for_each_record(
    path: &Path,
    fields: &[&str],
    on_bytes: &(dyn Fn(u64) + Sync),
    mut each: impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let name = path.display().to_string();
    let layout = Layout::of(path)?;
    if layout == Layout::Parquet {
        return parquet::parquet_records(path, &name, fields, on_bytes, &mut each);
    }
    let file = std::fs::File::open(path).map_err(|e| InputError::io(&name, e))?;
    let reader = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            on_bytes,
        },
    );
    match layout {
        Layout::Jsonl => jsonl_records(reader, &name, fields, &mut each),
        Layout::Text => text_records(reader, &name, fields, &mut each),
        Layout::Csv => csv_records(reader, &name, b',', fields, &mut each),
        Layout::Tsv => csv_records(reader, &name, b'\t', fields, &mut each),
        Layout::Parquet => unreachable!("read above"),
    }
}

fn text_records(
    mut reader: impl BufRead,
    name: &str,
    fields: &[&str],
    each: &mut impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    if let Some(other) = fields.iter().find(|f| **f != "text") {
        return Err(InputError::invalid(
            name,
            0,
            format!("a text file has one field, `text`, not `{other}`"),
        ));
    }
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| InputError::invalid(name, number + 1, format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        each(Record {
            line: number,
            fields: fields.iter().map(|_| Some(text.to_string())).collect(),
        })?;
    }
}

/// Picks the wanted top-level keys of one JSON object, skipping everything else unparsed.
struct Pick<'a> {
    wanted: &'a [&'a str],
}

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Vec<Option<Cow<'de, str>>>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Vec<Option<Cow<'de, str>>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = vec![None; self.wanted.len()];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.wanted.iter().position(|w| *w == key.0) {
                Some(i) => out[i] = map.next_value::<Scalar>()?.0,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A JSON object key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(CowVisitor)
            .map(|c| Key(c.unwrap_or_default()))
    }
}

/// A JSON string, number or boolean as text, borrowed from the line when it is a string
/// without escapes (the common case: no copy of the text per record); `null` as `None`.
struct Scalar<'de>(Option<Cow<'de, str>>);

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CowVisitor).map(Scalar)
    }
}

struct CowVisitor;

impl<'de> Visitor<'de> for CowVisitor {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_string())))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Picks the `fields` (top-level keys) of the JSON object on one line, borrowing strings from
/// the line where it can; everything else is skipped unparsed.
///
/// # Errors
///
/// The line is not one JSON object (the message is serde_json's, with its column).
pub fn pick_json<'a>(
    line: &'a [u8],
    fields: &[&str],
) -> Result<Vec<Option<Cow<'a, str>>>, serde_json::Error> {
    pick(serde_json::Deserializer::from_slice(line), fields)
}

/// [`pick_json`] on a line already known to be UTF-8: serde_json then skips its own UTF-8
/// check of every string, which is most of its time on Chinese text; validating the line first
/// with `simdutf8` is several times faster.
///
/// # Errors
///
/// The line is not one JSON object.
pub fn pick_json_str<'a>(
    line: &'a str,
    fields: &[&str],
) -> Result<Vec<Option<Cow<'a, str>>>, serde_json::Error> {
    pick(serde_json::Deserializer::from_str(line), fields)
}

fn pick<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    fields: &[&str],
) -> Result<Vec<Option<Cow<'a, str>>>, serde_json::Error> {
    let picked = Pick { wanted: fields }.deserialize(&mut de)?;
    de.end()?;
    Ok(picked)
}

/// `line` as text, checked with SIMD; the error is std's (with the byte offset).
///
/// # Errors
///
/// The bytes are not UTF-8.
pub fn utf8(line: &[u8]) -> Result<&str, std::str::Utf8Error> {
    match simdutf8::basic::from_utf8(line) {
        Ok(text) => Ok(text),
        // The fast check says only yes or no; std's says where.
        Err(_) => std::str::from_utf8(line),
    }
}

/// Calls `each` with every non-blank line of a JSON Lines stream (1-based line number, bytes
/// without the newline), reusing one buffer.
pub(crate) fn for_each_line(
    mut reader: impl BufRead,
    name: &str,
    mut each: impl FnMut(u64, &[u8]) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut buf = Vec::with_capacity(4096);
    let mut number = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| InputError::invalid(name, number + 1, format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        each(number, line)?;
    }
}

fn jsonl_records(
    reader: impl BufRead,
    name: &str,
    fields: &[&str],
    each: &mut impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    for_each_line(reader, name, |number, line| {
        let picked = pick_json(line, fields)
            .map_err(|e| InputError::invalid(name, number, format!("invalid JSON: {e}")))?;
        each(Record {
            line: number,
            fields: picked.into_iter().map(|f| f.map(Cow::into_owned)).collect(),
        })
    })
}

fn csv_records(
    reader: impl Read,
    name: &str,
    delimiter: u8,
    fields: &[&str],
    each: &mut impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| InputError::invalid(name, 1, format!("cannot read the header: {e}")))?
        .clone();
    let mut columns = Vec::with_capacity(fields.len());
    for field in fields {
        let Some(i) = headers.iter().position(|h| h.trim() == *field) else {
            let have: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
            return Err(InputError::invalid(
                name,
                1,
                format!(
                    "no column `{field}` in the header (columns: {})",
                    have.join(", ")
                ),
            ));
        };
        columns.push(i);
    }
    let mut record = csv::StringRecord::new();
    loop {
        let more = csv.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            InputError::invalid(name, line, format!("malformed CSV record: {e}"))
        })?;
        if !more {
            return Ok(());
        }
        let line = record.position().map_or(0, |p| p.line());
        each(Record {
            line,
            fields: columns
                .iter()
                .map(|&i| record.get(i).map(str::to_string))
                .collect(),
        })?;
    }
}

/// Reads a JSONL file of typed records (a bank, annotations), with `file:line` errors.
///
/// # Errors
///
/// An unreadable file, or the first line that is not a valid record.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<(u64, T)>, InputError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| InputError::io(&name, e))?;
    let mut out = Vec::new();
    for_each_line(BufReader::new(file), &name, |number, line| {
        let value = serde_json::from_slice(line)
            .map_err(|e| InputError::invalid(&name, number, format!("invalid record: {e}")))?;
        out.push((number, value));
        Ok(())
    })?;
    Ok(out)
}

/// The SM3 digest (hex) and size of a file, so that a report can name exactly what it read.
///
/// # Errors
///
/// The file cannot be read.
pub fn digest_file(path: &Path) -> Result<(String, u64), InputError> {
    use sm3::Digest as _;
    let name = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| InputError::io(&name, e))?;
    // Streamed: a 5 GB corpus is hashed in a 1 MiB buffer, not read into memory.
    let mut hasher = sm3::Sm3::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(InputError::io(&name, e)),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// One input file, named exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// Path as given.
    pub path: String,
    /// SM3 of its bytes, hex.
    pub sm3: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl InputFile {
    /// Names `path` by its digest.
    ///
    /// # Errors
    ///
    /// The file cannot be read.
    pub fn of(path: &Path) -> Result<InputFile, InputError> {
        let (sm3, bytes) = digest_file(path)?;
        Ok(InputFile {
            path: path.display().to_string(),
            sm3,
            bytes,
        })
    }

    /// `path (N bytes, SM3 …)`, as the reports list their inputs.
    pub fn describe(&self) -> String {
        format!("{} ({} bytes, SM3 {})", self.path, self.bytes, self.sm3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(name: &str, text: &str, fields: &[&str]) -> Result<Vec<Record>, InputError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        for_each_record(&path, fields, &|_| {}, |r| {
            out.push(r);
            Ok(())
        })
        .map(|()| out)
        .map_err(|e| match e {
            InputError::Invalid { line, message, .. } => InputError::invalid(name, line, message),
            other => other,
        })
    }

    #[test]
    fn jsonl_picks_fields_and_names_bad_lines() {
        let records = collect(
            "d.jsonl",
            "{\"text\":\"a\",\"label\":1,\"x\":{\"y\":[1,2]}}\n\n{\"label\":\"0\",\"text\":\"b\"}\n",
            &["text", "label"],
        )
        .unwrap();
        assert_eq!(records[0].fields, vec![Some("a".into()), Some("1".into())]);
        assert_eq!(records[1].line, 3);
        let err = collect("d.jsonl", "{\"text\":\"a\"}\n{\"text\": oops}\n", &["text"])
            .unwrap_err()
            .to_string();
        insta::assert_snapshot!(err, @"`d.jsonl:2`: invalid JSON: expected value at line 1 column 10");
    }

    #[test]
    fn csv_with_bom_and_missing_column() {
        let text = "\u{feff},split,label,TEXT\n1,dev,1,\"a, b\"\n2,dev,0,c\n";
        let records = collect("d.csv", text, &["TEXT", "label"]).unwrap();
        assert_eq!(
            records[0].fields,
            vec![Some("a, b".into()), Some("1".into())]
        );
        assert_eq!(records[1].line, 3);
        let err = collect("d.csv", text, &["text"]).unwrap_err().to_string();
        insta::assert_snapshot!(err, @"`d.csv:1`: no column `text` in the header (columns: ``, `split`, `label`, `TEXT`)");
        let err = collect("d.csv", "a,b\n1,2\n3\n", &["a"])
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`d.csv:3`: malformed CSV record"), "{err}");
    }

    #[test]
    fn digest_is_streamed_and_equal_to_the_one_shot_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.bin");
        let bytes: Vec<u8> = (0..3_000_017u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (sm3, n) = digest_file(&path).unwrap();
        assert_eq!(n, bytes.len() as u64);
        assert_eq!(sm3, hex::encode(hegui_sm3::digest(&bytes)));
    }

    #[test]
    fn json_strings_are_borrowed_unless_escaped() {
        let picked = pick_json(
            br#"{"a":"plain","b":"esc\"aped","c":3}"#,
            &["a", "b", "c", "d"],
        )
        .unwrap();
        assert!(matches!(picked[0], Some(Cow::Borrowed("plain"))));
        assert!(matches!(picked[1], Some(Cow::Owned(_))));
        assert_eq!(picked[1].as_deref(), Some("esc\"aped"));
        assert_eq!(picked[2].as_deref(), Some("3"));
        assert_eq!(picked[3], None);
        let line = r#"{"c":3,"a":"平文","b":"esc\"aped"}"#;
        let picked = pick_json_str(utf8(line.as_bytes()).unwrap(), &["a", "b", "c"]).unwrap();
        assert!(matches!(picked[0], Some(Cow::Borrowed("平文"))));
        assert_eq!(picked[1].as_deref(), Some("esc\"aped"));
        assert_eq!(picked[2].as_deref(), Some("3"));
        assert!(utf8(b"ok \xff").is_err());
    }
}
