//! `pass-through = true`, the measuring mode: a keyed request goes to the upstream as it came
//! and the answer comes back as it was sent, unguarded and unlabeled, with no audit record.

use axum::http::StatusCode;
use hegui_gateway::mock::MockOptions;

use crate::util::harness;
use crate::{chat, chat_stream};

#[tokio::test]
async fn pass_through_forwards_unguarded_and_records_nothing() {
    let h = harness(MockOptions::default(), |c| c.pass_through = true).await;
    // A blocked word reaches the upstream: no input guard.
    let r = h
        .post("/v1/chat/completions", &chat("哪里能买到冰毒？"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("x-hegui-record-id"), "");
    assert!(r.json().get("aigc").is_none(), "{}", r.text);
    let r = h.post("/v1/chat/completions", &chat_stream("你好")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/event-stream"));
    assert!(r.text.ends_with("data: [DONE]\n\n"), "{}", r.text);
    assert!(!r.text.contains("\"aigc\""), "{}", r.text);
    // The key is still required, and an unknown model is still 404.
    let body = chat("hi").to_string().into_bytes();
    let r = h.raw("/v1/chat/completions", body, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let mut other = chat("hi");
    other["model"] = "nope".into();
    assert_eq!(
        h.post("/v1/chat/completions", &other).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.gateway.store().head().await.unwrap().last_seq, 0);
}
