//! Exporting records for a regulator, and checking an export with only the public key.
//!
//! An export is two files: `FILE` (JSON Lines) and `FILE.manifest.json`. The JSONL covers every
//! sequence number from just after a **start** checkpoint to an **end** checkpoint, both signed
//! (the start may be the genesis, seq 0 with the zero hash). Records that match the filter are
//! written in full (`{"seq":…,"record":{…}}`); the others only as their leaf digest
//! (`{"seq":…,"leaf":"…"}`), which reveals nothing about them but lets the reader recompute the
//! chain from the start checkpoint to the end checkpoint. The manifest holds both checkpoints,
//! the filter, the number of full records and the SM3 of the JSONL file.
//!
//! [`verify_export`] needs no database: it checks the file digest, both signatures, every full
//! record's texts against their digests, and that the chain recomputed over all lines ends at
//! the end checkpoint's value.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sm3::Digest as _;
use tokio::io::AsyncWriteExt as _;

use crate::ledger::{self, Break, Checkpoint, GENESIS, Record};
use crate::{Store, StoreError};

/// The manifest's `format` value.
pub const FORMAT: &str = "hegui-audit-export/1";

/// Which records to include in full.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportFilter {
    /// Records at or after this time (ms since the Unix epoch).
    pub since_ms: Option<i64>,
    /// Records before this time.
    pub until_ms: Option<i64>,
    /// Only this end user's records.
    pub user: Option<String>,
    /// Only this tenant's records (the console's exports are one tenant's; the others' are
    /// in the file as leaf digests only, which reveal nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl ExportFilter {
    fn matches(&self, record: &Record) -> bool {
        self.since_ms.is_none_or(|t| record.time_ms >= t)
            && self.until_ms.is_none_or(|t| record.time_ms < t)
            && self.user.as_ref().is_none_or(|u| record.end_user == *u)
            && self.tenant.as_ref().is_none_or(|t| record.tenant == *t)
    }
}

/// The manifest written next to the JSONL file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The chain's hash function: `sm3`.
    pub hash: String,
    /// The JSONL file's name (no directory).
    pub file: String,
    /// SM3 of the JSONL file, hex.
    pub file_sm3: String,
    /// The filter used.
    pub filter: ExportFilter,
    /// Number of full records.
    pub records: u64,
    /// The chain's starting point (`seq` 0 and no signature: the genesis).
    pub start: Checkpoint,
    /// The signed end point.
    pub end: Checkpoint,
}

/// One JSONL line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    leaf: Option<String>,
}

/// The manifest path for an export file: `FILE.manifest.json`.
pub fn manifest_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    PathBuf::from(name)
}

const PAGE: i64 = 20_000;

/// The export file's write buffer: each full buffer is one write on the blocking pool.
const WRITE_BUFFER: usize = 1 << 20;

/// Runs `job` on Tokio's blocking pool; a job that panicked is an error, not a panic here.
async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| StoreError::task_failed("export task", e))
}

impl Store {
    /// Writes an export to `file` and `FILE.manifest.json`. With `key`, a fresh checkpoint is
    /// signed when no stored checkpoint covers the last matching record; without it, one must
    /// exist.
    pub async fn export(
        &self,
        filter: &ExportFilter,
        key: Option<&hegui_keys::SigningKey>,
        file: &Path,
    ) -> Result<Manifest, StoreError> {
        let head = self.head().await?;
        // First pass: the range of matching records.
        let (mut first, mut last, mut count) = (None, None, 0u64);
        let mut from = head.base_seq + 1;
        loop {
            let page = self.records_page(from, PAGE).await?;
            let done = (page.len() as i64) < PAGE;
            for (record, _) in &page {
                if filter.matches(record) {
                    first.get_or_insert(record.seq);
                    last = Some(record.seq);
                    count += 1;
                }
                from = record.seq + 1;
            }
            if done {
                break;
            }
        }
        let (Some(first), Some(last)) = (first, last) else {
            return Err(StoreError::NotFound {
                what: "audit records matching",
                key: format!("{filter:?}"),
            });
        };
        let checkpoints = self.checkpoints_from(head.base_seq).await?;
        let start = checkpoints
            .iter()
            .rev()
            .find(|c| c.seq < first)
            .cloned()
            .or_else(|| {
                (head.base_seq == 0).then(|| Checkpoint {
                    seq: 0,
                    hash: GENESIS,
                    time_ms: 0,
                    reason: "genesis".into(),
                    signature: String::new(),
                })
            })
            .ok_or(StoreError::NeedKey(
                "the prune boundary has no checkpoint to start the export from",
            ))?;
        let end = match checkpoints.iter().find(|c| c.seq >= last) {
            Some(c) => c.clone(),
            None => match key {
                Some(key) => self
                    .checkpoint(key, "export")
                    .await?
                    .ok_or(StoreError::NotFound {
                        what: "audit records",
                        key: "any".into(),
                    })?,
                None => {
                    return Err(StoreError::NeedKey(
                        "no signed checkpoint covers the last exported record",
                    ));
                }
            },
        };
        // Second pass: write start+1 ..= end.
        let io = |action, source| StoreError::Io {
            action,
            path: file.to_path_buf(),
            source,
        };
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // The file is written through Tokio's file type (each buffer's write on the blocking
        // pool) and created, synced and renamed on the blocking pool too: an export of a
        // large ledger from the console must not stall the gateway's request workers.
        let (temp, temp_path) = blocking({
            let dir = dir.to_owned();
            move || new_file_in(&dir)
        })
        .await?
        .map_err(|e| io("create", e))?
        .into_parts();
        let mut hasher = sm3::Sm3::new();
        let mut out =
            tokio::io::BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(temp));
        let mut from = start.seq + 1;
        'pages: loop {
            let page = self.records_page(from, PAGE).await?;
            let done = (page.len() as i64) < PAGE;
            for (record, _) in page {
                if record.seq > end.seq {
                    break 'pages;
                }
                from = record.seq + 1;
                let line = if filter.matches(&record) {
                    Line {
                        seq: record.seq,
                        record: Some(record),
                        leaf: None,
                    }
                } else {
                    Line {
                        seq: record.seq,
                        leaf: Some(hex::encode(record.leaf())),
                        record: None,
                    }
                };
                let mut text = serde_json::to_vec(&line).map_err(|e| StoreError::Invalid {
                    what: "export line",
                    reason: e.to_string(),
                })?;
                text.push(b'\n');
                hasher.update(&text);
                out.write_all(&text).await.map_err(|e| io("write", e))?;
            }
            if done {
                break;
            }
        }
        out.flush().await.map_err(|e| io("write", e))?;
        let written = out.into_inner();
        written.sync_all().await.map_err(|e| io("write", e))?;
        let temp = tempfile::NamedTempFile::from_parts(written.into_std().await, temp_path);
        let manifest = Manifest {
            format: FORMAT.into(),
            hash: "sm3".into(),
            file: file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            file_sm3: hex::encode(hasher.finalize()),
            filter: filter.clone(),
            records: count,
            start,
            end,
        };
        let mut text =
            serde_json::to_string_pretty(&manifest).map_err(|e| StoreError::Invalid {
                what: "manifest",
                reason: e.to_string(),
            })?;
        text.push('\n');
        let (file, dir) = (file.to_owned(), dir.to_owned());
        blocking(move || {
            let io = |action, source| StoreError::Io {
                action,
                path: file.clone(),
                source,
            };
            temp.persist(&file).map_err(|e| io("write", e.error))?;
            let mut temp = new_file_in(&dir).map_err(|e| io("create", e))?;
            temp.write_all(text.as_bytes())
                .map_err(|e| io("write", e))?;
            temp.persist(manifest_path(&file))
                .map_err(|e| io("write", e.error))?;
            Ok::<_, StoreError>(())
        })
        .await??;
        Ok(manifest)
    }
}

/// A temporary file in `dir` for an export about to be renamed into place, created with mode
/// 0o666 so that `open(2)` applies the umask: an export handed to a regulator is an ordinary
/// file, not one only its writer can read (tempfile's default is 0600).
fn new_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// What [`verify_export`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// The manifest.
    pub manifest: Manifest,
    /// Lines checked.
    pub lines: u64,
    /// Full records checked.
    pub records: u64,
    /// The first problem, if any.
    pub broken: Option<Break>,
}

/// Checks an export (`file` and `FILE.manifest.json`) with the public keys in `keys` only.
/// Unreadable or malformed files are errors naming the file and line; a chain or signature that
/// does not hold is a report with `broken` set.
pub fn verify_export(file: &Path, keys: &hegui_keys::KeyRing) -> Result<ExportReport, StoreError> {
    let manifest_file = manifest_path(file);
    let io = |path: &Path, source| StoreError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(&manifest_file).map_err(|e| io(&manifest_file, e))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| StoreError::Invalid {
        what: "manifest",
        reason: format!("`{}`: {e}", manifest_file.display()),
    })?;
    let bytes = std::fs::read(file).map_err(|e| io(file, e))?;
    check_export(&manifest, &bytes, keys)
}

/// [`verify_export`] on bytes already read. Never panics on any input.
pub fn check_export(
    manifest: &Manifest,
    jsonl: &[u8],
    keys: &hegui_keys::KeyRing,
) -> Result<ExportReport, StoreError> {
    let mut report = ExportReport {
        manifest: manifest.clone(),
        lines: 0,
        records: 0,
        broken: None,
    };
    let fail = |mut report: ExportReport, seq: i64, reason: String| {
        report.broken = Some(Break { seq, reason });
        Ok(report)
    };
    if manifest.format != FORMAT || manifest.hash != "sm3" {
        return Err(StoreError::Invalid {
            what: "manifest",
            reason: format!(
                "format `{}` with hash `{}` is not `{FORMAT}` with `sm3`",
                manifest.format, manifest.hash
            ),
        });
    }
    if hex::encode(hegui_keys::sm3(jsonl)) != manifest.file_sm3 {
        return fail(
            report,
            manifest.start.seq + 1,
            "the file's SM3 does not match the manifest (the file was changed)".into(),
        );
    }
    let genesis = manifest.start.seq == 0 && manifest.start.hash == GENESIS;
    if !genesis && let Err(e) = manifest.start.verify(keys) {
        return fail(
            report,
            manifest.start.seq,
            format!("start checkpoint signature: {e}"),
        );
    }
    if let Err(e) = manifest.end.verify(keys) {
        return fail(
            report,
            manifest.end.seq,
            format!("end checkpoint signature: {e}"),
        );
    }
    let mut prev = manifest.start.hash;
    let mut expected = manifest.start.seq.saturating_add(1);
    for (number, line) in jsonl.lines().enumerate() {
        let line = line.map_err(|e| StoreError::Invalid {
            what: "export line",
            reason: format!("line {}: {e}", number + 1),
        })?;
        let line: Line = serde_json::from_str(&line).map_err(|e| StoreError::Invalid {
            what: "export line",
            reason: format!("line {}: {e}", number + 1),
        })?;
        if line.seq != expected {
            return fail(
                report,
                expected,
                format!(
                    "line {} has seq {}, expected {expected}",
                    number + 1,
                    line.seq
                ),
            );
        }
        let leaf = match (&line.record, &line.leaf) {
            (Some(record), None) => {
                if record.seq != line.seq {
                    return fail(report, expected, "record seq differs from line seq".into());
                }
                if let Err(body) = record.check_bodies() {
                    return fail(
                        report,
                        expected,
                        format!("the {body} text does not match its digest"),
                    );
                }
                report.records += 1;
                record.leaf()
            }
            (None, Some(leaf)) => {
                let mut out = [0u8; 32];
                if hex::decode_to_slice(leaf, &mut out).is_err() {
                    return fail(report, expected, "leaf is not 64 hex digits".into());
                }
                out
            }
            _ => {
                return fail(
                    report,
                    expected,
                    "a line needs exactly one of `record` and `leaf`".into(),
                );
            }
        };
        prev = ledger::link(&prev, &leaf);
        report.lines += 1;
        expected = expected.saturating_add(1);
    }
    if expected - 1 != manifest.end.seq {
        return fail(
            report,
            expected,
            format!(
                "the file ends at seq {} but the end checkpoint is at seq {}",
                expected - 1,
                manifest.end.seq
            ),
        );
    }
    if prev != manifest.end.hash {
        return fail(
            report,
            manifest.end.seq,
            "the recomputed chain does not reach the end checkpoint's value".into(),
        );
    }
    if report.records != manifest.records {
        let reason = format!(
            "the manifest counts {} records but the file has {}",
            manifest.records, report.records
        );
        return fail(report, manifest.end.seq, reason);
    }
    Ok(report)
}
