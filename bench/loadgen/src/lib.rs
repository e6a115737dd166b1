//! What the load generator and the disk probe share: the constant-rate schedule, the
//! corrected-latency histogram, and the one-line JSON summary that `bench/gateway/openloop.sh`
//! reads from both.

use hdrhistogram::Histogram;

/// When job `i` is due: `i / rate` after the start, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    pub rate: f64,
    pub duration_ns: u64,
}

impl Schedule {
    pub fn intended_ns(&self, i: u64) -> u64 {
        (i as f64 * 1e9 / self.rate).round() as u64
    }
    /// Number of jobs scheduled within the duration.
    pub fn count(&self) -> u64 {
        (self.duration_ns as f64 * self.rate / 1e9).ceil() as u64
    }
}

/// Latencies in microseconds, 1 µs to 10 min, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds")
}

/// The corrected latency of one job: from its intended start, not its actual one.
pub fn record(hist: &mut Histogram<u64>, intended_ns: u64, done_ns: u64) {
    let us = done_ns.saturating_sub(intended_ns) / 1_000;
    hist.saturating_record(us.max(1));
}

/// The command line as `--flag value` pairs; `-h`/`--help` or a flag without a value is an error
/// carrying `usage`.
pub fn flag_pairs(usage: &str) -> Result<Vec<(String, String)>, String> {
    let mut it = std::env::args().skip(1);
    let mut pairs = Vec::new();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(usage.into());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{usage}"))?;
        pairs.push((flag, value));
    }
    Ok(pairs)
}

/// A flag's numeric value (`10`, `1.5`; a trailing `s` is allowed, for durations).
pub fn number(flag: &str, value: &str) -> Result<f64, String> {
    value
        .trim_end_matches('s')
        .parse::<f64>()
        .map_err(|e| format!("{flag} {value}: {e}"))
}

/// One measurement, printed as one JSON line (rates in jobs/s, latencies in ms).
#[derive(Debug)]
pub struct Summary {
    pub target_rps: f64,
    pub duration_s: f64,
    pub connections: usize,
    pub scheduled: u64,
    pub completed: u64,
    pub achieved_rps: f64,
    pub ok: u64,
    pub non2xx: u64,
    pub socket_errors: u64,
    pub timeouts: u64,
    pub dropped: u64,
}

impl Summary {
    /// The JSON line, with the latency quantiles of `hist`.
    pub fn to_json(&self, hist: &Histogram<u64>) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        format!(
            "{{\"target_rps\":{},\"duration_s\":{},\"connections\":{},\"scheduled\":{},\"completed\":{},\
\"achieved_rps\":{:.1},\"ok\":{},\"non2xx\":{},\"socket_errors\":{},\"timeouts\":{},\"dropped\":{},\
\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3},\"max_ms\":{:.3},\"mean_ms\":{:.3}}}",
            self.target_rps,
            self.duration_s,
            self.connections,
            self.scheduled,
            self.completed,
            self.achieved_rps,
            self.ok,
            self.non2xx,
            self.socket_errors,
            self.timeouts,
            self.dropped,
            ms(hist.value_at_quantile(0.50)),
            ms(hist.value_at_quantile(0.90)),
            ms(hist.value_at_quantile(0.99)),
            ms(hist.value_at_quantile(0.999)),
            ms(hist.max()),
            hist.mean() / 1000.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn schedule_is_evenly_spaced() {
        let s = Schedule {
            rate: 1000.0,
            duration_ns: 2_000 * MS,
        };
        assert_eq!(s.count(), 2000);
        assert_eq!(s.intended_ns(0), 0);
        assert_eq!(s.intended_ns(1), MS);
        assert_eq!(s.intended_ns(1500), 1500 * MS);
        let s = Schedule {
            rate: 3.0,
            duration_ns: 1_000 * MS,
        };
        assert_eq!(s.count(), 3);
        assert_eq!(s.intended_ns(2), 666_666_667);
    }

    #[test]
    fn the_summary_is_one_json_line_in_milliseconds() {
        let mut hist = new_histogram();
        for us in [100, 200, 300, 400] {
            record(&mut hist, 0, us * 1_000);
        }
        let line = Summary {
            target_rps: 1000.0,
            duration_s: 15.0,
            connections: 1,
            scheduled: 4,
            completed: 4,
            achieved_rps: 1000.0,
            ok: 4,
            non2xx: 0,
            socket_errors: 0,
            timeouts: 0,
            dropped: 0,
        }
        .to_json(&hist);
        assert!(!line.contains('\n'));
        assert!(
            line.starts_with("{\"target_rps\":1000,\"duration_s\":15,"),
            "{line}"
        );
        assert!(line.contains("\"p50_ms\":0.200,"), "{line}");
        assert!(line.contains("\"max_ms\":0.400,"), "{line}");
    }
}
