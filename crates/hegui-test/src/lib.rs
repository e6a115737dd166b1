//! Test support shared by the workspace's integration tests: skips that are loud and listed,
//! and the outside services and tools the tests talk to (a real browser among them).
//!
//! A test that cannot run here (no PostgreSQL answering, no `exiftool`, no Python SDK) calls
//! [`skip`] and returns. The skip goes to stderr, which `cargo test` hides for passing tests,
//! so it is also appended as one line to the file named by `HEGUI_SKIP_LOG`: `scripts/test`
//! sets that variable, prints the lines at the end of the run, and under CI fails the run for a
//! skip of kind [`Why::Missing`] (CI's machine installs everything in `scripts/test-deps`, so a
//! missing service there is a broken set-up, not a reason to pass).
//!
//! When *not* to use it: for a test that should fail. A skip is only for what the test's
//! machine lacks, never for what the code under test does.

use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Why a test skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Something the test needs is not on this machine (a service, a tool).
    Missing,
    /// The person running the tests asked for the skip (`HEGUI_TEST_PG=0`).
    Requested,
}

impl Why {
    fn as_str(self) -> &'static str {
        match self {
            Why::Missing => "missing",
            Why::Requested => "requested",
        }
    }
}

/// Records that the current test skips (all of it, or the part that needs what is missing):
/// a loud line on stderr and, when `HEGUI_SKIP_LOG` names a file, a line appended to it.
pub fn skip(why: Why, message: &str) {
    let test = current_test();
    eprintln!("!!!!!! SKIPPED ({}) {test}: {message} !!!!!!", why.as_str());
    if let Some(path) = std::env::var_os("HEGUI_SKIP_LOG") {
        // One short write per line with O_APPEND: lines from parallel tests do not interleave.
        let line = format!(
            "{}\t{test}\t{}\n",
            why.as_str(),
            message.replace(['\n', '\t'], " ")
        );
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = written {
            eprintln!("hegui-test: cannot append to HEGUI_SKIP_LOG: {e}");
        }
    }
}

/// `test-binary::test::path` of the running test (cargo names each test's thread after it).
fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_owned(),
            _ => stem,
        })
        .unwrap_or_default();
    let thread = std::thread::current();
    format!("{binary}::{}", thread.name().unwrap_or("?"))
}

/// The PostgreSQL URL the tests use: `HEGUI_TEST_PG_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_url() -> String {
    std::env::var("HEGUI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The PostgreSQL URL when the server answers; otherwise a skip is recorded (why: `what`, e.g.
/// "the PostgreSQL half of this test") and `None` returned. `HEGUI_TEST_PG=0` skips on request.
pub fn postgres(what: &str) -> Option<String> {
    if std::env::var("HEGUI_TEST_PG").as_deref() == Ok("0") {
        skip(
            Why::Requested,
            &format!("HEGUI_TEST_PG=0: {what} is not run"),
        );
        return None;
    }
    answering("PostgreSQL", postgres_url(), 5432, what)
}

/// `url` when something answers at its host and port (`default_port` when it names none);
/// otherwise a skip is recorded naming `service` and `what`, and `None` returned.
fn answering(service: &str, url: String, default_port: u16, what: &str) -> Option<String> {
    let address = host_port(&url, default_port);
    let answers = address
        .to_socket_addrs()
        .ok()
        .into_iter()
        .flatten()
        .any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok());
    if answers {
        Some(url)
    } else {
        skip(
            Why::Missing,
            &format!(
                "nothing answers at {address} ({service}; `scripts/test-deps` installs and starts it): {what} is not run"
            ),
        );
        None
    }
}

/// The Redis URL the tests use: `HEGUI_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("HEGUI_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The Redis URL when the server answers; otherwise a skip is recorded (why: `what`) and `None`
/// returned.
pub fn redis(what: &str) -> Option<String> {
    answering("Redis", redis_url(), 6379, what)
}

/// `host:port` of a `scheme://user@host:port/db` URL (`default_port` when not given).
fn host_port(url: &str, default_port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        format!("127.0.0.1:{default_port}")
    } else if host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
    {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    }
}

/// Whether the command-line tool `name` runs (`name ARG` exits 0); otherwise a skip is recorded
/// naming the Debian package that has it.
pub fn tool(name: &str, arg: &str, package: &str) -> bool {
    let runs = std::process::Command::new(name)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !runs {
        skip(
            Why::Missing,
            &format!(
                "`{name}` is not installed (apt-get install {package}; `scripts/test-deps` does)"
            ),
        );
    }
    runs
}

/// The Python with the pinned OpenAI SDK (`HEGUI_PYTHON`, set by `scripts/test`); otherwise a
/// skip is recorded.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("HEGUI_PYTHON").map(PathBuf::from) {
        Some(path) if path.exists() => Some(path),
        _ => {
            skip(
                Why::Missing,
                "HEGUI_PYTHON does not name a Python with the OpenAI SDK (run `scripts/test-deps`; `scripts/test` sets it)",
            );
            None
        }
    }
}

/// A real browser for the tests of the web pages: Debian's Chromium driven by npm's
/// `playwright-core` from a plain `node` script (no test framework), as `scripts/test-deps`
/// installs them. Found by [`browser`].
#[derive(Debug, Clone)]
pub struct Browser {
    /// The Chromium binary: `HEGUI_CHROMIUM`, default `/usr/bin/chromium`.
    pub chromium: PathBuf,
    /// The `node_modules` holding `playwright-core`: `HEGUI_NODE_MODULES`, default
    /// `$HEGUI_CACHE/node/node_modules` (`HEGUI_CACHE` defaults to `$HOME/.cache/hegui`).
    pub node_modules: PathBuf,
}

/// The browser when node, `playwright-core` and Chromium are all here; otherwise a skip is
/// recorded naming what is missing and `scripts/test-deps`, and `None` returned.
pub fn browser() -> Option<Browser> {
    let chromium = std::env::var_os("HEGUI_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let node_modules = std::env::var_os("HEGUI_NODE_MODULES")
        .map(PathBuf::from)
        .or_else(|| {
            let cache = std::env::var_os("HEGUI_CACHE")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/hegui"))
                })?;
            Some(cache.join("node/node_modules"))
        })
        .unwrap_or_default();
    if !tool("node", "--version", "nodejs") {
        return None;
    }
    let missing = if !node_modules.join("playwright-core/package.json").is_file() {
        format!(
            "no playwright-core in {} (HEGUI_NODE_MODULES)",
            node_modules.display()
        )
    } else if !chromium.is_file() {
        format!(
            "no Chromium at {} (HEGUI_CHROMIUM; apt-get install chromium)",
            chromium.display()
        )
    } else {
        return Some(Browser {
            chromium,
            node_modules,
        });
    };
    skip(
        Why::Missing,
        &format!("{missing}; `scripts/test-deps` installs it: the browser test is not run"),
    );
    None
}

impl Browser {
    /// Runs the node script `script` with `env` added, and waits for it: `NODE_PATH` is set so
    /// that `require('playwright-core')` finds the install, and `CHROMIUM` names the browser
    /// for `chromium.launch({executablePath: process.env.CHROMIUM})`. The script's exit status
    /// and output are the caller's to check.
    pub fn run(&self, script: &Path, env: &[(&str, &str)]) -> Output {
        Command::new("node")
            .arg(script)
            .env("NODE_PATH", &self.node_modules)
            .env("CHROMIUM", &self.chromium)
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("cannot run node {}: {e}", script.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_of_urls() {
        for (url, want) in [
            ("postgres://postgres@127.0.0.1:5432/test", "127.0.0.1:5432"),
            (
                "postgres://u:p@db.example:6543/x?sslmode=disable",
                "db.example:6543",
            ),
            ("postgresql://localhost/test", "localhost:5432"),
            ("postgres:///test", "127.0.0.1:5432"),
            ("postgres://[::1]:5433/test", "[::1]:5433"),
        ] {
            assert_eq!(host_port(url, 5432), want, "{url}");
        }
    }

    /// Runs this test binary's test `name` in a child with `env`, and returns what the child
    /// appended to its skip log. The child's environment is its own: no race with other tests.
    fn child_skips(name: &str, env: &[(&str, &str)]) -> String {
        let dir = std::env::temp_dir().join(format!("hegui-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("skips");
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("tests::{name}")])
            .env("HEGUI_TEST_CHILD", "1")
            .env("HEGUI_SKIP_LOG", &log)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::remove_dir_all(&dir).unwrap();
        text
    }

    #[test]
    fn no_server_answering_is_a_listed_skip() {
        if std::env::var_os("HEGUI_TEST_CHILD").is_some() {
            assert_eq!(postgres("this part"), None);
            return;
        }
        // Port 1 on loopback: nothing listens there.
        let text = child_skips(
            "no_server_answering_is_a_listed_skip",
            &[("HEGUI_TEST_PG_URL", "postgres://postgres@127.0.0.1:1/test")],
        );
        assert!(
            text.starts_with("missing\thegui_test::tests::no_server_answering_is_a_listed_skip\tnothing answers at 127.0.0.1:1"),
            "{text}"
        );
        let text = child_skips(
            "no_server_answering_is_a_listed_skip",
            &[("HEGUI_TEST_PG", "0")],
        );
        assert!(text.starts_with("requested\t"), "{text}");
    }

    #[test]
    fn a_skip_is_appended_to_the_log() {
        if std::env::var_os("HEGUI_TEST_CHILD").is_some() {
            skip(Why::Missing, "line\nbreak");
            return;
        }
        assert_eq!(
            child_skips("a_skip_is_appended_to_the_log", &[]),
            "missing\thegui_test::tests::a_skip_is_appended_to_the_log\tline break\n"
        );
    }

    #[test]
    fn no_browser_is_a_listed_skip() {
        if std::env::var_os("HEGUI_TEST_CHILD").is_some() {
            assert!(browser().is_none());
            return;
        }
        let text = child_skips(
            "no_browser_is_a_listed_skip",
            &[("HEGUI_NODE_MODULES", "/nonexistent/node_modules")],
        );
        assert!(
            text.starts_with("missing\thegui_test::tests::no_browser_is_a_listed_skip\t"),
            "{text}"
        );
        assert!(text.contains("scripts/test-deps"), "{text}");
    }
}
