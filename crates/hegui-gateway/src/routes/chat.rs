//! `POST /v1/chat/completions`: the input guards over every message's text, then the upstream;
//! a streamed answer goes to [`super::chat_stream`], a plain one through the output guards here,
//! one chunk per choice (the same passes a stream goes through).

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hegui_lexicon::Verdict;
use hegui_store::ledger::schema::{Decision, Outcome, StageVerdict};
use serde_json::{Value, json};

use super::{Result, aigc_headers, blocked_input, client_addr, read_json, upstream_of};
use crate::auth::Tenant;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::Caller;
use crate::guard::fields::{self, RequestKind};
use crate::upstream::{call_upstream, read_upstream, upstream_failure, upstream_status};

/// A 400 about `messages[i]…`.
fn invalid_message(at: &str, what: &str) -> AppError {
    AppError::bad_request("invalid_messages", format!("`{at}` {what}")).param("messages")
}

/// The text of a message's `content`: a string, null, or an array of parts whose `text` (where
/// present) is a string. Anything else is refused rather than forwarded unscanned.
fn content_text(content: &Value, at: usize, out: &mut Vec<String>) -> Result<()> {
    match content {
        Value::Null => Ok(()),
        Value::String(s) => {
            out.push(s.clone());
            Ok(())
        }
        Value::Array(parts) => {
            for (j, part) in parts.iter().enumerate() {
                let Some(part) = part.as_object() else {
                    return Err(invalid_message(
                        &format!("messages[{at}].content[{j}]"),
                        "must be an object (a content part)",
                    ));
                };
                match part.get("text") {
                    None => {}
                    Some(Value::String(s)) => out.push(s.clone()),
                    Some(_) => {
                        return Err(invalid_message(
                            &format!("messages[{at}].content[{j}].text"),
                            "must be a string",
                        ));
                    }
                }
            }
            Ok(())
        }
        _ => Err(invalid_message(
            &format!("messages[{at}].content"),
            "must be a string, an array of content parts, or null",
        )),
    }
}

/// Every text of a chat request that is forwarded, one per line: each message's `content`, then
/// its other fields (a `name`, tool-call arguments, `reasoning_content`, …), then the request's
/// other fields (tool descriptions, response-format schemas, a vLLM `prompt` or `documents`, any
/// field the gateway does not know). At most `limit` messages.
fn chat_input(body: &Value, limit: usize) -> Result<String> {
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
    if messages.len() > limit {
        return Err(AppError::bad_request(
            "too_many_messages",
            format!(
                "`messages` has {} entries; this gateway takes at most {limit}",
                messages.len()
            ),
        )
        .param("messages"));
    }
    let mut texts = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let Some(message) = message.as_object() else {
            return Err(invalid_message(
                &format!("messages[{i}]"),
                "must be an object",
            ));
        };
        if let Some(content) = message.get("content") {
            content_text(content, i, &mut texts)?;
        }
        fields::field_strings(message, &["content"], &mut texts);
    }
    if let Some(body) = body.as_object() {
        fields::field_strings(body, &["messages"], &mut texts);
    }
    Ok(texts.join("\n"))
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat(
    State(gateway): State<Gateway>,
    Extension(tenant): Extension<Tenant>,
    request: Request,
) -> Response {
    let addr = client_addr(&request);
    let (parts, body) = request.into_parts();
    match chat_inner(gateway.clone(), tenant.clone(), parts.headers, body, addr).await {
        Ok(response) => response,
        Err(e) => gateway
            .refused_request(&tenant, "chat", addr, e)
            .await
            .into_response(),
    }
}

#[tracing::instrument(name = "chat", skip_all)]
async fn chat_inner(
    gateway: Gateway,
    tenant: Tenant,
    headers: HeaderMap,
    body: Body,
    addr: Option<SocketAddr>,
) -> Result<Response> {
    let (mut bytes, mut body) = read_json(&gateway, body).await?;
    if gateway.config().pass_through {
        return super::pass_through(&gateway, &body, "chat/completions", bytes).await;
    }
    let caller = gateway
        .admit(&tenant, "chat", &headers, Some(&body), addr)
        .await?;
    if fields::drops(gateway.config().guard.unknown_fields)
        && fields::drop_unknown_request(&mut body, RequestKind::Chat)
    {
        bytes = serde_json::to_vec(&body).unwrap_or_default().into();
    }
    let (model, upstream) = upstream_of(&gateway, &body)?;
    let text = chat_input(&body, gateway.config().limits.messages)?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let check = gateway.check_input(&caller, &text).await;
    if check.blocked.is_some() {
        return Ok(blocked_input(&gateway, &caller, "chat", &model, &text, &check, stream).await);
    }
    // The input stages' verdicts go in now, so that an upstream failure's record has them.
    let record = gateway
        .record(&caller, "chat", &model)
        .request(text)
        .verdicts(check.verdicts(None));
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
        gateway
            .inner
            .metrics
            .upstream_latency(upstream_started.elapsed().as_secs_f64());
        return super::chat_stream::start(
            &gateway,
            caller,
            record,
            check,
            upstream.name.clone(),
            before_upstream,
            response,
        )
        .await;
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
    let guarded = guard_choices(&gateway, &caller, &mut value, &model);
    let label = gateway.inner.pipeline.label.label(&caller);
    gateway.inner.pipeline.label.attach(&mut value, &label);
    let outcome = if guarded.blocked {
        Outcome::BlockedOutput
    } else {
        Outcome::Ok
    };
    let record = record
        .response(guarded.texts.join("\n"))
        .verdicts(check.verdicts(guarded.verdicts))
        .label(label.to_json_wrapped())
        .outcome(outcome);
    gateway.audit(&caller, record).await?;
    gateway
        .inner
        .metrics
        .exchange(upstream_wait, caller.started);
    let overall = guarded.verdict.max(check.passed_verdict());
    let headers = aigc_headers(&gateway, &caller, overall.as_str(), true);
    Ok((headers, axum::Json(value)).into_response())
}

/// What the output guards made of a plain answer.
struct Guarded {
    /// Each choice's text as sent (for the record).
    texts: Vec<String>,
    /// The output stages' verdicts, merged over the choices.
    verdicts: Vec<StageVerdict>,
    verdict: Verdict,
    blocked: bool,
}

/// Runs each choice's message through a fresh chain of output passes, as one chunk with the
/// answer's own fields; a stopped choice gets the notice instead, with
/// `finish_reason: "content_filter"`, and a stopped answer keeps only the fields that are not
/// text. An answer without a list of choices is scanned as one chunk of its own fields.
fn guard_choices(gateway: &Gateway, caller: &Caller, value: &mut Value, model: &str) -> Guarded {
    let notice = &gateway.config().guard.output_notice;
    let mut guarded = Guarded {
        texts: Vec::new(),
        verdicts: Vec::new(),
        verdict: Verdict::Clean,
        blocked: false,
    };
    if fields::drops(gateway.config().guard.unknown_fields) {
        fields::drop_unknown_answer(value);
    }
    let mut top = value.as_object().cloned().unwrap_or_default();
    top.remove("choices");
    let run = |guarded: &mut Guarded, chunk: Value| {
        let mut chain = gateway.inner.pipeline.open_output(caller);
        let result = chain.on_chunk(chunk).and_then(|mut out| {
            out.extend(chain.finish()?);
            Ok(out)
        });
        for stage in chain.verdicts() {
            merge_stage(&mut guarded.verdicts, stage);
        }
        result.inspect_err(|blocked| {
            tracing::info!(record = %caller.record_id, tenant = ?caller.tenant,
                user = ?caller.user, risk = %blocked.risk, "output blocked");
            gateway.inner.metrics.block(blocked.guard, &blocked.risk);
            guarded.blocked = true;
        })
    };
    match value.get_mut("choices") {
        Some(Value::Array(choices)) => {
            for choice in choices.iter_mut() {
                guard_choice(&mut guarded, choice, &top, notice, &run);
            }
        }
        _ => {
            if run(&mut guarded, value.clone()).is_err() {
                value["choices"] = json!([{"index": 0, "finish_reason": "content_filter",
                    "message": {"role": "assistant", "content": notice}}]);
                guarded.texts.push(notice.clone());
            }
        }
    }
    if guarded.blocked {
        // A field of the answer itself may have been what stopped it: keep only those that are
        // not text.
        if let Some(map) = value.as_object_mut() {
            map.retain(|key, _| {
                matches!(
                    key.as_str(),
                    "id" | "object" | "created" | "usage" | "choices"
                )
            });
            map.insert("model".into(), Value::String(model.to_owned()));
        }
    }
    for stage in &guarded.verdicts {
        if let Some(decision) = stage.verdict {
            guarded.verdict = guarded.verdict.max(lexicon_verdict(decision));
        }
    }
    guarded
}

/// One choice of a plain answer through the output passes (`run`), as a chunk made of the
/// answer's own fields (`top`) and the choice with its `message` as the `delta`.
fn guard_choice(
    guarded: &mut Guarded,
    choice: &mut Value,
    top: &serde_json::Map<String, Value>,
    notice: &str,
    run: &impl Fn(&mut Guarded, Value) -> std::result::Result<Vec<Value>, crate::guard::Blocked>,
) {
    let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
    // A message given as a bare string is its content.
    if let Some(Value::String(content)) = choice.get("message") {
        choice["message"] = json!({"role": "assistant", "content": content});
    }
    let mut as_chunk = choice.clone();
    if let Some(map) = as_chunk.as_object_mut()
        && let Some(message) = map.remove("message")
    {
        map.insert("delta".into(), message);
    }
    let mut chunk = top.clone();
    chunk.insert("choices".into(), Value::Array(vec![as_chunk]));
    match run(guarded, Value::Object(chunk)) {
        Err(_) => {
            *choice = json!({"index": index, "finish_reason": "content_filter",
                "message": {"role": "assistant", "content": notice}});
            guarded.texts.push(notice.to_owned());
        }
        Ok(chunks) => {
            let Some(message) = choice.get_mut("message").and_then(Value::as_object_mut) else {
                guarded.texts.push(fields::text_of(choice));
                return;
            };
            for key in ["content", "reasoning_content"] {
                let mut text = String::new();
                let mut any = false;
                for c in &chunks {
                    if let Some(s) = c
                        .pointer(&format!("/choices/0/delta/{key}"))
                        .and_then(Value::as_str)
                    {
                        text.push_str(s);
                        any = true;
                    }
                }
                if any {
                    message.insert(key.into(), Value::String(text));
                }
            }
            guarded.texts.push(forwarded_text(message));
        }
    }
}

/// The text a message forwards, for the record: its `content`, then its other fields' text
/// (tool calls, `refusal`, …) each on its own line.
pub(super) fn forwarded_text(message: &serde_json::Map<String, Value>) -> String {
    let mut texts = Vec::new();
    if let Some(content) = message.get("content") {
        fields::strings(content, &mut texts);
    }
    fields::field_strings(message, &["content", "reasoning_content"], &mut texts);
    texts.join("\n")
}

/// Adds `stage` to `stages`, merging it into the stage of the same kind from another choice.
fn merge_stage(stages: &mut Vec<StageVerdict>, stage: StageVerdict) {
    match stages
        .iter_mut()
        .find(|s| s.stage == stage.stage && s.guard == stage.guard)
    {
        Some(existing) => {
            existing.verdict = match (existing.verdict, stage.verdict) {
                (Some(a), Some(b)) if lexicon_verdict(b) > lexicon_verdict(a) => Some(b),
                (None, b) => b,
                (a, _) => a,
            };
            let found = stage.total_hits();
            existing.add_hits(stage.hits, found, crate::guard::HITS_KEPT);
        }
        None => stages.push(stage),
    }
}

/// The lexicon scale of a recorded decision (for the response headers).
fn lexicon_verdict(decision: Decision) -> Verdict {
    match decision {
        Decision::Clean | Decision::Error => Verdict::Clean,
        Decision::Flag => Verdict::Flag,
        Decision::Review => Verdict::Review,
        Decision::Block => Verdict::Block,
    }
}
