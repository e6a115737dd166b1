//! The gateway's clock, injected so that tests can set the time: everything that depends on the
//! time of day or the date reads it through a [`Clock`] (the guards: minors mode's quiet hours
//! and daily limit, reminders, the signed identity header's freshness, suspensions and the
//! violations of a day, the agreement in force; and `Gateway::now` for the rest: complaint and
//! personal-information deadlines, console sessions, the dashboard's week) instead of calling
//! `Utc::now()`. The store gets the same clock ([`hegui_store::Store::with_clock`]), so that the
//! rows it stamps (audit records, complaints, sanctions) agree with what the guards read.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset as _, Timelike as _, Utc};

/// The store's clock type: the gateway hands its clock to the store, so that both tell one time.
pub use hegui_store::clock::{Clock, system};

/// A time as Beijing sees it: the day and the minute of that day (0..1439).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BeijingTime {
    pub(crate) day: NaiveDate,
    pub(crate) minute: u32,
}

/// China Standard Time, UTC+8 all year.
pub(crate) fn beijing_offset() -> FixedOffset {
    // Eight hours is within the ±24 h a FixedOffset takes: never the fallback.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// `at` in Beijing time.
pub(crate) fn beijing(at: DateTime<Utc>) -> BeijingTime {
    let local = at.with_timezone(&beijing_offset());
    BeijingTime {
        day: local.date_naive(),
        minute: local.hour() * 60 + local.minute(),
    }
}

/// A time in ms since the epoch as RFC 3339 in Beijing time (what a page or a report for a
/// Chinese authority shows); the number itself if it is out of range.
pub fn beijing_rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&beijing_offset()).to_rfc3339())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_days_start_at_16_utc() {
        // (UTC, Beijing day, minute of the Beijing day)
        let cases = [
            ("2026-12-04T15:59:00Z", "2026-12-04", 23 * 60 + 59),
            ("2026-12-04T16:00:00Z", "2026-12-05", 0),
            ("2026-12-04T22:30:00Z", "2026-12-05", 6 * 60 + 30),
        ];
        for (utc, day, minute) in cases {
            let at = DateTime::parse_from_rfc3339(utc)
                .unwrap()
                .with_timezone(&Utc);
            let got = beijing(at);
            assert_eq!(
                (got.day.to_string().as_str(), got.minute),
                (day, minute),
                "{utc}"
            );
        }
    }
}
