//! Rate limits per tenant and per end user, as GCRA: in this process (`governor` over the
//! bounded per-user state), or in Redis for a fleet, where a budget is shared by every instance
//! (and passes when Redis does not answer). A spent budget is a 429 with an audit record
//! (throttled, see [`crate::Gateway`]'s `admit`).

use std::sync::Arc;

use axum::http::StatusCode;
use futures_util::future::BoxFuture;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::config::Guard;
use crate::error::AppError;
use crate::fleet::Fleet;
use crate::state::{Tracked, burst_of};

/// The tenant's and the end user's request budgets.
pub(crate) struct RateLimit {
    tracked: Arc<Tracked>,
    fleet: Option<Arc<Fleet>>,
    tenant_rps: f64,
    tenant_burst: f64,
    user_rps: f64,
    user_burst: f64,
}

impl RateLimit {
    pub(crate) fn new(
        tracked: Arc<Tracked>,
        fleet: Option<Arc<Fleet>>,
        guard: &Guard,
    ) -> RateLimit {
        RateLimit {
            tracked,
            fleet,
            tenant_rps: guard.tenant_rps,
            tenant_burst: burst_of(guard.tenant_rps, guard.tenant_burst),
            user_rps: guard.user_rps,
            user_burst: burst_of(guard.user_rps, guard.user_burst),
        }
    }

    /// The fleet's verdict: (tenant allowed, end user allowed), each `true` when unlimited or
    /// when Redis did not answer.
    async fn fleet_allows(&self, fleet: &Fleet, caller: &Caller) -> (bool, bool) {
        let tenant = self.tenant_rps <= 0.0
            || fleet
                .tenant_allows(&caller.tenant, self.tenant_rps, self.tenant_burst)
                .await
                .unwrap_or(true);
        if !tenant {
            return (false, true);
        }
        let user = self.user_rps <= 0.0
            || fleet
                .user_allows(&caller.tenant, &caller.user, self.user_rps, self.user_burst)
                .await
                .unwrap_or(true);
        (true, user)
    }

    async fn check(&self, caller: &Caller) -> Result<(), Refusal> {
        let key = caller.key();
        let spent = |message: String| {
            Refusal::audited(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                message,
            ))
        };
        let (tenant_ok, user_ok) = match &self.fleet {
            Some(fleet) => self.fleet_allows(fleet, caller).await,
            None => {
                let tenant = self.tracked.tenant_allows(&key.0);
                (tenant, !tenant || self.tracked.user_allows(&key))
            }
        };
        if !tenant_ok {
            return Err(spent(format!(
                "rate limit of tenant `{}` reached ({} requests/s)",
                caller.tenant, self.tenant_rps
            )));
        }
        if !user_ok {
            return Err(spent(format!(
                "rate limit of end user `{}` reached ({} requests/s)",
                caller.user, self.user_rps
            )));
        }
        Ok(())
    }
}

impl Admission for RateLimit {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        _request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(self.check(caller))
    }
}
