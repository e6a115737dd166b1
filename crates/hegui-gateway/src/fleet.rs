//! Fleet state in Redis: what several `hegui serve` instances behind one load balancer must
//! share so that a policy means the same with one instance or ten.
//!
//! - **Rate limits**: GCRA per tenant and per end user, one Lua script per check (atomic; the
//!   server's clock, so instances' clocks do not matter).
//! - **Violation counters** (consecutive and per day) in one hash per end user, updated by a
//!   script; a sanction is claimed with `SET NX` so that the instances racing past a threshold
//!   record it once.
//! - **Minutes of use** of minors (per end user and Beijing day) and **sessions** for the
//!   reminders, each updated by a script, so that a daily limit holds fleet-wide. The times are
//!   the gateway's (its injected clock), not the server's.
//! - **Invalidation**: a sanction, an operator's identity or minor change, or a lexicon reload
//!   on one instance is published on `PREFIX:invalidate`; every instance drops what it cached of
//!   the end user, or reloads its lexicon.
//!
//! Every key and the channel start with `fleet.prefix` (default `hegui`).
//!
//! Every call has `fleet.timeout-ms`. When Redis does not answer, rate limits pass (fail open,
//! counted in `hegui_fleet_errors` and logged), counters fall back to this instance's, and
//! sanctions keep coming from the database, which every instance reads.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::Script;
use redis::aio::ConnectionManager;

use crate::config::Fleet as FleetConfig;
use crate::state::{Tracked, Violations};

/// GCRA: KEYS[1] the bucket; ARGV[1] the emission interval and ARGV[2] the burst, both in
/// microseconds of budget. Returns 1 when allowed.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > burst then return 0 end
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 1
";

/// Counts a violation: KEYS[1] the hash; ARGV[1] today (days since the epoch). Returns
/// {consecutive, today}.
const COUNT: &str = r"
local day = tonumber(ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'day') or -1) ~= day then
  redis.call('HSET', KEYS[1], 'day', day, 'today', 0)
end
local consecutive = redis.call('HINCRBY', KEYS[1], 'consecutive', 1)
local today = redis.call('HINCRBY', KEYS[1], 'today', 1)
redis.call('EXPIRE', KEYS[1], 172800)
return {consecutive, today}
";

/// Counts a minute of use: KEYS[1] the end user's hash for the day; ARGV[1] the minute of the
/// day, ARGV[2] the limit. Returns {minutes, allowed} (as in `hegui_store::usage`).
const MINUTES: &str = r"
local minute = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local minutes = tonumber(redis.call('HGET', KEYS[1], 'minutes') or 0)
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or -1)
if minute > last and minutes < limit then
  minutes = minutes + 1
  last = minute
  redis.call('HSET', KEYS[1], 'minutes', minutes, 'last', last)
  redis.call('EXPIRE', KEYS[1], 172800)
end
if last >= minute then return {minutes, 1} end
return {minutes, 0}
";

/// One step of a session (see `guard::reminders::step`): KEYS[1] the end user's hash; ARGV[1]
/// now (ms), ARGV[2] the gap that ends a session (ms), ARGV[3] the interval of reminders (ms, 0
/// for none), ARGV[4] 1 to remind at a session's start. Returns 0 (no reminder), 1 (first use)
/// or 2 (continuous use).
const SESSION: &str = r"
local now = tonumber(ARGV[1])
local gap = tonumber(ARGV[2])
local every = tonumber(ARGV[3])
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or -1)
local due = tonumber(redis.call('HGET', KEYS[1], 'due') or 0)
local out = 0
if last < 0 or now - last >= gap then
  if ARGV[4] == '1' then out = 1 end
  due = now + every
elseif every > 0 and now >= due then
  out = 2
  due = now + every
end
if now > last then last = now end
redis.call('HSET', KEYS[1], 'last', last, 'due', due)
redis.call('PEXPIRE', KEYS[1], gap)
return out
";

/// An end user's row changed in the store (a sanction, an identity or minor status): what this
/// instance cached of them is dropped and, in a fleet, every other instance is told to drop it.
pub(crate) async fn user_changed(
    tracked: &Tracked,
    fleet: Option<&Fleet>,
    tenant: &str,
    user: &str,
) {
    tracked.forget_user(tenant, user);
    if let Some(fleet) = fleet {
        let notice = Notice::User {
            tenant: tenant.to_owned(),
            user: user.to_owned(),
        };
        fleet.publish(&notice).await;
    }
}

/// What an instance is told by another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Notice {
    /// The end user's state changed: drop the cached one.
    User { tenant: String, user: String },
    /// The lexicon was reloaded: reload it too.
    Lexicon,
}

impl Notice {
    fn encode(&self) -> String {
        match self {
            Notice::User { tenant, user } => format!("user\u{1f}{tenant}\u{1f}{user}"),
            Notice::Lexicon => "lexicon".into(),
        }
    }

    fn decode(text: &str) -> Option<Notice> {
        let mut parts = text.splitn(3, '\u{1f}');
        match (parts.next()?, parts.next(), parts.next()) {
            ("user", Some(tenant), Some(user)) => Some(Notice::User {
                tenant: tenant.into(),
                user: user.into(),
            }),
            ("lexicon", None, None) => Some(Notice::Lexicon),
            _ => None,
        }
    }
}

/// A connection to the fleet's Redis.
pub(crate) struct Fleet {
    prefix: String,
    client: redis::Client,
    conn: ConnectionManager,
    timeout: Duration,
    gcra: Script,
    count: Script,
    minutes: Script,
    session: Script,
    errors: prometheus_client::metrics::counter::Counter,
}

impl Fleet {
    /// The key of a (tenant, end user) pair, unambiguous whatever the ids hold.
    fn user_key(&self, kind: &str, tenant: &str, user: &str) -> String {
        format!("{}:{kind}:{}:{tenant}:{user}", self.prefix, tenant.len())
    }

    /// The invalidation channel.
    fn channel(&self) -> String {
        format!("{}:invalidate", self.prefix)
    }

    /// Connects to `config.redis`; an error when it cannot be reached at start.
    pub(crate) async fn connect(
        config: &FleetConfig,
        errors: prometheus_client::metrics::counter::Counter,
    ) -> Result<Fleet, redis::RedisError> {
        let client = redis::Client::open(config.redis.as_str())?;
        let timeout = Duration::from_millis(config.timeout_ms);
        let settings = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let conn = client.get_connection_manager_with_config(settings).await?;
        Ok(Fleet {
            prefix: config.prefix.clone(),
            client,
            conn,
            timeout,
            gcra: Script::new(GCRA),
            count: Script::new(COUNT),
            minutes: Script::new(MINUTES),
            session: Script::new(SESSION),
            errors,
        })
    }

    /// Runs `call` within the timeout; `None` (counted, logged) when Redis failed.
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.errors.inc();
                tracing::warn!(error = %e, "fleet redis: {what} failed; acting without it");
                None
            }
            Err(_) => {
                self.errors.inc();
                tracing::warn!("fleet redis: {what} timed out; acting without it");
                None
            }
        }
    }

    /// Takes one request from a GCRA budget of `rps` per second with `burst`; `None` when
    /// Redis did not answer (the caller lets the request pass).
    async fn allow(&self, key: String, rps: f64, burst: f64) -> Option<bool> {
        let interval = (1e6 / rps).round() as i64;
        let tolerance = (burst.max(1.0) * 1e6 / rps).round() as i64;
        let mut conn = self.conn.clone();
        let allowed: Option<i64> = self
            .call(
                "rate limit",
                self.gcra
                    .key(key)
                    .arg(interval)
                    .arg(tolerance)
                    .invoke_async(&mut conn),
            )
            .await;
        allowed.map(|a| a == 1)
    }

    /// The tenant's budget.
    pub(crate) async fn tenant_allows(&self, tenant: &str, rps: f64, burst: f64) -> Option<bool> {
        let key = format!("{}:rl:t:{tenant}", self.prefix);
        self.allow(key, rps, burst).await
    }

    /// The end user's budget.
    pub(crate) async fn user_allows(
        &self,
        tenant: &str,
        user: &str,
        rps: f64,
        burst: f64,
    ) -> Option<bool> {
        let key = self.user_key("rl:u", tenant, user);
        self.allow(key, rps, burst).await
    }

    /// Counts a refused input of the end user on `day`.
    pub(crate) async fn count_violation(
        &self,
        tenant: &str,
        user: &str,
        day: i64,
    ) -> Option<Violations> {
        let mut conn = self.conn.clone();
        let counts: Option<(u32, u32)> = self
            .call(
                "violation count",
                self.count
                    .key(self.user_key("v", tenant, user))
                    .arg(day)
                    .invoke_async(&mut conn),
            )
            .await;
        counts.map(|(consecutive, today)| Violations {
            consecutive,
            day,
            today,
        })
    }

    /// Counts a request of the end user in `minute` of `day` against `limit` minutes of use;
    /// `None` when Redis did not answer.
    pub(crate) async fn count_use_minute(
        &self,
        tenant: &str,
        user: &str,
        day: &str,
        minute: u32,
        limit: u32,
    ) -> Option<hegui_store::usage::MinuteUse> {
        let mut conn = self.conn.clone();
        let counted: Option<(u32, u8)> = self
            .call(
                "minutes of use",
                self.minutes
                    .key(self.user_key(&format!("mu:{day}"), tenant, user))
                    .arg(minute)
                    .arg(limit)
                    .invoke_async(&mut conn),
            )
            .await;
        counted.map(|(minutes, allowed)| hegui_store::usage::MinuteUse {
            minutes,
            allowed: allowed == 1,
        })
    }

    /// One step of the end user's session at `now_ms`: 0 (no reminder), 1 (first use) or 2
    /// (continuous use); `None` when Redis did not answer.
    pub(crate) async fn session_step(
        &self,
        tenant: &str,
        user: &str,
        now_ms: i64,
        (gap_ms, every_ms, first_use): (i64, i64, bool),
    ) -> Option<u8> {
        let mut conn = self.conn.clone();
        self.call(
            "session",
            self.session
                .key(self.user_key("session", tenant, user))
                .arg(now_ms)
                .arg(gap_ms)
                .arg(every_ms)
                .arg(u8::from(first_use))
                .invoke_async(&mut conn),
        )
        .await
    }

    /// A passed input: the consecutive count starts again.
    pub(crate) async fn clear_consecutive(&self, tenant: &str, user: &str) {
        let mut conn = self.conn.clone();
        let key = self.user_key("v", tenant, user);
        let _: Option<()> = self
            .call(
                "violation reset",
                redis::cmd("HSET")
                    .arg(&key)
                    .arg("consecutive")
                    .arg(0)
                    .exec_async(&mut conn),
            )
            .await;
    }

    /// Claims the sanction `state` of the end user for two seconds: `true` for the one instance
    /// that records it (and when Redis did not answer).
    pub(crate) async fn claim_sanction(&self, tenant: &str, user: &str, state: &str) -> bool {
        let mut conn = self.conn.clone();
        let key = self.user_key(&format!("claim:{state}"), tenant, user);
        let claimed: Option<Option<String>> = self
            .call(
                "sanction claim",
                redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(2000)
                    .query_async(&mut conn),
            )
            .await;
        claimed.is_none_or(|reply| reply.is_some())
    }

    /// Tells every instance (this one too) about `notice`.
    pub(crate) async fn publish(&self, notice: &Notice) {
        let mut conn = self.conn.clone();
        let _: Option<i64> = self
            .call(
                "publish",
                redis::cmd("PUBLISH")
                    .arg(self.channel())
                    .arg(notice.encode())
                    .query_async(&mut conn),
            )
            .await;
    }

    /// Listens on the invalidation channel for as long as the process runs, reconnecting after a failure,
    /// and hands each notice to `on_notice`, until it returns `false` (its gateway is gone).
    pub(crate) fn listen(
        self: &Arc<Self>,
        on_notice: impl Fn(Notice) -> bool + Send + Sync + 'static,
    ) {
        let fleet = self.clone();
        tokio::spawn(async move {
            loop {
                match fleet.client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if let Err(e) = pubsub.subscribe(fleet.channel()).await {
                            tracing::warn!(error = %e, "fleet redis: subscribe failed");
                        } else {
                            let mut messages = pubsub.on_message();
                            while let Some(message) = messages.next().await {
                                let payload: String = message.get_payload().unwrap_or_default();
                                if let Some(notice) = Notice::decode(&payload)
                                    && !on_notice(notice)
                                {
                                    return;
                                }
                            }
                        }
                    }
                    Err(e) => {
                        fleet.errors.inc();
                        tracing::warn!(error = %e, "fleet redis: cannot listen for invalidations");
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip() {
        for notice in [
            Notice::Lexicon,
            Notice::User {
                tenant: "acme".into(),
                user: "a:b\u{1f}c".into(),
            },
        ] {
            assert_eq!(Notice::decode(&notice.encode()), Some(notice));
        }
        assert_eq!(Notice::decode("nonsense"), None);
        assert_eq!(Notice::decode("user\u{1f}only-tenant"), None);
    }
}
