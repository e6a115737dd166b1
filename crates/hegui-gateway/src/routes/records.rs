//! `GET /v1/hegui/records/{id}`: an answer the gateway gave, served again by its record id
//! (the ProduceID in its label), for an application that shows a conversation again or
//! re-labels a saved file. Only the key's tenant's records, and only while the ledger holds
//! the answer's text (`audit.bodies`).
//!
//! Content taken down (the admin API's takedowns) is never served again: 451 Unavailable For
//! Legal Reasons, `content_taken_down`, and a `refused` audit record.

use axum::extract::{Extension, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hegui_store::ledger::Exchange;
use serde::Serialize;

use super::client_addr;
use crate::auth::Tenant;
use crate::error::AppError;
use crate::gateway::Gateway;

/// A stored answer.
#[derive(Debug, Serialize)]
struct Stored {
    id: String,
    created_ms: i64,
    model: String,
    /// The answer's text as the ledger kept it (`null` when only digests were kept).
    answer: Option<String>,
    /// The answer's AIGC label (the implicit label's fields), as recorded.
    label: String,
}

/// `GET /v1/hegui/records/{id}`.
pub(crate) async fn record(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    match stored(&gateway, &tenant, &id).await {
        Ok(stored) => axum::Json(stored).into_response(),
        Err(e) => gateway
            .refused_request(&tenant, "record", addr, e)
            .await
            .into_response(),
    }
}

/// The exchange `id` of `tenant`, or `None` for an id that cannot be a record's, an unknown
/// one or another tenant's: the one lookup behind serving an answer again and the admin API's
/// and console's record pages.
pub(crate) async fn tenant_exchange(
    gateway: &Gateway,
    tenant: &str,
    id: &str,
) -> Result<Option<Exchange>, AppError> {
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Ok(None);
    }
    Ok(gateway
        .store()
        .exchange(id)
        .await
        .map_err(|e| AppError::internal("reading the audit record", e))?
        .filter(|x| x.record.tenant == tenant))
}

async fn stored(gateway: &Gateway, tenant: &Tenant, id: &str) -> Result<Stored, AppError> {
    let not_found = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            "record_not_found",
            format!("no answer with record id `{id}`"),
        )
    };
    let exchange = tenant_exchange(gateway, &tenant.id, id)
        .await?
        .ok_or_else(not_found)?;
    let store = gateway.store();
    if let Some(takedown) = store
        .taken_down(&tenant.id, id)
        .await
        .map_err(|e| AppError::internal("reading takedowns", e))?
    {
        return Err(AppError::new(
            StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
            "content_taken_down",
            format!(
                "该内容已依法下架，不再提供 (the content of record `{id}` was taken down on {}; it is not served again)",
                crate::clock::beijing_rfc3339(takedown.created_ms)
            ),
        ));
    }
    let answered = exchange.completion.as_ref().unwrap_or(&exchange.record);
    Ok(Stored {
        id: id.to_owned(),
        created_ms: exchange.record.time_ms,
        model: exchange.record.model.clone(),
        answer: answered.response_text.clone(),
        label: answered.label.clone(),
    })
}
