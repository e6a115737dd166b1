//! The public pages and the complaint entrance: served without a key, in Chinese, from the
//! tenant's `[tenants.public]`; each complaint gets a ticket and its deadline, a row and an
//! audit record; bad submissions get a clear 4xx.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hegui_gateway::config::TenantConfig;
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Agreement, demo};
use serde_json::json;

use crate::util::{Answer, Harness, harness};

async fn public_harness() -> Harness {
    harness(MockOptions::default(), |c| {
        let mut pages = demo::public_pages();
        pages.algorithm_filing = "网信算备110105000000000000001号".into();
        pages.agreements.push(Agreement {
            version: "2099-1".into(),
            effective: chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap(),
            title: "未来的协议".into(),
            text: "尚未施行。".into(),
        });
        c.upstreams[0].filed = true;
        c.upstreams[0].filing_number = "Beijing-Demo-202601010001".into();
        c.tenants.push(TenantConfig {
            id: "acme".into(),
            name: "ACME".into(),
            api_key_env: None,
            public: Some(pages),
        });
    })
    .await
}

async fn submit(h: &Harness, content_type: &str, body: impl Into<Body>) -> Answer {
    h.send(
        Request::post("/public/acme/complaints")
            .header("content-type", content_type)
            .body(body.into())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_pages_say_what_the_regulations_ask() {
    let h = public_harness().await;
    let index = h.get("/public/acme").await;
    assert_eq!(index.status, StatusCode::OK, "{}", index.text);
    for expected in [
        "hegui 演示服务",
        "适用人群、场合和用途",
        "服务的局限",
        "网信算备110105000000000000001号",
        "mock-chat",
        "Beijing-Demo-202601010001",
        "生成内容的标识",
        "/public/acme/agreement/demo-1",
        "15 个工作日",
        "/public/acme/complaints",
    ] {
        assert!(
            index.text.contains(expected),
            "{expected} missing:\n{}",
            index.text
        );
    }
    // The version in force is demo-1; the future one is listed and readable but not current.
    let current = h.get("/public/acme/agreement").await;
    assert_eq!(current.status, StatusCode::OK);
    assert!(current.text.contains("演示用户服务协议") && current.text.contains("demo-1"));
    let future = h.get("/public/acme/agreement/2099-1").await;
    assert_eq!(future.status, StatusCode::OK);
    assert!(future.text.contains("历史版本") || future.text.contains("现行版本"));
    let form = h.get("/public/acme/complaints").await;
    assert!(form.text.contains("<form method=\"post\""), "{}", form.text);
    // (path, status)
    for (path, status) in [
        ("/public/nobody", StatusCode::NOT_FOUND),
        ("/public/acme/agreement/none", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(h.get(path).await.status, status, "{path}");
    }
}

#[tokio::test]
async fn a_complaint_gets_a_ticket_a_deadline_and_a_record() {
    let h = public_harness().await;
    let body = json!({"kind": "report", "content": "回答里有违法内容",
                      "record": "01a2084eac25813e1e2830481779f87b", "contact": "138 0000 0000"});
    let r = submit(&h, "application/json", body.to_string()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let received = r.json();
    let ticket = received["ticket"].as_str().unwrap();
    assert!(ticket.starts_with('C'));
    assert_eq!(received["status"], "new");
    let deadline =
        chrono::NaiveDate::parse_from_str(received["deadline"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert!(deadline > chrono::Utc::now().date_naive());

    let stored = h
        .gateway
        .store()
        .complaint("acme", ticket)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.tenant_id, "acme");
    assert_eq!(stored.channel, "api");
    assert_eq!(
        stored.deadline_ms,
        received["deadline_ms"].as_i64().unwrap()
    );
    assert_eq!(
        (
            stored.kind.as_str(),
            stored.content.as_str(),
            stored.record_id.as_str(),
            stored.contact.as_str()
        ),
        (
            "report",
            "回答里有违法内容",
            "01a2084eac25813e1e2830481779f87b",
            "138 0000 0000"
        )
    );

    let record = h.record(received["record"].as_str().unwrap()).await;
    assert_eq!(record.kind, "complaint");
    assert_eq!(record.tenant, "acme");
    assert!(
        record
            .response_text
            .as_deref()
            .unwrap_or("")
            .contains(ticket)
    );

    // The form answers with a page that shows the ticket.
    let r = submit(
        &h,
        "application/x-www-form-urlencoded",
        "kind=complaint&content=%E6%8A%95%E8%AF%89&record=&contact=",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(
        r.text.contains("受理编号") && r.text.contains("<code>C"),
        "{}",
        r.text
    );
    assert_eq!(
        h.gateway
            .store()
            .complaints("acme", Default::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn bad_complaints_get_a_clear_4xx() {
    let h = public_harness().await;
    let long = "长".repeat(5_001);
    // (name, content type, body, status, code)
    let cases: Vec<(&str, &str, String, StatusCode, &str)> = vec![
        (
            "no content",
            "application/json",
            json!({"content": "  "}).to_string(),
            StatusCode::BAD_REQUEST,
            "missing_content",
        ),
        (
            "too long",
            "application/json",
            json!({"content": long}).to_string(),
            StatusCode::BAD_REQUEST,
            "content_too_long",
        ),
        (
            "unknown field",
            "application/json",
            json!({"content": "x", "name": "y"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "unknown kind",
            "application/json",
            json!({"content": "x", "kind": "spam"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "not JSON",
            "application/json",
            "{".into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "a control character in contact",
            "application/json",
            json!({"content": "x", "contact": "a\nb"}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "a form without content",
            "application/x-www-form-urlencoded",
            "kind=complaint".into(),
            StatusCode::BAD_REQUEST,
            "invalid_form",
        ),
        (
            "over 64 KiB",
            "application/json",
            "x".repeat(70_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
        ),
    ];
    for (name, content_type, body, status, code) in cases {
        let r = submit(&h, content_type, body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        if content_type == "application/json" {
            assert_eq!(r.json()["error"]["code"], code, "{name}: {}", r.text);
        } else {
            // A person's form: the form again, with the error in the page.
            assert!(r.header("content-type").starts_with("text/html"), "{name}");
            assert!(
                r.text.contains("id=\"error\"")
                    && r.text.contains(code)
                    && r.text.contains("<form"),
                "{name}: {}",
                r.text
            );
        }
    }
    assert!(
        h.gateway
            .store()
            .complaints("acme", Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}
