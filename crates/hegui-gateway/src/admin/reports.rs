//! Refutations (辟谣, Deep Synthesis art. 11) and the report entries owed to the authorities:
//! every takedown and refutation opens one; an operator marks it submitted with the
//! authority's reference.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use hegui_store::reports::{AuthorityReport, Refutation, ReportStatus};
use serde::{Deserialize, Serialize};

use super::{Action, Admin, ErrorBody};
use crate::error::AppError;
use crate::gateway::Gateway;

/// A refutation to record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefutationRequest {
    /// The false claim (required).
    #[schema(min_length = 1, max_length = 5000)]
    claim: String,
    /// The refutation text (required).
    #[schema(min_length = 1, max_length = 5000)]
    refutation: String,
    /// Where it was published: a URL or a channel (required).
    #[schema(min_length = 1, max_length = 5000)]
    published_where: String,
    /// When (RFC 3339 or `YYYY-MM-DD`; required).
    published_at: String,
    /// The audit record through which the claim spread, if known.
    #[serde(default)]
    record: String,
}

/// A refutation recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RefutationDone {
    pub(crate) refutation: Refutation,
    /// The `governance` audit record.
    pub(crate) record: String,
}

/// Records a refutation and opens its report entry (operators only).
#[utoipa::path(post, path = "/admin/v1/refutations", tag = "reports", request_body = RefutationRequest,
    responses((status = 201, body = RefutationDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn create_refutation(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: RefutationRequest = super::json_body(&gateway, body).await?;
    let done = apply_refutation(&gateway, &admin, request).await?;
    Ok((StatusCode::CREATED, Json(done)).into_response())
}

/// Records a refutation for `admin` (operators only): the admin API's and the console's.
pub(crate) async fn apply_refutation(
    gateway: &Gateway,
    admin: &Admin,
    request: RefutationRequest,
) -> Result<RefutationDone, AppError> {
    admin.operator()?;
    let record_id = super::optional_text("record", &request.record)?;
    if !record_id.is_empty() {
        super::takedowns::record_of(gateway, admin, &record_id).await?;
    }
    let refutation = Refutation {
        id: String::new(),
        tenant_id: String::new(),
        claim: super::text("claim", &request.claim)?,
        refutation: super::text("refutation", &request.refutation)?,
        published_where: super::text("published_where", &request.published_where)?,
        published_ms: super::time("published_at", request.published_at.trim())?,
        record_id,
        actor: String::new(),
        created_ms: 0,
    };
    let refutation = gateway
        .store()
        .create_refutation(admin.tenant(), admin.name(), refutation)
        .await
        .map_err(|e| super::store_error("recording a refutation", e))?;
    let mut subjects = vec![format!("refutation:{}", refutation.id)];
    if !refutation.record_id.is_empty() {
        subjects.push(refutation.record_id.clone());
    }
    let record = super::record(
        gateway,
        admin,
        "",
        Action::by(admin, "refutation", &refutation.claim, subjects),
        format!("refutation published at {}", refutation.published_where),
    )
    .await?;
    Ok(RefutationDone { refutation, record })
}

/// The tenant's refutations, oldest first.
#[utoipa::path(get, path = "/admin/v1/refutations", tag = "reports",
    responses((status = 200, body = Vec<Refutation>), (status = 401, body = ErrorBody)))]
pub(crate) async fn refutations(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
) -> Result<Json<Vec<Refutation>>, AppError> {
    let list = gateway
        .store()
        .refutations(admin.tenant())
        .await
        .map_err(|e| super::store_error("reading refutations", e))?;
    Ok(Json(list))
}

/// Filter of the report entries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportsQuery {
    /// Only entries in this state (`pending`: the work still owed).
    status: Option<ReportStatus>,
}

/// The tenant's report entries for the authorities, oldest first.
#[utoipa::path(get, path = "/admin/v1/reports", tag = "reports", params(ReportsQuery),
    responses((status = 200, body = Vec<AuthorityReport>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn list(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<AuthorityReport>>, AppError> {
    let q: ReportsQuery = super::query(raw.as_deref())?;
    let list = gateway
        .store()
        .authority_reports(admin.tenant(), q.status)
        .await
        .map_err(|e| super::store_error("reading report entries", e))?;
    Ok(Json(list))
}

/// A report made.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmitRequest {
    /// The authority's reference, or the channel and date used (required).
    #[schema(min_length = 1, max_length = 5000)]
    reference: String,
}

/// A report entry submitted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ReportDone {
    report: AuthorityReport,
    /// The `governance` audit record.
    record: String,
}

/// Marks a report entry submitted (operators only); 409 if it already was.
#[utoipa::path(post, path = "/admin/v1/reports/{id}/submit", tag = "reports",
    params(("id" = String, Path, description = "The report entry's id")),
    request_body = SubmitRequest,
    responses((status = 200, body = ReportDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn submit(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: SubmitRequest = super::json_body(&gateway, body).await?;
    let reference = super::text("reference", &request.reference)?;
    let report = gateway
        .store()
        .submit_report(admin.tenant(), &id, &reference)
        .await
        .map_err(|e| super::store_error("updating a report entry", e))?;
    let record = super::record(
        &gateway,
        &admin,
        "",
        Action::by(
            &admin,
            "report.submit",
            &reference,
            vec![
                format!("report:{id}"),
                format!("{}:{}", report.subject, report.subject_id),
            ],
        ),
        format!("report {id} submitted"),
    )
    .await?;
    Ok(Json(ReportDone { report, record }).into_response())
}
