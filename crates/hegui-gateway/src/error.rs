//! The gateway's one error type: every failure becomes an OpenAI-shaped error body
//! (`{"error": {"message", "type", "param", "code"}}`) so that SDKs raise their usual exceptions.
//!
//! Client errors are not logged; internal errors get a generic message and are logged once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to the client.
#[derive(Debug, Clone)]
pub(crate) struct AppError {
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) param: Option<&'static str>,
    /// The audit record of the failed request, sent as `x-hegui-record-id`.
    pub(crate) record_id: Option<String>,
}

impl AppError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let kind = match status.as_u16() {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 | 400 | 415 | 422 => "invalid_request_error",
            429 => "rate_limit_error",
            500..=599 => "api_error",
            _ => "invalid_request_error",
        };
        AppError {
            status,
            kind,
            code,
            message: message.into(),
            param: None,
            record_id: None,
        }
    }

    pub(crate) fn record(mut self, id: &str) -> Self {
        self.record_id = Some(id.to_owned());
        self
    }

    pub(crate) fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub(crate) fn param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    pub(crate) fn upstream(message: impl Into<String>) -> Self {
        AppError::new(StatusCode::BAD_GATEWAY, "upstream_error", message)
    }

    pub(crate) fn internal(what: &str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "{what}");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("internal error while {what}"),
        )
    }

    pub(crate) fn body(&self) -> serde_json::Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(id) = &self.record_id
            && let Ok(value) = axum::http::HeaderValue::from_str(id)
        {
            response.headers_mut().insert("x-hegui-record-id", value);
        }
        response
    }
}
