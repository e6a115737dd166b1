//! Tenants and their API keys.
//!
//! An API key is shown to its owner once, at creation, and stored only as an SM3 digest. Keys
//! have the form `hg_<key id>_<secret>`: the key id (16 hex digits) finds the row without
//! revealing anything, and the digest of the whole key is compared in constant time
//! (`subtle`). A fast hash is enough here because the secret is 256 random bits, not a
//! password; there is nothing to brute-force.

use sqlx::Row as _;
use subtle::ConstantTimeEq as _;

use crate::backend::with_pool;
use crate::{Store, StoreError};

/// A tenant: one customer of the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
}

/// An API key's stored information (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key id (16 hex digits, part of the key text).
    pub key_id: String,
    /// The tenant the key belongs to.
    pub tenant_id: String,
    /// A label for people (`production`, `ci`).
    pub label: String,
    /// Creation time.
    pub created_ms: i64,
    /// Revocation time, if revoked.
    pub revoked_ms: Option<i64>,
}

/// Digest of a presented key, domain-separated from other SM3 uses.
fn key_digest(key: &str) -> [u8; 32] {
    hegui_keys::sm3(format!("hegui-api-key/1\n{key}").as_bytes())
}

macro_rules! api_key_from_row {
    ($row:expr) => {{
        let g = StoreError::db("reading api keys");
        let row = &$row;
        (|| -> Result<ApiKey, sqlx::Error> {
            Ok(ApiKey {
                key_id: row.try_get("key_id")?,
                tenant_id: row.try_get("tenant_id")?,
                label: row.try_get("label")?,
                created_ms: row.try_get("created_ms")?,
                revoked_ms: row.try_get("revoked_ms")?,
            })
        })()
        .map_err(g)
    }};
}

impl Store {
    /// Creates a tenant.
    pub async fn create_tenant(&self, id: &str, name: &str) -> Result<Tenant, StoreError> {
        let tenant = Tenant {
            id: id.to_owned(),
            name: name.to_owned(),
            created_ms: self.now_ms(),
        };
        with_pool!(self, |pool| {
            sqlx::query("INSERT INTO tenants (id, name, created_ms) VALUES ($1, $2, $3)")
                .bind(&tenant.id)
                .bind(&tenant.name)
                .bind(tenant.created_ms)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(StoreError::db("creating a tenant"))
        })?;
        Ok(tenant)
    }

    /// The tenant with this id.
    pub async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        Ok(self.tenants().await?.into_iter().find(|t| t.id == id))
    }

    /// Every tenant, by id.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query("SELECT id, name, created_ms FROM tenants ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading tenants"))?;
            rows.iter()
                .map(|row| {
                    Ok(Tenant {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                        created_ms: row.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::db("reading tenants"))
        })
    }

    /// Creates an API key for `tenant_id`. Returns its stored information and the key text,
    /// which is not kept anywhere: show it to the user once.
    pub async fn create_api_key(
        &self,
        tenant_id: &str,
        label: &str,
    ) -> Result<(ApiKey, String), StoreError> {
        let key_id = hex::encode(crate::random_bytes::<8>());
        let secret = hex::encode(crate::random_bytes::<32>());
        let text = format!("hg_{key_id}_{secret}");
        let info = ApiKey {
            key_id,
            tenant_id: tenant_id.to_owned(),
            label: label.to_owned(),
            created_ms: self.now_ms(),
            revoked_ms: None,
        };
        let digest = key_digest(&text);
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO api_keys (key_id, tenant_id, label, digest, created_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&info.key_id)
            .bind(&info.tenant_id)
            .bind(&info.label)
            .bind(&digest[..])
            .bind(info.created_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("creating an api key"))
        })?;
        Ok((info, text))
    }

    /// The key's information if `presented` is a valid, unrevoked key.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<ApiKey>, StoreError> {
        let digest = key_digest(presented);
        let key_id = presented
            .strip_prefix("hg_")
            .and_then(|rest| rest.split('_').next())
            .unwrap_or("");
        let found = with_pool!(self, |pool| {
            let row = sqlx::query(
                "SELECT key_id, tenant_id, label, created_ms, revoked_ms, digest FROM api_keys WHERE key_id = $1",
            )
            .bind(key_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::db("reading api keys"))?;
            match row {
                None => Ok::<_, StoreError>(None),
                Some(row) => {
                    let stored: Vec<u8> = row
                        .try_get("digest")
                        .map_err(StoreError::db("reading api keys"))?;
                    Some(api_key_from_row!(row).map(|k| (k, stored))).transpose()
                }
            }
        })?;
        // Compare in constant time; an unknown key id is compared against a dummy so that
        // both paths do the same work.
        let (info, stored) = match found {
            Some((info, stored)) => (Some(info), stored),
            None => (None, vec![0u8; 32]),
        };
        let equal: bool = stored.as_slice().ct_eq(&digest[..]).into();
        Ok(info.filter(|k| equal && k.revoked_ms.is_none()))
    }

    /// Revokes a key; `NotFound` if there is no such key.
    pub async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError> {
        let affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_keys SET revoked_ms = $1 WHERE key_id = $2 AND revoked_ms IS NULL",
            )
            .bind(self.now_ms())
            .bind(key_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::db("revoking an api key"))
        })?;
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "active api key",
                key: key_id.to_owned(),
            });
        }
        Ok(())
    }

    /// The tenant's keys (information only), oldest first.
    pub async fn api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        with_pool!(self, |pool| {
            let rows = sqlx::query(
                "SELECT key_id, tenant_id, label, created_ms, revoked_ms FROM api_keys WHERE tenant_id = $1 ORDER BY created_ms, key_id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading api keys"))?;
            rows.iter().map(|row| api_key_from_row!(row)).collect()
        })
    }
}
