//! The gateway's in-process state about tenants and end users: API-key lookups, end-user
//! states, rate limits and violation counters. Every map is a bounded cache, so memory stays
//! bounded whatever `user` values clients invent.
//!
//! - Rate limits are governor's GCRA. Per end user over a [`MokaStore`]: an entry idle for
//!   longer than a full refill is indistinguishable from a fresh one, so expiring it after that
//!   time changes no decision; only when more than `limits.tracked-users` users are active
//!   within one refill period can an eviction forget one user's spent budget (it then starts
//!   full, as a new user would). Per tenant over governor's plain keyed map: only tenants an
//!   API key resolved to get there, so clients cannot grow it.
//! - Key lookups and end users' facts ([`UserFacts`]: state, identity, minor, the end of a
//!   suspension) are read-through caches of the store with the `guard.cache-ms` time to live;
//!   one read of an end user serves the sanctions, identity and minors guards.
//! - Violation counters live for a day without activity (the daily count resets anyway).
//! - Refusal records are throttled to one per end user, guard and second, so that a flood of
//!   refused requests cannot fill the ledger.
//!
//! Per instance; with `[fleet]` (a later change) they move to Redis and PostgreSQL.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::DefaultClock;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::{Quota, RateLimiter};
use hegui_store::users::{IdentityStatus, UserState};
use hegui_store::{Store, StoreError};
use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::config::Config;

/// governor's rate-limiting state (one `u64` per key) in a bounded moka cache.
#[derive(Debug)]
pub(crate) struct MokaStore<K: Hash + Eq + Send + Sync + 'static> {
    cache: Cache<K, u64>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> StateStore for MokaStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        // `and_compute_with` runs calls on one key one at a time, so the read-decide-write
        // is atomic per key, as governor requires.
        let mut outcome = None;
        self.cache.entry_by_ref(key).and_compute_with(|entry| {
            match f(entry.map(|e| Nanos::from(e.into_value()))) {
                Ok((value, state)) => {
                    outcome = Some(Ok(value));
                    Op::Put(state.as_u64())
                }
                Err(e) => {
                    outcome = Some(Err(e));
                    Op::Nop
                }
            }
        });
        match outcome {
            Some(result) => result,
            // INVARIANT: `and_compute_with` always calls its closure once.
            None => unreachable!("moka did not run the compute closure"),
        }
    }
}

/// A keyed GCRA limiter whose state is bounded, and a handle on that state.
struct Limiter<K: Hash + Eq + Clone + Send + Sync + 'static> {
    limiter: RateLimiter<K, MokaStore<K>, DefaultClock>,
    cache: Cache<K, u64>,
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Limiter<K> {
    fn allows(&self, key: &K) -> bool {
        self.limiter.check_key(key).is_ok()
    }
}

/// The burst of a rate limit: as configured, or twice the rate when the config says 0.
pub(crate) fn burst_of(rate: f64, burst: f64) -> f64 {
    if burst > 0.0 { burst } else { 2.0 * rate }
}

/// The GCRA quota of a rate limit, and how long a full refill takes (after which an idle
/// entry equals a fresh one); `None` when the rate is off.
fn quota(rate: f64, burst: f64) -> Option<(Quota, Duration)> {
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    let burst = burst_of(rate, burst).clamp(1.0, f64::from(u32::MAX));
    let period = Duration::from_secs_f64(1.0 / rate);
    let quota = Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst as u32)?);
    Some((
        quota,
        period.saturating_mul(burst as u32) + Duration::from_secs(1),
    ))
}

/// A keyed limiter whose state is a bounded cache: for keys a client chooses.
fn bounded_limiter<K: Hash + Eq + Clone + Send + Sync + 'static>(
    rate: f64,
    burst: f64,
    capacity: u64,
) -> Option<Limiter<K>> {
    let (quota, refill) = quota(rate, burst)?;
    let cache = Cache::builder()
        .max_capacity(capacity)
        .time_to_idle(refill)
        .build();
    let store = MokaStore {
        cache: cache.clone(),
    };
    Some(Limiter {
        limiter: RateLimiter::new(quota, store, DefaultClock::default()),
        cache,
    })
}

/// Blocked inputs of one end user.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Violations {
    pub(crate) consecutive: u32,
    pub(crate) day: i64,
    pub(crate) today: u32,
}

/// A (tenant, end user) pair.
pub(crate) type UserKey = (Arc<str>, Arc<str>);

/// What the admission guards know of an end user: the store's row, and when a suspension ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UserFacts {
    pub(crate) state: UserState,
    /// When the suspension ends (ms since the epoch): the policy's last `suspend-minutes` from
    /// the suspension itself (not the row's last change: an identity or minor update must not
    /// extend it); one a person decided stands until a person restores the user (`i64::MAX`).
    /// Meaningless unless `state` is suspended.
    pub(crate) suspended_until_ms: i64,
    pub(crate) verified: bool,
    pub(crate) minor: bool,
}

impl UserFacts {
    /// An end user the store has no row for: normal, not verified, not a minor.
    const UNKNOWN: UserFacts = UserFacts {
        state: UserState::Normal,
        suspended_until_ms: 0,
        verified: false,
        minor: false,
    };
}

/// The bounded state; see the module docs.
pub(crate) struct Tracked {
    /// Tenants are only those an API key resolved to, so their map needs no bound; a plain
    /// map costs a fraction of the cache's per-key compute (about 2 % of the gateway's CPU at
    /// 3,000 req/s, perf).
    tenant_limit: Option<governor::DefaultKeyedRateLimiter<Arc<str>>>,
    user_limit: Option<Limiter<UserKey>>,
    /// API-key digest → tenant (`None`: a wrong key).
    pub(crate) keys: Cache<[u8; 32], Option<String>>,
    users: Cache<UserKey, UserFacts>,
    /// The policy's suspension, in ms (`policy.suspend-minutes`).
    suspend_ms: i64,
    violations: Cache<UserKey, Violations>,
    /// (end user, guard) → a refusal of theirs was recorded in the last second.
    refusals: Cache<(UserKey, &'static str), ()>,
    /// The budget of 401 records, shared by every client (`refusals::UNAUTHENTICATED_PER_SEC`).
    unauthenticated: governor::DefaultDirectRateLimiter,
    /// The budget of complaints through the public pages, shared by every client
    /// (`public::SUBMISSIONS_PER_SEC`): each is a row and an audit record.
    submissions: governor::DefaultDirectRateLimiter,
    /// The budget of console password checks, shared by every client
    /// (`console::session::LOGINS_PER_SEC`): each costs an argon2id hash.
    logins: governor::DefaultDirectRateLimiter,
}

impl Tracked {
    pub(crate) fn new(config: &Config) -> Tracked {
        let capacity = config.limits.tracked_users;
        let guard = &config.guard;
        let ttl = Duration::from_millis(guard.cache_ms);
        Tracked {
            tenant_limit: quota(guard.tenant_rps, guard.tenant_burst)
                .map(|(quota, _)| RateLimiter::keyed(quota)),
            user_limit: bounded_limiter(guard.user_rps, guard.user_burst, capacity),
            keys: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            users: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            suspend_ms: i64::try_from(config.policy.suspend_minutes)
                .unwrap_or(i64::MAX)
                .saturating_mul(60_000),
            violations: Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(86_400))
                .build(),
            refusals: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(1))
                .build(),
            unauthenticated: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(crate::refusals::UNAUTHENTICATED_PER_SEC)
                    .unwrap_or(NonZeroU32::MIN),
            )),
            submissions: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(crate::public::SUBMISSIONS_PER_SEC).unwrap_or(NonZeroU32::MIN),
            )),
            logins: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(crate::console::session::LOGINS_PER_SEC).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// The end user's facts, from the cache or (`fresh`, or not cached) the store.
    pub(crate) async fn user_facts(
        &self,
        store: &Store,
        key: &UserKey,
        fresh: bool,
    ) -> Result<UserFacts, StoreError> {
        if !fresh && let Some(facts) = self.users.get(key) {
            return Ok(facts);
        }
        let (tenant, user) = (&*key.0, &*key.1);
        let row = store.end_user(tenant, user).await?;
        let mut facts = row.map_or(UserFacts::UNKNOWN, |u| UserFacts {
            state: u.state,
            verified: u.identity == IdentityStatus::Verified,
            minor: u.minor,
            ..UserFacts::UNKNOWN
        });
        if facts.state == UserState::Suspended {
            facts.suspended_until_ms = match store.sanctions(tenant, user).await?.pop() {
                Some(s) if s.actor != hegui_store::sanctions::POLICY => i64::MAX,
                Some(s) => s.created_ms.saturating_add(self.suspend_ms),
                None => 0,
            };
        }
        self.users.insert(key.clone(), facts);
        Ok(facts)
    }

    /// Changes the cached facts of an end user, if there are any.
    pub(crate) fn update_user(&self, key: &UserKey, change: impl FnOnce(&mut UserFacts)) {
        self.users
            .entry_by_ref(key)
            .and_compute_with(|entry| match entry {
                Some(entry) => {
                    let mut facts = entry.into_value();
                    change(&mut facts);
                    Op::Put(facts)
                }
                None => Op::Nop,
            });
    }

    /// Drops the cached facts of an end user: the next request reads the store.
    pub(crate) fn forget_user(&self, tenant: &str, user: &str) {
        self.users.invalidate(&(Arc::from(tenant), Arc::from(user)));
    }

    /// Takes one from the budget of console password checks; `false` when it is spent.
    pub(crate) fn login_allows(&self) -> bool {
        self.logins.check().is_ok()
    }

    /// Takes one from the budget of public complaint submissions; `false` when it is spent.
    pub(crate) fn submission_allows(&self) -> bool {
        self.submissions.check().is_ok()
    }

    /// Takes one from the budget of 401 records; `false` when this second's is spent.
    pub(crate) fn unauthenticated_allows(&self) -> bool {
        self.unauthenticated.check().is_ok()
    }

    /// Takes one request from the tenant's budget; `false` when it is spent.
    pub(crate) fn tenant_allows(&self, tenant: &Arc<str>) -> bool {
        self.tenant_limit
            .as_ref()
            .is_none_or(|l| l.check_key(tenant).is_ok())
    }

    /// Takes one request from the end user's budget; `false` when it is spent.
    pub(crate) fn user_allows(&self, user: &UserKey) -> bool {
        self.user_limit.as_ref().is_none_or(|l| l.allows(user))
    }

    /// Counts a blocked input on `day` (days since the epoch) and returns the counts.
    pub(crate) fn count_violation(&self, user: &UserKey, day: i64) -> Violations {
        let entry = self
            .violations
            .entry_by_ref(user)
            .and_compute_with(|entry| {
                let mut v = entry.map(|e| e.into_value()).unwrap_or_default();
                if v.day != day {
                    v.day = day;
                    v.today = 0;
                }
                v.consecutive += 1;
                v.today += 1;
                Op::Put(v)
            });
        entry
            .into_entry()
            .map(|e| e.into_value())
            .unwrap_or_default()
    }

    /// Whether a refusal of `user` by `guard` should be recorded: the first in each second is.
    pub(crate) fn record_refusal(&self, user: UserKey, guard: &'static str) -> bool {
        self.refusals.entry((user, guard)).or_insert(()).is_fresh()
    }

    /// A clean input: the consecutive count starts again (today's count stays).
    pub(crate) fn clear_consecutive(&self, user: &UserKey) {
        // Most inputs are clean and most users have nothing to clear: a read, without the entry
        // lock that a compute takes (moka's computes here and in the rate limits were 2.6 % of
        // the gateway's CPU in a profile at 4,000 req/s). A count that grows between the two is
        // the same race as a blocked and a clean input arriving together.
        if self.violations.get(user).is_none_or(|v| v.consecutive == 0) {
            return;
        }
        self.violations
            .entry_by_ref(user)
            .and_compute_with(|entry| match entry {
                Some(e) if e.value().consecutive > 0 => Op::Put(Violations {
                    consecutive: 0,
                    ..e.into_value()
                }),
                _ => Op::Nop,
            });
    }

    /// Entries held: (end users with a rate-limit state, cached end users' facts, violation
    /// counters). For `/metrics` and the memory tests.
    pub(crate) fn sizes(&self) -> (u64, u64, u64) {
        let users = self.user_limit.as_ref().map_or(0, |l| {
            l.cache.run_pending_tasks();
            l.cache.entry_count()
        });
        self.users.run_pending_tasks();
        self.violations.run_pending_tasks();
        (
            users,
            self.users.entry_count(),
            self.violations.entry_count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident memory of this process in KiB (Linux).
    fn resident_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    #[test]
    fn a_million_invented_users_stay_within_the_bound() {
        let mut config = Config::default();
        config.guard.user_rps = 5.0;
        config.guard.tenant_rps = 1e9;
        config.limits.tracked_users = 20_000;
        let tracked = Tracked::new(&config);
        let tenant: Arc<str> = Arc::from("t");
        let before = resident_kib();
        for i in 0..1_000_000u32 {
            let key: UserKey = (tenant.clone(), Arc::from(format!("invented-user-{i}")));
            assert!(
                tracked.user_allows(&key),
                "a new user starts with a full budget"
            );
            assert!(tracked.tenant_allows(&tenant));
            tracked.count_violation(&key, 0);
            let facts = UserFacts {
                state: UserState::Warned,
                ..UserFacts::UNKNOWN
            };
            tracked.users.insert(key, facts);
        }
        let (limits, states, violations) = tracked.sizes();
        for (what, n) in [
            ("limits", limits),
            ("states", states),
            ("violations", violations),
        ] {
            assert!(n <= 20_000, "{what}: {n} entries kept");
        }
        // Unbounded, the three maps would hold about 500 MB here; other tests of this binary
        // run at the same time, so the bound is generous.
        let grown_mib = resident_kib().saturating_sub(before) / 1024;
        assert!(grown_mib < 200, "resident memory grew by {grown_mib} MiB");
    }

    #[test]
    fn rate_limits_are_gcra_per_key() {
        let mut config = Config::default();
        config.guard.user_rps = 1.0;
        config.guard.user_burst = 3.0;
        let tracked = Tracked::new(&config);
        let a: UserKey = (Arc::from("t"), Arc::from("a"));
        let b: UserKey = (Arc::from("t"), Arc::from("b"));
        let allowed = (0..10).filter(|_| tracked.user_allows(&a)).count();
        assert_eq!(
            allowed, 3,
            "the burst, then nothing within the same instant"
        );
        assert!(
            tracked.user_allows(&b),
            "another user has a budget of their own"
        );
        // No limit configured: always allowed.
        assert!(Tracked::new(&Config::default()).user_allows(&a));
    }

    #[test]
    fn violations_count_consecutive_and_daily() {
        let tracked = Tracked::new(&Config::default());
        let u: UserKey = (Arc::from("t"), Arc::from("u"));
        assert_eq!(tracked.count_violation(&u, 10).consecutive, 1);
        assert_eq!(tracked.count_violation(&u, 10).today, 2);
        tracked.clear_consecutive(&u);
        let v = tracked.count_violation(&u, 10);
        assert_eq!((v.consecutive, v.today), (1, 3));
        let v = tracked.count_violation(&u, 11);
        assert_eq!(
            (v.consecutive, v.today),
            (2, 1),
            "a new day resets the daily count"
        );
    }
}
