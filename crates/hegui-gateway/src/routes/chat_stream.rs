//! A streamed chat answer: upstream SSE in, guarded SSE out. One task per stream (tracked for
//! draining at shutdown) reads the upstream's events, feeds each chunk through the output
//! guards ([`crate::guard::OutputChain`]) and forwards what they release.
//!
//! Chunks that carry a `finish_reason` are held as the tail: what the guards still hold goes out
//! first, then the tail with the `aigc` label, then `[DONE]`; a stop sends the guard's notice
//! with `finish_reason: "content_filter"` instead.
//!
//! Two records: INVARIANT: a `started` record (the request, the input verdicts) is durable
//! before the first byte of the answer leaves, so the `x-hegui-record-id` the client holds
//! names a record even if the gateway is killed mid-stream; and the record that completes it
//! (id [`hegui_store::RecordId::completion`]: the answer, every verdict, the outcome) is durable
//! before the final chunk leaves.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use futures_util::StreamExt as _;
use hegui_store::ledger::NewRecord;
use hegui_store::ledger::schema::{Outcome, StageVerdict};
use serde_json::{Value, json};

use super::aigc_headers;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::fields::HeldText;
use crate::guard::{Blocked, Caller, ChunkShape, InputCheck, OutputChain};
use crate::sse::SseParser;

/// Writes the `started` record, starts the stream task and answers with its event stream.
pub(crate) async fn start(
    gateway: &Gateway,
    caller: Caller,
    record: NewRecord,
    check: InputCheck,
    upstream_name: String,
    before_upstream: Duration,
    response: reqwest::Response,
) -> Result<Response, AppError> {
    gateway
        .audit(&caller, record.clone().outcome(Outcome::Started))
        .await?;
    // The output verdict is not known yet: the header gives the input's.
    let headers = aigc_headers(gateway, &caller, check.verdict.as_str(), true);
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(32);
    let task = StreamTask {
        gateway: gateway.clone(),
        caller,
        record,
        check,
        upstream_name,
        sender,
        before_upstream,
    };
    // Tracked, so that graceful shutdown waits for open streams (see `serve`); a task that
    // panics still leaves the tracker.
    gateway.inner.streams.spawn(task.drive(response));
    let body = Body::from_stream(futures_util::stream::unfold(receiver, |mut r| async {
        r.recv().await.map(|b| (Ok::<_, Infallible>(b), r))
    }));
    Ok((
        headers,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// Drives one streamed answer.
struct StreamTask {
    gateway: Gateway,
    caller: Caller,
    record: NewRecord,
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

impl StreamTask {
    async fn send(&self, bytes: Bytes) -> bool {
        self.sender.send(bytes).await.is_ok()
    }

    /// Reads the upstream until `[DONE]`, a failure, a stop or the client leaving; forwards
    /// what the guards release. Returns how it ended and the tail.
    async fn pump(
        &self,
        response: reqwest::Response,
        chain: &mut OutputChain,
        sent_text: &mut String,
        own_time: &mut Duration,
    ) -> (End, Vec<Value>) {
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        let idle = Duration::from_secs(self.gateway.config().limits.stream_idle_timeout_secs);
        let upstream = &self.upstream_name;
        let mut tail: Vec<Value> = Vec::new();
        loop {
            let next = match tokio::time::timeout(idle, body.next()).await {
                Err(_) => {
                    let message =
                        format!("upstream `{upstream}` sent nothing for {}s", idle.as_secs());
                    return (End::Failed(message), tail);
                }
                Ok(None) => {
                    let message = format!("upstream `{upstream}` ended the stream before [DONE]");
                    return (End::Failed(message), tail);
                }
                Ok(Some(Err(e))) => {
                    let message = format!("upstream `{upstream}` stream broke: {e}");
                    return (End::Failed(message), tail);
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            let busy = Instant::now();
            for data in parser.push(&next) {
                if data.trim() == "[DONE]" {
                    return (End::Done, tail);
                }
                let value = match serde_json::from_str::<Value>(&data) {
                    Ok(v) => v,
                    Err(e) => {
                        let message =
                            format!("upstream `{upstream}` sent a chunk that is not JSON: {e}");
                        return (End::Failed(message), tail);
                    }
                };
                if let Some(error) = value.get("error") {
                    let message = format!("upstream `{upstream}` reported an error: {error}");
                    return (End::Failed(message), tail);
                }
                let released = match chain.on_chunk(value) {
                    Err(blocked) => return (End::Blocked(blocked), tail),
                    Ok(released) => released,
                };
                for chunk in released {
                    if has_finish(&chunk) || !tail.is_empty() {
                        tail.push(chunk);
                        continue;
                    }
                    collect_text(&chunk, sent_text);
                    if !self.send(sse(&chunk)).await {
                        return (End::ClientGone, tail);
                    }
                }
            }
            *own_time += busy.elapsed();
        }
    }

    async fn drive(self, response: reqwest::Response) {
        let gateway = &self.gateway;
        let mut chain = gateway.inner.pipeline.open_output(&self.caller);
        let mut sent_text = String::new();
        let mut own_time = Duration::ZERO;
        let (end, mut tail) = self
            .pump(response, &mut chain, &mut sent_text, &mut own_time)
            .await;
        // Flush what the guards still hold (or find the stop in it).
        let (end, rest) = match end {
            End::Done | End::Failed(_) => match chain.finish() {
                Ok(rest) => (end, rest),
                Err(blocked) => (End::Blocked(blocked), Vec::new()),
            },
            other => (other, Vec::new()),
        };
        let outcome = match &end {
            End::Blocked(b) => {
                gateway.inner.metrics.block(b.guard, &b.risk);
                tracing::info!(record = %self.caller.record_id, tenant = ?self.caller.tenant,
                    user = ?self.caller.user, risk = %b.risk, "streamed output stopped");
                Outcome::BlockedOutput
            }
            End::Failed(_) => Outcome::UpstreamError,
            End::ClientGone => Outcome::ClientClosed,
            End::Done => Outcome::Ok,
        };
        // Everything clean and released goes out before the final chunk: text that came with
        // the finish chunk first, so that the end notice follows it and the final chunk carries
        // only `finish_reason` and `aigc`.
        let mut pending: Vec<Value> = Vec::new();
        if !matches!(end, End::Blocked(_) | End::ClientGone) {
            for chunk in &mut tail {
                pending.extend(take_text(chain.shape(), chunk));
            }
            pending.extend(rest);
        }
        // Fields other than the streamed text (tool calls, `refusal`) are held to the end by
        // the guards, so they are in `pending` or `tail`: the record gets their text too.
        let mut other = HeldText::default();
        for chunk in pending.iter().chain(&tail) {
            collect_text(chunk, &mut sent_text);
            other_text(chunk, &mut other);
        }
        let notice = &gateway.config().guard.output_notice;
        let mut response_text = match &end {
            End::Blocked(_) => format!("{sent_text}{notice}"),
            _ => sent_text.clone(),
        };
        for (_, text) in other.texts() {
            response_text.push('\n');
            response_text.push_str(text);
        }
        let labeler = &gateway.inner.pipeline.label;
        let label = labeler.label(&self.caller);
        let output: Vec<StageVerdict> = chain.verdicts();
        // The request is in the `started` record already.
        let record = self
            .record
            .clone()
            .with_id(self.caller.record_id.completion())
            .request(String::new())
            .response(response_text)
            .verdicts(self.check.verdicts(output))
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
                let mut last = chain.shape().stop_chunk(notice);
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
                    tail.push(chain.shape().make_chunk(0, &json!({}), &json!("stop")));
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
fn take_text(shape: &ChunkShape, chunk: &mut Value) -> Vec<Value> {
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
                out.push(shape.make_chunk(index, &moved, &Value::Null));
            }
        }
    }
    out
}

/// The text of a chunk's delta fields other than the streamed ones, per field.
fn other_text(chunk: &Value, out: &mut HeldText) {
    for choice in chunk
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
        for (key, value) in choice
            .get("delta")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if key != "content" && key != "reasoning_content" {
                out.add(&format!("{index}.{key}"), value);
            }
        }
    }
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
