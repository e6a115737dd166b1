//! The end user's identity status (Deep Synthesis Provisions art. 9: real-identity
//! verification) and whether they are a minor, as an admission guard.
//!
//! hegui never sees identity documents: the provider's identity system verifies the user and
//! tells hegui the result, through the store (`Store::set_identity`, `Store::set_minor`, which
//! the admin API calls) or per request through a **signed header**:
//!
//! ```text
//! x-hegui-identity: <user>;<flags>;<unix-seconds>;<hex HMAC-SHA256(secret, "<user>;<flags>;<unix-seconds>")>
//! ```
//!
//! `flags` is a comma-separated list of `verified` and `minor` (empty for neither); the secret
//! is the tenant's (`identity-secret-env` in its `[tenants.public]`). The header is accepted
//! when the signature matches, the time is within five minutes of the gateway's, and `user` is
//! the end user the request names (after the same normalization); its status is then recorded
//! in the store (source `header`) and used. A header that fails any of these is refused with
//! 400 (`invalid_identity_header`, `identity_signature_invalid`, `identity_header_expired`).
//!
//! With `require-identity = true` in a tenant's `[tenants.public]`, an end user who is not
//! verified gets 403 `identity_not_verified`, on the record; so does a request that names no
//! end user, since an anonymous user cannot be verified. Listing the models is not refused.
//!
//! Statuses are cached per end user for `guard.cache-ms` (bounded), with the rest of what the
//! admission guards know of them (`state::UserFacts`, one read of the store for all); an
//! unverified status is read again when verification is required, so a verification made
//! elsewhere counts at once. The admin API's status changes drop the cached facts on every
//! instance.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use futures_util::future::BoxFuture;
use hegui_store::Store;
use hmac::{Hmac, Mac as _};
use moka::sync::Cache;
use sha2::Sha256;

use super::end_user::EndUser;
use super::{Admission, Caller, Parts, Refusal, RequestMeta};
use crate::Clock;
use crate::error::AppError;
use crate::state::{Tracked, UserKey};

/// The signed identity header.
pub(crate) const HEADER: &str = "x-hegui-identity";

/// How far the header's time may be from the gateway's, in seconds.
const MAX_SKEW_SECS: i64 = 300;

/// What the guard knows of an end user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Status {
    verified: bool,
    minor: bool,
}

/// A valid signed identity header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedIdentity {
    pub(crate) user: String,
    pub(crate) verified: bool,
    pub(crate) minor: bool,
}

/// Why a signed identity header is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderError {
    #[error("the `x-hegui-identity` header is malformed: {0}")]
    Malformed(&'static str),
    #[error("tenant `{0}` has no identity secret (`identity-secret-env`)")]
    NoSecret(String),
    #[error("the `x-hegui-identity` signature does not match")]
    Signature,
    #[error("the `x-hegui-identity` time is more than five minutes from now")]
    Expired,
    #[error("the `x-hegui-identity` user is not the end user the request names")]
    OtherUser,
}

impl HeaderError {
    /// The error code the client gets.
    fn code(&self) -> &'static str {
        match self {
            HeaderError::Signature => "identity_signature_invalid",
            HeaderError::Expired => "identity_header_expired",
            _ => "invalid_identity_header",
        }
    }
}

/// Checks the header `value` with `secret` at `now` (unix seconds). Only the structure, the
/// signature and the time: the caller compares the user.
pub(crate) fn verify(value: &[u8], secret: &[u8], now: i64) -> Result<SignedIdentity, HeaderError> {
    let value = std::str::from_utf8(value).map_err(|_| HeaderError::Malformed("not UTF-8"))?;
    let (signed, signature) = value.rsplit_once(';').ok_or(HeaderError::Malformed(
        "expected `user;flags;unix-seconds;signature`",
    ))?;
    let mut parts = signed.rsplitn(3, ';');
    let (Some(time), Some(flags), Some(user)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(HeaderError::Malformed(
            "expected `user;flags;unix-seconds;signature`",
        ));
    };
    let signature = hex::decode(signature.trim())
        .map_err(|_| HeaderError::Malformed("signature is not hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|_| HeaderError::Malformed("unusable secret"))?;
    mac.update(signed.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| HeaderError::Signature)?;
    let time: i64 = time
        .trim()
        .parse()
        .map_err(|_| HeaderError::Malformed("time is not unix seconds"))?;
    if now.abs_diff(time) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(HeaderError::Expired);
    }
    let (mut verified, mut minor) = (false, false);
    for flag in flags.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match flag {
            "verified" => verified = true,
            "minor" => minor = true,
            _ => return Err(HeaderError::Malformed("flags are `verified` and `minor`")),
        }
    }
    if user.is_empty() {
        return Err(HeaderError::Malformed("no user"));
    }
    Ok(SignedIdentity {
        user: user.to_owned(),
        verified,
        minor,
    })
}

/// The identity guard.
pub(crate) struct IdentityGuard {
    store: Store,
    /// Spells the header's user as the request's.
    users: EndUser,
    clock: Clock,
    /// The tenants that require verification.
    required: HashSet<String>,
    /// Tenant → the secret of its signed header.
    secrets: HashMap<String, Vec<u8>>,
    /// The end users' facts, shared with the other admission guards.
    tracked: Arc<Tracked>,
    /// Statuses recorded from a header lately (not written again for a minute).
    recorded: Cache<(UserKey, bool, bool), ()>,
}

impl IdentityGuard {
    pub(crate) fn new(parts: &Parts<'_>) -> IdentityGuard {
        let config = parts.config;
        let capacity = config.limits.tracked_users;
        IdentityGuard {
            store: parts.store.clone(),
            users: EndUser::new(
                &config.guard.user_header,
                config.guard.case_insensitive_users,
            ),
            clock: parts.clock.clone(),
            required: config
                .tenants
                .iter()
                .filter(|t| t.public.as_ref().is_some_and(|p| p.require_identity))
                .map(|t| t.id.clone())
                .collect(),
            secrets: parts.identity_secrets.clone(),
            tracked: parts.tracked.clone(),
            recorded: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }

    /// The status from a valid header, recorded in the store.
    async fn header_status(&self, caller: &Caller, value: &[u8]) -> Result<Status, Refusal> {
        let refuse = |e: HeaderError| {
            tracing::warn!(tenant = ?caller.tenant, user = ?caller.user, error = %e,
                "identity header refused");
            Refusal::plain(AppError::bad_request(e.code(), e.to_string()))
        };
        let secret = self
            .secrets
            .get(&caller.tenant)
            .ok_or_else(|| refuse(HeaderError::NoSecret(caller.tenant.clone())))?;
        let now = (self.clock)().timestamp();
        let signed = verify(value, secret, now).map_err(refuse)?;
        // The header's user spelled by the one rule of `end_user`, as the request's was.
        let user = self.users.named(RequestMeta {
            kind: "identity",
            headers: &HeaderMap::new(),
            user: Some(&signed.user),
        });
        if !caller.named || user.ok().flatten().as_deref() != Some(caller.user.as_str()) {
            return Err(refuse(HeaderError::OtherUser));
        }
        let status = Status {
            verified: signed.verified,
            minor: signed.minor,
        };
        let key = caller.key();
        let recorded = (key.clone(), status.verified, status.minor);
        if !self.recorded.contains_key(&recorded) {
            let stored = self
                .store
                .set_identity(&caller.tenant, &caller.user, status.verified, "header")
                .await
                .map_err(|e| Refusal::plain(AppError::internal("recording an identity", e)))?;
            if stored.minor != status.minor {
                self.store
                    .set_minor(&caller.tenant, &caller.user, status.minor)
                    .await
                    .map_err(|e| Refusal::plain(AppError::internal("recording a minor", e)))?;
            }
            self.recorded.insert(recorded, ());
        }
        self.tracked.update_user(&key, |f| {
            f.verified = status.verified;
            f.minor = status.minor;
        });
        Ok(status)
    }

    /// The status in the cache or the store; `fresh` skips the cache.
    async fn stored(&self, caller: &Caller, fresh: bool) -> Result<Status, Refusal> {
        let facts = self
            .tracked
            .user_facts(&self.store, &caller.key(), fresh)
            .await
            .map_err(|e| Refusal::plain(AppError::internal("reading the end user", e)))?;
        Ok(Status {
            verified: facts.verified,
            minor: facts.minor,
        })
    }

    async fn check(&self, caller: &mut Caller, request: RequestMeta<'_>) -> Result<(), Refusal> {
        let required = self.required.contains(&caller.tenant) && request.kind != "models";
        let status = match request.headers.get(HEADER) {
            Some(value) => Some(self.header_status(caller, value.as_bytes()).await?),
            None if caller.named => {
                let status = self.stored(caller, false).await?;
                if required && !status.verified {
                    Some(self.stored(caller, true).await?)
                } else {
                    Some(status)
                }
            }
            None => None,
        };
        caller.minor = status.is_some_and(|s| s.minor);
        if required && !status.is_some_and(|s| s.verified) {
            let why = if caller.named {
                format!("end user `{}` has not verified their identity", caller.user)
            } else {
                "the request names no end user, who cannot be verified".to_owned()
            };
            return Err(Refusal::audited(AppError::new(
                StatusCode::FORBIDDEN,
                "identity_not_verified",
                format!("请先完成实名认证后使用本服务 (identity verification required: {why})"),
            )));
        }
        Ok(())
    }
}

impl Admission for IdentityGuard {
    fn name(&self) -> &'static str {
        "identity"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        Box::pin(self.check(caller, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header for `signed` ("user;flags;time") with `secret`.
    fn sign(signed: &str, secret: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed};{}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn headers_are_checked() {
        let secret = b"s3cret";
        let now = 1_800_000_000;
        let ok = |user: &str, verified, minor| {
            Ok(SignedIdentity {
                user: user.into(),
                verified,
                minor,
            })
        };
        let good = sign(&format!("alice;verified;{now}"), secret);
        let tampered = good.replacen("alice", "mallo", 1);
        let cases: Vec<(String, Result<SignedIdentity, HeaderError>)> = vec![
            (good, ok("alice", true, false)),
            (
                sign(&format!("bob;verified,minor;{}", now - 299), secret),
                ok("bob", true, true),
            ),
            // The user may hold `;`: the header is split from the right.
            (
                sign(&format!("a;b;minor;{now}"), secret),
                ok("a;b", false, true),
            ),
            (
                sign(&format!("a;b;;{now}"), secret),
                ok("a;b", false, false),
            ),
            (tampered, Err(HeaderError::Signature)),
            (
                sign(&format!("alice;verified;{now}"), b"other"),
                Err(HeaderError::Signature),
            ),
            (
                sign(&format!("alice;verified;{}", now - 301), secret),
                Err(HeaderError::Expired),
            ),
            (
                sign(&format!("alice;verified;{}", now + 301), secret),
                Err(HeaderError::Expired),
            ),
            (
                sign(&format!("alice;admin;{now}"), secret),
                Err(HeaderError::Malformed("flags are `verified` and `minor`")),
            ),
            (
                sign("alice;verified;soon", secret),
                Err(HeaderError::Malformed("time is not unix seconds")),
            ),
            (
                format!("alice;verified;{now};zz"),
                Err(HeaderError::Malformed("signature is not hex")),
            ),
            (
                "nonsense".into(),
                Err(HeaderError::Malformed(
                    "expected `user;flags;unix-seconds;signature`",
                )),
            ),
            (
                "a;b".into(),
                Err(HeaderError::Malformed(
                    "expected `user;flags;unix-seconds;signature`",
                )),
            ),
            (
                sign(&format!(";verified;{now}"), secret),
                Err(HeaderError::Malformed("no user")),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(verify(header.as_bytes(), secret, now), expected, "{header}");
        }
        assert_eq!(
            verify(b"\xff;;1;00", secret, now),
            Err(HeaderError::Malformed("not UTF-8"))
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes, and any string as a user: never a panic, a signed header verifies, a
        /// forged one does not (the fuzz target `identity_header`, in CI).
        #[test]
        fn headers_of_any_bytes_are_checked_safely(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
            user in "\\PC{1,40}",
        ) {
            crate::fuzzing::identity_header(&bytes).map_err(proptest::test_runner::TestCaseError::fail)?;
            crate::fuzzing::identity_header(user.as_bytes()).map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }
}
