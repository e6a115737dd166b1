//! The admin API of a running `hegui serve --demo`: schemathesis generates requests from the
//! API's own OpenAPI description (valid and invalid bodies, queries and ids) and none may get a
//! 5xx; and `hegui admin token` creates, lists and revokes the tokens.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use hegui_test::Why;

use crate::serve::Server;

/// The token the demo printed for `role` (`operator` or `auditor`).
fn demo_token(server: &Server, role: &str) -> String {
    let marker = format!(", {role} token of `");
    server
        .banner
        .iter()
        .find(|line| line.contains(&marker))
        .and_then(|line| line.rsplit(": ").next())
        .unwrap_or_else(|| panic!("no {role} token in {:?}", server.banner))
        .to_owned()
}

#[test]
fn schemathesis_finds_no_server_error_in_the_admin_api() {
    let Some(python) = hegui_test::python() else {
        return;
    };
    let cli = Path::new(&python).with_file_name("schemathesis");
    if !cli.exists() {
        hegui_test::skip(
            Why::Missing,
            "schemathesis is not next to HEGUI_PYTHON (scripts/test-deps installs it)",
        );
        return;
    }
    let server = Server::start();
    let token = demo_token(&server, "operator");
    let origin = server.base.trim_end_matches("/v1");
    // Schemathesis keeps a cache of crashes in its working folder: not in the repository.
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::new(&cli)
        .current_dir(scratch.path())
        .args(["run", &format!("{origin}/admin/v1/openapi.json")])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error"])
        .args(["--phases", "examples,coverage,fuzzing"])
        // One worker: CPython 3.11's `ast` is not safe across threads, and hypothesis parses
        // lambdas' sources while it draws (a run with two workers once failed inside the tool
        // with "AST constructor recursion depth mismatch", not in the API).
        .args(["--max-examples", "30", "--workers", "1", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It did test the operations (not an empty run against a missing description).
    assert!(stdout.contains("/admin/v1/complaints"), "{stdout}");
}

/// A database in `dir` made by the demo (with its tenant `demo`), as a `sqlite:` URL.
fn demo_database(dir: &Path) -> String {
    let db = dir.join("gw.db");
    let mut command = Command::new(cargo_bin("hegui"));
    command
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--demo-db"])
        .arg(&db)
        .env_remove("HEGUI_DATABASE_URL");
    drop(Server::listening(command, true));
    format!("sqlite:{}", db.display())
}

#[test]
fn admin_tokens_are_created_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let url = demo_database(dir.path());
    let hegui = |args: &[&str]| {
        Command::new(cargo_bin("hegui"))
            .args(["admin", "token"])
            .args(args)
            .args(["--database", &url])
            .env_remove("HEGUI_DATABASE_URL")
            .env_remove("HEGUI_CONFIG")
            .output()
            .unwrap()
    };
    let created = hegui(&[
        "create", "--tenant", "demo", "--name", "li", "--role", "operator",
    ]);
    assert!(created.status.success(), "{created:?}");
    let token = String::from_utf8(created.stdout).unwrap();
    assert!(token.starts_with("hga_"), "{token}");
    let id = token.split('_').nth(1).unwrap().to_owned();
    let listed = hegui(&["list", "--tenant", "demo"]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed.contains(&format!("{id}\tli\toperator\tactive")),
        "{listed}"
    );
    let revoked = hegui(&["revoke", "--tenant", "demo", &id]);
    assert!(revoked.status.success(), "{revoked:?}");
    let listed = String::from_utf8(hegui(&["list", "--tenant", "demo"]).stdout).unwrap();
    assert!(
        listed.contains(&format!("{id}\tli\toperator\trevoked")),
        "{listed}"
    );
    // Errors: an unknown tenant, an unknown role, a token revoked twice.
    for (args, needle) in [
        (
            vec![
                "create", "--tenant", "nobody", "--name", "x", "--role", "operator",
            ],
            "tenant `nobody` does not exist",
        ),
        (
            vec![
                "create", "--tenant", "demo", "--name", "x", "--role", "root",
            ],
            "is not one of operator, auditor",
        ),
        (
            vec!["revoke", "--tenant", "demo", &id],
            "no active admin token",
        ),
    ] {
        let out = hegui(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn console_users_are_added_with_a_password_from_stdin() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let url = demo_database(dir.path());
    let add = |name: &str, password: &str| {
        let mut child = Command::new(cargo_bin("hegui"))
            .args([
                "console", "add-user", name, "--tenant", "demo", "--role", "auditor",
            ])
            .args(["--database", &url])
            .env_remove("HEGUI_DATABASE_URL")
            .env_remove("HEGUI_CONFIG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add("inspector", "a long enough password");
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stderr).contains("can log in at /console/login"));
    let login = hegui_store::block_on(async {
        let store = hegui_store::Store::open(&url).await.unwrap();
        let login = store
            .console_login("inspector", "a long enough password", 1)
            .await;
        store.close().await;
        login
    });
    assert!(
        matches!(login, Ok(hegui_store::console::Login::Ok(..))),
        "{login:?}"
    );
    for (name, password, needle) in [
        ("inspector", "short", "at least 10 characters"),
        ("in spector", "a long enough password", "is not 1 to 64"),
    ] {
        let out = add(name, password);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{out:?}"
        );
    }
}
