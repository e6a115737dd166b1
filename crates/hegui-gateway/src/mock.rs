//! A mock OpenAI-compatible upstream, for tests, benchmarks and `hegui serve --demo`.
//!
//! It serves chat completions (streamed and not), models, image generations (a b64 PNG), audio
//! speech (a WAV file) and embeddings, with configurable latency, time to first token, chunk
//! size or count, scripted answers and faults. The binary `hegui-mock-upstream` wraps it; tests
//! run it in-process with [`spawn`].
//!
//! Per request, the last user message (or the `prompt` / `input`) may carry markers, so that
//! one mock serves every test case:
//!
//! - `#say:TEXT` — answer exactly `TEXT` (everything after the marker);
//! - `#raw:BASE64` — answer the JSON that `BASE64` (standard alphabet) encodes as it is: the
//!   whole answer, or for a stream a list of chunks, each sent as one event, then `[DONE]`
//!   (chat and images; for reproducing what upstreams send, odd fields included, without the
//!   input guard seeing it);
//! - `#fault:400`, `#fault:500`, `#fault:timeout`, `#fault:malformed`, `#fault:truncate`,
//!   `#fault:slowloris`, `#fault:redirect` — inject that [`Fault`].
//!
//! Not for production: it has no authentication and answers anything.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// A fault the mock injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 400 with an OpenAI-shaped error (a request the upstream refuses).
    BadRequest,
    /// HTTP 500 with an OpenAI-shaped error.
    ServerError,
    /// Never answers (sleeps an hour).
    Timeout,
    /// HTTP 200 with a body that is not JSON (streams: a chunk that is not JSON).
    MalformedJson,
    /// The body stops half-way and the connection is cut (streams: the body ends half-way,
    /// without a finish chunk or `[DONE]`).
    TruncatedStream,
    /// Headers at once, then one byte every 2 seconds.
    SlowLoris,
    /// HTTP 307 to [`MOVED_PATH`], where the mock answers any POST with a plain chat
    /// completion: a client that follows it gets a 200.
    Redirect,
}

/// Where [`Fault::Redirect`] points (relative to the mock's address).
pub const MOVED_PATH: &str = "/v1/moved";

/// The answer at [`MOVED_PATH`].
pub const MOVED_ANSWER: &str = "mock: you followed a redirect";

impl std::str::FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        Ok(match s {
            "400" => Fault::BadRequest,
            "500" => Fault::ServerError,
            "timeout" => Fault::Timeout,
            "malformed" => Fault::MalformedJson,
            "truncate" => Fault::TruncatedStream,
            "slowloris" => Fault::SlowLoris,
            "redirect" => Fault::Redirect,
            other => {
                return Err(format!(
                    "fault `{other}` is not one of 400, 500, timeout, malformed, truncate, \
                     slowloris, redirect"
                ));
            }
        })
    }
}

/// How the mock behaves.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Delay before a non-streamed answer, in milliseconds.
    pub latency_ms: u64,
    /// Delay before the first streamed chunk, in milliseconds.
    pub ttft_ms: u64,
    /// Delay between streamed chunks, in milliseconds.
    pub chunk_delay_ms: u64,
    /// Characters per streamed chunk (ignored when `chunk_count` is set).
    pub chunk_chars: usize,
    /// Split the answer into this many chunks instead.
    pub chunk_count: Option<usize>,
    /// The default answer.
    pub reply: String,
    /// Scripted answers: when the prompt contains the first string, answer the second.
    pub script: Vec<(String, String)>,
    /// A fault applied to every request.
    pub fault: Option<Fault>,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            latency_ms: 0,
            ttft_ms: 0,
            chunk_delay_ms: 0,
            chunk_chars: 4,
            chunk_count: None,
            reply: "你好！我是一个模拟的上游模型。".into(),
            script: Vec::new(),
            fault: None,
        }
    }
}

/// A running in-process mock.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl MockServer {
    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the mock on `127.0.0.1` at a free port, on the current Tokio runtime.
pub async fn spawn(options: MockOptions) -> std::io::Result<MockServer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(options);
    // The mock dies with its handle (tests) or the process (binary, demo): no graceful drain.
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(MockServer { addr, task })
}

/// The mock's router, to serve it on a listener of your own.
pub fn router(options: MockOptions) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/v1/images/generations", post(images))
        .route("/v1/audio/speech", post(speech))
        .route("/v1/embeddings", post(embeddings))
        .route(MOVED_PATH, post(moved))
        .with_state(std::sync::Arc::new(options))
}

type Options = std::sync::Arc<MockOptions>;

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})),
    )
        .into_response()
}

fn prompt_of(body: &Value) -> String {
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        let last = messages
            .iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"));
        return match last.and_then(|m| m.get("content")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
    }
    for key in ["prompt", "input"] {
        if let Some(s) = body.get(key).and_then(Value::as_str) {
            return s.to_owned();
        }
    }
    String::new()
}

fn fault_of(options: &MockOptions, prompt: &str) -> Option<Fault> {
    prompt
        .split("#fault:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|word| word.parse().ok())
        .or(options.fault)
}

fn answer_of(options: &MockOptions, prompt: &str) -> String {
    if let Some((_, said)) = prompt.split_once("#say:") {
        return said.to_owned();
    }
    options
        .script
        .iter()
        .find(|(trigger, _)| prompt.contains(trigger.as_str()))
        .map(|(_, answer)| answer.clone())
        .unwrap_or_else(|| options.reply.clone())
}

fn split_answer(options: &MockOptions, answer: &str) -> Vec<String> {
    let chars: Vec<char> = answer.chars().collect();
    let size = match options.chunk_count {
        Some(n) if n > 0 => chars.len().div_ceil(n).max(1),
        _ => options.chunk_chars.max(1),
    };
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// A body of `parts`, with `delay` before each part; an `Err` part cuts the connection.
fn paced_body(parts: Vec<Result<Bytes, std::io::Error>>, first_delay: u64, delay: u64) -> Body {
    let stream = futures_util::stream::unfold(
        (parts.into_iter(), true),
        move |(mut parts, first)| async move {
            let part = parts.next()?;
            sleep_ms(if first { first_delay } else { delay }).await;
            Some((part, (parts, false)))
        },
    );
    Body::from_stream(stream)
}

fn slow_loris(text: String) -> Response {
    let parts = text
        .into_bytes()
        .into_iter()
        .map(|b| Ok::<_, std::io::Error>(Bytes::from(vec![b])))
        .collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(paced_body(parts, 2000, 2000))
        .unwrap_or_default()
}

fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({"error": {"message": "mock upstream failure", "type": "server_error", "param": null, "code": null}})),
    )
        .into_response()
}

fn cut() -> std::io::Error {
    std::io::Error::other("mock: truncated")
}

async fn chat(State(options): State<Options>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("mock: body is not JSON");
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock")
        .to_owned();
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let prompt = prompt_of(&body);
    let fault = fault_of(&options, &prompt);
    let answer = answer_of(&options, &prompt);
    if let Some(response) = raw_answer(&prompt, stream) {
        return response;
    }
    let created = chrono::Utc::now().timestamp();
    let id = "chatcmpl-mock";
    match fault {
        Some(Fault::BadRequest) => return bad_request("mock: the upstream refuses this request"),
        Some(Fault::ServerError) => return server_error(),
        Some(Fault::Timeout) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return server_error();
        }
        Some(Fault::Redirect) => return redirect(),
        _ => {}
    }
    if !stream {
        let full = json!({
            "id": id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt.chars().count(), "completion_tokens": answer.chars().count(),
                      "total_tokens": prompt.chars().count() + answer.chars().count()}
        })
        .to_string();
        sleep_ms(options.latency_ms).await;
        return match fault {
            Some(Fault::MalformedJson) => (
                [(header::CONTENT_TYPE, "application/json")],
                full[..full.len() / 2].to_owned(),
            )
                .into_response(),
            Some(Fault::TruncatedStream) => Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .body(paced_body(
                    vec![
                        Ok(Bytes::from(full[..full.len() / 2].to_owned())),
                        Err(cut()),
                    ],
                    0,
                    0,
                ))
                .unwrap_or_default(),
            Some(Fault::SlowLoris) => slow_loris(full),
            _ => ([(header::CONTENT_TYPE, "application/json")], full).into_response(),
        };
    }
    let chunk = |delta: Value, finish: Value| {
        let value = json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
        });
        Ok::<_, std::io::Error>(Bytes::from(format!("data: {value}\n\n")))
    };
    let mut parts = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let pieces = split_answer(&options, &answer);
    let half = pieces.len() / 2;
    for (i, piece) in pieces.into_iter().enumerate() {
        if fault == Some(Fault::TruncatedStream) && i == half {
            // The body ends here: no finish chunk, no `[DONE]`.
            break;
        }
        if fault == Some(Fault::MalformedJson) && i == half {
            parts.push(Ok(Bytes::from_static(
                b"data: {\"choices\": [{\"delta\": \n\n",
            )));
        }
        parts.push(chunk(json!({"content": piece}), Value::Null));
    }
    if fault != Some(Fault::TruncatedStream) {
        parts.push(chunk(json!({}), json!("stop")));
        parts.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
    }
    let (first, delay) = if fault == Some(Fault::SlowLoris) {
        (options.ttft_ms, 2000)
    } else {
        (options.ttft_ms, options.chunk_delay_ms)
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(paced_body(parts, first, delay))
        .unwrap_or_default()
}

/// The answer of a `#raw:` marker, if the prompt has one.
fn raw_answer(prompt: &str, stream: bool) -> Option<Response> {
    use base64::Engine as _;
    let (_, raw) = prompt.split_once("#raw:")?;
    let raw = raw.split_whitespace().next().unwrap_or("");
    let Some(value) = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        return Some(bad_request("mock: the #raw: answer is not base64 of JSON"));
    };
    if !stream {
        return Some(axum::Json(value).into_response());
    }
    let Value::Array(chunks) = value else {
        return Some(bad_request(
            "mock: a streamed #raw: answer is a list of chunks",
        ));
    };
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    Some(
        Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .body(Body::from(body))
            .unwrap_or_default(),
    )
}

async fn models(State(options): State<Options>) -> Response {
    let _ = options;
    axum::Json(json!({"object": "list", "data": [
        {"id": "mock-chat", "object": "model", "created": 0, "owned_by": "mock"}
    ]}))
    .into_response()
}

async fn images(State(options): State<Options>, body: Bytes) -> Response {
    use base64::Engine as _;
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("mock: body is not JSON");
    };
    let prompt = prompt_of(&body);
    if let Some(response) = fault_response(&options, &prompt).await {
        return response;
    }
    if let Some(response) = raw_answer(&prompt, false) {
        return response;
    }
    let n = body
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 4);
    let png =
        base64::engine::general_purpose::STANDARD.encode(hegui_label::testdata::png_image(64, 48));
    let data: Vec<Value> = (0..n)
        .map(|_| json!({"b64_json": png, "revised_prompt": prompt}))
        .collect();
    sleep_ms(options.latency_ms).await;
    axum::Json(json!({"created": chrono::Utc::now().timestamp(), "data": data})).into_response()
}

async fn speech(State(options): State<Options>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("mock: body is not JSON");
    };
    let prompt = prompt_of(&body);
    if let Some(response) = fault_response(&options, &prompt).await {
        return response;
    }
    sleep_ms(options.latency_ms).await;
    (
        [(header::CONTENT_TYPE, "audio/wav")],
        hegui_label::testdata::wav(8000),
    )
        .into_response()
}

async fn embeddings(State(options): State<Options>, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("mock: body is not JSON");
    };
    let prompt = prompt_of(&body);
    if let Some(response) = fault_response(&options, &prompt).await {
        return response;
    }
    let count = match body.get("input") {
        Some(Value::Array(items)) => items.len(),
        _ => 1,
    };
    let data: Vec<Value> = (0..count)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3, 0.4]}))
        .collect();
    sleep_ms(options.latency_ms).await;
    axum::Json(
        json!({"object": "list", "data": data, "model": body.get("model"),
        "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
    )
    .into_response()
}

async fn fault_response(options: &MockOptions, prompt: &str) -> Option<Response> {
    match fault_of(options, prompt)? {
        Fault::BadRequest => Some(bad_request("mock: the upstream refuses this request")),
        Fault::ServerError => Some(server_error()),
        Fault::Timeout => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Some(server_error())
        }
        Fault::MalformedJson => {
            Some(([(header::CONTENT_TYPE, "application/json")], "{\"data\": [").into_response())
        }
        Fault::TruncatedStream => Some(
            Response::builder()
                .body(paced_body(
                    vec![Ok(Bytes::from_static(b"{\"data\": [")), Err(cut())],
                    0,
                    0,
                ))
                .unwrap_or_default(),
        ),
        Fault::SlowLoris => Some(slow_loris("{\"data\": []}".into())),
        Fault::Redirect => Some(redirect()),
    }
}

fn redirect() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, MOVED_PATH)],
    )
        .into_response()
}

/// What a client that followed [`Fault::Redirect`] gets: a plain chat completion.
async fn moved() -> Response {
    axum::Json(json!({
        "id": "chatcmpl-moved", "object": "chat.completion", "created": 0, "model": "mock",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": MOVED_ANSWER},
                     "finish_reason": "stop"}]
    }))
    .into_response()
}

/// Parses the mock binary's arguments (`--listen ADDR --latency-ms N --ttft-ms N
/// --chunk-delay-ms N --chunk-chars N --chunk-count N --reply TEXT --fault F`).
pub fn parse_args(
    args: impl IntoIterator<Item = String>,
) -> Result<(SocketAddr, MockOptions), String> {
    let mut options = MockOptions::default();
    let mut listen: SocketAddr = ([127, 0, 0, 1], 9090).into();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|e| format!("`{flag} {value}`: {e}"))
        };
        match flag.as_str() {
            "--listen" => {
                listen = value
                    .parse()
                    .map_err(|e| format!("`--listen {value}`: {e}"))?;
            }
            "--latency-ms" => options.latency_ms = number()?,
            "--ttft-ms" => options.ttft_ms = number()?,
            "--chunk-delay-ms" => options.chunk_delay_ms = number()?,
            "--chunk-chars" => options.chunk_chars = number()? as usize,
            "--chunk-count" => options.chunk_count = Some(number()? as usize),
            "--reply" => options.reply = value,
            "--fault" => options.fault = Some(value.parse()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok((listen, options))
}

/// Serves the mock on `listen` until the process ends (the binary's main).
pub async fn serve(listen: SocketAddr, options: MockOptions) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router(options)).await
}
