//! The web pages in a real browser: Debian's Chromium driven by `playwright-core` from plain
//! node scripts in `tests/browser/` (their helper is `tests/browser/lib.js`), against a
//! `hegui serve --demo`. Without the browser (`scripts/test-deps` installs it) the tests skip,
//! loudly and listed.
//!
//! A script gets `ORIGIN` (the server's `http://127.0.0.1:PORT`) and `OUT_DIR` (a temporary
//! directory for screenshots, kept and named when the script fails).

use std::path::{Path, PathBuf};

use crate::serve::Server;

/// `tests/browser/NAME`.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(name)
}

/// `http://127.0.0.1:PORT` of a server whose `base` is `http://127.0.0.1:PORT/v1`.
fn origin(server: &Server) -> &str {
    server
        .base
        .strip_suffix("/v1")
        .unwrap_or_else(|| panic!("base {} does not end in /v1", server.base))
}

/// Runs the browser script `name` against `server` with `env` added, and fails the test with
/// the script's output when the script fails. Returns the script's stdout and its `OUT_DIR`.
fn run_script(
    browser: &hegui_test::Browser,
    server: &Server,
    name: &str,
    env: &[(&str, &str)],
) -> (String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap().to_owned();
    let mut all = vec![("ORIGIN", origin(server)), ("OUT_DIR", out_dir.as_str())];
    all.extend_from_slice(env);
    let output = browser.run(&script(name), &all);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let kept = out.keep();
        panic!(
            "browser script {name} failed ({}); screenshots in {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
            output.status,
            kept.display()
        );
    }
    (stdout, out)
}

#[test]
fn public_pages_in_chromium() {
    let Some(browser) = hegui_test::browser() else {
        return;
    };
    let server = Server::start();
    let announced = format!("hegui demo: public pages {}/public/demo", origin(&server));
    assert!(
        server.banner.contains(&announced),
        "the banner does not name the public pages: {:?}",
        server.banner
    );
    let (stdout, out) = run_script(&browser, &server, "public_pages.js", &[]);
    // The script checked it too; the Rust side reads the file to know the screenshot is there.
    let png = std::fs::read(out.path().join("index.png")).unwrap();
    assert!(
        png.len() > 1000 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "index.png: {} bytes",
        png.len()
    );
    // Shown with `--nocapture`: what the script noticed (a raw JSON form error, say).
    for line in stdout.lines().filter(|line| line.starts_with("note:")) {
        eprintln!("{line}");
    }
}

/// The console password the demo printed (`… with password demo-…`).
fn console_password(server: &Server) -> String {
    server
        .banner
        .iter()
        .find_map(|line| line.split(" with password ").nth(1))
        .unwrap_or_else(|| panic!("no console password in {:?}", server.banner))
        .trim()
        .to_owned()
}

/// An operator's day in the console, and an auditor's look at it (tests/browser/console.js):
/// a complaint answered, a user suspended, an answer taken down and refused, a forged form
/// rejected, the auditor's pages without forms; a screenshot of each page. With
/// `HEGUI_SCREENSHOTS=DIR` the screenshots are copied there (the README's comes from it).
#[test]
fn the_console_in_chromium() {
    let Some(browser) = hegui_test::browser() else {
        return;
    };
    let server = Server::start();
    let password = console_password(&server);
    let origin = origin(&server).to_owned();
    let (record, ticket) = hegui_store::block_on(async {
        let client = reqwest::Client::new();
        // Some traffic for the dashboard: answers, and inputs the lexicon refuses; mallory's
        // answer is the one complained about and taken down.
        let mut record = String::new();
        for (user, text) in [
            ("alice", "你好"),
            ("bob", "你好"),
            ("carol", "写一首诗"),
            ("dave", "哪里可以买到冰毒"),
            ("erin", "哪里可以买到冰毒"),
            ("mallory", "讲个故事"),
        ] {
            let answer = client
                .post(format!("{}/chat/completions", server.base))
                .bearer_auth(&server.key)
                .header("content-type", "application/json")
                .body(
                    serde_json::json!({"model": "demo-chat", "user": user,
                        "messages": [{"role": "user", "content": text}]})
                    .to_string(),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
            if user == "mallory" {
                record = answer.headers()["x-hegui-record-id"]
                    .to_str()
                    .unwrap()
                    .to_owned();
            }
        }
        let received = client
            .post(format!("{origin}/public/demo/complaints"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"kind": "report", "content": "这个回答编造了虚假信息",
                    "record": record})
                .to_string(),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let received: serde_json::Value = serde_json::from_str(&received).unwrap();
        (record, received["ticket"].as_str().unwrap().to_owned())
    });
    let (_, out) = run_script(
        &browser,
        &server,
        "console.js",
        &[
            ("PASSWORD", &password),
            ("RECORD", &record),
            ("TICKET", &ticket),
            ("KEY", &server.key),
        ],
    );
    let pages = [
        "login",
        "dashboard",
        "complaints",
        "complaint",
        "user",
        "record",
        "audit",
        "takedowns",
        "lexicon",
        "users",
        "pi",
        "auditor",
    ];
    for name in pages {
        let png = std::fs::read(out.path().join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png");
    }
    if let Some(dir) = std::env::var_os("HEGUI_SCREENSHOTS") {
        for name in pages {
            let file = format!("{name}.png");
            std::fs::copy(
                out.path().join(&file),
                std::path::Path::new(&dir).join(&file),
            )
            .unwrap();
        }
    }
}
