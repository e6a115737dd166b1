//! The operator console's people, their passwords and sessions.
//!
//! A console user belongs to one tenant and has one of the admin API's roles
//! ([`crate::admins::Role`]). Passwords are stored as argon2id hashes (PHC strings, the crate's
//! default parameters). After [`MAX_FAILURES`] wrong passwords in a row the account is locked
//! for [`LOCK_MS`]; a right password resets the count. The lock is decided in the same
//! statement that counts the failure, so parallel guesses cannot slip past it.
//!
//! A session is 32 random bytes in a cookie; the store keeps only their SM3 digest, with the
//! session's CSRF token (also random) and its expiry, so sessions work across a fleet's
//! instances and a copy of the database logs nobody in.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};

use crate::admins::Role;
use crate::backend::with_pool;
use crate::{Store, StoreError};

/// Wrong passwords in a row before the account is locked.
pub const MAX_FAILURES: i64 = 5;

/// How long a locked account stays locked, in milliseconds (15 minutes).
pub const LOCK_MS: i64 = 15 * 60_000;

/// How long a session lasts without a new login, in milliseconds (8 hours: a working day).
pub const SESSION_MS: i64 = 8 * 3_600_000;

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// A console user (never the password).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleUser {
    /// Login name, unique; the actor in records.
    pub name: String,
    /// The tenant they act for.
    pub tenant_id: String,
    /// Their role.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// What a login attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The password is right: a new session.
    Ok(ConsoleUser, NewSession),
    /// No such user, or a wrong password (the two are not told apart).
    Wrong,
    /// Locked until this time (ms), right password or not.
    Locked(i64),
}

/// A session just opened: the cookie value (shown once) and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The cookie's value.
    pub token: String,
    /// The token every form of the session must carry.
    pub csrf: String,
    /// When it expires (ms).
    pub expires_ms: i64,
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who.
    pub user: ConsoleUser,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it expires (ms).
    pub expires_ms: i64,
}

fn session_digest(token: &str) -> [u8; 32] {
    hegui_keys::sm3(format!("hegui-console-session/1\n{token}").as_bytes())
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt =
        SaltString::encode_b64(&crate::random_bytes::<16>()).map_err(|e| StoreError::Invalid {
            what: "password salt",
            reason: e.to_string(),
        })?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid {
            what: "password",
            reason: e.to_string(),
        })
}

/// A hash of a password nobody has, to spend the same time on an unknown name as on a known
/// one.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("hegui-console-dummy-password").unwrap_or_default())
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Store {
    /// Adds a console user with `password` (at least [`MIN_PASSWORD`] characters), or sets a
    /// new password, tenant and role for an existing name (and unlocks it).
    pub async fn set_console_user(
        &self,
        tenant_id: &str,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<ConsoleUser, StoreError> {
        let bad_name = name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if bad_name {
            return Err(StoreError::Invalid {
                what: "console user name",
                reason: format!("`{name}` is not 1 to 64 letters, digits, `.`, `-`, `_`, `@`"),
            });
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(StoreError::Invalid {
                what: "password",
                reason: format!("it must have at least {MIN_PASSWORD} characters"),
            });
        }
        let hash = hash_password(password)?;
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO console_users (name, tenant_id, role, password_hash, failures, locked_until_ms, created_ms) \
                 VALUES ($1, $2, $3, $4, 0, 0, $5) ON CONFLICT (name) DO UPDATE SET tenant_id = excluded.tenant_id, \
                 role = excluded.role, password_hash = excluded.password_hash, failures = 0, locked_until_ms = 0",
            )
            .bind(name)
            .bind(tenant_id)
            .bind(role.as_str())
            .bind(&hash)
            .bind(self.now_ms())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("writing console users"))
        })?;
        Ok(ConsoleUser {
            name: name.to_owned(),
            tenant_id: tenant_id.to_owned(),
            role,
        })
    }

    /// Checks a login at `now_ms`: a session for the right password of an unlocked user;
    /// otherwise the failure is counted and the account locked at the [`MAX_FAILURES`]th.
    pub async fn console_login(
        &self,
        name: &str,
        password: &str,
        now_ms: i64,
    ) -> Result<Login, StoreError> {
        let row: Option<(String, String, String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT tenant_id, role, password_hash, locked_until_ms FROM console_users WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading console users"))
        })?;
        let Some((tenant_id, role, hash, locked_until)) = row else {
            // The same work as for a known name.
            let _ = password_matches(password, dummy_hash());
            return Ok(Login::Wrong);
        };
        if locked_until > now_ms {
            return Ok(Login::Locked(locked_until));
        }
        if !password_matches(password, &hash) {
            let locked: Option<(i64,)> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "UPDATE console_users SET locked_until_ms = CASE WHEN failures + 1 >= $1 THEN $2 ELSE locked_until_ms END, \
                     failures = CASE WHEN failures + 1 >= $1 THEN 0 ELSE failures + 1 END \
                     WHERE name = $3 RETURNING locked_until_ms",
                )
                .bind(MAX_FAILURES)
                .bind(now_ms + LOCK_MS)
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("counting a failed login"))
            })?;
            return Ok(match locked {
                Some((until,)) if until > now_ms => Login::Locked(until),
                _ => Login::Wrong,
            });
        }
        let token = hex::encode(crate::random_bytes::<32>());
        let csrf = hex::encode(crate::random_bytes::<32>());
        let expires_ms = now_ms + SESSION_MS;
        let digest = session_digest(&token);
        with_pool!(self, |pool| {
            let e = || StoreError::db("opening a console session");
            let mut tx = pool.begin().await.map_err(e())?;
            sqlx::query("UPDATE console_users SET failures = 0 WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(e())?;
            sqlx::query("DELETE FROM console_sessions WHERE expires_ms < $1")
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(e())?;
            sqlx::query(
                "INSERT INTO console_sessions (digest, name, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&digest[..])
            .bind(name)
            .bind(&csrf)
            .bind(now_ms)
            .bind(expires_ms)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            tx.commit().await.map_err(e())
        })?;
        Ok(Login::Ok(
            ConsoleUser {
                name: name.to_owned(),
                tenant_id,
                role: role.parse()?,
            },
            NewSession {
                token,
                csrf,
                expires_ms,
            },
        ))
    }

    /// The live session of a cookie value at `now_ms`, if any.
    pub async fn console_session(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        let digest = session_digest(token);
        let row: Option<(String, String, String, String, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT u.name, u.tenant_id, u.role, s.csrf, s.expires_ms FROM console_sessions s \
                 JOIN console_users u ON u.name = s.name WHERE s.digest = $1 AND s.expires_ms > $2",
            )
            .bind(&digest[..])
            .bind(now_ms)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading console sessions"))
        })?;
        row.map(|(name, tenant_id, role, csrf, expires_ms)| {
            Ok(Session {
                user: ConsoleUser {
                    name,
                    tenant_id,
                    role: role.parse()?,
                },
                csrf,
                expires_ms,
            })
        })
        .transpose()
    }

    /// Ends a session (logout); nothing happens for an unknown one.
    pub async fn end_console_session(&self, token: &str) -> Result<(), StoreError> {
        let digest = session_digest(token);
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM console_sessions WHERE digest = $1")
                .bind(&digest[..])
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(StoreError::db("ending a console session"))
        })
    }
}
