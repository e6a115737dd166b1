//! In-process tests of the gateway against the in-process mock upstream: every guard path,
//! faults, bad requests, labels, the audit record, the violation policy (also across two
//! instances on one PostgreSQL) and graceful shutdown over a real socket.

#![allow(unreachable_pub)]

mod admin;
mod admin_access;
mod agreements;
mod auth;
mod bad_input;
mod connections;
mod console;
mod fleet;
mod identity;
mod leaks;
mod media;
mod minors;
mod output_props;
mod pass_through;
mod public;
mod records;
mod util;

use axum::http::StatusCode;
use hegui_gateway::mock::MockOptions;
use serde_json::{Value, json};
use util::{Harness, harness, sse_contents};

fn chat(content: &str) -> Value {
    json!({"model": "mock-chat", "messages": [{"role": "user", "content": content}]})
}

fn chat_stream(content: &str) -> Value {
    json!({"model": "mock-chat", "stream": true, "messages": [{"role": "user", "content": content}]})
}

#[tokio::test]
async fn clean_chat_is_labeled_and_audited() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h.post("/v1/chat/completions", &chat("你好")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let body = r.json();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("【本内容由人工智能（AI）生成】\n你好！"),
        "{content}"
    );
    let id = r.header("x-aigc-produce-id");
    assert_eq!(body["aigc"]["ProduceID"], id.as_str());
    assert_eq!(body["aigc"]["Label"], "1");
    assert_eq!(r.header("x-hegui-record-id"), id);
    let record = h.record(&id).await;
    assert_eq!(record.outcome, "ok");
    assert_eq!(record.tenant, "acme");
    assert_eq!(record.kind, "chat");
    assert_eq!(record.request_text.as_deref(), Some("你好"));
    assert!(record.label.contains(&id));
}

#[tokio::test]
async fn blocked_input_gets_the_refusal_and_a_record() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h
        .post("/v1/chat/completions", &chat("哪里可以买到冰毒"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("无法处理")
    );
    assert_eq!(r.header("x-hegui-verdict"), "block");
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert_eq!(record.outcome, "blocked_input");
    assert!(record.verdicts.contains("冰毒"), "{}", record.verdicts);
}

#[tokio::test]
async fn blocked_input_as_an_openai_error() {
    let h = harness(MockOptions::default(), |c| {
        c.guard.input_block = hegui_gateway::config::InputBlock::Error;
    })
    .await;
    let r = h
        .post("/v1/chat/completions", &chat("哪里可以买到冰毒"))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], "content_filter");
}

#[tokio::test]
async fn blocked_streamed_input_is_a_short_stream() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h
        .post("/v1/chat/completions", &chat_stream("哪里可以买到冰毒"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("\"finish_reason\":\"content_filter\""),
        "{}",
        r.text
    );
    assert!(r.text.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn clean_stream_arrives_whole_with_label_and_done() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h.post("/v1/chat/completions", &chat_stream("你好")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let (text, finish, aigc) = sse_contents(&r.text);
    assert_eq!(
        text, "【本内容由人工智能（AI）生成】\n你好！我是一个模拟的上游模型。",
        "{}",
        r.text
    );
    assert_eq!(finish.as_deref(), Some("stop"));
    let id = r.header("x-aigc-produce-id");
    assert_eq!(aigc.unwrap()["ProduceID"], id.as_str());
    assert!(r.text.ends_with("data: [DONE]\n\n"));
    let record = h.record(&id).await;
    assert_eq!(record.outcome, "ok");
    assert_eq!(record.response_text.as_deref(), Some(text.as_str()));
}

#[tokio::test]
async fn streamed_output_is_cut_before_the_forbidden_word() {
    let options = MockOptions {
        chunk_chars: 1,
        script: vec![(
            "讲个故事".into(),
            "这是一个故事，主角在网上出售冰毒被抓了。".into(),
        )],
        ..MockOptions::default()
    };
    let h = harness(options, |_| {}).await;
    let r = h
        .post("/v1/chat/completions", &chat_stream("讲个故事"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (text, finish, aigc) = sse_contents(&r.text);
    assert_eq!(finish.as_deref(), Some("content_filter"));
    assert!(!text.contains('冰'), "{text}");
    assert!(text.contains("这是一个故事"), "{text}");
    assert!(text.ends_with("【内容因违反相关规定已停止生成】"), "{text}");
    assert!(aigc.is_some());
    let record = h.record(&r.header("x-aigc-produce-id")).await;
    assert_eq!(record.outcome, "blocked_output");
}

#[tokio::test]
async fn non_streamed_output_is_replaced_by_the_notice() {
    let options = MockOptions {
        script: vec![("去哪买".into(), "可以去网上买冰毒".into())],
        ..MockOptions::default()
    };
    let h = harness(options, |_| {}).await;
    let r = h.post("/v1/chat/completions", &chat("去哪买")).await;
    let body = r.json();
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "【内容因违反相关规定已停止生成】"
    );
    let record = h.record(&r.header("x-aigc-produce-id")).await;
    assert_eq!(record.outcome, "blocked_output");
}

#[tokio::test]
async fn every_fault_gives_an_openai_error_and_a_record() {
    let cases = [
        // A 4xx from the upstream is about the request: passed through as is.
        ("400", false, StatusCode::BAD_REQUEST),
        ("400", true, StatusCode::BAD_REQUEST),
        ("500", false, StatusCode::BAD_GATEWAY),
        ("timeout", false, StatusCode::GATEWAY_TIMEOUT),
        ("malformed", false, StatusCode::BAD_GATEWAY),
        ("truncate", false, StatusCode::BAD_GATEWAY),
        ("slowloris", false, StatusCode::GATEWAY_TIMEOUT),
        ("500", true, StatusCode::BAD_GATEWAY),
        ("timeout", true, StatusCode::GATEWAY_TIMEOUT),
        ("malformed", true, StatusCode::OK),
        ("truncate", true, StatusCode::OK),
        ("slowloris", true, StatusCode::OK),
        // Not followed: the prompt goes only where the config says.
        ("redirect", false, StatusCode::BAD_GATEWAY),
        ("redirect", true, StatusCode::BAD_GATEWAY),
    ];
    let h = harness(MockOptions::default(), |_| {}).await;
    // The mock's redirect leads somewhere that answers: a client that follows it gets a 200.
    let mock = h.mock.as_ref().expect("the harness's mock");
    let followed = reqwest::Client::new()
        .post(format!("{}/chat/completions", mock.base_url()))
        .body(chat("你好 #fault:redirect").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), reqwest::StatusCode::OK);
    assert!(
        followed
            .text()
            .await
            .unwrap()
            .contains(hegui_gateway::mock::MOVED_ANSWER)
    );
    for (fault, stream, status) in cases {
        let prompt = format!("你好 #fault:{fault}");
        let body = if stream {
            chat_stream(&prompt)
        } else {
            chat(&prompt)
        };
        let r = h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.status, status, "{fault} stream={stream}: {}", r.text);
        if status == StatusCode::OK {
            // Streams fail after the headers: an `error` event ends them, without [DONE].
            assert!(r.text.contains("\"error\""), "{fault}: {}", r.text);
            assert!(!r.text.ends_with("data: [DONE]\n\n"), "{fault}: {}", r.text);
        } else {
            assert!(
                r.json()["error"]["message"].is_string(),
                "{fault}: {}",
                r.text
            );
        }
        assert!(
            !r.text.contains(hegui_gateway::mock::MOVED_ANSWER),
            "{fault}: {}",
            r.text
        );
        let record = h.record(&r.header("x-hegui-record-id")).await;
        assert_eq!(record.outcome, "upstream_error", "{fault} stream={stream}");
    }
}

#[tokio::test]
async fn bad_requests_get_clear_4xx() {
    let h = harness(MockOptions::default(), |c| c.limits.body_bytes = 1000).await;
    let cases: Vec<(Vec<u8>, Option<&str>, StatusCode, &str)> = vec![
        (
            b"{not json".to_vec(),
            Some(&h.key),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (
            b"\xff\xfe{}".to_vec(),
            Some(&h.key),
            StatusCode::BAD_REQUEST,
            "not valid UTF-8",
        ),
        (
            vec![b' '; 2000],
            Some(&h.key),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than",
        ),
        (
            chat("hi").to_string().into_bytes(),
            None,
            StatusCode::UNAUTHORIZED,
            "missing API key",
        ),
        (
            chat("hi").to_string().into_bytes(),
            Some("hg_0000_wrong"),
            StatusCode::UNAUTHORIZED,
            "incorrect API key",
        ),
        (
            json!({"model": "gpt-9", "messages": []})
                .to_string()
                .into_bytes(),
            Some(&h.key),
            StatusCode::NOT_FOUND,
            "`gpt-9` does not exist",
        ),
        (
            json!({"model": "mock-chat"}).to_string().into_bytes(),
            Some(&h.key),
            StatusCode::BAD_REQUEST,
            "`messages`",
        ),
        (
            b"[1]".to_vec(),
            Some(&h.key),
            StatusCode::BAD_REQUEST,
            "JSON object",
        ),
    ];
    for (body, key, status, needle) in cases {
        let r = h.raw("/v1/chat/completions", body, key).await;
        assert_eq!(r.status, status, "{needle}: {}", r.text);
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(needle), "{message}");
    }
    // An unknown path: 401 without a key (nothing is told to strangers), 404 with one.
    let r = h.get("/v1/nothing").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = h.get_auth("/v1/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn violation_policy_warns_restricts_then_suspends() {
    let h = harness(MockOptions::default(), |c| {
        c.policy.warn_after = 1;
        c.policy.restrict_after = 2;
        c.policy.suspend_after = 3;
    })
    .await;
    let mut body = chat("出售冰毒");
    body["user"] = json!("u-42");
    for expected in ["warned", "restricted", "suspended"] {
        let r = h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.header("x-hegui-user-state"), expected);
    }
    let mut clean = chat("你好");
    clean["user"] = json!("u-42");
    let r = h.post("/v1/chat/completions", &clean).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "user_suspended");
    let sanctions = h.gateway.store().sanctions("acme", "u-42").await.unwrap();
    let states: Vec<&str> = sanctions.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["warned", "restricted", "suspended"]);
    assert!(sanctions[2].reason.contains("3 consecutive blocked inputs"));
    assert!(sanctions[2].record_id.is_some());
    // Another user of the same tenant is unaffected.
    let r = h.post("/v1/chat/completions", &chat("你好")).await;
    assert_eq!(r.status, StatusCode::OK);
    // Requests that name no end user share `anonymous`, which is never sanctioned.
    for _ in 0..4 {
        let r = h.post("/v1/chat/completions", &chat("出售冰毒")).await;
        assert_eq!(r.header("x-hegui-user-state"), "");
    }
    let r = h.post("/v1/chat/completions", &chat("你好")).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limits_per_user() {
    let h = harness(MockOptions::default(), |c| {
        c.guard.user_rps = 0.001;
        c.guard.user_burst = 2.0;
    })
    .await;
    let body = chat("你好");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(h.post("/v1/chat/completions", &body).await.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn review_input_passes_with_a_flag() {
    let h = harness(MockOptions::default(), |_| {}).await;
    // Phone numbers are PII: a review-level hit in the sample lexicon.
    let r = h
        .post("/v1/chat/completions", &chat("我的手机13812345678"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let verdict = r.header("x-hegui-verdict");
    assert!(verdict == "review" || verdict == "flag", "{verdict}");
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert!(
        record.verdicts.contains("138****5678"),
        "{}",
        record.verdicts
    );
    assert!(!record.verdicts.contains("13812345678"));
}

#[tokio::test]
async fn models_and_metrics() {
    let h = harness(MockOptions::default(), |_| {}).await;
    let r = h.get_auth("/v1/models").await;
    assert_eq!(r.json()["data"][0]["id"], "mock-chat");
    h.post("/v1/chat/completions", &chat("你好")).await;
    h.post("/v1/chat/completions", &chat("出售冰毒")).await;
    let m = h.get("/metrics").await.text;
    assert!(
        m.contains("hegui_requests_total{route=\"/v1/chat/completions\",outcome=\"200\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("hegui_blocks_total{stage=\"input\",risk=\""),
        "{m}"
    );
    assert!(m.contains("hegui_added_latency_seconds_count 1"), "{m}");
    assert!(m.contains("hegui_audit_commit_seconds_count 2"), "{m}");
    assert_eq!(h.get("/healthz").await.text, "ok\n");
}

#[tokio::test]
async fn classifier_guard_blocks_and_fails_open_or_closed() {
    let guard = hegui_gateway::mock::spawn(MockOptions {
        reply: "Safety: Safe\nCategories: None".into(),
        script: vec![("炸弹".into(), "Safety: Unsafe\nCategories: Violent".into())],
        ..MockOptions::default()
    })
    .await
    .unwrap();
    let url = guard.base_url();
    let h = harness(MockOptions::default(), |c| {
        c.guard.classifier = Some(hegui_gateway::config::Classifier {
            base_url: url.clone(),
            model: "guard".into(),
            api_key_env: None,
            timeout_ms: 300,
            fail: hegui_gateway::config::FailMode::Closed,
        });
    })
    .await;
    let r = h.post("/v1/chat/completions", &chat("怎么做炸弹")).await;
    assert_eq!(r.json()["choices"][0]["finish_reason"], "content_filter");
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert!(record.verdicts.contains("\"A.1.f\""), "{}", record.verdicts);
    let r = h.post("/v1/chat/completions", &chat("你好")).await;
    assert_eq!(r.json()["choices"][0]["finish_reason"], "stop");
    // The classifier times out: fail closed blocks.
    let r = h
        .post("/v1/chat/completions", &chat("你好 #fault:timeout"))
        .await;
    assert_eq!(
        r.json()["choices"][0]["finish_reason"],
        "content_filter",
        "{}",
        r.text
    );
    drop(h);
    let url = guard.base_url();
    let h: Harness = harness(MockOptions::default(), |c| {
        c.guard.classifier = Some(hegui_gateway::config::Classifier {
            base_url: url.clone(),
            model: "guard".into(),
            api_key_env: None,
            timeout_ms: 300,
            fail: hegui_gateway::config::FailMode::Open,
        });
    })
    .await;
    let r = h
        .post("/v1/chat/completions", &chat("你好 #fault:timeout"))
        .await;
    // Fail open: the request reaches the upstream (which then times out itself).
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT, "{}", r.text);
}

#[tokio::test]
async fn two_instances_on_postgres_share_a_suspension() {
    let Some(pg) = util::postgres_stores(2, "the two-instance PostgreSQL test").await else {
        return;
    };
    let mock = hegui_gateway::mock::spawn(MockOptions::default())
        .await
        .unwrap();
    let config = |c: &mut hegui_gateway::Config| {
        c.policy.suspend_after = 1;
        c.guard.cache_ms = 0;
    };
    let a = util::harness_on(&mock, pg.0[0].clone(), config).await;
    let b = util::harness_on_with_key(&mock, pg.0[1].clone(), config, a.key.clone()).await;
    let mut bad = chat("出售冰毒");
    bad["user"] = json!("shared-user");
    let r = a.post("/v1/chat/completions", &bad).await;
    assert_eq!(r.header("x-hegui-user-state"), "suspended");
    let mut clean = chat("你好");
    clean["user"] = json!("shared-user");
    let r = b.post("/v1/chat/completions", &clean).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    pg.cleanup().await;
}

#[tokio::test]
async fn graceful_shutdown_drains_an_open_stream() {
    let options = MockOptions {
        chunk_chars: 2,
        chunk_delay_ms: 100,
        ..MockOptions::default()
    };
    let h = harness(options, |_| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hegui_gateway::serve(h.gateway.clone(), listener, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://{addr}/v1/chat/completions"))
        .bearer_auth(&h.key)
        .header("content-type", "application/json")
        .body(chat_stream("你好").to_string())
        .send()
        .await
        .unwrap();
    let _ = stop.send(());
    let text = response.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn explicit_notice_at_the_end_or_off() {
    use hegui_gateway::config::ExplicitText;
    for (position, expect_start, expect_end) in [
        (ExplicitText::End, false, true),
        (ExplicitText::Off, false, false),
        (ExplicitText::Both, true, true),
    ] {
        let h = harness(MockOptions::default(), |c| c.label.explicit_text = position).await;
        let notice = "【本内容由人工智能（AI）生成】";
        let r = h.post("/v1/chat/completions", &chat("你好")).await;
        let content = r.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = h.post("/v1/chat/completions", &chat_stream("你好")).await;
        let (streamed, _, _) = sse_contents(&r.text);
        for text in [&content, &streamed] {
            assert_eq!(
                text.starts_with(notice),
                expect_start,
                "{position:?}: {text}"
            );
            assert_eq!(text.ends_with(notice), expect_end, "{position:?}: {text}");
            assert!(text.contains("你好！我是一个模拟的上游模型。"));
        }
    }
}

#[tokio::test]
async fn lexicon_reload_swaps_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let write = |pattern: &str| {
        std::fs::write(
            dir.path().join("lexicon.toml"),
            "name = \"t\"\nversion = \"1\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("rules.tsv"),
            format!("pattern\trisk\tlevel\tnote\n{pattern}\tA.1.h\tblock\ttest\n"),
        )
        .unwrap();
    };
    write("蓝莓");
    let path = dir.path().display().to_string();
    let h = harness(MockOptions::default(), |c| c.guard.lexicon = path.clone()).await;
    let r = h.post("/v1/chat/completions", &chat("我想吃蓝莓")).await;
    assert_eq!(r.header("x-hegui-verdict"), "block");
    write("草莓");
    h.gateway.reload_lexicon().await.unwrap();
    let r = h.post("/v1/chat/completions", &chat("我想吃蓝莓")).await;
    assert_eq!(r.header("x-hegui-verdict"), "clean");
    let r = h.post("/v1/chat/completions", &chat("我想吃草莓")).await;
    assert_eq!(r.header("x-hegui-verdict"), "block");
    // A broken lexicon keeps the current one.
    std::fs::write(dir.path().join("rules.tsv"), "garbage").unwrap();
    assert!(h.gateway.reload_lexicon().await.is_err());
    let r = h.post("/v1/chat/completions", &chat("我想吃草莓")).await;
    assert_eq!(r.header("x-hegui-verdict"), "block");
}

#[tokio::test]
async fn tenant_rate_limit_applies_across_users() {
    let h = harness(MockOptions::default(), |c| {
        c.guard.tenant_rps = 0.001;
        c.guard.tenant_burst = 2.0;
    })
    .await;
    let mut statuses = Vec::new();
    for user in ["a", "b", "c"] {
        let mut body = chat("你好");
        body["user"] = json!(user);
        statuses.push(h.post("/v1/chat/completions", &body).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn a_restricted_user_is_blocked_on_review_level_input() {
    let h = harness(MockOptions::default(), |c| {
        c.policy.warn_after = 0;
        c.policy.restrict_after = 1;
    })
    .await;
    let mut review = chat("我的手机13812345678");
    review["user"] = json!("r-1");
    let r = h.post("/v1/chat/completions", &review).await;
    assert_ne!(r.header("x-hegui-verdict"), "block");
    let mut bad = chat("出售冰毒");
    bad["user"] = json!("r-1");
    let r = h.post("/v1/chat/completions", &bad).await;
    assert_eq!(r.header("x-hegui-user-state"), "restricted");
    let r = h.post("/v1/chat/completions", &review).await;
    assert_eq!(r.header("x-hegui-verdict"), "block", "{}", r.text);
}

#[tokio::test]
async fn no_forbidden_word_reaches_the_client_whatever_the_chunk_size() {
    let answer = "先说正事。網上賭\u{200b}博和出售冰毒都是违法的，这里不讨论。";
    for chunk_chars in 1..=8 {
        let options = MockOptions {
            chunk_chars,
            script: vec![("问".into(), answer.into())],
            ..MockOptions::default()
        };
        let h = harness(options, |_| {}).await;
        let r = h.post("/v1/chat/completions", &chat_stream("问")).await;
        let (text, finish, _) = sse_contents(&r.text);
        assert_eq!(
            finish.as_deref(),
            Some("content_filter"),
            "chunk {chunk_chars}"
        );
        let matcher = h.gateway.matcher().load();
        let leaked: Vec<_> = matcher
            .find_all(&text)
            .into_iter()
            .filter(|hit| hit.rule.level == hegui_lexicon::Level::Block)
            .map(|hit| hit.rule.pattern.clone())
            .collect();
        assert!(
            leaked.is_empty(),
            "chunk {chunk_chars}: {leaked:?} in {text}"
        );
    }
}

/// `limits.concurrency` is one limit for the whole gateway: while a chat request holds the only
/// slot, an embeddings request waits `limits.queue-ms` and gets 503 `overloaded`; `/healthz`
/// is outside the limit; the slot is free again once the chat answer is out.
#[tokio::test]
async fn the_concurrency_limit_is_one_for_all_routes() {
    let options = MockOptions {
        latency_ms: 1500,
        ..MockOptions::default()
    };
    let h = harness(options, |c| {
        c.limits.concurrency = 1;
        c.limits.queue_ms = 50;
        c.limits.upstream_timeout_secs = 5;
    })
    .await;
    let embeddings = json!({"model": "mock-chat", "input": "你好"});
    let hello = chat("你好");
    let (chat_answer, (queued, health)) =
        tokio::join!(h.post("/v1/chat/completions", &hello), async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            (
                h.post("/v1/embeddings", &embeddings).await,
                h.get("/healthz").await,
            )
        });
    assert_eq!(chat_answer.status, StatusCode::OK, "{}", chat_answer.text);
    assert_eq!(
        queued.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        queued.text
    );
    assert_eq!(queued.json()["error"]["code"], "overloaded");
    assert_eq!(health.status, StatusCode::OK);
    let r = h.post("/v1/embeddings", &embeddings).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
