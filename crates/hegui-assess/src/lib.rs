//! `hegui-assess`: the security self-assessment toolkit behind `hegui corpus`, `hegui annotate`,
//! `hegui eval`, `hegui lexicon eval` and `hegui filing`.
//!
//! Before a public generative-AI service with public-opinion attributes launches, its provider
//! files it (大模型备案) with a security self-assessment against TC260-003 / GB/T 45654-2025
//! (`shared/reference/regulation.md` §(c), §e.7). This crate measures each figure that assessment
//! asks for and writes the documents from the measurements, so that every figure in the dossier
//! traces back to a result file (named by path and SM3 digest):
//!
//! - [`stats`]: proportions with 95 % Wilson intervals, seeded mergeable reservoir sampling,
//!   stratified allocation;
//! - [`thresholds`]: the cited figures, each with its source and confidence mark;
//! - [`input`]: streamed JSONL / CSV / TSV / text records with `file:line` errors;
//! - [`corpus`]: source registry check and corpus audit (sample, scan, per-source shares);
//! - [`annotate`]: annotation QA against a reviewer sample;
//! - [`eval`]: test banks, their coverage, the runner against an OpenAI-compatible endpoint,
//!   judging, metrics;
//! - [`lexicon_eval`]: precision / recall / F1 of a lexicon against labelled data;
//! - [`filing`]: the self-assessment report and filing materials;
//! - [`doc`]: the document model every report renders through (table, Markdown, HTML, DOCX).
//!
//! ```
//! use hegui_assess::stats::Proportion;
//! let pass = Proportion::new(3884, 4000);
//! assert!(hegui_assess::thresholds::CORPUS_PASS_MIN.met_by(pass.value));
//! assert!(pass.low > 0.96 && pass.high < 0.98);
//! ```
//!
//! Not for: deciding what is illegal. The lexicon scan is a screen; the manual check the
//! standards ask for is done by people on the sample this crate draws. No cargo features.

pub mod annotate;
pub mod corpus;
pub mod doc;
pub mod eval;
pub mod filing;
pub mod input;
pub mod lexicon_eval;
pub mod stats;
pub mod thresholds;
