//! The confidence and article of individual citations in the shipped packs, as a table.
//!
//! Scenarios check which citations a report shows on a date; they do not check how sure the pack
//! is of each one. Issue 19 corrected several citations (SA art. 7 for the security-assessment
//! timing, the Deep Synthesis articles the review read in the official text): this table pins
//! them, and pins the ones that must *not* be raised (the reference still marks them ❓ and the
//! issue said nothing of them).

use std::path::Path;

use hegui_rules::Pack;
use hegui_rules::model::Confidence;

fn pack(id: &str) -> Pack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../packs")
        .join(id);
    Pack::load_dir(&dir).unwrap_or_else(|err| panic!("{id} loads: {err}"))
}

/// The confidence of `instrument art. article [item]` on `obligation`, if it cites it.
fn confidence(
    pack: &Pack,
    obligation: &str,
    instrument: &str,
    article: &str,
    item: Option<&str>,
) -> Option<Confidence> {
    let found = pack
        .obligations
        .iter()
        .find(|o| o.def.id.get_ref() == obligation)
        .unwrap_or_else(|| panic!("no obligation `{obligation}`"));
    found
        .def
        .cite
        .iter()
        .find(|c| {
            c.instrument.get_ref() == instrument
                && c.article == article
                && (item.is_none() || c.item.as_deref() == item)
        })
        .map(|c| c.confidence)
}

/// (obligation, instrument, article, item, expected confidence; `None`: must not cite it).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<Confidence>,
);

#[test]
fn cn_genai_citation_confidence_table() {
    use Confidence::{Secondary, Unconfirmed, Verified};
    let pack = pack("cn-genai");
    // (obligation, instrument, article, item, expected confidence; None = must not cite it)
    let table: &[Row] = &[
        // SA art. 7 carries the report timing and the national platform: every trigger cites it.
        (
            "im.art17.security_assessment",
            "SA",
            "7",
            None,
            Some(Unconfirmed),
        ),
        ("sa.art3.new_function", "SA", "7", None, Some(Unconfirmed)),
        ("sa.art3.tech_change", "SA", "7", None, Some(Unconfirmed)),
        ("sa.art3.user_growth", "SA", "7", None, Some(Unconfirmed)),
        ("sa.art3.illegal_spread", "SA", "7", None, Some(Unconfirmed)),
        (
            "sa.art3.authority_notice",
            "SA",
            "7",
            None,
            Some(Unconfirmed),
        ),
        // the triggers themselves stay verified
        (
            "sa.art3.user_growth",
            "SA",
            "3",
            Some("(三)"),
            Some(Verified),
        ),
        // DS articles raised from "hypothesis" to secondary
        ("ar.art7.service_rules", "DS", "8", None, Some(Secondary)),
        ("ds.art11.refutation", "DS", "11", None, Some(Secondary)),
        (
            "ds.art15.biometric_tool_assessment",
            "DS",
            "15",
            Some("第二款(一)"),
            Some(Secondary),
        ),
        (
            "ds.art15.special_objects_assessment",
            "DS",
            "15",
            Some("第二款(二)"),
            Some(Secondary),
        ),
        (
            "ds.art17.labeling_function",
            "DS",
            "17",
            Some("第二款"),
            Some(Secondary),
        ),
        (
            "lm.art10.no_label_tampering",
            "DS",
            "18",
            None,
            Some(Secondary),
        ),
        (
            "ds.art19.supporter_filing",
            "DS",
            "19",
            None,
            Some(Secondary),
        ),
        // verified stays verified; the 5 % corpus rule is TC260-003 §5.1
        ("ds.art9.real_identity", "DS", "9", None, Some(Verified)),
        (
            "ds.art17.prominent_dialogue",
            "DS",
            "17",
            Some("第一款(一)"),
            Some(Verified),
        ),
        (
            "sbr.corpus.source_screening",
            "SBR",
            "5.1",
            None,
            Some(Secondary),
        ),
        (
            "sbr.corpus.source_shortfall",
            "SBR",
            "5.1",
            None,
            Some(Secondary),
        ),
        // negative: the refutation duty is not cited to art. 8, nor the SA timing to art. 3 alone
        ("ds.art11.refutation", "DS", "8", None, None),
        ("sbr.classifier", "SBR", "分类模型", None, Some(Unconfirmed)),
    ];
    let mut wrong = Vec::new();
    for (obligation, instrument, article, item, want) in table {
        let got = confidence(&pack, obligation, instrument, article, *item);
        if got != *want {
            wrong.push(format!(
                "{obligation}: {instrument} art. {article} {item:?}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_cn_genai_ds_citation_of_a_reviewed_article_is_left_unconfirmed() {
    let pack = pack("cn-genai");
    let reviewed = ["8", "11", "15", "17", "18", "19"];
    let left: Vec<String> = pack
        .obligations
        .iter()
        .flat_map(|o| o.def.cite.iter().map(move |c| (o, c)))
        .filter(|(_, c)| c.instrument.get_ref() == "DS" && reviewed.contains(&c.article.as_str()))
        .filter(|(_, c)| c.confidence == Confidence::Unconfirmed)
        .map(|(o, c)| format!("{} DS art. {}", o.def.id.get_ref(), c.article))
        .collect();
    assert!(left.is_empty(), "still unconfirmed: {left:?}");
}
