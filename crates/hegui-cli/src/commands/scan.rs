//! `hegui scan`: screens a text, or a field of every record of a JSONL dataset, with the feature
//! library (the bundled sample lexicon unless `--lexicon` names a directory or a compiled file).
//!
//! Exit code 1 when any `block` hit is found, so that `hegui scan` works as a pipeline gate.
//!
//! The table format is drawn by comfy-table, which measures cells by display width
//! (`unicode-width`: CJK and full-width characters take two terminal columns, combining and
//! zero-width characters none). `format!("{:<16}")` pads by `char` count instead, so every
//! Chinese character in a cell pushed the rest of its row one column to the right.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use hegui_lexicon::{Hit, Lexicon, Matcher, Verdict, taxonomy};
use serde_json::{Value, json};

/// Arguments of `hegui scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The text file or JSONL dataset to scan; `-` or nothing reads stdin.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,

    /// Lexicon directory (with `lexicon.toml`) or compiled file (`hegui lexicon build`);
    /// default: the bundled sample lexicon.
    #[arg(long, value_name = "DIR|FILE", env = "HEGUI_LEXICON")]
    lexicon: Option<PathBuf>,

    /// Treat the input as JSON Lines and scan the field at `--field` of every record.
    #[arg(long, requires = "field")]
    jsonl: bool,

    /// Path of the field to scan in each JSONL record: keys and array indexes joined by `.`
    /// (`text`, `messages.1.content`).
    #[arg(long, value_name = "PATH")]
    field: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Human-readable table.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per hit (text) or per record with hits (JSONL).
    Jsonl,
}

/// Loads the lexicon named by `--lexicon` (directory or compiled file), or the sample.
pub(crate) fn load_matcher(path: Option<&Path>) -> anyhow::Result<Matcher> {
    let Some(path) = path else {
        return Ok(Matcher::build(&Lexicon::sample())?);
    };
    if path.is_dir() {
        let lexicon = Lexicon::from_dir(path)
            .with_context(|| format!("cannot load the lexicon `{}`", path.display()))?;
        Ok(Matcher::build(&lexicon)?)
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
        Matcher::from_bytes(&bytes)
            .with_context(|| format!("cannot load the lexicon `{}`", path.display()))
    }
}

/// Writes `text` to `path` through a temporary file and a rename, or to stdout.
pub(crate) fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
        Some(path) => super::write_atomically(path, text)?,
    }
    Ok(())
}

/// Runs `hegui scan`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Args {
        input,
        lexicon,
        jsonl,
        field,
        format,
        output,
    } = args;
    let matcher = load_matcher(lexicon.as_deref())?;
    let source = match &input {
        Some(p) if p.as_os_str() != "-" => p.display().to_string(),
        _ => "-".to_string(),
    };
    let report = if jsonl {
        let field = field.unwrap_or_default();
        scan_jsonl(&matcher, input.as_deref(), &source, &field, format)?
    } else {
        let text = read_text(input.as_deref())?;
        scan_text(&matcher, &text, &source, format)
    };
    write_output(output.as_deref(), &report.output)?;
    Ok(if report.verdict == Verdict::Block {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct Report {
    output: String,
    verdict: Verdict,
}

fn open(input: Option<&Path>) -> anyhow::Result<Box<dyn BufRead>> {
    match input {
        Some(p) if p.as_os_str() != "-" => {
            let file =
                std::fs::File::open(p).with_context(|| format!("cannot read `{}`", p.display()))?;
            Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
        }
        _ => Ok(Box::new(std::io::BufReader::new(std::io::stdin()))),
    }
}

fn read_text(input: Option<&Path>) -> anyhow::Result<String> {
    let name = input.map_or("-".into(), |p| p.display().to_string());
    let mut bytes = Vec::new();
    open(input)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read `{name}`"))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "`{name}` is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Line (1-based) and column (1-based, in characters) of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn hit_json(h: &Hit, text: &str) -> Value {
    let mut v = json!({
        "start": h.start,
        "end": h.end,
        "text": h.display_text(text),
        "pattern": h.rule.pattern,
        "risk": h.rule.risk,
        "level": h.rule.level.as_str(),
        "note": h.rule.note,
    });
    if let Some(p) = &h.pii {
        v["pii"] = json!(p.kind.as_str());
    }
    v
}

#[derive(Default)]
struct Summary {
    /// risk → (hits, records with hits)
    by_risk: BTreeMap<String, (usize, usize)>,
    by_level: BTreeMap<&'static str, usize>,
}

impl Summary {
    fn add(&mut self, hits: &[Hit]) {
        let mut seen: Vec<&str> = Vec::new();
        for h in hits {
            let e = self.by_risk.entry(h.rule.risk.clone()).or_default();
            e.0 += 1;
            if !seen.contains(&h.rule.risk.as_str()) {
                seen.push(&h.rule.risk);
                e.1 += 1;
            }
            *self.by_level.entry(h.rule.level.as_str()).or_default() += 1;
        }
    }

    fn json(&self) -> Value {
        let by_risk: serde_json::Map<String, Value> = self
            .by_risk
            .iter()
            .map(|(risk, (hits, records))| {
                (
                    risk.clone(),
                    json!({
                        "name": taxonomy::risk(risk).map(|r| r.name_zh),
                        "hits": hits,
                        "records": records,
                    }),
                )
            })
            .collect();
        json!({ "by_risk": by_risk, "by_level": self.by_level })
    }

    fn table(&self, out: &mut String) {
        if self.by_risk.is_empty() {
            return;
        }
        let mut table = table(["risk", "hits", "records", "name"], &[1, 2]);
        for (risk, (hits, records)) in &self.by_risk {
            let name = taxonomy::risk(risk).map_or("(custom)", |r| r.name_zh);
            table.add_row([
                risk.clone(),
                hits.to_string(),
                records.to_string(),
                name.to_string(),
            ]);
        }
        out.push_str(&format!("\nby risk:\n{table}\n"));
    }
}

/// A table with the project's preset (as `hegui rules` and `hegui assess` draw theirs), the
/// given header, and the columns at `right` aligned right (numbers).
fn table<const N: usize>(header: [&str; N], right: &[usize]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(header);
    for &index in right {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
    table
}

/// One row per hit. The matched text is shown escaped (`{:?}`), so that zero-width and other
/// invisible characters used for evasion are visible.
fn hits_table(hits: &[Hit], text: &str) -> comfy_table::Table {
    let mut table = table(
        ["line:col", "level", "risk", "pattern", "text", "note"],
        &[],
    );
    for h in hits {
        let (line, column) = line_col(text, h.start);
        table.add_row([
            format!("{line}:{column}"),
            h.rule.level.as_str().to_string(),
            h.rule.risk.clone(),
            h.rule.pattern.clone(),
            format!("{:?}", h.display_text(text)),
            h.rule.note.clone(),
        ]);
    }
    table
}

fn scan_text(m: &Matcher, text: &str, source: &str, format: Format) -> Report {
    let hits = m.find_all(text);
    let verdict = Verdict::of(&hits);
    let (name, version) = m.name_version();
    let mut summary = Summary::default();
    summary.add(&hits);
    let output = match format {
        Format::Json => {
            let list: Vec<Value> = hits
                .iter()
                .map(|h| {
                    let mut v = hit_json(h, text);
                    let (line, column) = line_col(text, h.start);
                    v["line"] = json!(line);
                    v["column"] = json!(column);
                    v
                })
                .collect();
            let doc = json!({
                "source": source,
                "lexicon": { "name": name, "version": version },
                "verdict": verdict.as_str(),
                "hits": list,
                "summary": summary.json(),
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        Format::Jsonl => {
            let mut out = String::new();
            for h in &hits {
                let mut v = hit_json(h, text);
                let (line, column) = line_col(text, h.start);
                v["line"] = json!(line);
                v["column"] = json!(column);
                out.push_str(&v.to_string());
                out.push('\n');
            }
            out
        }
        Format::Table => {
            let mut out = format!(
                "{source}: {verdict} ({} hits; lexicon {name} {version})\n",
                hits.len()
            );
            if !hits.is_empty() {
                out.push_str(&format!("\n{}\n", hits_table(&hits, text)));
            }
            summary.table(&mut out);
            out
        }
    };
    Report { output, verdict }
}

/// Follows a `.`-separated path of keys and array indexes.
fn field_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = value;
    for key in path.split('.') {
        cur = match cur {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn scan_jsonl(
    m: &Matcher,
    input: Option<&Path>,
    source: &str,
    field: &str,
    format: Format,
) -> anyhow::Result<Report> {
    let reader = open(input)?;
    let total_bytes = input
        .filter(|p| p.as_os_str() != "-")
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |md| md.len());
    let progress = std::io::stderr().is_terminal() && total_bytes > 8 << 20;
    let mut summary = Summary::default();
    let mut verdict = Verdict::Clean;
    let (mut records, mut flagged, mut done_bytes, mut next_report) = (0usize, 0usize, 0u64, 0u64);
    let mut verdicts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut rows: Vec<Value> = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let lineno = index + 1;
        let line = line.with_context(|| format!("`{source}:{lineno}`: cannot read the line"))?;
        done_bytes += line.len() as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let record: Value = serde_json::from_str(&line)
            .with_context(|| format!("`{source}:{lineno}`: not a JSON object"))?;
        let Some(value) = field_at(&record, field) else {
            bail!("`{source}:{lineno}`: field `{field}` not found");
        };
        let Some(text) = value.as_str() else {
            bail!("`{source}:{lineno}`: field `{field}` is not a string");
        };
        records += 1;
        let hits = m.find_all(text);
        let v = Verdict::of(&hits);
        verdict = verdict.max(v);
        *verdicts.entry(v.as_str()).or_default() += 1;
        if !hits.is_empty() {
            flagged += 1;
            summary.add(&hits);
            rows.push(json!({
                "line": lineno,
                "verdict": v.as_str(),
                "hits": hits.iter().map(|h| hit_json(h, text)).collect::<Vec<_>>(),
            }));
        }
        if progress && done_bytes >= next_report {
            eprint!(
                "\rscanned {:.1} / {:.1} MB, {records} records",
                done_bytes as f64 / 1e6,
                total_bytes as f64 / 1e6
            );
            next_report = done_bytes + (1 << 20);
        }
    }
    if progress {
        eprintln!();
    }
    let (name, version) = m.name_version();
    let output = match format {
        Format::Json => {
            let doc = json!({
                "source": source,
                "field": field,
                "lexicon": { "name": name, "version": version },
                "verdict": verdict.as_str(),
                "records": records,
                "records_with_hits": flagged,
                "verdicts": verdicts,
                "summary": summary.json(),
                "hits": rows,
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        Format::Jsonl => {
            let mut out = String::new();
            for row in &rows {
                out.push_str(&row.to_string());
                out.push('\n');
            }
            out
        }
        Format::Table => {
            let mut out = format!(
                "{source} (field `{field}`): {verdict}; {records} records, {flagged} with hits (lexicon {name} {version})\n"
            );
            let mut by_verdict = table(["verdict", "records"], &[1]);
            for (v, n) in &verdicts {
                by_verdict.add_row([v.to_string(), n.to_string()]);
            }
            out.push_str(&format!("\nby verdict:\n{by_verdict}\n"));
            summary.table(&mut out);
            out
        }
    };
    Ok(Report { output, verdict })
}
