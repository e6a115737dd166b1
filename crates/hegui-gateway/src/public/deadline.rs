//! The deadline of a complaint: the published time limit counted from the day it arrived, in
//! Beijing time, on the mainland-China working-day calendar (`hegui_rules::calendar`).
//!
//! Counting starts the day after arrival (民法典 art. 201); the deadline is the end of the last
//! day, 23:59:59.999 Beijing time. A count that reaches a year whose holiday notice is not
//! published yet gives a **provisional** date (weekends only), shown as such, never a guess
//! passed off as exact.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use hegui_rules::calendar::{Calendar, CalendarError};

use crate::clock::beijing_offset;

/// When a complaint must be answered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// The last day (Beijing time).
    pub(crate) date: NaiveDate,
    /// The end of that day, in milliseconds since the epoch.
    pub(crate) ms: i64,
    /// The count reached an unpublished calendar year: holidays there are not known yet.
    pub(crate) provisional: bool,
}

/// The embedded mainland-China calendar, loaded once.
fn calendar() -> Result<&'static Calendar, CalendarError> {
    static CALENDAR: OnceLock<Result<Calendar, CalendarError>> = OnceLock::new();
    CALENDAR
        .get_or_init(Calendar::cn_mainland)
        .as_ref()
        .map_err(Clone::clone)
}

/// The deadline of a complaint received at `received`: `days` working days (or calendar days
/// when `working` is false) after its Beijing date.
pub(crate) fn deadline(
    received: DateTime<Utc>,
    days: u32,
    working: bool,
) -> Result<Deadline, CalendarError> {
    deadline_on(calendar()?, received, days, working)
}

/// [`deadline`] on a given calendar.
pub(crate) fn deadline_on(
    calendar: &Calendar,
    received: DateTime<Utc>,
    days: u32,
    working: bool,
) -> Result<Deadline, CalendarError> {
    let day = received.with_timezone(&beijing_offset()).date_naive();
    let exact = if working {
        calendar.add_working_days(day, days)
    } else {
        calendar.add_days(day, days)
    };
    let (date, provisional) = match exact {
        Ok(date) => (date, false),
        Err(CalendarError::NotPublished { .. }) if working => {
            (calendar.add_working_days_provisional(day, days)?, true)
        }
        Err(CalendarError::NotPublished { .. }) => (
            day.checked_add_days(chrono::Days::new(u64::from(days)))
                .ok_or(CalendarError::OutOfRange)?,
            true,
        ),
        Err(e) => return Err(e),
    };
    let end = date
        .and_time(NaiveTime::from_hms_milli_opt(23, 59, 59, 999).unwrap_or_default())
        .and_local_timezone(beijing_offset())
        .single()
        .ok_or(CalendarError::OutOfRange)?;
    Ok(Deadline {
        date,
        ms: end.timestamp_millis(),
        provisional,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn deadlines_count_working_days_in_beijing_time() {
        // (received, days, working, deadline, provisional)
        let cases = [
            // 2025-09-28 (Sunday) was a make-up working day before the National Day holiday
            // (10-01..10-08 off, 10-11 Saturday a make-up working day): from Friday 09-26,
            // 3 working days are 09-28, 09-29, 09-30.
            ("2025-09-26T10:00:00+08:00", 3, true, "2025-09-30", false),
            // From 09-30: 10-01..10-08 are off, 10-09 (Thu), 10-10 (Fri), 10-11 (Sat, make-up).
            ("2025-09-30T10:00:00+08:00", 3, true, "2025-10-11", false),
            // 23:30 UTC on 09-29 is 07:30 on 09-30 in Beijing: counted from 09-30.
            ("2025-09-29T23:30:00Z", 1, true, "2025-10-09", false),
            // Calendar days: 15 after 09-20 is 10-05, inside the holiday: the day after it.
            ("2025-09-20T12:00:00+08:00", 15, false, "2025-10-09", false),
        ];
        for (received, days, working, expected, provisional) in cases {
            let got = deadline(at(received), days, working).unwrap();
            assert_eq!(
                (got.date.to_string().as_str(), got.provisional),
                (expected, provisional),
                "{received} + {days} (working: {working})"
            );
        }
    }

    #[test]
    fn an_unpublished_year_gives_a_provisional_date() {
        let got = deadline(at("2099-03-02T09:00:00+08:00"), 5, true).unwrap();
        assert!(got.provisional);
        // Monday 2099-03-02 + 5 working days, weekends only: Monday 03-09.
        assert_eq!(got.date.to_string(), "2099-03-09");
        let end = DateTime::from_timestamp_millis(got.ms).unwrap();
        assert_eq!(end.to_rfc3339(), "2099-03-09T15:59:59.999+00:00");
    }
}
