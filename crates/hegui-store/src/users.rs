//! End users and their state (the sanctions that change it are in [`crate::sanctions`]).

use crate::backend::with_pool;
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
    /// Last change.
    pub updated_ms: i64,
}

impl Store {
    /// The user, if known.
    pub async fn end_user(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Option<EndUser>, StoreError> {
        let row: Option<(String, bool, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT state, minor, updated_ms FROM end_users WHERE tenant_id = $1 AND user_id = $2",
            )
            .bind(tenant_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading end users"))
        })?;
        row.map(|(state, minor, updated_ms)| {
            Ok(EndUser {
                tenant_id: tenant_id.to_owned(),
                user_id: user_id.to_owned(),
                state: state.parse()?,
                minor,
                updated_ms,
            })
        })
        .transpose()
    }

    /// Creates the user in state `normal`, or updates the minor flag of an existing one.
    pub async fn upsert_end_user(
        &self,
        tenant_id: &str,
        user_id: &str,
        minor: bool,
    ) -> Result<(), StoreError> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO end_users (tenant_id, user_id, state, minor, updated_ms) VALUES ($1, $2, 'normal', $3, $4) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET minor = excluded.minor, updated_ms = excluded.updated_ms",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(minor)
            .bind(crate::now_ms())
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("writing end users"))
        })
    }
}
