//! `GET /v1/models`: the configured models with their filing status (the upstreams are not
//! asked), after the admission guards.

use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use super::client_addr;
use crate::auth::Tenant;
use crate::gateway::Gateway;

/// `GET /v1/models`: the configured models (the upstreams are not asked).
pub(crate) async fn models(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    if let Err(e) = gateway
        .admit(&tenant, "models", request.headers(), ("", None), addr)
        .await
    {
        return e.into_response();
    }
    let data: Vec<Value> = gateway
        .config()
        .upstreams
        .iter()
        .flat_map(|u| {
            u.models.iter().map(move |m| {
                json!({"id": m, "object": "model", "created": 0, "owned_by": u.name,
                       "filed": u.filed, "filing_number": u.filing_number})
            })
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}
