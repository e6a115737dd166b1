//! Refutations (辟谣) and reports to the authorities.
//!
//! A refutation records false information spread with the service: the claim, the refutation
//! text, where and when it was published, and (through its report entry) the report made
//! (Deep Synthesis art. 11: a mechanism for refuting rumours, and reporting to the CAC and the
//! competent departments). A report entry is opened by every takedown and refutation, as
//! `pending`; an operator marks it `submitted` with the authority's reference once filed, so
//! the list of pending entries is the work still owed to the authorities.

use crate::backend::with_pool;
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

text_enum!(
    /// What a report entry is about.
    ReportSubject {
        /// A takedown.
        Takedown = "takedown",
        /// A refutation.
        Refutation = "refutation",
    }
);

text_enum!(
    /// Where a report entry stands.
    ReportStatus {
        /// Still to be reported.
        Pending = "pending",
        /// Reported.
        Submitted = "submitted",
    }
);

/// A report entry for the authorities.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuthorityReport {
    /// Entry id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// What it is about.
    #[sqlx(try_from = "String")]
    pub subject: ReportSubject,
    /// The takedown's or refutation's id.
    pub subject_id: String,
    /// What to report.
    pub summary: String,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: ReportStatus,
    /// The authority's reference or the channel used, once submitted.
    pub reference: String,
    /// When it was submitted.
    pub submitted_ms: Option<i64>,
    /// When the entry was opened.
    pub created_ms: i64,
}

/// A refutation of false information.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Refutation {
    /// Id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The false claim.
    pub claim: String,
    /// The refutation text.
    pub refutation: String,
    /// Where it was published (a URL, a channel).
    pub published_where: String,
    /// When it was published, ms since the epoch.
    pub published_ms: i64,
    /// The audit record through which the claim spread, if known.
    pub record_id: String,
    /// Who recorded it.
    pub actor: String,
    /// When it was recorded.
    pub created_ms: i64,
}

/// Opens a pending report entry inside the transaction `$tx` (either backend).
macro_rules! insert_report {
    ($tx:expr, $tenant:expr, $subject:expr, $subject_id:expr, $summary:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO authority_reports (id, tenant_id, subject, subject_id, summary, status, reference, submitted_ms, created_ms) VALUES ($1, $2, $3, $4, $5, 'pending', '', NULL, $6)",
        )
        .bind(format!("R{}", $crate::RecordId::generate()))
        .bind($tenant)
        .bind($subject.as_str())
        .bind($subject_id)
        .bind($summary)
        .bind($now)
        .execute(&mut *$tx)
        .await
        .map(|_| ())
        .map_err($crate::StoreError::db("opening a report entry"))
    };
}
pub(crate) use insert_report;

const REFUTATION_COLUMNS: &str =
    "id, tenant_id, claim, refutation, published_where, published_ms, record_id, actor, created_ms";
const REPORT_COLUMNS: &str =
    "id, tenant_id, subject, subject_id, summary, status, reference, submitted_ms, created_ms";

impl Store {
    /// Records a refutation by `actor` and opens its report entry, in one transaction.
    /// `refutation.id`, `tenant_id`, `actor` and `created_ms` are set here.
    pub async fn create_refutation(
        &self,
        tenant_id: &str,
        actor: &str,
        mut r: Refutation,
    ) -> Result<Refutation, StoreError> {
        let now = self.now_ms();
        r.id = format!("F{}", crate::RecordId::generate());
        r.tenant_id = tenant_id.to_owned();
        r.actor = actor.to_owned();
        r.created_ms = now;
        let summary = format!("辟谣 refutation of a false claim: {}", r.claim);
        let e = || StoreError::db("recording a refutation");
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO refutations ({REFUTATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            )))
            .bind(&r.id)
            .bind(&r.tenant_id)
            .bind(&r.claim)
            .bind(&r.refutation)
            .bind(&r.published_where)
            .bind(r.published_ms)
            .bind(&r.record_id)
            .bind(&r.actor)
            .bind(r.created_ms)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            insert_report!(
                tx,
                tenant_id,
                ReportSubject::Refutation,
                &r.id,
                &summary,
                now
            )?;
            tx.commit().await.map_err(e())
        })?;
        Ok(r)
    }

    /// The tenant's refutations, oldest first.
    pub async fn refutations(&self, tenant_id: &str) -> Result<Vec<Refutation>, StoreError> {
        let sql = format!(
            "SELECT {REFUTATION_COLUMNS} FROM refutations WHERE tenant_id = $1 ORDER BY created_ms, id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading refutations"))
        })
    }

    /// The tenant's report entries, oldest first; only those in `status` when given.
    pub async fn authority_reports(
        &self,
        tenant_id: &str,
        status: Option<ReportStatus>,
    ) -> Result<Vec<AuthorityReport>, StoreError> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM authority_reports WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_ms, id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(status.map(|s| s.as_str()))
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading report entries"))
        })
    }

    /// Marks the tenant's pending report entry `id` submitted now, with the authority's
    /// reference. `NotFound` for an unknown id, `Conflict` if it was already submitted.
    pub async fn submit_report(
        &self,
        tenant_id: &str,
        id: &str,
        reference: &str,
    ) -> Result<AuthorityReport, StoreError> {
        let affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE authority_reports SET status = 'submitted', reference = $1, submitted_ms = $2 WHERE tenant_id = $3 AND id = $4 AND status = 'pending'",
            )
            .bind(reference)
            .bind(self.now_ms())
            .bind(tenant_id)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::db("updating a report entry"))
        })?;
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM authority_reports WHERE tenant_id = $1 AND id = $2"
        );
        let found: Option<AuthorityReport> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading report entries"))
        })?;
        match (affected, found) {
            (_, None) => Err(StoreError::NotFound {
                what: "report entry",
                key: id.to_owned(),
            }),
            (0, Some(_)) => Err(StoreError::Conflict {
                what: "report entry",
                reason: format!("`{id}` was already submitted"),
            }),
            (_, Some(report)) => Ok(report),
        }
    }
}
