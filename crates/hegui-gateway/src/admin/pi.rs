//! Personal-information requests (Interim Measures art. 11; PIPL arts. 44–47): recorded with
//! their deadline (`pi-request-days` of the tenant's public pages, counted like complaints),
//! listed by state, and completed or rejected by an operator. A deletion is carried out at
//! once when the user's audit records are past the retention period, and otherwise waits as
//! `pending_retention` until `hegui audit prune` (see `hegui_store::pi`).

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use hegui_store::pi::{PiKind, PiRequest, PiStatus};
use serde::{Deserialize, Serialize};

use super::{Action, Admin, ErrorBody};
use crate::error::AppError;
use crate::gateway::Gateway;

/// A request received (through the provider's own channels).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PiRequestBody {
    /// The end user (required).
    #[schema(min_length = 1, max_length = 5000)]
    user: String,
    kind: PiKind,
    /// What they asked, in their words.
    #[serde(default)]
    detail: String,
}

/// A request recorded or handled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PiDone {
    pub(crate) request: PiRequest,
    /// The `governance` audit record.
    pub(crate) record: String,
}

/// Records a personal-information request with its deadline (operators only).
#[utoipa::path(post, path = "/admin/v1/pi-requests", tag = "pi", request_body = PiRequestBody,
    responses((status = 201, body = PiDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(crate) async fn create(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: PiRequestBody = super::json_body(&gateway, body).await?;
    let done = apply_create(&gateway, &admin, request).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Records a request for `admin` (operators only): the admin API's and the console's.
pub(crate) async fn apply_create(
    gateway: &Gateway,
    admin: &Admin,
    request: PiRequestBody,
) -> Result<PiDone, AppError> {
    admin.operator()?;
    let user = super::user_id(gateway, &request.user)?;
    let detail = super::optional_text("detail", &request.detail)?;
    let (days, working) = gateway
        .config()
        .public_pages(admin.tenant())
        .map_or((15, true), |p| {
            (p.pi_request_days, p.complaint_working_days)
        });
    let deadline = crate::public::deadline::deadline(gateway.now(), days, working)
        .map_err(|e| AppError::internal("computing the deadline", e))?;
    let pi = gateway
        .store()
        .create_pi_request(admin.tenant(), &user, request.kind, &detail, deadline.ms)
        .await
        .map_err(|e| super::store_error("recording the request", e))?;
    let record = super::record(
        gateway,
        admin,
        &user,
        Action::by(admin, "pi.received", &detail, vec![format!("pi:{}", pi.id)]),
        format!(
            "{} request {} recorded; deadline {}{}",
            pi.kind,
            pi.id,
            deadline.date,
            if deadline.provisional {
                " (provisional)"
            } else {
                ""
            }
        ),
    )
    .await?;
    Ok(PiDone {
        request: pi,
        record,
    })
}

/// Filter of the requests.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// Only requests in this state.
    status: Option<PiStatus>,
}

/// The tenant's requests, the earliest deadline first.
#[utoipa::path(get, path = "/admin/v1/pi-requests", tag = "pi", params(ListQuery),
    responses((status = 200, body = Vec<PiRequest>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<PiRequest>>, AppError> {
    let q: ListQuery = super::query(raw.as_deref())?;
    let list = gateway
        .store()
        .pi_requests(admin.tenant(), q.status)
        .await
        .map_err(|e| super::store_error("reading requests", e))?;
    Ok(Json(list))
}

/// How a request was handled.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteBody {
    /// Refuse it (the legal reason in `result`).
    #[serde(default)]
    reject: bool,
    /// What was done, or why not (required).
    #[schema(min_length = 1, max_length = 5000)]
    result: String,
}

/// Completes or rejects an open request (operators only); 409 if it is not open.
#[utoipa::path(post, path = "/admin/v1/pi-requests/{id}/complete", tag = "pi",
    params(("id" = String, Path, description = "The request's id")),
    request_body = CompleteBody,
    responses((status = 200, body = PiDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn complete(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: CompleteBody = super::json_body(&gateway, body).await?;
    Ok(Json(apply_complete(&gateway, &admin, &id, request).await?).into_response())
}

/// Completes or rejects a request for `admin` (operators only): the admin API's and the
/// console's.
pub(crate) async fn apply_complete(
    gateway: &Gateway,
    admin: &Admin,
    id: &str,
    request: CompleteBody,
) -> Result<PiDone, AppError> {
    admin.operator()?;
    let result = super::text("result", &request.result)?;
    let pi = gateway
        .store()
        .complete_pi_request(admin.tenant(), id, request.reject, &result)
        .await
        .map_err(|e| super::store_error("updating the request", e))?;
    let record = super::record(
        gateway,
        admin,
        &pi.end_user,
        Action::by(
            admin,
            if request.reject {
                "pi.reject"
            } else {
                "pi.complete"
            },
            &result,
            vec![format!("pi:{id}")],
        ),
        format!("{} request {id} is now {}", pi.kind, pi.status),
    )
    .await?;
    Ok(PiDone {
        request: pi,
        record,
    })
}
