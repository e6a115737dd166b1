//! The statistics every report shares: a proportion with its 95 % Wilson score interval, seeded
//! uniform sampling of a stream (a mergeable reservoir), and proportional allocation of a sample
//! over strata.
//!
//! Why Wilson and not the textbook `p ± 1.96·√(p(1−p)/n)`: the shares measured here sit near 0
//! (illegal content, refusals where none are due) or near 1 (pass rates), where the normal
//! approximation gives intervals below 0 or above 1 and far too narrow; the score interval keeps
//! its coverage there (Newcombe 1998, Brown, Cai & DasGupta 2001).
//!
//! Why a *bottom-k* reservoir: every item gets a random key and the sample is the `k` items with
//! the smallest keys. That is a uniform sample without replacement (like Algorithm R), but two
//! reservoirs of disjoint streams merge exactly (keep the `k` smallest of both), so files read in
//! parallel give the same sample as one sequential read. The corpus audit takes each record's key
//! from [`key`]`(seed, file, line)`, a hash of where the record is, not from a random stream in
//! reading order: a file cut into blocks that several threads parse in any order still gives the
//! same sample for the same seed, and the same data as JSONL or Parquet (row = line) gives the
//! same sample too. The sample in key order is also a random permutation, so any prefix of it is
//! itself a uniform sample: that is how a stratified sample is cut from per-stratum reservoirs.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng as _;
use serde::{Deserialize, Serialize};

/// The normal quantile for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A share `successes / trials` with its 95 % Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Numerator.
    pub successes: u64,
    /// Denominator.
    pub trials: u64,
    /// Point estimate (`0` when there are no trials).
    pub value: f64,
    /// Lower bound of the 95 % Wilson interval.
    pub low: f64,
    /// Upper bound of the 95 % Wilson interval.
    pub high: f64,
}

impl Proportion {
    /// The share and its interval. With no trials the interval is the whole `[0, 1]`.
    pub fn new(successes: u64, trials: u64) -> Proportion {
        let (low, high) = wilson(successes, trials, Z95);
        Proportion {
            successes,
            trials,
            value: if trials == 0 {
                0.0
            } else {
                successes as f64 / trials as f64
            },
            low,
            high,
        }
    }

    /// `12.3 % [10.1, 14.9] (123/1000)`.
    pub fn display(&self) -> String {
        if self.trials == 0 {
            return "– (0/0)".to_string();
        }
        format!(
            "{} [{}, {}] ({}/{})",
            percent(self.value),
            percent_bare(self.low),
            percent_bare(self.high),
            self.successes,
            self.trials
        )
    }
}

/// `0.1234` → `12.3 %`.
pub fn percent(share: f64) -> String {
    format!("{} %", percent_bare(share))
}

fn percent_bare(share: f64) -> String {
    format!("{:.1}", share * 100.0)
}

/// The Wilson score interval for `successes` out of `trials` at normal quantile `z`, clamped to
/// `[0, 1]`. With no trials, `(0, 1)`.
pub fn wilson(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes.min(trials) as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At p = 0 or 1 the exact bound is 0 or 1; floating point can miss it by an ulp.
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// A ChaCha8 generator for `seed`, on its own `stream` (for example the index of an input file),
/// so that independent streams of one run never share random numbers.
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The random key of the record at `line` of input `file` for `seed`: a fixed function of the
/// three (SplitMix64's finalizer, chained), so keys do not depend on the order records are read
/// in. The finalizer is a bijection with full avalanche, so keys of distinct lines are distinct
/// for a given seed and file, and uniform enough for sampling (it passes BigCrush as a
/// generator).
pub fn key(seed: u64, file: u64, line: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    mix(mix(mix(seed) ^ file) ^ line)
}

struct Keyed<T> {
    key: u64,
    item: T,
}

impl<T> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Keyed<T> {}
impl<T> PartialOrd for Keyed<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Keyed<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// A uniform random sample of at most `capacity` items from a stream of unknown length, in
/// constant memory: the items with the `capacity` smallest random keys (see the module docs).
pub struct Reservoir<T> {
    capacity: usize,
    seen: u64,
    // INVARIANT: a max-heap by key holding at most `capacity` items: the smallest keys offered.
    heap: BinaryHeap<Keyed<T>>,
}

impl<T> std::fmt::Debug for Reservoir<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservoir")
            .field("capacity", &self.capacity)
            .field("seen", &self.seen)
            .field("len", &self.heap.len())
            .finish()
    }
}

impl<T> Reservoir<T> {
    /// An empty reservoir keeping at most `capacity` items.
    pub fn new(capacity: usize) -> Reservoir<T> {
        Reservoir {
            capacity,
            seen: 0,
            heap: BinaryHeap::with_capacity(capacity.min(1 << 16)),
        }
    }

    /// How many items were offered (the stream's length so far).
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// How many items it holds: `min(capacity, seen)`.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Offers an item with its random `key`; `make` runs only when the item is kept, so a
    /// stream pays for building an item (copying its text) only for the few it keeps.
    pub fn offer_with(&mut self, key: u64, make: impl FnOnce() -> T) {
        self.seen += 1;
        if self.heap.len() < self.capacity {
            self.heap.push(Keyed { key, item: make() });
        } else if let Some(mut top) = self.heap.peek_mut()
            && key < top.key
        {
            *top = Keyed { key, item: make() };
        }
    }

    /// Offers an item with a key drawn from `rng`.
    pub fn offer(&mut self, rng: &mut impl rand_chacha::rand_core::Rng, item: T) {
        let key = rng.next_u64();
        self.offer_with(key, || item);
    }

    /// Adds another reservoir of a disjoint stream: the result is the sample of both streams.
    pub fn merge(&mut self, other: Reservoir<T>) {
        let seen = self.seen + other.seen;
        for keyed in other.heap {
            self.offer_with(keyed.key, || keyed.item);
        }
        self.seen = seen;
    }

    /// The sample in ascending key order: a random order, so every prefix is a uniform sample.
    pub fn into_sorted(self) -> Vec<T> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|k| k.item)
            .collect()
    }
}

/// Splits a sample of `total` items over strata of the given sizes in proportion to their size
/// (largest remainder), never giving a stratum more than it has; what a small stratum cannot
/// take goes to the others. When `total` is at least the sum of the sizes, every stratum is
/// taken whole.
pub fn allocate(sizes: &[u64], total: u64) -> Vec<u64> {
    let population: u64 = sizes.iter().sum();
    if total >= population {
        return sizes.to_vec();
    }
    let mut take = vec![0u64; sizes.len()];
    let mut left = total;
    // Each round gives the remaining quota to the strata not yet full; a stratum that is filled
    // drops out, so at most `sizes.len()` rounds.
    while left > 0 {
        let open: Vec<usize> = (0..sizes.len()).filter(|&i| take[i] < sizes[i]).collect();
        let room: u64 = open.iter().map(|&i| sizes[i] - take[i]).sum();
        if open.is_empty() || room == 0 {
            break;
        }
        let quota = left.min(room);
        let mut given = 0;
        let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(open.len());
        for &i in &open {
            let exact = u128::from(quota) * u128::from(sizes[i] - take[i]);
            let whole = (exact / u128::from(room)) as u64;
            take[i] += whole;
            given += whole;
            remainders.push((exact % u128::from(room), i));
        }
        // Largest remainder first; ties to the earlier stratum, for determinism.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in remainders.iter().take((quota - given) as usize) {
            take[i] += 1;
            given += 1;
        }
        left -= given;
    }
    take
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med.
    /// 17:857–872, Table II, method 3 (score interval without continuity correction).
    #[test]
    fn wilson_matches_newcombe_table() {
        let table = [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ];
        for (x, n, low, high) in table {
            let (l, h) = wilson(x, n, Z95);
            assert!((l - low).abs() < 5e-5, "{x}/{n}: low {l} vs {low}");
            assert!((h - high).abs() < 5e-5, "{x}/{n}: high {h} vs {high}");
        }
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        assert_eq!(wilson(10, 10, Z95).1, 1.0);
    }

    #[test]
    fn allocation_known_values() {
        let table: [(&[u64], u64, &[u64]); 6] = [
            (&[600, 300, 100], 100, &[60, 30, 10]),
            (&[1, 1, 1], 2, &[1, 1, 0]),
            (&[10, 5000, 5000], 4000, &[4, 1998, 1998]),
            (&[2, 98], 50, &[1, 49]),
            (&[3, 4], 100, &[3, 4]),
            (&[333, 333, 334], 10, &[3, 3, 4]),
        ];
        for (sizes, total, expected) in table {
            assert_eq!(allocate(sizes, total), expected, "{sizes:?} {total}");
        }
    }

    #[test]
    fn sampling_is_reproducible_with_a_seed() {
        let sample = |seed| {
            let mut rng = rng(seed, 0);
            let mut r = Reservoir::new(5);
            for i in 0..1000 {
                r.offer(&mut rng, i);
            }
            r.into_sorted()
        };
        assert_eq!(sample(7), sample(7));
        assert_ne!(sample(7), sample(8));
        insta::assert_debug_snapshot!(sample(42), @r"
        [
            733,
            570,
            786,
            415,
            935,
        ]
        ");
    }

    proptest! {
        #[test]
        fn interval_contains_the_estimate(n in 0u64..5000, x in 0u64..5000) {
            let x = x.min(n);
            let p = Proportion::new(x, n);
            prop_assert!(0.0 <= p.low && p.low <= p.value + 1e-12);
            prop_assert!(p.value <= p.high + 1e-12 && p.high <= 1.0);
        }

        #[test]
        fn reservoir_size_and_merge(n in 0usize..300, m in 0usize..300, k in 0usize..50, seed: u64) {
            let mut a = Reservoir::new(k);
            let mut b = Reservoir::new(k);
            let mut whole = Reservoir::new(k);
            let (mut ra, mut rb) = (rng(seed, 0), rng(seed, 1));
            for i in 0..n {
                let key = ra.next_u64();
                a.offer_with(key, || i);
                whole.offer_with(key, || i);
            }
            for i in n..n + m {
                let key = rb.next_u64();
                b.offer_with(key, || i);
                whole.offer_with(key, || i);
            }
            prop_assert_eq!(a.len(), k.min(n));
            a.merge(b);
            prop_assert_eq!(a.seen(), (n + m) as u64);
            prop_assert_eq!(a.into_sorted(), whole.into_sorted());
        }

        #[test]
        fn allocation_sums_and_caps(sizes in proptest::collection::vec(0u64..1000, 1..8), total in 0u64..5000) {
            let take = allocate(&sizes, total);
            let population: u64 = sizes.iter().sum();
            prop_assert_eq!(take.iter().sum::<u64>(), total.min(population));
            for (t, s) in take.iter().zip(&sizes) {
                prop_assert!(t <= s);
            }
        }
    }

    /// Bottom-k by [`key`] over lines 1..=50 (k = 10, 4,000 seeds): every line is kept about
    /// 800 times (sd ≈ 25); 12 % (≈ 3.8 sd) is the tolerance.
    #[test]
    fn keys_are_uniform_and_order_free() {
        let (n, k, runs) = (50u64, 10usize, 4000u64);
        let mut kept = vec![0u32; n as usize];
        for seed in 0..runs {
            let mut r = Reservoir::new(k);
            for line in (1..=n).rev() {
                r.offer_with(key(seed, 0, line), || line);
            }
            for line in r.into_sorted() {
                kept[(line - 1) as usize] += 1;
            }
        }
        let expected = (runs as f64) * k as f64 / n as f64;
        for (i, c) in kept.iter().enumerate() {
            let dev = (f64::from(*c) - expected).abs() / expected;
            assert!(
                dev < 0.12,
                "line {} kept {c} times, expected {expected}",
                i + 1
            );
        }
        assert_ne!(key(1, 0, 5), key(1, 1, 5));
        assert_ne!(key(1, 0, 5), key(2, 0, 5));
    }

    /// Every item is kept with probability k/n: over 4,000 seeds each of 20 items is kept about
    /// 1,000 times (k = 5); 6 standard deviations (about 165) is the tolerance.
    #[test]
    fn inclusion_is_uniform() {
        let (n, k, runs) = (20usize, 5usize, 4000u64);
        let mut counts = vec![0u64; n];
        for seed in 0..runs {
            let mut rng = rng(seed, 3);
            let mut r = Reservoir::new(k);
            for i in 0..n {
                r.offer(&mut rng, i);
            }
            for i in r.into_sorted() {
                counts[i] += 1;
            }
        }
        let expected = runs as f64 * k as f64 / n as f64;
        let sd = (runs as f64 * 0.25 * 0.75).sqrt();
        for (i, c) in counts.iter().enumerate() {
            assert!(
                (*c as f64 - expected).abs() < 6.0 * sd,
                "item {i}: {c} vs {expected}"
            );
        }
    }
}
