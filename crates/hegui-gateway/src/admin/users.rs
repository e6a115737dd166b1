//! End users and sanctions (Interim Measures art. 14): a user's state, sanctions and audit
//! records in one view; manual warn / restrict / suspend / terminate / restore with a
//! mandatory reason; the export of sanction records for a report to the authorities; the
//! export of a user's records (the copy a personal-information request asks for).
//!
//! A manual sanction is the same kind of row as the violation policy's (its actor is the
//! admin instead of `policy`) and takes effect at once on every instance: the cached state is
//! dropped here and, in a fleet, on the others.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use hegui_store::admins::Role;
use hegui_store::sanctions::Sanction;
use hegui_store::users::{IdentityStatus, UserState};
use serde::{Deserialize, Serialize};

use super::{Action, Admin, ErrorBody};
use crate::error::AppError;
use crate::gateway::Gateway;

/// The most audit records a user view or export holds.
const MAX_RECORDS: i64 = 1_000;

/// Who a token belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WhoAmI {
    name: String,
    tenant: String,
    role: Role,
}

/// The token's holder, role and tenant.
#[utoipa::path(get, path = "/admin/v1/whoami", tag = "users",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub(crate) async fn whoami(Extension(admin): Extension<Admin>) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: admin.name().to_owned(),
        tenant: admin.tenant().to_owned(),
        role: admin.role(),
    })
}

/// An end user's standing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserView {
    user: String,
    /// `normal` when the store has never seen the user.
    state: UserState,
    /// Flagged as a minor.
    minor: bool,
    /// Whether the identity was verified, by whom (`sms`, `header`, `admin`, …) and when.
    identity: IdentityStatus,
    identity_source: Option<String>,
    identity_ms: Option<i64>,
    /// Every sanction, oldest first (automatic ones have the actor `policy`).
    sanctions: Vec<Sanction>,
    /// How many of the records below are violations (an input refused or an answer stopped
    /// by a guard).
    violations: usize,
    /// The user's audit records, oldest first (at most 1,000).
    records: Vec<RecordSummary>,
}

/// An audit record, in short.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RecordSummary {
    id: String,
    time_ms: i64,
    kind: String,
    outcome: String,
    model: String,
}

/// What the store holds about an end user of the admin's tenant.
struct Standing {
    found: Option<hegui_store::users::EndUser>,
    sanctions: Vec<Sanction>,
    records: Vec<hegui_store::ledger::Record>,
}

async fn standing(gateway: &Gateway, admin: &Admin, user: &str) -> Result<Standing, AppError> {
    let store = gateway.store();
    let tenant = admin.tenant();
    Ok(Standing {
        found: store
            .end_user(tenant, user)
            .await
            .map_err(|e| super::store_error("reading the end user", e))?,
        sanctions: store
            .sanctions(tenant, user)
            .await
            .map_err(|e| super::store_error("reading sanctions", e))?,
        records: store
            .records_of_user(tenant, user, MAX_RECORDS)
            .await
            .map_err(|e| super::store_error("reading audit records", e))?,
    })
}

/// An end user's state, sanctions and audit records. Reads the ledger for the user's records
/// (a scan: the ledger has no index on the user, which would cost every append).
#[utoipa::path(get, path = "/admin/v1/users/{user}", tag = "users",
    params(("user" = String, Path, description = "The end-user id")),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn user(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(raw): Path<String>,
) -> Result<Json<UserView>, AppError> {
    Ok(Json(view_of(&gateway, &admin, &raw).await?))
}

/// An end user of `admin`'s tenant: state, sanctions, records.
pub(crate) async fn view_of(
    gateway: &Gateway,
    admin: &Admin,
    raw: &str,
) -> Result<UserView, AppError> {
    let user = super::user_id(gateway, raw)?;
    let Standing {
        found,
        sanctions,
        records,
    } = standing(gateway, admin, &user).await?;
    let records = records
        .into_iter()
        .map(|r| RecordSummary {
            id: r.id,
            time_ms: r.time_ms,
            kind: r.kind,
            outcome: r.outcome,
            model: r.model,
        })
        .collect::<Vec<_>>();
    let violations = records
        .iter()
        .filter(|r| matches!(r.outcome.as_str(), "blocked_input" | "blocked_output"))
        .count();
    Ok(UserView {
        violations,
        state: found.as_ref().map_or(UserState::Normal, |u| u.state),
        minor: found.as_ref().is_some_and(|u| u.minor),
        identity: found
            .as_ref()
            .map_or(IdentityStatus::Unverified, |u| u.identity),
        identity_source: found.as_ref().and_then(|u| u.identity_source.clone()),
        identity_ms: found.as_ref().and_then(|u| u.identity_ms),
        user,
        sanctions,
        records,
    })
}

/// A change of an end user's identity status or minor flag, as the provider's own systems
/// established it (a mobile-number check, an age check).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusRequest {
    /// The identity status to record (source `admin`).
    identity: Option<IdentityStatus>,
    /// Whether the user is a minor (minors mode).
    minor: Option<bool>,
    /// Why, or where the fact comes from (required).
    #[schema(min_length = 1, max_length = 5000)]
    reason: String,
}

/// A status change recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StatusDone {
    identity: IdentityStatus,
    minor: bool,
    /// The `governance` audit record.
    record: String,
}

/// Sets an end user's identity status and/or minor flag (operators only). The gateway's
/// guards see the change within `guard.cache-ms`.
#[utoipa::path(put, path = "/admin/v1/users/{user}/status", tag = "users",
    params(("user" = String, Path, description = "The end-user id")),
    request_body = StatusRequest,
    responses((status = 200, body = StatusDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub(crate) async fn status(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(raw): Path<String>,
    body: Body,
) -> Result<Json<StatusDone>, AppError> {
    admin.operator()?;
    let user = super::user_id(&gateway, &raw)?;
    let request: StatusRequest = super::json_body(&gateway, body).await?;
    let reason = super::text("reason", &request.reason)?;
    if request.identity.is_none() && request.minor.is_none() {
        return Err(AppError::bad_request(
            "missing_field",
            "give `identity`, `minor` or both",
        ));
    }
    let store = gateway.store();
    let tenant = admin.tenant();
    let mut changed = Vec::new();
    if let Some(identity) = request.identity {
        store
            .set_identity(tenant, &user, identity == IdentityStatus::Verified, "admin")
            .await
            .map_err(|e| super::store_error("recording the identity status", e))?;
        changed.push(format!("identity {identity}"));
    }
    if let Some(minor) = request.minor {
        store
            .set_minor(tenant, &user, minor)
            .await
            .map_err(|e| super::store_error("recording the minor flag", e))?;
        changed.push(format!("minor {minor}"));
    }
    // The guards read identity and minor from their cache: drop it here and on the fleet.
    gateway.user_changed(tenant, &user).await;
    let now = store
        .end_user(tenant, &user)
        .await
        .map_err(|e| super::store_error("reading the end user", e))?;
    let record = super::record(
        &gateway,
        &admin,
        &user,
        Action::by(&admin, "user.status", &reason, Vec::new()),
        format!("end user `{user}`: {}", changed.join(", ")),
    )
    .await?;
    Ok(Json(StatusDone {
        identity: now
            .as_ref()
            .map_or(IdentityStatus::Unverified, |u| u.identity),
        minor: now.as_ref().is_some_and(|u| u.minor),
        record,
    }))
}

/// A manual sanction.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SanctionKind {
    /// 警示 Warn.
    Warn,
    /// 限制功能 Restrict (media generation refused).
    Restrict,
    /// 暂停服务 Suspend (refused until the policy's `suspend-minutes` pass or a restore).
    Suspend,
    /// 终止服务 Terminate (refused until a restore).
    Terminate,
    /// 恢复 Restore to normal.
    Restore,
}

impl SanctionKind {
    fn state(self) -> UserState {
        match self {
            SanctionKind::Warn => UserState::Warned,
            SanctionKind::Restrict => UserState::Restricted,
            SanctionKind::Suspend => UserState::Suspended,
            SanctionKind::Terminate => UserState::Terminated,
            SanctionKind::Restore => UserState::Normal,
        }
    }
}

/// A manual sanction asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SanctionRequest {
    action: SanctionKind,
    /// Why (required; it goes into the sanction record and the report to the authorities).
    #[schema(min_length = 1, max_length = 5000)]
    reason: String,
    /// The audit record that prompted it, if any.
    #[serde(default)]
    record: String,
}

/// A sanction recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SanctionDone {
    pub(crate) sanction: Sanction,
    /// The `governance` audit record.
    pub(crate) record: String,
}

/// Sanctions an end user (operators only), with a mandatory reason.
#[utoipa::path(post, path = "/admin/v1/users/{user}/sanctions", tag = "users",
    params(("user" = String, Path, description = "The end-user id")),
    request_body = SanctionRequest,
    responses((status = 201, body = SanctionDone), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn sanction(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(raw): Path<String>,
    body: Body,
) -> Result<Response, AppError> {
    admin.operator()?;
    let request: SanctionRequest = super::json_body(&gateway, body).await?;
    let done = apply_sanction(&gateway, &admin, &raw, request).await?;
    Ok((axum::http::StatusCode::CREATED, Json(done)).into_response())
}

/// Sanctions an end user for `admin` (operators only): the admin API's and the console's.
pub(crate) async fn apply_sanction(
    gateway: &Gateway,
    admin: &Admin,
    raw_user: &str,
    request: SanctionRequest,
) -> Result<SanctionDone, AppError> {
    admin.operator()?;
    let user = super::user_id(gateway, raw_user)?;
    let reason = super::text("reason", &request.reason)?;
    let record_id = super::optional_text("record", &request.record)?;
    if !record_id.is_empty() {
        super::takedowns::record_of(gateway, admin, &record_id).await?;
    }
    let state = request.action.state();
    let sanction = gateway
        .store()
        .sanction(
            admin.tenant(),
            &user,
            state,
            &reason,
            (!record_id.is_empty()).then_some(record_id.as_str()),
            admin.name(),
        )
        .await
        .map_err(|e| super::store_error("recording a sanction", e))?;
    gateway.user_changed(admin.tenant(), &user).await;
    let mut subjects = vec![format!("sanction:{}", sanction.id)];
    if !record_id.is_empty() {
        subjects.push(record_id);
    }
    let action = format!("sanction.{}", state.as_str());
    let record = super::record(
        gateway,
        admin,
        &user,
        Action::by(admin, &action, &reason, subjects),
        format!("end user `{user}` is now {}", state.as_str()),
    )
    .await?;
    Ok(SanctionDone { sanction, record })
}

/// The window and format of a sanctions export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// From (RFC 3339 or `YYYY-MM-DD`, inclusive). Default: the beginning.
    from: Option<String>,
    /// To (exclusive). Default: now.
    to: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<Format>,
}

/// An export format.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// A JSON array.
    Json,
    /// CSV with a header row (UTF-8 with a byte-order mark, so spreadsheet programs read the
    /// Chinese text).
    Csv,
}

/// The tenant's sanction records in a time window, automatic and manual: the export for a
/// report to the authorities.
#[utoipa::path(get, path = "/admin/v1/sanctions", tag = "users", params(ExportQuery),
    responses((status = 200, content((Vec<Sanction> = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn sanctions(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let q: ExportQuery = super::query(raw.as_deref())?;
    let from = q
        .from
        .as_deref()
        .map(|t| super::time("from", t))
        .transpose()?;
    let to = q.to.as_deref().map(|t| super::time("to", t)).transpose()?;
    let list = gateway
        .store()
        .sanctions_between(admin.tenant(), from.unwrap_or(0), to.unwrap_or(i64::MAX))
        .await
        .map_err(|e| super::store_error("reading sanctions", e))?;
    match q.format.unwrap_or(Format::Json) {
        Format::Json => Ok(Json(list).into_response()),
        Format::Csv => sanctions_csv(&list),
    }
}

/// Sanction records as CSV (the export for the authorities).
pub(crate) fn sanctions_csv(list: &[Sanction]) -> Result<Response, AppError> {
    csv_response(
        "sanctions.csv",
        &[
            "id", "tenant", "user", "state", "reason", "record", "actor", "time",
        ],
        list.iter().map(|s| {
            vec![
                s.id.to_string(),
                s.tenant_id.clone(),
                s.user_id.clone(),
                s.state.as_str().to_owned(),
                s.reason.clone(),
                s.record_id.clone().unwrap_or_default(),
                s.actor.clone(),
                crate::clock::beijing_rfc3339(s.created_ms),
            ]
        }),
    )
}

/// A CSV download: a header row and one row per item, UTF-8 with a byte-order mark.
pub(crate) fn csv_response(
    file: &str,
    header_row: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Response, AppError> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let write = |e: csv::Error| AppError::internal("writing CSV", e);
    writer.write_record(header_row).map_err(write)?;
    for row in rows {
        writer.write_record(&row).map_err(write)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| AppError::internal("writing CSV", e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What hegui holds about an end user: state, sanctions, audit records in full.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserExport {
    user: String,
    state: UserState,
    minor: bool,
    sanctions: Vec<Sanction>,
    /// The audit records (as the ledger holds them; bodies only where the ledger kept them).
    #[schema(value_type = Vec<Object>)]
    records: Vec<hegui_store::ledger::Record>,
}

/// Everything hegui holds about an end user, for an access or copy request; leaves a
/// `governance` record (an export of personal information is itself an action to account
/// for).
#[utoipa::path(get, path = "/admin/v1/users/{user}/export", tag = "users",
    params(("user" = String, Path, description = "The end-user id")),
    responses((status = 200, body = UserExport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub(crate) async fn export(
    State(gateway): State<Gateway>,
    Extension(admin): Extension<Admin>,
    Path(raw): Path<String>,
) -> Result<Json<UserExport>, AppError> {
    let user = super::user_id(&gateway, &raw)?;
    let Standing {
        found,
        sanctions,
        records,
    } = standing(&gateway, &admin, &user).await?;
    super::record(
        &gateway,
        &admin,
        &user,
        Action::by(&admin, "user.export", "", Vec::new()),
        format!("exported {} records of end user `{user}`", records.len()),
    )
    .await?;
    Ok(Json(UserExport {
        state: found.as_ref().map_or(UserState::Normal, |u| u.state),
        minor: found.as_ref().is_some_and(|u| u.minor),
        user,
        sanctions,
        records,
    }))
}
