//! Reminders that the user is talking to an AI (the 2026 measures on anthropomorphic
//! interaction services: a reminder at first use and after long continuous use), with
//! `[guard.reminders]`.
//!
//! A **session** is a run of one end user's requests with gaps shorter than
//! `session-gap-minutes` (default 30). With `first-use = true` the first answer of every
//! session carries the reminder: the user's first use ever, and every return after a gap (the
//! draft's "re-login"). With `every-minutes = N` (default 120) an answer after N minutes of
//! continuous use carries the continuous-use reminder, and again every N minutes after it. A
//! request that names no end user has no session: it gets the first-use reminder every time,
//! since it cannot be known not to be a first use.
//!
//! The reminder goes before the answer ([`super::notice::UserNotices`]) and into the record's
//! output verdicts. Sessions are kept in a bounded cache of this process, or in Redis for a
//! fleet (so that moving between instances does not start a new session); when Redis does not
//! answer, this process's cache decides.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use moka::ops::compute::Op;
use moka::sync::Cache;

use super::notice::UserNotice;
use super::{Admission, Caller, Parts, Refusal, RequestMeta};
use crate::Clock;
use crate::config::Reminders;
use crate::fleet::Fleet;
use crate::state::UserKey;

/// One end user's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Session {
    /// The latest request (ms since the epoch).
    last_ms: i64,
    /// When the next continuous-use reminder is due.
    due_ms: i64,
}

/// Which reminder an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reminder {
    FirstUse,
    Continuous,
}

/// The session rules, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    gap_ms: i64,
    /// 0: no continuous-use reminders.
    every_ms: i64,
    first_use: bool,
}

/// One request at `now_ms` in the session `previous` (none: no request yet): the session after
/// it, and the reminder its answer carries.
pub(crate) fn step(
    previous: Option<Session>,
    now_ms: i64,
    rules: Rules,
) -> (Session, Option<Reminder>) {
    match previous {
        Some(s) if now_ms - s.last_ms < rules.gap_ms => {
            let last_ms = s.last_ms.max(now_ms);
            if rules.every_ms > 0 && now_ms >= s.due_ms {
                let next = Session {
                    last_ms,
                    due_ms: now_ms + rules.every_ms,
                };
                (next, Some(Reminder::Continuous))
            } else {
                (Session { last_ms, ..s }, None)
            }
        }
        _ => (
            Session {
                last_ms: now_ms,
                due_ms: now_ms.saturating_add(rules.every_ms),
            },
            rules.first_use.then_some(Reminder::FirstUse),
        ),
    }
}

/// The reminders guard (absent from the pipeline's effect when `[guard.reminders]` is absent).
pub(crate) struct ReminderGuard {
    config: Option<(Reminders, Rules)>,
    sessions: Cache<UserKey, Session>,
    fleet: Option<Arc<Fleet>>,
    clock: Clock,
}

impl ReminderGuard {
    pub(crate) fn new(parts: &Parts<'_>) -> ReminderGuard {
        let config = parts.config.guard.reminders.clone().map(|r| {
            let minutes = |m: u64| i64::try_from(m.saturating_mul(60_000)).unwrap_or(i64::MAX);
            let rules = Rules {
                gap_ms: minutes(r.session_gap_minutes),
                every_ms: minutes(r.every_minutes),
                first_use: r.first_use,
            };
            (r, rules)
        });
        let gap = config.as_ref().map_or(1, |(r, _)| r.session_gap_minutes);
        ReminderGuard {
            config,
            sessions: Cache::builder()
                .max_capacity(parts.config.limits.tracked_users)
                // A session idle for the gap is over: forgetting it changes nothing.
                .time_to_idle(Duration::from_secs(gap.saturating_mul(60).max(1)))
                .build(),
            fleet: parts.fleet.clone(),
            clock: parts.clock.clone(),
        }
    }

    /// This process's step of the caller's session.
    fn local_step(&self, key: &UserKey, now_ms: i64, rules: Rules) -> Option<Reminder> {
        let mut reminder = None;
        self.sessions.entry_by_ref(key).and_compute_with(|entry| {
            let (session, r) = step(entry.map(|e| e.into_value()), now_ms, rules);
            reminder = r;
            Op::Put(session)
        });
        reminder
    }

    async fn check(&self, caller: &mut Caller, kind: &str) -> Result<(), Refusal> {
        let Some((config, rules)) = &self.config else {
            return Ok(());
        };
        // Listing the models is not a use of the service.
        if kind == "models" {
            return Ok(());
        }
        let now_ms = (self.clock)().timestamp_millis();
        let reminder = if !caller.named {
            rules.first_use.then_some(Reminder::FirstUse)
        } else {
            let shared = match &self.fleet {
                Some(fleet) => {
                    let rules = (rules.gap_ms, rules.every_ms, rules.first_use);
                    fleet
                        .session_step(&caller.tenant, &caller.user, now_ms, rules)
                        .await
                }
                None => None,
            };
            match shared {
                Some(0) => None,
                Some(1) => Some(Reminder::FirstUse),
                Some(_) => Some(Reminder::Continuous),
                None => self.local_step(&caller.key(), now_ms, *rules),
            }
        };
        let notice = match reminder {
            Some(Reminder::FirstUse) => UserNotice {
                kind: "reminder_first_use",
                text: config.text.as_str().into(),
            },
            Some(Reminder::Continuous) => UserNotice {
                kind: "reminder_continuous",
                text: config.continuous_text.as_str().into(),
            },
            None => return Ok(()),
        };
        caller.notices.push(notice);
        Ok(())
    }
}

impl Admission for ReminderGuard {
    fn name(&self) -> &'static str {
        "reminders"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(self.check(caller, request.kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_remind_at_first_use_and_after_continuous_use() {
        let min = 60_000;
        let rules = Rules {
            gap_ms: 30 * min,
            every_ms: 120 * min,
            first_use: true,
        };
        // (minute of the request, reminder)
        let steps = [
            (0, Some(Reminder::FirstUse)),
            (1, None),
            (29, None),
            (58, None),
            (87, None),
            (116, None),
            (120, Some(Reminder::Continuous)),
            (121, None),
            (150, None),
            (179, None),
            (208, None),
            (237, None),
            (240, Some(Reminder::Continuous)),
            // A gap of 30 minutes ends the session: a new one starts.
            (270, Some(Reminder::FirstUse)),
            (271, None),
        ];
        let mut session = None;
        for (minute, expected) in steps {
            let (next, reminder) = step(session, minute * min, rules);
            assert_eq!(reminder, expected, "minute {minute}");
            session = Some(next);
        }
        // Switched off: no reminder at all.
        let off = Rules {
            every_ms: 0,
            first_use: false,
            ..rules
        };
        let mut session = None;
        for minute in [0, 200, 400, 1000] {
            let (next, reminder) = step(session, minute * min, off);
            assert_eq!(reminder, None, "minute {minute}");
            session = Some(next);
        }
    }
}
