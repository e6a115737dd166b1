//! The exports an inspector asks for: sanction records and complaint handling records (CSV,
//! UTF-8 with a BOM for spreadsheets), and a time window of the audit ledger with its signed
//! manifest (a ZIP of the JSONL and `*.manifest.json`, which anyone can check
//! with the public key alone: `hegui audit verify --export FILE --public-key KEY.pub`).

use std::collections::HashMap;
use std::io::Write as _;

use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use hegui_store::complaints::{ComplaintEvent, ComplaintFilter, TicketEvent};
use hegui_store::ledger::export::{ExportFilter, manifest_path};
use serde::Deserialize;

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
    Path(what): Path<String>,
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
    let dir =
        tempfile::tempdir().map_err(|e| AppError::internal("making a temporary folder", e))?;
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
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for path in [file.clone(), manifest_path(&file)] {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes =
            std::fs::read(&path).map_err(|e| AppError::internal("reading the export", e))?;
        zip.start_file(name, options)
            .and_then(|()| zip.write_all(&bytes).map_err(Into::into))
            .map_err(|e| AppError::internal("writing the export archive", e))?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| AppError::internal("writing the export archive", e))?
        .into_inner();
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
        ],
        bytes,
    )
        .into_response())
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
