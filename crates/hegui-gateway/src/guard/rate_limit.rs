//! Rate limits per tenant and per end user (GCRA, `governor` over the bounded per-user state):
//! a spent budget is a 429 with an audit record (throttled, see [`super::Pipeline`]).

use std::sync::Arc;

use axum::http::StatusCode;
use futures_util::future::BoxFuture;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::config::Guard;
use crate::error::AppError;
use crate::state::Tracked;

/// The tenant's and the end user's request budgets.
pub(crate) struct RateLimit {
    tracked: Arc<Tracked>,
    tenant_rps: f64,
    user_rps: f64,
}

impl RateLimit {
    pub(crate) fn new(tracked: Arc<Tracked>, guard: &Guard) -> RateLimit {
        RateLimit {
            tracked,
            tenant_rps: guard.tenant_rps,
            user_rps: guard.user_rps,
        }
    }

    fn check(&self, caller: &Caller) -> Result<(), Refusal> {
        let key = caller.key();
        let spent = |message: String| {
            Refusal::audited(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                message,
            ))
        };
        if !self.tracked.tenant_allows(&key.0) {
            return Err(spent(format!(
                "rate limit of tenant `{}` reached ({} requests/s)",
                caller.tenant, self.tenant_rps
            )));
        }
        if !self.tracked.user_allows(&key) {
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
        Box::pin(std::future::ready(self.check(caller)))
    }
}
