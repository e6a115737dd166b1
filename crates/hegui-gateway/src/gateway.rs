//! The gateway's shared state, and what every route does the same way around the guard
//! pipeline: the API key (for the auth layer), admission with refusal records, the input
//! guards with their metrics, audit records.
//!
//! Built once from a validated [`Config`]; cheap to clone (one `Arc`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use hegui_keys::SigningKey;
use hegui_lexicon::{Lexicon, Matcher, SharedMatcher};
use hegui_store::ledger::NewRecord;
use hegui_store::ledger::schema::{Outcome, Verdicts};
use hegui_store::{AuditWriter, Store, WriterOptions};
use subtle::ConstantTimeEq as _;

use crate::auth::Tenant;
use crate::config::{Config, InputBlock};
use crate::error::AppError;
use crate::fleet::{Fleet, Notice};
use crate::guard::{self, Caller, InputCheck, Pipeline, RequestMeta};
use crate::metrics::Metrics;
use crate::state::Tracked;
use crate::upstream::UpstreamTarget;

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
    /// The fleet's Redis cannot be reached at start.
    #[error("fleet.redis `{url}`: {message}")]
    Fleet {
        /// The URL.
        url: String,
        /// The cause.
        message: String,
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
    pub(crate) matcher: Arc<SharedMatcher>,
    pub(crate) client: reqwest::Client,
    static_keys: Vec<([u8; 32], String)>,
    upstreams: HashMap<String, UpstreamTarget>,
    pub(crate) tracked: Arc<Tracked>,
    pub(crate) pipeline: Pipeline,
    /// Open stream tasks, for draining at shutdown.
    pub(crate) streams: tokio_util::task::TaskTracker,
    /// The slots of `limits.concurrency`, shared by every route.
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    pub(crate) metrics: Metrics,
    /// Shared state of a fleet (`[fleet]`).
    pub(crate) fleet: Option<Arc<Fleet>>,
    /// What time it is ([`Gateway::now`]).
    clock: crate::Clock,
}

fn env_var(field: String, variable: &str) -> Result<String, GatewayError> {
    std::env::var(variable).map_err(|_| GatewayError::MissingEnv {
        field,
        variable: variable.to_owned(),
    })
}

fn key_digest(key: &str) -> [u8; 32] {
    hegui_keys::sm3(format!("hegui-gateway-key/1\n{key}").as_bytes())
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
        Gateway::with_clock(config, store, crate::clock::system()).await
    }

    /// As [`Gateway::with_store`], with the time read from `clock` (tests set it).
    pub async fn with_clock(
        config: Config,
        store: Store,
        clock: crate::Clock,
    ) -> Result<Gateway, GatewayError> {
        config.validate()?;
        // The rows the store stamps (records, deadlines, sanctions) tell the guards' time.
        let store = store.with_clock(clock.clone());
        let sample = Matcher::build(&Lexicon::sample()).map_err(|e| GatewayError::Lexicon {
            path: "(sample)".into(),
            message: e.to_string(),
        })?;
        let matcher = Arc::new(SharedMatcher::new(sample));
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
        let mut identity_secrets = HashMap::new();
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
            if let Some(variable) = tenant
                .public
                .as_ref()
                .and_then(|p| p.identity_secret_env.as_ref())
            {
                let field = format!("tenants[{i}].public.identity-secret-env");
                let secret = env_var(field.clone(), variable)?;
                // A short secret can be guessed: then anyone can vouch for anyone.
                if secret.len() < 16 {
                    return Err(crate::config::invalid(
                        field,
                        format!("`{variable}` holds fewer than 16 bytes"),
                    )
                    .into());
                }
                identity_secrets.insert(tenant.id.clone(), secret.into_bytes());
            }
        }
        let mut upstreams = HashMap::new();
        for (i, upstream) in config.upstreams.iter().enumerate() {
            let key = match &upstream.api_key_env {
                Some(variable) => Some(env_var(format!("upstreams[{i}].api-key-env"), variable)?),
                None => None,
            };
            let target = UpstreamTarget::new(&upstream.base_url, key.as_deref())
                .map_err(|message| crate::config::invalid(format!("upstreams[{i}]"), message))?;
            upstreams.insert(upstream.name.clone(), target);
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
        // No redirects: a prompt goes to the upstream the config names (the model the provider
        // filed) and nowhere else; a 3xx is the upstream's failure (`answered HTTP 307`).
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
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
        let tracked = Arc::new(Tracked::new(&config));
        let metrics = Metrics::default();
        let fleet = match &config.fleet {
            Some(fleet) => Some(Arc::new(
                Fleet::connect(fleet, metrics.fleet_errors.clone())
                    .await
                    .map_err(|e| GatewayError::Fleet {
                        url: fleet.redis.clone(),
                        message: e.to_string(),
                    })?,
            )),
            None => None,
        };
        let pipeline = Pipeline::new(&guard::Parts {
            fleet: fleet.clone(),
            config: &config,
            store: &store,
            tracked: &tracked,
            matcher: &matcher,
            classifier_key,
            client: &client,
            key,
            clock: clock.clone(),
            identity_secrets,
        });
        let slots = Arc::new(tokio::sync::Semaphore::new(config.limits.concurrency));
        let gateway = Gateway {
            inner: Arc::new(Inner {
                config,
                store,
                writer,
                matcher,
                client,
                static_keys,
                upstreams,
                tracked,
                pipeline,
                streams: tokio_util::task::TaskTracker::new(),
                slots,
                metrics,
                fleet,
                clock,
            }),
        };
        if let Some(fleet) = &gateway.inner.fleet {
            let weak = Arc::downgrade(&gateway.inner);
            fleet.listen(move |notice| {
                let Some(inner) = weak.upgrade() else {
                    return false;
                };
                let gateway = Gateway { inner };
                match notice {
                    Notice::User { tenant, user } => {
                        gateway.inner.tracked.forget_user(&tenant, &user);
                    }
                    Notice::Lexicon => {
                        tokio::spawn(async move {
                            if let Err(e) = gateway.reload_here().await {
                                tracing::error!(error = %e, "lexicon reload announced by the fleet failed");
                            }
                        });
                    }
                }
                true
            });
        }
        Ok(gateway)
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

    /// An end user's row changed in the store: see [`crate::fleet::user_changed`].
    pub(crate) async fn user_changed(&self, tenant: &str, user: &str) {
        let fleet = self.inner.fleet.as_deref();
        crate::fleet::user_changed(&self.inner.tracked, fleet, tenant, user).await;
    }

    /// Reloads the lexicon named by `guard.lexicon` (a directory or a compiled file) off the
    /// request path and swaps it in atomically; requests in flight keep the old one. On error the
    /// current lexicon stays. With the sample lexicon there is nothing to reload. In a fleet,
    /// every other instance is told to reload too.
    pub async fn reload_lexicon(&self) -> Result<(), GatewayError> {
        self.reload_here().await?;
        if let Some(fleet) = &self.inner.fleet {
            fleet.publish(&Notice::Lexicon).await;
        }
        Ok(())
    }

    /// Reloads this instance's lexicon only.
    async fn reload_here(&self) -> Result<(), GatewayError> {
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

    /// The parsed base URL and authorization of upstream `name` (every configured upstream has
    /// one).
    pub(crate) fn upstream_target(&self, name: &str) -> Option<&UpstreamTarget> {
        self.inner.upstreams.get(name)
    }

    /// Runs the admission guards for an authenticated request (its tenant set by the auth
    /// layer; `model` and `user` as its body names them). A refusal that the guard marks as audited leaves a record (kind `kind`, outcome
    /// `refused`), at most one per end user, guard and second.
    pub(crate) async fn admit(
        &self,
        tenant: &Tenant,
        kind: &str,
        headers: &HeaderMap,
        (model, user): (&str, Option<&str>),
        client_addr: Option<SocketAddr>,
    ) -> Result<Caller, AppError> {
        let mut caller = Caller::new(
            tenant.id.clone(),
            tenant.arrived,
            client_addr.map(|a| a.to_string()).unwrap_or_default(),
        );
        let request = RequestMeta {
            kind,
            headers,
            user,
        };
        for guard in &self.inner.pipeline.admission {
            let Err(refusal) = guard.admit(&mut caller, request).await else {
                continue;
            };
            let error = refusal.error;
            self.inner.metrics.refusal(guard.name(), error.code);
            if !refusal.audited
                || !self
                    .inner
                    .tracked
                    .record_refusal(caller.key(), guard.name())
            {
                return Err(error);
            }
            let record = self
                .record(&caller, kind, model)
                .response(error.message.clone())
                .verdicts(Verdicts::new(vec![guard::refusal_verdict(
                    guard.name(),
                    error.code,
                )]))
                .outcome(Outcome::Refused);
            self.audit(&caller, record).await?;
            return Err(error.record(caller.record_id.as_str()));
        }
        Ok(caller)
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

    /// Runs the input guards over `text`; counts a refusal in the metrics, and a passed input
    /// resets the end user's consecutive violations.
    pub(crate) async fn check_input(&self, caller: &Caller, text: &str) -> InputCheck {
        let pipeline = &self.inner.pipeline;
        let check = pipeline.check_input(caller, text).await;
        match (&check.blocked, check.blocked_by) {
            (Some(risk), Some(guard)) => self.inner.metrics.block(guard, risk),
            _ => pipeline.sanctions.clear_violations(caller),
        }
        check
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

    /// What time it is, by the clock the gateway was built with ([`Gateway::with_clock`]):
    /// deadlines, sessions, suspensions and the dashboard's week all read it.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.inner.clock)()
    }

    /// The Beijing calendar day of [`Gateway::now`] (which agreement is in force).
    pub(crate) fn today(&self) -> chrono::NaiveDate {
        crate::clock::beijing(self.now()).day
    }

    /// [`Gateway::now`] in milliseconds since the epoch, as the store keeps times.
    pub(crate) fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
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

    /// The refusal or error for a blocked input.
    pub(crate) fn input_block(&self) -> InputBlock {
        self.inner.config.guard.input_block
    }
}
