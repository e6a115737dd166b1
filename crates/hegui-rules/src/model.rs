//! The TOML shapes of a rule pack, exactly as `packs/FORMAT.md` describes them.
//!
//! Every struct rejects unknown fields, so a misspelt key is an error at its line instead of a
//! silently ignored setting. Fields that other files refer to, or that lint checks, keep their
//! source span ([`Spanned`]) so that a diagnostic can point at them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A calendar date written as a TOML local date (`2026-01-15`) or a `"YYYY-MM-DD"` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Datetime(toml::value::Datetime),
            Text(String),
        }
        let raw = Raw::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("expected a date such as 2026-01-15"))?;
        match raw {
            Raw::Datetime(datetime) => date_of(&datetime).map(Date).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a date without a time, such as 2026-01-15, found `{datetime}`"
                ))
            }),
            Raw::Text(text) => NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "expected a date such as 2026-01-15, found `{text}`"
                    ))
                }),
        }
    }
}

/// The date of a TOML local date, or `None` if it has a time or offset.
pub(crate) fn date_of(datetime: &toml::value::Datetime) -> Option<NaiveDate> {
    match (datetime.date, datetime.time, datetime.offset) {
        (Some(date), None, None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        ),
        _ => None,
    }
}

/// `pack.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    /// The pack id, e.g. `cn-genai`.
    pub id: Spanned<String>,
    /// The pack version, e.g. `2026.11.0`.
    pub version: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Working-day calendar used by deadlines that do not name one.
    #[serde(default)]
    pub default_calendar: Option<Spanned<String>>,
    /// The legal instruments the obligations cite.
    #[serde(default, rename = "instrument")]
    pub instruments: Vec<Instrument>,
    /// Competent authorities.
    #[serde(default, rename = "authority")]
    pub authorities: Vec<Authority>,
    /// Roles whose holder changes over time.
    #[serde(default, rename = "role")]
    pub roles: Vec<Role>,
    /// The seed's control points (合规控制点).
    #[serde(default, rename = "control_point")]
    pub control_points: Vec<ControlPoint>,
}

/// A legal instrument (law, regulation, standard).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Short key used by citations, e.g. `IM`.
    pub id: Spanned<String>,
    /// Chinese title.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
    /// Official number (文号), if any.
    #[serde(default)]
    pub number: Option<String>,
    /// Articles that bind a provider; lint fails unless each is cited.
    #[serde(default)]
    pub binding_articles: Vec<Spanned<String>>,
    /// Versions with their effective dates.
    #[serde(default, rename = "version")]
    pub versions: Vec<InstrumentVersion>,
}

/// One version of an instrument.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentVersion {
    /// A label such as `2023`.
    pub label: String,
    /// First day in force.
    pub effective: Date,
    /// Last day in force, if it has been replaced or repealed.
    #[serde(default)]
    pub until: Option<Date>,
    /// Where the dates are recorded.
    #[serde(default)]
    pub source: Option<String>,
}

/// A competent authority.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authority {
    /// Short id, e.g. `CAC`.
    pub id: Spanned<String>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A role whose holder changes over time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role id, usable wherever an authority id is.
    pub id: Spanned<String>,
    /// Who holds the role when.
    #[serde(default, rename = "period")]
    pub periods: Vec<RolePeriod>,
}

/// One holder of a role.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolePeriod {
    /// The authority holding the role.
    pub authority: Spanned<String>,
    /// First day (open if absent).
    #[serde(default)]
    pub from: Option<Date>,
    /// Last day (open if absent).
    #[serde(default)]
    pub until: Option<Date>,
}

/// A control point of the seed's table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPoint {
    /// Id, e.g. `cp01`.
    pub id: Spanned<String>,
    /// Type (Chinese), e.g. 用户注册与管理.
    pub type_zh: String,
    /// Control point (Chinese).
    pub point_zh: String,
    /// Control point (English).
    pub point_en: String,
}

/// `facts.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsFile {
    /// Fact path → definition.
    #[serde(default)]
    pub fact: BTreeMap<String, Spanned<FactDef>>,
}

/// The type names a fact may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `decimal`
    Decimal,
    /// `string`
    String,
    /// `date`
    Date,
    /// `enum` (needs `values`)
    Enum,
    /// `set` of `values`
    Set,
}

/// One fact of the profile schema.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactDef {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: FactKind,
    /// Allowed values of an `enum` or `set`.
    #[serde(default)]
    pub values: Vec<String>,
    /// English documentation.
    pub doc_en: String,
    /// Chinese documentation.
    pub doc_zh: String,
}

/// `params.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    /// Param id → param.
    #[serde(default)]
    pub param: BTreeMap<String, Spanned<ParamDef>>,
}

/// A named, valued and cited threshold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    /// The value: int, decimal, string, bool or date.
    pub value: Spanned<toml::Value>,
    /// Unit, e.g. `working_days`, `days`, `months`, `count`, `percent`.
    #[serde(default)]
    pub unit: Option<Spanned<String>>,
    /// English summary.
    pub summary_en: String,
    /// Chinese summary.
    pub summary_zh: String,
    /// Where it comes from.
    pub cite: Citation,
}

/// A citation of an article of an instrument.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// Instrument id from `pack.toml`.
    pub instrument: Spanned<String>,
    /// Article number as written, e.g. `17`.
    pub article: String,
    /// Paragraph or item.
    #[serde(default)]
    pub item: Option<String>,
    /// How sure we are of the text.
    pub confidence: Confidence,
    /// Where in the reference documents the fact is recorded.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// The instrument version (its `label`) this citation belongs to, for an instrument whose
    /// versions number their articles differently: the report shows only the citations of the
    /// version in force on the date. Absent: the citation holds for every version.
    #[serde(default)]
    pub version: Option<Spanned<String>>,
}

/// Confidence of a citation, from the reference documents' marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// ✅ official text or a verbatim copy.
    Verified,
    /// ◐ other sources only.
    Secondary,
    /// ❓ no source found.
    Unconfirmed,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "verified",
            Confidence::Secondary => "secondary",
            Confidence::Unconfirmed => "unconfirmed",
        })
    }
}

/// `controls.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlsFile {
    /// Control id → control.
    #[serde(default)]
    pub control: BTreeMap<String, Spanned<ControlDef>>,
}

/// A hegui feature that can implement an obligation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlDef {
    /// English summary.
    pub summary_en: String,
    /// Chinese summary.
    pub summary_zh: String,
    /// The crate that implements it.
    #[serde(default)]
    pub component: Option<String>,
    /// Whether this version of hegui implements it; a planned control never makes an
    /// obligation met.
    #[serde(default)]
    pub status: ControlStatus,
}

/// Whether a control exists in this version of hegui.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    /// Shipped and usable.
    #[default]
    Implemented,
    /// Planned: named so that the report can say what would cover an obligation, never counted.
    Planned,
}

/// How many of an obligation's controls must be in use for hegui to meet it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlsRequire {
    /// Every listed control (the default).
    #[default]
    All,
    /// Any one of them: only where that is the law's meaning (alternative means).
    Any,
}

/// The force of a measured threshold, from the standard's own wording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Force {
    /// 应 / 不应 (shall, shall not): a miss is a failure and a gap.
    #[default]
    Shall,
    /// 宜 / 不宜 (should, should not): a miss is a warning.
    Should,
}

/// How a measured figure passes its threshold: `value OP threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum PassWhen {
    /// value < threshold
    #[serde(rename = "<")]
    Lt,
    /// value <= threshold
    #[serde(rename = "<=")]
    Le,
    /// value > threshold
    #[serde(rename = ">")]
    Gt,
    /// value >= threshold
    #[serde(rename = ">=")]
    Ge,
}

impl PassWhen {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            PassWhen::Lt => "<",
            PassWhen::Le => "<=",
            PassWhen::Gt => ">",
            PassWhen::Ge => ">=",
        }
    }

    /// The operator that describes a miss (`6.8 > 5` for a `<=` rule).
    pub fn negated_symbol(self) -> &'static str {
        match self {
            PassWhen::Lt => ">=",
            PassWhen::Le => ">",
            PassWhen::Gt => "<=",
            PassWhen::Ge => "<",
        }
    }

    /// Whether `value` passes against `threshold`.
    pub fn passes(self, value: f64, threshold: f64) -> bool {
        match self {
            PassWhen::Lt => value < threshold,
            PassWhen::Le => value <= threshold,
            PassWhen::Gt => value > threshold,
            PassWhen::Ge => value >= threshold,
        }
    }
}

/// A measured figure an obligation is judged by: a numeric fact against a param.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureDef {
    /// The fact holding the figure (an int or decimal fact).
    pub fact: Spanned<String>,
    /// The param holding the threshold (an int or decimal param).
    pub param: Spanned<String>,
    /// How the figure passes.
    pub pass: PassWhen,
    /// `shall` (a miss is a gap) or `should` (a miss is a warning).
    #[serde(default)]
    pub force: Force,
}

/// An `obligations/*.toml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationsFile {
    /// The obligations.
    #[serde(default)]
    pub obligation: Vec<ObligationDef>,
}

/// The kinds of obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationKind {
    /// A duty.
    Duty,
    /// A prohibition.
    Prohibition,
    /// A filing (备案).
    Filing,
    /// An approval (审批).
    Approval,
    /// A prior report.
    PriorReport,
    /// A security review or assessment.
    SecurityReview,
    /// A report.
    Report,
    /// A labelling duty.
    Label,
    /// Record keeping.
    RecordKeeping,
    /// A statement of which instrument applies: informs, never a gap.
    Scope,
}

impl fmt::Display for ObligationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObligationKind::Duty => "duty",
            ObligationKind::Prohibition => "prohibition",
            ObligationKind::Filing => "filing",
            ObligationKind::Approval => "approval",
            ObligationKind::PriorReport => "prior_report",
            ObligationKind::SecurityReview => "security_review",
            ObligationKind::Report => "report",
            ObligationKind::Label => "label",
            ObligationKind::RecordKeeping => "record_keeping",
            ObligationKind::Scope => "scope",
        })
    }
}

/// One obligation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationDef {
    /// Unique id: lowercase, dots and underscores.
    pub id: Spanned<String>,
    /// Kind.
    pub kind: ObligationKind,
    /// Chinese summary.
    pub summary_zh: String,
    /// English summary.
    pub summary_en: String,
    /// When it applies (a condition); always, if absent.
    #[serde(default)]
    pub when: Option<Spanned<String>>,
    /// Authority or role id.
    #[serde(default)]
    pub authority: Option<Spanned<String>>,
    /// hegui controls that implement it.
    #[serde(default)]
    pub controls: Vec<Spanned<String>>,
    /// Whether all listed controls (default) or any one must be in use.
    #[serde(default)]
    pub controls_require: ControlsRequire,
    /// Measured figures it is judged by; a failing one is always a gap.
    #[serde(default)]
    pub measure: Vec<MeasureDef>,
    /// What shows it is met.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Control points of the seed table it covers.
    #[serde(default)]
    pub control_points: Vec<Spanned<String>>,
    /// Caveats (English).
    #[serde(default)]
    pub note_en: Option<String>,
    /// Caveats (Chinese).
    #[serde(default)]
    pub note_zh: Option<String>,
    /// Citations (one or more).
    #[serde(default)]
    pub cite: Vec<Citation>,
    /// A deadline, if it has one.
    #[serde(default)]
    pub deadline: Option<DeadlineDef>,
}

/// Units of a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineUnit {
    /// Working days of the calendar.
    WorkingDays,
    /// Calendar days.
    Days,
    /// Calendar months.
    Months,
}

impl fmt::Display for DeadlineUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeadlineUnit::WorkingDays => "working days",
            DeadlineUnit::Days => "days",
            DeadlineUnit::Months => "months",
        })
    }
}

/// A deadline counted from a date fact.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineDef {
    /// A param giving amount and unit.
    #[serde(default)]
    pub param: Option<Spanned<String>>,
    /// Amount, when no param is named.
    #[serde(default)]
    pub amount: Option<u32>,
    /// Unit, when no param is named.
    #[serde(default)]
    pub unit: Option<DeadlineUnit>,
    /// The date fact counting starts after.
    pub anchor: Spanned<String>,
    /// Calendar id; the pack's default if absent.
    #[serde(default)]
    pub calendar: Option<Spanned<String>>,
    /// The rule in English.
    #[serde(default)]
    pub rule_en: Option<String>,
    /// The rule in Chinese.
    #[serde(default)]
    pub rule_zh: Option<String>,
    /// Due `amount` days **before** the anchor (e.g. a filing due before launch): the date is
    /// never moved forward past the anchor by the holiday rule. Needs unit `days`.
    #[serde(default)]
    pub before: bool,
    /// A condition that, when true, shows the duty done (e.g. `filing.algorithm_filed`); evidence
    /// in the profile's `[evidence]` also counts. A past due date not done is overdue.
    #[serde(default)]
    pub done: Option<Spanned<String>>,
}

/// A `scenarios/*.toml` file (its `profile` table is read separately, with spans).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name.
    pub name: String,
    /// Evaluation date.
    pub as_of: Date,
    /// The profile, as in a profile file.
    #[serde(default)]
    pub profile: toml::Table,
    /// The expected outcome.
    #[serde(default)]
    pub expect: Expect,
}

/// Expected outcome of a scenario. Obligations not listed are not checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Obligations that must apply.
    #[serde(default)]
    pub applies: Vec<Spanned<String>>,
    /// Obligations that must not apply.
    #[serde(default)]
    pub not_applicable: Vec<Spanned<String>>,
    /// Obligations that must be unknown.
    #[serde(default)]
    pub unknown: Vec<Spanned<String>>,
    /// Obligations that must be not (yet, or no longer) in force.
    #[serde(default)]
    pub not_in_force: Vec<Spanned<String>>,
    /// Expected deadlines.
    #[serde(default)]
    pub deadline: Vec<ExpectDeadline>,
    /// Obligations that must be overdue on the date.
    #[serde(default)]
    pub overdue: Vec<Spanned<String>>,
    /// Obligations with a deadline that must not be overdue on the date (upcoming or done).
    #[serde(default)]
    pub not_overdue: Vec<Spanned<String>>,
    /// Obligations that must be reported as a gap (needs `[hegui]` or `[evidence]`).
    #[serde(default)]
    pub gaps: Vec<Spanned<String>>,
    /// Obligations that must be reported as met (by evidence or by hegui).
    #[serde(default)]
    pub met: Vec<Spanned<String>>,
    /// Obligations with a measured figure that misses a `should` (宜/不宜) threshold: a warning,
    /// which never makes the obligation a gap by itself.
    #[serde(default)]
    pub warnings: Vec<Spanned<String>>,
    /// Expected citations: obligation → `INSTRUMENT art. N` strings of the version in force.
    #[serde(default)]
    pub cites: Vec<ExpectCites>,
}

/// Expected citations of one obligation on the scenario's date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectCites {
    /// The obligation.
    pub obligation: Spanned<String>,
    /// Every citation shown, as `INSTRUMENT art. ARTICLE` (the item left out).
    pub articles: Vec<String>,
}

/// An expected deadline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectDeadline {
    /// The obligation.
    pub obligation: Spanned<String>,
    /// The expected due date; absent means "cannot be computed" (unknown anchor or calendar).
    #[serde(default)]
    pub due: Option<Date>,
    /// The expected provisional date (weekends only in an unpublished year), when given.
    #[serde(default)]
    pub provisional: Option<Date>,
}
