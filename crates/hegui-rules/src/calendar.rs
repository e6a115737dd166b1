//! The mainland-China working-day calendar, and deadlines in working days, days and months.
//!
//! The data is the State Council's annual holiday notices as vendored from NateScarlet/holiday-cn
//! (`data/holiday-cn/`, MIT). The rules, from `shared/reference/calendar.md`:
//!
//! - a working day is Monday–Friday minus the announced off days, plus the announced make-up
//!   working days (调休上班日);
//! - counting starts the day after the anchor (民法典 art. 201), so day 1 is the first working day
//!   after it;
//! - a day-or-month period whose last day falls in an announced off period ends the day after
//!   it (art. 203; we treat the whole announced off period as 法定休假日, an assumption ❓);
//! - month periods end on the corresponding day, or the month's last day (art. 202);
//! - **fail closed**: a date in a year whose notice is not published cannot be classified and
//!   yields [`CalendarError::NotPublished`], never a guess. In strict mode (the default) a December
//!   date of year Y also needs the notice for Y+1, which can move late-December days;
//! - beside that refusal, [`Calendar::add_working_days_provisional`] gives a **provisional** date
//!   that counts every Monday–Friday of an unpublished year as a working day (weekends only), for
//!   planning; the report marks it provisional and never judges a deadline overdue on it.
//!
//! Schedules published after a release are imported into a user data directory (the holiday-cn
//! format; [`user`]), so users need no new release each November.

pub mod user;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::Deserialize;

/// Why a calendar could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// The State Council notice for the year is not in the data.
    #[error("calendar not published for {year}")]
    NotPublished {
        /// The year.
        year: i32,
    },
    /// A holiday data file is malformed or inconsistent.
    #[error("holiday data `{file}`: {message}")]
    Data {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The calendar id is not known.
    #[error("unknown calendar `{0}`: the only calendar is `cn-mainland`")]
    Unknown(String),
    /// The date would overflow.
    #[error("date out of range")]
    OutOfRange,
    /// A user calendar file or directory cannot be read or written.
    #[error("`{path}`: {message}")]
    Io {
        /// The path.
        path: String,
        /// What failed.
        message: String,
    },
}

#[derive(Deserialize)]
struct YearFile {
    year: i32,
    papers: Vec<String>,
    days: Vec<DayEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DayEntry {
    date: NaiveDate,
    is_off_day: bool,
    #[serde(default)]
    name: String,
}

/// A working-day calendar built from holiday-cn year files.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Exceptional days: date → (is off day, holiday name).
    days: BTreeMap<NaiveDate, (bool, String)>,
    /// Years whose notice is published, with the notice URLs.
    published: BTreeMap<i32, Vec<String>>,
    strict_december: bool,
}

impl Calendar {
    /// The bundled mainland-China calendar (`cn-mainland`).
    ///
    /// # Errors
    ///
    /// [`CalendarError::Data`] if the bundled files are inconsistent (a build defect).
    pub fn cn_mainland() -> Result<Calendar, CalendarError> {
        Self::from_json_files(crate::pack::HOLIDAYS.iter().map(|(n, t)| (*n, *t)))
    }

    /// A calendar by id; only `cn-mainland` exists.
    ///
    /// # Errors
    ///
    /// [`CalendarError::Unknown`] for another id.
    pub fn by_id(id: &str) -> Result<Calendar, CalendarError> {
        if id == "cn-mainland" {
            Self::cn_mainland()
        } else {
            Err(CalendarError::Unknown(id.to_string()))
        }
    }

    /// Builds a calendar from `(file name, JSON)` pairs in the holiday-cn format.
    ///
    /// # Errors
    ///
    /// [`CalendarError::Data`] if a file does not parse, lists days without notice URLs, or two
    /// files disagree about a date.
    pub fn from_json_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Calendar, CalendarError> {
        let mut days: BTreeMap<NaiveDate, (bool, String)> = BTreeMap::new();
        let mut published = BTreeMap::new();
        for (name, text) in files {
            let data = |message: String| CalendarError::Data {
                file: name.to_string(),
                message,
            };
            let parsed: YearFile =
                serde_json::from_str(text).map_err(|err| data(err.to_string()))?;
            if parsed.papers.is_empty() {
                if !parsed.days.is_empty() {
                    return Err(data("lists days but no notice in `papers`".into()));
                }
                continue;
            }
            published.insert(parsed.year, parsed.papers);
            for day in parsed.days {
                if let Some((previous, _)) = days.get(&day.date)
                    && *previous != day.is_off_day
                {
                    return Err(data(format!(
                        "disagrees with another file about {}",
                        day.date
                    )));
                }
                days.insert(day.date, (day.is_off_day, day.name));
            }
        }
        Ok(Calendar {
            days,
            published,
            strict_december: true,
        })
    }

    /// Lenient mode resolves December dates of year Y without the notice for Y+1 (which may still
    /// move some of them). Strict mode (the default) reports them as not published.
    #[must_use]
    pub fn lenient_december(mut self, lenient: bool) -> Self {
        self.strict_december = !lenient;
        self
    }

    /// Years with a published notice.
    pub fn published_years(&self) -> BTreeSet<i32> {
        self.published.keys().copied().collect()
    }

    /// The notice URLs for a year.
    pub fn notices(&self, year: i32) -> &[String] {
        self.published.get(&year).map_or(&[], Vec::as_slice)
    }

    fn check_published(&self, date: NaiveDate) -> Result<(), CalendarError> {
        let year = date.year();
        if !self.published.contains_key(&year) {
            return Err(CalendarError::NotPublished { year });
        }
        if self.strict_december && date.month() == 12 && !self.published.contains_key(&(year + 1)) {
            return Err(CalendarError::NotPublished { year: year + 1 });
        }
        Ok(())
    }

    /// Whether `date` is a working day.
    ///
    /// # Errors
    ///
    /// [`CalendarError::NotPublished`] when the data cannot decide.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.check_published(date)?;
        Ok(match self.days.get(&date) {
            Some((off, _)) => !off,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// Whether `date` is in an announced off period (a listed holiday day).
    ///
    /// # Errors
    ///
    /// [`CalendarError::NotPublished`] when the data cannot decide.
    pub fn is_announced_off_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.check_published(date)?;
        Ok(matches!(self.days.get(&date), Some((true, _))))
    }

    /// The `n`-th working day counted from the day after `anchor` (民法典 art. 201).
    ///
    /// # Errors
    ///
    /// [`CalendarError::NotPublished`] when the count reaches an unpublished year.
    pub fn add_working_days(&self, anchor: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut date = anchor;
        let mut counted = 0;
        while counted < n {
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::OutOfRange)?;
            if self.is_working_day(date)? {
                counted += 1;
            }
        }
        Ok(date)
    }

    /// The end of a period of `n` calendar days after `anchor`, moved past an announced off
    /// period it ends in (arts. 201, 203).
    ///
    /// # Errors
    ///
    /// [`CalendarError::NotPublished`] when the end date cannot be classified.
    pub fn add_days(&self, anchor: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let end = anchor
            .checked_add_days(Days::new(u64::from(n)))
            .ok_or(CalendarError::OutOfRange)?;
        self.past_off_period(end)
    }

    /// The end of a period of `n` months after `anchor`: the corresponding day, or the month's
    /// last day (art. 202), moved past an announced off period (art. 203).
    ///
    /// # Errors
    ///
    /// [`CalendarError::NotPublished`] when the end date cannot be classified.
    pub fn add_months(&self, anchor: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let end = anchor
            .checked_add_months(Months::new(n))
            .ok_or(CalendarError::OutOfRange)?;
        self.past_off_period(end)
    }

    /// The `n`-th working day after `anchor` as [`Calendar::add_working_days`] counts it, except
    /// that a day whose year (or, strictly, whose next year's notice) is not published counts as
    /// a working day when it is Monday–Friday: weekends only, no holidays. A **provisional** date
    /// for planning, to show beside the refusal of an exact one; it equals the exact date when
    /// the calendar is published.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OutOfRange`] if the date would overflow.
    pub fn add_working_days_provisional(
        &self,
        anchor: NaiveDate,
        n: u32,
    ) -> Result<NaiveDate, CalendarError> {
        let mut date = anchor;
        let mut counted = 0;
        while counted < n {
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::OutOfRange)?;
            let working = match self.is_working_day(date) {
                Ok(working) => working,
                Err(CalendarError::NotPublished { .. }) => match self.days.get(&date) {
                    // A day the published notice of its own year already lists still counts
                    // as listed; otherwise weekends only.
                    Some((off, _)) => !off,
                    None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
                },
                Err(err) => return Err(err),
            };
            if working {
                counted += 1;
            }
        }
        Ok(date)
    }

    fn past_off_period(&self, mut date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        while self.is_announced_off_day(date)? {
            date = date
                .checked_add_days(Days::new(1))
                .ok_or(CalendarError::OutOfRange)?;
        }
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// The 2018/2019 December case (vector 12) is not in the vendored 2023–2026 data: this fixture
    /// holds only the days of the 2018 and 2019 notices around the year boundary.
    const Y2018: &str = r#"{"year": 2018, "papers": ["http://www.gov.cn/zhengce/content/2017-11/30/content_5243579.htm"], "days": [
        {"name": "元旦", "date": "2018-01-01", "isOffDay": true}]}"#;
    const Y2019: &str = r#"{"year": 2019, "papers": ["http://www.gov.cn/zhengce/content/2018-12/06/content_5346276.htm"], "days": [
        {"name": "元旦", "date": "2018-12-29", "isOffDay": false},
        {"name": "元旦", "date": "2018-12-30", "isOffDay": true},
        {"name": "元旦", "date": "2018-12-31", "isOffDay": true},
        {"name": "元旦", "date": "2019-01-01", "isOffDay": true}]}"#;

    enum Want {
        Date(&'static str),
        Unknown(i32),
    }

    /// Golden vectors from `shared/reference/calendar.md` §5: (number, anchor, n, strict, lenient).
    const VECTORS: &[(u32, &str, u32, Want, Want)] = &[
        (
            1,
            "2025-09-26",
            10,
            Want::Date("2025-10-16"),
            Want::Date("2025-10-16"),
        ),
        (
            2,
            "2024-09-27",
            10,
            Want::Date("2024-10-16"),
            Want::Date("2024-10-16"),
        ),
        (
            3,
            "2026-02-13",
            10,
            Want::Date("2026-03-05"),
            Want::Date("2026-03-05"),
        ),
        (
            4,
            "2026-01-30",
            20,
            Want::Date("2026-03-05"),
            Want::Date("2026-03-05"),
        ),
        (
            5,
            "2025-10-01",
            1,
            Want::Date("2025-10-09"),
            Want::Date("2025-10-09"),
        ),
        (
            6,
            "2026-09-18",
            1,
            Want::Date("2026-09-20"),
            Want::Date("2026-09-20"),
        ),
        (
            7,
            "2024-02-09",
            1,
            Want::Date("2024-02-18"),
            Want::Date("2024-02-18"),
        ),
        (
            8,
            "2024-04-30",
            20,
            Want::Date("2024-05-30"),
            Want::Date("2024-05-30"),
        ),
        (
            9,
            "2025-01-24",
            10,
            Want::Date("2025-02-13"),
            Want::Date("2025-02-13"),
        ),
        (
            10,
            "2024-12-31",
            1,
            Want::Date("2025-01-02"),
            Want::Date("2025-01-02"),
        ),
        (
            11,
            "2025-12-31",
            3,
            Want::Date("2026-01-06"),
            Want::Date("2026-01-06"),
        ),
        (
            13,
            "2026-12-24",
            10,
            Want::Unknown(2027),
            Want::Unknown(2027),
        ),
        (
            14,
            "2026-12-24",
            5,
            Want::Unknown(2027),
            Want::Date("2026-12-31"),
        ),
        (
            15,
            "2026-11-20",
            10,
            Want::Unknown(2027),
            Want::Date("2026-12-04"),
        ),
    ];

    fn check(calendar: &Calendar, number: u32, anchor: &str, n: u32, want: &Want, mode: &str) {
        let got = calendar.add_working_days(d(anchor), n);
        match want {
            Want::Date(date) => assert_eq!(got, Ok(d(date)), "vector {number} ({mode})"),
            Want::Unknown(year) => assert_eq!(
                got,
                Err(CalendarError::NotPublished { year: *year }),
                "vector {number} ({mode})"
            ),
        }
    }

    #[test]
    fn golden_vectors() {
        let strict = Calendar::cn_mainland().unwrap();
        let lenient = strict.clone().lenient_december(true);
        for (number, anchor, n, want_strict, want_lenient) in VECTORS {
            check(&strict, *number, anchor, *n, want_strict, "strict");
            check(&lenient, *number, anchor, *n, want_lenient, "lenient");
        }
    }

    #[test]
    fn vector_12_december_set_by_next_years_notice() {
        let calendar =
            Calendar::from_json_files([("2018.json", Y2018), ("2019.json", Y2019)]).unwrap();
        assert_eq!(
            calendar.add_working_days(d("2018-12-28"), 1),
            Ok(d("2018-12-29"))
        );
        assert_eq!(
            calendar.add_working_days(d("2018-12-28"), 2),
            Ok(d("2019-01-02"))
        );
        // Without the 2019 notice, strict mode refuses December 2018.
        let without = Calendar::from_json_files([("2018.json", Y2018)]).unwrap();
        assert_eq!(
            without.add_working_days(d("2018-12-28"), 1),
            Err(CalendarError::NotPublished { year: 2019 })
        );
    }

    #[test]
    fn calendar_days_and_months() {
        let calendar = Calendar::cn_mainland().unwrap();
        // 30 days from 2025-09-01 end on 2025-10-01, a holiday: the period ends 2025-10-09.
        assert_eq!(calendar.add_days(d("2025-09-01"), 30), Ok(d("2025-10-09")));
        assert_eq!(calendar.add_days(d("2025-03-01"), 10), Ok(d("2025-03-11")));
        // Art. 202: no corresponding day means the month's last day.
        assert_eq!(calendar.add_months(d("2025-08-31"), 6), Ok(d("2026-02-28")));
        // 2025-08-01 + 6 months = 2026-02-01 (a Sunday, not an announced holiday).
        assert_eq!(calendar.add_months(d("2025-08-01"), 6), Ok(d("2026-02-01")));
        // 2025-08-17 + 6 months = 2026-02-17, in the Spring Festival: ends 2026-02-24.
        assert_eq!(calendar.add_months(d("2025-08-17"), 6), Ok(d("2026-02-24")));
        assert_eq!(
            calendar.add_months(d("2026-08-01"), 6),
            Err(CalendarError::NotPublished { year: 2027 })
        );
    }

    #[test]
    fn every_listed_day_is_classified_as_listed() {
        let calendar = Calendar::cn_mainland().unwrap().lenient_december(true);
        let makeup = [
            "2023-01-28",
            "2023-01-29",
            "2023-04-23",
            "2023-05-06",
            "2023-06-25",
            "2023-10-07",
            "2023-10-08",
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
            "2025-01-26",
            "2025-02-08",
            "2025-04-27",
            "2025-09-28",
            "2025-10-11",
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ];
        for date in makeup {
            assert_eq!(calendar.is_working_day(d(date)), Ok(true), "{date}");
        }
        // 2022-12-31 is in `2023.json` but 2022's own notice is not vendored: it stays unknown.
        for (date, (off, _)) in calendar.days.iter().filter(|(date, _)| date.year() >= 2023) {
            assert_eq!(calendar.is_working_day(*date), Ok(!off), "{date}");
        }
        assert_eq!(calendar.published_years(), [2023, 2024, 2025, 2026].into());
        assert_eq!(
            calendar.is_working_day(d("2027-03-01")),
            Err(CalendarError::NotPublished { year: 2027 })
        );
    }

    #[test]
    fn inconsistent_or_unsourced_data_fails_to_load() {
        let no_papers = r#"{"year": 2030, "papers": [], "days": [{"name": "x", "date": "2030-01-01", "isOffDay": true}]}"#;
        assert!(Calendar::from_json_files([("2030.json", no_papers)]).is_err());
        let a = r#"{"year": 2030, "papers": ["u"], "days": [{"name": "x", "date": "2029-12-31", "isOffDay": true}]}"#;
        let b = r#"{"year": 2029, "papers": ["u"], "days": [{"name": "x", "date": "2029-12-31", "isOffDay": false}]}"#;
        assert!(Calendar::from_json_files([("2030.json", a), ("2029.json", b)]).is_err());
        let empty = r#"{"year": 2027, "papers": [], "days": []}"#;
        let calendar = Calendar::from_json_files([("2027.json", empty)]).unwrap();
        assert!(calendar.published_years().is_empty());
    }

    proptest! {
        #[test]
        fn working_day_sums(offset in 0u64..900, m in 1u32..25, n in 1u32..25) {
            let calendar = Calendar::cn_mainland().unwrap();
            let anchor = d("2023-01-01") + Days::new(offset);
            let Ok(first) = calendar.add_working_days(anchor, m) else { return Ok(()); };
            prop_assert!(first > anchor);
            prop_assert_eq!(calendar.is_working_day(first), Ok(true));
            if let Ok(total) = calendar.add_working_days(anchor, m + n) {
                prop_assert_eq!(calendar.add_working_days(first, n), Ok(total));
            }
        }
    }
}
