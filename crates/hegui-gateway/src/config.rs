//! The gateway configuration: one TOML file (`hegui.toml`), loaded with `deny_unknown_fields`
//! and kebab-case keys, validated once at start, then shared read-only.
//!
//! Every field has a default, so an empty file is a valid (if useless: no upstream) config.
//! `examples/hegui.toml` in the repository documents every field with its default; keep the two
//! in sync. Validation errors name the field (`upstreams[0].base-url: …`).
//!
//! Not for: anything that changes while the gateway runs (user states, sanctions, keys made with
//! the store); those live in the store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::minors_config::{Minors, Reminders};
pub use crate::public::config::PublicPages;

/// An invalid or unreadable configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not fit the schema (unknown field, wrong type).
    #[error("invalid config `{path}`: {message}")]
    Parse {
        /// The file (`<string>` when parsed from text).
        path: PathBuf,
        /// The parser's message, which names the line and the field.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config: `{field}`: {reason}")]
    Invalid {
        /// The field path, e.g. `upstreams[0].base-url`.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The whole configuration (`hegui.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// Storage URL: `sqlite:PATH` (default `sqlite:hegui.db`) or `postgres://…`. The environment
    /// variable `HEGUI_DATABASE_URL` overrides it.
    pub storage: String,
    /// Request limits.
    pub limits: Limits,
    /// **Measuring only, never in service**: forward every authenticated request to its model's
    /// upstream as it came and the answer back as it was sent, with no guard, no label and no
    /// audit record. It measures what this stack does without hegui's duties (BENCHMARKS.md,
    /// "Gateway, open loop": the guarded rate as a share of this one); `hegui serve` warns at
    /// start. Default false.
    pub pass_through: bool,
    /// The upstream model APIs (OpenAI-compatible).
    pub upstreams: Vec<Upstream>,
    /// Tenants created at start, with optional static API keys.
    pub tenants: Vec<TenantConfig>,
    /// Guard settings.
    pub guard: Guard,
    /// Label settings.
    pub label: LabelConfig,
    /// Audit settings.
    pub audit: Audit,
    /// Violation policy (sanctions after repeated blocked input).
    pub policy: Policy,
    /// State shared by several instances (absent: everything stays in this process).
    pub fleet: Option<Fleet>,
}

/// Fleet mode: several `hegui serve` instances on one PostgreSQL database share rate limits,
/// violation counters and cache invalidations through Redis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Fleet {
    /// Redis URL, e.g. `redis://127.0.0.1:6379`. Required.
    pub redis: String,
    /// Milliseconds a Redis call may take before the gateway acts without it (rate limits
    /// pass, counters stay local). Default 50.
    #[serde(default = "default_fleet_timeout")]
    pub timeout_ms: u64,
    /// Prefix of every Redis key and of the invalidation channel, so that several deployments
    /// can share one Redis. Default `hegui`.
    #[serde(default = "default_fleet_prefix")]
    pub prefix: String,
}

fn default_fleet_timeout() -> u64 {
    50
}

fn default_fleet_prefix() -> String {
    "hegui".into()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            storage: "sqlite:hegui.db".into(),
            limits: Limits::default(),
            pass_through: false,
            upstreams: Vec::new(),
            tenants: Vec::new(),
            guard: Guard::default(),
            label: LabelConfig::default(),
            audit: Audit::default(),
            policy: Policy::default(),
            fleet: None,
        }
    }
}

/// Request limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// Largest request body in bytes; larger bodies get 413. Default 4 MiB.
    pub body_bytes: usize,
    /// Requests handled at once by the whole gateway (one limit, not one per route). Default
    /// 4096.
    pub concurrency: usize,
    /// Milliseconds a request beyond `concurrency` may wait for a slot before it gets 503.
    /// Waiting, not refusing at once, keeps the gateway doing useful work under overload:
    /// an instant 503 is answered so fast that clients retrying it crowd out the requests being
    /// served. Default 1000.
    pub queue_ms: u64,
    /// Seconds to connect to an upstream. Default 10.
    pub connect_timeout_secs: u64,
    /// Seconds for a whole non-streamed upstream answer. Default 300.
    pub upstream_timeout_secs: u64,
    /// Seconds without a byte from a streaming upstream before the stream is ended. Default 60.
    pub stream_idle_timeout_secs: u64,
    /// Seconds to drain open streams at shutdown. Default 30.
    pub shutdown_grace_secs: u64,
    /// End users (and tenants) whose rate-limit, state and violation entries are kept in
    /// memory at once, per cache; the least recently used beyond this are forgotten. Bounds the
    /// memory that clients can make the gateway use by inventing `user` values (about 0.2 KB
    /// per entry). Default 100000.
    pub tracked_users: u64,
    /// Most messages in one chat request; more get 400. Default 10000.
    pub messages: usize,
    /// Seconds to receive a request's whole body; a slower client gets 408. Default 30.
    pub body_read_secs: u64,
    /// Seconds to receive a request's headers, counted from when the connection is opened or
    /// from the end of the previous answer on a kept-alive connection: a connection that sends
    /// nothing for this long is closed. Default 10.
    pub header_read_secs: u64,
    /// Most client connections open at once; beyond it, new connections wait in the listen
    /// backlog until one closes. Keep it below the process's file-descriptor limit. Default
    /// 10000.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 4 * 1024 * 1024,
            concurrency: 4096,
            queue_ms: 1000,
            connect_timeout_secs: 10,
            upstream_timeout_secs: 300,
            stream_idle_timeout_secs: 60,
            shutdown_grace_secs: 30,
            tracked_users: 100_000,
            messages: 10_000,
            body_read_secs: 30,
            header_read_secs: 10,
            connections: 10_000,
        }
    }
}

/// One upstream, an OpenAI-compatible API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Upstream {
    /// Name (used in logs, metrics and `owned_by` of `/v1/models`). Required.
    pub name: String,
    /// Base URL including `/v1`, e.g. `https://api.deepseek.com/v1`. Required.
    pub base_url: String,
    /// Environment variable that holds the upstream's API key; none sends no key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Model names served by this upstream. Required, at least one.
    pub models: Vec<String>,
    /// Whether the model is filed (备案) with the CAC. Default `false`.
    #[serde(default)]
    pub filed: bool,
    /// The filing number (备案号); required when `filed = true`.
    #[serde(default)]
    pub filing_number: String,
}

/// A tenant created at start if missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantConfig {
    /// Tenant id. Required.
    pub id: String,
    /// Display name. Default: the id.
    #[serde(default)]
    pub name: String,
    /// Environment variable holding a static API key for this tenant (kept hashed in memory).
    /// Keys made with the store (`hegui serve --new-key TENANT`) work as well.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The service's public pages (`/public/ID`); none when absent.
    #[serde(default)]
    pub public: Option<PublicPages>,
}

/// What to do with a blocked input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum InputBlock {
    /// Answer with an assistant message carrying `refusal-message` (HTTP 200).
    #[default]
    Refusal,
    /// Answer with an OpenAI-shaped 400 error, code `content_filter`.
    Error,
}

/// What happens to a field of a request or an answer that the gateway does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownFields {
    /// Forward it, with every string inside scanned as text (the default).
    #[default]
    Scan,
    /// Remove it before forwarding (and scan nothing of it).
    Drop,
}

/// Guard settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Guard {
    /// Lexicon directory or compiled file (`hegui lexicon build`); empty (the default) uses the
    /// bundled sample lexicon. `SIGHUP` reloads it without a restart.
    pub lexicon: String,
    /// `refusal` (default) or `error`.
    pub input_block: InputBlock,
    /// `scan` (default) or `drop`: what happens to request and answer fields the gateway does
    /// not know. Either way nothing is forwarded unscanned.
    pub unknown_fields: UnknownFields,
    /// The refusal message for blocked input.
    pub refusal_message: String,
    /// The notice sent when output is stopped.
    pub output_notice: String,
    /// Header that names the end user when the request has no `user` field. Default
    /// `x-hegui-user`.
    pub user_header: String,
    /// Whether end-user ids differ only in case name the same user (`Mallory` = `mallory`).
    /// Default false: many providers' ids are case-sensitive.
    pub case_insensitive_users: bool,
    /// Requests per second per tenant (token bucket); 0 = unlimited (default).
    pub tenant_rps: f64,
    /// Burst per tenant; default 2 × `tenant-rps`.
    pub tenant_burst: f64,
    /// Requests per second per end user; 0 = unlimited (default).
    pub user_rps: f64,
    /// Burst per end user; default 2 × `user-rps`.
    pub user_burst: f64,
    /// Milliseconds an API key lookup or a user state is cached. Default 1000.
    pub cache_ms: u64,
    /// Optional classifier guard.
    pub classifier: Option<Classifier>,
    /// Minors mode: what applies to end users flagged minor.
    pub minors: Minors,
    /// Reminders that the user is talking to an AI, at first use and after long continuous
    /// use (for anthropomorphic-interaction services); absent: none.
    pub reminders: Option<Reminders>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            lexicon: String::new(),
            input_block: InputBlock::Refusal,
            unknown_fields: UnknownFields::Scan,
            refusal_message: "抱歉，您的请求包含违反法律法规或平台规则的内容，无法处理。".into(),
            output_notice: "【内容因违反相关规定已停止生成】".into(),
            user_header: "x-hegui-user".into(),
            case_insensitive_users: false,
            tenant_rps: 0.0,
            tenant_burst: 0.0,
            user_rps: 0.0,
            user_burst: 0.0,
            cache_ms: 1000,
            classifier: None,
            minors: Minors::default(),
            reminders: None,
        }
    }
}

/// What to do when the classifier fails or times out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FailMode {
    /// Let the request through (logged as `classifier_error`).
    #[default]
    Open,
    /// Block the request.
    Closed,
}

/// An external safety model (e.g. Qwen3Guard behind vLLM) over an OpenAI-compatible chat API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Classifier {
    /// Base URL including `/v1`. Required.
    pub base_url: String,
    /// Model name. Required.
    pub model: String,
    /// Environment variable with its API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Milliseconds before giving up. Default 500.
    #[serde(default = "default_classifier_timeout")]
    pub timeout_ms: u64,
    /// `open` (default) or `closed`.
    #[serde(default)]
    pub fail: FailMode,
}

fn default_classifier_timeout() -> u64 {
    500
}

/// Where the explicit text notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ExplicitText {
    /// No explicit text notice.
    Off,
    /// Before the answer (default).
    #[default]
    Start,
    /// After the answer.
    End,
    /// Before and after.
    Both,
}

/// Label settings (GB 45438-2025).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LabelConfig {
    /// `ContentProducer`: the provider's code (unified social credit code is usual). Default
    /// `hegui-demo`.
    pub producer: String,
    /// Signing key file made by `hegui keys generate` (the secret-key file); none writes unsigned
    /// labels.
    pub key_file: Option<PathBuf>,
    /// Explicit text notice position: `off`, `start` (default), `end`, `both`.
    pub explicit_text: ExplicitText,
    /// The notice text; must contain "人工智能"/"AI" and "生成"/"合成".
    pub notice: String,
    /// Draw a caption on generated images. Default `false`.
    pub explicit_image: bool,
    /// Add the Morse "AI" cue to generated WAV audio. Default `false`.
    pub explicit_audio: bool,
}

impl Default for LabelConfig {
    fn default() -> Self {
        LabelConfig {
            producer: "hegui-demo".into(),
            key_file: None,
            explicit_text: ExplicitText::Start,
            notice: hegui_label::explicit::DEFAULT_NOTICE.into(),
            explicit_image: false,
            explicit_audio: false,
        }
    }
}

/// Audit settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Audit {
    /// `full` (default: texts and digests) or `digest` (digests only).
    pub bodies: hegui_store::BodyMode,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            bodies: hegui_store::BodyMode::Full,
        }
    }
}

/// Violation policy: blocked inputs per end user lead to warn / restrict / suspend (Interim
/// Measures art. 14). Thresholds of 0 disable a step. Requests that name no end user (no `user`
/// field or header) are never sanctioned. Counts are kept per gateway instance; the resulting
/// states and sanctions are in the store, so every instance on one PostgreSQL enforces them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Policy {
    /// Consecutive blocked inputs before a warning. Default 2.
    pub warn_after: u32,
    /// Consecutive blocked inputs before restriction (review-level hits are then blocked).
    /// Default 3.
    pub restrict_after: u32,
    /// Consecutive blocked inputs before suspension. Default 5.
    pub suspend_after: u32,
    /// Blocked inputs in one day (UTC) before suspension. Default 10.
    pub daily_suspend_after: u32,
    /// Minutes a suspension lasts. Default 60.
    pub suspend_minutes: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            warn_after: 2,
            restrict_after: 3,
            suspend_after: 5,
            daily_suspend_after: 10,
            suspend_minutes: 60,
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = fs_err::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values the schema cannot: addresses, URLs, duplicates, thresholds.
    /// The public pages of tenant `id`, when it has any.
    pub fn public_pages(&self, id: &str) -> Option<&PublicPages> {
        self.tenants
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.public.as_ref())
    }

    /// Checks the fields that have rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen.parse::<SocketAddr>().map_err(|e| {
            invalid(
                "listen",
                format!("`{}` is not an address: {e}", self.listen),
            )
        })?;
        if !(self.storage.starts_with("sqlite:") || self.storage.starts_with("postgres")) {
            return Err(invalid(
                "storage",
                format!(
                    "`{}` is neither `sqlite:PATH` nor `postgres://…`",
                    self.storage
                ),
            ));
        }
        if self.limits.body_bytes == 0 {
            return Err(invalid("limits.body-bytes", "must be greater than 0"));
        }
        for (i, tenant) in self.tenants.iter().enumerate() {
            if let Some(public) = &tenant.public {
                public.validate(&format!("tenants[{i}].public"))?;
            }
        }
        if let Some(fleet) = &self.fleet {
            if !fleet.redis.starts_with("redis://") {
                return Err(invalid("fleet.redis", "must be a `redis://host:port` URL"));
            }
            if fleet.timeout_ms == 0 {
                return Err(invalid("fleet.timeout-ms", "must be greater than 0"));
            }
        }
        if self.limits.body_read_secs == 0 {
            return Err(invalid("limits.body-read-secs", "must be greater than 0"));
        }
        if self.limits.header_read_secs == 0 {
            return Err(invalid("limits.header-read-secs", "must be greater than 0"));
        }
        if self.limits.connections == 0 {
            return Err(invalid("limits.connections", "must be greater than 0"));
        }
        if self.limits.messages == 0 {
            return Err(invalid("limits.messages", "must be greater than 0"));
        }
        if self.limits.tracked_users == 0 {
            return Err(invalid("limits.tracked-users", "must be greater than 0"));
        }
        if self.limits.concurrency == 0 {
            return Err(invalid("limits.concurrency", "must be greater than 0"));
        }
        let mut models = std::collections::HashSet::new();
        for (i, upstream) in self.upstreams.iter().enumerate() {
            let field = |name: &str| format!("upstreams[{i}].{name}");
            if upstream.name.trim().is_empty() {
                return Err(invalid(field("name"), "must not be empty"));
            }
            check_url(&upstream.base_url, &field("base-url"))?;
            if upstream.models.is_empty() {
                return Err(invalid(field("models"), "needs at least one model"));
            }
            for model in &upstream.models {
                if !models.insert(model.as_str()) {
                    return Err(invalid(
                        field("models"),
                        format!("model `{model}` is served by two upstreams"),
                    ));
                }
            }
            if upstream.filed && upstream.filing_number.trim().is_empty() {
                return Err(invalid(
                    field("filing-number"),
                    "is required when `filed = true`",
                ));
            }
        }
        let mut tenants = std::collections::HashSet::new();
        for (i, tenant) in self.tenants.iter().enumerate() {
            if tenant.id.trim().is_empty() {
                return Err(invalid(format!("tenants[{i}].id"), "must not be empty"));
            }
            if !tenants.insert(tenant.id.as_str()) {
                return Err(invalid(
                    format!("tenants[{i}].id"),
                    format!("tenant `{}` is listed twice", tenant.id),
                ));
            }
        }
        for (name, value) in [
            ("guard.tenant-rps", self.guard.tenant_rps),
            ("guard.tenant-burst", self.guard.tenant_burst),
            ("guard.user-rps", self.guard.user_rps),
            ("guard.user-burst", self.guard.user_burst),
        ] {
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(name, format!("`{value}` must be 0 or more")));
            }
        }
        if self.guard.user_header.is_empty()
            || axum::http::HeaderName::from_bytes(self.guard.user_header.as_bytes()).is_err()
        {
            return Err(invalid(
                "guard.user-header",
                format!("`{}` is not a header name", self.guard.user_header),
            ));
        }
        if let Some(classifier) = &self.guard.classifier {
            check_url(&classifier.base_url, "guard.classifier.base-url")?;
            if classifier.model.is_empty() {
                return Err(invalid("guard.classifier.model", "must not be empty"));
            }
        }
        if self.label.explicit_text != ExplicitText::Off
            && !hegui_label::explicit::has_required_elements(&self.label.notice)
        {
            return Err(invalid(
                "label.notice",
                format!(
                    "`{}` needs \"人工智能\" or \"AI\" and \"生成\" or \"合成\"",
                    self.label.notice
                ),
            ));
        }
        self.guard.minors.quiet()?;
        if let Some(reminders) = &self.guard.reminders
            && reminders.session_gap_minutes == 0
        {
            return Err(invalid(
                "guard.reminders.session-gap-minutes",
                "must be greater than 0",
            ));
        }
        if self.label.producer.trim().is_empty() {
            return Err(invalid("label.producer", "must not be empty"));
        }
        if self.policy.suspend_minutes == 0 {
            return Err(invalid("policy.suspend-minutes", "must be greater than 0"));
        }
        Ok(())
    }

    /// The upstream that serves `model`.
    pub fn upstream_for(&self, model: &str) -> Option<&Upstream> {
        self.upstreams
            .iter()
            .find(|u| u.models.iter().any(|m| m == model))
    }
}

fn check_url(url: &str, field: &str) -> Result<(), ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(invalid(
            field,
            format!(
                "`{url}` has scheme `{}`, expected http or https",
                u.scheme()
            ),
        )),
        Err(e) => Err(invalid(field, format!("`{url}` is not a URL: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("hegui.toml"))
    }

    #[test]
    fn empty_file_is_the_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.policy.suspend_after, 5);
    }

    #[test]
    fn the_example_parses() {
        let text = include_str!("../../../examples/hegui.toml");
        let config = parse(text).unwrap();
        assert!(!config.upstreams.is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("listen = \"nowhere\"", "`listen`"),
            ("bogus = 1", "unknown field `bogus`"),
            ("[guard]\nuser-rps = -1.0", "`guard.user-rps`"),
            (
                "[[upstreams]]\nname = \"a\"\nbase-url = \"ftp://x\"\nmodels = [\"m\"]",
                "`upstreams[0].base-url`",
            ),
            (
                "[[upstreams]]\nname = \"a\"\nbase-url = \"http://x\"\nmodels = [\"m\"]\nfiled = true",
                "`upstreams[0].filing-number`",
            ),
            ("[label]\nnotice = \"hello\"", "`label.notice`"),
            ("[fleet]\nredis = \"http://x\"", "`fleet.redis`"),
            ("[limits]\nbody-bytes = 0", "`limits.body-bytes`"),
            (
                "[guard.minors]\nquiet-hours = \"22:00\"",
                "`guard.minors.quiet-hours`",
            ),
            (
                "[guard.minors]\nquiet-hours = \"25:00-06:00\"",
                "`guard.minors.quiet-hours`",
            ),
            (
                "[guard.reminders]\nsession-gap-minutes = 0",
                "`guard.reminders.session-gap-minutes`",
            ),
        ];
        for (text, needle) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?} gave {err}");
        }
    }
}
