//! Authentication as a layer: every route of the gateway except the explicit [`PUBLIC`] list
//! goes through [`require_key`], which resolves the API key to its tenant before any handler
//! runs and puts the [`Tenant`] in the request's extensions.
//!
//! Why a layer and not a call in each handler: a route added later cannot forget it, and the key
//! is checked before the body is read, so a client without a key gets its 401 at once and
//! cannot hold a connection open by sending a body slowly.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::error::AppError;
use crate::gateway::Gateway;

/// The routes that answer without a key besides the public pages (`public::ROUTES`): health
/// and metrics.
pub(crate) const PUBLIC: &[&str] = &["/healthz", "/metrics"];

/// The tenant whose API key the request presented, and when the request arrived (the start
/// of the gateway's own time); set by [`require_key`].
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) arrived: std::time::Instant,
}

/// The key of an `Authorization: Bearer KEY` header; the scheme is case-insensitive (RFC 9110
/// §11.1), so `bearer` and `BEARER` are accepted too.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// Rejects a request without a valid API key (401, OpenAI-shaped, on the record: see
/// `refusals`); otherwise puts its tenant in the extensions and passes it on.
pub(crate) async fn require_key(
    State(gateway): State<Gateway>,
    mut request: Request,
    next: Next,
) -> Response {
    let arrived = std::time::Instant::now();
    let client = crate::routes::client_addr(&request);
    let Some(presented) = bearer(request.headers()) else {
        let error = AppError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "missing API key: send `Authorization: Bearer <key>`",
        );
        return gateway
            .refused_key(client, "missing_api_key", error)
            .await
            .into_response();
    };
    match gateway.authenticate(presented).await {
        Ok(Some(tenant)) => {
            request.extensions_mut().insert(Tenant {
                id: tenant,
                arrived,
            });
            next.run(request).await
        }
        Ok(None) => {
            let error = AppError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_api_key",
                "incorrect API key provided",
            );
            gateway
                .refused_key(client, "invalid_api_key", error)
                .await
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_schemes() {
        for (value, want) in [
            ("Bearer k1", Some("k1")),
            ("bearer k1", Some("k1")),
            ("BEARER k1", Some("k1")),
            ("Bearer   k1  ", Some("k1")),
            ("Basic k1", None),
            ("Bearer ", None),
            ("Bearerk1", None),
            ("k1", None),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&headers), want, "{value:?}");
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
