//! Sanctions: warning, restricting, suspending or terminating service to end users who misuse
//! it, and the records of each (Interim Measures art. 14; Deep Synthesis art. 10).
//!
//! A sanction changes the user's state and is recorded with its reason, who decided it (an
//! admin's name, or `policy` for the gateway's violation policy) and the audit record that
//! prompted it, in one transaction; automatic and manual sanctions are the same kind of row,
//! so a user's history and the export for the authorities show both the same way. A
//! restoration (back to `normal`) is a sanction row too, so the history says when and why a
//! restriction ended.

use crate::backend::with_pool;
use crate::users::UserState;
use crate::{Store, StoreError};

/// A recorded sanction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Sanction {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant_id: String,
    /// User.
    pub user_id: String,
    /// The state the user was put in.
    #[sqlx(try_from = "String")]
    pub state: UserState,
    /// Why.
    pub reason: String,
    /// The audit record that prompted it, if any.
    pub record_id: Option<String>,
    /// Who decided it: an admin's name, or [`POLICY`].
    pub actor: String,
    /// When.
    pub created_ms: i64,
}

/// The actor of sanctions applied by the violation policy.
pub const POLICY: &str = "policy";

impl TryFrom<String> for UserState {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self, StoreError> {
        s.parse()
    }
}

const COLUMNS: &str = "id, tenant_id, user_id, state, reason, record_id, actor, created_ms";

impl Store {
    /// Puts the user in `state` and records the sanction by `actor`, in one transaction.
    /// Creates the user if unknown.
    pub async fn sanction(
        &self,
        tenant_id: &str,
        user_id: &str,
        state: UserState,
        reason: &str,
        record_id: Option<&str>,
        actor: &str,
    ) -> Result<Sanction, StoreError> {
        let now = self.now_ms();
        let e = || StoreError::db("recording a sanction");
        let id: i64 = with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            sqlx::query(
                "INSERT INTO end_users (tenant_id, user_id, state, minor, updated_ms) VALUES ($1, $2, $3, FALSE, $4) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(state.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO sanctions (tenant_id, user_id, state, reason, record_id, actor, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(tenant_id)
            .bind(user_id)
            .bind(state.as_str())
            .bind(reason)
            .bind(record_id)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(e())?;
            tx.commit().await.map_err(e())?;
            Ok::<_, StoreError>(id)
        })?;
        Ok(Sanction {
            id,
            tenant_id: tenant_id.to_owned(),
            user_id: user_id.to_owned(),
            state,
            reason: reason.to_owned(),
            record_id: record_id.map(str::to_owned),
            actor: actor.to_owned(),
            created_ms: now,
        })
    }

    /// The user's sanctions, oldest first.
    pub async fn sanctions(
        &self,
        tenant_id: &str,
        user_id: &str,
    ) -> Result<Vec<Sanction>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sanctions WHERE tenant_id = $1 AND user_id = $2 ORDER BY id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(user_id)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading sanctions"))
        })
    }

    /// The tenant's sanctions recorded in `[from_ms, to_ms)`, oldest first: the export for a
    /// report to the authorities.
    pub async fn sanctions_between(
        &self,
        tenant_id: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Sanction>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sanctions WHERE tenant_id = $1 AND created_ms >= $2 AND created_ms < $3 ORDER BY id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading sanctions"))
        })
    }
}
