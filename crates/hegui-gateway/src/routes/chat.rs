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

use super::{Result, aigc_headers, blocked_input, client_addr, read_json, upstream_of};
use crate::auth::Tenant;
use crate::config::UnknownFields;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::Caller;
use crate::guard::fields;
use crate::upstream::{call_upstream, read_upstream, upstream_failure, upstream_status};
use crate::wire::Texts as _;
use crate::wire::answer::{Choice, ChoiceMessage, Chunk, Completion};
use crate::wire::message::{Content, Message};
use crate::wire::request::ChatRequest;

/// Every text of a chat request that is forwarded, one per line ([`ChatRequest::texts`]), once
/// `messages` is known to be there with at most `limit` entries.
fn chat_input(request: &ChatRequest, limit: usize) -> Result<String> {
    let Some(messages) = &request.messages else {
        return Err(AppError::bad_request(
            "missing_messages",
            "`messages` is required and must be an array",
        )
        .param("messages"));
    };
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
    Ok(request.text())
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
    if gateway.config().pass_through {
        return super::pass_through(&gateway, body, "chat/completions").await;
    }
    let (mut bytes, mut request) = read_json::<ChatRequest>(&gateway, body).await?;
    let named = (
        request.model.as_deref().unwrap_or_default(),
        request.user.as_deref(),
    );
    let caller = gateway
        .admit(&tenant, "chat", &headers, named, addr)
        .await?;
    if gateway.config().guard.unknown_fields == UnknownFields::Drop && request.drop_unknown() {
        bytes = serde_json::to_vec(&request).unwrap_or_default().into();
    }
    let (model, upstream) = upstream_of(&gateway, request.model.as_deref())?;
    let text = chat_input(&request, gateway.config().limits.messages)?;
    let stream = request.stream.unwrap_or(false);
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
    let mut answer = match serde_json::from_slice::<Completion>(&answer) {
        Ok(answer) => answer,
        Err(e) => {
            let failure = (
                StatusCode::BAD_GATEWAY,
                format!(
                    "upstream `{}` answered what is not a chat answer: {e}",
                    upstream.name
                ),
            );
            return Err(upstream_failure(&gateway, &caller, record, failure).await);
        }
    };
    let guarded = guard_choices(&gateway, &caller, &mut answer, &model);
    let label = gateway.inner.pipeline.label.label(&caller);
    let wrapped = label.to_json_wrapped();
    answer.set_label(label);
    let outcome = if guarded.blocked {
        Outcome::BlockedOutput
    } else {
        Outcome::Ok
    };
    let record = record
        .response(guarded.texts.join("\n"))
        .verdicts(check.verdicts(guarded.verdicts))
        .label(wrapped)
        .outcome(outcome);
    gateway.audit(&caller, record).await?;
    gateway
        .inner
        .metrics
        .exchange(upstream_wait, caller.started);
    let overall = guarded.verdict.max(check.passed_verdict());
    let headers = aigc_headers(&gateway, &caller, overall.as_str(), true);
    Ok((headers, axum::Json(answer)).into_response())
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
/// text. An answer without choices is scanned as one chunk of its own fields.
fn guard_choices(
    gateway: &Gateway,
    caller: &Caller,
    answer: &mut Completion,
    model: &str,
) -> Guarded {
    let notice = &gateway.config().guard.output_notice;
    let mut guarded = Guarded {
        texts: Vec::new(),
        verdicts: Vec::new(),
        verdict: Verdict::Clean,
        blocked: false,
    };
    if gateway.config().guard.unknown_fields == UnknownFields::Drop {
        answer.drop_unknown();
    }
    let top = answer.top_chunk();
    let run = |guarded: &mut Guarded, chunk: Chunk| {
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
    match &mut answer.choices {
        Some(choices) => {
            for choice in choices.iter_mut() {
                guard_choice(&mut guarded, choice, &top, notice, &run);
            }
        }
        None => {
            if run(&mut guarded, top).is_err() {
                answer.choices = Some(vec![Choice::stopped(0, notice)]);
                guarded.texts.push(notice.clone());
            }
        }
    }
    if guarded.blocked {
        // A field of the answer itself may have been what stopped it: keep only those that are
        // not text.
        answer.rest.retain(|key, _| key == "usage");
        answer.model = Some(model.to_owned());
    }
    for stage in &guarded.verdicts {
        if let Some(decision) = stage.verdict {
            guarded.verdict = guarded.verdict.max(lexicon_verdict(decision));
        }
    }
    guarded
}

/// One choice of a plain answer through the output passes (`run`), as a chunk made of the
/// answer's own fields (`top`) and the choice with its `message` as the `delta`; the released
/// text is folded back into the message.
fn guard_choice(
    guarded: &mut Guarded,
    choice: &mut Choice,
    top: &Chunk,
    notice: &str,
    run: &impl Fn(&mut Guarded, Chunk) -> std::result::Result<Vec<Chunk>, crate::guard::Blocked>,
) {
    let chunks = match run(guarded, choice.as_chunk(top)) {
        Ok(chunks) => chunks,
        Err(_) => {
            *choice = Choice::stopped(choice.index, notice);
            guarded.texts.push(notice.to_owned());
            return;
        }
    };
    let Some(message) = choice.message.take() else {
        let mut texts = Vec::new();
        fields::field_strings(&choice.rest, &[], &mut texts);
        guarded.texts.push(texts.join("\n"));
        return;
    };
    let mut message = message.into_message();
    let mut content: Option<String> = None;
    let mut reasoning: Option<String> = None;
    // The chunks the chain made (the notices) carry index 0: each chunk's first choice is this
    // choice's.
    for delta in chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.as_ref())
    {
        if let Some(text) = delta.content_str() {
            content.get_or_insert_default().push_str(text);
        }
        if let Some(text) = &delta.reasoning_content {
            reasoning.get_or_insert_default().push_str(text);
        }
    }
    if let Some(content) = content {
        message.content = Some(Content::Text(content));
    }
    if reasoning.is_some() {
        message.reasoning_content = reasoning;
    }
    guarded.texts.push(forwarded_text(&message));
    choice.message = Some(ChoiceMessage::Message(message));
}

/// The text a message forwards, for the record: its `content`, then its other fields' text
/// (tool calls, `refusal`, …) each on its own line; not the reasoning.
fn forwarded_text(message: &Message) -> String {
    let mut texts = Vec::new();
    if let Some(content) = &message.content {
        content.texts(&mut texts);
    }
    fields::field_strings(&message.rest, &[], &mut texts);
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
