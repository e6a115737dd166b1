//! The upstream client: one request to an OpenAI-compatible upstream within
//! `limits.upstream-timeout-secs`, and what the client and the ledger get when it fails (a 504
//! when late, a 502 when broken or answering 5xx or 3xx, its own 4xx passed through). The client
//! follows no redirect (see `Gateway::with_clock`, where it is built).

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use hegui_store::ledger::NewRecord;
use hegui_store::ledger::schema::Outcome;
use serde_json::Value;

use crate::config::Upstream;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::Caller;
use crate::routes::aigc_headers;

/// An upstream as requests are sent to it: its base URL parsed once (parsing the host took
/// about 1.5 % of the gateway's CPU when done per request) and its `Authorization` header.
#[derive(Debug)]
pub(crate) struct UpstreamTarget {
    base: reqwest::Url,
    authorization: Option<axum::http::HeaderValue>,
}

impl UpstreamTarget {
    pub(crate) fn new(base_url: &str, key: Option<&str>) -> Result<UpstreamTarget, String> {
        let base = reqwest::Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| format!("`{base_url}` is not a URL: {e}"))?;
        let authorization = match key {
            Some(key) => {
                let mut value = axum::http::HeaderValue::try_from(format!("Bearer {key}"))
                    .map_err(|_| "the API key holds a character a header cannot".to_owned())?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(UpstreamTarget {
            base,
            authorization,
        })
    }

    /// The URL of `path` (`chat/completions`, …) under the base URL.
    pub(crate) fn url(&self, path: &str) -> reqwest::Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    /// The `Authorization` header for the upstream's key, if it has one.
    pub(crate) fn authorization(&self) -> Option<&axum::http::HeaderValue> {
        self.authorization.as_ref()
    }
}

/// Sends the request to the upstream and waits for its status and headers.
pub(crate) async fn call_upstream(
    gateway: &Gateway,
    upstream: &Upstream,
    path: &str,
    body: Bytes,
) -> Result<reqwest::Response, (StatusCode, String)> {
    let Some(target) = gateway.upstream_target(&upstream.name) else {
        return Err((
            StatusCode::BAD_GATEWAY,
            format!("upstream `{}` is not configured", upstream.name),
        ));
    };
    let mut request = gateway
        .inner
        .client
        .post(target.url(path))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(authorization) = target.authorization() {
        request = request.header(header::AUTHORIZATION, authorization.clone());
    }
    within_upstream_timeout(
        gateway,
        upstream,
        request.send(),
        "did not answer",
        "unreachable",
    )
    .await
}

/// Reads a whole upstream body within the upstream timeout.
pub(crate) async fn read_upstream(
    gateway: &Gateway,
    upstream: &Upstream,
    response: reqwest::Response,
) -> Result<Bytes, (StatusCode, String)> {
    within_upstream_timeout(
        gateway,
        upstream,
        response.bytes(),
        "did not finish its answer",
        "answer broke off",
    )
    .await
}

/// Runs one upstream step within the upstream timeout: a timeout is a 504 (`upstream `NAME`
/// LATE within Ns`), a transport error a 502 (`upstream `NAME` BROKEN: cause`).
async fn within_upstream_timeout<T>(
    gateway: &Gateway,
    upstream: &Upstream,
    step: impl Future<Output = Result<T, reqwest::Error>>,
    late: &str,
    broken: &str,
) -> Result<T, (StatusCode, String)> {
    let timeout = Duration::from_secs(gateway.config().limits.upstream_timeout_secs);
    match tokio::time::timeout(timeout, step).await {
        Err(_) => Err((
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "upstream `{}` {late} within {}s",
                upstream.name,
                timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => Err((
            StatusCode::BAD_GATEWAY,
            // Without the URL: the client must not learn the upstream's internal address.
            format!("upstream `{}` {broken}: {}", upstream.name, e.without_url()),
        )),
        Ok(Ok(value)) => Ok(value),
    }
}

/// Audits an upstream failure and turns it into the client's error.
pub(crate) async fn upstream_failure(
    gateway: &Gateway,
    caller: &Caller,
    record: NewRecord,
    (status, message): (StatusCode, String),
) -> AppError {
    tracing::warn!(record = %caller.record_id, %message, "upstream failure");
    let record = record
        .outcome(Outcome::UpstreamError)
        .response(message.clone());
    if let Err(e) = gateway.audit(caller, record).await {
        return e;
    }
    upstream_error((status, message)).record(caller.record_id.as_str())
}

/// The OpenAI-shaped error of an upstream failure: `upstream_timeout` for a 504,
/// `upstream_error` otherwise.
pub(crate) fn upstream_error((status, message): (StatusCode, String)) -> AppError {
    let code = if status == StatusCode::GATEWAY_TIMEOUT {
        "upstream_timeout"
    } else {
        "upstream_error"
    };
    AppError::new(status, code, message)
}

/// A non-2xx upstream answer: 4xx are passed through (they are about the request), 5xx and 3xx
/// (a redirect, not followed) become 502.
pub(crate) async fn upstream_status(
    gateway: &Gateway,
    caller: &Caller,
    upstream: &Upstream,
    record: NewRecord,
    response: reqwest::Response,
) -> Response {
    let status = response.status();
    let body = read_upstream(gateway, upstream, response)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let record = record
        .outcome(Outcome::UpstreamError)
        .response(text.clone());
    if let Err(e) = gateway.audit(caller, record).await {
        return e.into_response();
    }
    if status.is_client_error()
        && let Ok(value) = serde_json::from_slice::<Value>(&body)
        && value.get("error").is_some()
    {
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_REQUEST);
        let headers = aigc_headers(gateway, caller, "clean", false);
        return (status, headers, axum::Json(value)).into_response();
    }
    AppError::upstream(format!(
        "upstream `{}` answered HTTP {}",
        upstream.name,
        status.as_u16()
    ))
    .record(caller.record_id.as_str())
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::UpstreamTarget;

    #[test]
    fn urls_join_the_base_path() {
        for (base, path, url) in [
            (
                "http://127.0.0.1:9/v1",
                "chat/completions",
                "http://127.0.0.1:9/v1/chat/completions",
            ),
            (
                "http://127.0.0.1:9/v1/",
                "embeddings",
                "http://127.0.0.1:9/v1/embeddings",
            ),
            (
                "https://api.example.com",
                "models",
                "https://api.example.com/models",
            ),
            (
                "https://api.example.com/",
                "audio/speech",
                "https://api.example.com/audio/speech",
            ),
        ] {
            let target = UpstreamTarget::new(base, None).unwrap();
            assert_eq!(target.url(path).as_str(), url, "{base} + {path}");
            assert!(target.authorization().is_none());
        }
    }

    #[test]
    fn the_key_is_a_sensitive_bearer_header() {
        let target = UpstreamTarget::new("http://127.0.0.1:9/v1", Some("sk-1")).unwrap();
        let value = target.authorization().unwrap();
        assert_eq!(value.to_str().unwrap(), "Bearer sk-1");
        assert!(value.is_sensitive());
        assert!(UpstreamTarget::new("http://127.0.0.1:9/v1", Some("a\nb")).is_err());
    }
}
