//! The OpenAI-compatible endpoints: each handler reads its input, runs the guard pipeline
//! ([`Gateway::admit`], the input guard), calls the upstream and applies the output guard,
//! labels and the audit record before answering.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Extension, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use hegui_lexicon::{Level, Verdict};
use serde_json::{Value, json};

use crate::auth::Tenant;
use crate::config::{ExplicitText, InputBlock, Upstream};
use crate::error::AppError;
use crate::gateway::{Caller, Gateway, InputCheck, audit_hits, decision};
use crate::stream::{Blocked, OutputGuard, SseParser};
use hegui_store::ledger::schema::{Decision, Outcome, Stage, StageVerdict};

type Result<T, E = AppError> = std::result::Result<T, E>;

/// Reads the body as a JSON object, with clear errors for each way it can be wrong.
async fn read_json(gateway: &Gateway, body: Body) -> Result<(Bytes, Value)> {
    let limit = gateway.config().limits.body_bytes;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            format!("request body is larger than the limit of {limit} bytes"),
        )
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        AppError::bad_request(
            "invalid_encoding",
            format!(
                "request body is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        AppError::bad_request(
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(AppError::bad_request(
            "invalid_json",
            "request body must be a JSON object",
        ));
    }
    Ok((bytes, value))
}

fn upstream_of<'a>(gateway: &'a Gateway, body: &Value) -> Result<(String, &'a Upstream)> {
    let model = body.get("model").and_then(Value::as_str).ok_or_else(|| {
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

fn content_text(content: &Value, out: &mut Vec<String>) {
    match content {
        Value::String(s) => out.push(s.clone()),
        Value::Array(parts) => {
            for part in parts {
                if let Some(s) = part.get("text").and_then(Value::as_str) {
                    out.push(s.to_owned());
                }
            }
        }
        _ => {}
    }
}

fn chat_input(body: &Value) -> Result<String> {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            AppError::bad_request(
                "missing_messages",
                "`messages` is required and must be an array",
            )
            .param("messages")
        })?;
    let mut texts = Vec::new();
    for message in messages {
        if let Some(content) = message.get("content") {
            content_text(content, &mut texts);
        }
    }
    Ok(texts.join("\n"))
}

fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn aigc_headers(gateway: &Gateway, caller: &Caller, verdict: &str, labeled: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    set_header(&mut headers, "x-hegui-record-id", caller.record_id.as_str());
    set_header(&mut headers, "x-hegui-verdict", verdict);
    if labeled {
        set_header(&mut headers, "x-aigc-label", "1");
        set_header(
            &mut headers,
            "x-aigc-content-producer",
            &gateway.config().label.producer,
        );
        set_header(&mut headers, "x-aigc-produce-id", caller.record_id.as_str());
    }
    headers
}

fn client_addr(request: &Request) -> Option<SocketAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Sends the request to the upstream and waits for its status and headers.
async fn call_upstream(
    gateway: &Gateway,
    upstream: &Upstream,
    path: &str,
    body: Bytes,
) -> Result<reqwest::Response, (StatusCode, String)> {
    let url = format!("{}/{path}", upstream.base_url.trim_end_matches('/'));
    let mut request = gateway
        .inner
        .client
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(key) = gateway.upstream_key(&upstream.name) {
        request = request.bearer_auth(key);
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
async fn read_upstream(
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
            format!("upstream `{}` {broken}: {e}", upstream.name),
        )),
        Ok(Ok(value)) => Ok(value),
    }
}

/// Audits an upstream failure and turns it into the client's error.
async fn upstream_failure(
    gateway: &Gateway,
    caller: &Caller,
    record: hegui_store::ledger::NewRecord,
    (status, message): (StatusCode, String),
) -> AppError {
    tracing::warn!(record = %caller.record_id, %message, "upstream failure");
    let record = record
        .outcome(Outcome::UpstreamError)
        .response(message.clone());
    if let Err(e) = gateway.audit(caller, record).await {
        return e;
    }
    let code = if status == StatusCode::GATEWAY_TIMEOUT {
        "upstream_timeout"
    } else {
        "upstream_error"
    };
    AppError::new(status, code, message).record(caller.record_id.as_str())
}

/// A non-2xx upstream answer: 4xx are passed through (they are about the request), 5xx become
/// 502.
async fn upstream_status(
    gateway: &Gateway,
    caller: &Caller,
    upstream: &Upstream,
    record: hegui_store::ledger::NewRecord,
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

/// Audits a blocked input, applies the violation policy and answers per `guard.input-block`.
async fn blocked_input(
    gateway: &Gateway,
    caller: &Caller,
    kind: &str,
    model: &str,
    text: &str,
    check: &InputCheck,
    stream: bool,
) -> Response {
    let risk = check.blocked.clone().unwrap_or_default();
    tracing::info!(record = %caller.record_id, tenant = %caller.tenant, user = %caller.user, kind, %risk, "input blocked");
    let refusal = gateway.config().guard.refusal_message.clone();
    let record = gateway
        .record(caller, kind, model)
        .request(text)
        .response(refusal.clone())
        .verdicts(gateway.verdicts(check, None))
        .outcome(Outcome::BlockedInput);
    if let Err(e) = gateway.audit(caller, record).await {
        return e.into_response();
    }
    let sanction = gateway.record_violation(caller, &risk).await;
    let mut headers = aigc_headers(gateway, caller, "block", false);
    if let Some(state) = sanction {
        set_header(&mut headers, "x-hegui-user-state", state.as_str());
    }
    if gateway.input_block() == InputBlock::Error || kind != "chat" {
        let error = AppError::bad_request("content_filter", refusal);
        return (headers, error.into_response()).into_response();
    }
    let id = format!("chatcmpl-{}", caller.record_id);
    let created = chrono::Utc::now().timestamp();
    if stream {
        let first = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": refusal}, "finish_reason": null}]});
        let last = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "content_filter"}]});
        let body = format!("data: {first}\n\ndata: {last}\n\ndata: [DONE]\n\n");
        return (headers, [(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
    }
    let value = json!({"id": id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": refusal}, "finish_reason": "content_filter"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}});
    (headers, axum::Json(value)).into_response()
}

fn notice_position(gateway: &Gateway) -> Option<hegui_label::explicit::Position> {
    use hegui_label::explicit::Position;
    match gateway.config().label.explicit_text {
        ExplicitText::Off => None,
        ExplicitText::Start => Some(Position::Start),
        ExplicitText::End => Some(Position::End),
        ExplicitText::Both => Some(Position::Both),
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    chat_inner(gateway, tenant, parts.headers, body, addr)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

#[tracing::instrument(name = "chat", skip_all)]
async fn chat_inner(
    gateway: Gateway,
    tenant: Tenant,
    headers: HeaderMap,
    body: Body,
    addr: Option<SocketAddr>,
) -> Result<Response> {
    let (bytes, body) = read_json(&gateway, body).await?;
    let caller = gateway.admit(&tenant, &headers, Some(&body), addr).await?;
    let (model, upstream) = upstream_of(&gateway, &body)?;
    let text = chat_input(&body)?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let check = gateway.check_input(&caller, &text).await;
    if check.blocked.is_some() {
        return Ok(blocked_input(&gateway, &caller, "chat", &model, &text, &check, stream).await);
    }
    // The input stage's verdict goes in now, so that an upstream failure's record has it.
    let record = gateway
        .record(&caller, "chat", &model)
        .request(text)
        .verdicts(gateway.verdicts(&check, None));
    let before_upstream = caller.started.elapsed();
    let upstream_started = Instant::now();
    let response = match call_upstream(&gateway, upstream, "chat/completions", bytes).await {
        Ok(r) => r,
        Err(failure) => return Err(upstream_failure(&gateway, &caller, record, failure).await),
    };
    if !response.status().is_success() {
        return Ok(upstream_status(&gateway, &caller, upstream, record, response).await);
    }
    if stream {
        let is_sse = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            let failure = (
                StatusCode::BAD_GATEWAY,
                format!(
                    "upstream `{}` did not answer with an event stream",
                    upstream.name
                ),
            );
            return Err(upstream_failure(&gateway, &caller, record, failure).await);
        }
        let upstream_wait = upstream_started.elapsed();
        gateway
            .inner
            .metrics
            .upstream_latency(upstream_wait.as_secs_f64());
        // The output verdict is not known yet: the header gives the input's.
        let headers = aigc_headers(&gateway, &caller, check.verdict.as_str(), true);
        let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(32);
        let task = StreamTask {
            gateway: gateway.clone(),
            caller,
            record,
            check,
            upstream_name: upstream.name.clone(),
            sender,
            before_upstream,
        };
        // Tracked, so that graceful shutdown waits for open streams (see `serve`); a task that
        // panics still leaves the tracker.
        gateway.inner.streams.spawn(task.drive(response));
        let body = Body::from_stream(futures_util::stream::unfold(receiver, |mut r| async {
            r.recv().await.map(|b| (Ok::<_, Infallible>(b), r))
        }));
        return Ok((
            headers,
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
            .into_response());
    }
    let answer = match read_upstream(&gateway, upstream, response).await {
        Ok(b) => b,
        Err(failure) => return Err(upstream_failure(&gateway, &caller, record, failure).await),
    };
    let upstream_wait = upstream_started.elapsed();
    let Ok(mut value) = serde_json::from_slice::<Value>(&answer) else {
        let failure = (
            StatusCode::BAD_GATEWAY,
            format!("upstream `{}` answered malformed JSON", upstream.name),
        );
        return Err(upstream_failure(&gateway, &caller, record, failure).await);
    };
    // Output guard on every choice's text.
    let matcher = gateway.matcher().load();
    let notice = gateway.config().guard.output_notice.clone();
    let mut output_hits = Vec::new();
    let mut blocked_risk = None;
    let mut verdict = Verdict::Clean;
    let mut texts = Vec::new();
    if let Some(choices) = value.get_mut("choices").and_then(Value::as_array_mut) {
        for choice in choices.iter_mut() {
            let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
                continue;
            };
            // Every text the message carries (content, reasoning, tool calls, refusal, …).
            let mut scanned = String::new();
            for (key, value) in message.iter() {
                if key != "role" {
                    crate::stream::collect_strings(value, &mut scanned, "\n");
                }
            }
            let hits = matcher.find_all(&scanned);
            let choice_verdict = Verdict::of(&hits);
            verdict = verdict.max(choice_verdict);
            output_hits.extend(audit_hits(&hits, Some(&scanned)));
            if choice_verdict == Verdict::Block {
                blocked_risk = hits
                    .iter()
                    .find(|h| h.rule.level == Level::Block)
                    .map(|h| h.rule.risk.clone());
                message.retain(|key, _| key == "role");
                message.insert("content".into(), Value::String(notice.clone()));
                choice["finish_reason"] = json!("content_filter");
                texts.push(notice.clone());
            } else if let Some(position) = notice_position(&gateway)
                && let Some(content) = message.get("content").and_then(Value::as_str)
            {
                let labeled = hegui_label::explicit::label_text(
                    content,
                    &gateway.config().label.notice,
                    position,
                )
                .unwrap_or_else(|_| content.to_owned());
                texts.push(labeled.clone());
                message.insert("content".into(), Value::String(labeled));
            } else if let Some(content) = message.get("content").and_then(Value::as_str) {
                texts.push(content.to_owned());
            }
        }
    }
    if let Some(risk) = &blocked_risk {
        tracing::info!(record = %caller.record_id, tenant = %caller.tenant, user = %caller.user, %risk, "output blocked");
        gateway.inner.metrics.block("output", risk);
    }
    let label = gateway.label(&caller);
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "aigc".into(),
            serde_json::to_value(&label).unwrap_or_default(),
        );
    }
    let outcome = if blocked_risk.is_some() {
        Outcome::BlockedOutput
    } else {
        Outcome::Ok
    };
    let output_verdict = StageVerdict::new(Stage::Output, decision(verdict), output_hits);
    let record = record
        .response(texts.join("\n"))
        .verdicts(gateway.verdicts(&check, Some(output_verdict)))
        .label(label.to_json_wrapped())
        .outcome(outcome);
    gateway.audit(&caller, record).await?;
    gateway
        .inner
        .metrics
        .exchange(upstream_wait, caller.started);
    let overall = verdict.max(if check.verdict == Verdict::Block {
        Verdict::Clean
    } else {
        check.verdict
    });
    let headers = aigc_headers(&gateway, &caller, overall.as_str(), true);
    Ok((headers, axum::Json(value)).into_response())
}

/// Drives one streamed answer: upstream SSE in, guarded SSE out.
struct StreamTask {
    gateway: Gateway,
    caller: Caller,
    record: hegui_store::ledger::NewRecord,
    check: InputCheck,
    upstream_name: String,
    sender: tokio::sync::mpsc::Sender<Bytes>,
    before_upstream: Duration,
}

enum End {
    Done,
    Failed(String),
    Blocked(Blocked),
    ClientGone,
}

fn sse(value: &Value) -> Bytes {
    Bytes::from(format!("data: {value}\n\n"))
}

fn has_finish(chunk: &Value) -> bool {
    chunk
        .get("choices")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.get("finish_reason").is_some_and(|f| !f.is_null()))
        })
}

fn prepend_notice(chunk: &mut Value, notice: &str) {
    if let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) {
        for choice in choices.iter_mut() {
            if let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) {
                let content = delta.get("content").and_then(Value::as_str).unwrap_or("");
                let text = format!("{notice}\n{content}");
                delta.insert("content".into(), Value::String(text));
            }
        }
    }
}

impl StreamTask {
    async fn send(&self, bytes: Bytes) -> bool {
        self.sender.send(bytes).await.is_ok()
    }

    async fn drive(self, response: reqwest::Response) {
        let gateway = &self.gateway;
        let matcher = gateway.matcher().load();
        let mut guard = OutputGuard::new(matcher);
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        let idle = Duration::from_secs(gateway.config().limits.stream_idle_timeout_secs);
        let label_config = &gateway.config().label;
        let start_notice = matches!(
            label_config.explicit_text,
            ExplicitText::Start | ExplicitText::Both
        );
        let end_notice = matches!(
            label_config.explicit_text,
            ExplicitText::End | ExplicitText::Both
        );
        let mut first = true;
        let mut tail: Vec<Value> = Vec::new();
        let mut sent_text = String::new();
        let mut own_time = Duration::ZERO;
        let end = 'outer: loop {
            let next = match tokio::time::timeout(idle, body.next()).await {
                Err(_) => {
                    break End::Failed(format!(
                        "upstream `{}` sent nothing for {}s",
                        self.upstream_name,
                        idle.as_secs()
                    ));
                }
                Ok(None) => {
                    break End::Failed(format!(
                        "upstream `{}` ended the stream before [DONE]",
                        self.upstream_name
                    ));
                }
                Ok(Some(Err(e))) => {
                    break End::Failed(format!(
                        "upstream `{}` stream broke: {e}",
                        self.upstream_name
                    ));
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            let busy = Instant::now();
            for data in parser.push(&next) {
                if data.trim() == "[DONE]" {
                    break 'outer End::Done;
                }
                let value = match serde_json::from_str::<Value>(&data) {
                    Ok(v) => v,
                    Err(e) => {
                        break 'outer End::Failed(format!(
                            "upstream `{}` sent a chunk that is not JSON: {e}",
                            self.upstream_name
                        ));
                    }
                };
                if let Some(error) = value.get("error") {
                    break 'outer End::Failed(format!(
                        "upstream `{}` reported an error: {error}",
                        self.upstream_name
                    ));
                }
                match guard.on_chunk(value) {
                    Err(blocked) => break 'outer End::Blocked(blocked),
                    Ok(None) => {}
                    Ok(Some(mut chunk)) => {
                        if has_finish(&chunk) || !tail.is_empty() {
                            tail.push(chunk);
                            continue;
                        }
                        if first && start_notice {
                            prepend_notice(&mut chunk, &label_config.notice);
                        }
                        first = false;
                        collect_text(&chunk, &mut sent_text);
                        if !self.send(sse(&chunk)).await {
                            break 'outer End::ClientGone;
                        }
                    }
                }
            }
            own_time += busy.elapsed();
        };
        drop(body);
        // Flush what the scanners still hold (or find the block in it).
        let (end, rest) = match end {
            End::Done | End::Failed(_) => match guard.finish() {
                Ok(rest) => (end, rest),
                Err(blocked) => (End::Blocked(blocked), Vec::new()),
            },
            other => (other, Vec::new()),
        };
        let label = gateway.label(&self.caller);
        let notice = gateway.config().guard.output_notice.clone();
        let (outcome, output_verdict) = match &end {
            End::Blocked(b) => {
                gateway.inner.metrics.block("output", &b.hit.rule.risk);
                tracing::info!(record = %self.caller.record_id, tenant = %self.caller.tenant,
                    user = %self.caller.user, risk = %b.hit.rule.risk, "streamed output stopped");
                (
                    Outcome::BlockedOutput,
                    StageVerdict::new(
                        Stage::Output,
                        Decision::Block,
                        audit_hits(std::slice::from_ref(&b.hit), None),
                    ),
                )
            }
            End::Failed(_) => (
                Outcome::UpstreamError,
                StageVerdict::new(
                    Stage::Output,
                    decision(Verdict::of(&guard.hits)),
                    audit_hits(&guard.hits, None),
                ),
            ),
            End::ClientGone => (
                Outcome::ClientClosed,
                StageVerdict::new(
                    Stage::Output,
                    decision(Verdict::of(&guard.hits)),
                    audit_hits(&guard.hits, None),
                ),
            ),
            End::Done => (
                Outcome::Ok,
                StageVerdict::new(
                    Stage::Output,
                    decision(Verdict::of(&guard.hits)),
                    audit_hits(&guard.hits, None),
                ),
            ),
        };
        // Everything clean and released goes out before the final chunk.
        let mut pending: Vec<Value> = Vec::new();
        if !matches!(end, End::Blocked(_) | End::ClientGone) {
            // Text that came with the finish chunk goes out first, so that the end notice
            // follows it and the final chunk carries only `finish_reason` and `aigc`.
            for chunk in &mut tail {
                pending.extend(take_text(&guard, chunk));
            }
            pending.extend(rest);
            if first && start_notice {
                let mut chunk = guard.make_chunk(0, &json!({"content": ""}), &Value::Null);
                prepend_notice(&mut chunk, &label_config.notice);
                pending.insert(0, chunk);
            }
            if end_notice {
                pending.push(guard.make_chunk(
                    0,
                    &json!({"content": format!("\n{}", label_config.notice)}),
                    &Value::Null,
                ));
            }
        }
        for chunk in pending.iter().chain(&tail) {
            collect_text(chunk, &mut sent_text);
        }
        let response_text = match &end {
            End::Blocked(_) => format!("{sent_text}{notice}"),
            _ => sent_text.clone(),
        };
        let record = self
            .record
            .clone()
            .response(response_text)
            .verdicts(gateway.verdicts(&self.check, Some(output_verdict)))
            .label(label.to_json_wrapped())
            .outcome(outcome);
        for chunk in &pending {
            if !self.send(sse(chunk)).await {
                break;
            }
        }
        // INVARIANT: the record is durable before the final chunk leaves.
        let audited = gateway.audit(&self.caller, record).await;
        let aigc = serde_json::to_value(&label).unwrap_or_default();
        let before = Instant::now();
        match (&end, audited) {
            (_, Err(e)) => {
                let _ = self.send(sse(&e.body())).await;
            }
            (End::ClientGone, Ok(())) => {}
            (End::Blocked(_), Ok(())) => {
                let mut last = guard.stop_chunk(&notice);
                last["aigc"] = aigc;
                let _ = self.send(sse(&last)).await;
                let _ = self.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
            }
            (End::Failed(message), Ok(())) => {
                let error = AppError::upstream(message.clone()).body();
                let _ = self.send(sse(&error)).await;
            }
            (End::Done, Ok(())) => {
                if tail.is_empty() {
                    tail.push(guard.make_chunk(0, &json!({}), &json!("stop")));
                }
                if let Some(first_tail) = tail.first_mut() {
                    first_tail["aigc"] = aigc;
                }
                for chunk in &tail {
                    if !self.send(sse(chunk)).await {
                        break;
                    }
                }
                let _ = self.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
            }
        }
        own_time += before.elapsed();
        gateway
            .inner
            .metrics
            .added_latency((self.before_upstream + own_time).as_secs_f64());
    }
}

/// Moves the texts of `chunk` into new chunks (one per choice and field).
fn take_text(guard: &OutputGuard, chunk: &mut Value) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
        return out;
    };
    for choice in choices.iter_mut() {
        let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
        let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
            continue;
        };
        for key in ["reasoning_content", "content"] {
            if let Some(Value::String(text)) = delta.get(key)
                && !text.is_empty()
            {
                let moved = json!({ key: text });
                delta.insert(key.into(), Value::String(String::new()));
                out.push(guard.make_chunk(index, &moved, &Value::Null));
            }
        }
    }
    out
}

fn collect_text(chunk: &Value, out: &mut String) {
    if let Some(choices) = chunk.get("choices").and_then(Value::as_array) {
        for choice in choices {
            if let Some(s) = choice.pointer("/delta/content").and_then(Value::as_str) {
                out.push_str(s);
            }
        }
    }
}

/// `GET /v1/models`: the configured models (the upstreams are not asked).
pub(crate) async fn models(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    if let Err(e) = gateway.admit(&tenant, request.headers(), None, addr).await {
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

/// `POST /v1/embeddings`: input guard only.
pub(crate) async fn embeddings(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    simple_inner(gateway, tenant, parts.headers, body, addr, Kind::Embedding)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/images/generations`: b64 images get implicit (and optional explicit) labels.
pub(crate) async fn images(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    simple_inner(gateway, tenant, parts.headers, body, addr, Kind::Image)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /v1/audio/speech`: the audio gets an implicit (and optional explicit) label.
pub(crate) async fn speech(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    simple_inner(gateway, tenant, parts.headers, body, addr, Kind::Speech)
        .await
        .unwrap_or_else(IntoResponse::into_response)
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

fn input_of(kind: Kind, body: &Value) -> Result<String> {
    let field = kind.field();
    match body.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(items)) if kind == Kind::Embedding => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n")),
        _ => Err(AppError::bad_request(
            "missing_input",
            format!("`{field}` is required and must be a string"),
        )
        .param(if kind == Kind::Image {
            "prompt"
        } else {
            "input"
        })),
    }
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
    let (bytes, body) = read_json(&gateway, body).await?;
    let caller = gateway.admit(&tenant, &headers, Some(&body), addr).await?;
    let (model, upstream) = upstream_of(&gateway, &body)?;
    let text = input_of(kind, &body)?;
    let check = gateway.check_input(&caller, &text).await;
    if check.blocked.is_some() {
        return Ok(
            blocked_input(&gateway, &caller, kind.name(), &model, &text, &check, false).await,
        );
    }
    let record = gateway
        .record(&caller, kind.name(), &model)
        .request(text)
        .verdicts(gateway.verdicts(&check, None));
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
    let label = gateway.label(&caller);
    let key = gateway.inner.key.as_deref();
    let label_config = &gateway.config().label;
    match kind {
        Kind::Speech => {
            let mut audio = answer.to_vec();
            let mut notes = Vec::new();
            if label_config.explicit_audio
                && hegui_label::Format::sniff(&audio) == Some(hegui_label::Format::Wav)
            {
                match hegui_label::explicit::add_morse_cue(
                    &audio,
                    &hegui_label::explicit::Cue::default(),
                ) {
                    Ok(cued) => audio = cued,
                    Err(e) => notes.push(format!("explicit audio label failed: {e}")),
                }
            }
            let labeled = match hegui_label::Format::sniff(&audio) {
                Some(format) => match hegui_label::write_label(&audio, format, &label, key) {
                    Ok(bytes) => {
                        audio = bytes;
                        true
                    }
                    Err(e) => {
                        notes.push(format!("implicit label failed: {e}"));
                        false
                    }
                },
                None => {
                    notes.push("audio format not recognized: no implicit label".into());
                    false
                }
            };
            let output = StageVerdict::labeling(labeled, notes);
            let record = record
                .response(format!(
                    "[audio {} bytes, sm3 {}]",
                    audio.len(),
                    hex::encode(hegui_keys::sm3(&audio))
                ))
                .verdicts(gateway.verdicts(&check, Some(output)))
                .label(label.to_json_wrapped());
            gateway.audit(&caller, record).await?;
            gateway
                .inner
                .metrics
                .exchange(upstream_wait, caller.started);
            let headers = aigc_headers(&gateway, &caller, check.verdict.as_str(), labeled);
            Ok((headers, [(header::CONTENT_TYPE, content_type)], audio).into_response())
        }
        Kind::Image | Kind::Embedding => {
            let Ok(mut value) = serde_json::from_slice::<Value>(&answer) else {
                let failure = (
                    StatusCode::BAD_GATEWAY,
                    format!("upstream `{}` answered malformed JSON", upstream.name),
                );
                return Err(upstream_failure(&gateway, &caller, record, failure).await);
            };
            let mut notes: Vec<String> = Vec::new();
            let mut response_text = String::new();
            let labeled = kind == Kind::Image;
            if kind == Kind::Image {
                label_images(
                    &mut value,
                    &label,
                    key,
                    label_config.explicit_image,
                    &mut notes,
                    &mut response_text,
                );
                if let Some(object) = value.as_object_mut() {
                    object.insert(
                        "aigc".into(),
                        serde_json::to_value(&label).unwrap_or_default(),
                    );
                }
            } else {
                let count = value
                    .get("data")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                response_text = format!("[{count} embeddings]");
            }
            let output = StageVerdict::labeling(labeled, notes);
            let mut record = record
                .response(response_text)
                .verdicts(gateway.verdicts(&check, Some(output)));
            if labeled {
                record = record.label(label.to_json_wrapped());
            }
            gateway.audit(&caller, record).await?;
            gateway
                .inner
                .metrics
                .exchange(upstream_wait, caller.started);
            let headers = aigc_headers(&gateway, &caller, check.verdict.as_str(), labeled);
            Ok((headers, axum::Json(value)).into_response())
        }
    }
}

fn label_images(
    value: &mut Value,
    label: &hegui_label::Label,
    key: Option<&hegui_keys::SigningKey>,
    explicit: bool,
    notes: &mut Vec<String>,
    response_text: &mut String,
) {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let Some(items) = value.get_mut("data").and_then(Value::as_array_mut) else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        let Some(b64) = item.get("b64_json").and_then(Value::as_str) else {
            if let Some(url) = item.get("url").and_then(Value::as_str) {
                notes.push(format!(
                    "image {i} is a URL: not labeled (ask for b64_json)"
                ));
                response_text.push_str(&format!("[image {i} url {url}]\n"));
            }
            continue;
        };
        let Ok(mut bytes) = engine.decode(b64) else {
            notes.push(format!("image {i}: b64_json is not base64"));
            continue;
        };
        if explicit {
            match hegui_label::explicit::caption_image(
                &bytes,
                &hegui_label::explicit::Caption::default(),
            ) {
                Ok(captioned) => bytes = captioned.image,
                Err(e) => notes.push(format!("image {i}: caption failed: {e}")),
            }
        }
        let Some(format) = hegui_label::Format::sniff(&bytes) else {
            notes.push(format!("image {i}: format not recognized: not labeled"));
            continue;
        };
        match hegui_label::write_label(&bytes, format, label, key) {
            Ok(labeled) => {
                response_text.push_str(&format!(
                    "[image {i} {} {} bytes, sm3 {}]\n",
                    format.name(),
                    labeled.len(),
                    hex::encode(hegui_keys::sm3(&labeled))
                ));
                item["b64_json"] = Value::String(engine.encode(&labeled));
            }
            Err(e) => notes.push(format!("image {i}: label failed: {e}")),
        }
    }
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
