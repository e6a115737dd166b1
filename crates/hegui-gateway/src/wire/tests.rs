use serde_json::{Value, json};

use super::answer::{Chunk, Completion};
use super::request::{ChatRequest, MediaRequest};
use super::{Texts, decode};

/// Decodes `value` as a `T` and encodes it again.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> Value {
    let typed: T = decode(&value.to_string()).unwrap();
    serde_json::to_value(&typed).unwrap()
}

#[test]
fn nothing_a_client_or_an_upstream_sends_is_dropped() {
    let request = json!({"model": "m", "stream": true, "user": "u", "temperature": 0.2,
        "chat_template_kwargs": {"enable_thinking": false}, "tools": [{"type": "function",
        "function": {"name": "f", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "system", "content": "be brief", "name": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "f", "arguments": "{}"}}], "vendor_note": "x"},
            {"role": "tool", "tool_call_id": "c1", "content": "42"}]});
    let mut expected = request.clone();
    // `content: null` is the same as no content.
    expected["messages"][2]
        .as_object_mut()
        .unwrap()
        .remove("content");
    assert_eq!(round_trip::<ChatRequest>(&request), expected);

    let chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "system_fingerprint": "fp", "usage": null, "choices": [{"index": 1,
        "delta": {"role": "assistant", "content": "a", "reasoning_content": "r", "refusal": null},
        "logprobs": {"content": []}, "finish_reason": null}]});
    assert_eq!(round_trip::<Chunk>(&chunk), chunk);

    let plain = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "usage": {"total_tokens": 3}, "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "a", "annotations": []}, "text": "legacy"}]});
    assert_eq!(round_trip::<Completion>(&plain), plain);

    let images = json!({"model": "m", "prompt": "a cat", "n": 2, "negative_prompt": "dogs"});
    assert_eq!(round_trip::<MediaRequest>(&images), images);
}

#[test]
fn decode_errors_say_where() {
    // (body, path, category is syntax)
    let cases = [
        (r#"{"model": "#, "model", true),
        (r#"{"model": "m"} trailing"#, ".", true),
        (r#"[1]"#, ".", false),
        (r#"{"model": 5}"#, "model", false),
        (r#"{"messages": "hi"}"#, "messages", false),
        (r#"{"messages": [1]}"#, "messages[0]", false),
        (
            r#"{"messages": [{"role": "user", "content": {"text": "x"}}]}"#,
            "messages[0].content",
            false,
        ),
        (
            r#"{"messages": [{"content": [{"type": "text", "text": "a"}, {"text": 5}]}]}"#,
            "messages[0].content[1].text",
            false,
        ),
        (r#"{"messages": [], "user": 42}"#, "user", false),
        (r#"{"messages": [], "stream": "yes"}"#, "stream", false),
    ];
    for (body, path, syntax) in cases {
        let error = decode::<ChatRequest>(body).unwrap_err();
        assert_eq!(error.path, path, "{body}: {}", error.error);
        assert_eq!(error.is_syntax(), syntax, "{body}: {}", error.error);
    }
}

#[test]
fn the_types_decide_what_is_text() {
    let request: ChatRequest = decode(
        &json!({"model": "m", "user": "u", "stream": false, "seed": 7,
        "messages": [
            {"role": "user", "name": "n", "content": [{"type": "text", "text": "part"},
                {"type": "file", "file": {"filename": "f.txt", "file_data": "AAAA"}}]},
            {"role": "assistant", "reasoning_content": "thought",
             "tool_calls": [{"id": "c1", "type": "function",
                 "function": {"name": "f", "arguments": "{\"q\": \"\\u51b0\"}"}}]}],
        "tools": [{"type": "function", "function": {"name": "g", "description": "tool text"}}],
        "vendor_prompt": "unknown text"})
        .to_string(),
    )
    .unwrap();
    let texts = request.text();
    let lines: Vec<&str> = texts.lines().collect();
    assert_eq!(
        lines,
        [
            "part",
            "f.txt",
            "n",
            "thought",
            "{\"q\": \"\\u51b0\"}",
            "{\"q\": \"冰\"}",
            "f",
            "tool text",
            "g",
            "unknown text",
        ]
    );
}

#[test]
fn unknown_fields_are_dropped_at_every_level() {
    let mut request: ChatRequest = decode(
        &json!({"model": "m", "chat_template": "x", "temperature": 1,
            "messages": [{"role": "user", "content": "hi", "vendor_note": "x"}]})
        .to_string(),
    )
    .unwrap();
    assert!(request.drop_unknown());
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"model": "m", "temperature": 1,
            "messages": [{"role": "user", "content": "hi"}]})
    );
    assert!(!request.drop_unknown());

    let mut answer: Completion = decode(
        &json!({"id": "c", "extra": "x", "choices": [
            {"index": 0, "text": "legacy", "message": {"content": "a", "vendor": "x"}}]})
        .to_string(),
    )
    .unwrap();
    answer.drop_unknown();
    assert_eq!(
        serde_json::to_value(&answer).unwrap(),
        json!({"id": "c", "choices": [{"index": 0, "finish_reason": null,
            "message": {"content": "a"}}]})
    );
}

mod props {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    /// JSON shaped like requests and answers: the keys the types know, in any nesting, with
    /// values of every kind (so that most are wrong somewhere).
    fn json() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec![
            "model",
            "messages",
            "role",
            "content",
            "reasoning_content",
            "text",
            "type",
            "choices",
            "delta",
            "message",
            "index",
            "finish_reason",
            "stream",
            "user",
            "prompt",
            "input",
            "aigc",
            "id",
            "created",
            "tool_calls",
            "x",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z冰毒 ]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<Map<_, _>>(),
                    )
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Whatever arrives, decoding never panics, what decodes survives a round trip, and
        /// what does not has an error with a path.
        #[test]
        fn decoding_is_total_and_lossless(value in json()) {
            let text = value.to_string();
            if let Err(e) = crate::fuzzing::wire(&text) {
                prop_assert!(false, "{text}: {e}");
            }
        }
    }
}
