//! The filing dossier (`hegui filing`): the security self-assessment report and filing materials,
//! written from the service profile, the rules assessment and the result files of the other
//! commands (their `--format json` output), as one [`Doc`] rendered to Markdown, HTML and DOCX.
//!
//! Which document set: a public service with public-opinion attributes or mobilisation capacity
//! (obligation `im.art17.security_assessment` applicable) that builds or fine-tunes its model
//! files (备案); one that calls an already-filed model without training registers (登记) and shows
//! the model's name and number (regulation.md §e.7 ◐). A service outside art. 17 needs neither;
//! the self-assessment is still written.
//!
//! Every figure carries an evidence tag (`[E2]`) resolving, in the evidence index, to a file by
//! path and SM3 digest. A section with no evidence says so plainly; nothing is invented.

use std::path::Path;

use hegui_rules::assess::{Coverage as Gap, Report as Assessment};
use hegui_rules::{Profile, Status};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::annotate::AnnotateReport;
use crate::corpus::CorpusReport;
use crate::doc::Doc;
use crate::eval::report::EvalReport;
use crate::input::{InputError, InputFile};
use crate::lexicon_eval::LexiconEvalReport;
use crate::thresholds::Check;

/// A result file and what it says.
#[derive(Debug, Clone)]
pub struct Evidence<T> {
    /// The file, by path and digest.
    pub file: InputFile,
    /// Its contents.
    pub report: T,
}

/// Reads a result file written with `--format json`.
///
/// # Errors
///
/// An unreadable file, or JSON of another shape (named by file and line).
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<Evidence<T>, InputError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InputError::io(&name, e))?;
    let report = serde_json::from_str(&text).map_err(|e| {
        InputError::invalid(
            &name,
            e.line() as u64,
            format!("not the JSON report expected here (write it with `--format json`): {e}"),
        )
    })?;
    Ok(Evidence {
        file: InputFile::of(path)?,
        report,
    })
}

/// The part of `hegui lexicon check --format json` the dossier uses.
#[derive(Debug, Clone, Deserialize)]
pub struct LexiconCheck {
    /// Lexicon name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Entries.
    pub total: u64,
    /// Entries in A.1/A.2.
    pub keyword_total: u64,
    /// The TC260 minimum.
    pub minimum_total: u64,
}

/// Everything the dossier is written from.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The rules assessment of the profile.
    pub assessment: Assessment,
    /// The profile's facts.
    pub profile: Profile,
    /// The profile file.
    pub profile_file: InputFile,
    /// `hegui corpus audit` result.
    pub corpus: Option<Evidence<CorpusReport>>,
    /// `hegui annotate qa` result.
    pub annotate: Option<Evidence<AnnotateReport>>,
    /// `hegui eval` result.
    pub eval: Option<Evidence<EvalReport>>,
    /// `hegui lexicon eval` result.
    pub lexicon_eval: Option<Evidence<LexiconEvalReport>>,
    /// `hegui lexicon check` result.
    pub lexicon_check: Option<Evidence<LexiconCheck>>,
}

/// Which documents the service needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentSet {
    /// 备案: the service builds or fine-tunes its model.
    Filing,
    /// 登记: the service calls an already-filed model.
    Registration,
    /// Neither: not a public service with public-opinion attributes.
    NotRequired,
    /// The profile does not say enough.
    Undetermined,
}

impl DocumentSet {
    /// Chinese and English name.
    pub fn label(self) -> &'static str {
        match self {
            DocumentSet::Filing => "备案 filing",
            DocumentSet::Registration => "登记 registration",
            DocumentSet::NotRequired => "无需备案或登记 neither filing nor registration",
            DocumentSet::Undetermined => "待定 undetermined",
        }
    }
}

fn fact(profile: &Profile, path: &str) -> Option<String> {
    profile.facts.get(path).map(ToString::to_string)
}

/// The given facts among `paths`, as `` `path` = value [E1] ``.
fn facts(profile: &Profile, paths: &[&str], tag: &str) -> Vec<String> {
    paths
        .iter()
        .filter_map(|f| fact(profile, f).map(|v| format!("`{f}` = {v} {tag}")))
        .collect()
}

/// The document set and why.
pub fn document_set(assessment: &Assessment, profile: &Profile) -> (DocumentSet, String) {
    let art17 = assessment
        .obligations
        .iter()
        .find(|o| o.id == "im.art17.security_assessment");
    match art17.map(|o| o.status) {
        Some(Status::NotApplicable) => {
            return (
                DocumentSet::NotRequired,
                "`im.art17.security_assessment` does not apply".to_string(),
            );
        }
        Some(Status::Applicable) => {}
        _ => {
            return (
                DocumentSet::Undetermined,
                "whether `im.art17.security_assessment` applies is unknown: give \
                 `service.audience`, `service.public_opinion` and `service.social_mobilisation`"
                    .to_string(),
            );
        }
    }
    // Enum facts display quoted (`"own"`).
    let bare = |path| fact(profile, path).map(|v| v.trim_matches('"').to_string());
    let (foundation, training) = (bare("model.foundation"), bare("model.training"));
    match (foundation.as_deref(), training.as_deref()) {
        (Some("own"), _) => (DocumentSet::Filing, "own foundation model".to_string()),
        (Some("third_party"), Some("true")) => (
            DocumentSet::Filing,
            "a third-party model trained or fine-tuned by the provider".to_string(),
        ),
        (Some("third_party"), Some("false")) => (
            DocumentSet::Registration,
            "a third-party model called without training".to_string(),
        ),
        _ => (
            DocumentSet::Undetermined,
            "give `model.foundation` and `model.training`".to_string(),
        ),
    }
}

const NONE: &str = "未提供证据。No evidence given: nothing is stated here until a result file or \
                    document supports it.";

struct Index {
    rows: Vec<Vec<String>>,
}

impl Index {
    fn tag(&mut self, file: &InputFile, what: &str) -> String {
        let tag = format!("E{}", self.rows.len() + 1);
        self.rows.push(vec![
            tag.clone(),
            what.to_string(),
            file.path.clone(),
            file.bytes.to_string(),
            file.sm3.clone(),
        ]);
        format!("[{tag}]")
    }
}

fn checks(doc: &mut Doc, checks: &[Check], tag: &str) {
    doc.table(
        &Check::HEADER,
        checks
            .iter()
            .map(|c| {
                let mut row = c.row();
                row[2] = format!("{} {tag}", row[2]);
                row
            })
            .collect(),
    );
}

/// Writes the dossier.
pub fn dossier(inputs: &Inputs) -> Doc {
    let a = &inputs.assessment;
    let p = &inputs.profile;
    let name = p
        .name
        .clone()
        .unwrap_or_else(|| "(unnamed service)".to_string());
    let (set, why) = document_set(a, p);
    let mut ix = Index { rows: Vec::new() };
    let profile_tag = ix.tag(&inputs.profile_file, "service profile");
    let mut doc = Doc::new(format!(
        "{name}：生成式人工智能服务安全自评估报告 Security self-assessment"
    ));
    doc.para(format!(
        "Document set: {} ({why}) {profile_tag}; rules pack {} {}, assessed as of {}. \
         Thresholds are TC260-003 / GB/T 45654 figures as recorded in regulation.md §(c); ◐ marks \
         figures from secondary sources (the standards were not read), ❓ hegui defaults.",
        set.label(),
        a.pack.id,
        a.pack.version,
        a.as_of
    ));

    doc.heading(2, "一、基本信息 Basic information");
    let basics = facts(
        p,
        &[
            "service.audience",
            "service.generates",
            "service.channels",
            "service.launch_date",
            "service.public_opinion",
            "service.social_mobilisation",
        ],
        &profile_tag,
    );
    doc.para(format!(
        "{name}: {}",
        p.description
            .as_deref()
            .unwrap_or("(no description in the profile)")
    ));
    doc.list(basics);

    doc.heading(2, "二、模型及上游备案 Model and its upstream filing");
    let model = facts(
        p,
        &[
            "model.foundation",
            "model.third_party_filed",
            "model.overseas_api",
            "model.training",
        ],
        &profile_tag,
    );
    if model.is_empty() {
        doc.para(NONE);
    } else {
        doc.list(model);
    }

    doc.heading(
        2,
        "三、算法机制 Algorithm mechanism (Interim Measures art. 19)",
    );
    doc.para(format!(
        "{NONE} Describe the model architecture, training and inference, and the safety \
         measures around them."
    ));

    let filing = set != DocumentSet::Registration;
    doc.heading(2, "四、训练数据来源与规模 Training data: sources and scale");
    match (&inputs.corpus, filing) {
        (_, false) => doc.para("Not part of a registration: the service does not train."),
        (None, true) => doc.para(NONE),
        (Some(e), true) => {
            let tag = ix.tag(&e.file, "hegui corpus audit");
            let r = &e.report;
            doc.para(format!(
                "{} records in {} sources; seed {}; lexicon {} {tag}.",
                r.records,
                r.sources.len(),
                r.seed,
                r.lexicon
            ));
            checks(&mut doc, &r.checks, &tag);
            doc.table(
                &[
                    "source",
                    "records",
                    "sampled",
                    "illegal share (95 % CI)",
                    "usable",
                ],
                r.sources
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.records.to_string(),
                            s.sampled.to_string(),
                            format!("{} {tag}", s.illegal.display()),
                            crate::doc::yes_no(s.usable && s.registered),
                        ]
                    })
                    .collect(),
            );
            doc.list(
                r.registry_findings
                    .iter()
                    .map(|(s, what)| format!("registry: `{s}` missing {what} {tag}"))
                    .collect(),
            );
        }
    }

    doc.heading(2, "五、标注 Annotation");
    match (&inputs.annotate, filing) {
        (_, false) => doc.para("Not part of a registration: the service does not train."),
        (None, true) => doc.para(NONE),
        (Some(e), true) => {
            let tag = ix.tag(&e.file, "hegui annotate qa");
            doc.para(format!(
                "{} annotations in {} batches {tag}. Annotation rules: {NONE}",
                e.report.annotations,
                e.report.batches.len()
            ));
            checks(&mut doc, &e.report.checks, &tag);
        }
    }

    doc.heading(2, "六、关键词库 Keyword library");
    if inputs.lexicon_check.is_none() && inputs.lexicon_eval.is_none() {
        doc.para(NONE);
    }
    if let Some(e) = &inputs.lexicon_check {
        let tag = ix.tag(&e.file, "hegui lexicon check");
        let r = &e.report;
        doc.para(format!(
            "Lexicon {} {}: {} entries, {} in A.1/A.2 (TC260 minimum {} ◐) {tag}.",
            r.name, r.version, r.total, r.keyword_total, r.minimum_total
        ));
    }
    if let Some(e) = &inputs.lexicon_eval {
        let tag = ix.tag(&e.file, "hegui lexicon eval");
        let o = &e.report.overall;
        let show = |x: &Option<crate::stats::Proportion>| {
            x.as_ref()
                .map_or("–".to_string(), crate::stats::Proportion::display)
        };
        doc.para(format!(
            "Against {} labelled records ({}): precision {}, recall {}, harmless blocked {} {tag}.",
            e.report.records,
            e.report.predictor,
            show(&o.precision),
            show(&o.recall),
            show(&o.false_positive_rate)
        ));
    }

    doc.heading(2, "七、测试题库与评估结果 Test banks and results");
    match &inputs.eval {
        None => doc.para(NONE),
        Some(e) => {
            let tag = ix.tag(&e.file, "hegui eval");
            let r = &e.report;
            doc.para(format!(
                "{} of {} questions answered{}; transcripts in `{}` (SM3 {}) {tag}.",
                r.answered,
                r.answered + r.missing,
                r.target
                    .as_ref()
                    .map(|t| format!(" by {t}"))
                    .unwrap_or_default(),
                r.results.path,
                r.results.sm3
            ));
            if !r.coverage.meets_minimums() {
                doc.para("The bank is below the TC260 minimums: these figures are a trial, not evidence.");
            }
            checks(&mut doc, &r.coverage.checks, &tag);
            checks(&mut doc, &r.checks, &tag);
        }
    }

    doc.heading(2, "八、风险与措施 Risks and measures");
    let applicable: Vec<Vec<String>> = a
        .obligations
        .iter()
        .filter(|o| o.status == Status::Applicable)
        .map(|o| {
            let coverage = match o.coverage {
                Some(Gap::Evidence) => format!("evidence: {}", o.evidence_given.join("; ")),
                Some(Gap::Hegui) => "hegui control in use".to_string(),
                Some(Gap::Gap) => "GAP".to_string(),
                None => "not tracked".to_string(),
            };
            vec![
                o.id.clone(),
                o.summary_zh.clone(),
                format!("{coverage} {profile_tag}"),
            ]
        })
        .collect();
    doc.table(&["obligation", "要求", "measure"], applicable);

    doc.heading(2, "九、公示信息 Public display text");
    let number = "（备案号待取得 number not yet issued）";
    doc.para(match set {
        DocumentSet::Registration => format!(
            "本服务使用已备案的生成式人工智能服务：（模型名称 model name）{number}；上线编号：（待取得）"
        ),
        _ => format!("本服务已按规定进行生成式人工智能服务备案：{name}，{number}"),
    });
    doc.para(
        "Shown prominently or on the product detail page: the model name and its filing or \
         registration number (regulation.md §e.7 ◐).",
    );

    doc.heading(2, "证据索引 Evidence index");
    doc.table(&["tag", "what", "file", "bytes", "SM3"], ix.rows);
    doc
}

/// Whether any included result misses a figure (for the exit code).
pub fn has_findings(inputs: &Inputs) -> bool {
    inputs.corpus.as_ref().is_some_and(|e| !e.report.passes())
        || inputs.annotate.as_ref().is_some_and(|e| !e.report.passes())
        || inputs.eval.as_ref().is_some_and(|e| !e.report.passes())
        || inputs
            .lexicon_check
            .as_ref()
            .is_some_and(|e| e.report.keyword_total < e.report.minimum_total)
}
