//! Takedowns: content found illegal, after the fact (Interim Measures art. 14: stop generating
//! and transmitting it, remove it, optimise the model to rectify, report to the authorities;
//! Deep Synthesis art. 10).
//!
//! A takedown names the audit record (the ProduceID) of the content. The record itself is never
//! edited (the ledger is append-only): the takedown is a row here, and the gateway writes a new
//! audit record that refers to it. Creating one also, in the same transaction, puts its pattern
//! (if one is given) on the lexicon review list and opens a report entry for the authorities
//! ([`crate::reports`]). The prompt and answer are copied from the record when the ledger kept
//! them, so that the rectification set (prompt, answer, reason) can be exported for model
//! optimisation after the record itself has been pruned.

use crate::backend::with_pool;
use crate::reports::{ReportSubject, insert_report};
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

/// A takedown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Takedown {
    /// Takedown id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The audit record (ProduceID) of the content.
    pub record_id: String,
    /// The complaint that led to it, if any.
    pub ticket: String,
    /// Why the content is illegal.
    pub reason: String,
    /// The risk code (Appendix A of TC260-003, or a custom code).
    pub risk: String,
    /// A pattern for the lexicon review list (may be empty).
    pub pattern: String,
    /// The prompt, as the ledger kept it (empty when bodies were not kept).
    pub prompt: String,
    /// The answer, as the ledger kept it.
    pub answer: String,
    /// Who took it down.
    pub actor: String,
    /// When.
    pub created_ms: i64,
}

/// A takedown as asked for.
#[derive(Debug, Clone, Default)]
pub struct NewTakedown {
    /// The record.
    pub record_id: String,
    /// The complaint, if any.
    pub ticket: String,
    /// Why.
    pub reason: String,
    /// Risk code.
    pub risk: String,
    /// Pattern for the lexicon review list.
    pub pattern: String,
    /// The prompt.
    pub prompt: String,
    /// The answer.
    pub answer: String,
}

text_enum!(
    /// Where a pattern on the lexicon review list stands.
    ReviewStatus {
        /// Waiting for the lexicon's maintainers.
        Pending = "pending",
        /// Added to the lexicon.
        Added = "added",
        /// Not added (too broad, already covered).
        Dismissed = "dismissed",
    }
);

/// A pattern proposed for the lexicon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReviewItem {
    /// Row id.
    pub id: i64,
    /// Tenant.
    pub tenant_id: String,
    /// The pattern.
    pub pattern: String,
    /// Its risk code.
    pub risk: String,
    /// Where it came from (`takedown:<id>`).
    pub source: String,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: ReviewStatus,
    /// When it was proposed.
    pub created_ms: i64,
}

const COLUMNS: &str =
    "id, tenant_id, record_id, ticket, reason, risk, pattern, prompt, answer, actor, created_ms";

impl Store {
    /// Records a takedown by `actor`, its review-list entry and its report entry, in one
    /// transaction. `Conflict` if the record was already taken down (the table's unique key
    /// decides, so two operators at once cannot both take it down).
    pub async fn create_takedown(
        &self,
        tenant_id: &str,
        actor: &str,
        new: NewTakedown,
    ) -> Result<Takedown, StoreError> {
        let now = self.now_ms();
        let t = Takedown {
            id: format!("T{}", crate::RecordId::generate()),
            tenant_id: tenant_id.to_owned(),
            record_id: new.record_id,
            ticket: new.ticket,
            reason: new.reason,
            risk: new.risk,
            pattern: new.pattern,
            prompt: new.prompt,
            answer: new.answer,
            actor: actor.to_owned(),
            created_ms: now,
        };
        let e = || StoreError::db("recording a takedown");
        let summary = format!(
            "违法内容下架 takedown of record {}: {}",
            t.record_id, t.reason
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO takedowns ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            )))
            .bind(&t.id)
            .bind(&t.tenant_id)
            .bind(&t.record_id)
            .bind(&t.ticket)
            .bind(&t.reason)
            .bind(&t.risk)
            .bind(&t.pattern)
            .bind(&t.prompt)
            .bind(&t.answer)
            .bind(&t.actor)
            .bind(t.created_ms)
            .execute(&mut *tx)
            .await
            .map_err(|source| match &source {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                    what: "takedown",
                    reason: format!("the record `{}` is already taken down", t.record_id),
                },
                _ => StoreError::Database { action: "recording a takedown", source },
            })?;
            if !t.pattern.is_empty() {
                sqlx::query(
                    "INSERT INTO lexicon_review (tenant_id, pattern, risk, source, status, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tenant_id)
                .bind(&t.pattern)
                .bind(&t.risk)
                .bind(format!("takedown:{}", t.id))
                .bind(ReviewStatus::Pending.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(e())?;
            }
            insert_report!(tx, tenant_id, ReportSubject::Takedown, &t.id, &summary, now)?;
            tx.commit().await.map_err(e())
        })?;
        Ok(t)
    }

    /// The tenant's takedown of this record, if it was taken down.
    pub async fn taken_down(
        &self,
        tenant_id: &str,
        record_id: &str,
    ) -> Result<Option<Takedown>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM takedowns WHERE tenant_id = $1 AND record_id = $2");
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(record_id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading takedowns"))
        })
    }

    /// Every tenant's takedowns of the record `record_id`, oldest first: for a caller that has
    /// a ProduceID but no tenant (`hegui label add --produce-id` before it relabels a file).
    /// Record ids are unique across tenants, so this is at most one row unless a caller chose
    /// the same id in two tenants.
    pub async fn takedowns_of_record(&self, record_id: &str) -> Result<Vec<Takedown>, StoreError> {
        self.takedowns_where("record_id", record_id).await
    }

    /// The tenant's takedowns, oldest first (also the rectification set: prompt, answer,
    /// reason).
    pub async fn takedowns(&self, tenant_id: &str) -> Result<Vec<Takedown>, StoreError> {
        self.takedowns_where("tenant_id", tenant_id).await
    }

    /// The takedowns whose `column` (one of this module's names, never input) is `value`,
    /// oldest first.
    async fn takedowns_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Vec<Takedown>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM takedowns WHERE {column} = $1 ORDER BY created_ms, id");
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(value)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading takedowns"))
        })
    }

    /// The tenant's lexicon review list, oldest first.
    pub async fn lexicon_review(&self, tenant_id: &str) -> Result<Vec<ReviewItem>, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, tenant_id, pattern, risk, source, status, created_ms FROM lexicon_review WHERE tenant_id = $1 ORDER BY id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading the lexicon review list"))
        })
    }
}
