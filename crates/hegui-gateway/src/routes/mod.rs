//! The routes: the OpenAI-compatible endpoints, one module per job, over what they share here
//! (reading the body, the model's upstream, response headers, the answer to a refused input).
//!
//! - [`chat`]: `POST /v1/chat/completions`, plain; [`chat_stream`]: the same, streamed.
//! - [`media`]: images and speech (labeled), and embeddings (input guard only).
//! - [`models`]: `GET /v1/models`.
//! - [`records`]: `GET /v1/hegui/records/{id}`, an answer served again (never once taken down).
//!
//! Each handler: the auth layer has set the tenant → [`Gateway::admit`] (admission guards) →
//! the input guards → [`crate::upstream`] → the output guards or the labeler → the audit
//! record, durable before the answer (or its last chunk) leaves.

pub(crate) mod agreements;
pub(crate) mod chat;
pub(crate) mod chat_stream;
pub(crate) mod media;
pub(crate) mod models;
pub(crate) mod records;

use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::{InputBlock, Upstream};
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::{Caller, InputCheck};
use crate::wire::{
    self,
    answer::{Choice, Chunk, ChunkShape, Completion},
    message::Message,
    request::ModelOnly,
};
use hegui_store::ledger::schema::Outcome;

pub(crate) type Result<T, E = AppError> = std::result::Result<T, E>;

/// Reads the body as a `T` (a JSON object of the wire types), with clear errors for each way it
/// can be wrong: what is wrong and where (the path in the body).
pub(crate) async fn read_json<T: DeserializeOwned>(
    gateway: &Gateway,
    body: Body,
) -> Result<(Bytes, T)> {
    let bytes = read_body(gateway, body, gateway.config().limits.body_bytes).await?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        AppError::bad_request(
            "invalid_encoding",
            format!(
                "request body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })?;
    let value = wire::decode(text).map_err(|e| decode_error(&e))?;
    Ok((bytes, value))
}

/// Reads a whole body of at most `limit` bytes.
///
/// A body declared (`Content-Length`) larger than `limit` gets 413 before a byte of it is read.
/// The whole body must arrive within `limits.body-read-secs` of the handler asking for it,
/// however it is split into frames: a client that sends a byte every few seconds gets 408 at
/// the deadline instead of holding its concurrency slot for as long as it likes.
pub(crate) async fn read_body(gateway: &Gateway, body: Body, limit: usize) -> Result<Bytes> {
    let limits = &gateway.config().limits;
    let too_large = || {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    if axum::body::HttpBody::size_hint(&body).lower() > limit as u64 {
        return Err(too_large());
    }
    let deadline = std::time::Duration::from_secs(limits.body_read_secs);
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(error) = cause {
                if error.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                cause = error.source();
            }
            Err(AppError::bad_request(
                "invalid_body",
                format!("the request body could not be read: {e}"),
            ))
        }
        Err(_) => Err(AppError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} s",
                limits.body_read_secs
            ),
        )),
    }
}

/// The error for a body that does not decode: its own code where the gateway reads the field
/// (`model`, `messages`, `user`), `invalid_request` with the path elsewhere.
fn decode_error(e: &wire::DecodeError) -> AppError {
    if e.is_syntax() {
        return AppError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {}", e.error),
        );
    }
    let path = e.path.as_str();
    let top = path.split(['.', '[']).next().unwrap_or_default();
    match top {
        "" => AppError::bad_request(
            "invalid_json",
            format!("request body must be a JSON object ({})", e.error),
        ),
        "model" => {
            AppError::bad_request("missing_model", "`model` is required and must be a string")
                .param("model")
        }
        "messages" if path == "messages" => AppError::bad_request(
            "missing_messages",
            "`messages` is required and must be an array",
        )
        .param("messages"),
        "messages" => AppError::bad_request("invalid_messages", format!("`{path}`: {}", e.error))
            .param("messages"),
        "user" => AppError::bad_request("invalid_user", "`user` must be a string").param("user"),
        "prompt" | "input" => {
            let field = if top == "prompt" { "prompt" } else { "input" };
            AppError::bad_request(
                "missing_input",
                format!("`{field}` is required and must be a string: {}", e.error),
            )
            .param(field)
        }
        _ => AppError::bad_request("invalid_request", format!("`{path}`: {}", e.error)),
    }
}

/// `pass-through = true` (measuring only): the request to its model's upstream as it came, the
/// answer back as the upstream sends it (streamed or not): no guard, no label, no record.
pub(crate) async fn pass_through(gateway: &Gateway, body: Body, path: &str) -> Result<Response> {
    let (bytes, request) = read_json::<ModelOnly>(gateway, body).await?;
    let (_, upstream) = upstream_of(gateway, request.model.as_deref())?;
    let response = crate::upstream::call_upstream(gateway, upstream, path, bytes)
        .await
        .map_err(crate::upstream::upstream_error)?;
    let status = response.status();
    let kind = response.headers().get(header::CONTENT_TYPE).cloned();
    let mut answer = Response::new(Body::from_stream(response.bytes_stream()));
    *answer.status_mut() = status;
    if let Some(kind) = kind {
        answer.headers_mut().insert(header::CONTENT_TYPE, kind);
    }
    Ok(answer)
}

/// The model a request names, and its upstream.
pub(crate) fn upstream_of<'a>(
    gateway: &'a Gateway,
    model: Option<&str>,
) -> Result<(String, &'a Upstream)> {
    let model = model.ok_or_else(|| {
        AppError::bad_request("missing_model", "`model` is required and must be a string")
            .param("model")
    })?;
    let upstream = gateway.config().upstream_for(model).ok_or_else(|| {
        AppError::new(
            StatusCode::NOT_FOUND,
            "model_not_found",
            format!("the model `{model}` does not exist or is not served by this gateway"),
        )
        .param("model")
    })?;
    Ok((model.to_owned(), upstream))
}

pub(crate) fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

pub(crate) fn aigc_headers(
    gateway: &Gateway,
    caller: &Caller,
    verdict: &str,
    labeled: bool,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set_header(&mut headers, "x-hegui-record-id", caller.record_id.as_str());
    set_header(&mut headers, "x-hegui-verdict", verdict);
    if labeled {
        set_header(&mut headers, "x-aigc-label", "1");
        set_header(
            &mut headers,
            "x-aigc-content-producer",
            gateway.inner.pipeline.label.producer(),
        );
        set_header(&mut headers, "x-aigc-produce-id", caller.record_id.as_str());
    }
    headers
}

pub(crate) fn client_addr(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Audits a blocked input, applies the violation policy and answers per `guard.input-block`.
pub(crate) async fn blocked_input(
    gateway: &Gateway,
    caller: &Caller,
    kind: &str,
    model: &str,
    text: &str,
    check: &InputCheck,
    stream: bool,
) -> Response {
    let risk = check.blocked.clone().unwrap_or_default();
    tracing::info!(record = %caller.record_id, tenant = ?caller.tenant, user = ?caller.user, kind, %risk, "input blocked");
    let refusal = gateway.config().guard.refusal_message.clone();
    let record = gateway
        .record(caller, kind, model)
        .request(text)
        .response(refusal.clone())
        .verdicts(check.verdicts(None))
        .outcome(Outcome::BlockedInput);
    if let Err(e) = gateway.audit(caller, record).await {
        return e.into_response();
    }
    let sanction = gateway
        .inner
        .pipeline
        .sanctions
        .record_violation(caller, &risk)
        .await;
    let mut headers = aigc_headers(gateway, caller, "block", false);
    if let Some(state) = sanction {
        set_header(&mut headers, "x-hegui-user-state", state.as_str());
    }
    if gateway.input_block() == InputBlock::Error || kind != "chat" {
        let error = AppError::bad_request("content_filter", refusal);
        return (headers, error.into_response()).into_response();
    }
    let id = format!("chatcmpl-{}", caller.record_id);
    let created = gateway.now().timestamp();
    if stream {
        let template = Chunk {
            id: Some(id),
            object: Some("chat.completion.chunk".into()),
            created: Some(created),
            model: Some(model.to_owned()),
            ..Chunk::default()
        };
        let mut shape = ChunkShape::default();
        shape.incoming(&template);
        let assistant = Message {
            role: Some("assistant".into()),
            ..Message::text(refusal)
        };
        let first = shape.make_chunk(0, assistant, None);
        let last = shape.make_chunk(0, Message::default(), Some("content_filter"));
        let body = format!("{}{}data: [DONE]\n\n", sse(&first), sse(&last));
        return (headers, [(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
    }
    let answer = Completion {
        id: Some(id),
        object: Some("chat.completion".into()),
        created: Some(created),
        model: Some(model.to_owned()),
        choices: Some(vec![Choice::stopped(0, &refusal)]),
        aigc: None,
        rest: [(
            "usage".to_owned(),
            json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}),
        )]
        .into_iter()
        .collect(),
    };
    (headers, axum::Json(answer)).into_response()
}

/// One server-sent event of `chunk`.
pub(crate) fn sse(chunk: &Chunk) -> String {
    let json = serde_json::to_string(chunk).unwrap_or_default();
    format!("data: {json}\n\n")
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /metrics` (Prometheus text).
pub(crate) async fn metrics(State(gateway): State<Gateway>) -> Response {
    let text = gateway
        .inner
        .metrics
        .render(gateway.inner.streams.len(), gateway.inner.tracked.sizes());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Unknown routes.
pub(crate) async fn not_found(request: Request) -> Response {
    AppError::new(
        StatusCode::NOT_FOUND,
        "unknown_url",
        format!(
            "unknown route `{} {}`",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}

/// A known route with another method: 405 in the OpenAI error shape (axum's default has no body).
pub(crate) async fn method_not_allowed(request: Request) -> Response {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "`{} {}` is not supported; see the route's documented method",
            request.method(),
            request.uri().path()
        ),
    )
    .into_response()
}
