//! The gateway's Prometheus metrics, kept with `prometheus-client` and rendered as text at
//! `/metrics`. The crate escapes label values (an end user cannot break the format through a
//! risk code or a route) and owns the exposition format; this module only names the metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Latency bucket bounds, in seconds (100 µs to 5 s).
const BUCKETS: [f64; 14] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BlockLabels {
    stage: String,
    risk: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    guard: &'static str,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

/// The gateway's metrics.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    blocks: Family<BlockLabels, Counter>,
    refusals: Family<RefusalLabels, Counter>,
    /// Redis calls of the fleet mode that failed or timed out.
    pub(crate) fleet_errors: Counter,
    upstream: Histogram,
    added: Histogram,
    audit: Histogram,
    open_streams: Gauge,
    tracked: Family<CacheLabels, Gauge>,
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("hegui"),
            requests: Family::default(),
            blocks: Family::default(),
            refusals: Family::default(),
            fleet_errors: Counter::default(),
            upstream: histogram(),
            added: histogram(),
            audit: histogram(),
            open_streams: Gauge::default(),
            tracked: Family::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "requests",
            "Requests by route and HTTP status",
            metrics.requests.clone(),
        );
        r.register(
            "blocks",
            "Blocks by stage (input, output, classifier) and risk code",
            metrics.blocks.clone(),
        );
        r.register(
            "refusals",
            "Requests refused by an admission guard, by guard and error code",
            metrics.refusals.clone(),
        );
        r.register(
            "fleet_errors",
            "Fleet-mode Redis calls that failed or timed out (the gateway acted without them)",
            metrics.fleet_errors.clone(),
        );
        r.register(
            "upstream_latency_seconds",
            "Time waiting for the upstream (non-streamed: whole answer; streamed: first byte)",
            metrics.upstream.clone(),
        );
        r.register(
            "added_latency_seconds",
            "Time the gateway itself added to a request (total minus upstream time)",
            metrics.added.clone(),
        );
        r.register(
            "audit_commit_seconds",
            "Time from handing an audit record to the ledger writer to its durable commit (part of the added latency)",
            metrics.audit.clone(),
        );
        r.register(
            "open_streams",
            "Streams being served",
            metrics.open_streams.clone(),
        );
        r.register(
            "tracked_entries",
            "End users held in the bounded in-memory state, by cache (limits.tracked-users caps each)",
            metrics.tracked.clone(),
        );
        metrics
    }
}

impl Metrics {
    pub(crate) fn request(&self, route: &str, outcome: &str) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub(crate) fn block(&self, stage: &str, risk: &str) {
        self.blocks
            .get_or_create(&BlockLabels {
                stage: stage.to_owned(),
                risk: risk.to_owned(),
            })
            .inc();
    }

    pub(crate) fn refusal(&self, guard: &'static str, code: &'static str) {
        self.refusals
            .get_or_create(&RefusalLabels { guard, code })
            .inc();
    }

    pub(crate) fn upstream_latency(&self, seconds: f64) {
        self.upstream.observe(seconds);
    }

    pub(crate) fn added_latency(&self, seconds: f64) {
        self.added.observe(seconds.max(0.0));
    }

    /// A finished non-streaming exchange: the upstream's wait, and the rest of the time since
    /// `started` as hegui's own.
    pub(crate) fn exchange(&self, upstream_wait: std::time::Duration, started: std::time::Instant) {
        self.upstream_latency(upstream_wait.as_secs_f64());
        self.added_latency(
            started
                .elapsed()
                .saturating_sub(upstream_wait)
                .as_secs_f64(),
        );
    }

    pub(crate) fn audit_latency(&self, seconds: f64) {
        self.audit.observe(seconds);
    }

    /// The text exposition, with the gauges that are read at scrape time set first.
    pub(crate) fn render(&self, open_streams: usize, tracked: (u64, u64, u64)) -> String {
        self.open_streams
            .set(i64::try_from(open_streams).unwrap_or(i64::MAX));
        for (cache, n) in [
            ("rate_limits", tracked.0),
            ("user_states", tracked.1),
            ("violations", tracked.2),
        ] {
            self.tracked
                .get_or_create(&CacheLabels { cache })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.block("input", "A.1\"} 1\nhegui_fake 9");
        metrics.request("/v1/models", "200");
        let text = metrics.render(0, (0, 0, 0));
        assert!(
            text.contains(r#"hegui_blocks_total{stage="input",risk="A.1\"} 1\nhegui_fake 9"} 1"#),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("hegui_fake")), "{text}");
        assert!(text.contains(r#"hegui_requests_total{route="/v1/models",outcome="200"} 1"#));
        assert!(text.contains("hegui_added_latency_seconds_bucket{le=\"0.001\"} 0"));
    }
}
