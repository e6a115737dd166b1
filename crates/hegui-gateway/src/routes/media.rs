//! The non-chat endpoints that go to an upstream: images and speech (input guard, then the
//! implicit label inside the file, see [`crate::guard::label`]) and embeddings (input guard
//! only; nothing generated to label).

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hegui_lexicon::Verdict;
use hegui_store::ledger::schema::{Outcome, Stage, StageVerdict};
use serde_json::Value;

use super::{Result, aigc_headers, blocked_input, client_addr, read_json, upstream_of};
use crate::auth::Tenant;
use crate::config::UnknownFields;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::fields;
use crate::guard::{Caller, scan_text};
use crate::upstream::{call_upstream, read_upstream, upstream_failure, upstream_status};
use crate::wire::Texts as _;
use crate::wire::request::MediaRequest;

/// `POST /v1/embeddings`: input guard only.
pub(crate) async fn embeddings(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    handle(gateway, tenant, request, Kind::Embedding).await
}

/// `POST /v1/images/generations`: b64 images get implicit (and optional explicit) labels.
pub(crate) async fn images(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    handle(gateway, tenant, request, Kind::Image).await
}

/// `POST /v1/audio/speech`: the audio gets an implicit (and optional explicit) label.
pub(crate) async fn speech(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    handle(gateway, tenant, request, Kind::Speech).await
}

async fn handle(gateway: Gateway, tenant: Tenant, request: Request, kind: Kind) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    match simple_inner(
        gateway.clone(),
        tenant.clone(),
        parts.headers,
        body,
        addr,
        kind,
    )
    .await
    {
        Ok(response) => response,
        Err(e) => gateway
            .refused_request(&tenant, kind.name(), addr, e)
            .await
            .into_response(),
    }
}

/// The text of an images answer (a `revised_prompt`, any field but the images themselves)
/// through the lexicon: the output stage's verdict when it blocks.
fn images_text_blocked(gateway: &Gateway, caller: &Caller, value: &Value) -> Option<StageVerdict> {
    let text = fields::text_of(value);
    let scan = scan_text(&gateway.matcher().load(), &text);
    let risk = scan.first_block.clone()?;
    tracing::info!(record = %caller.record_id, tenant = ?caller.tenant, user = ?caller.user,
        %risk, "images answer blocked");
    gateway.inner.metrics.block("output", &risk);
    Some(scan.stage(Stage::Output, Verdict::Block, &text))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Embedding,
    Image,
    Speech,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Embedding => "embedding",
            Kind::Image => "image",
            Kind::Speech => "speech",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::Embedding => "embeddings",
            Kind::Image => "images/generations",
            Kind::Speech => "audio/speech",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Kind::Image => "prompt",
            _ => "input",
        }
    }
}

/// Every text of the request that is forwarded, one per line ([`MediaRequest::texts`]), once
/// the prompt or input is known to be there: a string (for embeddings, also a list).
fn input_of(kind: Kind, request: &MediaRequest) -> Result<String> {
    let present = match kind {
        Kind::Image => request.prompt.is_some(),
        Kind::Speech => matches!(request.input, Some(Value::String(_))),
        Kind::Embedding => matches!(request.input, Some(Value::String(_) | Value::Array(_))),
    };
    if !present {
        let field = kind.field();
        return Err(AppError::bad_request(
            "missing_input",
            format!("`{field}` is required and must be a string"),
        )
        .param(field));
    }
    Ok(request.text())
}

#[tracing::instrument(name = "media", skip_all, fields(kind = kind.name()))]
async fn simple_inner(
    gateway: Gateway,
    tenant: Tenant,
    headers: HeaderMap,
    body: Body,
    addr: Option<SocketAddr>,
    kind: Kind,
) -> Result<Response> {
    if gateway.config().pass_through {
        return super::pass_through(&gateway, body, kind.path()).await;
    }
    let (mut bytes, mut request) = read_json::<MediaRequest>(&gateway, body).await?;
    let named = (
        request.model.as_deref().unwrap_or_default(),
        request.user.as_deref(),
    );
    let caller = gateway
        .admit(&tenant, kind.name(), &headers, named, addr)
        .await?;
    if gateway.config().guard.unknown_fields == UnknownFields::Drop && request.drop_unknown() {
        bytes = serde_json::to_vec(&request).unwrap_or_default().into();
    }
    let (model, upstream) = upstream_of(&gateway, request.model.as_deref())?;
    let text = input_of(kind, &request)?;
    let check = gateway.check_input(&caller, &text).await;
    if check.blocked.is_some() {
        return Ok(
            blocked_input(&gateway, &caller, kind.name(), &model, &text, &check, false).await,
        );
    }
    let record = gateway
        .record(&caller, kind.name(), &model)
        .request(text)
        .verdicts(check.verdicts(None));
    let upstream_started = Instant::now();
    let response = match call_upstream(&gateway, upstream, kind.path(), bytes).await {
        Ok(r) => r,
        Err(failure) => return Err(upstream_failure(&gateway, &caller, record, failure).await),
    };
    if !response.status().is_success() {
        return Ok(upstream_status(&gateway, &caller, upstream, record, response).await);
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let answer = match read_upstream(&gateway, upstream, response).await {
        Ok(b) => b,
        Err(failure) => return Err(upstream_failure(&gateway, &caller, record, failure).await),
    };
    let upstream_wait = upstream_started.elapsed();
    let labeler = &gateway.inner.pipeline.label;
    let passed = check.passed_verdict();
    if kind == Kind::Speech {
        let audio = labeler.audio(&caller, answer.to_vec());
        let record = record
            .response(format!(
                "[audio {} bytes, sm3 {}]",
                audio.bytes.len(),
                hex::encode(hegui_keys::sm3(&audio.bytes))
            ))
            .verdicts(check.verdicts(Some(audio.verdict)))
            .label(labeler.label(&caller).to_json_wrapped());
        gateway.audit(&caller, record).await?;
        gateway
            .inner
            .metrics
            .exchange(upstream_wait, caller.started);
        let headers = aigc_headers(&gateway, &caller, passed.as_str(), audio.labeled);
        return Ok((headers, [(header::CONTENT_TYPE, content_type)], audio.bytes).into_response());
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&answer) else {
        let failure = (
            StatusCode::BAD_GATEWAY,
            format!("upstream `{}` answered malformed JSON", upstream.name),
        );
        return Err(upstream_failure(&gateway, &caller, record, failure).await);
    };
    let labeled = kind == Kind::Image;
    if labeled && let Some(stopped) = images_text_blocked(&gateway, &caller, &value) {
        let notice = gateway.config().guard.output_notice.clone();
        let record = record
            .response(notice.clone())
            .verdicts(check.verdicts(Some(stopped)))
            .outcome(Outcome::BlockedOutput);
        gateway.audit(&caller, record).await?;
        let headers = aigc_headers(&gateway, &caller, "block", false);
        return Ok((headers, AppError::bad_request("content_filter", notice)).into_response());
    }
    let record = if labeled {
        let (text, verdict) = labeler.images(&caller, &mut value);
        record
            .response(text)
            .verdicts(check.verdicts(Some(verdict)))
            .label(labeler.label(&caller).to_json_wrapped())
    } else {
        let count = value
            .get("data")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        record
            .response(format!("[{count} embeddings]"))
            .verdicts(check.verdicts(Some(StageVerdict::labeling(false, Vec::new()))))
    };
    gateway.audit(&caller, record).await?;
    gateway
        .inner
        .metrics
        .exchange(upstream_wait, caller.started);
    let headers = aigc_headers(&gateway, &caller, passed.as_str(), labeled);
    Ok((headers, axum::Json(value)).into_response())
}
