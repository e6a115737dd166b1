//! Deadlines of obligations: the due date counted from a date fact in working days, days or
//! months on the mainland-China calendar (or a number of days **before** it, for duties due before
//! an event such as launch), and whether it is upcoming, overdue or done on the `--as-of` date.
//!
//! Counting follows [`crate::calendar`]: working days fail closed in an unpublished year (no
//! `due`), with a provisional date beside the refusal that counts weekends only there; day and
//! month periods get their nominal end with a "provisional" caveat there. A "before" deadline is
//! never moved by the holiday rule: moving it forward would pass the event it must precede.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::{Calendar, CalendarError};
use crate::model::{DeadlineDef, DeadlineUnit};
use crate::pack::Pack;
use crate::profile::{Profile, date_fact};
use crate::value::Value;

/// Where a computed deadline stands on the assessment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Due on or after the assessment date, not yet shown done.
    Upcoming,
    /// Due before the assessment date and not shown done (by evidence or the `done` condition).
    Overdue,
    /// Shown done: evidence in the profile, or the deadline's `done` condition holds.
    Done,
}

impl DeadlineState {
    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            DeadlineState::Upcoming => "upcoming",
            DeadlineState::Overdue => "OVERDUE",
            DeadlineState::Done => "done",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            DeadlineState::Upcoming => "未到期",
            DeadlineState::Overdue => "已逾期",
            DeadlineState::Done => "已完成",
        }
    }
}

/// A computed deadline.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineResult {
    /// Amount.
    pub amount: Option<u32>,
    /// Unit.
    pub unit: Option<DeadlineUnit>,
    /// Whether the amount counts back from the anchor (due before it).
    pub before: bool,
    /// The param it comes from.
    pub param: Option<String>,
    /// The anchor fact.
    pub anchor: String,
    /// The anchor's value in the profile.
    pub anchor_date: Option<NaiveDate>,
    /// Calendar id.
    pub calendar: String,
    /// The due date, when it can be computed.
    pub due: Option<NaiveDate>,
    /// Upcoming, overdue or done on the date (applicable obligations with a due date only).
    pub state: Option<DeadlineState>,
    /// Why it cannot be computed.
    pub problem: Option<String>,
    /// A caveat on a computed date: a day or month period ending in a year whose calendar is
    /// not published gets its nominal end date, which art. 203 moves if that day turns out to be
    /// an announced holiday.
    pub caveat: Option<String>,
    /// When a working-day count reaches a year whose State Council schedule is not published (no
    /// exact `due`, see `problem`): the date counting weekends only in that year, for planning.
    /// Never used to judge the deadline overdue.
    pub provisional: Option<NaiveDate>,
    /// The rule in English.
    pub rule_en: Option<String>,
    /// The rule in Chinese.
    pub rule_zh: Option<String>,
}

impl DeadlineResult {
    /// Whether the deadline is overdue.
    pub fn is_overdue(&self) -> bool {
        self.state == Some(DeadlineState::Overdue)
    }
}

/// The state of a due date on `as_of`: done wins; a date before `as_of` is overdue (the due day
/// itself is still in time).
pub(crate) fn state_on(due: NaiveDate, as_of: NaiveDate, done: bool) -> DeadlineState {
    if done {
        DeadlineState::Done
    } else if due < as_of {
        DeadlineState::Overdue
    } else {
        DeadlineState::Upcoming
    }
}

/// Amount and unit of a deadline: its own, or from its param.
pub(crate) fn amount_and_unit(
    pack: &Pack,
    deadline: &DeadlineDef,
) -> Result<(u32, DeadlineUnit), String> {
    if let Some(param_id) = &deadline.param {
        let param = pack
            .params
            .get(param_id.get_ref())
            .ok_or_else(|| format!("unknown param `{}`", param_id.get_ref()))?;
        let amount = match param.value {
            Value::Int(n) => u32::try_from(n).map_err(|_| {
                format!("param `{}` must be a non-negative int", param_id.get_ref())
            })?,
            _ => {
                return Err(format!(
                    "param `{}` must be an int to give a deadline",
                    param_id.get_ref()
                ));
            }
        };
        let unit = match param
            .def
            .get_ref()
            .unit
            .as_ref()
            .map(|u| u.get_ref().as_str())
        {
            Some("working_days") => DeadlineUnit::WorkingDays,
            Some("days") => DeadlineUnit::Days,
            Some("months") => DeadlineUnit::Months,
            other => {
                return Err(format!(
                    "param `{}` has unit `{}`; a deadline needs `working_days`, `days` or `months`",
                    param_id.get_ref(),
                    other.unwrap_or("none")
                ));
            }
        };
        Ok((amount, unit))
    } else {
        match (deadline.amount, deadline.unit) {
            (Some(amount), Some(unit)) => Ok((amount, unit)),
            _ => Err("a deadline needs `param`, or `amount` and `unit`".to_string()),
        }
    }
}

/// Computes a deadline; `relevant` is false for obligations that do not apply (no date then).
pub(crate) fn compute_deadline(
    pack: &Pack,
    deadline: &DeadlineDef,
    profile: &Profile,
    calendar: &Calendar,
    relevant: bool,
) -> DeadlineResult {
    let calendar_id = deadline
        .calendar
        .as_ref()
        .or(pack.meta.default_calendar.as_ref())
        .map_or_else(|| "cn-mainland".to_string(), |c| c.get_ref().clone());
    let anchor = deadline.anchor.get_ref().clone();
    let anchor_date = date_fact(profile, &anchor);
    let resolved = amount_and_unit(pack, deadline);
    let (amount, unit) = match &resolved {
        Ok((amount, unit)) => (Some(*amount), Some(*unit)),
        Err(_) => (None, None),
    };
    let mut result = DeadlineResult {
        amount,
        unit,
        before: deadline.before,
        param: deadline.param.as_ref().map(|p| p.get_ref().clone()),
        anchor: anchor.clone(),
        anchor_date,
        calendar: calendar_id.clone(),
        due: None,
        state: None,
        problem: None,
        caveat: None,
        provisional: None,
        rule_en: deadline.rule_en.clone(),
        rule_zh: deadline.rule_zh.clone(),
    };
    if !relevant {
        return result;
    }
    let (amount, unit) = match resolved {
        Ok(pair) => pair,
        Err(problem) => {
            result.problem = Some(problem);
            return result;
        }
    };
    let Some(anchor_date) = anchor_date else {
        result.problem = Some(format!("needs `{anchor}`"));
        return result;
    };
    if calendar_id != "cn-mainland" {
        result.problem = Some(CalendarError::Unknown(calendar_id).to_string());
        return result;
    }
    if deadline.before {
        // Due the given number of days before the event, never rolled forward past it.
        match anchor_date.checked_sub_days(chrono::Days::new(u64::from(amount))) {
            Some(date) => result.due = Some(date),
            None => result.problem = Some(CalendarError::OutOfRange.to_string()),
        }
        return result;
    }
    let due = match unit {
        DeadlineUnit::WorkingDays => calendar.add_working_days(anchor_date, amount),
        DeadlineUnit::Days => calendar.add_days(anchor_date, amount),
        DeadlineUnit::Months => calendar.add_months(anchor_date, amount),
    };
    match due {
        Ok(date) => result.due = Some(date),
        Err(err @ CalendarError::NotPublished { .. }) if unit != DeadlineUnit::WorkingDays => {
            // The nominal end is certain; only the holiday rule needs the calendar. Say so.
            let nominal = match unit {
                DeadlineUnit::Days => {
                    anchor_date.checked_add_days(chrono::Days::new(u64::from(amount)))
                }
                _ => anchor_date.checked_add_months(chrono::Months::new(amount)),
            };
            match nominal {
                Some(date) => {
                    result.due = Some(date);
                    result.caveat = Some(format!(
                        "provisional: {err}; moves to the day after the holiday if {date} is in an announced off period"
                    ));
                }
                None => result.problem = Some(CalendarError::OutOfRange.to_string()),
            }
        }
        Err(err @ CalendarError::NotPublished { .. }) => {
            // Working days: no exact date (fail closed), but a provisional one beside it.
            result.provisional = calendar
                .add_working_days_provisional(anchor_date, amount)
                .ok();
            result.problem = Some(err.to_string());
        }
        Err(err) => result.problem = Some(err.to_string()),
    }
    result
}
