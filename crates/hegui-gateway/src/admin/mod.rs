//! The admin API: what trust & safety staff do, as JSON under `/admin/v1`, with its OpenAPI
//! description generated from these handlers and types (`GET /admin/v1/openapi.json`).
//!
//! - [`complaints`]: the complaint queue, a ticket's history, handling steps (assign, start,
//!   note, answer, close); an answer goes to the tenant's webhook.
//! - [`users`]: an end user's state, sanctions and audit records; manual sanctions; the export
//!   of sanction records (CSV or JSON) and of a user's records.
//! - [`takedowns`]: taking content down by its record or a complaint; the rectification set
//!   and the lexicon review list.
//! - [`reports`]: refutations (辟谣) and the report entries owed to the authorities.
//! - [`pi`]: personal-information requests.
//!
//! **Who may do what.** A request carries an admin token (`Authorization: Bearer hga_…`,
//! created with `hegui admin token`), resolved by [`require_admin`] before any handler runs.
//! Each token belongs to one tenant: every query is scoped to it, so another tenant's ticket or
//! user is simply not found (404), never shown. Operators act; auditors read: every handler
//! that changes something calls [`Admin::operator`] first (403 `operator_required`).
//!
//! **Every action is on the record.** Each change writes a `governance` audit record (who,
//! what, why, when, which records and tickets it concerns: [`Action`]) durably before the
//! answer, and the answer names that record, so the ledger alone answers a regulator's
//! question and `hegui audit trace` shows it.

pub(crate) mod complaints;
pub(crate) mod pi;
pub(crate) mod reports;
pub(crate) mod takedowns;
pub(crate) mod users;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use hegui_store::StoreError;
use hegui_store::admins::Role;
use hegui_store::ledger::NewRecord;
use hegui_store::ledger::schema::{Outcome, Verdicts};
use serde::de::DeserializeOwned;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::AppError;
use crate::gateway::Gateway;

/// The most an admin request's body may hold, in bytes.
const MAX_BODY: usize = 64 * 1024;

/// The most a reason, note or answer may hold, in characters.
pub(crate) const MAX_TEXT: usize = 5_000;

/// Where the OpenAPI description is served (without a token: it describes, it does not show).
pub(crate) const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "hegui admin API",
        description = "Governance workflows of the hegui gateway: complaints, sanctions, takedowns, refutations, reports to the authorities and personal-information requests. Every change leaves a `governance` audit record.",
        license(name = "Apache-2.0 OR MIT")
    ),
    modifiers(&BearerAuth),
    components(schemas(users::Format)),
    security(("admin_token" = [])),
    tags(
        (name = "complaints", description = "投诉举报 Complaints and reports"),
        (name = "users", description = "用户与处置 End users and sanctions"),
        (name = "takedowns", description = "违法内容处置 Takedowns"),
        (name = "reports", description = "辟谣与报告 Refutations and reports to the authorities"),
        (name = "pi", description = "个人信息权益 Personal-information requests"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The admin routes with their OpenAPI description.
fn api() -> OpenApiRouter<Gateway> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::whoami))
        .routes(routes!(complaints::list))
        .routes(routes!(complaints::detail))
        .routes(routes!(complaints::step))
        .routes(routes!(users::user))
        .routes(routes!(users::sanction))
        .routes(routes!(users::status))
        .routes(routes!(users::export))
        .routes(routes!(users::sanctions))
        .routes(routes!(takedowns::create, takedowns::list))
        .routes(routes!(takedowns::rectification))
        .routes(routes!(takedowns::review))
        .routes(routes!(reports::create_refutation, reports::refutations))
        .routes(routes!(reports::list))
        .routes(routes!(reports::submit))
        .routes(routes!(pi::create, pi::list))
        .routes(routes!(pi::complete))
}

/// The OpenAPI description of the admin API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The admin router: every route behind [`require_admin`], and the description without it.
/// No answer is cached ([`no_store`]): they name end users, complainants and what they wrote.
pub(crate) fn router(gateway: &Gateway) -> axum::Router<Gateway> {
    let (routes, spec) = api().split_for_parts();
    let spec = std::sync::Arc::new(spec);
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            require_admin,
        ))
        .layer(no_store())
        .route(
            OPENAPI_PATH,
            axum::routing::get(move || {
                let spec = spec.clone();
                async move { axum::Json(spec.as_ref().clone()) }
            }),
        )
}

/// `Cache-Control: no-store` on every answer that has none: for the admin API and the
/// console, whose answers hold personal information that no browser or proxy may keep.
pub(crate) fn no_store() -> tower_http::set_header::SetResponseHeaderLayer<HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// Every admin route as (method, axum path), from the description: for the test that walks
/// every route without a token.
pub(crate) fn route_list() -> Vec<(&'static str, String)> {
    let mut list = Vec::new();
    for (path, item) in openapi().paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                list.push((method, path.clone()));
            }
        }
    }
    list
}

/// The error body of every refusal (OpenAI-shaped, as the rest of the gateway).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    /// For people.
    message: String,
    /// The class (`invalid_request_error`, `permission_error`, …).
    #[serde(rename = "type")]
    kind: String,
    /// The field concerned, if any.
    param: Option<String>,
    /// For programs (`missing_field`, `conflict`, …).
    code: String,
}

/// Who acts: the holder of an admin token (set by [`require_admin`]) or a console user (set
/// by the console's session layer); the same functions serve both.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    tenant: String,
    name: String,
    role: Role,
}

impl Admin {
    pub(crate) fn new(tenant: String, name: String, role: Role) -> Admin {
        Admin { tenant, name, role }
    }

    /// The tenant they act for.
    pub(crate) fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Their name: the actor in records and histories.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Their role.
    pub(crate) fn role(&self) -> Role {
        self.role
    }

    /// Refuses an auditor: the action changes something.
    pub(crate) fn operator(&self) -> Result<(), AppError> {
        match self.role {
            Role::Operator => Ok(()),
            Role::Auditor => Err(AppError::new(
                StatusCode::FORBIDDEN,
                "operator_required",
                format!(
                    "审计员只能查看 this action needs the operator role; `{}` holds an auditor's token",
                    self.name
                ),
            )),
        }
    }
}

/// Rejects a request without a valid admin token (401); otherwise puts its [`Admin`] in the
/// extensions.
pub(crate) async fn require_admin(
    State(gateway): State<Gateway>,
    mut request: Request,
    next: Next,
) -> Response {
    let unauthorized = |message: &str| {
        AppError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_admin_token",
            message.to_owned(),
        )
        .into_response()
    };
    let Some(presented) = crate::auth::bearer(request.headers()) else {
        return unauthorized("missing admin token: send `Authorization: Bearer hga_…`");
    };
    match gateway.store().authenticate_admin(presented).await {
        Ok(Some(token)) => {
            request
                .extensions_mut()
                .insert(Admin::new(token.tenant_id, token.name, token.role));
            next.run(request).await
        }
        Ok(None) => unauthorized("incorrect or revoked admin token"),
        Err(e) => AppError::internal("checking the admin token", e).into_response(),
    }
}

/// The answer to a store error: not found (404), not allowed in this state (409), invalid
/// (400), or internal.
pub(crate) fn store_error(what: &str, e: StoreError) -> AppError {
    match e {
        StoreError::NotFound { what, key } => AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} `{key}` in this tenant"),
        ),
        StoreError::Conflict { what, reason } => AppError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("{what}: {reason}"),
        ),
        StoreError::Invalid { what, reason } => {
            AppError::bad_request("invalid_value", format!("invalid {what}: {reason}"))
        }
        e => AppError::internal(what, e),
    }
}

/// Reads a JSON body of at most [`MAX_BODY`] bytes as a `T`; a body that does not fit gets a
/// 400 that says where (`field`: expected …).
pub(crate) async fn json_body<T: DeserializeOwned>(
    gateway: &Gateway,
    body: Body,
) -> Result<T, AppError> {
    let bytes = crate::routes::read_body(gateway, body, MAX_BODY).await?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = if path == "." || path.is_empty() {
            format!("the body is not valid: {}", e.inner())
        } else {
            format!("`{path}`: {}", e.inner())
        };
        AppError::bad_request("invalid_body", message)
    })?;
    de.end().map_err(|e| {
        AppError::bad_request("invalid_body", format!("the body is not valid: {e}"))
    })?;
    Ok(value)
}

/// Parses a query string as a `T`, with a 400 that says what is wrong.
pub(crate) fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, AppError> {
    serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|e| AppError::bad_request("invalid_query", format!("the query is not valid: {e}")))
}

/// A required free text (a reason, an answer): trimmed, not empty, at most [`MAX_TEXT`]
/// characters, no control characters but line breaks and tabs.
pub(crate) fn text(field: &'static str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::bad_request(
            "missing_field",
            format!("`{field}` is required and must not be empty"),
        )
        .param(field));
    }
    optional_text(field, value)
}

/// An optional free text: as [`text`], but may be empty.
pub(crate) fn optional_text(field: &'static str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars > MAX_TEXT {
        return Err(AppError::bad_request(
            "field_too_long",
            format!("`{field}` has {chars} characters; at most {MAX_TEXT}"),
        )
        .param(field));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(AppError::bad_request(
            "invalid_field",
            format!("`{field}` holds a control character"),
        )
        .param(field));
    }
    Ok(value.to_owned())
}

/// What a governance audit record says: who did what, why, to which records.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Action<'a> {
    /// The action (`complaint.answer`, `sanction.suspend`, `takedown`, …).
    pub(crate) action: &'a str,
    /// The admin's name.
    pub(crate) actor: &'a str,
    /// The admin's role.
    pub(crate) role: Role,
    /// Why (the reason, the note, the answer).
    pub(crate) reason: &'a str,
    /// The tickets, records and rows it concerns.
    pub(crate) subjects: Vec<String>,
}

impl<'a> Action<'a> {
    /// `admin`'s action `action` for `reason` on `subjects`.
    pub(crate) fn by(
        admin: &'a Admin,
        action: &'a str,
        reason: &'a str,
        subjects: Vec<String>,
    ) -> Action<'a> {
        Action {
            action,
            actor: &admin.name,
            role: admin.role,
            reason,
            subjects,
        }
    }
}

/// Writes the `governance` audit record of an action durably; returns its id. `user` is the
/// end user concerned (empty for none).
pub(crate) async fn record(
    gateway: &Gateway,
    admin: &Admin,
    user: &str,
    action: Action<'_>,
    outcome: String,
) -> Result<String, AppError> {
    let request = serde_json::to_string(&action)
        .map_err(|e| AppError::internal("encoding a governance record", e))?;
    let record = NewRecord::new("governance")
        .tenant(admin.tenant())
        .end_user(user)
        .request(request)
        .response(outcome)
        .verdicts(Verdicts::new(Vec::new()))
        .outcome(Outcome::Ok);
    let receipt = gateway
        .inner
        .writer
        .append(record)
        .await
        .map_err(|e| AppError::internal("writing the governance record", e))?;
    Ok(receipt.id.as_str().to_owned())
}

/// The end-user id a path names, by the gateway's one rule for ids (see `guard::end_user`).
pub(crate) fn user_id(gateway: &Gateway, raw: &str) -> Result<String, AppError> {
    let guard = &gateway.config().guard;
    let rule =
        crate::guard::end_user::EndUser::new(&guard.user_header, guard.case_insensitive_users);
    let meta = crate::guard::RequestMeta {
        kind: "admin",
        headers: &HeaderMap::new(),
        user: Some(raw),
    };
    match rule.named(meta) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(AppError::bad_request(
            "invalid_user",
            "the end-user id is empty",
        )),
        Err(why) => Err(AppError::bad_request("invalid_user", why)),
    }
}

/// A time given as RFC 3339 or a date (`YYYY-MM-DD`, UTC midnight), as ms since the epoch.
pub(crate) fn time(field: &'static str, value: &str) -> Result<i64, AppError> {
    hegui_store::ledger::parse_time(value)
        .map_err(|e| AppError::bad_request("invalid_time", format!("`{field}`: {e}")).param(field))
}

/// As [`time`], for a field that may be left empty (then `None`).
pub(crate) fn optional_time(field: &'static str, value: &str) -> Result<Option<i64>, AppError> {
    let value = value.trim();
    (!value.is_empty()).then(|| time(field, value)).transpose()
}
