//! The audit record of every outcome, as snapshots: the typed schema as a regulator reads it.

use axum::http::StatusCode;
use hegui_gateway::mock::MockOptions;
use hegui_store::users::UserState;
use serde_json::{Value, json};

use crate::util::harness;
use crate::{chat, chat_stream};

/// The audit record of each outcome as a regulator reads it: kind, outcome, the typed verdicts
/// of every stage (schema 2) and the texts (ids, times and latencies left out). The verdicts
/// parse as `hegui_store::ledger::schema::Verdicts`, so the shape is the type's.
#[tokio::test]
async fn audit_records_by_outcome() {
    use hegui_store::ledger::StreamState;
    use hegui_store::ledger::schema::{Outcome, Verdicts};
    let options = MockOptions {
        chunk_chars: 1,
        script: vec![
            (
                "讲个故事".into(),
                "这是一个故事，主角在网上出售冰毒被抓了。".into(),
            ),
            ("去哪买".into(), "可以去网上买冰毒".into()),
        ],
        ..MockOptions::default()
    };
    // One request per end user and second: the second of `flooder` is over the limit.
    let h = harness(options, |c| {
        c.guard.user_rps = 1.0;
        c.guard.user_burst = 1.0;
    })
    .await;
    h.gateway
        .store()
        .sanction(
            "acme",
            "mallory",
            UserState::Suspended,
            "test",
            None,
            "test",
        )
        .await
        .unwrap();
    let as_user = |mut body: Value, user: &str| {
        body["user"] = json!(user);
        body
    };
    let flood = as_user(chat("你好"), "flooder");
    assert_eq!(
        h.post("/v1/chat/completions", &flood).await.status,
        StatusCode::OK
    );
    let cases = [
        ("clean", chat("你好")),
        ("flagged", as_user(chat("我的手机13812345678"), "u2")),
        ("blocked_input", as_user(chat("哪里能买到冰毒？"), "u3")),
        ("blocked_output", as_user(chat("去哪买"), "u4")),
        (
            "blocked_output_mid_stream",
            as_user(chat_stream("讲个故事"), "u5"),
        ),
        ("upstream_fault", as_user(chat("你好 #fault:500"), "u6")),
        ("suspended_user", as_user(chat("你好"), "mallory")),
        ("rate_limited", flood),
    ];
    for (name, body) in cases {
        let r = h.post("/v1/chat/completions", &body).await;
        if name == "suspended_user" || name == "rate_limited" {
            assert!(r.status.is_client_error(), "{name}: {}", r.text);
        }
        let id = r.header("x-hegui-record-id");
        let exchange = h.exchange(&id).await;
        let record = h.record(&id).await;
        let verdicts = Verdicts::parse(&record.verdicts).unwrap();
        assert_eq!(verdicts.schema, 2, "{name}");
        assert!(
            Outcome::parse(&record.outcome).is_some(),
            "{name}: {}",
            record.outcome
        );
        let mut view = json!({
            "kind": record.kind,
            "outcome": record.outcome,
            "verdicts": verdicts,
            "request_text": record.request_text,
            "response_text": record.response_text,
            "labeled": !record.label.is_empty(),
        });
        if exchange.state() != StreamState::Whole {
            // A streamed answer: the `started` record, then the one that completes it.
            view["stream"] = json!({
                "state": exchange.state(),
                "started": exchange.record.outcome,
                "started_verdicts": Verdicts::parse(&exchange.record.verdicts).unwrap(),
                "completion_request_text": exchange.completion.map(|c| c.request_text),
            });
        }
        insta::assert_json_snapshot!(name, view);
    }
}

/// A request of one blocked word repeated over 4 MB (about 700,000 hits) keeps the first 32
/// hits of each stage and the exact count; its verdicts stay a few KiB, streamed or not.
#[tokio::test]
async fn a_flood_of_one_word_keeps_32_hits_and_the_exact_count() {
    use hegui_store::ledger::schema::{Stage, Verdicts};
    let h = harness(MockOptions::default(), |c| {
        c.limits.body_bytes = 8 * 1024 * 1024;
    })
    .await;
    let word = "冰毒 ";
    let n = 4 * 1024 * 1024 / word.len();
    let text = word.repeat(n);
    for body in [chat(&text), chat_stream(&text)] {
        let r = h.post("/v1/chat/completions", &body).await;
        assert!(r.status.is_success() || r.status == StatusCode::BAD_REQUEST);
        let record = h.record(&r.header("x-hegui-record-id")).await;
        assert_eq!(record.outcome, "blocked_input");
        assert!(
            record.verdicts.len() < 16 * 1024,
            "verdicts of {} bytes",
            record.verdicts.len()
        );
        let verdicts = Verdicts::parse(&record.verdicts).unwrap();
        let input = verdicts
            .stages
            .iter()
            .find(|s| s.stage == Stage::Input)
            .expect("an input verdict");
        assert_eq!(input.hits.len(), 32);
        assert_eq!(input.total_hits(), n as u64);
    }
}
