//! Nothing gets past the output guard: every field of an answer that carries text, in every
//! shape an upstream was seen to send, is scanned before it reaches the client. The mock answers
//! each case verbatim (`#raw:`, base64 in the prompt, so that the input guard does not see the
//! word).

use axum::http::StatusCode;
use hegui_gateway::config::UnknownFields;
use hegui_gateway::mock::MockOptions;
use serde_json::{Value, json};

use crate::util::{Answer, Harness, harness};

const WORD: &str = "冰毒";

/// The prompt that makes the mock answer `answer` as it is (a list of chunks when streamed).
fn raw_prompt(answer: &Value) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(answer.to_string());
    format!("#raw:{encoded}")
}

fn request(answer: &Value, stream: bool) -> Value {
    json!({"model": "mock-chat", "stream": stream,
           "messages": [{"role": "user", "content": raw_prompt(answer)}]})
}

fn answer(object: &str, choice: Value) -> Value {
    let mut answer = json!({"id": "c", "object": object, "created": 1, "model": "mock-chat"});
    answer["choices"] = Value::Array(vec![choice]);
    answer
}

fn chunk(choice: Value) -> Value {
    answer("chat.completion.chunk", choice)
}

fn plain(choice: Value) -> Value {
    answer("chat.completion", choice)
}

/// Every string the client received (every event of a stream), and the JSON escapes in them
/// decoded once more (tool-call arguments are JSON documents).
fn received(answer: &Answer) -> String {
    fn strings(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push('\n');
                if let Ok(inner) = serde_json::from_str::<Value>(s) {
                    strings(&inner, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    for event in answer.text.split("\n\n") {
        let data = event.strip_prefix("data: ").unwrap_or(event);
        if let Ok(value) = serde_json::from_str::<Value>(data) {
            strings(&value, &mut out);
        }
    }
    out
}

async fn send(h: &Harness, answer: &Value, stream: bool) -> Answer {
    h.post("/v1/chat/completions", &request(answer, stream))
        .await
}

/// The answers that carry the word outside `content`, as upstreams were seen to send them.
fn leaking_answers() -> Vec<(&'static str, Value, bool)> {
    let tool_call = |index: u64, first: bool, args: &str| {
        let mut call = json!({"index": index, "function": {"arguments": args}});
        if first {
            call["id"] = json!(format!("call_{index}"));
            call["type"] = json!("function");
            call["function"]["name"] = json!("search");
        }
        chunk(json!({"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}))
    };
    let stop = chunk(json!({"index": 0, "delta": {}, "finish_reason": "stop"}));
    vec![
        (
            "plain logprobs",
            plain(json!({"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "好的"},
                "logprobs": {"content": [{"token": "冰", "logprob": -0.1, "top_logprobs": [
                    {"token": "冰毒", "logprob": -0.5}]}]}})),
            false,
        ),
        (
            "plain legacy text",
            plain(json!({"index": 0, "text": "冰毒", "finish_reason": "stop"})),
            false,
        ),
        (
            "plain message as a string",
            plain(json!({"index": 0, "message": "出售冰毒", "finish_reason": "stop"})),
            false,
        ),
        (
            "plain system_fingerprint",
            {
                let mut a = plain(json!({"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "好"}}));
                a["system_fingerprint"] = json!("冰毒");
                a
            },
            false,
        ),
        (
            "plain tool-call arguments with escapes inside",
            plain(json!({"index": 0, "finish_reason": "tool_calls",
                "message": {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c1", "type": "function",
                     "function": {"name": "f", "arguments": "{\"q\": \"\\u51b0\\u6bd2\"}"}}]}})),
            false,
        ),
        (
            "plain answer without choices",
            json!({"id": "c", "object": "chat.completion", "output_text": "冰毒"}),
            false,
        ),
        (
            "streamed logprobs ahead of the held-back text",
            json!([
                chunk(
                    json!({"index": 0, "delta": {"role": "assistant", "content": "好冰"},
                    "logprobs": {"content": [{"token": "好"}, {"token": "冰"}]}, "finish_reason": null})
                ),
                chunk(json!({"index": 0, "delta": {"content": "毒"},
                    "logprobs": {"content": [{"token": "毒"}]}, "finish_reason": null})),
                stop,
            ]),
            true,
        ),
        (
            "streamed content as an array after the first chunk",
            json!([
                chunk(
                    json!({"index": 0, "delta": {"role": "assistant", "content": "好"}, "finish_reason": null})
                ),
                chunk(
                    json!({"index": 0, "delta": {"content": [{"type": "text", "text": "冰毒"}]}, "finish_reason": null})
                ),
                stop,
            ]),
            true,
        ),
        (
            "streamed interleaved tool calls, id and name in the first fragment",
            json!([
                tool_call(0, true, "{\"q\": \"冰"),
                tool_call(1, true, "{\"city\": "),
                tool_call(0, false, "毒\"}"),
                tool_call(1, false, "\"北京\"}"),
                chunk(json!({"index": 0, "delta": {}, "finish_reason": "tool_calls"})),
            ]),
            true,
        ),
        (
            "streamed chunk with no choices and an extra field",
            json!([
                chunk(json!({"index": 0, "delta": {"content": "好"}, "finish_reason": null})),
                {"id": "c", "object": "chat.completion.chunk", "choices": [], "note": "冰毒"},
                stop,
            ]),
            true,
        ),
        (
            "streamed system_fingerprint",
            json!([
                {"id": "c", "object": "chat.completion.chunk", "system_fingerprint": "fp-冰毒",
                 "choices": [{"index": 0, "delta": {"content": "好"}, "finish_reason": null}]},
                stop,
            ]),
            true,
        ),
        (
            "streamed refusal",
            json!([
                chunk(json!({"index": 0, "delta": {"refusal": "冰"}, "finish_reason": null})),
                chunk(json!({"index": 0, "delta": {"refusal": "毒"}, "finish_reason": null})),
                stop,
            ]),
            true,
        ),
    ]
}

#[tokio::test]
async fn no_field_of_an_answer_gets_past_the_output_guard() {
    let h = harness(MockOptions::default(), |_| {}).await;
    for (case, answer, stream) in leaking_answers() {
        let r = send(&h, &answer, stream).await;
        assert_eq!(r.status, StatusCode::OK, "{case}: {}", r.text);
        let got = received(&r);
        assert!(
            !got.contains(WORD),
            "{case}: the client received the word:\n{got}"
        );
        assert!(
            r.text.contains("content_filter"),
            "{case}: the answer was not stopped:\n{}",
            r.text
        );
        let record = h.record(&r.header("x-hegui-record-id")).await;
        assert_eq!(record.outcome, "blocked_output", "{case}");
    }
}

#[tokio::test]
async fn clean_fields_other_than_content_still_arrive() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let answer = json!([
        chunk(
            json!({"index": 0, "delta": {"role": "assistant", "content": "你好"},
            "logprobs": {"content": [{"token": "你好", "logprob": -0.1}]}, "finish_reason": null})
        ),
        chunk(
            json!({"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_0",
            "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"北京\"}"}}]},
            "finish_reason": null})
        ),
        chunk(json!({"index": 0, "delta": {}, "finish_reason": "tool_calls"})),
    ]);
    let r = send(&h, &answer, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, finish, _) = crate::util::sse_contents(&r.text);
    assert!(text.ends_with("你好"), "{text}");
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(r.text.contains("\"logprobs\""), "{}", r.text);
    assert!(r.text.contains("weather"), "{}", r.text);
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert_eq!(record.outcome, "ok");
    // The record holds what was forwarded: the tool call's arguments too.
    let response = record.response_text.unwrap_or_default();
    assert!(response.contains("北京"), "{response}");
}

#[tokio::test]
async fn images_revised_prompt_is_scanned() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let answer = json!({"created": 1, "data": [{"b64_json": "AAAA", "revised_prompt": "冰毒"}]});
    let r = h
        .post(
            "/v1/images/generations",
            &json!({"model": "mock-chat", "prompt": raw_prompt(&answer)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "content_filter");
    assert!(!r.text.contains(WORD));
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert_eq!(record.outcome, "blocked_output");
}

#[tokio::test]
async fn drop_mode_removes_unknown_answer_fields() {
    let h = harness(MockOptions::default(), |c| {
        c.guard.unknown_fields = UnknownFields::Drop;
    })
    .await;
    let mut answer = plain(
        json!({"index": 0, "finish_reason": "stop", "vendor": "冰毒",
        "message": {"role": "assistant", "content": "你好", "vendor": "冰毒"}}),
    );
    answer["vendor_extra"] = json!("冰毒");
    let r = send(&h, &answer, false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(WORD), "{}", r.text);
    assert!(!r.text.contains("vendor"), "{}", r.text);
    assert_eq!(r.json()["choices"][0]["finish_reason"], "stop");
}
