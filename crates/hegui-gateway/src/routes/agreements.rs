//! `POST /v1/hegui/agreements/accept`: the provider's application records that one of its end
//! users accepted a version of the service agreement (after showing it to them). Keyed like the
//! model routes; the tenant is the key's. Each acceptance is also an `agreement` audit record,
//! so the ledger shows when a user accepted what.

use std::net::SocketAddr;

use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hegui_store::ledger::schema::{Outcome, Verdicts};
use serde::{Deserialize, Serialize};

use super::{Result, client_addr, read_body};
use crate::auth::Tenant;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::end_user::EndUser;
use crate::guard::{Caller, RequestMeta};

/// What the application sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Acceptance {
    /// The end user, as the chat requests name them.
    user: String,
    /// The version accepted.
    version: String,
}

/// What it gets back.
#[derive(Debug, Serialize)]
struct Accepted {
    user: String,
    version: String,
    /// When the user first accepted this version (ms since the epoch).
    accepted_ms: i64,
    /// The audit record of this call.
    record: String,
}

/// `POST /v1/hegui/agreements/accept`.
pub(crate) async fn accept(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let body = request.into_body();
    match accept_inner(&gateway, &tenant, body, addr).await {
        Ok(accepted) => (StatusCode::OK, axum::Json(accepted)).into_response(),
        Err(e) => gateway
            .refused_request(&tenant, "agreement", addr, e)
            .await
            .into_response(),
    }
}

async fn accept_inner(
    gateway: &Gateway,
    tenant: &Tenant,
    body: axum::body::Body,
    addr: Option<SocketAddr>,
) -> Result<Accepted> {
    let bytes = read_body(gateway, body, 16 * 1024).await?;
    let acceptance: Acceptance = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::bad_request("invalid_json", format!("the acceptance is not valid: {e}"))
    })?;
    let config = gateway.config();
    let known = config
        .public_pages(&tenant.id)
        .is_some_and(|p| p.agreements.iter().any(|a| a.version == acceptance.version));
    if !known {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "unknown_version",
            format!(
                "tenant `{}` has published no agreement version `{}`",
                tenant.id, acceptance.version
            ),
        )
        .param("version"));
    }
    // The end user as the guards will see them in a chat request (normalized the same way).
    let end_user = EndUser::new(
        &config.guard.user_header,
        config.guard.case_insensitive_users,
    );
    let user = end_user
        .named(RequestMeta {
            kind: "agreement",
            headers: &HeaderMap::new(),
            user: Some(&acceptance.user),
        })
        .map_err(|why| AppError::bad_request("invalid_user", why).param("user"))?
        .ok_or_else(|| AppError::bad_request("invalid_user", "`user` is required").param("user"))?;
    let accepted_ms = gateway
        .store()
        .accept_agreement(&tenant.id, &user, &acceptance.version)
        .await
        .map_err(|e| AppError::internal("recording the acceptance", e))?;
    let mut caller = Caller::new(
        tenant.id.clone(),
        tenant.arrived,
        addr.map(|a| a.to_string()).unwrap_or_default(),
    );
    caller.user = user.clone();
    caller.named = true;
    let record = gateway
        .record(&caller, "agreement", "")
        .request(format!("accept agreement version {}", acceptance.version))
        .response(format!("accepted at {accepted_ms} ms"))
        .verdicts(Verdicts::new(Vec::new()))
        .outcome(Outcome::Ok);
    gateway.audit(&caller, record).await?;
    Ok(Accepted {
        user,
        version: acceptance.version,
        accepted_ms,
        record: caller.record_id.as_str().to_owned(),
    })
}
