//! The exports an inspector asks for: sanction records and complaint handling records (CSV,
//! UTF-8 with a BOM for spreadsheets), and a time window of the audit ledger with its signed
//! manifest (a ZIP of the JSONL and `*.manifest.json`, which anyone can check
//! with the public key alone: `hegui audit verify --export FILE --public-key KEY.pub`).

use std::collections::HashMap;
use std::io::{Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Extension, Path as UrlPath, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use hegui_store::complaints::{ComplaintEvent, ComplaintFilter, TicketEvent};
use hegui_store::ledger::export::{ExportFilter, manifest_path};
use serde::Deserialize;
use tokio_util::io::ReaderStream;

use super::pages::{Page, page};
use super::session::Console;
use crate::admin::{self, users};
use crate::error::AppError;
use crate::gateway::Gateway;

/// The window of a ledger export.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Window {
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

/// `GET /console/exports/{what}`: `sanctions.csv`, `complaints.csv`, or `ledger.zip`
/// (`?since=&until=`, RFC 3339 or `YYYY-MM-DD`).
pub(crate) async fn export(
    State(gateway): State<Gateway>,
    Extension(c): Extension<Console>,
    UrlPath(what): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    page(
        async {
            let store = gateway.store();
            let tenant = c.admin.tenant();
            match what.as_str() {
                "sanctions.csv" => {
                    let list = store
                        .sanctions_between(tenant, 0, i64::MAX)
                        .await
                        .map_err(|e| admin::store_error("reading sanctions", e))?;
                    users::sanctions_csv(&list)
                }
                "complaints.csv" => complaints_csv(&gateway, &c).await,
                "ledger.zip" => {
                    let window: Window = admin::query(raw.as_deref())?;
                    ledger_zip(&gateway, &c, &window).await
                }
                _ => Err(AppError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no export `{what}`: sanctions.csv, complaints.csv, ledger.zip"),
                )),
            }
        }
        .await,
    )
}

/// The tenant's records in the window, as `hegui audit export` writes them (the JSONL and its
/// signed manifest), in one ZIP. The end checkpoint is signed with the gateway's key
/// (`label.key-file`) when no stored one covers the window; without a key, one must exist.
/// Leaves a governance record: an export is a disclosure.
async fn ledger_zip(gateway: &Gateway, c: &Console, window: &Window) -> Page {
    let filter = ExportFilter {
        since_ms: admin::optional_time("since", &window.since)?,
        until_ms: admin::optional_time("until", &window.until)?,
        user: None,
        tenant: Some(c.admin.tenant().to_owned()),
    };
    let dir = Scratch(Some(
        blocking("making a temporary folder", tempfile::tempdir).await?,
    ));
    let file = dir.path().join("hegui-ledger.jsonl");
    let key = gateway.inner.pipeline.label.key();
    let manifest = gateway
        .store()
        .export(&filter, key, &file)
        .await
        .map_err(|e| match e {
            hegui_store::StoreError::NeedKey(what) => AppError::new(
                StatusCode::CONFLICT,
                "no_signing_key",
                format!(
                    "{what}: set `label.key-file` so the gateway can sign the export's checkpoint"
                ),
            ),
            e => admin::store_error("exporting the ledger", e),
        })?;
    let manifest_file = manifest_path(&file);
    let files = [file, manifest_file];
    let target = dir.path().join("hegui-ledger.zip");
    let (zipped, length) = blocking("writing the export archive", move || {
        zip_files(&files, &target)
    })
    .await?;
    admin::record(
        gateway,
        &c.admin,
        "",
        admin::Action::by(&c.admin, "ledger.export", "", Vec::new()),
        format!(
            "exported {} records (seq {} to {}), file SM3 {}",
            manifest.records, manifest.start.seq, manifest.end.seq, manifest.file_sm3
        ),
    )
    .await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"hegui-ledger.zip\""),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
        ],
        // Streamed from the open file: the folder (and its files' names) go when `dir` is
        // dropped here, the data when the answer has been sent.
        Body::from_stream(ReaderStream::new(tokio::fs::File::from_std(zipped))),
    )
        .into_response())
}

/// Runs file work (`what`) on the blocking pool; a failure, or a task that died, is a 500.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    job: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| AppError::internal(what, e))?
        .map_err(|e| AppError::internal(what, e))
}

/// The export's temporary folder. Removing it unlinks a JSONL and a ZIP that may be gigabytes,
/// which takes the file system a while: the removal goes to the blocking pool, whichever way the
/// export ends, so that it never holds up a runtime thread that serves the gateway's requests.
struct Scratch(Option<tempfile::TempDir>);

impl Scratch {
    fn path(&self) -> &Path {
        self.0.as_ref().map_or(Path::new(""), |d| d.path())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(dir) = self.0.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || drop(dir))),
            Err(_) => drop(dir),
        }
    }
}

/// Writes `files` into a ZIP at `target`, copying each through (never read whole, so a long
/// window costs disk, not memory), and returns the archive opened at its start, and its length.
fn zip_files(files: &[PathBuf], target: &Path) -> std::io::Result<(std::fs::File, u64)> {
    let out = std::fs::File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(target)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        zip.start_file(name, options)?;
        std::io::copy(&mut std::fs::File::open(path)?, &mut zip)?;
    }
    let mut out = zip.finish()?.into_inner().map_err(|e| e.into_error())?;
    let length = out.stream_position()?;
    out.seek(SeekFrom::Start(0))?;
    Ok((out, length))
}

/// Every complaint with its handling history, one row per step: the handling records an
/// inspector asks for.
async fn complaints_csv(gateway: &Gateway, c: &Console) -> Page {
    let store = gateway.store();
    let list = store
        .complaints(c.admin.tenant(), ComplaintFilter::default())
        .await
        .map_err(|e| admin::store_error("reading complaints", e))?;
    let mut history: HashMap<String, Vec<ComplaintEvent>> = HashMap::new();
    for TicketEvent { ticket, event } in store
        .complaint_histories(c.admin.tenant())
        .await
        .map_err(|e| admin::store_error("reading complaint events", e))?
    {
        history.entry(ticket).or_default().push(event);
    }
    let mut rows = Vec::new();
    for x in &list {
        for event in history.remove(&x.ticket).unwrap_or_default() {
            rows.push(vec![
                x.ticket.clone(),
                x.kind.as_str().to_owned(),
                crate::clock::beijing_rfc3339(x.created_ms),
                crate::clock::beijing_rfc3339(x.deadline_ms),
                x.status.as_str().to_owned(),
                crate::clock::beijing_rfc3339(event.at_ms),
                event.actor,
                event.action.as_str().to_owned(),
                event.status.as_str().to_owned(),
                event.note,
            ]);
        }
    }
    users::csv_response(
        "complaints.csv",
        &[
            "ticket",
            "kind",
            "received",
            "deadline",
            "status",
            "time",
            "actor",
            "action",
            "status_after",
            "note",
        ],
        rows.into_iter(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_with_a_file() -> (Scratch, PathBuf) {
        let dir = Scratch(Some(tempfile::tempdir().unwrap()));
        let path = dir.path().to_owned();
        std::fs::write(path.join("hegui-ledger.jsonl"), b"{}\n").unwrap();
        (dir, path)
    }

    /// On the runtime the folder goes on the blocking pool, soon after the drop.
    #[tokio::test]
    async fn the_scratch_folder_is_removed_off_the_runtime() {
        let (dir, path) = scratch_with_a_file();
        drop(dir);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while path.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} is still there",
                path.display()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Without a runtime it goes at once.
    #[test]
    fn the_scratch_folder_is_removed_without_a_runtime() {
        let (dir, path) = scratch_with_a_file();
        drop(dir);
        assert!(!path.exists(), "{} is still there", path.display());
    }
}
