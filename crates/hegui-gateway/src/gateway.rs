//! The gateway's shared state and the steps of the guard pipeline that do not depend on the
//! endpoint: authentication, end-user state, rate limits, the input guard, the violation policy,
//! audit records and labels.
//!
//! Built once from a validated [`Config`]; cheap to clone (one `Arc`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use hegui_keys::SigningKey;
use hegui_lexicon::{Hit, Level, Lexicon, Matcher, SharedMatcher, Verdict};
use hegui_store::ledger::NewRecord;
use hegui_store::ledger::schema::{self, Stage, StageVerdict, Verdicts};
use hegui_store::users::UserState;
use hegui_store::{AuditWriter, RecordId, Store, WriterOptions};
use serde_json::Value;
use subtle::ConstantTimeEq as _;

use crate::config::{Config, InputBlock};
use crate::error::AppError;
use crate::metrics::Metrics;
use crate::state::{Tracked, UserKey};

/// The gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The config is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store failed.
    #[error("storage: {0}")]
    Store(#[from] hegui_store::StoreError),
    /// The lexicon could not be loaded or built.
    #[error("lexicon `{path}`: {message}")]
    Lexicon {
        /// The directory.
        path: String,
        /// The cause.
        message: String,
    },
    /// The label key could not be loaded.
    #[error("label.key-file `{path}`: {message}")]
    Key {
        /// The file.
        path: String,
        /// The cause.
        message: String,
    },
    /// An environment variable named in the config is not set.
    #[error("`{field}`: environment variable `{variable}` is not set")]
    MissingEnv {
        /// The config field.
        field: String,
        /// The variable.
        variable: String,
    },
    /// Socket or HTTP client failure.
    #[error("{0}")]
    Io(String),
}

/// The running gateway: config, store, ledger writer, matcher, upstream client, caches.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("listen", &self.inner.config.listen)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    pub(crate) store: Store,
    pub(crate) writer: AuditWriter,
    pub(crate) matcher: SharedMatcher,
    pub(crate) client: reqwest::Client,
    pub(crate) key: Option<Arc<SigningKey>>,
    static_keys: Vec<([u8; 32], String)>,
    upstream_keys: HashMap<String, Option<String>>,
    pub(crate) classifier_key: Option<String>,
    pub(crate) tracked: Tracked,
    /// Open stream tasks, for draining at shutdown.
    pub(crate) streams: tokio_util::task::TaskTracker,
    pub(crate) metrics: Metrics,
}

/// Who is asking, established by [`Gateway::admit`].
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant: String,
    pub(crate) user: String,
    pub(crate) state: UserState,
    pub(crate) client_addr: String,
    pub(crate) started: Instant,
    pub(crate) record_id: RecordId,
}

impl Caller {
    /// The key of this caller's per-user state.
    pub(crate) fn key(&self) -> UserKey {
        (
            Arc::from(self.tenant.as_str()),
            Arc::from(self.user.as_str()),
        )
    }
}

/// The input guard's finding.
#[derive(Debug, Clone)]
pub(crate) struct InputCheck {
    pub(crate) verdict: Verdict,
    pub(crate) hits: Vec<schema::Hit>,
    /// The risk code of the block, if blocked.
    pub(crate) blocked: Option<String>,
    /// Extra verdicts (classifier).
    pub(crate) extra: Vec<StageVerdict>,
}

/// The end user of requests that name none.
pub(crate) const ANONYMOUS: &str = "anonymous";

fn env_var(field: String, variable: &str) -> Result<String, GatewayError> {
    std::env::var(variable).map_err(|_| GatewayError::MissingEnv {
        field,
        variable: variable.to_owned(),
    })
}

fn key_digest(key: &str) -> [u8; 32] {
    hegui_keys::sm3(format!("hegui-gateway-key/1\n{key}").as_bytes())
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// The audit form of lexicon hits in `text` (with the text each matched, when known).
pub(crate) fn audit_hits(hits: &[Hit], text: Option<&str>) -> Vec<schema::Hit> {
    hits.iter()
        .map(|h| schema::Hit {
            pattern: h.rule.pattern.clone(),
            risk: h.rule.risk.clone(),
            level: h.rule.level.as_str().to_owned(),
            text: text.map(|t| h.display_text(t)),
        })
        .collect()
}

/// The audit form of a lexicon verdict.
pub(crate) fn decision(verdict: Verdict) -> schema::Decision {
    match verdict {
        Verdict::Clean => schema::Decision::Clean,
        Verdict::Flag => schema::Decision::Flag,
        Verdict::Review => schema::Decision::Review,
        Verdict::Block => schema::Decision::Block,
    }
}

impl Gateway {
    /// Opens the store named by the config (or `HEGUI_DATABASE_URL`), creates the configured
    /// tenants, loads the lexicon and the label key, and starts the audit writer. Needs a Tokio
    /// runtime.
    pub async fn new(config: Config) -> Result<Gateway, GatewayError> {
        let url = std::env::var("HEGUI_DATABASE_URL").unwrap_or_else(|_| config.storage.clone());
        let store = Store::open(&url).await?;
        Gateway::with_store(config, store).await
    }

    /// As [`Gateway::new`], over an open store.
    pub async fn with_store(config: Config, store: Store) -> Result<Gateway, GatewayError> {
        config.validate()?;
        let sample = Matcher::build(&Lexicon::sample()).map_err(|e| GatewayError::Lexicon {
            path: "(sample)".into(),
            message: e.to_string(),
        })?;
        let matcher = SharedMatcher::new(sample);
        if !config.guard.lexicon.is_empty() {
            // The same loader as a reload: a directory, or a compiled file.
            matcher
                .reload_from(&config.guard.lexicon)
                .map_err(|e| GatewayError::Lexicon {
                    path: config.guard.lexicon.clone(),
                    message: e.to_string(),
                })?;
        }
        let key = match &config.label.key_file {
            Some(path) => Some(Arc::new(SigningKey::load(path).map_err(|e| {
                GatewayError::Key {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?)),
            None => None,
        };
        let mut static_keys = Vec::new();
        let known: Vec<String> = store.tenants().await?.into_iter().map(|t| t.id).collect();
        for (i, tenant) in config.tenants.iter().enumerate() {
            if !known.contains(&tenant.id) {
                let name = if tenant.name.is_empty() {
                    &tenant.id
                } else {
                    &tenant.name
                };
                // Another instance may create it at the same time: a failure here is only
                // fatal if the tenant is still missing.
                if let Err(e) = store.create_tenant(&tenant.id, name).await
                    && store.tenant(&tenant.id).await?.is_none()
                {
                    return Err(e.into());
                }
            }
            if let Some(variable) = &tenant.api_key_env {
                let key = env_var(format!("tenants[{i}].api-key-env"), variable)?;
                static_keys.push((key_digest(&key), tenant.id.clone()));
            }
        }
        let mut upstream_keys = HashMap::new();
        for (i, upstream) in config.upstreams.iter().enumerate() {
            let key = match &upstream.api_key_env {
                Some(variable) => Some(env_var(format!("upstreams[{i}].api-key-env"), variable)?),
                None => None,
            };
            upstream_keys.insert(upstream.name.clone(), key);
        }
        let classifier_key = match config
            .guard
            .classifier
            .as_ref()
            .and_then(|c| c.api_key_env.as_ref())
        {
            Some(variable) => Some(env_var("guard.classifier.api-key-env".into(), variable)?),
            None => None,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(config.limits.connect_timeout_secs))
            .pool_max_idle_per_host(4096)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| GatewayError::Io(format!("http client: {e}")))?;
        let writer = AuditWriter::start(
            store.clone(),
            WriterOptions {
                body_mode: config.audit.bodies,
                key: key.clone(),
                ..WriterOptions::default()
            },
        );
        let tracked = Tracked::new(&config);
        Ok(Gateway {
            inner: Arc::new(Inner {
                config,
                store,
                writer,
                matcher,
                client,
                key,
                static_keys,
                upstream_keys,
                classifier_key,
                tracked,
                streams: tokio_util::task::TaskTracker::new(),
                metrics: Metrics::default(),
            }),
        })
    }

    /// The store (tenants, keys, users, sanctions, ledger).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The validated config.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The lexicon matcher (swap it to reload).
    pub fn matcher(&self) -> &SharedMatcher {
        &self.inner.matcher
    }

    /// Reloads the lexicon named by `guard.lexicon` (a directory or a compiled file) off the
    /// request path and swaps it in atomically; requests in flight keep the old one. On error the
    /// current lexicon stays. With the sample lexicon there is nothing to reload.
    pub async fn reload_lexicon(&self) -> Result<(), GatewayError> {
        let path = self.inner.config.guard.lexicon.clone();
        if path.is_empty() {
            return Ok(());
        }
        let gateway = self.clone();
        tokio::task::spawn_blocking(move || {
            gateway
                .inner
                .matcher
                .reload_from(&path)
                .map_err(|e| GatewayError::Lexicon {
                    path,
                    message: e.to_string(),
                })
        })
        .await
        .map_err(|e| GatewayError::Io(format!("lexicon reload task: {e}")))?
    }

    pub(crate) fn upstream_key(&self, name: &str) -> Option<&str> {
        self.inner
            .upstream_keys
            .get(name)
            .and_then(|k| k.as_deref())
    }

    /// Finds the end user of an authenticated request (its tenant set by the auth layer),
    /// checks their state and the rate limits.
    pub(crate) async fn admit(
        &self,
        tenant: &crate::auth::Tenant,
        headers: &HeaderMap,
        body: Option<&Value>,
        client_addr: Option<SocketAddr>,
    ) -> Result<Caller, AppError> {
        let started = tenant.arrived;
        let tenant = tenant.id.clone();
        let user = body
            .and_then(|b| b.get("user"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                headers
                    .get(self.inner.config.guard.user_header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| ANONYMOUS.into());
        if user.len() > 256 {
            return Err(AppError::bad_request(
                "invalid_user",
                "end user id is longer than 256 bytes",
            )
            .param("user"));
        }
        let state = self.user_state(&tenant, &user).await?;
        if matches!(state, UserState::Suspended | UserState::Terminated) {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "user_suspended",
                format!(
                    "您的账号因多次违规已被{}，暂时无法使用本服务 (end user `{user}` is {}; see the service agreement)",
                    if state == UserState::Suspended {
                        "暂停服务"
                    } else {
                        "终止服务"
                    },
                    state.as_str()
                ),
            ));
        }
        let guard = &self.inner.config.guard;
        let key: UserKey = (Arc::from(tenant.as_str()), Arc::from(user.as_str()));
        if !self.inner.tracked.tenant_allows(&key.0) {
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                format!(
                    "rate limit of tenant `{tenant}` reached ({} requests/s)",
                    guard.tenant_rps
                ),
            ));
        }
        if !self.inner.tracked.user_allows(&key) {
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                format!(
                    "rate limit of end user `{user}` reached ({} requests/s)",
                    guard.user_rps
                ),
            ));
        }
        Ok(Caller {
            tenant,
            user,
            state,
            client_addr: client_addr.map(|a| a.to_string()).unwrap_or_default(),
            started,
            record_id: RecordId::generate(),
        })
    }

    /// The tenant of an API key, or `None` for a wrong one.
    pub(crate) async fn authenticate(&self, presented: &str) -> Result<Option<String>, AppError> {
        let digest = key_digest(presented);
        let mut found = None;
        for (stored, tenant) in &self.inner.static_keys {
            // Constant time per key; the loop visits every key whatever matches.
            if bool::from(stored.ct_eq(&digest)) {
                found = Some(tenant.clone());
            }
        }
        if found.is_some() {
            return Ok(found);
        }
        if let Some(tenant) = self.inner.tracked.keys.get(&digest) {
            return Ok(tenant);
        }
        let tenant = self
            .inner
            .store
            .authenticate(presented)
            .await
            .map_err(|e| AppError::internal("checking the API key", e))?
            .map(|k| k.tenant_id);
        self.inner.tracked.keys.insert(digest, tenant.clone());
        Ok(tenant)
    }

    async fn user_state(&self, tenant: &str, user: &str) -> Result<UserState, AppError> {
        let key: UserKey = (Arc::from(tenant), Arc::from(user));
        if let Some(state) = self.inner.tracked.user_states.get(&key) {
            return Ok(state);
        }
        let found = self
            .inner
            .store
            .end_user(tenant, user)
            .await
            .map_err(|e| AppError::internal("reading the end user", e))?;
        let mut state = found.as_ref().map_or(UserState::Normal, |u| u.state);
        if state == UserState::Suspended
            && let Some(u) = &found
        {
            let until = u.updated_ms + (self.inner.config.policy.suspend_minutes as i64) * 60_000;
            if now_ms() >= until {
                self.inner
                    .store
                    .sanction(tenant, user, UserState::Normal, "suspension expired", None)
                    .await
                    .map_err(|e| AppError::internal("lifting a suspension", e))?;
                state = UserState::Normal;
            }
        }
        self.inner.tracked.user_states.insert(key, state);
        Ok(state)
    }

    /// Runs the lexicon (and the classifier, if configured) over the input text.
    pub(crate) async fn check_input(&self, caller: &Caller, text: &str) -> InputCheck {
        let matcher = self.inner.matcher.load();
        let hits = matcher.find_all(text);
        let mut verdict = Verdict::of(&hits);
        // A restricted user gets no benefit of the doubt: review-level hits block.
        if caller.state == UserState::Restricted && verdict == Verdict::Review {
            verdict = Verdict::Block;
        }
        let blocked = (verdict == Verdict::Block).then(|| {
            hits.iter()
                .find(|h| h.rule.level == Level::Block)
                .or_else(|| hits.iter().find(|h| h.rule.level == Level::Review))
                .map_or_else(String::new, |h| h.rule.risk.clone())
        });
        let mut check = InputCheck {
            verdict,
            hits: audit_hits(&hits, Some(text)),
            blocked,
            extra: Vec::new(),
        };
        if check.blocked.is_none()
            && let Some(classifier) = &self.inner.config.guard.classifier
        {
            let outcome = crate::classifier::classify(self, classifier, text).await;
            if let Some(risk) = &outcome.blocked {
                check.verdict = Verdict::Block;
                check.blocked = Some(risk.clone());
                self.inner.metrics.block("classifier", risk);
            }
            check.extra.push(outcome.verdict);
        } else if let Some(risk) = &check.blocked {
            self.inner.metrics.block("input", risk);
        }
        if check.blocked.is_none() {
            self.clear_violations(caller);
        }
        check
    }

    /// The verdicts of an exchange: the input stage, any extra input stages (classifier),
    /// and the output stage when there was one.
    pub(crate) fn verdicts(&self, input: &InputCheck, output: Option<StageVerdict>) -> Verdicts {
        let mut stages = vec![StageVerdict::new(
            Stage::Input,
            decision(input.verdict),
            input.hits.clone(),
        )];
        stages.extend(input.extra.iter().cloned());
        stages.extend(output);
        Verdicts::new(stages)
    }

    fn clear_violations(&self, caller: &Caller) {
        self.inner.tracked.clear_consecutive(&caller.key());
    }

    /// Counts a blocked input and applies the violation policy. Returns the new state if it
    /// changed.
    pub(crate) async fn record_violation(&self, caller: &Caller, risk: &str) -> Option<UserState> {
        // Requests without an end-user id share the name `anonymous`: sanctioning it would
        // punish every such user, so the policy needs a real id (the `user` field or header).
        if caller.user == ANONYMOUS {
            return None;
        }
        let policy = &self.inner.config.policy;
        let day = now_ms().div_euclid(86_400_000);
        let counts = self.inner.tracked.count_violation(&caller.key(), day);
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
        match self
            .inner
            .store
            .sanction(
                &caller.tenant,
                &caller.user,
                target,
                &reason,
                Some(caller.record_id.as_str()),
            )
            .await
        {
            Ok(_) => {
                tracing::info!(tenant = %caller.tenant, user = %caller.user, state = target.as_str(), %reason, "sanction");
                self.inner.tracked.user_states.insert(caller.key(), target);
                Some(target)
            }
            Err(e) => {
                tracing::error!(error = %e, "recording a sanction");
                None
            }
        }
    }

    /// A record for `caller`, with the id that is also the label's `ProduceID`.
    pub(crate) fn record(&self, caller: &Caller, kind: &str, model: &str) -> NewRecord {
        NewRecord::new(kind)
            .with_id(caller.record_id.clone())
            .tenant(caller.tenant.clone())
            .end_user(caller.user.clone())
            .client_addr(caller.client_addr.clone())
            .model(model)
    }

    /// Appends the record durably; an error means the response must fail.
    pub(crate) async fn audit(&self, caller: &Caller, record: NewRecord) -> Result<(), AppError> {
        let record = record.latency(caller.started.elapsed().as_millis() as i64);
        let started = Instant::now();
        let result = self
            .inner
            .writer
            .append(record)
            .await
            .map(|_| ())
            .map_err(|e| AppError::internal("writing the audit record", e));
        self.inner
            .metrics
            .audit_latency(started.elapsed().as_secs_f64());
        result
    }

    /// The implicit label of an output, as the `aigc` object.
    pub(crate) fn label(&self, caller: &Caller) -> hegui_label::Label {
        hegui_label::Label::new(
            self.inner.config.label.producer.clone(),
            caller.record_id.as_str(),
        )
    }

    /// The refusal or error for a blocked input.
    pub(crate) fn input_block(&self) -> InputBlock {
        self.inner.config.guard.input_block
    }
}
