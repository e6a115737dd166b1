//! The SM3 compression function on 16 (AVX-512) or 8 (AVX2) lanes at once.
//!
//! One macro, [`compress_body`], holds the compression function (GB/T 32905-2016 §5.3) written
//! against a handful of lane operations (`add`, `xor`, `xor3`, `maj`, `ch`, `rol`, `splat`);
//! each ISA module defines those operations with its intrinsics and expands the macro inside a
//! function compiled for that ISA. So the algorithm is written once and each engine gets
//! straight-line vector code. AVX-512 has a rotate (`vprold`) and three-input logic
//! (`vpternlogd`); AVX2 builds both from shifts and two-input logic.
//!
//! The message words reach the lanes by loading each lane's block as a vector, byte-swapping
//! it to big-endian words, and transposing the block matrix in registers (a 16×16 matrix of
//! 32-bit words for AVX-512, two 8×8 ones for AVX2), instead of 256 scalar loads and stores per
//! step.

#![allow(unsafe_code)]

use crate::lanes::schedule;

/// The compression function over lanes; expects the lane operations in scope, `load` /
/// `store` between `[u32; L]` and a vector, and `words` turning one block per lane into the 16
/// message words, each a vector across the lanes.
macro_rules! compress_body {
    ($state:ident, $blocks:ident) => {{
        let p0 = |x| xor3(x, rol::<9, 23>(x), rol::<17, 15>(x));
        let p1 = |x| xor3(x, rol::<15, 17>(x), rol::<23, 9>(x));
        // Message expansion (§5.3.2): W0..W67; W'j = Wj ^ Wj+4 is formed in the rounds.
        let mut w = [splat(0); 68];
        w[..16].copy_from_slice(&words($blocks));
        for j in 16..68 {
            let x = xor3(w[j - 16], w[j - 9], rol::<15, 17>(w[j - 3]));
            w[j] = xor3(p1(x), rol::<7, 25>(w[j - 13]), w[j - 6]);
        }
        let v: [_; 8] = std::array::from_fn(|i| load(&$state[i]));
        // One round (§5.3.3) given FF(A,B,C) and GG(E,F,G), which differ before and after
        // round 16.
        let round = |[a, b, c, d, e, f, g, h]: [_; 8], j: usize, ff, gg| {
            let a12 = rol::<12, 20>(a);
            let ss1 = rol::<7, 25>(add(add(a12, e), splat(T[j])));
            let ss2 = xor(ss1, a12);
            let tt1 = add(add(ff, d), add(ss2, xor(w[j], w[j + 4])));
            let tt2 = add(add(gg, h), add(ss1, w[j]));
            [tt1, a, rol::<9, 23>(b), c, p0(tt2), e, rol::<19, 13>(f), g]
        };
        let mut s = v;
        for j in 0..16 {
            let [a, b, c, _, e, f, g, _] = s;
            s = round(s, j, xor3(a, b, c), xor3(e, f, g));
        }
        for j in 16..64 {
            let [a, b, c, _, e, f, g, _] = s;
            s = round(s, j, maj(a, b, c), ch(e, f, g));
        }
        for (i, x) in s.into_iter().enumerate() {
            store(&mut $state[i], xor(x, v[i]));
        }
    }};
}

mod avx512 {
    use std::arch::x86_64::*;

    use crate::lanes::{State, T};

    #[target_feature(enable = "avx512f")]
    fn load(words: &[u32; 16]) -> __m512i {
        // SAFETY: `words` is 64 readable bytes; `loadu` needs no alignment.
        unsafe { _mm512_loadu_si512(words.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx512f")]
    fn store(words: &mut [u32; 16], x: __m512i) {
        // SAFETY: `words` is 64 writable bytes; `storeu` needs no alignment.
        unsafe { _mm512_storeu_si512(words.as_mut_ptr().cast(), x) }
    }

    #[target_feature(enable = "avx512f")]
    fn splat(x: u32) -> __m512i {
        _mm512_set1_epi32(x as i32)
    }

    #[target_feature(enable = "avx512f")]
    fn add(a: __m512i, b: __m512i) -> __m512i {
        _mm512_add_epi32(a, b)
    }

    #[target_feature(enable = "avx512f")]
    fn xor(a: __m512i, b: __m512i) -> __m512i {
        _mm512_xor_si512(a, b)
    }

    #[target_feature(enable = "avx512f")]
    fn xor3(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0x96>(a, b, c)
    }

    /// `(a & b) | (a & c) | (b & c)`.
    #[target_feature(enable = "avx512f")]
    fn maj(a: __m512i, b: __m512i, c: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0xE8>(a, b, c)
    }

    /// `(e & f) | (!e & g)`.
    #[target_feature(enable = "avx512f")]
    fn ch(e: __m512i, f: __m512i, g: __m512i) -> __m512i {
        _mm512_ternarylogic_epi32::<0xCA>(e, f, g)
    }

    /// Rotate left by `L` (`R` = 32 − `L` is for the AVX2 spelling).
    #[target_feature(enable = "avx512f")]
    fn rol<const L: i32, const R: i32>(x: __m512i) -> __m512i {
        _mm512_rol_epi32::<L>(x)
    }

    /// The 16 message words of 16 blocks, word `i` of every block in vector `i`: each block is
    /// loaded as one vector, byte-swapped to big-endian words, and the 16×16 matrix transposed
    /// in registers (32- and 64-bit interleaves within 128-bit chunks, then two rounds of
    /// 128-bit chunk shuffles).
    #[target_feature(enable = "avx512f,avx512bw")]
    fn words(blocks: &[&[u8; 64]; 16]) -> [__m512i; 16] {
        let swap = _mm512_set_epi64(
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
        );
        let r: [__m512i; 16] = std::array::from_fn(|l| {
            // SAFETY: each block is 64 readable bytes; `loadu` needs no alignment.
            let row = unsafe { _mm512_loadu_si512(blocks[l].as_ptr().cast()) };
            _mm512_shuffle_epi8(row, swap)
        });
        // t[2k], t[2k+1]: rows 2k and 2k+1 interleaved by 32 bits.
        let t: [__m512i; 16] = std::array::from_fn(|i| {
            let (a, b) = (r[i & !1], r[i | 1]);
            if i % 2 == 0 {
                _mm512_unpacklo_epi32(a, b)
            } else {
                _mm512_unpackhi_epi32(a, b)
            }
        });
        // u[4k+m], chunk j: column 4j+m of rows 4k..4k+3.
        let u: [__m512i; 16] = std::array::from_fn(|i| {
            let base = i & !3;
            let (a, b) = match i % 4 {
                0 | 1 => (t[base], t[base + 2]),
                _ => (t[base + 1], t[base + 3]),
            };
            if i % 2 == 0 {
                _mm512_unpacklo_epi64(a, b)
            } else {
                _mm512_unpackhi_epi64(a, b)
            }
        });
        // Word 4j+m = chunk j of u[m], u[4+m], u[8+m], u[12+m].
        std::array::from_fn(|word| {
            let (j, m) = (word / 4, word % 4);
            let pair = |k: usize| {
                if j < 2 {
                    _mm512_shuffle_i32x4::<0x44>(u[k + m], u[k + 4 + m])
                } else {
                    _mm512_shuffle_i32x4::<0xEE>(u[k + m], u[k + 4 + m])
                }
            };
            let (x, y) = (pair(0), pair(8));
            if j % 2 == 0 {
                _mm512_shuffle_i32x4::<0x88>(x, y)
            } else {
                _mm512_shuffle_i32x4::<0xDD>(x, y)
            }
        })
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn compress(state: &mut State<16>, blocks: &[&[u8; 64]; 16]) {
        compress_body!(state, blocks);
    }
}

mod avx2 {
    use std::arch::x86_64::*;

    use crate::lanes::{State, T};

    #[target_feature(enable = "avx2")]
    fn load(words: &[u32; 8]) -> __m256i {
        // SAFETY: `words` is 32 readable bytes; `loadu` needs no alignment.
        unsafe { _mm256_loadu_si256(words.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx2")]
    fn store(words: &mut [u32; 8], x: __m256i) {
        // SAFETY: `words` is 32 writable bytes; `storeu` needs no alignment.
        unsafe { _mm256_storeu_si256(words.as_mut_ptr().cast(), x) }
    }

    #[target_feature(enable = "avx2")]
    fn splat(x: u32) -> __m256i {
        _mm256_set1_epi32(x as i32)
    }

    #[target_feature(enable = "avx2")]
    fn add(a: __m256i, b: __m256i) -> __m256i {
        _mm256_add_epi32(a, b)
    }

    #[target_feature(enable = "avx2")]
    fn xor(a: __m256i, b: __m256i) -> __m256i {
        _mm256_xor_si256(a, b)
    }

    #[target_feature(enable = "avx2")]
    fn xor3(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        xor(xor(a, b), c)
    }

    /// `(a & b) | (c & (a | b))`, the majority.
    #[target_feature(enable = "avx2")]
    fn maj(a: __m256i, b: __m256i, c: __m256i) -> __m256i {
        _mm256_or_si256(
            _mm256_and_si256(a, b),
            _mm256_and_si256(c, _mm256_or_si256(a, b)),
        )
    }

    /// `((f ^ g) & e) ^ g`, which is `(e & f) | (!e & g)`.
    #[target_feature(enable = "avx2")]
    fn ch(e: __m256i, f: __m256i, g: __m256i) -> __m256i {
        xor(_mm256_and_si256(xor(f, g), e), g)
    }

    /// Rotate left by `L`; `R` must be 32 − `L`.
    #[target_feature(enable = "avx2")]
    fn rol<const L: i32, const R: i32>(x: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi32::<L>(x), _mm256_srli_epi32::<R>(x))
    }

    /// The 16 message words of 8 blocks, word `i` of every block in vector `i`: each half
    /// block is loaded as one vector, byte-swapped, and each 8×8 matrix transposed in registers.
    #[target_feature(enable = "avx2")]
    fn words(blocks: &[&[u8; 64]; 8]) -> [__m256i; 16] {
        let swap = _mm256_set_epi64x(
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
            0x0c0d_0e0f_0809_0a0b,
            0x0405_0607_0001_0203,
        );
        let mut out = [_mm256_setzero_si256(); 16];
        for half in 0..2 {
            let r: [__m256i; 8] = std::array::from_fn(|l| {
                // SAFETY: each block is 64 readable bytes, so `half * 32 .. half * 32 + 32` is
                // in bounds; `loadu` needs no alignment.
                let row = unsafe { _mm256_loadu_si256(blocks[l][half * 32..].as_ptr().cast()) };
                _mm256_shuffle_epi8(row, swap)
            });
            let t: [__m256i; 8] = std::array::from_fn(|i| {
                let (a, b) = (r[i & !1], r[i | 1]);
                if i % 2 == 0 {
                    _mm256_unpacklo_epi32(a, b)
                } else {
                    _mm256_unpackhi_epi32(a, b)
                }
            });
            // u[4k+m], 128-bit half j: column 4j+m of rows 4k..4k+3.
            let u: [__m256i; 8] = std::array::from_fn(|i| {
                let base = i & !3;
                let (a, b) = match i % 4 {
                    0 | 1 => (t[base], t[base + 2]),
                    _ => (t[base + 1], t[base + 3]),
                };
                if i % 2 == 0 {
                    _mm256_unpacklo_epi64(a, b)
                } else {
                    _mm256_unpackhi_epi64(a, b)
                }
            });
            for m in 0..4 {
                out[half * 8 + m] = _mm256_permute2x128_si256::<0x20>(u[m], u[4 + m]);
                out[half * 8 + 4 + m] = _mm256_permute2x128_si256::<0x31>(u[m], u[4 + m]);
            }
        }
        out
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn compress(state: &mut State<8>, blocks: &[&[u8; 64]; 8]) {
        compress_body!(state, blocks);
    }
}

pub(crate) fn digest_many_avx512(messages: &[&[u8]], out: &mut [[u8; 32]]) {
    assert!(crate::Engine::Avx512.runs_here());
    // SAFETY: the CPU has AVX-512F and AVX-512BW, checked just above.
    unsafe { schedule::<16>(avx512::compress, messages, out) }
}

pub(crate) fn digest_many_avx2(messages: &[&[u8]], out: &mut [[u8; 32]]) {
    assert!(crate::Engine::Avx2.runs_here());
    // SAFETY: the CPU has AVX2, checked just above.
    unsafe { schedule::<8>(avx2::compress, messages, out) }
}
