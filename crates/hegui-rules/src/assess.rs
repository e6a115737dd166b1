//! Evaluating a pack against a profile on a date: per obligation, whether it is applicable, not
//! applicable, unknown (and which facts would decide it) or not (yet, or no longer) in force; its
//! citations, competent authority for the date, deadline, hegui controls and evidence or gap.
//!
//! The result is a [`Report`], a plain serializable value: the JSON output is exactly its serde
//! form (see [`crate::report`] for the documented shape and the other renderings).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::Calendar;
pub use crate::coverage::{Coverage, GapReason, MeasureOutcome, MeasureResult};
pub use crate::deadline::{DeadlineResult, DeadlineState};
use crate::deadline::{compute_deadline, state_on};
use crate::expr::{Atom, Truth, eval_condition};
use crate::model::{Confidence, ControlStatus, ObligationKind};
use crate::pack::{Obligation, Pack};
use crate::profile::Profile;

/// Version of the JSON report shape; bumped on any incompatible change.
pub const REPORT_SCHEMA: &str = "hegui.assessment/1";

/// The status of one obligation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its condition holds and its instruments are in force.
    Applicable,
    /// Its condition does not hold.
    NotApplicable,
    /// The profile does not give the facts that would decide it.
    Unknown,
    /// A cited instrument is not (yet, or no longer) in force on the date.
    NotInForce,
}

impl Status {
    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Status::Applicable => "applicable",
            Status::NotApplicable => "not applicable",
            Status::Unknown => "unknown",
            Status::NotInForce => "not in force",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Applicable => "适用",
            Status::NotApplicable => "不适用",
            Status::Unknown => "待定",
            Status::NotInForce => "未生效/已失效",
        }
    }
}

/// The whole assessment.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// The pack.
    pub pack: PackInfo,
    /// The profile's name and description.
    pub profile: ProfileInfo,
    /// The evaluation date.
    pub as_of: NaiveDate,
    /// Counts.
    pub summary: Summary,
    /// Whether the profile has `[hegui]` or `[evidence]` (then each applicable obligation has a
    /// `coverage`).
    pub tracks_gaps: bool,
    /// The gateway config cited as evidence, if any.
    pub hegui_config: Option<String>,
    /// One entry per obligation, in pack order.
    pub obligations: Vec<ObligationResult>,
}

/// Identity of the pack.
#[derive(Debug, Clone, Serialize)]
pub struct PackInfo {
    /// Id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The profile's name and description.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileInfo {
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// Counts by status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Applicable obligations.
    pub applicable: usize,
    /// Not applicable.
    pub not_applicable: usize,
    /// Unknown.
    pub unknown: usize,
    /// Not in force.
    pub not_in_force: usize,
    /// Gaps (applicable and not met: see [`crate::coverage`]); `None` without evidence tracking.
    pub gaps: Option<usize>,
    /// Applicable obligations whose deadline passed before the date without being shown done.
    pub overdue: usize,
}

/// The result for one obligation.
#[derive(Debug, Clone, Serialize)]
pub struct ObligationResult {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: ObligationKind,
    /// Chinese summary.
    pub summary_zh: String,
    /// English summary.
    pub summary_en: String,
    /// Status.
    pub status: Status,
    /// The `when` condition as written (`true` when absent).
    pub condition: String,
    /// What the condition evaluated to.
    pub condition_value: Truth,
    /// The atoms of the condition with their values: the "why".
    pub atoms: Vec<Atom>,
    /// Facts that would decide an unknown condition.
    pub needs: Vec<String>,
    /// Why it is not in force, if it is not.
    pub force: Option<ForceNote>,
    /// Citations.
    pub citations: Vec<CitationResult>,
    /// The competent authority on the date.
    pub authority: Option<AuthorityResult>,
    /// The deadline, if the obligation has one.
    pub deadline: Option<DeadlineResult>,
    /// hegui controls that implement it.
    pub controls: Vec<ControlResult>,
    /// What shows it is met (from the pack).
    pub evidence_expected: Vec<String>,
    /// Evidence the profile gives.
    pub evidence_given: Vec<String>,
    /// Measured figures it is judged by, with their outcome.
    pub measures: Vec<MeasureResult>,
    /// Evidence, hegui or gap, when tracked and applicable.
    pub coverage: Option<Coverage>,
    /// Why it is a gap (empty unless `coverage` is `gap`).
    pub gap_reasons: Vec<GapReason>,
    /// Control points of the seed table it covers.
    pub control_points: Vec<String>,
    /// Caveat (English).
    pub note_en: Option<String>,
    /// Caveat (Chinese).
    pub note_zh: Option<String>,
}

/// Why an obligation is not in force.
#[derive(Debug, Clone, Serialize)]
pub struct ForceNote {
    /// The instrument.
    pub instrument: String,
    /// `not_yet` or `no_longer`.
    pub state: &'static str,
    /// The first day in force (not yet) or the last day (no longer), if known.
    pub date: Option<NaiveDate>,
}

/// A resolved citation.
#[derive(Debug, Clone, Serialize)]
pub struct CitationResult {
    /// Instrument id.
    pub instrument: String,
    /// Instrument title (Chinese).
    pub title_zh: String,
    /// Instrument title (English).
    pub title_en: String,
    /// The version in force on the date, if any.
    pub version: Option<String>,
    /// Article.
    pub article: String,
    /// Item or paragraph.
    pub item: Option<String>,
    /// Confidence.
    pub confidence: Confidence,
    /// Where the fact is recorded.
    pub reference: Option<String>,
}

/// The authority competent on the date.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorityResult {
    /// Authority id (empty if a role has no holder on the date).
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The role it was resolved from, if any.
    pub role: Option<String>,
}

/// A hegui control and whether the service uses it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    /// Id.
    pub id: String,
    /// English summary.
    pub summary_en: String,
    /// Chinese summary.
    pub summary_zh: String,
    /// Whether `[hegui] controls` lists it.
    pub in_use: bool,
    /// Planned, not implemented in this version of hegui: never counts as meeting anything.
    pub planned: bool,
}

/// Assesses `profile` against `pack` on `as_of`, counting deadlines with `calendar`.
pub fn assess(pack: &Pack, profile: &Profile, as_of: NaiveDate, calendar: &Calendar) -> Report {
    let obligations: Vec<ObligationResult> = pack
        .obligations
        .iter()
        .map(|obligation| assess_one(pack, obligation, profile, as_of, calendar))
        .collect();
    let mut summary = Summary::default();
    for result in &obligations {
        match result.status {
            Status::Applicable => summary.applicable += 1,
            Status::NotApplicable => summary.not_applicable += 1,
            Status::Unknown => summary.unknown += 1,
            Status::NotInForce => summary.not_in_force += 1,
        }
    }
    summary.overdue = obligations
        .iter()
        .filter(|o| o.deadline.as_ref().is_some_and(DeadlineResult::is_overdue))
        .count();
    if profile.tracks_gaps {
        summary.gaps = Some(
            obligations
                .iter()
                .filter(|o| o.coverage == Some(Coverage::Gap))
                .count(),
        );
    }
    Report {
        schema: REPORT_SCHEMA,
        pack: PackInfo {
            id: pack.id().to_string(),
            version: pack.meta.version.clone(),
            name_zh: pack.meta.name_zh.clone(),
            name_en: pack.meta.name_en.clone(),
        },
        profile: ProfileInfo {
            name: profile.name.clone(),
            description: profile.description.clone(),
        },
        as_of,
        summary,
        tracks_gaps: profile.tracks_gaps,
        hegui_config: profile.hegui.as_ref().and_then(|h| h.config.clone()),
        obligations,
    }
}

fn assess_one(
    pack: &Pack,
    obligation: &Obligation,
    profile: &Profile,
    as_of: NaiveDate,
    calendar: &Calendar,
) -> ObligationResult {
    let def = &obligation.def;
    let (truth, trace) = eval_condition(&obligation.condition, &profile.facts);
    let force = force_note(pack, obligation, as_of);
    // As packs/FORMAT.md says: an obligation citing an instrument not in force on the date is
    // listed as not in force, whatever its condition.
    let status = match (&force, truth) {
        (Some(_), _) => Status::NotInForce,
        (None, Truth::True) => Status::Applicable,
        (None, Truth::False) => Status::NotApplicable,
        (None, Truth::Unknown) => Status::Unknown,
    };
    let needs = if truth == Truth::Unknown {
        trace.missing.iter().cloned().collect()
    } else {
        Vec::new()
    };
    let citations = def
        .cite
        .iter()
        .filter_map(|cite| {
            let instrument = pack.instrument(cite.instrument.get_ref());
            let version = instrument.and_then(|i| {
                i.versions
                    .iter()
                    .find(|v| v.effective.0 <= as_of && v.until.is_none_or(|u| as_of <= u.0))
                    .map(|v| v.label.clone())
            });
            // A citation of one version (articles renumbered by an amendment) is shown only while
            // that version is in force: never a mix of both numberings.
            if let Some(cited) = &cite.version
                && version.as_deref() != Some(cited.get_ref().as_str())
            {
                return None;
            }
            Some(CitationResult {
                instrument: cite.instrument.get_ref().clone(),
                title_zh: instrument.map(|i| i.title_zh.clone()).unwrap_or_default(),
                title_en: instrument.map(|i| i.title_en.clone()).unwrap_or_default(),
                version,
                article: cite.article.clone(),
                item: cite.item.clone().filter(|i| !i.is_empty()),
                confidence: cite.confidence,
                reference: cite.reference.clone(),
            })
        })
        .collect();
    let authority = def
        .authority
        .as_ref()
        .map(|id| resolve_authority(pack, id.get_ref(), as_of));
    let evidence_given = profile
        .evidence
        .get(def.id.get_ref())
        .cloned()
        .unwrap_or_default();
    let deadline = def.deadline.as_ref().map(|deadline| {
        let mut result = compute_deadline(
            pack,
            deadline,
            profile,
            calendar,
            matches!(status, Status::Applicable | Status::Unknown),
        );
        if status == Status::Applicable
            && let Some(due) = result.due
        {
            let done_by_fact = obligation
                .done
                .as_ref()
                .is_some_and(|done| eval_condition(done, &profile.facts).0 == Truth::True);
            result.state = Some(state_on(
                due,
                as_of,
                done_by_fact || !evidence_given.is_empty(),
            ));
        }
        result
    });
    let in_use: BTreeSet<&str> = profile
        .hegui
        .as_ref()
        .map(|h| h.controls.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let controls: Vec<ControlResult> = def
        .controls
        .iter()
        .map(|id| {
            let control = pack.controls.get(id.get_ref());
            ControlResult {
                id: id.get_ref().clone(),
                summary_en: control
                    .map(|c| c.get_ref().summary_en.clone())
                    .unwrap_or_default(),
                summary_zh: control
                    .map(|c| c.get_ref().summary_zh.clone())
                    .unwrap_or_default(),
                in_use: in_use.contains(id.get_ref().as_str()),
                planned: control.is_some_and(|c| c.get_ref().status == ControlStatus::Planned),
            }
        })
        .collect();
    let measures = crate::coverage::measures(pack, def, profile);
    let (coverage, gap_reasons) = crate::coverage::coverage(
        def,
        status,
        profile.tracks_gaps,
        &evidence_given,
        &controls,
        &measures,
    );
    ObligationResult {
        id: def.id.get_ref().clone(),
        kind: def.kind,
        summary_zh: def.summary_zh.clone(),
        summary_en: def.summary_en.clone(),
        status,
        condition: def
            .when
            .as_ref()
            .map_or_else(|| "true".to_string(), |w| w.get_ref().trim().to_string()),
        condition_value: truth,
        atoms: trace.atoms,
        needs,
        force,
        citations,
        authority,
        deadline,
        controls,
        evidence_expected: def.evidence.clone(),
        evidence_given,
        measures,
        coverage,
        gap_reasons,
        control_points: def
            .control_points
            .iter()
            .map(|c| c.get_ref().clone())
            .collect(),
        note_en: def.note_en.clone(),
        note_zh: def.note_zh.clone(),
    }
}

/// `None` when every cited instrument has a version in force on `as_of`. A citation tied to one
/// version (`version = "…"`) does not decide this: it is shown while that version is in force
/// and left out otherwise, so an overlay instrument (e.g. the Biosecurity Law on HGR duties that
/// the HGR Regulation imposed before it) never makes an older duty "not yet in force".
fn force_note(pack: &Pack, obligation: &Obligation, as_of: NaiveDate) -> Option<ForceNote> {
    let mut seen = BTreeSet::new();
    for cite in obligation.def.cite.iter().filter(|c| c.version.is_none()) {
        let id = cite.instrument.get_ref();
        if !seen.insert(id.as_str()) {
            continue;
        }
        let Some(instrument) = pack.instrument(id) else {
            continue;
        };
        if instrument.versions.is_empty() {
            continue;
        }
        let in_force = instrument
            .versions
            .iter()
            .any(|v| v.effective.0 <= as_of && v.until.is_none_or(|u| as_of <= u.0));
        if in_force {
            continue;
        }
        let next = instrument
            .versions
            .iter()
            .map(|v| v.effective.0)
            .filter(|d| *d > as_of)
            .min();
        return Some(match next {
            Some(date) => ForceNote {
                instrument: id.clone(),
                state: "not_yet",
                date: Some(date),
            },
            None => ForceNote {
                instrument: id.clone(),
                state: "no_longer",
                date: instrument
                    .versions
                    .iter()
                    .filter_map(|v| v.until.map(|u| u.0))
                    .max(),
            },
        });
    }
    version_only_note(pack, obligation, as_of)
}

/// For an obligation cited **only** through version-tied citations: not in force unless one of
/// those versions is (otherwise nothing would be cited on the date). Reports the first version to
/// come, or the last one gone.
fn version_only_note(pack: &Pack, obligation: &Obligation, as_of: NaiveDate) -> Option<ForceNote> {
    let cites = &obligation.def.cite;
    if cites.is_empty() || cites.iter().any(|c| c.version.is_none()) {
        return None;
    }
    let versions: Vec<(&str, &crate::model::InstrumentVersion)> = cites
        .iter()
        .filter_map(|c| {
            let instrument = pack.instrument(c.instrument.get_ref())?;
            let label = c.version.as_ref()?.get_ref();
            let version = instrument.versions.iter().find(|v| &v.label == label)?;
            Some((c.instrument.get_ref().as_str(), version))
        })
        .collect();
    if versions
        .iter()
        .any(|(_, v)| v.effective.0 <= as_of && v.until.is_none_or(|u| as_of <= u.0))
    {
        return None;
    }
    let next = versions
        .iter()
        .filter(|(_, v)| v.effective.0 > as_of)
        .min_by_key(|(_, v)| v.effective.0);
    Some(match next {
        Some((id, v)) => ForceNote {
            instrument: (*id).to_string(),
            state: "not_yet",
            date: Some(v.effective.0),
        },
        None => ForceNote {
            instrument: versions.first().map(|(id, _)| (*id).to_string())?,
            state: "no_longer",
            date: versions
                .iter()
                .filter_map(|(_, v)| v.until.map(|u| u.0))
                .max(),
        },
    })
}

fn resolve_authority(pack: &Pack, id: &str, as_of: NaiveDate) -> AuthorityResult {
    let named = |authority_id: &str, role: Option<String>| {
        let authority = pack.authority(authority_id);
        AuthorityResult {
            id: authority_id.to_string(),
            name_zh: authority.map(|a| a.name_zh.clone()).unwrap_or_default(),
            name_en: authority.map(|a| a.name_en.clone()).unwrap_or_default(),
            role,
        }
    };
    match pack.role(id) {
        Some(role) => {
            let holder = role.periods.iter().find(|p| {
                p.from.is_none_or(|f| f.0 <= as_of) && p.until.is_none_or(|u| as_of <= u.0)
            });
            match holder {
                Some(period) => named(period.authority.get_ref(), Some(id.to_string())),
                None => AuthorityResult {
                    id: String::new(),
                    name_zh: String::new(),
                    name_en: format!("no holder of role `{id}` on {as_of}"),
                    role: Some(id.to_string()),
                },
            }
        }
        None => named(id, None),
    }
}
