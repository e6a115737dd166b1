//! Test databases: a temporary SQLite file, and a freshly created PostgreSQL schema with a
//! random name on the server at 127.0.0.1:5432 (database `test`), dropped afterwards, because
//! other test runs use the same server at the same time.
//!
//! When nothing answers at the URL, or with `HEGUI_TEST_PG=0`, the PostgreSQL half skips,
//! loudly and listed by `scripts/test` (`hegui_test::postgres`). `HEGUI_TEST_PG_URL` overrides
//! the URL.

#![allow(dead_code, unreachable_pub)]

use hegui_store::{OpenOptions, Store};

/// A test database; drops its PostgreSQL schema (or SQLite directory) when dropped.
pub struct TestDb {
    pub url: String,
    pub options: OpenOptions,
    pub name: &'static str,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn open(&self) -> Store {
        Store::open_with(&self.url, self.options.clone())
            .await
            .unwrap_or_else(|e| panic!("opening {} test database: {e}", self.name))
    }

    /// Runs raw SQL (for tamper tests), on a separate connection.
    pub async fn execute(&self, sql: &str) {
        let store = self.open().await;
        store.execute_raw_for_tests(sql).await.unwrap();
        store.close().await;
    }
}

pub fn pg_url() -> String {
    hegui_test::postgres_url()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            // Runs during unwinding too, on its own thread and runtime.
            let url = pg_url();
            let _ = std::thread::spawn(move || {
                hegui_store::block_on(async move {
                    if let Ok(store) = Store::open_admin_for_tests(&url).await {
                        let _ = store
                            .execute_raw_for_tests(&format!(
                                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                            ))
                            .await;
                        store.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    TestDb {
        url: format!("sqlite:{}", dir.path().join("hegui.db").display()),
        options: OpenOptions::default(),
        name: "sqlite",
        schema: None,
        _dir: Some(dir),
    }
}

/// SQLite in memory: one connection, nothing kept after the store closes. Verification takes
/// the sqlx path here (there is no file to open beside the pool).
pub fn sqlite_memory() -> TestDb {
    TestDb {
        url: "sqlite::memory:".into(),
        options: OpenOptions::default(),
        name: "sqlite in memory",
        schema: None,
        _dir: None,
    }
}

pub fn postgres() -> Option<TestDb> {
    let url = hegui_test::postgres("the PostgreSQL half of this test")?;
    let mut bytes = [0u8; 8];
    getrandom_fill(&mut bytes);
    let schema = format!("hegui_test_{}", hex::encode(bytes));
    Some(TestDb {
        url,
        options: OpenOptions {
            pg_schema: Some(schema.clone()),
            max_connections: 4,
            ..OpenOptions::default()
        },
        name: "postgres",
        schema: Some(schema),
        _dir: None,
    })
}

fn getrandom_fill(bytes: &mut [u8]) {
    use rand_core::RngCore as _;
    rand_core::OsRng.fill_bytes(bytes);
}

/// Both backends (PostgreSQL unless skipped).
pub fn backends() -> Vec<TestDb> {
    let mut out = vec![sqlite()];
    out.extend(postgres());
    out
}

/// Defines `#[test] fn $name` running `$body(db: &TestDb)` on each backend.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        #[test]
        fn $name() {
            for db in common::backends() {
                eprintln!("-- {} on {}", stringify!($name), db.name);
                hegui_store::block_on($body(&db));
            }
        }
    };
}
