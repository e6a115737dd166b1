//! The admin API's guarantees on every route: both roles (an auditor cannot act), tenant
//! isolation (one tenant's operator never sees another's users, tickets or records), bad input
//! answered with a clear 4xx, and the OpenAPI description that lists every route.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hegui_gateway::{Access, Gateway};
use serde_json::{Value, json};

use crate::admin::admin_harness;

/// Every route of the admin API, from its OpenAPI description, with ids of tenant `acme`:
/// an auditor's changes are refused (403), and tenant `beta`'s operator gets nothing of
/// `acme`'s (404 on detail routes, lists without `acme`'s rows), and nothing answers 5xx.
#[tokio::test]
async fn roles_and_tenants_hold_on_every_route() {
    let a = admin_harness(None).await;
    let record = a.chat("alice", "你好").await;
    let ticket = a.complain("acme", &record).await;
    a.post(
        &a.operator,
        "/admin/v1/users/alice/sanctions",
        json!({"action": "warn", "reason": "提醒"}),
    )
    .await;
    a.post(
        &a.operator,
        "/admin/v1/takedowns",
        json!({"record": record, "reason": "违法"}),
    )
    .await;
    let pi = a
        .post(
            &a.operator,
            "/admin/v1/pi-requests",
            json!({"user": "alice", "kind": "access"}),
        )
        .await
        .json()["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = a.get(&a.operator, "/admin/v1/reports").await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secrets = [
        ticket.as_str(),
        record.as_str(),
        pi.as_str(),
        report.as_str(),
    ];
    let body = json!({"action": "note", "text": "x", "reason": "x", "record": record, "result": "x",
                      "reference": "x", "user": "alice", "kind": "access", "minor": true});
    let routes: Vec<(&str, String)> = Gateway::route_list()
        .into_iter()
        .filter(|(_, _, access)| *access == Access::AdminToken)
        .map(|(m, p, _)| (m, p))
        .collect();
    assert!(routes.len() >= 18, "{routes:?}");
    for (method, path) in routes {
        let path = path
            .replace("{ticket}", &ticket)
            .replace("{user}", "alice")
            .replace(
                "{id}",
                if path.contains("pi-requests") {
                    &pi
                } else {
                    &report
                },
            );
        let method: Method = method.parse().unwrap();
        let acting = method != Method::GET;
        let as_auditor = a
            .call(&a.auditor, method.clone(), &path, Some(body.clone()))
            .await;
        if acting {
            assert_eq!(
                as_auditor.status,
                StatusCode::FORBIDDEN,
                "{method} {path}: {}",
                as_auditor.text
            );
            assert_eq!(as_auditor.json()["error"]["code"], "operator_required");
        } else {
            assert_eq!(
                as_auditor.status,
                StatusCode::OK,
                "{method} {path}: {}",
                as_auditor.text
            );
        }
        let other = a
            .call(&a.other, method.clone(), &path, Some(body.clone()))
            .await;
        assert!(
            !other.status.is_server_error(),
            "{method} {path}: {}",
            other.text
        );
        if !other.status.is_success() {
            // Refused: acme's ticket, record or row is not found for beta (the message may
            // echo the id beta sent, nothing more).
            assert!(
                matches!(
                    other.status,
                    StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
                ),
                "{method} {path}: {}",
                other.text
            );
            continue;
        }
        let detail = ["/complaints/C", "/reports/R", "/pi-requests/P"];
        assert!(
            !(method == Method::GET && detail.iter().any(|d| path.contains(d))),
            "{method} {path} answered beta's operator: {}",
            other.text
        );
        // What beta is shown holds none of acme's tickets, records or rows. (A user id is not
        // secret in itself: beta may have its own `alice`.)
        for secret in secrets {
            assert!(
                !other.text.contains(secret),
                "{method} {path} as beta's operator shows acme's `{secret}`: {}",
                other.text
            );
        }
    }
}

/// (name, method, path, body, status, error code; empty: any).
type Case = (
    &'static str,
    Method,
    String,
    Option<Value>,
    StatusCode,
    &'static str,
);

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let a = admin_harness(None).await;
    let ticket = a.complain("acme", "").await;
    let steps = format!("/admin/v1/complaints/{ticket}/steps");
    let cases: Vec<Case> = vec![
        (
            "unknown ticket",
            Method::GET,
            "/admin/v1/complaints/Cnope".into(),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "unknown ticket step",
            Method::POST,
            "/admin/v1/complaints/Cnope/steps".into(),
            Some(json!({"action": "start"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "wrong transition",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "close", "text": "x"})),
            StatusCode::OK,
            "",
        ),
        (
            "after close",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "start"})),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "unknown action",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "delete"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "unknown field",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "note", "text": "x", "x": 1})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "note without text",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "note"})),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "control character",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "note", "text": "a\u{1b}[31m"})),
            StatusCode::BAD_REQUEST,
            "invalid_field",
        ),
        (
            "oversized text",
            Method::POST,
            steps.clone(),
            Some(json!({"action": "note", "text": "长".repeat(5_001)})),
            StatusCode::BAD_REQUEST,
            "field_too_long",
        ),
        (
            "sanction without reason",
            Method::POST,
            "/admin/v1/users/bob/sanctions".into(),
            Some(json!({"action": "suspend"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "unknown sanction",
            Method::POST,
            "/admin/v1/users/bob/sanctions".into(),
            Some(json!({"action": "ban", "reason": "x"})),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "sanction for a record of nobody",
            Method::POST,
            "/admin/v1/users/bob/sanctions".into(),
            Some(json!({"action": "warn", "reason": "x", "record": "nope"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "invisible user id",
            Method::GET,
            "/admin/v1/users/b%E2%80%8Bob".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_user",
        ),
        (
            "takedown of nothing",
            Method::POST,
            "/admin/v1/takedowns".into(),
            Some(json!({"reason": "x"})),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            "bad query",
            Method::GET,
            "/admin/v1/complaints?status=lost".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "unknown query",
            Method::GET,
            "/admin/v1/complaints?sort=x".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "bad time",
            Method::GET,
            "/admin/v1/sanctions?from=yesterday".into(),
            None,
            StatusCode::BAD_REQUEST,
            "invalid_time",
        ),
        (
            "unknown report",
            Method::POST,
            "/admin/v1/reports/Rnope/submit".into(),
            Some(json!({"reference": "x"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "unknown pi request",
            Method::POST,
            "/admin/v1/pi-requests/Pnope/complete".into(),
            Some(json!({"result": "x"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "bad refutation time",
            Method::POST,
            "/admin/v1/refutations".into(),
            Some(
                json!({"claim": "x", "refutation": "y", "published_where": "z", "published_at": "soon"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_time",
        ),
    ];
    let mut messages = Vec::new();
    for (name, method, path, body, status, code) in cases {
        let r = a.call(&a.operator, method, &path, body).await;
        assert_eq!(r.status, status, "{name}: {}", r.text);
        if !code.is_empty() {
            assert_eq!(r.json()["error"]["code"], code, "{name}: {}", r.text);
            let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
            messages.push(format!(
                "{name}: {code}: {}",
                message.replace(&ticket, "TICKET")
            ));
        }
    }
    // What a person reads: each message says what is wrong and where.
    insta::assert_snapshot!(messages.join("\n"));
    // Not JSON, and a body over 64 KiB.
    let raw = |body: Vec<u8>| {
        Request::post(&steps)
            .header("authorization", format!("Bearer {}", a.operator))
            .body(Body::from(body))
            .unwrap()
    };
    let r = a.h.send(raw(b"{not json".to_vec())).await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_body"))
    );
    let r = a.h.send(raw(vec![b' '; 70_000])).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
}

#[tokio::test]
async fn the_openapi_description_lists_every_route() {
    let a = admin_harness(None).await;
    let r = a.h.get("/admin/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let spec = r.json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/admin/v1/complaints/{ticket}/steps",
        "/admin/v1/users/{user}/sanctions",
        "/admin/v1/takedowns",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(spec["components"]["securitySchemes"]["admin_token"].is_object());
    // The API's surface, as a contract: a route added, removed or renamed shows here.
    let mut surface: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "delete"].contains(&m.as_str()))
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    surface.sort();
    insta::assert_snapshot!(surface.join("\n"));
}
