//! Pruning records older than the retention period.
//!
//! Records up to a boundary are deleted and a checkpoint signed at the boundary remains, so the
//! records that are left still verify: the first of them links to the boundary's chain value,
//! which the signature vouches for. The whole chain is verified before anything is deleted, so
//! a prune never launders a tampered record into a signed boundary.

use sqlx::Row as _;

use crate::backend::with_pool;
use crate::ledger::{self, Checkpoint, VerifyOptions};
use crate::{Store, StoreError};

/// What [`Store::prune`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// Records deleted.
    pub removed: u64,
    /// The last deleted sequence number (the new boundary); unchanged when nothing was removed.
    pub boundary_seq: i64,
    /// The boundary's signed checkpoint, when records were removed.
    pub checkpoint: Option<Checkpoint>,
}

impl Store {
    /// Deletes the records before `before_ms` (milliseconds since the Unix epoch) up to the first
    /// record at or after it, leaving a signed checkpoint at the boundary. Refuses a cut-off
    /// younger than the retention period, and refuses to prune a chain that does not verify.
    pub async fn prune(
        &self,
        before_ms: i64,
        key: &hegui_keys::SigningKey,
    ) -> Result<PruneReport, StoreError> {
        let days = self.options.retention_days;
        let limit = self.now_ms() - i64::from(days) * 86_400_000;
        if before_ms > limit {
            return Err(StoreError::Retention {
                days,
                before: chrono::DateTime::from_timestamp_millis(before_ms)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| before_ms.to_string()),
            });
        }
        let report = self.verify(&VerifyOptions::default()).await?;
        if let Some(broken) = report.broken {
            return Err(StoreError::Invalid {
                what: "ledger",
                reason: format!("refusing to prune a chain that does not verify: {broken}"),
            });
        }
        let head = self.head().await?;
        let e = StoreError::db("pruning");
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e)?;
            sqlx::query("UPDATE ledger_head SET last_seq = last_seq WHERE id = 1")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("locking the ledger"))?;
            // Keep the first young record and everything after it, even if a later record is old
            // (clocks of several instances may disagree a little). Walking in sequence order and
            // stopping at the first young record reads only what is about to be removed, so no
            // index on the time is needed (migration 3 dropped it: it cost every append).
            let first_young: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM audit_records WHERE time_ms >= $1 ORDER BY seq LIMIT 1",
            )
            .bind(before_ms)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::db("pruning"))?;
            let last_seq: i64 = sqlx::query("SELECT last_seq FROM ledger_head WHERE id = 1")
                .fetch_one(&mut *tx)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(StoreError::db("pruning"))?;
            let boundary = first_young.map_or(last_seq, |s| s - 1);
            if boundary <= head.base_seq {
                return Ok(PruneReport {
                    removed: 0,
                    boundary_seq: head.base_seq,
                    checkpoint: None,
                });
            }
            let hash: Vec<u8> = sqlx::query("SELECT hash FROM audit_records WHERE seq = $1")
                .bind(boundary)
                .fetch_one(&mut *tx)
                .await
                .and_then(|r| r.try_get(0))
                .map_err(StoreError::db("pruning"))?;
            let hash = ledger::to_hash(&hash, "record hash")?;
            let cp = Checkpoint::sign(key, boundary, hash, self.now_ms(), "prune");
            sqlx::query("DELETE FROM audit_checkpoints WHERE seq <= $1")
                .bind(boundary)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("pruning"))?;
            sqlx::query(
                "INSERT INTO audit_checkpoints (seq, hash, time_ms, reason, signature) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(cp.seq)
            .bind(&cp.hash[..])
            .bind(cp.time_ms)
            .bind(cp.reason.as_str())
            .bind(cp.signature.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::db("pruning"))?;
            let removed = sqlx::query("DELETE FROM audit_records WHERE seq <= $1")
                .bind(boundary)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("pruning"))?
                .rows_affected();
            sqlx::query("UPDATE ledger_head SET base_seq = $1, base_hash = $2 WHERE id = 1")
                .bind(boundary)
                .bind(&hash[..])
                .execute(&mut *tx)
                .await
                .map_err(StoreError::db("pruning"))?;
            tx.commit().await.map_err(StoreError::db("pruning"))?;
            Ok(PruneReport {
                removed,
                boundary_seq: boundary,
                checkpoint: Some(cp),
            })
        })
    }
}
