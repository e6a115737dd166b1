//! `hegui-lexicon`: the feature library (特征库) that screens model input and output.
//!
//! A [`Lexicon`] (a directory with `lexicon.toml` and TSV files, or the bundled
//! [`Lexicon::sample`]) is built into a [`Matcher`]: every pattern is normalized by the same
//! function as the text ([`NormalizeOptions`]: NFKC and width folding, case folding,
//! traditional→simplified, digit variants, skip characters with a capped gap, repeated
//! characters), and all patterns go into one charwise double-array Aho-Corasick automaton
//! (daachorse). Every [`Hit`] carries its byte span in the **original** text, the rule (pattern,
//! Appendix A risk code, [`Level`], note) and, for PII, a masked value.
//!
//! - [`Matcher::find_all`]: one-shot scan. [`Verdict::of`] turns hits into block / review /
//!   flag / clean.
//! - [`Scanner`]: streaming scan for model output, with bounded hold-back
//!   ([`Matcher::holdback_bound`]); a word split across chunks is found as in the whole text.
//! - `a&b` combinations fire when every part lies in one sentence ([`is_sentence_end`]) and
//!   within a window of normalized characters ([`ComboWindow`], `[combinations] window` in
//!   `lexicon.toml`, default 20).
//! - [`SharedMatcher`]: an atomically swappable handle for hot reload.
//! - [`Matcher::to_bytes`] / [`Matcher::from_bytes`]: the compiled form.
//! - [`taxonomy`]: the 31 risks of Appendix A (TC260-003 / GB/T 45654-2025).
//! - [`Lexicon::check`]: coverage against the TC260 minimums, duplicates, dead patterns.
//!
//! Not for: semantic classification (use a classifier model beside it), or regular
//! expressions (patterns are literals and `a&b` combinations).
//!
//! ```
//! use std::sync::Arc;
//! use hegui_lexicon::{Lexicon, Matcher, Scanner, Verdict};
//!
//! let matcher = Arc::new(Matcher::build(&Lexicon::sample())?);
//!
//! // One shot: evasion by zero-width characters, full-width and traditional forms is caught,
//! // and the span points into the original text.
//! let text = "加我微信，網上賭\u{200b}博，稳赚";
//! let hits = matcher.find_all(text);
//! assert_eq!(hits[0].text(text), "賭\u{200b}博");
//! assert_eq!(hits[0].rule.risk, "A.1.h");
//! assert_eq!(Verdict::of(&hits), Verdict::Block);
//!
//! // PII is masked in reports.
//! let hits = matcher.find_all("我的手机13812345678");
//! assert_eq!(hits[0].pii.as_ref().unwrap().masked, "138****5678");
//!
//! // Streaming: text is released only once no pattern can complete over it.
//! let mut scanner = Scanner::new(matcher.clone());
//! let first = scanner.push("正在出售冰");
//! assert!(first.hits.is_empty());
//! assert!(!first.released.contains('冰')); // "冰毒" may still complete
//! let second = scanner.push("毒的人");
//! assert_eq!(second.hits[0].rule.pattern, "冰毒");
//! assert!(!second.released.contains('冰')); // the hit's text is reported before it is released
//! let last = scanner.finish();
//! assert_eq!(last.released_at + last.released.len(), "正在出售冰毒的人".len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Design notes: `DESIGN.md` in this crate. No cargo features.

mod check;
mod combo;
mod compiled;
mod lexicon;
mod matcher;
mod normalize;
pub mod pii;
mod reload;
mod stream;
pub mod taxonomy;
mod variants;
mod verdict;

pub use check::{CheckReport, Finding, RiskCoverage};
pub use combo::{ComboOptions, ComboWindow, ComboWindowError, is_sentence_end};
pub use compiled::CompiledError;
pub use lexicon::{
    AllowPhrase, Entry, Level, Lexicon, LoadError, MAX_COMBO_PARTS, Manifest, PiiOptions, Source,
};
pub use matcher::{BuildError, Hit, HoldbackBound, Matcher, MatcherStats, Rule};
pub use normalize::{NormalizeOptions, Normalized};
pub use pii::{PiiKind, PiiMatch};
pub use reload::{ReloadError, SharedMatcher};
pub use stream::{Scanner, Step};
pub use variants::VariantOptions;
pub use verdict::Verdict;
