//! SM3 (GB/T 32905-2016) over many independent messages at once.
//!
//! The audit ledger hashes every record several times (its leaf, its chain link, its stored
//! request and response texts), and verification does it for every record in the database.
//! SM3 is a 32-bit, strictly sequential design: one message runs at 200–350 MB/s on the
//! project's machines whatever the implementation, and that capped verification well below
//! its target. But the messages are independent of each other, so this crate hashes 16 of them
//! side by side in the lanes of an AVX-512 register (8 in AVX2), each lane a whole SM3
//! computation on its own message (the "multi-buffer" technique). A lane that finishes its
//! message takes the next one, so messages of different lengths keep every lane busy.
//!
//! - [`digest`] hashes one message with the RustCrypto `sm3` crate (the reference here).
//! - [`digest_many`] hashes a batch with the widest lanes the CPU has, chosen at run time
//!   ([`Engine::detect`]); on a CPU with neither AVX-512 nor AVX2 it uses [`digest`] per message.
//!   `HEGUI_SM3_ENGINE=avx2` (or `scalar`) makes it use narrower lanes, to measure what a CPU
//!   without the wider ones would do ([`Engine::chosen`]).
//!
//! The lane code is checked against the `sm3` crate by property tests over random batches
//! (lengths around every padding boundary) for each engine the CPU can run, and by the
//! standard's test vectors. Only the lane code uses `unsafe`, for the SIMD loads and stores
//! and for calling functions compiled for a CPU feature after checking that the CPU has it.

use sm3::Digest as _;

#[cfg(target_arch = "x86_64")]
mod lanes;
#[cfg(target_arch = "x86_64")]
mod x86;

/// The SM3 digest of one message.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(bytes).into()
}

/// How [`digest_many`] computes: which lanes the CPU offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// One message at a time ([`digest`]).
    Scalar,
    /// Eight messages at a time in 256-bit AVX2 registers.
    Avx2,
    /// Sixteen messages at a time in 512-bit AVX-512 registers (with native rotates and
    /// three-input logic; needs AVX-512F and AVX-512BW).
    Avx512,
}

impl Engine {
    /// The widest engine this CPU runs.
    pub fn detect() -> Engine {
        [Engine::Avx512, Engine::Avx2]
            .into_iter()
            .find(|e| e.runs_here())
            .unwrap_or(Engine::Scalar)
    }

    /// Every engine this CPU runs, narrowest first (tests compare them all).
    pub fn available() -> Vec<Engine> {
        [Engine::Scalar, Engine::Avx2, Engine::Avx512]
            .into_iter()
            .filter(|e| e.runs_here())
            .collect()
    }

    /// Whether this CPU has the instructions the engine needs (a cached check, cheap enough for
    /// every call).
    pub fn runs_here(self) -> bool {
        match self {
            Engine::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Engine::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// A short name (`scalar`, `avx2`, `avx512`), for reports and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Scalar => "scalar",
            Engine::Avx2 => "avx2",
            Engine::Avx512 => "avx512",
        }
    }

    /// Hashes every message of `messages` into the same position of `out`.
    ///
    /// # Panics
    ///
    /// If `out` and `messages` differ in length, or if this CPU cannot run the engine (use
    /// [`Engine::detect`] or [`Engine::available`]).
    pub fn digest_many(self, messages: &[&[u8]], out: &mut [[u8; 32]]) {
        assert_eq!(
            messages.len(),
            out.len(),
            "one output slot per message is needed"
        );
        assert!(
            self.runs_here(),
            "this CPU cannot run the {} engine",
            self.name()
        );
        match self {
            Engine::Scalar => {
                for (message, out) in messages.iter().zip(out.iter_mut()) {
                    *out = digest(message);
                }
            }
            #[cfg(target_arch = "x86_64")]
            Engine::Avx2 => x86::digest_many_avx2(messages, out),
            #[cfg(target_arch = "x86_64")]
            Engine::Avx512 => x86::digest_many_avx512(messages, out),
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only x86_64 has SIMD engines here"),
        }
    }
}

impl Engine {
    /// The engine [`digest_many`] uses: [`Engine::detect`], unless the environment variable
    /// `HEGUI_SM3_ENGINE` names a narrower one this CPU runs (`scalar`, `avx2`, `avx512`), for
    /// measuring how a machine without the wider lanes would do. Read once per process.
    pub fn chosen() -> Engine {
        static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
        *ENGINE.get_or_init(|| {
            let wanted = std::env::var("HEGUI_SM3_ENGINE").ok();
            Engine::available()
                .into_iter()
                .find(|e| wanted.as_deref() == Some(e.name()))
                .unwrap_or_else(Engine::detect)
        })
    }
}

/// Hashes every message of `messages` into the same position of `out`, with the widest lanes
/// this CPU has ([`Engine::chosen`]).
///
/// # Panics
///
/// If `out` and `messages` differ in length.
pub fn digest_many(messages: &[&[u8]], out: &mut [[u8; 32]]) {
    // Below a few messages the lanes would mostly idle.
    let engine = if messages.len() < 4 {
        Engine::Scalar
    } else {
        Engine::chosen()
    };
    engine.digest_many(messages, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// GB/T 32905-2016 Appendix A.
    const VECTORS: [(&[u8], &str); 2] = [
        (
            b"abc",
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        ),
        (
            b"abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd",
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
        ),
    ];

    fn check_all(messages: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let want: Vec<[u8; 32]> = refs.iter().map(|m| digest(m)).collect();
        for engine in Engine::available() {
            let mut got = vec![[0u8; 32]; refs.len()];
            engine.digest_many(&refs, &mut got);
            for (i, (got, want)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    hex::encode(got),
                    hex::encode(want),
                    "{} engine, message {i} of {} ({} bytes)",
                    engine.name(),
                    refs.len(),
                    refs[i].len()
                );
            }
        }
    }

    #[test]
    fn standard_vectors_on_every_engine() {
        for (message, want) in VECTORS {
            assert_eq!(hex::encode(digest(message)), want);
            // Alone, and among other messages in every lane position.
            for count in [1, 7, 8, 9, 16, 17, 33] {
                for position in [0, count / 2, count - 1] {
                    let mut batch = vec![b"filler".to_vec(); count];
                    batch[position] = message.to_vec();
                    check_all(&batch);
                    let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
                    let mut out = vec![[0u8; 32]; count];
                    digest_many(&refs, &mut out);
                    assert_eq!(hex::encode(out[position]), want);
                }
            }
        }
    }

    #[test]
    fn every_length_around_the_padding_boundaries() {
        // 0..=200 covers one, two, three and four blocks and both tail cases (< 56 and ≥ 56
        // bytes left), in one batch so that lanes start and end messages at different blocks.
        let messages: Vec<Vec<u8>> = (0..=200u8)
            .map(|n| (0..n).map(|i| i.wrapping_mul(31) ^ n).collect())
            .collect();
        check_all(&messages);
        check_all(&messages.iter().rev().cloned().collect::<Vec<_>>());
    }

    #[test]
    fn an_empty_batch_is_fine() {
        for engine in Engine::available() {
            engine.digest_many(&[], &mut []);
        }
    }

    proptest! {
        #[test]
        fn lanes_agree_with_the_reference(
            messages in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..400), 0..70)
        ) {
            check_all(&messages);
        }
    }
}
