//! Minors mode (Interim Measures art. 10: prevent minors' over-reliance on and addiction to
//! the service), for end users the identity guard found to be minors (the store's flag, or the
//! signed identity header's). With `[guard.minors]`:
//!
//! - **Quiet hours** (`quiet-hours`, default `22:00-06:00` Beijing time): 403
//!   `minor_quiet_hours`.
//! - **A daily time limit** (`daily-minutes`, default 40): the minutes of the Beijing-time day
//!   in which the minor made a request are counted (in the store, or in Redis for a fleet so
//!   that the limit holds across instances; the store when Redis does not answer); a request in
//!   a new minute beyond the limit gets 403 `minor_time_limit`, and is not counted.
//! - **The guidance notice** (`guidance`) before every answer.
//!
//! Their review-level input is refused as well (the lexicon guard reads [`Caller::minor`]).
//! Refusals are on the record. Listing the models is neither refused nor counted.

use std::sync::Arc;

use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use hegui_store::Store;

use super::notice::UserNotice;
use super::{Admission, Caller, Parts, Refusal, RequestMeta};
use crate::Clock;
use crate::clock::beijing;
use crate::error::AppError;
use crate::fleet::Fleet;

/// The minors-mode guard.
pub(crate) struct MinorsGuard {
    store: Store,
    fleet: Option<Arc<Fleet>>,
    clock: Clock,
    daily_minutes: u32,
    /// (start, end) minutes of the Beijing day; may wrap past midnight.
    quiet: Option<(u32, u32)>,
    quiet_text: String,
    guidance: Option<Arc<str>>,
}

/// Whether `minute` of the day falls in the quiet hours `[start, end)`.
pub(crate) fn in_quiet_hours(minute: u32, (start, end): (u32, u32)) -> bool {
    if start < end {
        (start..end).contains(&minute)
    } else {
        minute >= start || minute < end
    }
}

impl MinorsGuard {
    pub(crate) fn new(parts: &Parts<'_>) -> MinorsGuard {
        let minors = &parts.config.guard.minors;
        // Validated with the config: an error here cannot happen; no quiet hours if it did.
        let quiet = minors.quiet().ok().flatten();
        let guidance = minors.guidance.trim();
        MinorsGuard {
            store: parts.store.clone(),
            fleet: parts.fleet.clone(),
            clock: parts.clock.clone(),
            daily_minutes: minors.daily_minutes,
            quiet,
            quiet_text: minors.quiet_hours.trim().to_owned(),
            guidance: (!guidance.is_empty()).then(|| Arc::from(guidance)),
        }
    }

    async fn check(&self, caller: &mut Caller, kind: &str) -> Result<(), Refusal> {
        if !caller.minor || kind == "models" {
            return Ok(());
        }
        let now = beijing((self.clock)());
        if let Some(quiet) = self.quiet
            && in_quiet_hours(now.minute, quiet)
        {
            return Err(Refusal::audited(AppError::new(
                StatusCode::FORBIDDEN,
                "minor_quiet_hours",
                format!(
                    "未成年人模式：{} 期间（北京时间）暂停服务，请注意休息 (minors mode: no service \
                     during the quiet hours {}, Beijing time)",
                    self.quiet_text, self.quiet_text
                ),
            )));
        }
        if self.daily_minutes > 0 {
            let day = now.day.to_string();
            let shared = match &self.fleet {
                Some(fleet) => {
                    fleet
                        .count_use_minute(
                            &caller.tenant,
                            &caller.user,
                            &day,
                            now.minute,
                            self.daily_minutes,
                        )
                        .await
                }
                None => None,
            };
            let used = match shared {
                Some(used) => used,
                None => self
                    .store
                    .count_use_minute(
                        &caller.tenant,
                        &caller.user,
                        &day,
                        now.minute,
                        self.daily_minutes,
                    )
                    .await
                    .map_err(|e| {
                        Refusal::plain(AppError::internal("counting minutes of use", e))
                    })?,
            };
            if !used.allowed {
                return Err(Refusal::audited(AppError::new(
                    StatusCode::FORBIDDEN,
                    "minor_time_limit",
                    format!(
                        "未成年人模式：今日使用时长已达 {} 分钟上限，请明天再来 (minors mode: \
                         today's limit of {} minutes of use is reached)",
                        self.daily_minutes, self.daily_minutes
                    ),
                )));
            }
        }
        if let Some(guidance) = &self.guidance {
            caller.notices.push(UserNotice {
                kind: "minor_guidance",
                text: guidance.clone(),
            });
        }
        Ok(())
    }
}

impl Admission for MinorsGuard {
    fn name(&self) -> &'static str {
        "minors"
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
    fn quiet_hours_wrap_past_midnight() {
        let night = (22 * 60, 6 * 60);
        let lunch = (12 * 60, 13 * 60);
        // (minute, quiet hours, quiet)
        let cases = [
            (23 * 60, night, true),
            (22 * 60, night, true),
            (0, night, true),
            (6 * 60 - 1, night, true),
            (6 * 60, night, false),
            (7 * 60, night, false),
            (21 * 60 + 59, night, false),
            (12 * 60 + 30, lunch, true),
            (13 * 60, lunch, false),
            (11 * 60, lunch, false),
        ];
        for (minute, quiet, expected) in cases {
            assert_eq!(
                in_quiet_hours(minute, quiet),
                expected,
                "{minute} in {quiet:?}"
            );
        }
    }
}
