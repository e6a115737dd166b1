//! One person is one end-user id: the spellings of a suspended id that a client could send to
//! slip past the sanction (full width, white space, invisible characters, a trailing NUL, the
//! header instead of the field, another case when ids are case-insensitive) are the same user
//! or refused; a real id spelled `anonymous` is sanctioned like any other.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hegui_gateway::mock::MockOptions;
use hegui_store::users::UserState;
use serde_json::{Value, json};

use crate::util::{Answer, Harness, harness};

enum Spelling {
    Field(Value),
    Header(&'static str),
}

async fn send(h: &Harness, spelling: &Spelling) -> Answer {
    let mut body = json!({"model": "mock-chat", "messages": [{"role": "user", "content": "你好"}]});
    let mut request = Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", h.key));
    match spelling {
        Spelling::Field(user) => body["user"] = user.clone(),
        Spelling::Header(user) => request = request.header("x-hegui-user", *user),
    }
    h.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

async fn suspend(h: &Harness, user: &str) {
    h.gateway
        .store()
        .sanction("acme", user, UserState::Suspended, "test", None, "test")
        .await
        .unwrap();
}

/// `(spelling, the status with case-sensitive ids, with case-insensitive ids)`.
fn spellings() -> Vec<(Spelling, StatusCode, StatusCode)> {
    use Spelling::{Field, Header};
    const FORBIDDEN: StatusCode = StatusCode::FORBIDDEN;
    const BAD: StatusCode = StatusCode::BAD_REQUEST;
    const OK: StatusCode = StatusCode::OK;
    vec![
        (Field(json!("mallory")), FORBIDDEN, FORBIDDEN),
        (Header("mallory"), FORBIDDEN, FORBIDDEN),
        (Field(json!("ｍａｌｌｏｒｙ")), FORBIDDEN, FORBIDDEN),
        (Field(json!(" mallory\u{3000}")), FORBIDDEN, FORBIDDEN),
        (Field(json!("mallory\u{0}")), BAD, BAD),
        (Field(json!("mal\u{200b}lory")), BAD, BAD),
        (Field(json!("mal\u{ad}lory")), BAD, BAD),
        (Field(json!("\u{feff}mallory")), BAD, BAD),
        (Field(json!(["mallory"])), BAD, BAD),
        (Field(json!("MALLORY")), OK, FORBIDDEN),
        (Field(json!("Mallory ")), OK, FORBIDDEN),
        (Header("MALLORY"), OK, FORBIDDEN),
        (Field(json!("mallory2")), OK, OK),
    ]
}

#[tokio::test]
async fn a_suspended_user_has_no_other_spelling() {
    for case_insensitive in [false, true] {
        let h = harness(MockOptions::default(), |c| {
            c.guard.case_insensitive_users = case_insensitive;
        })
        .await;
        suspend(&h, "mallory").await;
        for (spelling, sensitive, insensitive) in spellings() {
            let expected = if case_insensitive {
                insensitive
            } else {
                sensitive
            };
            let r = send(&h, &spelling).await;
            let shown = match &spelling {
                Spelling::Field(v) => format!("user {v}"),
                Spelling::Header(v) => format!("header {v:?}"),
            };
            assert_eq!(
                r.status, expected,
                "{shown} (case-insensitive ids: {case_insensitive}): {}",
                r.text
            );
            let code = r.json()["error"]["code"].as_str().map(str::to_owned);
            match expected {
                StatusCode::FORBIDDEN => assert_eq!(code.as_deref(), Some("user_suspended")),
                StatusCode::BAD_REQUEST => assert_eq!(code.as_deref(), Some("invalid_user")),
                _ => {}
            }
        }
    }
}

#[tokio::test]
async fn a_real_id_named_anonymous_is_sanctioned_and_unnamed_requests_are_not() {
    let h = harness(MockOptions::default(), |_| {}).await;
    suspend(&h, "anonymous").await;
    let r = send(&h, &Spelling::Field(json!("anonymous"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    for unnamed in [json!(null), json!(""), json!("   ")] {
        let r = send(&h, &Spelling::Field(unnamed.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "user {unnamed}: {}", r.text);
    }
}
