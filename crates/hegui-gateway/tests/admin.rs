//! The admin API's workflows end to end: a complaint answered before its deadline with its
//! webhook, a sanction that takes effect, a takedown refused when served again, refutations and
//! report entries, personal-information requests, the governance records they leave, and
//! deadlines read off the gateway's clock. The harness here ([`admin_harness`]) also serves
//! `admin_access` (roles, tenants, bad input).

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use hegui_gateway::config::{Config, TenantConfig};
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Clock, demo};
use hegui_store::admins::Role;
use serde_json::{Value, json};

use crate::util::{Answer, Harness, harness_clocked};

pub(crate) struct Admin {
    pub(crate) h: Harness,
    /// Tenant `acme`'s operator and auditor, and tenant `beta`'s operator.
    pub(crate) operator: String,
    pub(crate) auditor: String,
    pub(crate) other: String,
}

pub(crate) async fn admin_harness(webhook: Option<String>) -> Admin {
    admin_harness_with(webhook, hegui_gateway::clock::system(), |_| {}).await
}

/// As [`admin_harness`], with the gateway's time read from `clock`, and `tweak` applied to the
/// config last.
async fn admin_harness_with(
    webhook: Option<String>,
    clock: Clock,
    tweak: impl FnOnce(&mut Config),
) -> Admin {
    let h = harness_clocked(MockOptions::default(), clock, |c| {
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
        tweak(c);
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
    pub(crate) async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.h.send(request.body(body).unwrap()).await
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(token, Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(token, Method::POST, path, Some(body)).await
    }

    /// Files a personal-information request of `kind` for `user` as the operator; returns the
    /// request.
    pub(crate) async fn pi_request(&self, user: &str, kind: &str, detail: &str) -> Value {
        let r = self
            .post(
                &self.operator,
                "/admin/v1/pi-requests",
                json!({"user": user, "kind": kind, "detail": detail}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()["request"].clone()
    }

    /// A chat answer for `user`; returns its record id.
    pub(crate) async fn chat(&self, user: &str, text: &str) -> String {
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
    pub(crate) async fn complain(&self, tenant: &str, record: &str) -> String {
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
    pub(crate) async fn governance(&self, id: &str) -> Value {
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
    assert_eq!(csv.header("cache-control"), "no-store");
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

/// An operator's identity change counts at the next request, however long the guards cache
/// what they know of the end user.
#[tokio::test]
async fn an_identity_change_counts_at_once() {
    let a = admin_harness_with(None, hegui_gateway::clock::system(), |c| {
        c.guard.cache_ms = 600_000;
        for tenant in &mut c.tenants {
            if let Some(pages) = tenant.public.as_mut() {
                pages.require_identity = true;
            }
        }
    })
    .await;
    let status = |identity: &'static str| {
        let a = &a;
        async move {
            let r = a
                .call(
                    &a.operator,
                    Method::PUT,
                    "/admin/v1/users/ann/status",
                    Some(json!({"identity": identity, "reason": "短信验证"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    };
    let body = json!({"model": "mock-chat", "user": "ann",
                      "messages": [{"role": "user", "content": "你好"}]});
    // (the status an operator sets, then what the next request gets)
    let steps = [
        ("verified", StatusCode::OK),
        ("unverified", StatusCode::FORBIDDEN),
        ("verified", StatusCode::OK),
    ];
    for (identity, expected) in steps {
        status(identity).await;
        let r = a.h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.status, expected, "after `{identity}`: {}", r.text);
    }
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
    let request = a.pi_request("carol", "deletion", "删除我的信息").await;
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
    // Personal information: no browser or proxy may keep a copy, nor of a refusal.
    assert_eq!(export.header("cache-control"), "no-store");
    let refused = a.get("hga_wrong", "/admin/v1/users/carol/export").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    assert_eq!(refused.header("cache-control"), "no-store");
    let listed = a
        .get(&a.auditor, "/admin/v1/pi-requests?status=pending_retention")
        .await
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// The gateway's clock, not the system's, decides what is overdue: moved past a complaint's
/// deadline, the ticket and the overdue queue say so, and a personal-information request made
/// then is due from then.
#[tokio::test]
async fn deadlines_are_read_off_the_gateways_clock() {
    // A time well away from the system's, so that a row stamped by the wrong clock shows.
    let start = DateTime::parse_from_rfc3339("2026-03-02T01:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let now: Arc<Mutex<DateTime<Utc>>> = Arc::new(Mutex::new(start));
    let clock: Clock = {
        let now = now.clone();
        Arc::new(move || *now.lock().unwrap())
    };
    let a = admin_harness_with(None, clock, |_| {}).await;
    let record = a.chat("alice", "你好").await;
    let stored = a.h.gateway.store().record_by_id(&record).await.unwrap();
    assert_eq!(
        stored.map(|r| r.time_ms),
        Some(start.timestamp_millis()),
        "the audit record is stamped by the gateway's clock"
    );
    let ticket = a.complain("acme", &record).await;
    let detail = format!("/admin/v1/complaints/{ticket}");
    let filed = a.get(&a.auditor, &detail).await.json();
    assert_eq!(
        filed["complaint"]["created_ms"].as_i64(),
        Some(start.timestamp_millis()),
        "{filed}"
    );
    let overdue = "/admin/v1/complaints?overdue=true";
    assert_eq!(a.get(&a.auditor, &detail).await.json()["overdue"], false);
    assert_eq!(a.get(&a.auditor, overdue).await.json(), json!([]));
    let later = {
        let mut now = now.lock().unwrap();
        *now += Duration::days(60);
        *now
    };
    assert_eq!(a.get(&a.auditor, &detail).await.json()["overdue"], true);
    let queue = a.get(&a.auditor, overdue).await.json();
    assert_eq!(queue[0]["ticket"], ticket.as_str(), "{queue}");
    let deadline = a.pi_request("alice", "access", "").await["deadline_ms"]
        .as_i64()
        .unwrap();
    assert!(
        deadline > later.timestamp_millis(),
        "due {deadline}, made at {later}"
    );
}
