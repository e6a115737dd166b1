//! Test harness: a gateway over a temporary SQLite store (or a PostgreSQL schema) in front of
//! an in-process mock, driven with `oneshot` requests.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hegui_gateway::mock::{MockOptions, MockServer};
use hegui_gateway::{Config, Gateway};
use hegui_store::Store;
use serde_json::Value;
use tower::ServiceExt as _;

pub struct Harness {
    pub gateway: Gateway,
    pub key: String,
    pub mock: Option<MockServer>,
    _dir: Option<tempfile::TempDir>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

pub fn test_config(base_url: &str) -> Config {
    let mut config = Config::default();
    config.upstreams.push(hegui_gateway::config::Upstream {
        name: "mock".into(),
        base_url: base_url.into(),
        api_key_env: None,
        models: vec!["mock-chat".into()],
        filed: false,
        filing_number: String::new(),
    });
    config.limits.upstream_timeout_secs = 1;
    config.limits.stream_idle_timeout_secs = 1;
    config
}

pub async fn harness(options: MockOptions, tweak: impl FnOnce(&mut Config)) -> Harness {
    let mock = hegui_gateway::mock::spawn(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("hegui.db").display()))
        .await
        .unwrap();
    let mut h = harness_on(&mock, store, tweak).await;
    h.mock = Some(mock);
    h._dir = Some(dir);
    h
}

/// As [`harness`], with the gateway's time read from `clock`.
pub async fn harness_clocked(
    options: MockOptions,
    clock: hegui_gateway::Clock,
    tweak: impl FnOnce(&mut Config),
) -> Harness {
    let mock = hegui_gateway::mock::spawn(options).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite:{}", dir.path().join("hegui.db").display()))
        .await
        .unwrap();
    store.create_tenant("acme", "ACME").await.unwrap();
    let (_, key) = store.create_api_key("acme", "test").await.unwrap();
    let mut config = test_config(&mock.base_url());
    tweak(&mut config);
    let gateway = Gateway::with_clock(config, store, clock).await.unwrap();
    Harness {
        gateway,
        key,
        mock: Some(mock),
        _dir: Some(dir),
    }
}

pub async fn harness_on(
    mock: &MockServer,
    store: Store,
    tweak: impl FnOnce(&mut Config),
) -> Harness {
    if store.tenant("acme").await.unwrap().is_none() {
        store.create_tenant("acme", "ACME").await.unwrap();
    }
    let (_, key) = store.create_api_key("acme", "test").await.unwrap();
    harness_on_with_key(mock, store, tweak, key).await
}

pub async fn harness_on_with_key(
    mock: &MockServer,
    store: Store,
    tweak: impl FnOnce(&mut Config),
    key: String,
) -> Harness {
    harness_on_clocked(mock, store, tweak, key, hegui_gateway::clock::system()).await
}

/// As [`harness_on_with_key`], with the gateway's time read from `clock`.
pub async fn harness_on_clocked(
    mock: &MockServer,
    store: Store,
    tweak: impl FnOnce(&mut Config),
    key: String,
    clock: hegui_gateway::Clock,
) -> Harness {
    let mut config = test_config(&mock.base_url());
    tweak(&mut config);
    let gateway = Gateway::with_clock(config, store, clock).await.unwrap();
    Harness {
        gateway,
        key,
        mock: None,
        _dir: None,
    }
}

impl Harness {
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.gateway.router().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Answer {
            status,
            headers,
            bytes,
            text,
        }
    }

    pub async fn raw(&self, path: &str, body: Vec<u8>, key: Option<&str>) -> Answer {
        let mut request = Request::post(path).header("content-type", "application/json");
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.raw(path, body.to_string().into_bytes(), Some(&self.key))
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_auth(&self, path: &str) -> Answer {
        self.send(
            Request::get(path)
                .header("authorization", format!("Bearer {}", self.key))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// The exchange the id names as one record: for a streamed answer, the record that
    /// completes it with the `started` record's request (which the completion leaves out).
    pub async fn record(&self, id: &str) -> hegui_store::ledger::Record {
        let exchange = self.exchange(id).await;
        match exchange.completion {
            Some(mut completion) => {
                completion.request_text = exchange.record.request_text;
                completion.request_digest = exchange.record.request_digest;
                completion
            }
            None => exchange.record,
        }
    }

    /// The record the id names and, for a streamed answer, its completion.
    pub async fn exchange(&self, id: &str) -> hegui_store::ledger::Exchange {
        assert!(!id.is_empty(), "no record id");
        self.gateway
            .store()
            .exchange(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no audit record `{id}`"))
    }
}

/// The concatenated `delta.content`, the last `finish_reason` and the `aigc` object of an SSE
/// body.
pub fn sse_contents(body: &str) -> (String, Option<String>, Option<Value>) {
    let mut text = String::new();
    let mut finish = None;
    let mut aigc = None;
    for event in body.split("\n\n") {
        let Some(data) = event.strip_prefix("data: ") else {
            continue;
        };
        if data == "[DONE]" {
            continue;
        }
        let value: Value = serde_json::from_str(data).unwrap();
        if let Some(a) = value.get("aigc") {
            aigc = Some(a.clone());
        }
        for choice in value["choices"].as_array().into_iter().flatten() {
            if let Some(s) = choice["delta"]["content"].as_str() {
                text.push_str(s);
            }
            if let Some(f) = choice["finish_reason"].as_str() {
                finish = Some(f.to_owned());
            }
        }
    }
    (text, finish, aigc)
}

/// Stores on one fresh PostgreSQL schema (one per "instance"); `None` when skipped.
pub struct PgStores(pub Vec<Store>, String);

impl PgStores {
    pub async fn cleanup(self) {
        for store in &self.0 {
            store.close().await;
        }
        if let Ok(admin) = Store::open_admin_for_tests(&pg_url()).await {
            let _ = admin
                .execute_raw_for_tests(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.1))
                .await;
            admin.close().await;
        }
    }
}

fn pg_url() -> String {
    hegui_test::postgres_url()
}

/// `n` stores on one fresh schema, for `what` (named in the skip when PostgreSQL is missing).
pub async fn postgres_stores(n: usize, what: &str) -> Option<PgStores> {
    let url = hegui_test::postgres(what)?;
    let schema = format!("hegui_gw_{}", hegui_store::RecordId::generate());
    let options = hegui_store::OpenOptions {
        pg_schema: Some(schema.clone()),
        max_connections: 4,
        ..hegui_store::OpenOptions::default()
    };
    let mut stores = Vec::with_capacity(n);
    for _ in 0..n {
        stores.push(Store::open_with(&url, options.clone()).await.unwrap());
    }
    Some(PgStores(stores, schema))
}
