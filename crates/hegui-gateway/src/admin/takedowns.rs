//! Takedowns (Interim Measures art. 14; Deep Synthesis art. 10): content found illegal after
//! it was served, named by its audit record (the ProduceID in its label) or by the complaint
//! that reported it.
//!
//! The record is not edited: the takedown is a row, its `governance` audit record refers to
//! the content's record, and from then on the gateway refuses to serve that ProduceID again
//! (`GET /v1/hegui/records/{id}` answers 451). The pattern, when given, goes to the lexicon
//! review list; the prompt and answer, copied from the ledger, join the rectification set that
//! is exported for model optimisation; a report entry for the authorities is opened.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use hegui_store::ledger::Record;
use hegui_store::takedowns::{NewTakedown, ReviewItem, Takedown};
use serde::{Deserialize, Serialize};

use super::users::Format;
use super::{Action, Admin, ErrorBody};
use crate::error::AppError;
use crate::gateway::Gateway;

/// The tenant's audit record `id` and, for a streamed exchange, its completion; or 404
/// (another tenant's record is not found either).
pub(crate) async fn record_of(
    gateway: &Gateway,
    admin: &Admin,
    id: &str,
) -> Result<(Record, Option<Record>), AppError> {
    let not_found = || {
        AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no audit record `{id}` in this tenant"),
        )
    };
    let exchange = crate::routes::records::tenant_exchange(gateway, admin.tenant(), id)
        .await?
        .ok_or_else(not_found)?;
    Ok((exchange.record, exchange.completion))
}

/// A takedown asked for: by record, by complaint (its record), or both.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TakedownRequest {
    /// The content's audit record (ProduceID). Required unless `ticket` names a complaint
    /// that names one.
    #[serde(default)]
    record: String,
    /// The complaint that reported it.
    #[serde(default)]
    ticket: String,
    /// Why the content is illegal (required).
    #[schema(min_length = 1, max_length = 5000)]
    reason: String,
    /// The risk code (Appendix A of TC260-003, e.g. `A.1.h`, or a custom code).
    #[serde(default)]
    risk: String,
    /// A pattern for the lexicon review list.
    #[serde(default)]
    pattern: String,
}

/// A takedown recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TakedownDone {
    pub(crate) takedown: Takedown,
    /// The `governance` audit record, which refers to the content's record.
    pub(crate) record: String,
}

/// Takes content down (operators only). 409 if the record was already taken down.
#[utoipa::path(post, path = "/admin/v1/takedowns", tag = "takedowns", request_body = TakedownRequest,
    responses((status = 201, body = TakedownDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn create(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: TakedownRequest = super::json_body(&gateway, body).await?;
    let done = apply_takedown(&gateway, &admin, request).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Takes content down for `admin` (operators only): the admin API's and the console's.
pub(crate) async fn apply_takedown(
    gateway: &Gateway,
    admin: &Admin,
    request: TakedownRequest,
) -> Result<TakedownDone, AppError> {
    admin.operator()?;
    let reason = super::text("reason", &request.reason)?;
    let ticket = super::optional_text("ticket", &request.ticket)?;
    let mut record_id = super::optional_text("record", &request.record)?;
    if !ticket.is_empty() {
        let complaint = gateway
            .store()
            .complaint(admin.tenant(), &ticket)
            .await
            .map_err(|e| super::store_error("reading complaints", e))?
            .ok_or_else(|| {
                AppError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("no complaint `{ticket}` in this tenant"),
                )
            })?;
        if record_id.is_empty() {
            record_id = complaint.record_id;
        }
    }
    if record_id.is_empty() {
        return Err(AppError::bad_request(
            "missing_field",
            "`record` is required (or a `ticket` whose complaint names a record)",
        )
        .param("record"));
    }
    let (asked, completion) = record_of(gateway, admin, &record_id).await?;
    let answered = completion.as_ref().unwrap_or(&asked);
    let user = asked.end_user.clone();
    let takedown = gateway
        .store()
        .create_takedown(
            admin.tenant(),
            admin.name(),
            NewTakedown {
                record_id: record_id.clone(),
                ticket: ticket.clone(),
                reason: reason.clone(),
                risk: super::optional_text("risk", &request.risk)?,
                pattern: super::optional_text("pattern", &request.pattern)?,
                prompt: asked.request_text.clone().unwrap_or_default(),
                answer: answered.response_text.clone().unwrap_or_default(),
            },
        )
        .await
        .map_err(|e| super::store_error("recording a takedown", e))?;
    let mut subjects = vec![format!("takedown:{}", takedown.id), record_id.clone()];
    if !ticket.is_empty() {
        subjects.push(ticket);
    }
    let record = super::record(
        gateway,
        admin,
        &user,
        Action::by(admin, "takedown", &reason, subjects),
        format!("record {record_id} taken down; it is no longer served"),
    )
    .await?;
    Ok(TakedownDone { takedown, record })
}

/// The tenant's takedowns, oldest first.
#[utoipa::path(get, path = "/admin/v1/takedowns", tag = "takedowns",
    responses((status = 200, body = Vec<Takedown>), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
) -> Result<Json<Vec<Takedown>>, AppError> {
    let list = gateway
        .store()
        .takedowns(admin.tenant())
        .await
        .map_err(|e| super::store_error("reading takedowns", e))?;
    Ok(Json(list))
}

/// The format of the rectification set.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RectificationQuery {
    /// `json` (default) or `csv`.
    format: Option<Format>,
}

/// One item of the rectification set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Rectification {
    prompt: String,
    answer: String,
    reason: String,
    risk: String,
    record: String,
}

/// The rectification set (prompt, answer, reason) of every takedown, for model optimisation
/// (Interim Measures art. 14).
#[utoipa::path(get, path = "/admin/v1/rectification", tag = "takedowns", params(RectificationQuery),
    responses((status = 200, content((Vec<Rectification> = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn rectification(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let q: RectificationQuery = super::query(raw.as_deref())?;
    let set: Vec<Rectification> = gateway
        .store()
        .takedowns(admin.tenant())
        .await
        .map_err(|e| super::store_error("reading takedowns", e))?
        .into_iter()
        .map(|t| Rectification {
            prompt: t.prompt,
            answer: t.answer,
            reason: t.reason,
            risk: t.risk,
            record: t.record_id,
        })
        .collect();
    match q.format.unwrap_or(Format::Json) {
        Format::Json => Ok(Json(set).into_response()),
        Format::Csv => super::users::csv_response(
            "rectification.csv",
            &["prompt", "answer", "reason", "risk", "record"],
            set.into_iter()
                .map(|r| vec![r.prompt, r.answer, r.reason, r.risk, r.record]),
        ),
    }
}

/// The lexicon review list: patterns proposed by takedowns.
#[utoipa::path(get, path = "/admin/v1/lexicon-review", tag = "takedowns",
    responses((status = 200, body = Vec<ReviewItem>), (status = 401, body = ErrorBody)))]
pub(crate) async fn review(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
) -> Result<Json<Vec<ReviewItem>>, AppError> {
    let list = gateway
        .store()
        .lexicon_review(admin.tenant())
        .await
        .map_err(|e| super::store_error("reading the lexicon review list", e))?;
    Ok(Json(list))
}
