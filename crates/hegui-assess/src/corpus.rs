//! Corpus audit (`hegui corpus audit`): the training-data checks of TC260-003 / GB/T 45654 and
//! Interim Measures art. 7 and art. 19 (data sources, scale, types).
//!
//! 1. The **source registry** (`sources.toml`, [`Registry`]): every source with its kind, licence
//!    or contract, collection record, legal basis and consent for personal information, and
//!    language; missing items are findings.
//! 2. The **stream** ([`stream`]): every input file is read once (a big JSONL file by several
//!    threads, CSV and Parquet files several at once; constant memory), each record is counted
//!    against its source and offered to that source's seeded reservoir.
//! 3. The **sample**: per source up to `sample_per_source` items (TC260: ≥ 4,000 checked, ◐), scanned
//!    with the lexicon and PII detectors; per-source illegal share with a 95 % Wilson interval
//!    against the 5 % exclusion figure; and a corpus-wide stratified sample of `sample_total`
//!    items (proportional to source sizes) against the ≥ 96 % acceptable figure.
//!
//! The scan is a screen: an item with a `block` hit counts as illegal/harmful, `review` hits are
//! listed for people. The manual check the standard asks for is done by people on the sample
//! this writes out (`offending` plus the sample plan); the figures say what the screen found.
//! With `scan_all` every record is scanned too (slower; the counts then cover the whole corpus).

use std::path::{Path, PathBuf};

use hegui_lexicon::{Level, Matcher};
use serde::{Deserialize, Serialize};

use crate::doc::{Doc, Report, yes_no};
use crate::input::{InputError, InputFile};
use crate::stats::{self, Proportion};
mod stream;

use crate::thresholds::{CORPUS_PASS_MIN, CORPUS_SAMPLE_MIN, Check, SOURCE_ILLEGAL_MAX, thousands};

/// The kind of a corpus source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// Open data under a licence.
    Open,
    /// Collected by the provider (crawled, produced).
    SelfCollected,
    /// Bought or licensed under a contract.
    Commercial,
    /// Users' inputs.
    UserInput,
}

/// One source in `sources.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Source {
    /// Name; records name their source with this (or through `files`).
    pub name: String,
    /// Kind.
    pub kind: SourceKind,
    /// Licence (open) or contract (commercial).
    #[serde(default)]
    pub licence: Option<String>,
    /// Where the collection is recorded (crawl logs, purchase records).
    #[serde(default)]
    pub collection_record: Option<String>,
    /// Whether the source contains personal information.
    #[serde(default)]
    pub personal_information: Option<bool>,
    /// Legal basis for the personal information (PIPL art. 13).
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// How consent was obtained, when consent is the basis.
    #[serde(default)]
    pub consent: Option<String>,
    /// Language(s), e.g. `zh`.
    #[serde(default)]
    pub language: Option<String>,
    /// Data files of this source (file names, as given on the command line or their last
    /// component), for records without a source field.
    #[serde(default)]
    pub files: Vec<String>,
}

/// `sources.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// The sources.
    #[serde(default)]
    pub source: Vec<Source>,
}

impl Registry {
    /// Parses `sources.toml`; errors name the file and line.
    ///
    /// # Errors
    ///
    /// Invalid TOML or an unknown field.
    pub fn parse(name: &str, text: &str) -> Result<Registry, InputError> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            InputError::invalid(name, line as u64, e.message().replace('\n', " "))
        })
    }

    /// Missing items per source: `(source, what is missing)`.
    pub fn findings(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.source {
            let mut missing = |what: &str| out.push((s.name.clone(), what.to_string()));
            if !seen.insert(s.name.as_str()) {
                missing("a second source of this name");
            }
            let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
            match s.kind {
                SourceKind::Open if blank(&s.licence) => missing("licence"),
                SourceKind::Commercial if blank(&s.licence) => missing("licence or contract"),
                SourceKind::SelfCollected | SourceKind::UserInput
                    if blank(&s.collection_record) =>
                {
                    missing("collection record");
                }
                _ => {}
            }
            let pi = s
                .personal_information
                .unwrap_or(s.kind == SourceKind::UserInput);
            if s.personal_information.is_none() {
                missing("personal-information (true or false)");
            }
            if pi && blank(&s.legal_basis) {
                missing("legal basis for personal information");
            }
            if pi
                && s.legal_basis
                    .as_deref()
                    .is_some_and(|b| b.contains("consent"))
                && blank(&s.consent)
            {
                missing("consent record");
            }
            if blank(&s.language) {
                missing("language");
            }
        }
        out
    }

    pub(crate) fn source_of_file(&self, path: &Path) -> Option<&str> {
        let given = path.display().to_string();
        let last = path.file_name().map(|n| n.to_string_lossy().into_owned());
        self.source
            .iter()
            .find(|s| {
                s.files
                    .iter()
                    .any(|f| *f == given || Some(f) == last.as_ref())
            })
            .map(|s| s.name.as_str())
    }
}

/// How to audit.
#[derive(Debug, Clone)]
pub struct Options {
    /// The field with the text (`text` for plain-text files).
    pub text_field: String,
    /// The field naming each record's source, if records carry one.
    pub source_field: Option<String>,
    /// Sample size per source.
    pub sample_per_source: usize,
    /// Size of the corpus-wide stratified sample.
    pub sample_total: usize,
    /// The seed of every random choice.
    pub seed: u64,
    /// Scan every record, not only the sample.
    pub scan_all: bool,
    /// Threads: parsing workers for each JSONL or text file, and CSV/Parquet files read at once.
    pub threads: usize,
    /// Offending items listed at most.
    pub max_listed: usize,
}

/// One hit in an offending item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Byte offsets in the record's text.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
    /// The text there (PII masked).
    pub text: String,
    /// Pattern.
    pub pattern: String,
    /// Risk code.
    pub risk: String,
    /// Level.
    pub level: String,
}

/// A sampled item with hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offending {
    /// `file:line`.
    pub at: String,
    /// Its source.
    pub source: String,
    /// The hits.
    pub spans: Vec<Span>,
}

/// Per-source figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceResult {
    /// Source name.
    pub name: String,
    /// Whether it is in the registry.
    pub registered: bool,
    /// Records.
    pub records: u64,
    /// Bytes of text.
    pub text_bytes: u64,
    /// Sample size.
    pub sampled: u64,
    /// Sampled items with a `block` hit (illegal/harmful by the screen).
    pub illegal: Proportion,
    /// Sampled items with a `review` hit and no `block` hit.
    pub review: u64,
    /// Sampled items with personal information.
    pub personal_information: Proportion,
    /// With `scan_all`: the whole source's block share.
    pub illegal_all: Option<Proportion>,
    /// Within the 5 % figure (point estimate).
    pub usable: bool,
    /// Whether the 95 % interval straddles the figure (a bigger sample would decide).
    pub uncertain: bool,
}

/// The result of `hegui corpus audit` (JSON shape `"schema": "hegui.corpus-audit/1"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusReport {
    /// Always `hegui.corpus-audit/1`.
    pub schema: String,
    /// Inputs, named by digest.
    pub inputs: Vec<InputFile>,
    /// The registry file, if any.
    pub registry: Option<InputFile>,
    /// Missing registry items: `[source, item]`.
    pub registry_findings: Vec<(String, String)>,
    /// The lexicon used for the scan.
    pub lexicon: String,
    /// The seed.
    pub seed: u64,
    /// Records in all.
    pub records: u64,
    /// Per source.
    pub sources: Vec<SourceResult>,
    /// Corpus-wide stratified sample: acceptable share.
    pub sample_pass: Proportion,
    /// Checks against the cited figures.
    pub checks: Vec<Check>,
    /// Offending sampled items (at most `max_listed`).
    pub offending: Vec<Offending>,
    /// Offending items not listed.
    pub offending_not_listed: u64,
}

impl CorpusReport {
    /// Whether every check is met, every source is usable and the registry is complete.
    pub fn passes(&self) -> bool {
        self.checks.iter().all(|c| c.met)
            && self.sources.iter().all(|s| s.usable && s.registered)
            && self.registry_findings.is_empty()
    }
}

/// Audits `paths`.
///
/// # Errors
///
/// An unreadable file or a malformed record (the first one, by file and line).
pub fn audit(
    paths: &[PathBuf],
    registry: Option<(&Path, &Registry)>,
    matcher: &Matcher,
    options: &Options,
    on_bytes: &(dyn Fn(u64) + Sync),
) -> Result<CorpusReport, InputError> {
    let (tallies, inputs) =
        stream::read_all(paths, registry.map(|(_, r)| r), matcher, options, on_bytes)?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let registered =
        |name: &str| registry.is_some_and(|(_, r)| r.source.iter().any(|s| s.name == name));
    // Scan each source's sample; keep the sample (in random order) for the stratified cut.
    let mut sources = Vec::new();
    let mut offending = Vec::new();
    let mut offending_total = 0u64;
    let mut verdicts: Vec<Vec<bool>> = Vec::new();
    for (name, tally) in tallies {
        let sample = tally.sample.into_sorted();
        let (mut block, mut review, mut pii) = (0u64, 0u64, 0u64);
        let mut acceptable = Vec::with_capacity(sample.len());
        for item in &sample {
            let hits = matcher.find_all(&item.text);
            let is_block = hits
                .iter()
                .any(|h| h.rule.level == Level::Block && h.pii.is_none());
            block += u64::from(is_block);
            review += u64::from(
                !is_block
                    && hits
                        .iter()
                        .any(|h| h.rule.level == Level::Review && h.pii.is_none()),
            );
            pii += u64::from(hits.iter().any(|h| h.pii.is_some()));
            acceptable.push(!is_block);
            if !hits.is_empty() {
                offending_total += 1;
                if offending.len() < options.max_listed {
                    offending.push(Offending {
                        at: format!("{}:{}", names[item.file], item.line),
                        source: name.clone(),
                        spans: hits
                            .iter()
                            .map(|h| Span {
                                start: h.start,
                                end: h.end,
                                text: h.display_text(&item.text),
                                pattern: h.rule.pattern.clone(),
                                risk: h.rule.risk.clone(),
                                level: h.rule.level.as_str().to_string(),
                            })
                            .collect(),
                    });
                }
            }
        }
        let n = sample.len() as u64;
        let illegal = Proportion::new(block, n);
        let figure = SOURCE_ILLEGAL_MAX.figure;
        sources.push(SourceResult {
            registered: registry.is_none() || registered(&name),
            name,
            records: tally.counts.records,
            text_bytes: tally.counts.bytes,
            sampled: n,
            illegal,
            review,
            personal_information: Proportion::new(pii, n),
            illegal_all: options
                .scan_all
                .then(|| Proportion::new(tally.counts.block, tally.counts.records)),
            usable: SOURCE_ILLEGAL_MAX.met_by(illegal.value),
            uncertain: illegal.low <= figure && figure <= illegal.high,
        });
        verdicts.push(acceptable);
    }
    // The corpus-wide sample: proportional allocation, a prefix of each source's random order.
    let sizes: Vec<u64> = sources.iter().map(|s| s.records).collect();
    let take = stats::allocate(&sizes, options.sample_total as u64);
    let (mut pass, mut checked) = (0u64, 0u64);
    for (acceptable, k) in verdicts.iter().zip(&take) {
        for ok in acceptable.iter().take(*k as usize) {
            checked += 1;
            pass += u64::from(*ok);
        }
    }
    let sample_pass = Proportion::new(pass, checked);
    let records: u64 = sizes.iter().sum();
    // A corpus smaller than the sample size is checked whole: that meets the size figure.
    let whole = checked == records;
    let checks = vec![
        Check::new(
            &CORPUS_SAMPLE_MIN,
            if whole {
                format!("{} (whole corpus)", thousands(checked))
            } else {
                thousands(checked)
            },
            whole || CORPUS_SAMPLE_MIN.met_by(checked as f64),
        ),
        Check::new(
            &CORPUS_PASS_MIN,
            sample_pass.display(),
            checked > 0 && CORPUS_PASS_MIN.met_by(sample_pass.value),
        ),
        Check::new(
            &SOURCE_ILLEGAL_MAX,
            format!(
                "{} of {} sources above",
                sources.iter().filter(|s| !s.usable).count(),
                sources.len()
            ),
            sources.iter().all(|s| s.usable),
        ),
    ];
    let registry_file = match registry {
        Some((path, _)) => Some(InputFile::of(path)?),
        None => None,
    };
    let (lexicon_name, lexicon_version) = matcher.name_version();
    Ok(CorpusReport {
        schema: "hegui.corpus-audit/1".to_string(),
        inputs,
        registry: registry_file,
        registry_findings: registry.map(|(_, r)| r.findings()).unwrap_or_default(),
        lexicon: format!("{lexicon_name} {lexicon_version}"),
        seed: options.seed,
        records,
        sources,
        sample_pass,
        checks,
        offending_not_listed: offending_total - offending.len() as u64,
        offending,
    })
}

impl Report for CorpusReport {
    fn doc(&self) -> Doc {
        let mut doc = Doc::new("语料安全评估 Corpus audit");
        doc.para(format!(
            "{} records from {} files; lexicon {}; seed {}. Illegal/harmful = a `block` hit of the \
             lexicon screen; intervals: 95 % Wilson.",
            thousands(self.records),
            self.inputs.len(),
            self.lexicon,
            self.seed
        ));
        doc.list(
            self.inputs
                .iter()
                .chain(&self.registry)
                .map(InputFile::describe)
                .collect(),
        );
        doc.heading(2, "Checks against the cited figures");
        doc.table(&Check::HEADER, self.checks.iter().map(Check::row).collect());
        doc.heading(2, "Sources");
        doc.table(
            &[
                "source",
                "records",
                "sampled",
                "illegal share",
                "review",
                "personal info",
                "usable (≤ 5 %)",
            ],
            self.sources
                .iter()
                .map(|s| {
                    let mut usable = yes_no(s.usable);
                    if s.uncertain {
                        usable.push_str(" (interval straddles 5 %)");
                    }
                    if !s.registered {
                        usable.push_str("; NOT in the registry");
                    }
                    vec![
                        s.name.clone(),
                        thousands(s.records),
                        thousands(s.sampled),
                        s.illegal.display(),
                        s.review.to_string(),
                        s.personal_information.display(),
                        usable,
                    ]
                })
                .collect(),
        );
        doc.heading(2, "Source registry");
        if self.registry.is_none() {
            doc.para("No registry given (`--sources sources.toml`): sources are unchecked.");
        } else if self.registry_findings.is_empty() {
            doc.para("Every source has its kind, licence or record, legal basis and language.");
        } else {
            doc.list(
                self.registry_findings
                    .iter()
                    .map(|(s, what)| format!("`{s}`: missing {what}"))
                    .collect(),
            );
        }
        doc.heading(2, "Sampled items with hits");
        if self.offending.is_empty() {
            doc.para("None.");
        } else {
            doc.table(
                &["at", "source", "hits (span: text → pattern, risk, level)"],
                self.offending
                    .iter()
                    .map(|o| {
                        let spans: Vec<String> = o
                            .spans
                            .iter()
                            .map(|s| {
                                format!(
                                    "{}..{}: {} → {}, {}, {}",
                                    s.start, s.end, s.text, s.pattern, s.risk, s.level
                                )
                            })
                            .collect();
                        vec![o.at.clone(), o.source.clone(), spans.join("\n")]
                    })
                    .collect(),
            );
            if self.offending_not_listed > 0 {
                doc.para(format!("{} more not listed.", self.offending_not_listed));
            }
        }
        doc
    }
}
