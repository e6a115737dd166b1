//! `hegui label read` and `hegui label verify`: a row (or a JSON object) per file. `read` says
//! what is there without keys: the label, its carriers, the Annex E format verdict and whether a
//! signature is present; only `verify` checks signatures, against trusted public keys.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use hegui_keys::{KeyRing, VerifyingKey};
use hegui_label::{Format, Found, SignaturePresence, Verdict};

use super::{Progress, collect, detect, load_key};

fn read_found(path: &Path) -> anyhow::Result<(Format, Option<Found>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let format = detect(path, &bytes)?;
    let found = hegui_label::read_label_as(&bytes, format)
        .with_context(|| format!("`{}`", path.display()))?;
    Ok((format, found))
}

pub(super) fn read(paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let files = collect(paths)?;
    let progress = Progress::new(files.len());
    let mut records = Vec::new();
    let mut errors = 0;
    for (index, (path, _)) in files.iter().enumerate() {
        progress.tick(index, path);
        match read_found(path) {
            Ok((format, found)) => records.push((path.clone(), format, found)),
            Err(err) => {
                errors += 1;
                progress.done();
                eprintln!("error: {err:#}");
            }
        }
    }
    progress.done();
    let labeled = records.iter().filter(|r| r.2.is_some()).count();
    if json {
        let out: Vec<_> = records
            .iter()
            .map(|(path, format, found)| read_record(path, *format, found.as_ref()))
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for (path, format, found) in &records {
            match found {
                None => println!("{}\t{format}\tno label", path.display()),
                Some(f) => {
                    println!("{}\t{format}\t{}", path.display(), read_line(f));
                    for warning in &f.warnings {
                        eprintln!("warning: `{}`: {warning}", path.display());
                    }
                }
            }
        }
    }
    eprintln!(
        "{} file(s): {labeled} labeled, {} without a label, {errors} unreadable",
        records.len() + errors,
        records.len() - labeled
    );
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// One `label read` table row after the path and format: the carriers, the producer fields, the
/// Annex E format verdict and whether a signature is there. The signature is not checked here
/// (that needs the keys and the content: `label verify`), so the row never calls it good.
fn read_line(found: &Found) -> String {
    let mut carriers = found.carrier.name().to_string();
    for other in &found.other_carriers {
        carriers.push('+');
        carriers.push_str(other.name());
    }
    let format = if found.format_is_valid() {
        "valid".to_string()
    } else {
        format!("invalid ({})", found.problems.join("; "))
    };
    let signature = match found.signature() {
        SignaturePresence::Present => "present, not checked (run `hegui label verify`)",
        SignaturePresence::Absent => "absent",
        SignaturePresence::Other => "other, not checked (`ReservedCode1` is not a hegui code)",
    };
    format!(
        "{carriers}\tLabel={} ContentProducer={} ProduceID={}\tformat: {format}\tsignature: {signature}",
        found.label.label, found.label.content_producer, found.label.produce_id
    )
}

/// One `label read --format json` record: the label as found, the Annex E format verdict and
/// the signature's presence, marked unchecked.
fn read_record(path: &Path, format: Format, found: Option<&Found>) -> serde_json::Value {
    serde_json::json!({
        "file": path,
        "format": format,
        "label": found,
        "label_format": found.map(|f| if f.format_is_valid() { "valid" } else { "invalid" }),
        "signature": found.map(Found::signature),
        "signature_checked": false,
    })
}

/// `label verify`: exit 0 when every file is intact, 1 when one is not (a finding), 2 when one
/// could not be read or parsed (an input error: the answer is incomplete).
pub(super) fn verify(
    paths: &[PathBuf],
    public_keys: &[PathBuf],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut ring = KeyRing::new();
    for path in public_keys {
        ring.insert(load_key("public key", path, VerifyingKey::load)?);
    }
    let files = collect(paths)?;
    let progress = Progress::new(files.len());
    let mut results: Vec<(PathBuf, Result<Verdict, String>)> = Vec::new();
    for (index, (path, _)) in files.iter().enumerate() {
        progress.tick(index, path);
        let verdict = std::fs::read(path)
            .with_context(|| format!("cannot read `{}`", path.display()))
            .and_then(|bytes| {
                let format = detect(path, &bytes)?;
                Ok(hegui_label::verify_as(&bytes, format, &ring)?)
            })
            .map_err(|e| format!("{e:#}"));
        results.push((path.clone(), verdict));
    }
    progress.done();
    let intact = results
        .iter()
        .filter(|(_, v)| v.as_ref().is_ok_and(Verdict::is_intact))
        .count();
    let errors = results.iter().filter(|(_, v)| v.is_err()).count();
    let mut summary = format!("{intact} of {} file(s) intact", results.len());
    if errors > 0 {
        summary.push_str(&format!(", {errors} unreadable"));
    }
    if json {
        let out: Vec<_> = results
            .iter()
            .map(|(path, v)| match v {
                Ok(verdict) => serde_json::json!({"file": path, "result": verdict}),
                Err(e) => serde_json::json!({"file": path, "error": e}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        // stdout holds only the JSON document.
        eprintln!("{summary}");
    } else {
        for (path, v) in &results {
            match v {
                Ok(Verdict::Intact { key_id }) => {
                    println!("intact\t{}\tkey {key_id}", path.display());
                }
                Ok(Verdict::UnknownKey { key_id }) => println!(
                    "unknown-key\t{}\tkey {key_id} is not trusted",
                    path.display()
                ),
                Ok(Verdict::Absent) => {
                    println!("absent\t{}\tno label (possibly stripped)", path.display());
                }
                Ok(other) => println!("{}\t{}", other.word(), path.display()),
                Err(e) => println!("error\t{}\t{e}", path.display()),
            }
        }
        println!("{summary}");
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else if intact == results.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
