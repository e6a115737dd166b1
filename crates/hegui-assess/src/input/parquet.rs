//! Reading records from Parquet files, one row group at a time and in batches of rows within
//! it, with the `parquet` crate's column readers (no arrow: the few top-level columns asked for
//! are decoded straight into text).
//!
//! Why column readers and not the crate's row API: the row API builds a tree of typed fields
//! for every row, and the audit wants two or three strings; why not arrow: it would more than
//! double the build for the same strings. Memory stays constant: a batch of [`BATCH`] rows of
//! the selected columns, plus the page the crate is decoding; a row group is never loaded whole.
//!
//! What is read: top-level, non-repeated columns. The first field asked for (the text, by the
//! callers' convention) must be a string column (`BYTE_ARRAY`, logical type STRING / UTF8,
//! JSON or ENUM, or none); the other fields may also be integer (`INT32`, `INT64`) or boolean
//! columns, given as their text like JSON numbers. A null is a missing field. Anything else is
//! an error naming the file, the column and its type. Codecs: uncompressed, snappy and zstd.
//!
//! Every call into the crate that decodes the file goes through [`decoded`]: the crate panics
//! on some corrupt files, and that panic becomes the same error as its own errors do.

use std::path::Path;

use parquet::basic::{LogicalType, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{BoolType, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::schema::types::ColumnDescriptor;

use super::contain::contain;
use super::{InputError, Record};

/// Rows decoded per column before they are handed out.
pub(super) const BATCH: usize = 4096;

/// Where a Parquet problem is: the error text names file, row group (`2 of 3`, counted from 1),
/// row (1-based in the group, and in the file) and column.
fn at(
    name: &str,
    group: (usize, usize),
    row: Option<(u64, u64)>,
    column: &str,
    message: impl std::fmt::Display,
) -> InputError {
    let row = row.map_or(String::new(), |(in_group, in_file)| {
        format!(", row {in_group} (row {in_file} of the file)")
    });
    InputError::invalid(
        name,
        0,
        format!(
            "row group {} of {}{row}, column `{column}`: {message}",
            group.0 + 1,
            group.1
        ),
    )
}

/// Runs one decoding call into the `parquet` crate: its error, or its panic (see
/// [`contain`]), as a message.
fn decoded<T, E: std::fmt::Display>(call: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    match contain(call) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(panic) => Err(format!("corrupt data (the Parquet reader failed: {panic})")),
    }
}

/// What a selected column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int32,
    Int64,
    Bool,
}

/// A column reader of one of the kinds read, with its buffers.
enum Reader {
    Text(ColumnReaderImpl<ByteArrayType>),
    Int32(ColumnReaderImpl<Int32Type>),
    Int64(ColumnReaderImpl<Int64Type>),
    Bool(ColumnReaderImpl<BoolType>),
}

/// Describes a column's type as a user would name it: `INT64`, `BYTE_ARRAY (STRING)`.
fn type_name(column: &ColumnDescriptor) -> String {
    match column.logical_type_ref() {
        Some(logical) => format!("{} ({logical:?})", column.physical_type()),
        None => column.physical_type().to_string(),
    }
}

/// The kind of `column` if hegui reads it for this field, else why not.
fn kind_of(column: &ColumnDescriptor, text_only: bool) -> Result<Kind, String> {
    if column.max_rep_level() > 0 || column.path().parts().len() != 1 {
        return Err(format!(
            "is a nested or repeated column ({}); only top-level columns are read",
            type_name(column)
        ));
    }
    let logical = column.logical_type_ref();
    let kind = match column.physical_type() {
        PhysicalType::BYTE_ARRAY
            if matches!(
                logical,
                None | Some(LogicalType::String | LogicalType::Json | LogicalType::Enum)
            ) =>
        {
            Kind::Text
        }
        PhysicalType::INT32
            if !text_only && matches!(logical, None | Some(LogicalType::Integer { .. })) =>
        {
            Kind::Int32
        }
        PhysicalType::INT64
            if !text_only && matches!(logical, None | Some(LogicalType::Integer { .. })) =>
        {
            Kind::Int64
        }
        PhysicalType::BOOLEAN if !text_only => Kind::Bool,
        _ => {
            let want = if text_only {
                "a string column (BYTE_ARRAY, STRING)"
            } else {
                "a string, integer or boolean column"
            };
            return Err(format!("is {}; expected {want}", type_name(column)));
        }
    };
    Ok(kind)
}

/// Streams the records of the Parquet file `path` (see the module docs); a record's `line` is
/// its 1-based row number in the file.
pub(super) fn parquet_records(
    path: &Path,
    name: &str,
    fields: &[&str],
    on_bytes: &(dyn Fn(u64) + Sync),
    each: &mut impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let file = std::fs::File::open(path).map_err(|e| InputError::io(name, e))?;
    let reader = decoded(|| SerializedFileReader::new(file))
        .map_err(|e| InputError::invalid(name, 0, format!("not a readable Parquet file: {e}")))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    // The selected columns: index and kind, checked once for the whole file.
    let mut selected = Vec::with_capacity(fields.len());
    for (i, field) in fields.iter().enumerate() {
        let Some(index) = (0..schema.num_columns())
            .find(|&c| schema.column(c).path().parts() == [field.to_string()])
        else {
            let have: Vec<String> = schema
                .root_schema()
                .get_fields()
                .iter()
                .map(|f| format!("`{}`", f.name()))
                .collect();
            return Err(InputError::invalid(
                name,
                0,
                format!("no column `{field}` (columns: {})", have.join(", ")),
            ));
        };
        let kind = kind_of(&schema.column(index), i == 0)
            .map_err(|why| InputError::invalid(name, 0, format!("column `{field}` {why}")))?;
        selected.push((index, kind, schema.column(index).max_def_level()));
    }
    let mut first_row = 1u64;
    let groups = reader.num_row_groups();
    for index in 0..groups {
        let group = (index, groups);
        let row_group = decoded(|| reader.get_row_group(index)).map_err(|e| {
            InputError::invalid(name, 0, format!("row group {} of {groups}: {e}", index + 1))
        })?;
        let rows = u64::try_from(row_group.metadata().num_rows()).unwrap_or(0);
        read_group(
            row_group.as_ref(),
            name,
            group,
            first_row,
            fields,
            &selected,
            each,
        )?;
        on_bytes(u64::try_from(row_group.metadata().compressed_size()).unwrap_or(0));
        first_row += rows;
    }
    Ok(())
}

fn read_group(
    row_group: &dyn RowGroupReader,
    name: &str,
    group: (usize, usize),
    first_row: u64,
    fields: &[&str],
    selected: &[(usize, Kind, i16)],
    each: &mut impl FnMut(Record) -> Result<(), InputError>,
) -> Result<(), InputError> {
    let mut readers = Vec::with_capacity(selected.len());
    for (&(index, kind, _), field) in selected.iter().zip(fields) {
        let reader = decoded(|| row_group.get_column_reader(index))
            .map_err(|e| at(name, group, None, field, e))?;
        readers.push(match (kind, reader) {
            (Kind::Text, ColumnReader::ByteArrayColumnReader(r)) => Reader::Text(r),
            (Kind::Int32, ColumnReader::Int32ColumnReader(r)) => Reader::Int32(r),
            (Kind::Int64, ColumnReader::Int64ColumnReader(r)) => Reader::Int64(r),
            (Kind::Bool, ColumnReader::BoolColumnReader(r)) => Reader::Bool(r),
            _ => return Err(at(name, group, None, field, "unexpected column reader")),
        });
    }
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(BATCH); readers.len()];
    let mut levels = Vec::with_capacity(BATCH);
    let mut row = first_row;
    loop {
        let mut batch = None;
        let position = |offset: usize| {
            let in_group = row - first_row + offset as u64 + 1;
            (in_group, row + offset as u64)
        };
        for (((reader, column), field), &(_, _, max_def)) in readers
            .iter_mut()
            .zip(&mut columns)
            .zip(fields)
            .zip(selected)
        {
            column.clear();
            let (l, c) = (&mut levels, &mut *column);
            let n = match reader {
                Reader::Text(r) => read_batch(r, max_def, l, c, |v| {
                    std::str::from_utf8(v.data()).map(str::to_string)
                }),
                Reader::Int32(r) => read_batch(r, max_def, l, c, shown),
                Reader::Int64(r) => read_batch(r, max_def, l, c, shown),
                Reader::Bool(r) => read_batch(r, max_def, l, c, shown),
            }
            .map_err(|(offset, e)| at(name, group, offset.map(position), field, e))?;
            match batch {
                None => batch = Some(n),
                Some(m) if m == n => {}
                Some(m) => {
                    return Err(at(
                        name,
                        group,
                        Some(position(0)),
                        field,
                        format!("{n} rows where the other columns have {m}"),
                    ));
                }
            }
        }
        let n = batch.unwrap_or(0);
        if n == 0 {
            return Ok(());
        }
        for i in 0..n {
            each(Record {
                line: row,
                fields: columns.iter_mut().map(|c| c[i].take()).collect(),
            })?;
            row += 1;
        }
    }
}

/// A number or boolean as its text.
fn shown(v: &impl ToString) -> Result<String, std::convert::Infallible> {
    Ok(v.to_string())
}

/// Reads up to [`BATCH`] rows of one column into `out` (`None` for nulls); the error carries
/// the 0-based offset of the bad row in the batch when one row is to blame.
fn read_batch<T: DataType, E: std::fmt::Display>(
    reader: &mut ColumnReaderImpl<T>,
    max_def: i16,
    levels: &mut Vec<i16>,
    out: &mut Vec<Option<String>>,
    text: impl Fn(&T::T) -> Result<String, E>,
) -> Result<usize, (Option<usize>, String)> {
    let mut values = Vec::with_capacity(BATCH);
    levels.clear();
    let (records, _, _) = decoded(|| reader.read_records(BATCH, Some(levels), None, &mut values))
        .map_err(|e| (None, e))?;
    let mut values = values.iter();
    for i in 0..records {
        let present = max_def == 0 || levels.get(i).is_some_and(|&l| l == max_def);
        let value = if present {
            let v = values
                .next()
                .ok_or_else(|| (Some(i), "fewer values than rows".to_string()))?;
            Some(text(v).map_err(|e| (Some(i), format!("not UTF-8 text: {e}")))?)
        } else {
            None
        };
        out.push(value);
    }
    Ok(records)
}
