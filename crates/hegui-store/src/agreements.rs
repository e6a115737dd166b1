//! Agreement acceptance: which version of a tenant's service agreement each end user accepted,
//! and when (Interim Measures art. 9: the provider signs a service agreement with its users).
//! The first acceptance of a version is kept; accepting again changes nothing.

use crate::backend::with_pool;
use crate::{Store, StoreError};

impl Store {
    /// Records that `end_user` of `tenant_id` accepted `version`; returns when they first did.
    pub async fn accept_agreement(
        &self,
        tenant_id: &str,
        end_user: &str,
        version: &str,
    ) -> Result<i64, StoreError> {
        let now = self.now_ms();
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO agreement_acceptances (tenant_id, end_user, version, accepted_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, end_user, version) DO NOTHING",
            )
            .bind(tenant_id)
            .bind(end_user)
            .bind(version)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("recording an agreement acceptance"))
        })?;
        self.agreement_accepted(tenant_id, end_user, version)
            .await?
            .ok_or(StoreError::Invalid {
                what: "agreement acceptance",
                reason: "the acceptance just recorded is not there".into(),
            })
    }

    /// When `end_user` of `tenant_id` accepted `version`, if they did.
    pub async fn agreement_accepted(
        &self,
        tenant_id: &str,
        end_user: &str,
        version: &str,
    ) -> Result<Option<i64>, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT accepted_ms FROM agreement_acceptances WHERE tenant_id = $1 AND end_user = $2 AND version = $3",
            )
            .bind(tenant_id)
            .bind(end_user)
            .bind(version)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading an agreement acceptance"))
        })
    }
}
