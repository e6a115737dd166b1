//! Opening a store: parsing the URL, tuning the connection (SQLite: WAL, `synchronous=FULL`,
//! busy timeout), and running the backend's migrations.
//!
//! Both backends are reached through one [`Store`] value. Queries are written once, with `$1`
//! placeholders (which SQLite also accepts), and the private `with_pool!` macro expands each
//! query body once per backend, so the two backends run the same SQL text wherever the
//! dialects agree. Types stay portable: `i64`, `bool`, `String`, `Vec<u8>`.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};

use crate::StoreError;
use crate::clock::Clock;

/// Which database a [`Store`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file (WAL mode).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Minimum age, in days, of records that `prune` may remove. Default 180 (six months: the
    /// Cybersecurity Law art. 21(3) network-log duty, regulation.md §(e)).
    pub retention_days: u32,
    /// PostgreSQL only: the schema to use (created if missing). Default: the server's
    /// `search_path` (normally `public`).
    pub pg_schema: Option<String>,
    /// Maximum connections in the pool.
    pub max_connections: u32,
    /// Whether the database may be created, and whether it is written to.
    pub access: Access,
}

/// How [`Store::open_with`] treats the database it is pointed at.
///
/// Tools that inspect a ledger (`hegui audit verify`, `trace`, `export`) must never create one:
/// a mistyped path would otherwise become a new, empty, "verified" ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Create the database (the SQLite file, the PostgreSQL schema) when missing and run the
    /// migrations: what the gateway does.
    #[default]
    Create,
    /// The database must exist and already be a hegui database; migrations run, and the caller
    /// writes to it (pruning, signing a checkpoint).
    Existing,
    /// The database must exist and already be a hegui database; nothing is written: SQLite
    /// opens the file read-only, PostgreSQL sessions are read-only and no schema is created.
    ReadOnly,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            retention_days: 180,
            pg_schema: None,
            max_connections: 8,
            access: Access::Create,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle to the database: cheap to clone (a connection pool inside).
#[derive(Clone)]
pub struct Store {
    pub(crate) pools: Pools,
    pub(crate) options: Arc<OpenOptions>,
    /// The SQLite database file (not for a database in memory): verification opens it on a
    /// plain connection of its own.
    pub(crate) sqlite_file: Option<Arc<std::path::Path>>,
    /// The time the store stamps rows with ([`Store::with_clock`]).
    pub(crate) clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pools", &self.pools)
            .field("options", &self.options)
            .field("sqlite_file", &self.sqlite_file)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool; the body is compiled once per backend.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pools {
            $crate::backend::Pools::Sqlite($pool) => $body,
            $crate::backend::Pools::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// One migration: version, name, SQL.
type Migration = (i64, &'static str, &'static str);

const SQLITE_MIGRATIONS: &[Migration] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "drop user index",
        include_str!("../migrations/sqlite/0002_drop_user_index.sql"),
    ),
    (
        3,
        "drop time index",
        include_str!("../migrations/sqlite/0003_drop_time_index.sql"),
    ),
    (
        4,
        "agreement acceptances",
        include_str!("../migrations/sqlite/0004_agreement_acceptances.sql"),
    ),
    (
        5,
        "governance",
        include_str!("../migrations/sqlite/0005_governance.sql"),
    ),
    (
        6,
        "identity and minors",
        include_str!("../migrations/sqlite/0006_identity_minors.sql"),
    ),
    (
        7,
        "console",
        include_str!("../migrations/sqlite/0007_console.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[Migration] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "drop user index",
        include_str!("../migrations/postgres/0002_drop_user_index.sql"),
    ),
    (
        3,
        "drop time index",
        include_str!("../migrations/postgres/0003_drop_time_index.sql"),
    ),
    (
        4,
        "agreement acceptances",
        include_str!("../migrations/postgres/0004_agreement_acceptances.sql"),
    ),
    (
        5,
        "governance",
        include_str!("../migrations/postgres/0005_governance.sql"),
    ),
    (
        6,
        "identity and minors",
        include_str!("../migrations/postgres/0006_identity_minors.sql"),
    ),
    (
        7,
        "console",
        include_str!("../migrations/postgres/0007_console.sql"),
    ),
];

/// A key for `pg_advisory_xact_lock`, so that two instances starting at once do not both migrate.
const MIGRATION_LOCK: i64 = 0x6865_6775_6930_0001;

impl Store {
    /// Opens the database at `url` with default options and runs its migrations.
    ///
    /// `url` is `sqlite:PATH` (the file is created if missing; a bare path also works) or
    /// `postgres://USER@HOST:PORT/DB`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, OpenOptions::default()).await
    }

    /// Opens the database at `url` and runs its migrations.
    pub async fn open_with(url: &str, options: OpenOptions) -> Result<Store, StoreError> {
        let bad = |reason: String| StoreError::Url {
            url: redact(url),
            reason,
        };
        let mut sqlite_file: Option<std::path::PathBuf> = None;
        let pools = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut connect = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
            let mut session: Vec<(&str, &str)> = Vec::new();
            if options.access == Access::ReadOnly {
                session.push(("default_transaction_read_only", "on"));
            }
            if let Some(schema) = &options.pg_schema {
                if !is_identifier(schema) {
                    return Err(bad(format!("schema `{schema}` is not a plain identifier")));
                }
                session.push(("search_path", schema.as_str()));
            }
            if let Some(schema) = options
                .pg_schema
                .as_ref()
                .filter(|_| options.access == Access::Create)
            {
                // Create the schema on a single connection first, then point the pool at it.
                let mut conn = sqlx::PgConnection::connect_with(&connect)
                    .await
                    .map_err(StoreError::db("connecting"))?;
                // INVARIANT: `schema` was checked by `is_identifier`.
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
                )))
                .execute(&mut conn)
                .await
                .map_err(StoreError::db("creating the schema"))?;
                conn.close().await.map_err(StoreError::db("connecting"))?;
            }
            if !session.is_empty() {
                connect = connect.options(session);
            }
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .connect_with(connect)
                .await
                .map_err(StoreError::db("connecting"))?;
            Pools::Postgres(pool)
        } else {
            let memory = url.contains(":memory:");
            let text = if url.starts_with("sqlite:") {
                url.to_owned()
            } else if url.contains("://") {
                return Err(bad("expected `sqlite:PATH` or `postgres://…`".into()));
            } else {
                format!("sqlite:{url}")
            };
            let mut connect = SqliteConnectOptions::from_str(&text)
                .map_err(|e| bad(e.to_string()))?
                .create_if_missing(options.access == Access::Create)
                .read_only(options.access == Access::ReadOnly)
                .busy_timeout(Duration::from_secs(30))
                // Rows cross from the connection's thread to the caller in a channel; a larger
                // buffer means fewer thread hand-offs when verifying or exporting pages of
                // thousands of records (the default is 50).
                .row_buffer_size(1024)
                .foreign_keys(true)
                // Statement journals (a multi-row INSERT may need to undo itself) stay in memory
                // instead of temporary files created and unlinked per statement.
                .pragma("temp_store", "memory")
                // 16 MiB of page cache per connection (the default is 2 MiB), so that the
                // appending connection finds the index and table pages it touches in memory.
                .pragma("cache_size", "-16384");
            if !memory && options.access != Access::Create {
                let file = connect.get_filename();
                if !file.is_file() {
                    return Err(StoreError::Missing {
                        url: redact(url),
                        reason: if file.exists() {
                            "it is not a file".into()
                        } else {
                            "no such file".into()
                        },
                    });
                }
            }
            if !memory {
                sqlite_file = Some(connect.get_filename().to_owned());
            }
            if !memory && options.access != Access::ReadOnly {
                // WAL: readers never block the writer. FULL: the WAL is fsynced at every commit,
                // so an acknowledged record survives power loss, not only a process crash.
                connect = connect
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full);
            }
            let pool = SqlitePoolOptions::new()
                // An in-memory database exists per connection: keep exactly one.
                .max_connections(if memory {
                    1
                } else {
                    options.max_connections.max(1)
                })
                .connect_with(connect)
                .await
                .map_err(StoreError::db("opening the database"))?;
            Pools::Sqlite(pool)
        };
        let store = Store {
            pools,
            options: Arc::new(options),
            // Absolute (the pool has created the file by now), so that verification opens the
            // same file if the working directory changes later.
            sqlite_file: sqlite_file
                .map(|file| Arc::from(std::fs::canonicalize(&file).unwrap_or(file))),
            clock: crate::clock::system(),
        };
        match store.options.access {
            Access::Create => store.migrate().await?,
            Access::Existing => {
                store.check_schema(url).await?;
                store.migrate().await?;
            }
            Access::ReadOnly => store.check_schema(url).await?,
        }
        Ok(store)
    }

    /// The same store, stamping rows with the time `clock` tells (a gateway passes its own, so
    /// that the records and deadlines it writes agree with the time its guards read). Start the
    /// [`crate::AuditWriter`] after this: the writer keeps the clock it was started with.
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// Milliseconds since the Unix epoch, by the store's clock.
    pub fn now_ms(&self) -> i64 {
        crate::clock::ms(&self.clock)
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite(_) => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &OpenOptions {
        &self.options
    }

    /// Resolves when [`Store::close`] is called (at once if it was).
    pub(crate) async fn close_event(&self) {
        with_pool!(self, |pool| pool.close_event().await);
    }

    /// Closes every connection; waits for them to finish.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await);
    }

    fn migrations(&self) -> &'static [Migration] {
        match self.backend() {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }

    /// Checks, without writing, that the database is a hegui database whose schema this
    /// program knows: its migrations table exists, every applied migration is one of ours with
    /// the same contents. An older schema is accepted (reading works on every version so far).
    async fn check_schema(&self, url: &str) -> Result<(), StoreError> {
        const EXISTS_SQLITE: &str =
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'hegui_migrations'";
        const EXISTS_POSTGRES: &str = "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'hegui_migrations' AND schemaname = ANY (current_schemas(false))";
        let exists = match self.backend() {
            Backend::Sqlite => EXISTS_SQLITE,
            Backend::Postgres => EXISTS_POSTGRES,
        };
        let applied: Vec<(i64, String)> = with_pool!(self, |pool| {
            let count: i64 = sqlx::query_scalar(exists)
                .fetch_one(pool)
                .await
                .map_err(StoreError::db("reading the schema"))?;
            if count == 0 {
                return Err(StoreError::NotHegui { url: redact(url) });
            }
            sqlx::query_as("SELECT version, digest FROM hegui_migrations ORDER BY version")
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading the schema"))?
        });
        for (version, digest) in applied {
            match self.migrations().iter().find(|(v, _, _)| *v == version) {
                Some((_, _, sql)) if hex::encode(hegui_keys::sm3(sql.as_bytes())) == digest => {}
                Some(_) => return Err(StoreError::MigrationChanged { version }),
                None => return Err(StoreError::NewerSchema { version }),
            }
        }
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = self.migrations();
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS hegui_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, digest TEXT NOT NULL, applied_ms BIGINT NOT NULL)";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(StoreError::db("migrating"))?;
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("migrating"))?;
            }
            sqlx::raw_sql(CREATE)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("migrating"))?;
            let rows = sqlx::query("SELECT version, digest FROM hegui_migrations")
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::db("migrating"))?;
            let mut applied = Vec::new();
            for row in &rows {
                let version: i64 = row.try_get(0).map_err(StoreError::db("migrating"))?;
                let digest: String = row.try_get(1).map_err(StoreError::db("migrating"))?;
                applied.push((version, digest));
            }
            for (version, name, sql) in migrations {
                let digest = hex::encode(hegui_keys::sm3(sql.as_bytes()));
                match applied.iter().find(|(v, _)| v == version) {
                    Some((_, stored)) if *stored == digest => continue,
                    Some(_) => {
                        return Err(StoreError::MigrationChanged { version: *version });
                    }
                    None => {}
                }
                sqlx::raw_sql(*sql)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::db("migrating"))?;
                sqlx::query(
                    "INSERT INTO hegui_migrations (version, name, digest, applied_ms) VALUES ($1, $2, $3, $4)",
                )
                .bind(*version)
                .bind(*name)
                .bind(digest)
                .bind(self.now_ms())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("migrating"))?;
            }
            tx.commit().await.map_err(StoreError::db("migrating"))?;
            Ok(())
        })
    }
}

/// Whether `s` is a safe unquoted-style SQL identifier (letters, digits, `_`; not starting with
/// a digit).
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// `url` without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = url.get(scheme + 3..at).unwrap_or("");
            let user = userinfo.split(':').next().unwrap_or("");
            format!(
                "{}{user}:…{}",
                url.get(..scheme + 3).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_owned(),
    }
}

#[doc(hidden)]
impl Store {
    /// Runs raw SQL. For tests only (tampering with rows, dropping schemas); not part of the API.
    pub async fn execute_raw_for_tests(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        with_pool!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("running sql")))
    }

    /// Connects to PostgreSQL without migrating. For tests only.
    pub async fn open_admin_for_tests(url: &str) -> Result<Store, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(StoreError::db("connecting"))?;
        Ok(Store {
            pools: Pools::Postgres(pool),
            options: Arc::new(OpenOptions::default()),
            sqlite_file: None,
            clock: crate::clock::system(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        for (url, want) in [
            ("postgres://u:secret@h/db", "postgres://u:…@h/db"),
            ("postgres://h/db", "postgres://h/db"),
            ("sqlite:a.db", "sqlite:a.db"),
        ] {
            assert_eq!(redact(url), want, "{url}");
        }
    }

    #[test]
    fn identifiers() {
        for (s, ok) in [("t_1", true), ("1t", false), ("a-b", false), ("", false)] {
            assert_eq!(is_identifier(s), ok, "{s}");
        }
    }
}
