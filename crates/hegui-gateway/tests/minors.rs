//! Identity status, minors mode and reminders, with the gateway's clock set by the test:
//! identity required until verified (through the store or the signed header), a minor's daily
//! limit and quiet hours in Beijing time, review-level input refused for a minor, reminders at
//! first use and after continuous use, and the limit shared by a fleet.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use hegui_gateway::config::{Config, Fleet as FleetConfig, Reminders, TenantConfig};
use hegui_gateway::mock::MockOptions;
use hegui_gateway::{Clock, demo};
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::util::{self, Answer, Harness, harness_clocked, sse_contents};

/// The secret's variable: one cargo sets for every test run (tests cannot set variables
/// safely while other tests run).
const SECRET_ENV: &str = "CARGO_MANIFEST_DIR";

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    fn new(at: &str) -> TestClock {
        TestClock(Arc::new(Mutex::new(time(at))))
    }

    fn set(&self, at: &str) {
        *self.0.lock().unwrap() = time(at);
    }

    fn advance(&self, minutes: i64) {
        *self.0.lock().unwrap() += Duration::minutes(minutes);
    }

    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }

    fn clock(&self) -> Clock {
        let me = self.clone();
        Arc::new(move || me.now())
    }
}

fn time(at: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc)
}

/// The tenant `acme` with public pages, requiring identity or not, with the header's secret.
fn tenant(c: &mut Config, require_identity: bool) {
    let mut pages = demo::public_pages();
    pages.require_identity = require_identity;
    pages.identity_secret_env = Some(SECRET_ENV.into());
    c.tenants.push(TenantConfig {
        id: "acme".into(),
        name: "ACME".into(),
        api_key_env: None,
        public: Some(pages),
    });
}

/// A signed identity header for `user` with `flags`, dated `at` (unix seconds).
fn identity(user: &str, flags: &str, at: i64) -> String {
    let secret = std::env::var(SECRET_ENV).unwrap();
    let signed = format!("{user};{flags};{at}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed};{}", hex::encode(mac.finalize().into_bytes()))
}

fn body(user: Option<&str>, text: &str) -> Value {
    let mut body = json!({"model": "mock-chat", "messages": [{"role": "user", "content": text}]});
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    body
}

async fn chat_with(h: &Harness, user: Option<&str>, text: &str, header: Option<&str>) -> Answer {
    let mut request = Request::post("/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", h.key));
    if let Some(header) = header {
        request = request.header("x-hegui-identity", header);
    }
    h.send(
        request
            .body(Body::from(body(user, text).to_string()))
            .unwrap(),
    )
    .await
}

async fn chat(h: &Harness, user: Option<&str>) -> Answer {
    chat_with(h, user, "你好", None).await
}

fn code(r: &Answer) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_owned()
}

fn content(r: &Answer) -> String {
    r.json()["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn identity_is_required_until_verified() {
    let clock = TestClock::new("2026-12-04T10:00:00+08:00");
    let h = harness_clocked(MockOptions::default(), clock.clock(), |c| tenant(c, true)).await;
    let store = h.gateway.store();
    let now = clock.now().timestamp();

    // Not verified, or no user at all: refused, on the record.
    let r = chat(&h, Some("alice")).await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (StatusCode::FORBIDDEN, "identity_not_verified")
    );
    assert!(r.text.contains("实名认证"), "{}", r.text);
    let record = h.record(&r.header("x-hegui-record-id")).await;
    assert_eq!(
        (record.outcome.as_str(), record.end_user.as_str()),
        ("refused", "alice")
    );
    let r = chat(&h, None).await;
    assert_eq!(
        (r.status, code(&r).as_str()),
        (StatusCode::FORBIDDEN, "identity_not_verified")
    );
    assert_eq!(h.get_auth("/v1/models").await.status, StatusCode::OK);

    // Verified through the store: served at once.
    store
        .set_identity("acme", "alice", true, "sms")
        .await
        .unwrap();
    assert_eq!(chat(&h, Some("alice")).await.status, StatusCode::OK);

    // (user, header, status, code): the signed header.
    let good = identity("bob", "verified", now);
    let cases = [
        ("bob", good.clone(), StatusCode::OK, ""),
        // Verified by the header before: the store remembers it.
        ("bob", String::new(), StatusCode::OK, ""),
        // The header's user is spelled by the same rule as the request's.
        (
            "bob",
            identity("ｂｏｂ ", "verified", now),
            StatusCode::OK,
            "",
        ),
        (
            "carol",
            good.replacen("bob", "carol", 1),
            StatusCode::BAD_REQUEST,
            "identity_signature_invalid",
        ),
        (
            "carol",
            identity("carol", "verified", now - 301),
            StatusCode::BAD_REQUEST,
            "identity_header_expired",
        ),
        (
            "carol",
            identity("bob", "verified", now),
            StatusCode::BAD_REQUEST,
            "invalid_identity_header",
        ),
        (
            "carol",
            "carol;verified;1".into(),
            StatusCode::BAD_REQUEST,
            "invalid_identity_header",
        ),
        // A valid header that says "not verified".
        (
            "carol",
            identity("carol", "", now),
            StatusCode::FORBIDDEN,
            "identity_not_verified",
        ),
        (
            "carol",
            identity("carol", "verified", now + 200),
            StatusCode::OK,
            "",
        ),
    ];
    for (user, header, status, expected) in cases {
        let header = (!header.is_empty()).then_some(header.as_str());
        let r = chat_with(&h, Some(user), "你好", header).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (status, expected),
            "{user} {header:?}: {}",
            r.text
        );
    }
    let bob = store.end_user("acme", "bob").await.unwrap().unwrap();
    assert_eq!(
        (
            bob.identity.as_str(),
            bob.identity_source.as_deref(),
            bob.minor
        ),
        ("verified", Some("header"), false)
    );
}

#[tokio::test]
async fn a_minor_has_a_daily_limit_in_beijing_days() {
    let clock = TestClock::new("2026-12-04T10:00:00+08:00");
    let h = harness_clocked(MockOptions::default(), clock.clock(), |c| {
        tenant(c, false);
        c.guard.minors.daily_minutes = 2;
    })
    .await;
    h.gateway
        .store()
        .set_minor("acme", "kid", true)
        .await
        .unwrap();
    let guidance = h.gateway.config().guard.minors.guidance.clone();
    // (time, minor's status, minor's code)
    let steps = [
        ("2026-12-04T10:00:00+08:00", StatusCode::OK, ""),
        ("2026-12-04T10:00:40+08:00", StatusCode::OK, ""),
        ("2026-12-04T10:01:10+08:00", StatusCode::OK, ""),
        (
            "2026-12-04T10:02:00+08:00",
            StatusCode::FORBIDDEN,
            "minor_time_limit",
        ),
        (
            "2026-12-04T21:59:00+08:00",
            StatusCode::FORBIDDEN,
            "minor_time_limit",
        ),
        // The next Beijing day (16:00 UTC is midnight in Beijing): allowed again.
        ("2026-12-05T06:00:00+08:00", StatusCode::OK, ""),
    ];
    for (at, status, expected) in steps {
        clock.set(at);
        let r = chat(&h, Some("kid")).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (status, expected),
            "{at}: {}",
            r.text
        );
        if status == StatusCode::OK {
            assert!(content(&r).starts_with(&guidance), "{at}: {}", r.text);
        }
        // An adult at the same time: no limit, no guidance.
        let r = chat(&h, Some("grown-up")).await;
        assert_eq!(r.status, StatusCode::OK, "{at}: {}", r.text);
        assert!(!content(&r).contains(&guidance), "{}", r.text);
    }
    let record = h
        .gateway
        .store()
        .minutes_used("acme", "kid", "2026-12-04")
        .await
        .unwrap();
    assert_eq!(record, 2);
}

#[tokio::test]
async fn a_minor_is_not_served_in_quiet_hours() {
    let clock = TestClock::new("2026-12-04T23:00:00+08:00");
    let h = harness_clocked(MockOptions::default(), clock.clock(), |c| tenant(c, false)).await;
    // The minor flag comes with the signed header this time.
    let header = |clock: &TestClock| identity("kid", "verified,minor", clock.now().timestamp());
    // (time, status, code)
    let steps = [
        (
            "2026-12-04T23:00:00+08:00",
            StatusCode::FORBIDDEN,
            "minor_quiet_hours",
        ),
        (
            "2026-12-05T05:59:00+08:00",
            StatusCode::FORBIDDEN,
            "minor_quiet_hours",
        ),
        ("2026-12-05T07:00:00+08:00", StatusCode::OK, ""),
        ("2026-12-05T21:59:00+08:00", StatusCode::OK, ""),
    ];
    let mut first = None;
    for (at, status, expected) in steps {
        clock.set(at);
        let r = chat_with(&h, Some("kid"), "你好", Some(&header(&clock))).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (status, expected),
            "{at}: {}",
            r.text
        );
        first.get_or_insert_with(|| r.header("x-hegui-record-id"));
        // An adult is served at any hour.
        assert_eq!(chat(&h, Some("grown-up")).await.status, StatusCode::OK);
    }
    // The first refusal is on the record (then at most one a second).
    let record = h.record(&first.unwrap()).await;
    assert_eq!(record.outcome.as_str(), "refused");
    assert!(
        record.verdicts.contains("minor_quiet_hours"),
        "{}",
        record.verdicts
    );
    assert!(
        h.gateway
            .store()
            .end_user("acme", "kid")
            .await
            .unwrap()
            .unwrap()
            .minor
    );
}

#[tokio::test]
async fn review_level_input_is_refused_for_a_minor_only() {
    let clock = TestClock::new("2026-12-04T10:00:00+08:00");
    let h = harness_clocked(MockOptions::default(), clock.clock(), |c| tenant(c, false)).await;
    h.gateway
        .store()
        .set_minor("acme", "kid", true)
        .await
        .unwrap();
    // A phone number: a review-level hit in the sample lexicon.
    let text = "我的手机13812345678";
    // (user, verdict)
    for (user, blocked) in [("kid", true), ("grown-up", false)] {
        let r = chat_with(&h, Some(user), text, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(
            r.header("x-hegui-verdict") == "block",
            blocked,
            "{user}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn reminders_come_at_first_use_and_after_continuous_use() {
    let clock = TestClock::new("2026-12-04T10:00:00+08:00");
    let h = harness_clocked(MockOptions::default(), clock.clock(), |c| {
        c.guard.reminders = Some(Reminders {
            every_minutes: 60,
            ..Reminders::default()
        });
    })
    .await;
    let reminders = h.gateway.config().guard.reminders.clone().unwrap();
    let (first, continuous) = (reminders.text, reminders.continuous_text);
    // (minutes since the previous request, reminder expected)
    let steps = [
        (0, Some(&first)),
        (10, None),
        (25, None),
        (24, None),             // 59 minutes of continuous use
        (1, Some(&continuous)), // 60
        (29, None),
        (30, Some(&first)), // a gap of 30 minutes: a new session
    ];
    for (i, (minutes, reminder)) in steps.into_iter().enumerate() {
        clock.advance(minutes);
        let r = chat(&h, Some("dana")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let text = content(&r);
        match reminder {
            Some(reminder) => assert!(text.starts_with(reminder.as_str()), "step {i}: {text}"),
            None => assert!(!text.contains("【提示】"), "step {i}: {text}"),
        }
        let record = h.record(&r.header("x-hegui-record-id")).await;
        let noted = record.verdicts.contains("reminder_");
        assert_eq!(noted, reminder.is_some(), "step {i}: {}", record.verdicts);
    }
    // Streamed answers carry it too; a request without a user gets it every time.
    for _ in 0..2 {
        let mut stream = body(None, "你好");
        stream["stream"] = json!(true);
        let r = h.post("/v1/chat/completions", &stream).await;
        let (text, _, _) = sse_contents(&r.text);
        assert!(text.starts_with(first.as_str()), "{text}");
    }
}

#[tokio::test]
async fn a_fleet_shares_the_daily_limit_and_the_sessions() {
    let Some(redis) = hegui_test::redis("the minors fleet test") else {
        return;
    };
    let Some(pg) = util::postgres_stores(2, "the minors fleet test").await else {
        return;
    };
    let mock = hegui_gateway::mock::spawn(MockOptions::default())
        .await
        .unwrap();
    let clock = TestClock::new("2026-12-04T10:00:00+08:00");
    let prefix = format!("hegui-test-{}", hegui_store::RecordId::generate());
    let config = |c: &mut Config| {
        c.fleet = Some(FleetConfig {
            redis: redis.clone(),
            timeout_ms: 500,
            prefix: prefix.clone(),
        });
        c.guard.minors.daily_minutes = 2;
        c.guard.reminders = Some(Reminders::default());
    };
    let store = &pg.0[0];
    store.create_tenant("acme", "ACME").await.unwrap();
    let (_, key) = store.create_api_key("acme", "test").await.unwrap();
    let mut instances = Vec::new();
    for store in &pg.0 {
        instances.push(
            util::harness_on_clocked(&mock, store.clone(), config, key.clone(), clock.clock())
                .await,
        );
    }
    store.set_minor("acme", "kid", true).await.unwrap();
    let first = Reminders::default().text;
    // (instance, minutes later, status, code, first-use reminder)
    let steps = [
        (0, 0, StatusCode::OK, "", true),
        (1, 1, StatusCode::OK, "", false),
        (0, 1, StatusCode::FORBIDDEN, "minor_time_limit", false),
        (1, 0, StatusCode::FORBIDDEN, "minor_time_limit", false),
    ];
    for (i, (instance, minutes, status, expected, reminded)) in steps.into_iter().enumerate() {
        clock.advance(minutes);
        let r = chat(&instances[instance], Some("kid")).await;
        assert_eq!(
            (r.status, code(&r).as_str()),
            (status, expected),
            "step {i}: {}",
            r.text
        );
        if status == StatusCode::OK {
            assert_eq!(
                content(&r).contains(first.as_str()),
                reminded,
                "step {i}: {}",
                r.text
            );
        }
    }
    // Counted in Redis, not in the database.
    assert_eq!(
        store
            .minutes_used("acme", "kid", "2026-12-04")
            .await
            .unwrap(),
        0
    );
    drop(instances);
    pg.cleanup().await;
}
