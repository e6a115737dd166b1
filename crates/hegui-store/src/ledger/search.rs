//! Finding records for people: the console's audit search and dashboard, and where one record
//! stands in the chain.
//!
//! The ledger has no index on time, user or tenant (each would cost every append, see migrations
//! 2 and 3), so a search walks the records from the newest back, by sequence number, and stops
//! at its limit: the newest matches first, at a cost that grows with how far back they are.

use sqlx::Row as _;

use super::{Checkpoint, Record, record_from_row};
use crate::backend::with_pool;
use crate::{Store, StoreError};

/// What to look for; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// The tenant (required: every search is one tenant's).
    pub tenant: String,
    /// The end user.
    pub user: Option<String>,
    /// At or after (ms).
    pub since_ms: Option<i64>,
    /// Before (ms).
    pub until_ms: Option<i64>,
    /// The outcome (`blocked_input`, `refused`, …).
    pub outcome: Option<String>,
    /// A risk code that one of the record's hits has (`A.1.h`).
    pub risk: Option<String>,
    /// A stage decision the record has (`review`, `block`, `flag`, `error`, `clean`).
    pub verdict: Option<String>,
    /// The record id (ProduceID), or the first part of one.
    pub id_prefix: Option<String>,
    /// The kind (`chat`, `governance`, …).
    pub kind: Option<String>,
}

/// Where a record stands in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPosition {
    /// The record.
    pub record: Record,
    /// The chain value stored with it.
    pub hash: [u8; 32],
    /// The chain value before it (the previous record's, or the prune boundary's).
    pub previous: [u8; 32],
    /// Whether `hash = link(previous, leaf(record))`: the record is as it was written, in its
    /// place.
    pub link_ok: bool,
    /// The first signed checkpoint at or after it, if one was made.
    pub checkpoint: Option<Checkpoint>,
}

impl Store {
    /// Up to `limit` records that match, newest first.
    pub async fn search_records(
        &self,
        search: &Search,
        limit: i64,
    ) -> Result<Vec<Record>, StoreError> {
        let risk = search
            .risk
            .as_ref()
            .map(|r| format!("%\"risk\":{}%", serde_json::Value::from(r.as_str())));
        let verdict = search
            .verdict
            .as_ref()
            .map(|v| format!("%\"verdict\":{}%", serde_json::Value::from(v.as_str())));
        let id = search
            .id_prefix
            .as_ref()
            .map(|p| format!("{}%", p.replace(['%', '_', '\\'], "")));
        let sql = format!(
            "SELECT {} FROM audit_records WHERE tenant = $1 \
             AND ($2 IS NULL OR end_user = $2) AND ($3 IS NULL OR time_ms >= $3) \
             AND ($4 IS NULL OR time_ms < $4) AND ($5 IS NULL OR outcome = $5) \
             AND ($6 IS NULL OR verdicts LIKE $6) AND ($7 IS NULL OR id LIKE $7) \
             AND ($8 IS NULL OR kind = $8) AND ($9 IS NULL OR verdicts LIKE $9) \
             ORDER BY seq DESC LIMIT $10",
            super::RECORD_COLUMNS
        );
        with_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&search.tenant)
                .bind(search.user.as_deref())
                .bind(search.since_ms)
                .bind(search.until_ms)
                .bind(search.outcome.as_deref())
                .bind(risk.as_deref())
                .bind(id.as_deref())
                .bind(search.kind.as_deref())
                .bind(verdict.as_deref())
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("searching audit records"))?;
            rows.iter()
                .map(|row| record_from_row!(row).map(|(r, _)| r))
                .collect()
        })
    }

    /// Where the record `id` stands in the chain, if it exists.
    pub async fn chain_position(&self, id: &str) -> Result<Option<ChainPosition>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit_records WHERE id = $1",
            super::RECORD_COLUMNS
        );
        let found: Option<(Record, Vec<u8>)> = with_pool!(self, |pool| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            row.map(|row| record_from_row!(row)).transpose()
        })?;
        let Some((record, hash)) = found else {
            return Ok(None);
        };
        let hash = super::to_hash(&hash, "record hash")?;
        let previous = self.chain_value_before(record.seq).await?;
        let link_ok = super::link(&previous, &record.leaf()) == hash;
        let checkpoint = self.first_checkpoint_from(record.seq).await?;
        Ok(Some(ChainPosition {
            record,
            hash,
            previous,
            link_ok,
            checkpoint,
        }))
    }
}
