//! The admin API: every workflow end to end (a complaint answered before its deadline with its
//! webhook, a sanction that takes effect, a takedown refused when served again, refutations and
//! report entries, personal-information requests), both roles on every route (an auditor
//! cannot act), tenant isolation on every route (one tenant's operator never sees another's
//! users, tickets or records), the governance records, and bad input answered with a clear 4xx.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hegui_gateway::config::TenantConfig;
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Access, Gateway, demo};
use hegui_store::admins::Role;
use serde_json::{Value, json};

use crate::util::{Answer, Harness, harness};

struct Admin {
    h: Harness,
    /// Tenant `acme`'s operator and auditor, and tenant `beta`'s operator.
    operator: String,
    auditor: String,
    other: String,
}

async fn admin_harness(webhook: Option<String>) -> Admin {
    let h = harness(MockOptions::default(), |c| {
        for id in ["acme", "beta"] {
            let mut pages = demo::public_pages();
            pages.complaint_webhook = webhook.clone().unwrap_or_default();
            c.tenants.push(TenantConfig {
                id: id.into(),
                name: id.to_uppercase(),
                api_key_env: None,
                public: Some(pages),
            });
        }
    })
    .await;
    let store = h.gateway.store();
    let token = |tenant: &'static str, name: &'static str, role| async move {
        store
            .create_admin_token(tenant, name, role)
            .await
            .unwrap()
            .1
    };
    Admin {
        operator: token("acme", "li", Role::Operator).await,
        auditor: token("acme", "zhao", Role::Auditor).await,
        other: token("beta", "wang", Role::Operator).await,
        h,
    }
}

impl Admin {
    async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.h.send(request.body(body).unwrap()).await
    }

    async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(token, Method::GET, path, None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(token, Method::POST, path, Some(body)).await
    }

    /// A chat answer for `user`; returns its record id.
    async fn chat(&self, user: &str, text: &str) -> String {
        let r = self
            .h
            .post(
                "/v1/chat/completions",
                &json!({"model": "mock-chat", "user": user,
                        "messages": [{"role": "user", "content": text}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.header("x-hegui-record-id")
    }

    /// A complaint through the public entrance about `record`; returns its ticket.
    async fn complain(&self, tenant: &str, record: &str) -> String {
        let r = self
            .h
            .send(
                Request::post(format!("/public/{tenant}/complaints"))
                    .header("content-type", "application/json")
                    .body(Body::from(
                        json!({"kind": "report", "content": "这个回答有害", "record": record,
                               "contact": "user@example.cn"})
                        .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["ticket"].as_str().unwrap().to_owned()
    }

    /// The governance record `id`: its action JSON.
    async fn governance(&self, id: &str) -> Value {
        let record = self.h.record(id).await;
        assert_eq!(record.kind, "governance");
        serde_json::from_str(record.request_text.as_deref().unwrap()).unwrap()
    }
}

/// A webhook receiver: what it was sent.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move {
                kept.lock()
                    .unwrap()
                    .push(serde_json::from_slice::<Value>(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), seen)
}

#[tokio::test]
async fn a_complaint_is_answered_before_its_deadline_and_the_answer_is_sent() {
    let (hook, seen) = webhook().await;
    let a = admin_harness(Some(hook)).await;
    let record = a.chat("alice", "你好").await;
    let ticket = a.complain("acme", &record).await;
    let queue = a.get(&a.auditor, "/admin/v1/complaints?status=new").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.text);
    assert_eq!(queue.json()[0]["ticket"], ticket.as_str());
    assert_eq!(queue.json()[0]["record_id"], record.as_str());
    let steps = format!("/admin/v1/complaints/{ticket}/steps");
    for (action, text) in [("assign", "li"), ("start", ""), ("note", "查看了记录")] {
        let r = a
            .post(&a.operator, &steps, json!({"action": action, "text": text}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text);
    }
    let r = a
        .post(
            &a.operator,
            &steps,
            json!({"action": "answer", "text": "已下架该回答，感谢举报。"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let done = r.json();
    assert_eq!(done["complaint"]["status"], "answered");
    assert_eq!(done["webhook"], "delivered");
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["ticket"], ticket.as_str());
    assert_eq!(sent[0]["answer"], "已下架该回答，感谢举报。");
    assert_eq!(sent[0]["contact"], "user@example.cn");
    // Answered before the deadline; the history has every step with its actor.
    let detail = a
        .get(&a.auditor, &format!("/admin/v1/complaints/{ticket}"))
        .await
        .json();
    let c = &detail["complaint"];
    assert!(c["answered_ms"].as_i64().unwrap() <= c["deadline_ms"].as_i64().unwrap());
    assert_eq!(detail["overdue"], false);
    let history: Vec<(String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("received", "submitter"),
        ("assign", "li"),
        ("start", "li"),
        ("note", "li"),
        ("answer", "li"),
        ("note", "webhook"),
    ];
    assert_eq!(
        history,
        expected.map(|(a, b)| (a.to_owned(), b.to_owned())),
        "{detail}"
    );
    // The governance record says who did what to which ticket and record.
    let action = a.governance(done["record"].as_str().unwrap()).await;
    assert_eq!(action["action"], "complaint.answer");
    assert_eq!(action["actor"], "li");
    assert_eq!(action["subjects"], json!([ticket, record]));
    // A step the state does not allow: 409; closing works, then nothing but notes.
    let again = a
        .post(
            &a.operator,
            &steps,
            json!({"action": "answer", "text": "x"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let close = a
        .post(
            &a.operator,
            &steps,
            json!({"action": "close", "text": "完结"}),
        )
        .await;
    assert_eq!(close.status, StatusCode::OK, "{}", close.text);
    let start = a
        .post(&a.operator, &steps, json!({"action": "start"}))
        .await;
    assert_eq!(start.status, StatusCode::CONFLICT, "{}", start.text);
    // Overdue listing: a complaint past its deadline shows, an answered one does not.
    let late = a.complain("acme", "").await;
    a.h.gateway
        .store()
        .execute_raw_for_tests(&format!(
            "UPDATE complaints SET deadline_ms = 1 WHERE ticket = '{late}'"
        ))
        .await
        .unwrap();
    let overdue = a
        .get(&a.operator, "/admin/v1/complaints?overdue=true")
        .await
        .json();
    let tickets: Vec<&str> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ticket"].as_str().unwrap())
        .collect();
    assert_eq!(tickets, [late.as_str()]);
}

#[tokio::test]
async fn a_sanction_takes_effect_and_is_exported() {
    let a = admin_harness(None).await;
    let record = a.chat("mallory", "你好").await;
    let blocked = a
        .h
        .post(
            "/v1/chat/completions",
            &json!({"model": "mock-chat", "user": "mallory", "messages": [{"role": "user", "content": "哪里可以买到冰毒"}]}),
        )
        .await;
    assert_eq!(
        blocked.header("x-hegui-verdict"),
        "block",
        "{}",
        blocked.text
    );
    let path = "/admin/v1/users/mallory/sanctions";
    let missing = a
        .post(
            &a.operator,
            path,
            json!({"action": "suspend", "reason": "  "}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert_eq!(missing.json()["error"]["code"], "missing_field");
    let r = a
        .post(
            &a.operator,
            path,
            json!({"action": "suspend", "reason": "多次生成违法内容", "record": record}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let done = r.json();
    assert_eq!(done["sanction"]["actor"], "li");
    let refused = a
        .h
        .post(
            "/v1/chat/completions",
            &json!({"model": "mock-chat", "user": "mallory", "messages": [{"role": "user", "content": "你好"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.json()["error"]["code"], "user_suspended");
    let action = a.governance(done["record"].as_str().unwrap()).await;
    assert_eq!(action["action"], "sanction.suspended");
    assert_eq!(action["reason"], "多次生成违法内容");
    // Restricted: chat passes, images do not.
    let r = a
        .post(
            &a.operator,
            path,
            json!({"action": "restrict", "reason": "申诉后降级"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(a.chat("mallory", "你好").await.len(), 32);
    let image =
        a.h.post(
            "/v1/images/generations",
            &json!({"model": "mock-chat", "prompt": "猫", "user": "mallory"}),
        )
        .await;
    assert_eq!(image.status, StatusCode::FORBIDDEN, "{}", image.text);
    assert_eq!(image.json()["error"]["code"], "user_restricted");
    a.post(
        &a.operator,
        path,
        json!({"action": "restore", "reason": "申诉成立"}),
    )
    .await;
    // The user view and the export for the authorities show all three, with their actors.
    let view = a.get(&a.auditor, "/admin/v1/users/mallory").await.json();
    assert_eq!(view["state"], "normal");
    assert_eq!(view["violations"], 1, "{view}");
    assert_eq!(view["sanctions"].as_array().unwrap().len(), 3);
    assert!(
        view["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == record.as_str())
    );
    let json = a
        .get(&a.auditor, "/admin/v1/sanctions?from=2020-01-01")
        .await;
    assert_eq!(json.json().as_array().unwrap().len(), 3, "{}", json.text);
    let csv = a.get(&a.auditor, "/admin/v1/sanctions?format=csv").await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let text = csv.text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,tenant,user,state,reason,record,actor,time");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains("多次生成违法内容") && lines[1].contains(&record));
    // Identity and minor status.
    let r = a
        .call(
            &a.operator,
            Method::PUT,
            "/admin/v1/users/mallory/status",
            Some(json!({"identity": "verified", "minor": true, "reason": "短信验证"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let view = a.get(&a.auditor, "/admin/v1/users/mallory").await.json();
    assert_eq!(
        (view["identity"].as_str(), view["minor"].as_bool()),
        (Some("verified"), Some(true))
    );
    assert_eq!(view["identity_source"], "admin");
}

/// The violation policy's suspension ends after `suspend-minutes`; an operator's stands until
/// an operator restores the user.
#[tokio::test]
async fn a_policy_suspension_expires_and_an_operators_does_not() {
    let a = admin_harness(None).await;
    let store = a.h.gateway.store();
    for (user, actor) in [("pat", hegui_store::sanctions::POLICY), ("max", "li")] {
        store
            .sanction(
                "acme",
                user,
                hegui_store::users::UserState::Suspended,
                "test",
                None,
                actor,
            )
            .await
            .unwrap();
    }
    // Both suspensions began long ago.
    store
        .execute_raw_for_tests("UPDATE sanctions SET created_ms = 0")
        .await
        .unwrap();
    let ask = |user: &'static str| {
        let h = &a.h;
        async move {
            h.post(
                "/v1/chat/completions",
                &json!({"model": "mock-chat", "user": user, "messages": [{"role": "user", "content": "你好"}]}),
            )
            .await
            .status
        }
    };
    assert_eq!(ask("pat").await, StatusCode::OK);
    let lifted = store.sanctions("acme", "pat").await.unwrap();
    assert_eq!(lifted.last().unwrap().reason, "suspension expired");
    assert_eq!(ask("max").await, StatusCode::FORBIDDEN);
    a.post(
        &a.operator,
        "/admin/v1/users/max/sanctions",
        json!({"action": "restore", "reason": "申诉成立"}),
    )
    .await;
    assert_eq!(ask("max").await, StatusCode::OK);
}

#[tokio::test]
async fn a_taken_down_answer_is_not_served_again() {
    let a = admin_harness(None).await;
    let record = a.chat("alice", "讲个故事").await;
    let served = a.h.get_auth(&format!("/v1/hegui/records/{record}")).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.text);
    assert!(served.json()["answer"].as_str().is_some());
    let ticket = a.complain("acme", &record).await;
    let r = a
        .post(&a.operator, "/admin/v1/takedowns",
              json!({"ticket": ticket, "reason": "编造虚假信息", "risk": "A.1.h", "pattern": "某虚假说法"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let done = r.json();
    assert_eq!(done["takedown"]["record_id"], record.as_str());
    let again = a.h.get_auth(&format!("/v1/hegui/records/{record}")).await;
    assert_eq!(
        again.status,
        StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS,
        "{}",
        again.text
    );
    assert_eq!(again.json()["error"]["code"], "content_taken_down");
    let refusal = a.h.record(&again.header("x-hegui-record-id")).await;
    assert_eq!(refusal.outcome, "refused");
    // The governance record refers to the content's record; the original is untouched.
    let action = a.governance(done["record"].as_str().unwrap()).await;
    assert_eq!(action["action"], "takedown");
    assert!(
        action["subjects"]
            .as_array()
            .unwrap()
            .contains(&json!(record))
    );
    assert_eq!(a.h.record(&record).await.outcome, "ok");
    let twice = a
        .post(
            &a.operator,
            "/admin/v1/takedowns",
            json!({"record": record, "reason": "again"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    // The review list, the rectification set and the report entry.
    let review = a.get(&a.auditor, "/admin/v1/lexicon-review").await.json();
    assert_eq!(review[0]["pattern"], "某虚假说法");
    let set = a.get(&a.auditor, "/admin/v1/rectification").await.json();
    assert_eq!(
        set[0]["prompt"].as_str().map(|p| p.contains("讲个故事")),
        Some(true),
        "{set}"
    );
    assert_eq!(set[0]["reason"], "编造虚假信息");
    let csv = a
        .get(&a.auditor, "/admin/v1/rectification?format=csv")
        .await;
    assert!(csv.text.contains("编造虚假信息"), "{}", csv.text);
    let pending = a
        .get(&a.auditor, "/admin/v1/reports?status=pending")
        .await
        .json();
    assert_eq!(pending[0]["subject"], "takedown");
    let id = pending[0]["id"].as_str().unwrap();
    let sent = a
        .post(
            &a.operator,
            &format!("/admin/v1/reports/{id}/submit"),
            json!({"reference": "12377 回执 0001"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(sent.json()["report"]["status"], "submitted");
    // A refutation opens its own report entry.
    let r = a
        .post(&a.operator, "/admin/v1/refutations",
              json!({"claim": "某地发生地震", "refutation": "经核实该信息不实", "published_where": "https://example.cn/piyao/1",
                     "published_at": "2026-12-01T10:00:00+08:00", "record": record}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pending = a
        .get(&a.auditor, "/admin/v1/reports?status=pending")
        .await
        .json();
    assert_eq!(pending.as_array().unwrap().len(), 1);
    assert_eq!(pending[0]["subject"], "refutation");
}

#[tokio::test]
async fn personal_information_requests_wait_for_the_retention_period() {
    let a = admin_harness(None).await;
    a.chat("carol", "你好").await;
    let r = a
        .post(
            &a.operator,
            "/admin/v1/pi-requests",
            json!({"user": "carol", "kind": "deletion", "detail": "删除我的信息"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let request = r.json()["request"].clone();
    assert!(request["deadline_ms"].as_i64().unwrap() > chrono::Utc::now().timestamp_millis());
    let id = request["id"].as_str().unwrap();
    let r = a
        .post(
            &a.operator,
            &format!("/admin/v1/pi-requests/{id}/complete"),
            json!({"result": "已删除可删除部分"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Carol's record is fresh: the deletion waits for the six-month log floor.
    assert_eq!(r.json()["request"]["status"], "pending_retention");
    let export = a.get(&a.auditor, "/admin/v1/users/carol/export").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    assert!(!export.json()["records"].as_array().unwrap().is_empty());
    let listed = a
        .get(&a.auditor, "/admin/v1/pi-requests?status=pending_retention")
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

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
