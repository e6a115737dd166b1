//! Fleet mode: several gateway instances on one PostgreSQL database and one Redis behave as one
//! gateway (thresholds reached once, budgets shared, sanctions seen by all within a second), and
//! a Redis that goes away fails open for rate limits only.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use hegui_gateway::Config;
use hegui_gateway::config::Fleet as FleetConfig;
use hegui_gateway::mock::{MockOptions, MockServer};
use serde_json::{Value, json};

use crate::util::{self, Harness, PgStores};

fn chat_as(text: &str, user: &str) -> Value {
    json!({"model": "mock-chat", "user": user, "messages": [{"role": "user", "content": text}]})
}

/// Three instances sharing one schema and one Redis (under a prefix of their own).
struct Fleet {
    instances: Vec<Harness>,
    pg: PgStores,
    _mock: MockServer,
}

async fn fleet(tweak: impl Fn(&mut Config)) -> Option<Fleet> {
    let redis = hegui_test::redis("the fleet tests")?;
    let pg = util::postgres_stores(3, "the fleet tests").await?;
    let mock = hegui_gateway::mock::spawn(MockOptions::default())
        .await
        .unwrap();
    let prefix = format!("hegui-test-{}", hegui_store::RecordId::generate());
    let config = |c: &mut Config| {
        c.fleet = Some(FleetConfig {
            redis: redis.clone(),
            timeout_ms: 500,
            prefix: prefix.clone(),
        });
        tweak(c);
    };
    let first = util::harness_on(&mock, pg.0[0].clone(), config).await;
    let mut instances = vec![];
    for store in &pg.0[1..] {
        instances
            .push(util::harness_on_with_key(&mock, store.clone(), config, first.key.clone()).await);
    }
    instances.insert(0, first);
    Some(Fleet {
        instances,
        pg,
        _mock: mock,
    })
}

#[tokio::test]
async fn blocked_inputs_across_instances_reach_the_threshold_once() {
    // A long state cache: only the fleet's invalidation can make the others see the sanction
    // within a second.
    let Some(f) = fleet(|c| {
        c.policy.warn_after = 0;
        c.policy.restrict_after = 0;
        c.policy.suspend_after = 3;
        c.policy.daily_suspend_after = 0;
        c.guard.cache_ms = 60_000;
    })
    .await
    else {
        return;
    };
    let user = format!("eve-{}", hegui_store::RecordId::generate());
    // Every instance has seen the user (and cached the state `normal`).
    for h in &f.instances {
        let r = h
            .post("/v1/chat/completions", &chat_as("你好", &user))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let bad = chat_as("出售冰毒", &user);
    let mut states = Vec::new();
    for h in &f.instances {
        let r = h.post("/v1/chat/completions", &bad).await;
        states.push(r.header("x-hegui-user-state"));
    }
    assert_eq!(states, ["", "", "suspended"], "one count across the fleet");
    let started = Instant::now();
    for (i, h) in f.instances.iter().enumerate() {
        loop {
            let r = h
                .post("/v1/chat/completions", &chat_as("你好", &user))
                .await;
            if r.status == StatusCode::FORBIDDEN {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "instance {i} still serves the suspended user after 1 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let sanctions = f.pg.0[0].sanctions("acme", &user).await.unwrap();
    let states: Vec<&str> = sanctions.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(states, ["suspended"], "recorded once");
    drop(f.instances);
    f.pg.cleanup().await;
}

#[tokio::test]
async fn a_tenant_budget_is_shared_by_the_fleet() {
    // A burst of 30 and almost no refill: exactly 30 requests pass, whichever instance they hit.
    let Some(f) = fleet(|c| {
        c.guard.tenant_rps = 0.001;
        c.guard.tenant_burst = 30.0;
    })
    .await
    else {
        return;
    };
    let mut passed = 0;
    for i in 0..60 {
        let h = &f.instances[i % 3];
        let r = h
            .post("/v1/chat/completions", &chat_as("你好", &format!("u{i}")))
            .await;
        match r.status {
            StatusCode::OK => passed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("request {i}: {other}: {}", r.text),
        }
    }
    assert_eq!(passed, 30);
    drop(f.instances);
    f.pg.cleanup().await;
}

/// A `redis-server` of the test's own, on a free port.
struct OwnRedis(std::process::Child, u16);

impl OwnRedis {
    fn start() -> Option<OwnRedis> {
        if !hegui_test::tool("redis-server", "--version", "redis-server") {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(OwnRedis(child, port))
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn without_redis_rate_limits_fail_open_and_sanctions_hold() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let url = format!("redis://127.0.0.1:{}", redis.1);
    let h = util::harness(MockOptions::default(), |c| {
        c.fleet = Some(FleetConfig {
            redis: url.clone(),
            timeout_ms: 200,
            prefix: "hegui".into(),
        });
        c.guard.user_rps = 0.001;
        c.guard.user_burst = 1.0;
    })
    .await;
    h.gateway
        .store()
        .sanction(
            "acme",
            "mallory",
            hegui_store::users::UserState::Suspended,
            "test",
            None,
            "test",
        )
        .await
        .unwrap();
    let once = chat_as("你好", "carol");
    assert_eq!(
        h.post("/v1/chat/completions", &once).await.status,
        StatusCode::OK
    );
    let r = h.post("/v1/chat/completions", &once).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "Redis keeps the budget"
    );
    // Redis goes away.
    let _ = redis.0.kill();
    let _ = redis.0.wait();
    let r = h.post("/v1/chat/completions", &once).await;
    assert_eq!(r.status, StatusCode::OK, "fails open: {}", r.text);
    let r = h
        .post("/v1/chat/completions", &chat_as("你好", "mallory"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "sanctions come from the database"
    );
    let metrics = h.get("/metrics").await.text;
    let errors = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hegui_fleet_errors_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(errors >= 1.0, "{metrics}");
}
