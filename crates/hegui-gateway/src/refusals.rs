//! Refusals on the record: a request the gateway refuses before any guard has judged it leaves
//! a `refused` record (stage `admission`, the reason in its notes, no body), so that a
//! suspended user's or an intruder's attempts leave a trace. Admission guards record their own
//! refusals (`guard/`); here are the two that come before them:
//!
//! - a request without a valid API key (401): no tenant, the client's address, guard `api_key`;
//!   nothing of what it sent is kept, not even the key it presented;
//! - a malformed request of a known tenant (400, 404, 413): guard `request`.
//!
//! A flood must not fill the ledger: at most one record per client (tenant, or IP address for
//! a 401), reason and second, and at most [`UNAUTHENTICATED_PER_SEC`] 401 records a second in
//! all, however many addresses send them. Every refusal is counted in `hegui_refusals`. Nothing
//! is recorded in `pass-through` mode.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hegui_store::ledger::schema::{Outcome, Verdicts};

use crate::auth::Tenant;
use crate::error::AppError;
use crate::gateway::Gateway;
use crate::guard::{self, Caller};

/// The most 401 refusals recorded per second across all clients.
pub(crate) const UNAUTHENTICATED_PER_SEC: u32 = 10;

impl Gateway {
    /// Records a malformed request of `tenant` (a 400, 404 or 413 that no guard recorded), or
    /// one for content taken down (451).
    pub(crate) async fn refused_request(
        &self,
        tenant: &Tenant,
        kind: &str,
        client_addr: Option<SocketAddr>,
        error: AppError,
    ) -> AppError {
        let malformed = matches!(error.status.as_u16(), 400 | 404 | 413 | 451);
        if !malformed || error.record_id.is_some() || self.config().pass_through {
            return error;
        }
        self.inner.metrics.refusal("request", error.code);
        let key = (Arc::from(tenant.id.as_str()), Arc::from(error.code));
        if !self.inner.tracked.record_refusal(key, "request") {
            return error;
        }
        let caller = Caller::new(tenant.id.clone(), tenant.arrived, address(client_addr));
        let code = error.code;
        self.record_refusal(&caller, kind, "request", code, error)
            .await
    }

    /// Records a request refused for its API key (401); `reason` is `missing_api_key` or
    /// `invalid_api_key`.
    pub(crate) async fn refused_key(
        &self,
        client_addr: Option<SocketAddr>,
        reason: &'static str,
        error: AppError,
    ) -> AppError {
        self.inner.metrics.refusal("api_key", reason);
        if self.config().pass_through {
            return error;
        }
        // The empty tenant never names a real one: the key is the client's address.
        let ip = client_addr.map(|a| a.ip().to_string()).unwrap_or_default();
        let key = (Arc::from(""), Arc::from(format!("{ip} {reason}")));
        if !self.inner.tracked.record_refusal(key, "api_key")
            || !self.inner.tracked.unauthenticated_allows()
        {
            return error;
        }
        let caller = Caller::new(String::new(), Instant::now(), address(client_addr));
        self.record_refusal(&caller, "auth", "api_key", reason, error)
            .await
    }

    /// Appends the `refused` record of `error` (by `guard`, `note` in its notes); the answer
    /// then names it.
    async fn record_refusal(
        &self,
        caller: &Caller,
        kind: &str,
        guard: &str,
        note: &str,
        error: AppError,
    ) -> AppError {
        let record = self
            .record(caller, kind, "")
            .response(error.message.clone())
            .verdicts(Verdicts::new(vec![guard::refusal_verdict(guard, note)]))
            .outcome(Outcome::Refused);
        match self.audit(caller, record).await {
            Ok(()) => error.record(caller.record_id.as_str()),
            Err(e) => e,
        }
    }
}

fn address(client_addr: Option<SocketAddr>) -> String {
    client_addr.map(|a| a.to_string()).unwrap_or_default()
}
