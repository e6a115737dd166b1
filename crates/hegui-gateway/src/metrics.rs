//! Prometheus metrics, kept in atomics and rendered as text at `/metrics`.
//!
//! Hand-rolled rather than the `metrics` crate family: the gateway needs a few counters and
//! histograms, and the exporter crates would pull a second HTTP stack into the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in nanoseconds.
    sum_ns: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            if seconds <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let total = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9
        );
        let _ = writeln!(out, "{name}_count {total}");
    }
}

/// The gateway's metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, String), u64>>,
    blocks: Mutex<BTreeMap<(String, String), u64>>,
    upstream: Histogram,
    added: Histogram,
    audit: Histogram,
    open_streams: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self, route: &str, outcome: &str) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((route.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
    }

    pub(crate) fn block(&self, stage: &str, risk: &str) {
        if let Ok(mut map) = self.blocks.lock() {
            *map.entry((stage.to_owned(), risk.to_owned())).or_default() += 1;
        }
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

    pub(crate) fn stream_opened(&self) {
        self.open_streams.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stream_closed(&self) {
        self.open_streams.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn open_streams(&self) -> u64 {
        self.open_streams.load(Ordering::Relaxed)
    }

    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP hegui_requests_total Requests by route and outcome.\n# TYPE hegui_requests_total counter\n");
        if let Ok(map) = self.requests.lock() {
            for ((route, outcome), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "hegui_requests_total{{route=\"{route}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP hegui_blocks_total Blocks by stage (input, output, classifier) and risk code.\n# TYPE hegui_blocks_total counter\n");
        if let Ok(map) = self.blocks.lock() {
            for ((stage, risk), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "hegui_blocks_total{{stage=\"{stage}\",risk=\"{risk}\"}} {n}"
                );
            }
        }
        self.upstream.render(
            &mut out,
            "hegui_upstream_latency_seconds",
            "Time waiting for the upstream (non-streamed: whole answer; streamed: first byte).",
        );
        self.added.render(
            &mut out,
            "hegui_added_latency_seconds",
            "Time the gateway itself added to a request (total minus upstream time).",
        );
        self.audit.render(
            &mut out,
            "hegui_audit_commit_seconds",
            "Time from handing an audit record to the ledger writer to its durable commit (part of the added latency).",
        );
        let _ = writeln!(
            out,
            "# HELP hegui_open_streams Streams being served.\n# TYPE hegui_open_streams gauge\nhegui_open_streams {}",
            self.open_streams()
        );
        out
    }
}
