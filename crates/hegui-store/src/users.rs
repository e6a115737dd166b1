//! End users and their state (the sanctions that change it are in [`crate::sanctions`]).
//!
//! Each end user also has an identity status (Deep Synthesis Provisions art. 9: verified or
//! not, who reported it and when; never identity documents) and a minor flag, set by the
//! provider's systems ([`Store::set_identity`], [`Store::set_minor`]) and read by the gateway's
//! identity and minors guards.

use crate::backend::with_pool;
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

/// An end user's standing.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    /// No restriction.
    Normal,
    /// Warned.
    Warned,
    /// Some functions restricted.
    Restricted,
    /// Service suspended.
    Suspended,
    /// Service terminated.
    Terminated,
}

impl UserState {
    /// Every state.
    pub const ALL: [UserState; 5] = [
        UserState::Normal,
        UserState::Warned,
        UserState::Restricted,
        UserState::Suspended,
        UserState::Terminated,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Normal => "normal",
            UserState::Warned => "warned",
            UserState::Restricted => "restricted",
            UserState::Suspended => "suspended",
            UserState::Terminated => "terminated",
        }
    }
}

impl std::str::FromStr for UserState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        UserState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| StoreError::Invalid {
                what: "user state",
                reason: format!(
                    "`{s}` is not one of normal, warned, restricted, suspended, terminated"
                ),
            })
    }
}

text_enum!(
    /// Whether an end user's real identity was verified (Deep Synthesis Provisions art. 9).
    /// hegui keeps only this status, who reported it and when: never identity documents.
    IdentityStatus {
        /// Not verified (the default of every end user).
        Unverified = "unverified",
        /// Verified by the provider's identity system.
        Verified = "verified",
    }
);

/// An end user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndUser {
    /// Tenant.
    pub tenant_id: String,
    /// User id within the tenant.
    pub user_id: String,
    /// Current state.
    pub state: UserState,
    /// Whether the user is a minor (special protection duties).
    pub minor: bool,
    /// Whether the user's identity is verified.
    pub identity: IdentityStatus,
    /// Who last set the identity status (`sms`, `header`, `admin`, …); none when never set.
    pub identity_source: Option<String>,
    /// When the identity status was last set, in milliseconds since the epoch.
    pub identity_ms: Option<i64>,
    /// Last change.
    pub updated_ms: i64,
}

/// The longest identity source accepted, in bytes.
const MAX_SOURCE: usize = 32;

/// Checks an identity source: 1 to 32 of `a-z`, `0-9`, `_`, `-`.
fn check_source(source: &str) -> Result<(), StoreError> {
    let ok = !source.is_empty()
        && source.len() <= MAX_SOURCE
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            what: "identity source",
            reason: format!("`{source}` is not 1 to 32 of a-z, 0-9, `_`, `-`"),
        })
    }
}

impl Store {
    /// The user, if known.
    pub async fn end_user(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<EndUser>, StoreError> {
        type Row = (String, bool, String, Option<String>, Option<i64>, i64);
        let row: Option<Row> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT state, minor, identity, identity_source, identity_ms, updated_ms \
                 FROM end_users WHERE tenant_id = $1 AND user_id = $2",
            )
            .bind(tenant_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading end users"))
        })?;
        row.map(
            |(state, minor, identity, identity_source, identity_ms, updated_ms)| {
                Ok(EndUser {
                    tenant_id: tenant_id.to_owned(),
                    user_id: user_id.to_owned(),
                    state: state.parse()?,
                    minor,
                    identity: identity.parse()?,
                    identity_source,
                    identity_ms,
                    updated_ms,
                })
            },
        )
        .transpose()
    }

    /// The user as just written; an error if the row is missing.
    async fn written_user(&self, tenant_id: &str, user_id: &str) -> Result<EndUser, StoreError> {
        self.end_user(tenant_id, user_id)
            .await?
            .ok_or_else(|| StoreError::Invalid {
                what: "end user",
                reason: format!("`{user_id}` of tenant `{tenant_id}` vanished while written"),
            })
    }

    /// Sets whether the user is a minor; creates the user (state `normal`) if unknown.
    pub async fn set_minor(
        &self,
        tenant_id: &str,
        user_id: &str,
        minor: bool,
    ) -> Result<EndUser, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO end_users (tenant_id, user_id, state, minor, updated_ms) VALUES ($1, $2, 'normal', $3, $4) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET minor = excluded.minor, updated_ms = excluded.updated_ms",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(minor)
            .bind(self.now_ms())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("writing end users"))
        })?;
        self.written_user(tenant_id, user_id).await
    }

    /// Sets the user's identity status as reported by `source` (`sms`, `header`, `admin`, …: 1
    /// to 32 of `a-z`, `0-9`, `_`, `-`), dated now; creates the user (state `normal`, not a
    /// minor) if unknown.
    pub async fn set_identity(
        &self,
        tenant_id: &str,
        user_id: &str,
        verified: bool,
        source: &str,
    ) -> Result<EndUser, StoreError> {
        check_source(source)?;
        let status = if verified {
            IdentityStatus::Verified
        } else {
            IdentityStatus::Unverified
        };
        let now = self.now_ms();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO end_users (tenant_id, user_id, state, minor, identity, identity_source, identity_ms, updated_ms) \
                 VALUES ($1, $2, 'normal', FALSE, $3, $4, $5, $6) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET identity = excluded.identity, \
                 identity_source = excluded.identity_source, identity_ms = excluded.identity_ms, \
                 updated_ms = excluded.updated_ms",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(status.as_str())
            .bind(source)
            .bind(now)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("writing end users"))
        })?;
        self.written_user(tenant_id, user_id).await
    }
}
