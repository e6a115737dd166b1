//! Issue 19 item 14: the `hgr change` quantity table shows what is on file (declared changes,
//! decreases included) apart from what is proposed, and no 10% base under a filing.

use hegui_hgr::change::{ChangeReport, classify_file};
use hegui_hgr::report::{Format, render_change};

fn classify(text: &str) -> ChangeReport {
    classify_file("test.toml", text).unwrap_or_else(|err| panic!("{err}"))
}

const HEAD_APPROVAL: &str = "[approval]\nkind = \"approval\"\n\n[[resource]]\ntype = \"whole_blood\"\nquantity = 1000\nunit = \"例\"\n";
const HEAD_FILING: &str = "[approval]\nkind = \"filing\"\n\n[[resource]]\ntype = \"whole_blood\"\nquantity = 1000\nunit = \"例\"\n";

fn change(id: &str, status: &str, delta: i64) -> String {
    format!(
        "\n[[change]]\nid = \"{id}\"\nstatus = \"{status}\"\n[[change.item]]\ntype = \"whole_blood\"\ndelta = {delta}\n"
    )
}

type Row = (
    &'static str,
    Vec<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

#[test]
fn on_file_and_proposed_quantities() {
    // (kind, changes, on file, proposed, after, base, cumulative)
    let table: Vec<Row> = vec![
        // a declared decrease is on file
        (
            HEAD_APPROVAL,
            vec![change("d", "declared", -100)],
            900,
            0,
            900,
            Some(1000),
            Some(0),
        ),
        // a proposed decrease is not on file yet
        (
            HEAD_APPROVAL,
            vec![change("p", "proposed", -100)],
            1000,
            -100,
            900,
            Some(1000),
            Some(0),
        ),
        // declared +50 on file; proposed +40 apart; the 10% share counts both (90 of 1000)
        (
            HEAD_APPROVAL,
            vec![change("d", "declared", 50), change("p", "proposed", 40)],
            1050,
            40,
            1090,
            Some(1000),
            Some(90),
        ),
        // under a filing: no base and no cumulative share, whatever the changes
        (
            HEAD_FILING,
            vec![change("p", "proposed", 40)],
            1000,
            40,
            1040,
            None,
            None,
        ),
        (
            HEAD_FILING,
            vec![change("d", "declared", -10)],
            990,
            0,
            990,
            None,
            None,
        ),
    ];
    for (head, changes, on_file, proposed, after, base, cumulative) in table {
        let text = format!("{head}{}", changes.concat());
        let r = &classify(&text).resources[0];
        assert_eq!(
            (
                r.on_file,
                r.proposed,
                r.after_proposed,
                r.base,
                r.cumulative
            ),
            (on_file, proposed, after, base, cumulative),
            "{text}"
        );
    }
}

#[test]
fn the_table_shows_no_base_under_a_filing() {
    let filing = classify(&format!("{HEAD_FILING}{}", change("p", "proposed", 40)));
    let md = render_change(&filing, Format::Markdown).unwrap();
    assert!(md.contains("在案（已申报）On file (declared)"), "{md}");
    assert!(
        md.contains("| whole_blood | 1000 例 | 1000 | +40 → 1040 | — | — |"),
        "{md}"
    );
    let approval = classify(&format!("{HEAD_APPROVAL}{}", change("p", "proposed", 40)));
    let md = render_change(&approval, Format::Markdown).unwrap();
    assert!(
        md.contains("| whole_blood | 1000 例 | 1000 | +40 → 1040 | 1000 | 40 (4.00%) |"),
        "{md}"
    );
}
