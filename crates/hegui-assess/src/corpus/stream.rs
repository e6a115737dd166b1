//! The stream of the corpus audit: every record of every input read once, counted against its
//! source and offered to that source's seeded reservoir (and, with `scan_all`, scanned).
//!
//! Why two ways of reading: a corpus is often one large JSONL file, and parsing it is the
//! slow part, so line-oriented files (JSONL, text) are read one after another, each by one
//! reading thread and `threads` parsing workers ([`input::par_for_each_line`]); CSV (whose
//! records may span lines) and Parquet (whose decoding is per column chunk) are read whole by
//! one thread each, several files at once. Either way a record's sample key is
//! [`stats::key`]`(seed, file, line)`, so the sample is the same whatever the threads do, and
//! each worker's tallies merge exactly ([`Reservoir::merge`]).
//!
//! Per record the JSONL path copies nothing: the line is checked as UTF-8 once (SIMD), its
//! text borrowed from the block, and only the few records a reservoir keeps are copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use hegui_lexicon::{Level, Matcher};

use super::{Options, Registry};
use crate::input::{self, InputError, InputFile, Layout};
use crate::stats::{self, Reservoir};

/// What records name when they have no source.
pub(super) const UNNAMED: &str = "(no source)";

/// A sampled item.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) file: usize,
    pub(super) line: u64,
    pub(super) text: String,
}

#[derive(Debug, Default)]
pub(super) struct Counts {
    pub(super) records: u64,
    pub(super) bytes: u64,
    /// With `scan_all`: records with a block hit, with a PII hit.
    pub(super) block: u64,
    pub(super) pii: u64,
}

pub(super) struct SourceTally {
    pub(super) counts: Counts,
    pub(super) sample: Reservoir<Item>,
}

/// Tallies by source name.
pub(super) type Tallies = BTreeMap<String, SourceTally>;

/// What one thread read of whole files: (index of the file, the file named, its tallies).
type FilesRead = Vec<(usize, InputFile, Tallies)>;

/// Adds `from` to `into`: counts add up, reservoirs merge.
fn merge(into: &mut Tallies, from: Tallies) {
    for (name, tally) in from {
        match into.get_mut(&name) {
            Some(t) => {
                t.counts.records += tally.counts.records;
                t.counts.bytes += tally.counts.bytes;
                t.counts.block += tally.counts.block;
                t.counts.pii += tally.counts.pii;
                t.sample.merge(tally.sample);
            }
            None => {
                into.insert(name, tally);
            }
        }
    }
}

/// Counts one file's records.
struct Tallier<'a> {
    file: usize,
    fixed_source: Option<&'a str>,
    matcher: &'a Matcher,
    options: &'a Options,
}

impl Tallier<'_> {
    fn add(&self, tallies: &mut Tallies, line: u64, text: &str, source: Option<&str>) {
        let source = source.or(self.fixed_source).unwrap_or(UNNAMED);
        if !tallies.contains_key(source) {
            tallies.insert(
                source.to_string(),
                SourceTally {
                    counts: Counts::default(),
                    sample: Reservoir::new(self.options.sample_per_source),
                },
            );
        }
        let Some(tally) = tallies.get_mut(source) else {
            return;
        };
        tally.counts.records += 1;
        tally.counts.bytes += text.len() as u64;
        if self.options.scan_all {
            let hits = self.matcher.find_all(text);
            tally.counts.block += u64::from(
                hits.iter()
                    .any(|h| h.rule.level == Level::Block && h.pii.is_none()),
            );
            tally.counts.pii += u64::from(hits.iter().any(|h| h.pii.is_some()));
        }
        let key = stats::key(self.options.seed, self.file as u64, line);
        tally.sample.offer_with(key, || Item {
            file: self.file,
            line,
            text: text.to_string(),
        });
    }

    fn missing_text(&self, name: &str, line: u64) -> InputError {
        InputError::invalid(
            name,
            line,
            format!("no `{}` field", self.options.text_field),
        )
    }
}

/// Reads every input; returns the tallies and the inputs named by digest, in `paths` order.
pub(super) fn read_all(
    paths: &[PathBuf],
    registry: Option<&Registry>,
    matcher: &Matcher,
    options: &Options,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(Tallies, Vec<InputFile>), InputError> {
    let mut tallies = Tallies::new();
    let mut inputs: Vec<Option<InputFile>> = vec![None; paths.len()];
    let mut whole = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let tallier = Tallier {
            file: i,
            fixed_source: registry.and_then(|r| r.source_of_file(path)),
            matcher,
            options,
        };
        match Layout::of(path)? {
            Layout::Jsonl => {
                let (parts, file) = read_jsonl(path, &tallier, on_bytes)?;
                parts.into_iter().for_each(|p| merge(&mut tallies, p));
                inputs[i] = Some(file);
            }
            Layout::Text => {
                let (parts, file) = read_text(path, &tallier, on_bytes)?;
                parts.into_iter().for_each(|p| merge(&mut tallies, p));
                inputs[i] = Some(file);
            }
            Layout::Csv | Layout::Tsv | Layout::Parquet => whole.push((i, tallier)),
        }
    }
    let next = AtomicUsize::new(0);
    let threads = options.threads.clamp(1, whole.len().max(1));
    let results: Vec<Result<FilesRead, InputError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some((i, tallier)) = whole.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let (file, part) = read_records(&paths[*i], tallier, on_bytes)?;
                        done.push((*i, file, part));
                    }
                    Ok(done)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    for result in results {
        for (i, file, part) in result? {
            merge(&mut tallies, part);
            inputs[i] = Some(file);
        }
    }
    Ok((tallies, inputs.into_iter().flatten().collect()))
}

/// A JSONL file on the parallel line reader, fields borrowed from the line.
fn read_jsonl(
    path: &Path,
    tallier: &Tallier<'_>,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<Tallies>, InputFile), InputError> {
    let name = path.display().to_string();
    let options = tallier.options;
    let mut fields = vec![options.text_field.as_str()];
    if let Some(f) = &options.source_field {
        fields.push(f);
    }
    input::par_for_each_line(
        path,
        options.threads,
        on_bytes,
        Tallies::new,
        |tallies, number, line| {
            let line = line.trim_ascii();
            if line.is_empty() {
                return Ok(());
            }
            let line = input::utf8(line)
                .map_err(|e| InputError::invalid(&name, number, format!("not UTF-8: {e}")))?;
            let picked = input::pick_json_str(line, &fields)
                .map_err(|e| InputError::invalid(&name, number, format!("invalid JSON: {e}")))?;
            let Some(text) = picked[0].as_deref() else {
                return Err(tallier.missing_text(&name, number));
            };
            let source = picked.get(1).and_then(|s| s.as_deref());
            tallier.add(tallies, number, text, source);
            Ok(())
        },
    )
}

/// A text file (one record a line) on the parallel line reader.
fn read_text(
    path: &Path,
    tallier: &Tallier<'_>,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(Vec<Tallies>, InputFile), InputError> {
    let name = path.display().to_string();
    let options = tallier.options;
    let mut fields =
        std::iter::once(options.text_field.as_str()).chain(options.source_field.as_deref());
    if let Some(other) = fields.find(|f| *f != "text") {
        return Err(InputError::invalid(
            &name,
            0,
            format!("a text file has one field, `text`, not `{other}`"),
        ));
    }
    input::par_for_each_line(
        path,
        options.threads,
        on_bytes,
        Tallies::new,
        |tallies, number, line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                return Ok(());
            }
            let text = input::utf8(line)
                .map_err(|e| InputError::invalid(&name, number, format!("not UTF-8 text: {e}")))?;
            tallier.add(tallies, number, text, None);
            Ok(())
        },
    )
}

/// A CSV, TSV or Parquet file, one record at a time on this thread.
fn read_records(
    path: &Path,
    tallier: &Tallier<'_>,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<(InputFile, Tallies), InputError> {
    let name = path.display().to_string();
    let options = tallier.options;
    let mut fields = vec![options.text_field.as_str()];
    if let Some(f) = &options.source_field {
        fields.push(f);
    }
    let mut tallies = Tallies::new();
    input::for_each_record(path, &fields, on_bytes, |record| {
        let mut fields = record.fields.into_iter();
        let Some(text) = fields.next().flatten() else {
            return Err(tallier.missing_text(&name, record.line));
        };
        let source = fields.next().flatten();
        tallier.add(&mut tallies, record.line, &text, source.as_deref());
        Ok(())
    })?;
    Ok((InputFile::of(path)?, tallies))
}
