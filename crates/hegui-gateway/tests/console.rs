//! The operator console in-process (the browser tests drive the same pages in Chromium):
//! login with lockout and logout, CSRF on every form, the operator's flows through the admin
//! API's functions (a complaint answered, a user suspended, an answer taken down and then
//! refused), an auditor's pages without forms and their posts refused, and snapshots of the
//! main pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hegui_gateway::config::TenantConfig;
use hegui_gateway::demo;
use hegui_gateway::mock::MockOptions;
use hegui_store::admins::Role;
use serde_json::json;

use crate::util::{Answer, Harness, harness};

const PASSWORD: &str = "correct horse battery";

async fn console_harness() -> Harness {
    let h = harness(MockOptions::default(), |c| {
        c.tenants.push(TenantConfig {
            id: "acme".into(),
            name: "ACME".into(),
            api_key_env: None,
            public: Some(demo::public_pages()),
        });
    })
    .await;
    for (name, role) in [("li", Role::Operator), ("zhao", Role::Auditor)] {
        h.gateway
            .store()
            .set_console_user("acme", name, role, PASSWORD)
            .await
            .unwrap();
    }
    h
}

/// A signed-in browser: its session cookie and the session's CSRF token.
struct Browser<'a> {
    h: &'a Harness,
    cookie: String,
    csrf: String,
}

fn set_cookie(answer: &Answer, name: &str) -> Option<String> {
    answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// The value of the first `name="FIELD" value="…"` in a page.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn try_login(h: &Harness, name: &str, password: &str) -> Answer {
    let page = h.get("/console/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let login_cookie = set_cookie(&page, "hegui_login").unwrap();
    let token = field(&page.text, "token");
    let form =
        serde_urlencoded::to_string([("name", name), ("password", password), ("token", &token)])
            .unwrap();
    h.send(
        Request::post("/console/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("hegui_login={login_cookie}"))
            .body(Body::from(form))
            .unwrap(),
    )
    .await
}

async fn login<'a>(h: &'a Harness, name: &str) -> Browser<'a> {
    let r = try_login(h, name, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let cookie = set_cookie(&r, "hegui_session").unwrap();
    let mut b = Browser {
        h,
        cookie,
        csrf: String::new(),
    };
    let home = b.get("/console").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    for answer in [&r, &home] {
        assert_eq!(answer.header("cache-control"), "no-store");
    }
    b.csrf = field(&home.text, "csrf");
    b
}

impl Browser<'_> {
    async fn get(&self, path: &str) -> Answer {
        self.h
            .send(
                Request::get(path)
                    .header("cookie", format!("hegui_session={}", self.cookie))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
    }

    /// Posts a form with `fields` (and the session's CSRF token unless `csrf` is false).
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> Answer {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            all.push(("csrf", &self.csrf));
        }
        self.h
            .send(
                Request::post(path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", format!("hegui_session={}", self.cookie))
                    .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
                    .unwrap(),
            )
            .await
    }
}

async fn chat(h: &Harness, user: &str) -> String {
    let r = h
        .post(
            "/v1/chat/completions",
            &json!({"model": "mock-chat", "user": user, "messages": [{"role": "user", "content": "你好"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.header("x-hegui-record-id")
}

async fn complain(h: &Harness, record: &str) -> String {
    let r = h
        .send(
            Request::post("/public/acme/complaints")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"kind": "report", "content": "回答有害", "record": record}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    r.json()["ticket"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_operator_answers_suspends_and_takes_down() {
    let h = console_harness().await;
    let record = chat(&h, "mallory").await;
    let ticket = complain(&h, &record).await;
    let b = login(&h, "li").await;
    let queue = b.get("/console/complaints").await;
    assert!(queue.text.contains(&ticket), "{}", queue.text);
    let path = format!("/console/complaints/{ticket}");
    let r = b
        .post(
            &path,
            &[("action", "answer"), ("text", "已核实并处理")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = b.get(&r.header("location")).await;
    assert!(
        page.text.contains("已核实并处理") && page.text.contains("answered"),
        "{}",
        page.text
    );
    assert!(page.text.contains("已处理 done"), "{}", page.text);
    let stored = h
        .gateway
        .store()
        .complaint("acme", &ticket)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.answered_ms.unwrap() <= stored.deadline_ms);
    // Suspend the user: the sanction is on their page and the gateway refuses them.
    let r = b
        .post(
            "/console/users/mallory",
            &[
                ("action", "suspend"),
                ("reason", "多次违规"),
                ("record", &record),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let user = b.get("/console/users/mallory").await;
    assert!(
        user.text.contains("suspended")
            && user.text.contains("多次违规")
            && user.text.contains(">li<"),
        "{}",
        user.text
    );
    let refused = h
        .post(
            "/v1/chat/completions",
            &json!({"model": "mock-chat", "user": "mallory", "messages": [{"role": "user", "content": "你好"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Take the answer down from its complaint: its record page says so, and it is refused.
    let r = b
        .post(
            "/console/takedowns",
            &[("ticket", &ticket), ("reason", "虚假信息")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.header("location").split('?').next().unwrap(),
        format!("/console/records/{record}")
    );
    let page = b.get(&format!("/console/records/{record}")).await;
    assert!(
        page.text.contains("已于") && page.text.contains("虚假信息"),
        "{}",
        page.text
    );
    assert!(page.text.contains("校验通过"), "{}", page.text);
    let served = h.get_auth(&format!("/v1/hegui/records/{record}")).await;
    assert_eq!(served.status, StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS);
    // A refutation, from the takedowns page.
    let r = b
        .post(
            "/console/refutations",
            &[
                ("claim", "某地发生地震"),
                ("refutation", "经核实，该信息不实"),
                ("published_where", "https://example.cn/piyao/1"),
                ("published_at", "2026-12-01"),
                ("record", &record),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = b.get(&r.header("location")).await;
    assert!(
        page.text.contains("经核实，该信息不实") && page.text.contains("已记录辟谣"),
        "{}",
        page.text
    );
    // A deletion request, recorded and completed: mallory's records are fresh, so it waits
    // for the retention period.
    let r = b
        .post(
            "/console/pi",
            &[
                ("user", "mallory"),
                ("kind", "deletion"),
                ("detail", "删除我的信息"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let id = h.gateway.store().pi_requests("acme", None).await.unwrap()[0]
        .id
        .clone();
    let r = b
        .post(
            &format!("/console/pi/{id}"),
            &[("result", "已删除可删除的部分")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = b.get(&r.header("location")).await;
    assert!(
        page.text.contains("pending_retention") && page.text.contains("已处理"),
        "{}",
        page.text
    );
    // Each action left a governance record by `li`.
    let governance = b.get("/console/audit?kind=governance").await;
    let records = h
        .gateway
        .store()
        .search_records(
            &hegui_store::ledger::search::Search {
                tenant: "acme".into(),
                kind: Some("governance".into()),
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap();
    for action in [
        "complaint.answer",
        "sanction.suspended",
        "takedown",
        "refutation",
    ] {
        let found = records.iter().any(|r| {
            r.request_text
                .as_deref()
                .unwrap_or_default()
                .contains(&format!("\"action\":\"{action}\""))
        });
        assert!(found, "no governance record of {action}");
    }
    assert!(
        governance.text.matches("governance").count() >= 3,
        "{}",
        governance.text
    );
    // The exports.
    let csv = b.get("/console/exports/complaints.csv").await;
    assert!(
        csv.text.contains(&ticket) && csv.text.contains("已核实并处理"),
        "{}",
        csv.text
    );
    assert_eq!(csv.header("cache-control"), "no-store");
    let csv = b.get("/console/exports/sanctions.csv").await;
    assert!(csv.text.contains("多次违规"), "{}", csv.text);
    assert_eq!(csv.header("cache-control"), "no-store");
}

#[tokio::test]
async fn forms_need_the_session_and_its_csrf_token() {
    let h = console_harness().await;
    let ticket = complain(&h, "").await;
    let b = login(&h, "li").await;
    let path = format!("/console/complaints/{ticket}");
    let forged = b.post(&path, &[("action", "start")], false).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    assert!(forged.text.contains("csrf_rejected"));
    let mut other = Browser {
        h: &h,
        cookie: b.cookie.clone(),
        csrf: "0".repeat(64),
    };
    let wrong = other.post(&path, &[("action", "start")], true).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);
    // Nothing happened.
    let c = h
        .gateway
        .store()
        .complaint("acme", &ticket)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status.as_str(), "new");
    // Without a session: to the login page.
    other.cookie = "nope".into();
    let r = other.get("/console").await;
    assert_eq!(
        (r.status, r.header("location").as_str()),
        (StatusCode::SEE_OTHER, "/console/login")
    );
    // A login form without its cookie is refused too.
    let r = h
        .send(
            Request::post("/console/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("name=li&password={PASSWORD}&token=x")))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Logout ends the session.
    let r = b.post("/console/logout", &[], true).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/console").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn wrong_passwords_lock_the_account() {
    let h = console_harness().await;
    for _ in 0..4 {
        assert_eq!(
            try_login(&h, "li", "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = try_login(&h, "li", "wrong password").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    let right = try_login(&h, "li", PASSWORD).await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        right.text
    );
    assert!(right.text.contains("锁定"));
    assert_eq!(
        try_login(&h, "nobody", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A flood of logins (each an argon2id hash) runs into the shared budget.
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(try_login(&h, "nobody", PASSWORD).await.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_auditor_sees_the_pages_without_the_forms() {
    let h = console_harness().await;
    let record = chat(&h, "alice").await;
    let ticket = complain(&h, &record).await;
    let b = login(&h, "zhao").await;
    for (path, form) in [
        (format!("/console/complaints/{ticket}"), "id=\"step\""),
        ("/console/users/alice".to_owned(), "id=\"sanction\""),
        (format!("/console/records/{record}"), "id=\"takedown\""),
        ("/console/lexicon".to_owned(), "id=\"reload\""),
        ("/console/pi".to_owned(), "id=\"pi\""),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        assert!(
            !page.text.contains(form),
            "{path} shows {form} to an auditor"
        );
    }
    for path in [
        "/console",
        "/console/audit?user=alice",
        "/console/complaints",
        "/console/users",
        "/console/takedowns",
    ] {
        assert_eq!(b.get(path).await.status, StatusCode::OK, "{path}");
    }
    // A form posted anyway (its CSRF token is right) is refused by the admin API's role check.
    let r = b
        .post(
            &format!("/console/complaints/{ticket}"),
            &[("action", "start")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("operator_required"));
    let r = b
        .post(
            "/console/takedowns",
            &[("record", &record), ("reason", "x")],
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// The main pages as a person sees them, with the ids and times that change between runs
/// replaced.
#[tokio::test]
async fn page_snapshots() {
    let h = console_harness().await;
    let record = chat(&h, "alice").await;
    let ticket = complain(&h, &record).await;
    let b = login(&h, "li").await;
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&ticket, "[ticket]");
    settings.add_filter(&record, "[record]");
    settings.add_filter(&b.csrf, "[csrf]");
    settings.add_filter(r"\d{4}-\d\d-\d\d \d\d:\d\d", "[time]");
    settings.add_filter(r"\b\d\d-\d\d\b", "[day]");
    settings.add_filter(r"[0-9a-f]{64}", "[hash]");
    settings.add_filter(r"C?[0-9a-f]{32}", "[id]");
    settings
        .bind_async(async {
            for (name, path) in [
                ("complaint", format!("/console/complaints/{ticket}")),
                ("user", "/console/users/alice".to_owned()),
                ("record", format!("/console/records/{record}")),
                ("complaints", "/console/complaints".to_owned()),
                ("dashboard", "/console".to_owned()),
            ] {
                let page = b.get(&path).await;
                assert_eq!(page.status, StatusCode::OK, "{path}");
                let body = page
                    .text
                    .split("<main>")
                    .nth(1)
                    .unwrap_or(&page.text)
                    .to_owned();
                insta::assert_snapshot!(name, body);
            }
        })
        .await;
}

/// The ledger export from the console: one tenant's records in full with a signed manifest
/// that checks with the public key alone; without a key to sign with, a clear refusal.
#[tokio::test]
async fn the_ledger_window_exports_with_a_signed_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let key = hegui_keys::SigningKey::generate(hegui_keys::Algorithm::Sm2);
    let (secret, public) = key.save(&dir.path().join("provider")).unwrap();
    let h = harness(MockOptions::default(), |c| {
        c.label.key_file = Some(secret.clone());
        c.tenants.push(TenantConfig {
            id: "acme".into(),
            name: "ACME".into(),
            api_key_env: None,
            public: None,
        });
    })
    .await;
    h.gateway
        .store()
        .set_console_user("acme", "li", Role::Operator, PASSWORD)
        .await
        .unwrap();
    let record = chat(&h, "alice").await;
    let b = login(&h, "li").await;
    let r = b.get("/console/exports/ledger.zip?since=2020-01-01").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), "application/zip");
    assert_eq!(r.header("content-length"), r.bytes.len().to_string());
    assert_eq!(r.header("cache-control"), "no-store");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).unwrap();
    zip.extract(dir.path()).unwrap();
    let file = dir.path().join("hegui-ledger.jsonl");
    let jsonl = std::fs::read_to_string(&file).unwrap();
    assert!(jsonl.contains(&record), "{jsonl}");
    let mut ring = hegui_keys::KeyRing::new();
    ring.insert(hegui_keys::VerifyingKey::load(&public).unwrap());
    let report = hegui_store::ledger::export::verify_export(&file, &ring).unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.manifest.filter.tenant.as_deref(), Some("acme"));
    let bad = b.get("/console/exports/ledger.zip?since=never").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    // Without a key and without a checkpoint there is nothing to vouch for the window.
    let h = console_harness().await;
    chat(&h, "alice").await;
    let b = login(&h, "li").await;
    let r = b.get("/console/exports/ledger.zip").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("label.key-file"), "{}", r.text);
}
