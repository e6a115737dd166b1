//! Agreement acceptance as an admission guard (Interim Measures art. 9): with
//! `require-agreement = true` in a tenant's `[tenants.public]`, an end user who has not accepted
//! the version of the service agreement in force gets 403 `agreement_not_accepted` with the
//! agreement's URL, on the record. Acceptances are recorded through
//! `POST /v1/hegui/agreements/accept` (see `routes::agreements`) and kept in the store, so
//! every instance of a fleet sees them.
//!
//! An acceptance never expires, so positive answers are cached (bounded, per tenant, end user
//! and version); a refusal asks the store again next time, so an acceptance made on another
//! instance counts at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use futures_util::future::BoxFuture;
use hegui_store::Store;
use moka::sync::Cache;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;
use crate::public::config::PublicPages;

/// (tenant, end user, version) of an acceptance.
type AcceptedKey = (Arc<str>, Arc<str>, Arc<str>);

/// The agreement guard.
pub(crate) struct AgreementGuard {
    store: Store,
    /// Tenant → its public pages, for the tenants that require acceptance.
    required: HashMap<String, PublicPages>,
    /// (tenant, end user, version) accepted.
    accepted: Cache<AcceptedKey, ()>,
    /// Which agreement is in force depends on the day.
    clock: Clock,
}

impl AgreementGuard {
    pub(crate) fn new(config: &Config, store: Store, clock: Clock) -> AgreementGuard {
        let required = config
            .tenants
            .iter()
            .filter_map(|t| Some((t.id.clone(), t.public.clone()?)))
            .filter(|(_, p)| p.require_agreement)
            .collect();
        AgreementGuard {
            clock,
            store,
            required,
            accepted: Cache::builder()
                .max_capacity(config.limits.tracked_users)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
        }
    }

    async fn check(&self, caller: &Caller, kind: &str) -> Result<(), Refusal> {
        // Listing the models uses nothing of the service.
        if kind == "models" {
            return Ok(());
        }
        let Some(pages) = self.required.get(&caller.tenant) else {
            return Ok(());
        };
        let Some(current) = pages.current_agreement(crate::clock::beijing((self.clock)()).day)
        else {
            return Ok(());
        };
        let refuse = |why: String| {
            Refusal::audited(AppError::new(
                StatusCode::FORBIDDEN,
                "agreement_not_accepted",
                format!(
                    "请先阅读并同意《{}》（{}）后使用本服务 ({why}; read and accept it first: \
                     /public/{}/agreement/{})",
                    current.title, current.version, caller.tenant, current.version
                ),
            ))
        };
        if !caller.named {
            return Err(refuse("the request names no end user".into()));
        }
        let key: AcceptedKey = (
            caller.tenant.as_str().into(),
            caller.user.as_str().into(),
            current.version.as_str().into(),
        );
        if self.accepted.contains_key(&key) {
            return Ok(());
        }
        let accepted = self
            .store
            .agreement_accepted(&caller.tenant, &caller.user, &current.version)
            .await
            .map_err(|e| Refusal::plain(AppError::internal("reading an acceptance", e)))?;
        if accepted.is_none() {
            return Err(refuse(format!(
                "end user `{}` has not accepted version `{}`",
                caller.user, current.version
            )));
        }
        self.accepted.insert(key, ());
        Ok(())
    }
}

impl Admission for AgreementGuard {
    fn name(&self) -> &'static str {
        "agreement"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(self.check(caller, request.kind))
    }
}
