//! Is a change of an international-cooperation approval (or trial filing) major or not?
//!
//! Input is an `APPROVAL.toml`: the approval's kind, the approved quantity per HGR type, and its
//! changes in order, earlier ones `declared` and new ones `proposed`. Each change is classified
//! as needing no declaration, non-major or major, with reasons and citations. The rules are those
//! of hgr.md §6–7 (secondary: Han Kun quoting the 细则 and the 2023 指南; 条例 23 verified):
//!
//! - under an **approval**: decreases and smaller unit specifications need no declaration; a new
//!   HGR type is major; a change of partner, purpose, content or term is major (条例 23); for each
//!   type, increases are added up against the **initially approved** quantity and stay non-major
//!   while the cumulative increase is at most 10% ("不超过" includes exactly 10%); the change
//!   that takes a type above 10% is major and declares all earlier non-major increases of that
//!   type together with its own;
//! - under a **filing** (国际合作临床试验备案) every change of type, quantity, use, partner,
//!   protocol, content or purpose is major, whatever its size.
//!
//! Readings of our own, stated in the report where they matter: decreases never count against the
//! 10% (so their order is irrelevant); after a major change is approved, the types it declared
//! start a new base (the re-approved quantity) and a new cumulative count; a protocol or use
//! change under an approval, and a larger unit specification, are treated as major because the
//! 10% rule requires unchanged content and protocol.
//!
//! Quantities are integers (cases, tubes, samples): the 10% test is exact integer arithmetic,
//! `cumulative × 100 ≤ base × 10`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scope::{Cite, Confidence};

mod input;

pub use input::{
    ApprovalFile, ApprovalHeader, Change, ChangeError, ChangeItem, InputError, Resource,
    classify_file,
};

/// The cumulative increase, in percent of the initial approval, above which a change is major.
pub const NONMAJOR_CUMULATIVE_PCT: i64 = 10;

/// What was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// 国际合作科学研究审批: an approved international research cooperation.
    Approval,
    /// 国际合作临床试验备案: a filed international cooperation clinical trial.
    Filing,
}

impl ApprovalKind {
    /// Label in Chinese and English.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalKind::Approval => "国际合作科学研究审批 (approval)",
            ApprovalKind::Filing => "国际合作临床试验备案 (filing)",
        }
    }
}

/// Whether a change was already declared or is being proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Already declared (history).
    Declared,
    /// Proposed now.
    #[default]
    Proposed,
}

/// How a change must be handled, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// No declaration needed (decrease, smaller unit, no quantity change).
    None,
    /// Non-major change (非重大事项变更).
    NonMajor,
    /// Major change (重大事项变更): change approval, or a filing change.
    Major,
}

impl ChangeClass {
    /// Label in Chinese and English.
    pub fn label(self) -> &'static str {
        match self {
            ChangeClass::None => "无需申报 no declaration",
            ChangeClass::NonMajor => "非重大变更 non-major",
            ChangeClass::Major => "重大变更 major",
        }
    }
}

impl fmt::Display for ChangeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeClass::None => "none",
            ChangeClass::NonMajor => "non_major",
            ChangeClass::Major => "major",
        })
    }
}

/// A change of unit specification (单位规格).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitChange {
    /// Smaller units (e.g. 5 ml tubes instead of 10 ml).
    Smaller,
    /// Larger units.
    Larger,
}

// ------------------------------------------------------------------------------------ report

/// One reason for a classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The class this reason leads to.
    pub class: ChangeClass,
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
    /// Sources.
    pub cite: Vec<Cite>,
}

/// An earlier increase declared together with the change that crosses 10%.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contribution {
    /// Change id.
    pub change: String,
    /// Its increase.
    pub delta: i64,
}

/// The outcome for one type within a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemOutcome {
    /// Type key.
    #[serde(rename = "type")]
    pub kind: String,
    /// Quantity change, if any.
    pub delta: Option<i64>,
    /// Unit change, if any.
    pub unit: Option<UnitChange>,
    /// Class of this item alone.
    pub class: ChangeClass,
    /// Base the 10% is measured against (initial approval, or the last re-approval).
    pub base: Option<i64>,
    /// Cumulative non-major increase after this change (before any reset).
    pub cumulative: Option<i64>,
    /// Cumulative increase in hundredths of a percent of the base (1234 = 12.34%), rounded down.
    pub cumulative_bp: Option<i64>,
    /// For the change that crosses 10%: the increases declared together (earlier ones and this).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub declare_together: Vec<Contribution>,
}

/// The outcome for one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeOutcome {
    /// Change id.
    pub id: String,
    /// Date, if given.
    pub date: Option<String>,
    /// Declared or proposed.
    pub status: Status,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The classification.
    pub class: ChangeClass,
    /// How it was declared, for history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_as: Option<ChangeClass>,
    /// Why.
    pub reasons: Vec<Reason>,
    /// Per type.
    pub items: Vec<ItemOutcome>,
}

/// Where a type stands after all changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceSummary {
    /// Type key.
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    pub name: Option<String>,
    /// Unit.
    pub unit: Option<String>,
    /// Initially approved (or first declared, for a type added later).
    pub initial: i64,
    /// Current base of the 10% rule; `None` under a filing, where the rule does not apply.
    pub base: Option<i64>,
    /// Quantity on file: the initial quantity plus every **declared** change (increases and
    /// decreases); proposed changes are not on file.
    pub on_file: i64,
    /// Net change of the **proposed** changes (increases minus decreases).
    pub proposed: i64,
    /// The quantity once the proposed changes are made: `on_file + proposed`.
    pub after_proposed: i64,
    /// Non-major increases since the base, summed; `None` under a filing.
    pub cumulative: Option<i64>,
    /// Decreases (never declared), summed.
    pub decreased: i64,
    /// Added by a change (a new type).
    pub added_by: Option<String>,
}

/// A problem found in the history, e.g. a change declared as non-major that the rule makes major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Change id.
    pub change: String,
    /// English.
    pub en: String,
    /// Chinese.
    pub zh: String,
}

/// The whole classification of an `APPROVAL.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeReport {
    /// Approval or filing.
    pub kind: ApprovalKind,
    /// Number.
    pub number: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Per type, after all changes.
    pub resources: Vec<ResourceSummary>,
    /// Per change, in order.
    pub changes: Vec<ChangeOutcome>,
    /// History problems (the CLI exits 1 when there are any).
    pub findings: Vec<Finding>,
}

// ---------------------------------------------------------------------------------- citations

fn guide_cite(document: &str, item: &str) -> Cite {
    Cite {
        instrument: "GUIDE".into(),
        article: document.into(),
        item: Some(item.into()),
        confidence: Confidence::Secondary,
        reference: Some("hgr.md §6–7 (HK, seed 004)".into()),
    }
}

fn approval_guide() -> Cite {
    guide_cite("国际合作科学研究审批服务指南", "变更")
}

fn filing_guide() -> Cite {
    guide_cite("国际合作临床试验备案范围和程序", "变更")
}

fn article_23() -> Cite {
    Cite {
        instrument: "HGRR".into(),
        article: "23".into(),
        item: None,
        confidence: Confidence::Verified,
        reference: Some("hgr.md §6".into()),
    }
}

fn reason(class: ChangeClass, en: String, zh: String, cite: Vec<Cite>) -> Reason {
    Reason {
        class,
        en,
        zh,
        cite,
    }
}

fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

// ------------------------------------------------------------------------------- classifying

#[derive(Debug, Clone)]
struct TypeState {
    name: Option<String>,
    unit: Option<String>,
    initial: i64,
    base: i64,
    contributions: Vec<Contribution>,
    decreased: i64,
    added_by: Option<String>,
    /// Initial quantity plus every declared change, decreases included.
    on_file: i64,
    /// Net of the proposed changes.
    proposed: i64,
}

impl TypeState {
    fn cumulative(&self) -> i64 {
        self.contributions.iter().map(|c| c.delta).sum()
    }
}

pub(crate) fn change_id(change: &Change, index: usize) -> String {
    change
        .id
        .clone()
        .unwrap_or_else(|| format!("#{}", index + 1))
}

/// Classifies a parsed, valid `APPROVAL.toml`.
pub fn classify(file: &ApprovalFile) -> ChangeReport {
    let mut state: BTreeMap<String, TypeState> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for resource in &file.resources {
        let kind = resource.kind.get_ref().clone();
        let quantity = *resource.quantity.get_ref();
        order.push(kind.clone());
        state.insert(
            kind,
            TypeState {
                name: resource.name.clone(),
                unit: resource.unit.clone(),
                initial: quantity,
                base: quantity,
                contributions: Vec::new(),
                decreased: 0,
                added_by: None,
                on_file: quantity,
                proposed: 0,
            },
        );
    }
    let mut outcomes = Vec::new();
    let mut findings = Vec::new();
    for (index, change) in file.changes.iter().enumerate() {
        let id = change_id(change, index);
        let outcome = match file.approval.kind {
            ApprovalKind::Approval => classify_approval_change(&id, change, &state),
            ApprovalKind::Filing => classify_filing_change(&id, change, &state),
        };
        let declared = change.declared_as.as_ref().map(|d| *d.get_ref());
        // Declaring more than needed is harmless; declaring less is a finding.
        if let Some(declared) = declared
            && declared < outcome.class
        {
            findings.push(Finding {
                change: id.clone(),
                en: format!(
                    "declared as {declared} but the rule makes it {}: declare it again as required",
                    outcome.class
                ),
                zh: format!(
                    "已按「{}」申报，但按规则应为「{}」，应按规定重新申报",
                    declared.label(),
                    outcome.class.label()
                ),
            });
        }
        // What is on file follows what was actually declared, when the history says so.
        let effective = declared.unwrap_or(outcome.class);
        apply(&id, change, effective, &mut state, &mut order);
        // What is on file is what was declared; what is proposed is shown apart (issue 19 item 14).
        for item in &change.items {
            let delta = item.delta.as_ref().map_or(0, |d| *d.get_ref());
            if let Some(current) = state.get_mut(item.kind.get_ref()) {
                match change.status {
                    Status::Declared => current.on_file += delta,
                    Status::Proposed => current.proposed += delta,
                }
            }
        }
        outcomes.push(ChangeOutcome {
            declared_as: declared,
            ..outcome
        });
    }
    let resources = order
        .iter()
        .filter_map(|kind| {
            state.get(kind).map(|s| ResourceSummary {
                kind: kind.clone(),
                name: s.name.clone(),
                unit: s.unit.clone(),
                initial: s.initial,
                base: (file.approval.kind == ApprovalKind::Approval).then_some(s.base),
                on_file: s.on_file,
                proposed: s.proposed,
                after_proposed: s.on_file + s.proposed,
                cumulative: (file.approval.kind == ApprovalKind::Approval).then(|| s.cumulative()),
                decreased: s.decreased,
                added_by: s.added_by.clone(),
            })
        })
        .collect();
    ChangeReport {
        kind: file.approval.kind,
        number: file.approval.number.clone(),
        title: file.approval.title.clone(),
        resources,
        changes: outcomes,
        findings,
    }
}

fn new_outcome(id: &str, change: &Change) -> ChangeOutcome {
    ChangeOutcome {
        id: id.to_string(),
        date: change.date.as_ref().map(ToString::to_string),
        status: change.status,
        description: change.description.clone(),
        class: ChangeClass::None,
        declared_as: None,
        reasons: Vec::new(),
        items: Vec::new(),
    }
}

fn flag_names(change: &Change) -> Vec<(&'static str, &'static str)> {
    let mut flags = Vec::new();
    if change.partner {
        flags.push(("partner", "合作方"));
    }
    if change.purpose {
        flags.push(("purpose", "研究目的"));
    }
    if change.content {
        flags.push(("content", "研究内容"));
    }
    if change.protocol {
        flags.push(("protocol", "研究方案"));
    }
    if change.use_changed {
        flags.push(("use", "用途"));
    }
    if change.term {
        flags.push(("term", "合作期限"));
    }
    flags
}

fn classify_approval_change(
    id: &str,
    change: &Change,
    state: &BTreeMap<String, TypeState>,
) -> ChangeOutcome {
    let mut outcome = new_outcome(id, change);
    for (en, zh) in flag_names(change) {
        let (text_en, text_zh, cite) = match en {
            "partner" | "purpose" | "content" | "term" => (
                format!("change of {en}: a major change (条例 23)"),
                format!("{zh}变更属于重大事项变更（条例第二十三条）"),
                vec![article_23()],
            ),
            _ => (
                format!(
                    "change of {en}: the 10% non-major rule needs unchanged content and protocol, so hegui treats it as major (our reading; the 细则 list of non-major changes was not read)"
                ),
                format!(
                    "{zh}变更：非重大变更须研究内容和方案不变，本工具按重大变更处理（我们的理解，细则原文未读到）"
                ),
                vec![article_23(), approval_guide()],
            ),
        };
        outcome
            .reasons
            .push(reason(ChangeClass::Major, text_en, text_zh, cite));
    }
    for item in &change.items {
        let kind = item.kind.get_ref();
        let delta = item.delta.as_ref().map(|d| *d.get_ref());
        let mut item_outcome = ItemOutcome {
            kind: kind.clone(),
            delta,
            unit: item.unit,
            class: ChangeClass::None,
            base: None,
            cumulative: None,
            cumulative_bp: None,
            declare_together: Vec::new(),
        };
        let Some(current) = state.get(kind) else {
            item_outcome.class = ChangeClass::Major;
            outcome.reasons.push(reason(
                ChangeClass::Major,
                format!("`{kind}` is a new HGR type: adding a type is a major change"),
                format!("新增人类遗传资源类型「{kind}」，按重大事项变更申报"),
                vec![approval_guide()],
            ));
            outcome.items.push(item_outcome);
            continue;
        };
        item_outcome.base = Some(current.base);
        match item.unit {
            Some(UnitChange::Smaller) => outcome.reasons.push(reason(
                ChangeClass::None,
                format!("`{kind}`: smaller unit specification needs no declaration"),
                format!("「{kind}」单位规格变小，无需申报"),
                vec![approval_guide()],
            )),
            Some(UnitChange::Larger) => {
                item_outcome.class = ChangeClass::Major;
                outcome.reasons.push(reason(
                    ChangeClass::Major,
                    format!("`{kind}`: a larger unit specification is not covered by the non-major rule; treated as major (our reading)"),
                    format!("「{kind}」单位规格变大不属于非重大变更情形，按重大变更处理（我们的理解）"),
                    vec![approval_guide()],
                ));
            }
            None => {}
        }
        match delta {
            Some(delta) if delta < 0 => outcome.reasons.push(reason(
                ChangeClass::None,
                format!("`{kind}`: decrease of {} needs no declaration (decreases never count towards the 10%)", -delta),
                format!("「{kind}」减少{}，减少已获批数量无需申报", -delta),
                vec![approval_guide()],
            )),
            Some(0) => outcome.reasons.push(reason(
                ChangeClass::None,
                format!("`{kind}`: quantity unchanged"),
                format!("「{kind}」数量不变"),
                Vec::new(),
            )),
            Some(delta) => {
                let before = current.cumulative();
                let cumulative = before + delta;
                let bp = cumulative.saturating_mul(10_000) / current.base.max(1);
                item_outcome.cumulative = Some(cumulative);
                item_outcome.cumulative_bp = Some(bp);
                let within = cumulative.saturating_mul(100) <= current.base.saturating_mul(NONMAJOR_CUMULATIVE_PCT);
                if within {
                    item_outcome.class = item_outcome.class.max(ChangeClass::NonMajor);
                    outcome.reasons.push(reason(
                        ChangeClass::NonMajor,
                        format!(
                            "`{kind}`: +{delta}, cumulative increase {cumulative} of {} = {} ≤ 10%: non-major",
                            current.base,
                            percent(bp)
                        ),
                        format!("「{kind}」增加{delta}，累计增加{cumulative}，占获批量{}的{}，不超过10%，属于非重大变更", current.base, percent(bp)),
                        vec![approval_guide()],
                    ));
                } else {
                    item_outcome.class = ChangeClass::Major;
                    let mut together = current.contributions.clone();
                    together.push(Contribution {
                        change: id.to_string(),
                        delta,
                    });
                    let listed = together
                        .iter()
                        .map(|c| format!("{} +{}", c.change, c.delta))
                        .collect::<Vec<_>>()
                        .join(", ");
                    outcome.reasons.push(reason(
                        ChangeClass::Major,
                        if current.contributions.is_empty() {
                            format!("`{kind}`: +{delta} = {} of the approved {} > 10%: major", percent(bp), current.base)
                        } else {
                            format!(
                                "`{kind}`: cumulative increase {cumulative} = {} of the approved {} > 10%: major; declare all earlier non-major increases together ({listed})",
                                percent(bp),
                                current.base
                            )
                        },
                        format!("「{kind}」累计增加{cumulative}，占获批量{}的{}，超过10%，应将历次非重大变更量累加后按重大事项变更申报（{listed}）", current.base, percent(bp)),
                        vec![approval_guide()],
                    ));
                    item_outcome.declare_together = together;
                }
            }
            None => {}
        }
        outcome.items.push(item_outcome);
    }
    outcome.class = outcome
        .reasons
        .iter()
        .map(|r| r.class)
        .max()
        .unwrap_or(ChangeClass::None);
    outcome
}

fn classify_filing_change(
    id: &str,
    change: &Change,
    state: &BTreeMap<String, TypeState>,
) -> ChangeOutcome {
    let mut outcome = new_outcome(id, change);
    let cite = || vec![filing_guide()];
    for (en, zh) in flag_names(change) {
        let (text_en, text_zh) = if en == "term" {
            (
                "change of term under a filing: not in the filing's list of changes; treated as major to be safe (our reading)".to_string(),
                "备案项下合作期限变更不在列举范围内，稳妥起见按重大变更处理（我们的理解）".to_string(),
            )
        } else {
            (
                format!(
                    "change of {en} under a trial filing: every such change is major and needs a filing change"
                ),
                format!("国际合作临床试验备案中{zh}变更属于重大事项变更，须办理备案变更"),
            )
        };
        outcome
            .reasons
            .push(reason(ChangeClass::Major, text_en, text_zh, cite()));
    }
    for item in &change.items {
        let kind = item.kind.get_ref();
        let delta = item.delta.as_ref().map(|d| *d.get_ref());
        let current = state.get(kind);
        let (en, zh) = match (current, delta, item.unit) {
            (None, _, _) => (
                format!("`{kind}` is a new HGR type: major under a filing"),
                format!("新增人类遗传资源类型「{kind}」，属于重大事项变更"),
            ),
            (Some(current), Some(delta), _) if delta != 0 => {
                let bp = delta.saturating_mul(10_000) / current.base.max(1);
                (
                    format!(
                        "`{kind}`: quantity change {delta:+} ({} of the filed {}): under a filing every quantity change is major, whatever its size (the 10% rule does not apply; decreases included, our reading)",
                        percent(bp.abs()),
                        current.base
                    ),
                    format!(
                        "「{kind}」数量变更{delta:+}：国际合作备案不适用非重大变更规则，任何数量变更均属重大事项变更"
                    ),
                )
            }
            (Some(_), _, Some(unit)) => (
                format!(
                    "`{kind}`: unit specification {} under a filing: a change of quantity, major (our reading)",
                    if unit == UnitChange::Smaller {
                        "smaller"
                    } else {
                        "larger"
                    }
                ),
                format!(
                    "「{kind}」单位规格变更：备案项下按数量变更处理，属于重大事项变更（我们的理解）"
                ),
            ),
            (Some(_), _, None) => {
                outcome.reasons.push(reason(
                    ChangeClass::None,
                    format!("`{kind}`: quantity unchanged"),
                    format!("「{kind}」数量不变"),
                    Vec::new(),
                ));
                outcome.items.push(ItemOutcome {
                    kind: kind.clone(),
                    delta,
                    unit: item.unit,
                    class: ChangeClass::None,
                    base: current.map(|c| c.base),
                    cumulative: None,
                    cumulative_bp: None,
                    declare_together: Vec::new(),
                });
                continue;
            }
        };
        outcome
            .reasons
            .push(reason(ChangeClass::Major, en, zh, cite()));
        outcome.items.push(ItemOutcome {
            kind: kind.clone(),
            delta,
            unit: item.unit,
            class: ChangeClass::Major,
            base: current.map(|c| c.base),
            cumulative: None,
            cumulative_bp: None,
            declare_together: Vec::new(),
        });
    }
    outcome.class = outcome
        .reasons
        .iter()
        .map(|r| r.class)
        .max()
        .unwrap_or(ChangeClass::None);
    outcome
}

/// Updates what is on file after a change handled as `class`.
fn apply(
    id: &str,
    change: &Change,
    class: ChangeClass,
    state: &mut BTreeMap<String, TypeState>,
    order: &mut Vec<String>,
) {
    for item in &change.items {
        let kind = item.kind.get_ref();
        let delta = item.delta.as_ref().map_or(0, |d| *d.get_ref());
        let Some(current) = state.get_mut(kind) else {
            if delta > 0 {
                order.push(kind.clone());
                state.insert(
                    kind.clone(),
                    TypeState {
                        name: None,
                        unit: None,
                        initial: delta,
                        base: delta,
                        contributions: Vec::new(),
                        decreased: 0,
                        added_by: Some(id.to_string()),
                        on_file: 0,
                        proposed: 0,
                    },
                );
            }
            continue;
        };
        if delta < 0 {
            // Never declared, never counted: the approved quantity on file is unchanged.
            current.decreased += -delta;
            continue;
        }
        if delta == 0 {
            continue;
        }
        match class {
            // A major change is approved (or filed) as a whole: the type starts a new base.
            ChangeClass::Major => {
                current.base += current.cumulative() + delta;
                current.contributions.clear();
            }
            ChangeClass::NonMajor | ChangeClass::None => current.contributions.push(Contribution {
                change: id.to_string(),
                delta,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
