//! Unit tests of the change classification: the seed's worked cases, boundaries and a model-based
//! property test of the cumulative 10% rule.

use super::input::position;
use super::*;

fn report(text: &str) -> ChangeReport {
    classify_file("APPROVAL.toml", text).expect("valid input")
}

fn classes(report: &ChangeReport) -> Vec<ChangeClass> {
    report.changes.iter().map(|c| c.class).collect()
}

const HEADER: &str =
    "[approval]\nkind = \"approval\"\n[[resource]]\ntype = \"blood\"\nquantity = 1000\n";

fn with_changes(kind: &str, deltas: &[i64]) -> String {
    let mut text = HEADER.replace("\"approval\"\n[[", &format!("\"{kind}\"\n[["));
    for (i, delta) in deltas.iter().enumerate() {
        text.push_str(&format!(
            "[[change]]\nid = \"c{}\"\n[[change.item]]\ntype = \"blood\"\ndelta = {delta}\n",
            i + 1
        ));
    }
    text
}

#[test]
fn seed_four_five_three_percent() {
    let r = report(&with_changes("approval", &[40, 50, 30]));
    assert_eq!(
        classes(&r),
        [
            ChangeClass::NonMajor,
            ChangeClass::NonMajor,
            ChangeClass::Major
        ]
    );
    let crossing = &r.changes[2].items[0];
    assert_eq!(crossing.cumulative, Some(120));
    assert_eq!(
        crossing
            .declare_together
            .iter()
            .map(|c| (c.change.as_str(), c.delta))
            .collect::<Vec<_>>(),
        [("c1", 40), ("c2", 50), ("c3", 30)]
    );
    // After the major change is approved, the new base is 1120 and counting restarts.
    assert_eq!(r.resources[0].base, Some(1120));
    assert_eq!(r.resources[0].cumulative, Some(0));
}

#[test]
fn boundary_exactly_ten_percent_is_non_major() {
    let table: &[(&[i64], &[ChangeClass])] = &[
        (&[100], &[ChangeClass::NonMajor]),
        (&[101], &[ChangeClass::Major]),
        (&[50, 50], &[ChangeClass::NonMajor, ChangeClass::NonMajor]),
        (&[50, 51], &[ChangeClass::NonMajor, ChangeClass::Major]),
        (&[-200], &[ChangeClass::None]),
        (&[-200, 100], &[ChangeClass::None, ChangeClass::NonMajor]),
        (&[0], &[ChangeClass::None]),
    ];
    for (deltas, expected) in table {
        let r = report(&with_changes("approval", deltas));
        assert_eq!(&classes(&r), expected, "deltas {deltas:?}");
    }
}

#[test]
fn filing_makes_every_change_major() {
    let r = report(&with_changes("filing", &[40, -10, 1]));
    assert_eq!(classes(&r), [ChangeClass::Major; 3]);
}

#[test]
fn new_type_and_flags() {
    let text = format!(
        "{HEADER}[[change]]\nid = \"n\"\n[[change.item]]\ntype = \"tissue\"\ndelta = 10\n\
         [[change]]\nid = \"u\"\n[[change.item]]\ntype = \"blood\"\nunit = \"smaller\"\n\
         [[change]]\nid = \"p\"\npartner = true\n\
         [[change]]\nid = \"t\"\n[[change.item]]\ntype = \"tissue\"\ndelta = 1\n"
    );
    let r = report(&text);
    // The new type is major; a 10% rule starts for it at 10 (1 of 10 = 10%: non-major).
    assert_eq!(
        classes(&r),
        [
            ChangeClass::Major,
            ChangeClass::None,
            ChangeClass::Major,
            ChangeClass::NonMajor
        ]
    );
    assert_eq!(r.resources[1].added_by.as_deref(), Some("n"));
}

#[test]
fn declared_history_mismatch_is_a_finding() {
    let text = format!(
        "{HEADER}[[change]]\nid = \"c1\"\nstatus = \"declared\"\ndeclared_as = \"non_major\"\n[[change.item]]\ntype = \"blood\"\ndelta = 150\n\
         [[change]]\nid = \"c2\"\n[[change.item]]\ntype = \"blood\"\ndelta = 10\n"
    );
    let r = report(&text);
    assert_eq!(classes(&r), [ChangeClass::Major, ChangeClass::Major]);
    assert_eq!(r.findings.len(), 1);
    // c1 stayed on file as non-major, so c2 must declare both.
    assert_eq!(r.changes[1].items[0].declare_together.len(), 2);
}

#[test]
fn errors_name_the_line() {
    let cases: &[(&str, &str)] = &[
        (
            "[approval]\nkind = \"permit\"\n",
            "APPROVAL.toml:2:8: unknown variant `permit`, expected `approval` or `filing`",
        ),
        (
            "[approval]\nkind = \"approval\"\n[[resource]]\ntype = \"blood\"\nquantity = 0\n",
            "APPROVAL.toml:5:12: approved quantity of `blood` must be positive, found `0`",
        ),
        (
            "[approval]\nkind = \"approval\"\n[[resource]]\ntype = \"blood\"\nquantity = 10\n[[change]]\n[[change.item]]\ntype = \"saliva\"\ndelta = -3\n",
            "APPROVAL.toml:9:9: change `#1` adds the new type `saliva` with a non-positive quantity `-3`",
        ),
        (
            "[approval]\nkind = \"approval\"\n[[resource]]\ntype = \"blood\"\nquantity = 10\nextra = 1\n",
            "APPROVAL.toml:6:1: unknown field `extra`, expected one of `type`, `name`, `quantity`, `unit`",
        ),
    ];
    for (text, expected) in cases {
        let err = classify_file("APPROVAL.toml", text).expect_err("invalid");
        assert_eq!(err.to_string(), *expected);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Decreases never change how the increases are classified, wherever they sit.
        #[test]
        fn decreases_do_not_matter(increases in proptest::collection::vec(1i64..80, 1..8), decreases in proptest::collection::vec(-300i64..-1, 0..5), seed in any::<u64>()) {
            let only = report(&with_changes("approval", &increases));
            let mut mixed: Vec<i64> = increases;
            let mut s = seed;
            for d in &decreases {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = usize::try_from(s >> 33).unwrap_or(0) % (mixed.len() + 1);
                mixed.insert(at, *d);
            }
            let with = report(&with_changes("approval", &mixed));
            let increase_classes: Vec<ChangeClass> = with.changes.iter().zip(&mixed).filter(|(_, d)| **d > 0).map(|(c, _)| c.class).collect();
            prop_assert_eq!(increase_classes, classes(&only));
            for (c, d) in with.changes.iter().zip(&mixed) {
                if *d < 0 { prop_assert_eq!(c.class, ChangeClass::None); }
            }
        }

        /// The cumulative rule against a straightforward model: running sum since the last
        /// major change, compared with 10% of the base at that time.
        #[test]
        fn cumulative_rule_matches_model(increases in proptest::collection::vec(1i64..150, 1..12)) {
            let r = report(&with_changes("approval", &increases));
            let (mut base, mut sum) = (1000i64, 0i64);
            for (delta, outcome) in increases.iter().zip(&r.changes) {
                let cumulative = sum + delta;
                let expected = if cumulative * 100 <= base * 10 { ChangeClass::NonMajor } else { ChangeClass::Major };
                prop_assert_eq!(outcome.class, expected);
                if expected == ChangeClass::Major {
                    let declared: i64 = outcome.items[0].declare_together.iter().map(|c| c.delta).sum();
                    prop_assert_eq!(declared, cumulative);
                    base += cumulative;
                    sum = 0;
                } else {
                    sum = cumulative;
                }
            }
        }

        /// Under a filing, every non-zero change is major.
        #[test]
        fn filing_is_always_major(deltas in proptest::collection::vec(prop_oneof![-100i64..-1, 1i64..100], 1..8)) {
            let r = report(&with_changes("filing", &deltas));
            prop_assert!(r.changes.iter().all(|c| c.class == ChangeClass::Major));
        }
    }
}

#[test]
fn position_counts_lines_and_chars() {
    assert_eq!(position("a\nbc\n全d", 8), (3, 2));
    assert_eq!(position("", 5), (1, 1));
}

#[test]
fn dates_are_kept() {
    let text = format!(
        "{HEADER}[[change]]\ndate = 2024-03-01\n[[change.item]]\ntype = \"blood\"\ndelta = 5\n"
    );
    let r = report(&text);
    assert_eq!(r.changes[0].date.as_deref(), Some("2024-03-01"));
}
