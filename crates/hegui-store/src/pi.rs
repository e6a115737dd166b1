//! Personal-information requests (Interim Measures art. 11; PIPL arts. 44–47): an end user asks
//! to see, copy, correct, supplement or delete their personal information.
//!
//! A request is recorded with its deadline and handled by an operator. Access and copy are
//! answered with the user's records ([`Store::records_of_user`]); correction and supplement
//! with what was changed. Deletion removes what hegui holds about the user outside the ledger
//! (their state, flags and agreement acceptances) once the audit records that name them may be
//! deleted: the law asks for the logs to be kept at least six months (the store's retention
//! period), and the ledger cannot lose a record without breaking the chain. Until then the
//! request waits as `pending_retention`, with the date its user's last record comes of age;
//! `hegui audit prune` completes it once the prune has removed the user's last record.
//! Sanction records are kept: they are themselves records the law asks for (art. 14).

use sqlx::Row as _;

use crate::backend::with_pool;
use crate::ledger::{self, record_from_row};
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

text_enum!(
    /// What the user asks for.
    PiKind {
        /// See their personal information (查阅).
        Access = "access",
        /// A copy of it (复制).
        Copy = "copy",
        /// Correct it (更正).
        Correction = "correction",
        /// Supplement it (补充).
        Supplement = "supplement",
        /// Delete it (删除).
        Deletion = "deletion",
    }
);

text_enum!(
    /// Where a request stands.
    PiStatus {
        /// Received, not yet handled.
        Open = "open",
        /// A deletion waiting for the retention period of the user's audit records.
        PendingRetention = "pending_retention",
        /// Done.
        Done = "done",
        /// Refused, with the legal reason in `result`.
        Rejected = "rejected",
    }
);

/// A personal-information request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PiRequest {
    /// Request id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The end user it concerns.
    pub end_user: String,
    /// What they ask for.
    #[sqlx(try_from = "String")]
    pub kind: PiKind,
    /// What they said.
    pub detail: String,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: PiStatus,
    /// Deadline for handling, ms since the epoch.
    pub deadline_ms: i64,
    /// For a deletion waiting on the retention period: when the user's last record may go.
    pub retain_until_ms: Option<i64>,
    /// What was done, or why not.
    pub result: String,
    /// Received.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
}

const COLUMNS: &str = "id, tenant_id, end_user, kind, detail, status, deadline_ms, retain_until_ms, result, created_ms, updated_ms";

/// Deletes what the store holds about a user outside the ledger and the sanction records,
/// inside the transaction `$tx`.
macro_rules! delete_personal_rows {
    ($tx:expr, $tenant:expr, $user:expr) => {{
        let e = || StoreError::db("deleting personal information");
        sqlx::query("DELETE FROM end_users WHERE tenant_id = $1 AND user_id = $2")
            .bind($tenant)
            .bind($user)
            .execute(&mut *$tx)
            .await
            .map_err(e())?;
        sqlx::query("DELETE FROM agreement_acceptances WHERE tenant_id = $1 AND end_user = $2")
            .bind($tenant)
            .bind($user)
            .execute(&mut *$tx)
            .await
            .map_err(e())?;
    }};
}

impl Store {
    /// Records a request (status `open`).
    pub async fn create_pi_request(
        &self,
        tenant_id: &str,
        end_user: &str,
        kind: PiKind,
        detail: &str,
        deadline_ms: i64,
    ) -> Result<PiRequest, StoreError> {
        let now = self.now_ms();
        let r = PiRequest {
            id: format!("P{}", crate::RecordId::generate()),
            tenant_id: tenant_id.to_owned(),
            end_user: end_user.to_owned(),
            kind,
            detail: detail.to_owned(),
            status: PiStatus::Open,
            deadline_ms,
            retain_until_ms: None,
            result: String::new(),
            created_ms: now,
            updated_ms: now,
        };
        with_pool!(self, |pool| {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO pi_requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            )))
            .bind(&r.id)
            .bind(&r.tenant_id)
            .bind(&r.end_user)
            .bind(r.kind.as_str())
            .bind(&r.detail)
            .bind(r.status.as_str())
            .bind(r.deadline_ms)
            .bind(r.retain_until_ms)
            .bind(&r.result)
            .bind(r.created_ms)
            .bind(r.updated_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("recording a personal-information request"))
        })?;
        Ok(r)
    }

    /// The tenant's request `id`.
    pub async fn pi_request(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<PiRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM pi_requests WHERE tenant_id = $1 AND id = $2");
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading personal-information requests"))
        })
    }

    /// The tenant's requests, the earliest deadline first; only those in `status` when given.
    pub async fn pi_requests(
        &self,
        tenant_id: &str,
        status: Option<PiStatus>,
    ) -> Result<Vec<PiRequest>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM pi_requests WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY deadline_ms, id"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(status.map(|s| s.as_str()))
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading personal-information requests"))
        })
    }

    /// Handles the open request `id`: `reject` with the reason in `result`, or carry it out.
    /// A deletion is carried out now if no audit record of the user is younger than the
    /// retention period, and otherwise left `pending_retention` until `hegui audit prune`.
    /// `Conflict` if the request is not open.
    pub async fn complete_pi_request(
        &self,
        tenant_id: &str,
        id: &str,
        reject: bool,
        result: &str,
    ) -> Result<PiRequest, StoreError> {
        let request =
            self.pi_request(tenant_id, id)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: "personal-information request",
                    key: id.to_owned(),
                })?;
        if request.status != PiStatus::Open {
            return Err(StoreError::Conflict {
                what: "personal-information request",
                reason: format!("`{id}` is `{}`, not open", request.status),
            });
        }
        let now = self.now_ms();
        let (status, retain_until) = if reject {
            (PiStatus::Rejected, None)
        } else if request.kind == PiKind::Deletion {
            let newest = self.newest_record_of(tenant_id, &request.end_user).await?;
            let retention = i64::from(self.options.retention_days) * 86_400_000;
            match newest.map(|t| t + retention).filter(|until| *until > now) {
                Some(until) => (PiStatus::PendingRetention, Some(until)),
                None => (PiStatus::Done, None),
            }
        } else {
            (PiStatus::Done, None)
        };
        let e = || StoreError::db("updating a personal-information request");
        let user = request.end_user.as_str();
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            if status == PiStatus::Done && request.kind == PiKind::Deletion {
                delete_personal_rows!(tx, tenant_id, user);
            }
            sqlx::query(
                "UPDATE pi_requests SET status = $1, retain_until_ms = $2, result = $3, updated_ms = $4 WHERE tenant_id = $5 AND id = $6",
            )
            .bind(status.as_str())
            .bind(retain_until)
            .bind(result)
            .bind(now)
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            tx.commit().await.map_err(e())
        })?;
        Ok(PiRequest {
            status,
            retain_until_ms: retain_until,
            result: result.to_owned(),
            updated_ms: now,
            ..request
        })
    }

    /// Completes every deletion waiting on the retention period whose user has no audit record
    /// left (run after a prune). Returns the requests completed.
    pub async fn finish_due_deletions(&self) -> Result<Vec<PiRequest>, StoreError> {
        let mut done = Vec::new();
        let sql = format!("SELECT {COLUMNS} FROM pi_requests WHERE status = 'pending_retention'");
        let waiting: Vec<PiRequest> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading personal-information requests"))
        })?;
        for request in waiting {
            let (tenant, user) = (request.tenant_id.as_str(), request.end_user.as_str());
            if self.newest_record_of(tenant, user).await?.is_some() {
                continue;
            }
            let now = self.now_ms();
            let result = format!(
                "{}{}deleted after the audit records' retention period",
                request.result,
                if request.result.is_empty() { "" } else { "; " }
            );
            let e = || StoreError::db("completing a deletion");
            with_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(e())?;
                delete_personal_rows!(tx, tenant, user);
                sqlx::query(
                    "UPDATE pi_requests SET status = 'done', result = $1, updated_ms = $2 WHERE id = $3",
                )
                .bind(&result)
                .bind(now)
                .bind(&request.id)
                .execute(&mut *tx)
                .await
                .map_err(e())?;
                tx.commit().await.map_err(e())
            })?;
            done.push(PiRequest {
                status: PiStatus::Done,
                result,
                updated_ms: now,
                ..request
            });
        }
        Ok(done)
    }

    /// The time of the newest audit record of the tenant's end user, if any. A scan of the
    /// ledger (there is no index on the user: it would cost every append); this runs once per
    /// request, not per exchange.
    async fn newest_record_of(
        &self,
        tenant_id: &str,
        user: &str,
    ) -> Result<Option<i64>, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT MAX(time_ms) FROM audit_records WHERE tenant = $1 AND end_user = $2",
            )
            .bind(tenant_id)
            .bind(user)
            .fetch_one(pool)
            .await
            .map_err(StoreError::db("reading audit records"))
        })
    }

    /// Up to `limit` audit records of the tenant's end user, oldest first: the copy a user's
    /// access request is answered with.
    pub async fn records_of_user(
        &self,
        tenant_id: &str,
        user: &str,
        limit: i64,
    ) -> Result<Vec<ledger::Record>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit_records WHERE tenant = $1 AND end_user = $2 ORDER BY seq LIMIT $3",
            ledger::RECORD_COLUMNS
        );
        with_pool!(self, |pool| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(user)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading audit records"))?;
            rows.iter()
                .map(|row| record_from_row!(row).map(|(r, _)| r))
                .collect()
        })
    }
}
