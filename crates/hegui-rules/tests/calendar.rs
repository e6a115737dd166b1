//! Issue 19 item 11: provisional dates in years whose State Council schedule is not published,
//! and schedules imported into a user data directory after the release.

use std::path::PathBuf;

use hegui_rules::calendar::user;
use hegui_rules::chrono::NaiveDate;
use hegui_rules::{Calendar, CalendarError};

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A fresh, empty data directory for one test (removed first if a previous run left it).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hegui-calendar-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A 2027 schedule in the holiday-cn format, for the tests only (the real notice is not out):
/// New Year 2027-01-01 to 01-03 off, Saturday 2027-01-09 a make-up working day.
const Y2027: &str = r#"{"year": 2027, "papers": ["https://www.gov.cn/example/2027-notice.htm"], "days": [
    {"name": "元旦", "date": "2027-01-01", "isOffDay": true},
    {"name": "元旦", "date": "2027-01-02", "isOffDay": true},
    {"name": "元旦", "date": "2027-01-03", "isOffDay": true},
    {"name": "元旦", "date": "2027-01-09", "isOffDay": false}]}"#;

#[test]
fn provisional_dates_count_weekends_only_in_unpublished_years() {
    let calendar = Calendar::cn_mainland().unwrap();
    // (anchor, n, exact, provisional): the exact count refuses where the provisional one counts
    // every Monday–Friday of the unpublished days.
    let table: &[(&str, u32, Option<&str>, &str)] = &[
        // published: both agree (calendar.md vector 3)
        ("2026-02-13", 10, Some("2026-03-05"), "2026-03-05"),
        // calendar.md vector 13: 10 working days from 2026-12-24 reach 2027
        ("2026-12-24", 10, None, "2027-01-07"),
        // vector 15: strict December; the provisional count stays inside 2026
        ("2026-11-20", 10, None, "2026-12-04"),
        // inside the published year nothing changes: Friday + 1 is Monday either way
        ("2026-11-27", 1, Some("2026-11-30"), "2026-11-30"),
    ];
    for (anchor, n, exact, provisional) in table {
        let got = calendar.add_working_days(d(anchor), *n);
        match exact {
            Some(want) => assert_eq!(got, Ok(d(want)), "{anchor} + {n}"),
            None => assert!(
                matches!(got, Err(CalendarError::NotPublished { .. })),
                "{anchor} + {n}: {got:?}"
            ),
        }
        assert_eq!(
            calendar.add_working_days_provisional(d(anchor), *n),
            Ok(d(provisional)),
            "{anchor} + {n} provisional"
        );
    }
}

#[test]
fn an_imported_year_gives_exact_dates_and_replaces_the_provisional_one() {
    let dir = scratch("import");
    let bundled = Calendar::cn_mainland_with_user_data(Some(&dir)).unwrap();
    assert!(!bundled.published_years().contains(&2027));
    let done = user::import(&dir, "2027.json", Y2027).unwrap();
    assert_eq!(
        (done.year, done.days, done.replaced, done.bundled),
        (2027, 4, false, false)
    );
    assert!(done.path.ends_with("calendars/cn-mainland/2027.json"));
    let calendar = Calendar::cn_mainland_with_user_data(Some(&dir)).unwrap();
    assert!(calendar.published_years().contains(&2027));
    // 2026-12-24 + 10: Dec 25, 28–31 (5), Jan 4–8 (10); Jan 1–3 off.
    assert_eq!(
        calendar.add_working_days(d("2026-12-24"), 10),
        Ok(d("2027-01-08"))
    );
    // importing the same year again replaces it
    assert!(user::import(&dir, "2027.json", Y2027).unwrap().replaced);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn imports_that_are_not_published_or_disagree_are_refused() {
    let dir = scratch("refuse");
    let refused = [
        // no notice: not published
        r#"{"year": 2027, "papers": [], "days": []}"#,
        // a day outside the year and its previous December
        r#"{"year": 2027, "papers": ["u"], "days": [{"name": "x", "date": "2026-05-01", "isOffDay": false}]}"#,
        // disagrees with the bundled 2026 schedule (2026-01-01 is off there)
        r#"{"year": 2026, "papers": ["u"], "days": [{"name": "x", "date": "2026-01-01", "isOffDay": false}]}"#,
        // not JSON of the holiday-cn shape
        r#"{"year": "2027"}"#,
    ];
    for text in refused {
        assert!(user::import(&dir, "bad.json", text).is_err(), "{text}");
    }
    assert!(!user::calendar_dir(&dir).exists() || user::imported_files(&dir).unwrap().is_empty());
    // the bundled 2026 file itself imports cleanly (it agrees with itself)
    let year_2026 = include_str!("../../../data/holiday-cn/2026.json");
    assert!(user::import(&dir, "2026.json", year_2026).unwrap().bundled);
    let _ = std::fs::remove_dir_all(&dir);
}
