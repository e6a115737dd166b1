//! Complaints and incidents.
//!
//! Complaints (投诉举报) have a ticket, a channel, the content, a status, a deadline and a
//! handling record that only grows (Interim Measures art. 15; regulation.md). Incidents record
//! takedowns, refutations (辟谣) and reports to the authority, each optionally tied to the audit
//! record concerned.

use crate::backend::with_pool;
use crate::{Store, StoreError};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),* }
        impl $name {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }
        impl std::str::FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(StoreError::Invalid {
                        what: stringify!($name),
                        reason: format!("`{s}` is not one of {}", [$($text),*].join(", ")),
                    }),
                }
            }
        }
    };
}

text_enum!(
    /// Where a complaint is in its handling.
    ComplaintStatus {
        /// Received, not yet handled.
        Open = "open",
        /// Being handled.
        InProgress = "in_progress",
        /// Handled and answered.
        Resolved = "resolved",
        /// Rejected with reasons.
        Rejected = "rejected",
    }
);

text_enum!(
    /// What kind of incident.
    IncidentKind {
        /// Content taken down.
        Takedown = "takedown",
        /// A refutation of false information published.
        Refutation = "refutation",
        /// Reported to the competent authority.
        ReportToAuthority = "report_to_authority",
        /// Anything else.
        Other = "other",
    }
);

/// A complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    /// Ticket number.
    pub ticket: String,
    /// Tenant.
    pub tenant_id: String,
    /// How it arrived (`web`, `email`, `phone`, …).
    pub channel: String,
    /// What the complainant said.
    pub content: String,
    /// Status.
    pub status: ComplaintStatus,
    /// Deadline for an answer.
    pub deadline_ms: i64,
    /// Handling record: one line per step, `time status note`.
    pub handling: String,
    /// Received.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Incident id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// Kind.
    pub kind: IncidentKind,
    /// Description.
    pub description: String,
    /// The audit record concerned, if any.
    pub record_id: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// When it was reported to the authority, if it was.
    pub reported_ms: Option<i64>,
    /// When it was recorded.
    pub created_ms: i64,
}

type ComplaintRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);
type IncidentRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<i64>,
    i64,
);

impl Store {
    /// Records a complaint; returns it with its new ticket number.
    pub async fn create_complaint(
        &self,
        tenant_id: &str,
        channel: &str,
        content: &str,
        deadline_ms: i64,
    ) -> Result<Complaint, StoreError> {
        let now = crate::now_ms();
        let complaint = Complaint {
            ticket: format!("C{}", crate::RecordId::generate()),
            tenant_id: tenant_id.to_owned(),
            channel: channel.to_owned(),
            content: content.to_owned(),
            status: ComplaintStatus::Open,
            deadline_ms,
            handling: String::new(),
            created_ms: now,
            updated_ms: now,
        };
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO complaints (ticket, tenant_id, channel, content, status, deadline_ms, handling, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&complaint.ticket)
            .bind(&complaint.tenant_id)
            .bind(&complaint.channel)
            .bind(&complaint.content)
            .bind(complaint.status.as_str())
            .bind(complaint.deadline_ms)
            .bind(&complaint.handling)
            .bind(complaint.created_ms)
            .bind(complaint.updated_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("recording a complaint"))
        })?;
        Ok(complaint)
    }

    /// Moves a complaint to `status` and appends `note` to its handling record.
    pub async fn update_complaint(
        &self,
        ticket: &str,
        status: ComplaintStatus,
        note: &str,
    ) -> Result<Complaint, StoreError> {
        let now = crate::now_ms();
        let line = format!("{now} {} {}\n", status.as_str(), note.replace('\n', " "));
        let affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE complaints SET status = $1, handling = handling || $2, updated_ms = $3 WHERE ticket = $4",
            )
            .bind(status.as_str())
            .bind(&line)
            .bind(now)
            .bind(ticket)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::db("updating a complaint"))
        })?;
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "complaint",
                key: ticket.to_owned(),
            });
        }
        self.complaint(ticket)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "complaint",
                key: ticket.to_owned(),
            })
    }

    /// The complaint with this ticket.
    pub async fn complaint(&self, ticket: &str) -> Result<Option<Complaint>, StoreError> {
        Ok(self.complaints_where("ticket = $1", ticket).await?.pop())
    }

    /// The tenant's complaints, oldest first.
    pub async fn complaints(&self, tenant_id: &str) -> Result<Vec<Complaint>, StoreError> {
        self.complaints_where("tenant_id = $1", tenant_id).await
    }

    async fn complaints_where(
        &self,
        condition: &str,
        value: &str,
    ) -> Result<Vec<Complaint>, StoreError> {
        let sql = format!(
            "SELECT ticket, tenant_id, channel, content, status, deadline_ms, handling, created_ms, updated_ms FROM complaints WHERE {condition} ORDER BY created_ms, ticket"
        );
        let rows: Vec<ComplaintRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(value)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading complaints"))
        })?;
        rows.into_iter()
            .map(
                |(
                    ticket,
                    tenant_id,
                    channel,
                    content,
                    status,
                    deadline_ms,
                    handling,
                    created_ms,
                    updated_ms,
                )| {
                    Ok(Complaint {
                        ticket,
                        tenant_id,
                        channel,
                        content,
                        status: status.parse()?,
                        deadline_ms,
                        handling,
                        created_ms,
                        updated_ms,
                    })
                },
            )
            .collect()
    }

    /// Records an incident (status `open`).
    pub async fn create_incident(
        &self,
        tenant_id: &str,
        kind: IncidentKind,
        description: &str,
        record_id: Option<&str>,
    ) -> Result<Incident, StoreError> {
        let incident = Incident {
            id: format!("I{}", crate::RecordId::generate()),
            tenant_id: tenant_id.to_owned(),
            kind,
            description: description.to_owned(),
            record_id: record_id.map(str::to_owned),
            status: "open".into(),
            reported_ms: None,
            created_ms: crate::now_ms(),
        };
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO incidents (id, tenant_id, kind, description, record_id, status, reported_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&incident.id)
            .bind(&incident.tenant_id)
            .bind(incident.kind.as_str())
            .bind(&incident.description)
            .bind(incident.record_id.as_deref())
            .bind(&incident.status)
            .bind(incident.reported_ms)
            .bind(incident.created_ms)
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(StoreError::db("recording an incident"))
        })?;
        Ok(incident)
    }

    /// Marks an incident reported to the authority now, or closes it.
    pub async fn update_incident(
        &self,
        id: &str,
        reported: bool,
        close: bool,
    ) -> Result<(), StoreError> {
        let affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE incidents SET reported_ms = CASE WHEN $1 THEN $2 ELSE reported_ms END, status = CASE WHEN $3 THEN 'closed' ELSE status END WHERE id = $4",
            )
            .bind(reported)
            .bind(crate::now_ms())
            .bind(close)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::db("updating an incident"))
        })?;
        if affected == 0 {
            return Err(StoreError::NotFound {
                what: "incident",
                key: id.to_owned(),
            });
        }
        Ok(())
    }

    /// The tenant's incidents, oldest first.
    pub async fn incidents(&self, tenant_id: &str) -> Result<Vec<Incident>, StoreError> {
        let rows: Vec<IncidentRow> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, tenant_id, kind, description, record_id, status, reported_ms, created_ms FROM incidents WHERE tenant_id = $1 ORDER BY created_ms, id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading incidents"))
        })?;
        rows.into_iter()
            .map(
                |(id, tenant_id, kind, description, record_id, status, reported_ms, created_ms)| {
                    Ok(Incident {
                        id,
                        tenant_id,
                        kind: kind.parse()?,
                        description,
                        record_id,
                        status,
                        reported_ms,
                        created_ms,
                    })
                },
            )
            .collect()
    }
}
