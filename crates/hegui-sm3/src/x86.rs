//! The SM3 compression function on 16 (AVX-512) or 8 (AVX2) lanes at once.
//!
//! One macro, [`compress_body`], holds the compression function (GB/T 32905-2016 §5.3) written
//! against a handful of lane operations (`add`, `xor`, `xor3`, `maj`, `ch`, `rol`, `splat`);
//! each ISA module defines those operations with its intrinsics and expands the macro inside a
//! function compiled for that ISA. So the algorithm is written once and each engine gets
//! straight-line vector code. AVX-512 has a rotate (`vprold`) and three-input logic
//! (`vpternlogd`); AVX2 builds both from shifts and two-input logic.

#![allow(unsafe_code)]

use crate::lanes::schedule;

/// The compression function over lanes; expects the lane operations in scope, and `load` /
/// `store` between `[u32; L]` and a vector.
macro_rules! compress_body {
    ($state:ident, $words:ident) => {{
        let p0 = |x| xor3(x, rol::<9, 23>(x), rol::<17, 15>(x));
        let p1 = |x| xor3(x, rol::<15, 17>(x), rol::<23, 9>(x));
        // Message expansion (§5.3.2): W0..W67; W'j = Wj ^ Wj+4 is formed in the rounds.
        let mut w = [splat(0); 68];
        for (w, words) in w.iter_mut().zip($words.iter()) {
            *w = load(words);
        }
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

    use crate::lanes::{State, T, Words};

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

    #[target_feature(enable = "avx512f")]
    pub(super) fn compress(state: &mut State<16>, words: &Words<16>) {
        compress_body!(state, words);
    }
}

mod avx2 {
    use std::arch::x86_64::*;

    use crate::lanes::{State, T, Words};

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

    #[target_feature(enable = "avx2")]
    pub(super) fn compress(state: &mut State<8>, words: &Words<8>) {
        compress_body!(state, words);
    }
}

pub(crate) fn digest_many_avx512(messages: &[&[u8]], out: &mut [[u8; 32]]) {
    assert!(std::arch::is_x86_feature_detected!("avx512f"));
    // SAFETY: the CPU has AVX-512F, checked just above.
    unsafe { schedule::<16>(avx512::compress, messages, out) }
}

pub(crate) fn digest_many_avx2(messages: &[&[u8]], out: &mut [[u8; 32]]) {
    assert!(std::arch::is_x86_feature_detected!("avx2"));
    // SAFETY: the CPU has AVX2, checked just above.
    unsafe { schedule::<8>(avx2::compress, messages, out) }
}
