//! End-user state and the violation policy (Interim Measures art. 14: warn, restrict, suspend
//! users who break the law or the agreement, and keep records).
//!
//! As an admission guard, [`Sanctions`] refuses a suspended or terminated end user, and a
//! restricted one's media requests (403, with an
//! audit record) and lifts a suspension of the violation policy whose time is over (a
//! suspension an operator decided stands until an operator restores the user). After a refused input,
//! [`Sanctions::record_violation`] counts it and applies the configured thresholds; a sanction
//! is written to the store with the record id that caused it. States are cached for
//! `guard.cache-ms` with the rest of the end user's facts (`state::UserFacts`).
//!
//! In a fleet the counters are Redis's (shared by every instance), a sanction is claimed there
//! so that it is recorded once however many instances cross the threshold together, and every
//! instance is told to drop the end user's cached state.

use std::sync::Arc;

use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use hegui_store::Store;
use hegui_store::users::UserState;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::clock::Clock;
use crate::config::Policy;
use crate::error::AppError;
use crate::fleet::{Fleet, user_changed};
use crate::state::{Tracked, UserKey};

/// What a restricted end user may not use: the generation of media, which spreads further
/// than a chat answer (a restriction limits functions, Interim Measures art. 14).
const RESTRICTED_KINDS: &[&str] = &["image", "speech"];

/// The end-user state guard and the violation policy.
pub(crate) struct Sanctions {
    store: Store,
    tracked: Arc<Tracked>,
    policy: Policy,
    fleet: Option<Arc<Fleet>>,
    clock: Clock,
}

fn rank(state: UserState) -> u8 {
    match state {
        UserState::Normal => 0,
        UserState::Warned => 1,
        UserState::Restricted => 2,
        UserState::Suspended => 3,
        UserState::Terminated => 4,
    }
}

impl Sanctions {
    pub(crate) fn new(
        store: Store,
        tracked: Arc<Tracked>,
        policy: Policy,
        fleet: Option<Arc<Fleet>>,
        clock: Clock,
    ) -> Sanctions {
        Sanctions {
            store,
            tracked,
            policy,
            fleet,
            clock,
        }
    }

    fn now_ms(&self) -> i64 {
        (self.clock)().timestamp_millis()
    }

    /// The end user's state, from the cache or the store; an expired suspension is lifted.
    async fn state(&self, tenant: &str, user: &str) -> Result<UserState, AppError> {
        let key: UserKey = (Arc::from(tenant), Arc::from(user));
        let facts = self
            .tracked
            .user_facts(&self.store, &key, false)
            .await
            .map_err(|e| AppError::internal("reading the end user", e))?;
        if facts.state != UserState::Suspended || self.now_ms() < facts.suspended_until_ms {
            return Ok(facts.state);
        }
        self.store
            .sanction(
                tenant,
                user,
                UserState::Normal,
                "suspension expired",
                None,
                hegui_store::sanctions::POLICY,
            )
            .await
            .map_err(|e| AppError::internal("lifting a suspension", e))?;
        self.tracked
            .update_user(&key, |f| f.state = UserState::Normal);
        Ok(UserState::Normal)
    }

    /// A passed input: the consecutive count starts again.
    pub(crate) fn clear_violations(&self, caller: &Caller) {
        self.tracked.clear_consecutive(&caller.key());
        if let Some(fleet) = &self.fleet
            && caller.named
        {
            // Off the request path: the answer does not wait for Redis.
            let (fleet, tenant, user) = (fleet.clone(), caller.tenant.clone(), caller.user.clone());
            tokio::spawn(async move { fleet.clear_consecutive(&tenant, &user).await });
        }
    }

    /// Counts a refused input of `caller` (risk `risk`) and applies the policy. Returns the new
    /// state if it changed. End users the request did not name are never sanctioned.
    pub(crate) async fn record_violation(&self, caller: &Caller, risk: &str) -> Option<UserState> {
        if !caller.named {
            return None;
        }
        let policy = &self.policy;
        let day = self.now_ms().div_euclid(86_400_000);
        let shared = match &self.fleet {
            Some(fleet) => {
                fleet
                    .count_violation(&caller.tenant, &caller.user, day)
                    .await
            }
            None => None,
        };
        let counts = shared.unwrap_or_else(|| self.tracked.count_violation(&caller.key(), day));
        let reached = |threshold: u32, count: u32| threshold > 0 && count >= threshold;
        let (target, reason) = if reached(policy.suspend_after, counts.consecutive) {
            (
                UserState::Suspended,
                format!(
                    "{} consecutive blocked inputs (last risk {risk}); suspended for {} minutes",
                    counts.consecutive, policy.suspend_minutes
                ),
            )
        } else if reached(policy.daily_suspend_after, counts.today) {
            (
                UserState::Suspended,
                format!(
                    "{} blocked inputs today (last risk {risk}); suspended for {} minutes",
                    counts.today, policy.suspend_minutes
                ),
            )
        } else if reached(policy.restrict_after, counts.consecutive) {
            (
                UserState::Restricted,
                format!(
                    "{} consecutive blocked inputs (last risk {risk})",
                    counts.consecutive
                ),
            )
        } else if reached(policy.warn_after, counts.consecutive) {
            (
                UserState::Warned,
                format!(
                    "{} consecutive blocked inputs (last risk {risk})",
                    counts.consecutive
                ),
            )
        } else {
            return None;
        };
        if rank(target) <= rank(caller.state) {
            return None;
        }
        if let Some(fleet) = &self.fleet
            && !fleet
                .claim_sanction(&caller.tenant, &caller.user, target.as_str())
                .await
        {
            return None;
        }
        match self
            .store
            .sanction(
                &caller.tenant,
                &caller.user,
                target,
                &reason,
                Some(caller.record_id.as_str()),
                hegui_store::sanctions::POLICY,
            )
            .await
        {
            Ok(_) => {
                tracing::info!(tenant = ?caller.tenant, user = ?caller.user, state = target.as_str(), %reason, "sanction");
                let fleet = self.fleet.as_deref();
                user_changed(&self.tracked, fleet, &caller.tenant, &caller.user).await;
                Some(target)
            }
            Err(e) => {
                tracing::error!(error = %e, "recording a sanction");
                None
            }
        }
    }
}

impl Admission for Sanctions {
    fn name(&self) -> &'static str {
        "sanctions"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(async move {
            if !caller.named {
                // Not one person: never sanctioned (see `end_user`).
                return Ok(());
            }
            let state = self
                .state(&caller.tenant, &caller.user)
                .await
                .map_err(Refusal::plain)?;
            caller.state = state;
            if state == UserState::Restricted && RESTRICTED_KINDS.contains(&request.kind) {
                return Err(Refusal::audited(AppError::new(
                    StatusCode::FORBIDDEN,
                    "user_restricted",
                    format!(
                        "您的账号因违规已被限制使用部分功能 (end user `{}` is restricted: {} is not available)",
                        caller.user, request.kind
                    ),
                )));
            }
            if !matches!(state, UserState::Suspended | UserState::Terminated) {
                return Ok(());
            }
            let zh = if state == UserState::Suspended {
                "暂停服务"
            } else {
                "终止服务"
            };
            Err(Refusal::audited(AppError::new(
                StatusCode::FORBIDDEN,
                "user_suspended",
                format!(
                    "您的账号因多次违规已被{zh}，暂时无法使用本服务 (end user `{}` is {}; see the service agreement)",
                    caller.user,
                    state.as_str()
                ),
            )))
        })
    }
}
