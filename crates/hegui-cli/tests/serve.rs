//! `hegui serve` as a process: the official OpenAI Python SDK against `--demo` (streaming and
//! not), and the kill -9 test (every response a client completed has its audit record).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hegui_store::ledger::StreamState;

/// A running `hegui serve --demo` on a free port, with its database in a temporary directory.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) key: String,
    db: String,
    /// What the server printed on stderr before it listened.
    pub(crate) banner: Vec<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub(crate) fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("gw.db").display());
        let mut server = Server::spawn(&[], Some(&db));
        server.db = db;
        server._dir = Some(dir);
        server
    }

    /// `hegui serve --demo --listen 127.0.0.1:0 EXTRA…`, with `HEGUI_DATABASE_URL` set to
    /// `db` or removed.
    fn spawn(extra: &[&str], db: Option<&str>) -> Server {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin("hegui"));
        command
            .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
            .args(extra);
        match db {
            Some(db) => command.env("HEGUI_DATABASE_URL", db),
            None => command.env_remove("HEGUI_DATABASE_URL"),
        };
        Server::listening(command, true)
    }

    /// Starts `command` (a `hegui serve`) and waits until it says where it listens; with
    /// `key_on_stdout` (the demo), its first line of output is the API key.
    pub(crate) fn listening(mut command: Command, key_on_stdout: bool) -> Server {
        command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut key = String::new();
        if key_on_stdout {
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut key)
                .unwrap();
        }
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut base = String::new();
        let mut banner = Vec::new();
        for _ in 0..20 {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                break;
            }
            banner.push(line.trim_end().to_owned());
            if let Some(url) = line.trim().strip_prefix("hegui gateway listening on ") {
                base = url.to_owned();
                break;
            }
        }
        assert!(
            !base.is_empty(),
            "the server did not report its address: {banner:?}"
        );
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in stderr.lines() {});
        Server {
            child,
            base,
            key: key.trim().to_owned(),
            db: String::new(),
            banner,
            _dir: None,
        }
    }

    /// The database the demo says it uses (`hegui demo: database URL (…)`).
    fn announced_db(&self) -> String {
        self.banner
            .iter()
            .find_map(|line| line.strip_prefix("hegui demo: database "))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("no database line in {:?}", self.banner))
            .to_owned()
    }

    /// The HTTP status of `GET /v1/models` with `key`.
    pub(crate) fn status_with(&self, key: &str) -> u16 {
        let url = format!("{}/models", self.base);
        hegui_store::block_on(async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }

    /// SIGTERM, as an operator stops it; waits for the exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
}

#[test]
fn the_demo_starts_from_a_fresh_database_each_time() {
    let first = Server::spawn(&[], None);
    let first_db = first.announced_db();
    let first_key = first.key.clone();
    assert_eq!(first.status_with(&first_key), 200);
    let first_file = std::path::PathBuf::from(first_db.strip_prefix("sqlite:").unwrap());
    assert!(first_file.exists(), "{}", first_file.display());
    first.terminate();
    assert!(
        !first_file.parent().unwrap().exists(),
        "the fresh database's directory outlived the demo"
    );
    let second = Server::spawn(&[], None);
    assert_ne!(second.announced_db(), first_db);
    assert_eq!(
        second.status_with(&first_key),
        401,
        "a key of an earlier run still works"
    );
    assert_eq!(second.status_with(&second.key), 200);
    second.terminate();
    // `--demo-db` keeps one on purpose.
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("kept.db");
    let kept_arg = kept.to_str().unwrap();
    let third = Server::spawn(&["--demo-db", kept_arg], None);
    let third_key = third.key.clone();
    assert!(third.announced_db().ends_with("kept.db"));
    third.terminate();
    let fourth = Server::spawn(&["--demo-db", kept_arg], None);
    assert_eq!(fourth.status_with(&third_key), 200);
    fourth.terminate();
    assert!(kept.exists());
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SDK_SNIPPET: &str = r#"
import os, sys
from openai import OpenAI
client = OpenAI(base_url=os.environ["BASE"], api_key=os.environ["KEY"])
r = client.chat.completions.create(model="demo-chat", messages=[{"role": "user", "content": "你好"}])
assert r.choices[0].finish_reason == "stop", r
assert "人工智能" in r.choices[0].message.content, r
assert r.model_extra["aigc"]["Label"] == "1", r.model_extra
text, finish = "", None
for chunk in client.chat.completions.create(model="demo-chat", stream=True,
        messages=[{"role": "user", "content": "讲个故事"}]):
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
assert finish == "content_filter", (finish, text)
assert "冰毒" not in text, text
text = ""
for chunk in client.chat.completions.create(model="demo-chat", stream=True,
        messages=[{"role": "user", "content": "你好"}]):
    if chunk.choices:
        text += chunk.choices[0].delta.content or ""
assert text.endswith("正式部署时，这里是您的模型。"), text
try:
    client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    sys.exit("unknown model accepted")
except Exception as e:
    assert getattr(e, "status_code", None) == 404, e
print("sdk ok")
"#;

#[test]
fn openai_python_sdk_streaming_and_not() {
    let Some(python) = hegui_test::python() else {
        return;
    };
    let server = Server::start();
    let output = Command::new(python)
        .args(["-c", SDK_SNIPPET])
        .env("BASE", &server.base)
        .env("KEY", &server.key)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("sdk ok"));
}

/// A two-thread runtime for a test's clients.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Chat requests to `base` as end user `w{worker}` (plain and streamed in turn) until `stop` or
/// a failure; the record ids of the responses that arrived whole (a stream up to `[DONE]`).
pub(crate) async fn load(
    base: String,
    key: String,
    model: &'static str,
    worker: usize,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let stream = i % 2 == 0;
        let body = serde_json::json!({"model": model, "stream": stream,
            "user": format!("w{worker}"),
            "messages": [{"role": "user", "content": "你好"}]});
        let Ok(response) = client
            .post(format!("{base}/chat/completions"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
        else {
            break;
        };
        if response.status() != 200 {
            break;
        }
        let id = response
            .headers()
            .get("x-hegui-record-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        match response.text().await {
            Ok(text) if !stream || text.ends_with("data: [DONE]\n\n") => ids.push(id),
            _ => break,
        }
    }
    ids
}

/// The ids among `ids` that do not name a whole exchange in `store` (no record, or a stream's
/// `started` record without its completion).
pub(crate) async fn not_whole(store: &hegui_store::Store, ids: &[String]) -> Vec<String> {
    let mut missing = Vec::new();
    for id in ids {
        let exchange = store.exchange(id).await.unwrap();
        if !exchange.is_some_and(|e| e.state() != StreamState::Interrupted) {
            missing.push(id.clone());
        }
    }
    missing
}

#[test]
fn kill_9_loses_no_record_of_a_completed_response() {
    let mut server = Server::start();
    let runtime = runtime();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..16)
        .map(|worker| {
            let (base, key) = (server.base.clone(), server.key.clone());
            runtime.spawn(load(base, key, "demo-chat", worker, stop.clone()))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL mid-load: no shutdown hook runs.
    server.child.kill().unwrap();
    let _ = server.child.wait();
    stop.store(true, Ordering::Relaxed);
    let completed: Vec<String> = workers
        .into_iter()
        .flat_map(|task| runtime.block_on(task).unwrap())
        .collect();
    assert!(
        completed.len() > 20,
        "only {} responses completed",
        completed.len()
    );
    let db = server.db.clone();
    let missing = runtime.block_on(async move {
        let store = hegui_store::Store::open(&db).await.unwrap();
        assert!(store.verify(&Default::default()).await.unwrap().is_ok());
        not_whole(&store, &completed).await
    });
    assert!(
        missing.is_empty(),
        "records missing after kill -9: {missing:?}"
    );
}

/// kill -9 while streams are open: every record id a client got names a record (the
/// `started` one, with the request), which `hegui audit trace` reports as interrupted.
#[test]
fn kill_9_mid_stream_leaves_interrupted_records() {
    let mut server = Server::start();
    let runtime = runtime();
    let url = format!("{}/chat/completions", server.base);
    let key = server.key.clone();
    let (ids, _open) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let (mut ids, mut open) = (Vec::new(), Vec::new());
        for i in 0..4 {
            // The mock sends one chunk every 2 s.
            let body = serde_json::json!({"model": "demo-chat", "stream": true,
                "messages": [{"role": "user", "content": format!("故事 {i} #fault:slowloris")}]});
            let response = client
                .post(&url)
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let id = response.headers()["x-hegui-record-id"].to_str().unwrap();
            ids.push(id.to_owned());
            open.push(response);
        }
        (ids, open)
    });
    server.child.kill().unwrap();
    let _ = server.child.wait();
    let db = server.db.clone();
    let exchanges = runtime.block_on(async {
        let store = hegui_store::Store::open(&db).await.unwrap();
        assert!(store.verify(&Default::default()).await.unwrap().is_ok());
        let mut exchanges = Vec::new();
        for id in &ids {
            exchanges.push(store.exchange(id).await.unwrap());
        }
        exchanges
    });
    for (id, exchange) in ids.iter().zip(exchanges) {
        let exchange = exchange.unwrap_or_else(|| panic!("no record `{id}` after kill -9"));
        assert_eq!(exchange.record.outcome, "started");
        assert!(
            exchange
                .record
                .request_text
                .as_deref()
                .is_some_and(|t| t.contains("#fault:slowloris")),
            "{:?}",
            exchange.record
        );
        assert_eq!(exchange.state(), StreamState::Interrupted);
    }
    let trace = Command::new(assert_cmd::cargo::cargo_bin("hegui"))
        .args(["audit", "trace", "--database", &server.db, &ids[0]])
        .output()
        .unwrap();
    assert!(trace.status.success(), "{trace:?}");
    let said = String::from_utf8_lossy(&trace.stderr);
    assert!(said.contains("interrupted"), "{said}");
}

#[test]
fn config_errors_name_the_field_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("listen = \"here\"\n", "`listen`"),
        ("[guard]\nbogus = 1\n", "unknown field `bogus`"),
        (
            "[[upstreams]]\nname = \"a\"\nbase-url = \"http://x/v1\"\nmodels = [\"m\"]\napi-key-env = \"HEGUI_TEST_SURELY_UNSET\"\n",
            "`upstreams[0].api-key-env`: environment variable `HEGUI_TEST_SURELY_UNSET` is not set",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(
            &path,
            format!(
                "storage = \"sqlite:{}\"\n{text}",
                dir.path().join("db").display()
            ),
        )
        .unwrap();
        let output = crate::util::hegui()
            .args(["serve", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    let output = crate::util::hegui()
        .args(["serve"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--demo"));
}

#[test]
fn new_key_prints_a_working_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hegui.toml");
    std::fs::write(
        &path,
        format!(
            "storage = \"sqlite:{}\"\n[[tenants]]\nid = \"acme\"\n",
            dir.path().join("db").display()
        ),
    )
    .unwrap();
    let output = crate::util::hegui()
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--new-key", "acme"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(key.starts_with("hg_"), "{key}");
    let output = crate::util::hegui()
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--new-key", "nobody"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("tenant `nobody` does not exist"));
}

/// The server's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in {status}"))
}

/// A request of nearly 4 MiB made of one blocked word (about 600,000 hits), plain and streamed,
/// keeps the server's peak resident memory under 256 MiB: the hits kept per record are capped
/// and the scan does not hold them all. When every hit was kept, one such request took 1.66 GB.
#[test]
fn a_flood_of_hits_keeps_memory_bounded() {
    if !std::path::Path::new("/proc/self/status").exists() {
        hegui_test::skip(hegui_test::Why::Missing, "the memory bound test: no /proc");
        return;
    }
    let server = Server::start();
    let word = "冰毒 ";
    let text = word.repeat((4 * 1024 * 1024 - 1024) / word.len());
    let runtime = runtime();
    for stream in [false, true] {
        let body = serde_json::json!({"model": "demo-chat", "stream": stream,
            "messages": [{"role": "user", "content": text}]});
        let status = runtime.block_on(async {
            reqwest::Client::new()
                .post(format!("{}/chat/completions", server.base))
                .bearer_auth(&server.key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap()
                .status()
        });
        assert!(status == 200 || status == 400, "{status}");
    }
    let peak = peak_rss_kib(server.child.id());
    assert!(
        peak < 256 * 1024,
        "peak resident memory {} MiB",
        peak / 1024
    );
}
