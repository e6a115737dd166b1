//! The crate's error type. Messages follow the project style: lowercase, values in backticks,
//! causes chained with `: `.

/// Errors from opening, migrating, reading and writing the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not `sqlite:…` or `postgres://…`, or cannot be parsed.
    #[error("invalid database url `{url}`: {reason}")]
    Url {
        /// The URL with any password removed.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The database reported an error.
    #[error("database error while {action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The cause.
        source: sqlx::Error,
    },
    /// SQLite reported an error on a connection opened outside the pool (verification reads
    /// the file on a plain connection of its own).
    #[error("database error while {action}: {source}")]
    Sqlite {
        /// What was being done.
        action: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The database does not exist, and the caller asked not to create it.
    #[error("database `{url}` does not exist ({reason}); check the path or URL")]
    Missing {
        /// The URL with any password removed.
        url: String,
        /// What was found instead.
        reason: String,
    },
    /// The database exists but holds no hegui tables.
    #[error("database `{url}` is not a hegui database (it has no `hegui_migrations` table)")]
    NotHegui {
        /// The URL with any password removed.
        url: String,
    },
    /// The database was migrated by a newer hegui than this one.
    #[error(
        "the database has schema migration `{version}`, which this hegui does not know; use a newer hegui"
    )]
    NewerSchema {
        /// The unknown migration version.
        version: i64,
    },
    /// A stored migration differs from the one compiled into this program.
    #[error("migration `{version}` was applied with different contents; refusing to continue")]
    MigrationChanged {
        /// The migration version.
        version: i64,
    },
    /// A value read from the database or given by the caller is not valid.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The change is not allowed in the current state (a step its state does not allow, a
    /// second takedown of the same record).
    #[error("{what}: {reason}")]
    Conflict {
        /// What was to change.
        what: &'static str,
        /// Why it cannot.
        reason: String,
    },
    /// Nothing with this key exists.
    #[error("no {what} `{key}`")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// Signing or verifying a checkpoint failed.
    #[error("checkpoint signature: {0}")]
    Key(#[from] hegui_keys::KeyError),
    /// Reading or writing an export file failed.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Pruning would remove records younger than the retention period.
    #[error(
        "refusing to prune records younger than the retention period of {days} days (cut-off `{before}`)"
    )]
    Retention {
        /// The retention period in days.
        days: u32,
        /// The requested cut-off (RFC 3339).
        before: String,
    },
    /// A signing key is needed for this operation.
    #[error("{0}: pass a signing key")]
    NeedKey(&'static str),
    /// The audit writer has stopped (the store was closed or its task ended).
    #[error("the audit writer has stopped")]
    WriterClosed,
}

impl StoreError {
    /// A blocking thread or task (`what`) that died: an error, never a panic here.
    pub(crate) fn task_failed(what: &'static str, cause: impl std::fmt::Display) -> StoreError {
        StoreError::Invalid {
            what,
            reason: cause.to_string(),
        }
    }

    pub(crate) fn sqlite(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite { action, source }
    }

    pub(crate) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { action, source }
    }
}
