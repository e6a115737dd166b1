//! Admin tokens: who may use the admin API, for which tenant, in which role.
//!
//! Like API keys (see [`crate::tenants`]), a token is shown once and stored as an SM3 digest;
//! its form is `hga_<token id>_<secret>`. Each token belongs to one tenant: its holder sees and
//! acts on that tenant's users, tickets and records only. Its name is what the audit records
//! and handling histories show as the actor, so give each person their own token.

use subtle::ConstantTimeEq as _;

use crate::backend::with_pool;
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

text_enum!(
    /// What a token's holder may do.
    Role {
        /// Reads and acts (answers complaints, sanctions users, takes content down).
        Operator = "operator",
        /// Reads only (an internal or external auditor, an inspector).
        Auditor = "auditor",
    }
);

/// An admin token's stored information (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdminToken {
    /// The token id (16 hex digits, part of the token text).
    pub token_id: String,
    /// The tenant it acts for.
    pub tenant_id: String,
    /// The holder's name (the actor in records).
    pub name: String,
    /// The role.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Created.
    pub created_ms: i64,
    /// Revoked, if it was.
    pub revoked_ms: Option<i64>,
}

fn token_digest(token: &str) -> [u8; 32] {
    hegui_keys::sm3(format!("hegui-admin-token/1\n{token}").as_bytes())
}

const COLUMNS: &str = "token_id, tenant_id, name, role, created_ms, revoked_ms";

impl Store {
    /// Creates an admin token; returns its information and the token text, shown once.
    pub async fn create_admin_token(
        &self,
        tenant_id: &str,
        name: &str,
        role: Role,
    ) -> Result<(AdminToken, String), StoreError> {
        if name.trim().is_empty() || name.chars().any(char::is_control) || name.len() > 100 {
            return Err(StoreError::Invalid {
                what: "admin name",
                reason: format!("`{name}` must be 1 to 100 bytes without control characters"),
            });
        }
        let token_id = hex::encode(crate::random_bytes::<8>());
        let text = format!(
            "hga_{token_id}_{}",
            hex::encode(crate::random_bytes::<32>())
        );
        let info = AdminToken {
            token_id,
            tenant_id: tenant_id.to_owned(),
            name: name.trim().to_owned(),
            role,
            created_ms: self.now_ms(),
            revoked_ms: None,
        };
        let digest = token_digest(&text);
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO admin_tokens (token_id, tenant_id, name, role, digest, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&info.token_id)
            .bind(&info.tenant_id)
            .bind(&info.name)
            .bind(info.role.as_str())
            .bind(&digest[..])
            .bind(info.created_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("creating an admin token"))
        })?;
        Ok((info, text))
    }

    /// The token's information if `presented` is a valid, unrevoked admin token.
    pub async fn authenticate_admin(
        &self,
        presented: &str,
    ) -> Result<Option<AdminToken>, StoreError> {
        let digest = token_digest(presented);
        let token_id = presented
            .strip_prefix("hga_")
            .and_then(|rest| rest.split('_').next())
            .unwrap_or("");
        let sql = format!("SELECT {COLUMNS}, digest FROM admin_tokens WHERE token_id = $1");
        let found: Option<(AdminToken, Vec<u8>)> = with_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(token_id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading admin tokens"))?;
            row.map(|row| {
                use sqlx::{FromRow as _, Row as _};
                let info = AdminToken::from_row(&row)?;
                Ok((info, row.try_get("digest")?))
            })
            .transpose()
            .map_err(StoreError::db("reading admin tokens"))
        })?;
        // Constant-time comparison; an unknown id is compared against a dummy.
        let (info, stored) = match found {
            Some((info, stored)) => (Some(info), stored),
            None => (None, vec![0u8; 32]),
        };
        let equal: bool = stored.as_slice().ct_eq(&digest[..]).into();
        Ok(info.filter(|t| equal && t.revoked_ms.is_none()))
    }

    /// Revokes a token of the tenant; `NotFound` if there is no such active token.
    pub async fn revoke_admin_token(
        &self,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<(), StoreError> {
        let affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE admin_tokens SET revoked_ms = $1 WHERE tenant_id = $2 AND token_id = $3 AND revoked_ms IS NULL",
            )
            .bind(self.now_ms())
            .bind(tenant_id)
            .bind(token_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::db("revoking an admin token"))
        })?;
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "active admin token",
                key: token_id.to_owned(),
            });
        }
        Ok(())
    }

    /// The tenant's admin tokens (information only), oldest first.
    pub async fn admin_tokens(&self, tenant_id: &str) -> Result<Vec<AdminToken>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM admin_tokens WHERE tenant_id = $1 ORDER BY created_ms, token_id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading admin tokens"))
        })
    }
}
