//! Agreement acceptance as a guard: with `require-agreement`, an end user who has not accepted
//! the version in force is refused (403, with the agreement's URL, on the record) until the
//! application records the acceptance; a new version blocks again until it is accepted.

use axum::http::StatusCode;
use hegui_gateway::config::{Config, TenantConfig};
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Agreement, demo};
use serde_json::json;

use crate::util::{Answer, Harness, harness, harness_on_with_key};

fn require_agreements(c: &mut Config, versions: &[(&str, (i32, u32, u32))]) {
    let mut pages = demo::public_pages();
    pages.require_agreement = true;
    pages.agreements = versions
        .iter()
        .map(|(version, (y, m, d))| Agreement {
            version: (*version).into(),
            effective: chrono::NaiveDate::from_ymd_opt(*y, *m, *d).unwrap(),
            title: "用户服务协议".into(),
            text: "协议正文。".into(),
        })
        .collect();
    c.tenants.push(TenantConfig {
        id: "acme".into(),
        name: "ACME".into(),
        api_key_env: None,
        public: Some(pages),
    });
}

async fn chat(h: &Harness, user: Option<&str>) -> Answer {
    let mut body = json!({"model": "mock-chat", "messages": [{"role": "user", "content": "你好"}]});
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    h.post("/v1/chat/completions", &body).await
}

async fn accept(h: &Harness, user: &str, version: &str) -> Answer {
    h.post(
        "/v1/hegui/agreements/accept",
        &json!({"user": user, "version": version}),
    )
    .await
}

#[tokio::test]
async fn a_user_is_refused_until_the_version_in_force_is_accepted() {
    let h = harness(MockOptions::default(), |c| {
        require_agreements(c, &[("v1", (2026, 1, 1))]);
    })
    .await;
    let mut first = None;
    for user in [Some("alice"), None] {
        let r = chat(&h, user).await;
        first.get_or_insert_with(|| r.header("x-hegui-record-id"));
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user:?}: {}", r.text);
        let error = &r.json()["error"];
        assert_eq!(error["code"], "agreement_not_accepted");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("/public/acme/agreement/v1"),
            "{}",
            r.text
        );
    }
    // Listing the models uses nothing of the service: not refused.
    assert_eq!(h.get_auth("/v1/models").await.status, StatusCode::OK);
    // The first refusal of an end user is on the record (then at most one a second).
    let record = h.record(&first.unwrap()).await;
    assert_eq!(
        (record.outcome.as_str(), record.end_user.as_str()),
        ("refused", "alice")
    );

    // The application records the acceptance: the same spelling rules as a chat's `user`.
    let r = accept(&h, "ａｌｉｃｅ ", "v1").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let accepted = r.json();
    assert_eq!(accepted["user"], "alice");
    let record = h.record(accepted["record"].as_str().unwrap()).await;
    assert_eq!(
        (record.kind.as_str(), record.end_user.as_str()),
        ("agreement", "alice")
    );
    assert_eq!(chat(&h, Some("alice")).await.status, StatusCode::OK);
    // Accepting again keeps the first time.
    let again = accept(&h, "alice", "v1").await.json();
    assert_eq!(again["accepted_ms"], accepted["accepted_ms"]);
    // Another user is still refused.
    assert_eq!(chat(&h, Some("bob")).await.status, StatusCode::FORBIDDEN);

    // A new version in force (same store, a new gateway with the new config): refused again
    // until it is accepted.
    let mock = h.mock.as_ref().unwrap();
    let bumped = harness_on_with_key(
        mock,
        h.gateway.store().clone(),
        |c| require_agreements(c, &[("v1", (2026, 1, 1)), ("v2", (2026, 6, 1))]),
        h.key.clone(),
    )
    .await;
    let r = chat(&bumped, Some("alice")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("/public/acme/agreement/v2"), "{}", r.text);
    assert_eq!(accept(&bumped, "alice", "v2").await.status, StatusCode::OK);
    assert_eq!(chat(&bumped, Some("alice")).await.status, StatusCode::OK);
    // A version not yet in force does not count.
    let future = harness_on_with_key(
        mock,
        h.gateway.store().clone(),
        |c| require_agreements(c, &[("v1", (2026, 1, 1)), ("v3", (2099, 1, 1))]),
        h.key.clone(),
    )
    .await;
    assert_eq!(chat(&future, Some("alice")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_acceptances_get_a_clear_4xx() {
    let h = harness(MockOptions::default(), |c| {
        require_agreements(c, &[("v1", (2026, 1, 1))]);
    })
    .await;
    // (name, body, status, code)
    let cases = [
        (
            "unknown version",
            json!({"user": "alice", "version": "v9"}),
            StatusCode::NOT_FOUND,
            "unknown_version",
        ),
        (
            "no user",
            json!({"version": "v1"}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "an empty user",
            json!({"user": " ", "version": "v1"}),
            StatusCode::BAD_REQUEST,
            "invalid_user",
        ),
        (
            "a newline in user",
            json!({"user": "a\nb", "version": "v1"}),
            StatusCode::BAD_REQUEST,
            "invalid_user",
        ),
        (
            "an unknown field",
            json!({"user": "a", "version": "v1", "at": 1}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (name, body, status, code) in cases {
        let r = h.post("/v1/hegui/agreements/accept", &body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        assert_eq!(r.json()["error"]["code"], code, "{name}: {}", r.text);
    }
    // Without a key: 401, like every keyed route.
    let r = h
        .raw("/v1/hegui/agreements/accept", b"{}".to_vec(), None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
