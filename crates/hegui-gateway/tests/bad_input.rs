//! Bad input, as a client can send it: each gets a clear OpenAI-shaped 4xx, never a 5xx or a
//! panic, and leaves a `refused` audit record that names the error code (a request without a
//! valid key one that names only the client's address).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures_util::StreamExt as _;
use hegui_gateway::mock::MockOptions;
use hegui_store::ledger::schema::{Outcome, Stage, Verdicts};
use serde_json::{Value, json};

use crate::util::{Harness, harness};

/// How a case is sent.
enum Send {
    /// This body, with the harness's key (or none, or another).
    Body(Vec<u8>, Key),
    /// A chat request with this end-user header.
    UserHeader(&'static [u8]),
}

#[derive(Clone, Copy)]
enum Key {
    Valid,
    Missing,
    Other(&'static str),
}

fn chat_as(user: &Value) -> Vec<u8> {
    json!({"model": "mock-chat", "user": user, "messages": [{"role": "user", "content": "你好"}]})
        .to_string()
        .into_bytes()
}

fn messages(messages: &Value) -> Vec<u8> {
    json!({"model": "mock-chat", "messages": messages})
        .to_string()
        .into_bytes()
}

async fn send(h: &Harness, how: &Send) -> crate::util::Answer {
    match how {
        Send::Body(body, key) => {
            let key = match key {
                Key::Valid => Some(h.key.as_str()),
                Key::Missing => None,
                Key::Other(k) => Some(*k),
            };
            h.raw("/v1/chat/completions", body.clone(), key).await
        }
        Send::UserHeader(value) => {
            let request = Request::post("/v1/chat/completions")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {}", h.key))
                .header(
                    "x-hegui-user",
                    axum::http::HeaderValue::from_bytes(value).unwrap(),
                )
                .body(Body::from(messages(
                    &json!([{"role": "user", "content": "你好"}]),
                )))
                .unwrap();
            h.send(request).await
        }
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_a_record() {
    let h = harness(MockOptions::default(), |c| {
        c.limits.body_bytes = 8 * 1024 * 1024;
    })
    .await;
    let many: Vec<Value> = (0..100_000)
        .map(|_| json!({"role": "user", "content": "a"}))
        .collect();
    // (name, request, status, code, recorded): a code's first case is recorded; the ledger
    // keeps one refusal per tenant, code and second.
    let cases: Vec<(&str, Send, StatusCode, &str, bool)> = vec![
        (
            "malformed JSON",
            Send::Body(b"{\"model\": ".to_vec(), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_json",
            true,
        ),
        (
            "a message that is a number",
            Send::Body(messages(&json!([1])), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_messages",
            true,
        ),
        (
            "content as an object",
            Send::Body(
                messages(&json!([{"role": "user", "content": {"text": "x"}}])),
                Key::Valid,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_messages",
            false,
        ),
        (
            "a part whose text is a number",
            Send::Body(
                messages(&json!([{"role": "user", "content": [{"type": "text", "text": 5}]}])),
                Key::Valid,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_messages",
            false,
        ),
        (
            "stream as a string",
            Send::Body(
                json!({"model": "mock-chat", "stream": "yes", "messages": []})
                    .to_string()
                    .into_bytes(),
                Key::Valid,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            true,
        ),
        (
            "messages as a string",
            Send::Body(messages(&json!("hi")), Key::Valid),
            StatusCode::BAD_REQUEST,
            "missing_messages",
            true,
        ),
        (
            "a body over the limit",
            Send::Body(vec![b' '; 9 * 1024 * 1024], Key::Valid),
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            true,
        ),
        (
            "100,000 messages",
            Send::Body(messages(&Value::Array(many)), Key::Valid),
            StatusCode::BAD_REQUEST,
            "too_many_messages",
            true,
        ),
        (
            "invalid UTF-8",
            Send::Body(b"{\"model\": \"\xff\"}".to_vec(), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_encoding",
            true,
        ),
        (
            "CRLF in user",
            Send::Body(
                chat_as(&json!("mallory\r\n2026 sanction suspended")),
                Key::Valid,
            ),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            true,
        ),
        (
            "a NUL in user",
            Send::Body(chat_as(&json!("mallory\u{0}")), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "a zero-width space in user",
            Send::Body(chat_as(&json!("mal\u{200b}lory")), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "user as a number",
            Send::Body(chat_as(&json!(42)), Key::Valid),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "a tab in x-hegui-user",
            Send::UserHeader(b"mallory\tx"),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "a soft hyphen in x-hegui-user",
            Send::UserHeader("mal\u{ad}lory".as_bytes()),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "x-hegui-user not UTF-8",
            Send::UserHeader(b"mal\xfflory"),
            StatusCode::BAD_REQUEST,
            "invalid_user",
            false,
        ),
        (
            "an unknown model",
            Send::Body(
                json!({"model": "gpt-9", "messages": []})
                    .to_string()
                    .into_bytes(),
                Key::Valid,
            ),
            StatusCode::NOT_FOUND,
            "model_not_found",
            true,
        ),
        (
            "no Authorization header",
            Send::Body(chat_as(&json!("u")), Key::Missing),
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            true,
        ),
        (
            "a key in another format",
            Send::Body(chat_as(&json!("u")), Key::Other("sk-proj-0123456789abcdef")),
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            true,
        ),
    ];
    let mut messages = Vec::new();
    for (name, how, status, code, recorded) in &cases {
        let r = send(&h, how).await;
        messages.push(format!("{name}: {}", r.json()["error"]["message"]));
        assert_eq!(r.status, *status, "{name}: {}", r.text);
        let error = &r.json()["error"];
        assert_eq!(error["code"], *code, "{name}: {}", r.text);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()) && error["type"].is_string(),
            "{name}: not OpenAI-shaped: {}",
            r.text
        );
        if !recorded {
            continue;
        }
        let record = h.record(&r.header("x-hegui-record-id")).await;
        assert_eq!(record.outcome, Outcome::Refused.as_str(), "{name}");
        assert!(
            record.request_text.as_deref().unwrap_or("").is_empty(),
            "{name}: no body is kept"
        );
        let verdicts = Verdicts::parse(&record.verdicts).unwrap();
        let stage = &verdicts.stages[0];
        assert_eq!(stage.stage, Stage::Admission, "{name}");
        let (guard, note) = match how {
            Send::Body(_, Key::Missing) => ("api_key", "missing_api_key"),
            Send::Body(_, Key::Other(_)) => ("api_key", *code),
            _ => ("request", *code),
        };
        assert_eq!(stage.guard.as_deref(), Some(guard), "{name}");
        assert_eq!(stage.notes, [note.to_string()], "{name}");
        if guard == "api_key" {
            assert_eq!(record.tenant, "", "{name}: no tenant is known");
        }
    }
    // What each error says, and where.
    insta::assert_snapshot!(messages.join("\n"));
    // The chain still verifies.
    let report = h.gateway.store().verify(&Default::default()).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408() {
    let h = harness(MockOptions::default(), |c| c.limits.body_read_secs = 1).await;
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"model\": "))
    });
    let stalled = first.chain(futures_util::stream::pending());
    let request = Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", h.key))
        .body(Body::from_stream(stalled))
        .unwrap();
    let r = h.send(request).await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let made = h.get_auth("/v1/models").await.header("x-request-id");
    assert_eq!(made.len(), 36, "a UUID: {made}");
    let request = Request::get("/v1/models")
        .header("authorization", format!("Bearer {}", h.key))
        .header("x-request-id", "client-7")
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(request).await.header("x-request-id"), "client-7");
    // Refusals too.
    assert_eq!(h.get("/v1/models").await.header("x-request-id").len(), 36);
}

/// Text outside `messages[].content` is forwarded too, so it is scanned too.
#[tokio::test]
async fn every_forwarded_text_is_scanned() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let word = "出售冰毒";
    let user = |content: Value| json!({"role": "user", "content": content});
    let cases: Vec<(&str, Value)> = vec![
        (
            "an assistant's tool-call arguments",
            json!({"model": "mock-chat", "messages": [
                user(json!("你好")),
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": format!("{{\"q\": \"{word}\"}}")}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "ok"}]}),
        ),
        (
            "a message's name",
            json!({"model": "mock-chat", "messages": [{"role": "user", "name": word, "content": "你好"}]}),
        ),
        (
            "reasoning_content in the history",
            json!({"model": "mock-chat", "messages": [user(json!("你好")),
                {"role": "assistant", "content": "好", "reasoning_content": word}]}),
        ),
        (
            "a tool's description",
            json!({"model": "mock-chat", "messages": [user(json!("你好"))],
                "tools": [{"type": "function", "function": {"name": "f", "description": word}}]}),
        ),
        (
            "a top-level prompt",
            json!({"model": "mock-chat", "messages": [user(json!("你好"))], "prompt": word}),
        ),
        (
            "vLLM documents",
            json!({"model": "mock-chat", "messages": [user(json!("你好"))], "documents": [{"text": word}]}),
        ),
    ];
    for (name, body) in cases {
        let r = h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.header("x-hegui-verdict"), "block", "{name}: {}", r.text);
        let record = h.record(&r.header("x-hegui-record-id")).await;
        assert!(
            record.request_text.as_deref().unwrap_or("").contains(word),
            "{name}: the record holds what was sent"
        );
    }
    // Ids, roles, model names and media are not text: a clean request stays clean.
    let clean = json!({"model": "mock-chat", "user": "u1", "messages": [
        user(json!([{"type": "text", "text": "你好"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]))]});
    let r = h.post("/v1/chat/completions", &clean).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-hegui-verdict"), "clean");
}

#[tokio::test]
async fn a_wrong_method_gets_an_openai_shaped_405() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let cases = [
        Request::post("/healthz").body(Body::empty()).unwrap(),
        Request::get("/v1/chat/completions")
            .header("authorization", format!("Bearer {}", h.key))
            .body(Body::empty())
            .unwrap(),
    ];
    for request in cases {
        let path = request.uri().path().to_owned();
        let r = h.send(request).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(r.json()["error"]["code"], "method_not_allowed", "{path}");
    }
}

#[tokio::test]
async fn an_unreachable_upstream_is_named_but_its_address_is_not_told() {
    let h = harness(MockOptions::default(), |c| {
        c.upstreams[0].base_url = "http://127.0.0.1:9/internal/v1".into();
    })
    .await;
    let r = h
        .post(
            "/v1/chat/completions",
            &json!({"model": "mock-chat",
        "messages": [{"role": "user", "content": "你好"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`mock`"), "{message}");
    assert!(
        !message.contains("127.0.0.1") && !message.contains("/internal"),
        "{message}"
    );
}

/// A flood of requests without a valid key leaves few records: one per address, reason and
/// second, and at most `UNAUTHENTICATED_PER_SEC` (10) a second from all addresses together.
#[tokio::test]
async fn a_flood_of_bad_keys_leaves_few_records() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let started = std::time::Instant::now();
    let mut recorded = 0;
    for i in 0..200u32 {
        // 100 requests from one address, then one from each of 100 others.
        let ip = if i < 100 { 1 } else { i };
        let addr = std::net::SocketAddr::from(([10, 0, (ip >> 8) as u8, ip as u8], 40000));
        let mut request = Request::post("/v1/chat/completions")
            .header("authorization", "Bearer wrong-key")
            .body(Body::from(chat_as(&json!("u"))))
            .unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        let r = h.send(request).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        if !r.header("x-hegui-record-id").is_empty() {
            recorded += 1;
        }
    }
    // The shared budget refills at 10 a second while the loop runs.
    let bound = 10 + (started.elapsed().as_secs_f64() * 10.0).ceil() as usize;
    assert!(
        (2..=bound).contains(&recorded),
        "{recorded} records of 200 refusals (bound {bound})"
    );
    assert_eq!(
        h.gateway.store().head().await.unwrap().last_seq as usize,
        recorded
    );
}
