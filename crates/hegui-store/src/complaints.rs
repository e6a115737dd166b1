//! Complaints and reports (投诉举报) and their handling (Interim Measures art. 15: a convenient
//! entrance, a published process and time limit, timely handling and feedback).
//!
//! A complaint moves `new → in_progress → answered → closed`; it can also be closed from `new`
//! or `in_progress` (a duplicate, spam: the note says why). Assignment and notes do not change
//! the state. Every step is a row of `complaint_events`, so the whole handling history stays
//! readable and no step overwrites another; the current state is on the complaint itself so
//! that the queue and the overdue listing are one indexed query.

use sqlx::Row as _;

use crate::backend::with_pool;
use crate::text_enum::text_enum;
use crate::{Store, StoreError};

text_enum!(
    /// Where a complaint is in its handling.
    ComplaintStatus {
        /// Received, not yet handled.
        New = "new",
        /// Being handled.
        InProgress = "in_progress",
        /// Answered: the answer is stored and was sent to the submitter.
        Answered = "answered",
        /// Closed: nothing more will be done.
        Closed = "closed",
    }
);

text_enum!(
    /// What was submitted.
    ComplaintKind {
        /// A complaint about the service (投诉).
        Complaint = "complaint",
        /// A report of illegal or harmful content (举报).
        Report = "report",
    }
);

text_enum!(
    /// One step of a complaint's handling.
    StepAction {
        /// Received (the first event).
        Received = "received",
        /// Assigned to a member of staff.
        Assign = "assign",
        /// Work started.
        Start = "start",
        /// A note, without a change of state.
        Note = "note",
        /// Answered.
        Answer = "answer",
        /// Closed.
        Close = "close",
        /// Imported from the handling text of an earlier version.
        Imported = "imported",
    }
);

impl ComplaintStatus {
    /// Whether a complaint in this state still waits for its answer (counts for overdue).
    pub fn is_open(self) -> bool {
        matches!(self, ComplaintStatus::New | ComplaintStatus::InProgress)
    }
}

/// A complaint or report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Complaint {
    /// Ticket number, shown to the submitter.
    pub ticket: String,
    /// Tenant.
    pub tenant_id: String,
    /// Complaint or report.
    #[sqlx(try_from = "String")]
    pub kind: ComplaintKind,
    /// How it arrived (`web`, `api`, `email`, `phone`, …).
    pub channel: String,
    /// What the submitter said.
    pub content: String,
    /// How to reach the submitter, as they gave it (may be empty).
    pub contact: String,
    /// The audit record (ProduceID) the submission concerns, if it named one.
    pub record_id: String,
    /// Status.
    #[sqlx(try_from = "String")]
    pub status: ComplaintStatus,
    /// Who handles it (empty: unassigned).
    pub assignee: String,
    /// The answer given, once answered.
    pub answer: String,
    /// Deadline for the answer, ms since the epoch.
    pub deadline_ms: i64,
    /// Whether the deadline counts days of a calendar year not yet published (provisional).
    pub deadline_provisional: bool,
    /// When it was answered.
    pub answered_ms: Option<i64>,
    /// Received.
    pub created_ms: i64,
    /// Last change.
    pub updated_ms: i64,
}

impl Complaint {
    /// Whether the complaint is past its deadline at `now_ms` without an answer.
    pub fn overdue_at(&self, now_ms: i64) -> bool {
        self.status.is_open() && now_ms > self.deadline_ms
    }
}

/// One step in a complaint's handling history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ComplaintEvent {
    /// When.
    pub at_ms: i64,
    /// Who (an admin token's name; `submitter` for the submission).
    pub actor: String,
    /// What.
    #[sqlx(try_from = "String")]
    pub action: StepAction,
    /// The state after the step.
    #[sqlx(try_from = "String")]
    pub status: ComplaintStatus,
    /// The note, the assignee or the answer.
    pub note: String,
}

/// A step of some complaint's handling history, with its ticket.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketEvent {
    /// The complaint.
    pub ticket: String,
    /// The step.
    #[sqlx(flatten)]
    pub event: ComplaintEvent,
}

/// A complaint as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewComplaint {
    /// Complaint or report.
    pub kind: Option<ComplaintKind>,
    /// How it arrived.
    pub channel: String,
    /// What the submitter said.
    pub content: String,
    /// How to reach them.
    pub contact: String,
    /// The record concerned.
    pub record_id: String,
    /// Deadline, ms since the epoch.
    pub deadline_ms: i64,
    /// Whether the deadline is provisional.
    pub deadline_provisional: bool,
}

/// A handling step asked for by a member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Assign to someone (any open state; the state does not change).
    Assign(String),
    /// Start work (`new` → `in_progress`).
    Start,
    /// Add a note (any state).
    Note(String),
    /// Answer (`new`/`in_progress` → `answered`).
    Answer(String),
    /// Close (any state but `closed` → `closed`), with why.
    Close(String),
}

impl Step {
    fn action(&self) -> StepAction {
        match self {
            Step::Assign(_) => StepAction::Assign,
            Step::Start => StepAction::Start,
            Step::Note(_) => StepAction::Note,
            Step::Answer(_) => StepAction::Answer,
            Step::Close(_) => StepAction::Close,
        }
    }

    /// The state after this step from `from`, or why the step is not allowed.
    pub fn next(&self, from: ComplaintStatus) -> Result<ComplaintStatus, String> {
        use ComplaintStatus::*;
        let to = match (self, from) {
            (Step::Note(_), s) => s,
            (Step::Assign(_), s) if s.is_open() => s,
            (Step::Start, New) => InProgress,
            (Step::Answer(_), New | InProgress) => Answered,
            (Step::Close(_), New | InProgress | Answered) => Closed,
            (step, from) => {
                return Err(format!(
                    "cannot {} a complaint that is `{from}`",
                    step.action()
                ));
            }
        };
        Ok(to)
    }
}

/// Which complaints to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplaintFilter<'a> {
    /// Only those in this state.
    pub status: Option<ComplaintStatus>,
    /// Only those open and past their deadline at this time (ms).
    pub overdue_at: Option<i64>,
    /// Only those assigned to this person.
    pub assignee: Option<&'a str>,
}

/// Appends a handling event inside the transaction `$tx` (of either backend: the body of
/// `with_pool!` is written once per backend).
macro_rules! insert_event {
    ($tx:expr, $ticket:expr, $at:expr, $actor:expr, $action:expr, $status:expr, $note:expr) => {
        sqlx::query(
            "INSERT INTO complaint_events (ticket, at_ms, actor, action, status, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($ticket)
        .bind($at)
        .bind($actor)
        .bind($action.as_str())
        .bind($status.as_str())
        .bind($note)
        .execute(&mut *$tx)
        .await
        .map(|_| ())
        .map_err(StoreError::db("recording a complaint event"))
    };
}

const COLUMNS: &str = "ticket, tenant_id, kind, channel, content, contact, record_id, status, assignee, answer, deadline_ms, deadline_provisional, answered_ms, created_ms, updated_ms";

impl Store {
    /// Records a complaint (state `new`) and its first event; returns it with its ticket.
    pub async fn create_complaint(
        &self,
        tenant_id: &str,
        new: NewComplaint,
    ) -> Result<Complaint, StoreError> {
        let now = self.now_ms();
        let complaint = Complaint {
            ticket: format!("C{}", crate::RecordId::generate()),
            tenant_id: tenant_id.to_owned(),
            kind: new.kind.unwrap_or(ComplaintKind::Complaint),
            channel: new.channel,
            content: new.content,
            contact: new.contact,
            record_id: new.record_id,
            status: ComplaintStatus::New,
            assignee: String::new(),
            answer: String::new(),
            deadline_ms: new.deadline_ms,
            deadline_provisional: new.deadline_provisional,
            answered_ms: None,
            created_ms: now,
            updated_ms: now,
        };
        let c = &complaint;
        let e = || StoreError::db("recording a complaint");
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO complaints ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            )))
            .bind(&c.ticket)
            .bind(&c.tenant_id)
            .bind(c.kind.as_str())
            .bind(&c.channel)
            .bind(&c.content)
            .bind(&c.contact)
            .bind(&c.record_id)
            .bind(c.status.as_str())
            .bind(&c.assignee)
            .bind(&c.answer)
            .bind(c.deadline_ms)
            .bind(c.deadline_provisional)
            .bind(c.answered_ms)
            .bind(c.created_ms)
            .bind(c.updated_ms)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            insert_event!(
                tx,
                &c.ticket,
                now,
                "submitter",
                StepAction::Received,
                c.status,
                ""
            )?;
            tx.commit().await.map_err(e())
        })?;
        Ok(complaint)
    }

    /// Applies a handling step by `actor` to the tenant's complaint `ticket`, in one
    /// transaction with its event. `NotFound` for an unknown ticket (or another tenant's),
    /// `Conflict` for a step its state does not allow.
    pub async fn complaint_step(
        &self,
        tenant_id: &str,
        ticket: &str,
        actor: &str,
        step: &Step,
    ) -> Result<Complaint, StoreError> {
        let now = self.now_ms();
        let e = || StoreError::db("updating a complaint");
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await.map_err(e())?;
            // Read and write in one transaction; on PostgreSQL the row is locked, so two
            // operators answering at once cannot both succeed.
            let lock = if matches!(self.backend(), crate::Backend::Postgres) {
                " FOR UPDATE"
            } else {
                ""
            };
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT status FROM complaints WHERE tenant_id = $1 AND ticket = $2{lock}"
            )))
            .bind(tenant_id)
            .bind(ticket)
            .fetch_optional(&mut *tx)
            .await
            .map_err(e())?
            .ok_or_else(|| StoreError::NotFound {
                what: "complaint",
                key: ticket.to_owned(),
            })?;
            let from: ComplaintStatus = row.try_get::<String, _>(0).map_err(e())?.parse()?;
            let to = step.next(from).map_err(|reason| StoreError::Conflict {
                what: "complaint",
                reason,
            })?;
            let note = match step {
                Step::Assign(text) | Step::Note(text) | Step::Answer(text) | Step::Close(text) => {
                    text.as_str()
                }
                Step::Start => "",
            };
            let (assignee, answer) = match step {
                Step::Assign(who) => (Some(who.as_str()), None),
                Step::Answer(text) => (None, Some(text.as_str())),
                _ => (None, None),
            };
            sqlx::query(
                "UPDATE complaints SET status = $1, assignee = COALESCE($2, assignee), answer = COALESCE($3, answer), \
                 answered_ms = CASE WHEN $4 THEN $5 ELSE answered_ms END, updated_ms = $5 WHERE ticket = $6",
            )
            .bind(to.as_str())
            .bind(assignee)
            .bind(answer)
            .bind(answer.is_some())
            .bind(now)
            .bind(ticket)
            .execute(&mut *tx)
            .await
            .map_err(e())?;
            insert_event!(tx, ticket, now, actor, step.action(), to, note)?;
            tx.commit().await.map_err(e())
        })?;
        self.complaint(tenant_id, ticket)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "complaint",
                key: ticket.to_owned(),
            })
    }

    /// The tenant's complaint with this ticket.
    pub async fn complaint(
        &self,
        tenant_id: &str,
        ticket: &str,
    ) -> Result<Option<Complaint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 AND ticket = $2");
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(ticket)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::db("reading complaints"))
        })
    }

    /// The tenant's complaints that pass `filter`, the earliest deadline first.
    pub async fn complaints(
        &self,
        tenant_id: &str,
        filter: ComplaintFilter<'_>,
    ) -> Result<Vec<Complaint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM complaints WHERE tenant_id = $1 \
             AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR (status IN ('new', 'in_progress') AND deadline_ms < $3)) \
             AND ($4 IS NULL OR assignee = $4) \
             ORDER BY deadline_ms, ticket"
        );
        with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(tenant_id)
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.overdue_at)
                .bind(filter.assignee)
                .fetch_all(pool)
                .await
                .map_err(StoreError::db("reading complaints"))
        })
    }

    /// The complaint's handling history, oldest first.
    pub async fn complaint_events(&self, ticket: &str) -> Result<Vec<ComplaintEvent>, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT at_ms, actor, action, status, note FROM complaint_events WHERE ticket = $1 ORDER BY id",
            )
            .bind(ticket)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading complaint events"))
        })
    }

    /// The handling history of every complaint of `tenant_id`, in one query: by ticket, each
    /// ticket's steps oldest first (the export of handling records).
    pub async fn complaint_histories(
        &self,
        tenant_id: &str,
    ) -> Result<Vec<TicketEvent>, StoreError> {
        with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT e.ticket, e.at_ms, e.actor, e.action, e.status, e.note FROM complaint_events e \
                 JOIN complaints c ON c.ticket = e.ticket WHERE c.tenant_id = $1 ORDER BY e.ticket, e.id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::db("reading complaint events"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComplaintStatus::*;

    #[test]
    fn transitions() {
        let answer = Step::Answer("done".into());
        let close = Step::Close("dup".into());
        let assign = Step::Assign("li".into());
        let note = Step::Note("n".into());
        for (step, from, want) in [
            (&Step::Start, New, Ok(InProgress)),
            (&Step::Start, InProgress, Err(())),
            (&Step::Start, Answered, Err(())),
            (&answer, New, Ok(Answered)),
            (&answer, InProgress, Ok(Answered)),
            (&answer, Answered, Err(())),
            (&answer, Closed, Err(())),
            (&close, New, Ok(Closed)),
            (&close, Answered, Ok(Closed)),
            (&close, Closed, Err(())),
            (&assign, New, Ok(New)),
            (&assign, InProgress, Ok(InProgress)),
            (&assign, Answered, Err(())),
            (&note, Closed, Ok(Closed)),
        ] {
            assert_eq!(
                step.next(from).map_err(|_| ()),
                want,
                "{step:?} from {from}"
            );
        }
    }
}
