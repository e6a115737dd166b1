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
use serde_json::Value;

use super::aigc_headers;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::fields::HeldText;
use crate::guard::{Blocked, Caller, InputCheck, OutputChain};
use crate::sse::SseParser;
use crate::wire::answer::{Chunk, ChunkShape};
use crate::wire::message::{Content, Message};

/// Writes the `started` record, starts the stream task and answers with its event stream.
pub(crate) async fn start(
    gateway: &Gateway,
    caller: Caller,
    mut record: NewRecord,
    check: InputCheck,
    upstream_name: String,
    before_upstream: Duration,
    response: reqwest::Response,
) -> Result<Response, AppError> {
    // The request goes into the `started` record only; the completion is built from the rest.
    let request = std::mem::take(&mut record.request);
    let started = NewRecord {
        request,
        ..record.clone()
    };
    gateway
        .audit(&caller, started.outcome(Outcome::Started))
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

fn sse(chunk: &Chunk) -> Bytes {
    Bytes::from(super::sse(chunk))
}

/// An error event (the OpenAI error object).
fn sse_error(error: &Value) -> Bytes {
    Bytes::from(format!("data: {error}\n\n"))
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
    ) -> (End, Vec<Chunk>) {
        let mut parser = SseParser::default();
        let mut body = response.bytes_stream();
        let idle = Duration::from_secs(self.gateway.config().limits.stream_idle_timeout_secs);
        let upstream = &self.upstream_name;
        let mut tail: Vec<Chunk> = Vec::new();
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
                let chunk = match serde_json::from_str::<Chunk>(&data) {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        let message = format!(
                            "upstream `{upstream}` sent what is not a chat answer chunk: {e}"
                        );
                        return (End::Failed(message), tail);
                    }
                };
                if let Some(error) = chunk.rest.get("error") {
                    let message = format!("upstream `{upstream}` reported an error: {error}");
                    return (End::Failed(message), tail);
                }
                let released = match chain.on_chunk(chunk) {
                    Err(blocked) => return (End::Blocked(blocked), tail),
                    Ok(released) => released,
                };
                for chunk in released {
                    if chunk.has_finish() || !tail.is_empty() {
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
        let mut pending: Vec<Chunk> = Vec::new();
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
        let wrapped = label.to_json_wrapped();
        let output: Vec<StageVerdict> = chain.verdicts();
        let record = self
            .record
            .clone()
            .with_id(self.caller.record_id.completion())
            .response(response_text)
            .verdicts(self.check.verdicts(output))
            .label(wrapped)
            .outcome(outcome);
        for chunk in &pending {
            if !self.send(sse(chunk)).await {
                break;
            }
        }
        // INVARIANT: the record is durable before the final chunk leaves.
        let audited = gateway.audit(&self.caller, record).await;
        let before = Instant::now();
        match (&end, audited) {
            (_, Err(e)) => {
                let _ = self.send(sse_error(&e.body())).await;
            }
            (End::ClientGone, Ok(())) => {}
            (End::Blocked(_), Ok(())) => {
                let mut last = chain.shape().stop_chunk(notice);
                last.set_label(label);
                let _ = self.send(sse(&last)).await;
                let _ = self.send(Bytes::from_static(b"data: [DONE]\n\n")).await;
            }
            (End::Failed(message), Ok(())) => {
                let error = AppError::upstream(message.clone()).body();
                let _ = self.send(sse_error(&error)).await;
            }
            (End::Done, Ok(())) => {
                if tail.is_empty() {
                    tail.push(
                        chain
                            .shape()
                            .make_chunk(0, Message::default(), Some("stop")),
                    );
                }
                if let Some(first_tail) = tail.first_mut() {
                    first_tail.set_label(label);
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
fn take_text(shape: &ChunkShape, chunk: &mut Chunk) -> Vec<Chunk> {
    let mut out = Vec::new();
    for choice in &mut chunk.choices {
        let Some(delta) = &mut choice.delta else {
            continue;
        };
        if let Some(text) = delta.reasoning_content.take_if(|t| !t.is_empty()) {
            let moved = Message {
                reasoning_content: Some(text),
                ..Message::default()
            };
            delta.reasoning_content = Some(String::new());
            out.push(shape.make_chunk(choice.index, moved, None));
        }
        if let Some(Content::Text(text)) = &mut delta.content
            && !text.is_empty()
        {
            let moved = Message::text(std::mem::take(text));
            out.push(shape.make_chunk(choice.index, moved, None));
        }
    }
    out
}

/// The text of a chunk's delta fields other than the streamed ones, per field.
fn other_text(chunk: &Chunk, out: &mut HeldText) {
    for choice in &chunk.choices {
        if let Some(delta) = &choice.delta {
            out.add_delta(choice.index, delta);
        }
    }
}

fn collect_text(chunk: &Chunk, out: &mut String) {
    for choice in &chunk.choices {
        if let Some(text) = choice.delta.as_ref().and_then(Message::content_str) {
            out.push_str(text);
        }
    }
}
