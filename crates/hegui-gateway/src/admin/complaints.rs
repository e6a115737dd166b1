//! The complaint queue (Interim Measures art. 15): list by state, overdue or assignee; a
//! ticket with its whole handling history; handling steps. An answer is stored, sent to the
//! tenant's `complaint-webhook` when one is configured (the delivery goes into the history),
//! and shown to the submitter on the ticket's public page.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use hegui_store::complaints::{Complaint, ComplaintEvent, ComplaintFilter, ComplaintStatus, Step};
use serde::{Deserialize, Serialize};

use super::{Action, Admin, ErrorBody};
use crate::error::AppError;
use crate::gateway::Gateway;

/// How long a webhook delivery may take.
const WEBHOOK_SECS: u64 = 5;

/// Filters of the complaint queue.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only complaints in this state.
    status: Option<ComplaintStatus>,
    /// Only complaints still open after their deadline (`true`).
    #[serde(default)]
    overdue: bool,
    /// Only complaints assigned to this person.
    assignee: Option<String>,
}

/// The complaint queue of the token's tenant, the earliest deadline first.
#[utoipa::path(get, path = "/admin/v1/complaints", tag = "complaints", params(ListQuery),
    responses((status = 200, body = Vec<Complaint>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<Complaint>>, AppError> {
    let q: ListQuery = super::query(raw.as_deref())?;
    let filter = ComplaintFilter {
        status: q.status,
        overdue_at: q.overdue.then(|| gateway.now_ms()),
        assignee: q.assignee.as_deref(),
    };
    let list = gateway
        .store()
        .complaints(admin.tenant(), filter)
        .await
        .map_err(|e| super::store_error("reading complaints", e))?;
    Ok(Json(list))
}

/// A complaint with its handling history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Detail {
    pub(crate) complaint: Complaint,
    /// Open and past its deadline now.
    pub(crate) overdue: bool,
    /// Every step, oldest first.
    pub(crate) history: Vec<ComplaintEvent>,
}

/// One complaint and its whole handling history.
#[utoipa::path(get, path = "/admin/v1/complaints/{ticket}", tag = "complaints",
    params(("ticket" = String, Path, description = "The ticket number")),
    responses((status = 200, body = Detail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn detail(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(ticket): Path<String>,
) -> Result<Json<Detail>, AppError> {
    Ok(Json(detail_of(&gateway, &admin, &ticket).await?))
}

/// A complaint of `admin`'s tenant with its history.
pub(crate) async fn detail_of(
    gateway: &Gateway,
    admin: &Admin,
    ticket: &str,
) -> Result<Detail, AppError> {
    let store = gateway.store();
    let complaint = store
        .complaint(admin.tenant(), ticket)
        .await
        .map_err(|e| super::store_error("reading complaints", e))?
        .ok_or_else(|| not_found(ticket))?;
    let history = store
        .complaint_events(ticket)
        .await
        .map_err(|e| super::store_error("reading complaint events", e))?;
    Ok(Detail {
        overdue: complaint.overdue_at(gateway.now_ms()),
        complaint,
        history,
    })
}

fn not_found(ticket: &str) -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no complaint `{ticket}` in this tenant"),
    )
}

/// A handling step.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StepKind {
    /// Assign to the person in `text` (new or in progress).
    Assign,
    /// Start work (new → in progress).
    Start,
    /// Add the note in `text`.
    Note,
    /// Answer with `text` (new or in progress → answered).
    Answer,
    /// Close, with the reason in `text` (→ closed).
    Close,
}

/// A handling step asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepRequest {
    action: StepKind,
    /// The assignee, note, answer or reason; required except for `start`.
    #[serde(default)]
    text: String,
}

/// The result of a step.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StepDone {
    pub(crate) complaint: Complaint,
    /// The `governance` audit record of the step.
    pub(crate) record: String,
    /// For an answer: `delivered`, `failed: …`, or `none` (no webhook configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook: Option<String>,
}

/// Applies a handling step (operators only). A step the state does not allow gets 409.
#[utoipa::path(post, path = "/admin/v1/complaints/{ticket}/steps", tag = "complaints",
    params(("ticket" = String, Path, description = "The ticket number")),
    request_body = StepRequest,
    responses((status = 200, body = StepDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn step(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(ticket): Path<String>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: StepRequest = super::json_body(&gateway, body).await?;
    Ok(Json(apply_step(&gateway, &admin, &ticket, request).await?).into_response())
}

/// Applies a handling step for `admin` (operators only): the admin API's and the console's.
pub(crate) async fn apply_step(
    gateway: &Gateway,
    admin: &Admin,
    ticket: &str,
    request: StepRequest,
) -> Result<StepDone, AppError> {
    admin.operator()?;
    let ticket = ticket.to_owned();
    let text = match request.action {
        StepKind::Start => super::optional_text("text", &request.text)?,
        _ => super::text("text", &request.text)?,
    };
    let step = match request.action {
        StepKind::Assign => Step::Assign(text.clone()),
        StepKind::Start => Step::Start,
        StepKind::Note => Step::Note(text.clone()),
        StepKind::Answer => Step::Answer(text.clone()),
        StepKind::Close => Step::Close(text.clone()),
    };
    let store = gateway.store();
    let mut complaint = store
        .complaint_step(admin.tenant(), &ticket, admin.name(), &step)
        .await
        .map_err(|e| super::store_error("updating a complaint", e))?;
    let name = match request.action {
        StepKind::Assign => "complaint.assign",
        StepKind::Start => "complaint.start",
        StepKind::Note => "complaint.note",
        StepKind::Answer => "complaint.answer",
        StepKind::Close => "complaint.close",
    };
    let mut subjects = vec![ticket.clone()];
    if !complaint.record_id.is_empty() {
        subjects.push(complaint.record_id.clone());
    }
    let record = super::record(
        gateway,
        admin,
        "",
        Action::by(admin, name, &text, subjects),
        format!("complaint {ticket} is now {}", complaint.status),
    )
    .await?;
    let webhook = match request.action {
        StepKind::Answer => {
            let outcome = deliver(gateway, &complaint).await;
            if let Some(note) = &outcome {
                // The delivery is part of the handling history.
                complaint = store
                    .complaint_step(
                        admin.tenant(),
                        &ticket,
                        "webhook",
                        &Step::Note(note.clone()),
                    )
                    .await
                    .map_err(|e| super::store_error("updating a complaint", e))?;
            }
            Some(outcome.unwrap_or_else(|| "none".into()))
        }
        _ => None,
    };
    Ok(StepDone {
        complaint,
        record,
        webhook,
    })
}

/// Sends an answered complaint to the tenant's webhook; `None` when none is configured,
/// otherwise what happened (`delivered`, `failed: …`).
async fn deliver(gateway: &Gateway, complaint: &Complaint) -> Option<String> {
    let hook = gateway
        .config()
        .public_pages(&complaint.tenant_id)
        .map(|p| p.complaint_webhook.as_str())
        .filter(|h| !h.is_empty())?;
    let payload = serde_json::json!({
        "event": "complaint.answered",
        "tenant": complaint.tenant_id,
        "ticket": complaint.ticket,
        "kind": complaint.kind,
        "status": complaint.status,
        "answer": complaint.answer,
        "contact": complaint.contact,
        "answered_ms": complaint.answered_ms,
    });
    let sent = gateway
        .inner
        .client
        .post(hook)
        .timeout(std::time::Duration::from_secs(WEBHOOK_SECS))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .send()
        .await;
    Some(match sent {
        Ok(r) if r.status().is_success() => "delivered".to_owned(),
        Ok(r) => format!("failed: the webhook answered HTTP {}", r.status().as_u16()),
        Err(e) => format!("failed: {e}"),
    })
}
