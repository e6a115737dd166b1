//! Property tests of the output guard's state machine and the SSE parser, on arbitrary
//! sequences of chunks in every shape the leak table knows (content, reasoning, tool-call
//! fragments with and without ids, logprobs, refusal, array content, fingerprints, unknown
//! fields, empty choices): no block pattern of the sample ever reaches the client, whatever
//! the order and the cuts. The same entry points are the fuzz targets in `fuzz/gateway`.

use proptest::prelude::*;
use serde_json::{Value, json};

/// Text pieces that make blocked words when joined (冰 + 毒, 赌 + 博), escapes of them
/// (`\u51b0` is 冰), and filler.
fn piece() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "冰",
        "毒",
        "冰毒",
        "赌",
        "博",
        "好",
        "今天",
        " ",
        "，",
        "a",
        "\\u51b0",
        "\\u6bd2",
        "{\"q\": \"",
        "\"}",
    ])
    .prop_map(str::to_owned)
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 1..4).prop_map(|p| p.concat())
}

fn event() -> impl Strategy<Value = Value> {
    let index = 0u64..2;
    prop_oneof![
        (index.clone(), text()).prop_map(|(i, t)| choice(i, json!({"content": t}))),
        (index.clone(), text()).prop_map(|(i, t)| choice(i, json!({"reasoning_content": t}))),
        (index.clone(), 0u64..2, any::<bool>(), text()).prop_map(|(i, call, first, t)| {
            let mut c = json!({"index": call, "function": {"arguments": t}});
            if first {
                c["id"] = json!(format!("call_{call}"));
                c["type"] = json!("function");
                c["function"]["name"] = json!("search");
            }
            choice(i, json!({"tool_calls": [c]}))
        }),
        (index.clone(), text()).prop_map(|(i, t)| {
            let mut chunk = choice(i, json!({}));
            chunk["choices"][0]["logprobs"] =
                json!({"content": [{"token": t, "logprob": -0.1, "top_logprobs": []}]});
            chunk
        }),
        (index.clone(), text()).prop_map(|(i, t)| choice(i, json!({"refusal": t}))),
        (index.clone(), text())
            .prop_map(|(i, t)| choice(i, json!({"content": [{"type": "text", "text": t}]}))),
        text().prop_map(|t| {
            let mut chunk = choice(0, json!({"content": "好"}));
            chunk["system_fingerprint"] = json!(t);
            chunk
        }),
        text().prop_map(|t| json!({"id": "c", "choices": [], "vendor_note": t})),
        (index.clone(), text()).prop_map(|(i, t)| {
            let mut chunk = choice(i, json!({}));
            chunk["choices"][0]["text"] = json!(t);
            chunk
        }),
        index.prop_map(|i| {
            let mut chunk = choice(i, json!({}));
            chunk["choices"][0]["finish_reason"] = json!("stop");
            chunk
        }),
    ]
}

fn choice(index: u64, delta: Value) -> Value {
    let mut chunk = json!({"id": "c", "object": "chat.completion.chunk", "created": 1,
                           "model": "mock-chat"});
    chunk["choices"] = json!([{"index": index, "finish_reason": null}]);
    chunk["choices"][0]["delta"] = delta;
    chunk
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_sequence_of_chunks_delivers_a_blocked_word(
        chunks in prop::collection::vec(event(), 1..12),
        drop_unknown in any::<bool>(),
    ) {
        let result = hegui_gateway::fuzzing::output_guard(&chunks, drop_unknown);
        prop_assert!(result.is_ok(), "{}\nchunks: {chunks:#?}", result.unwrap_err());
    }

    #[test]
    fn sse_events_do_not_depend_on_where_the_bytes_are_cut(
        parts in prop::collection::vec(
            prop::sample::select(vec!["data:", "data: ", " ", "\n", "\r\n", "\r", "{}", "冰", ": c", "x"]),
            0..40,
        ),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let bytes = parts.concat().into_bytes();
        let result = hegui_gateway::fuzzing::sse(&bytes, &cuts);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}
