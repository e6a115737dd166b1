//! Pack lint: the checks that make a pack trustworthy beyond "it loads".
//!
//! - ids are unique (obligations, instruments, authorities and roles, control points) and
//!   obligation ids are lowercase with dots and underscores;
//! - every reference resolves: citations (of obligations and params) to instruments, authorities
//!   and roles, controls, control points, deadline params, anchors (which must be date facts) and
//!   calendars;
//! - coverage: every control point in `pack.toml` is named by at least one obligation, and every
//!   `binding_articles` entry of each instrument is cited by at least one obligation;
//! - every scenario runs and matches its expectations.
//!
//! Fact paths and param names inside conditions are already checked when the pack loads.

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use crate::assess::{Status, assess};
use crate::calendar::Calendar;
use crate::deadline::amount_and_unit;
use crate::diagnostic::{Diagnostics, Located, SourceFile};
use crate::pack::{Pack, hint};
use crate::value::Type;

/// Lints a loaded pack. An empty result means the pack is clean.
pub fn lint(pack: &Pack, calendar: &Calendar) -> Diagnostics {
    let mut out = Vec::new();
    let pack_file = &pack.pack_file;
    let at = |file: &SourceFile, span: std::ops::Range<usize>, message: String| {
        file.error(span, message)
    };

    // Unique ids.
    unique(
        pack_file,
        pack.meta.instruments.iter().map(|i| &i.id),
        "instrument",
        &mut out,
    );
    unique(
        pack_file,
        pack.meta
            .authorities
            .iter()
            .map(|a| &a.id)
            .chain(pack.meta.roles.iter().map(|r| &r.id)),
        "authority or role",
        &mut out,
    );
    unique(
        pack_file,
        pack.meta.control_points.iter().map(|c| &c.id),
        "control point",
        &mut out,
    );
    let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
    for obligation in &pack.obligations {
        let id = &obligation.def.id;
        if seen.insert(id.get_ref().as_str(), ()).is_some() {
            out.push(at(
                &obligation.file,
                id.span(),
                format!("duplicate obligation id `{}`", id.get_ref()),
            ));
        }
        let well_formed = !id.get_ref().is_empty()
            && id
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
        if !well_formed {
            out.push(at(
                &obligation.file,
                id.span(),
                format!(
                    "obligation id `{}` must be lowercase letters, digits, dots and underscores",
                    id.get_ref()
                ),
            ));
        }
    }

    let instruments: BTreeSet<&str> = pack
        .meta
        .instruments
        .iter()
        .map(|i| i.id.get_ref().as_str())
        .collect();
    let authorities: BTreeSet<&str> = pack
        .meta
        .authorities
        .iter()
        .map(|a| a.id.get_ref().as_str())
        .collect();
    let roles: BTreeSet<&str> = pack
        .meta
        .roles
        .iter()
        .map(|r| r.id.get_ref().as_str())
        .collect();
    let control_points: BTreeSet<&str> = pack
        .meta
        .control_points
        .iter()
        .map(|c| c.id.get_ref().as_str())
        .collect();
    let known_calendars = ["cn-mainland"];

    if let Some(calendar_id) = &pack.meta.default_calendar
        && !known_calendars.contains(&calendar_id.get_ref().as_str())
    {
        out.push(at(
            pack_file,
            calendar_id.span(),
            format!(
                "unknown calendar `{}`: expected `cn-mainland`",
                calendar_id.get_ref()
            ),
        ));
    }
    for instrument in &pack.meta.instruments {
        if instrument.versions.is_empty() {
            out.push(at(
                pack_file,
                instrument.id.span(),
                format!(
                    "instrument `{}` has no `[[instrument.version]]` with an effective date",
                    instrument.id.get_ref()
                ),
            ));
        }
        for version in &instrument.versions {
            if version.until.is_some_and(|until| until < version.effective) {
                out.push(at(
                    pack_file,
                    instrument.id.span(),
                    format!(
                        "instrument `{}` version `{}` ends before it starts",
                        instrument.id.get_ref(),
                        version.label
                    ),
                ));
            }
        }
    }
    for role in &pack.meta.roles {
        if role.periods.is_empty() {
            out.push(at(
                pack_file,
                role.id.span(),
                format!("role `{}` has no `[[role.period]]`", role.id.get_ref()),
            ));
        }
        for period in &role.periods {
            let id = period.authority.get_ref();
            if !authorities.contains(id.as_str()) {
                out.push(at(
                    pack_file,
                    period.authority.span(),
                    format!(
                        "unknown authority `{id}`{}",
                        hint(id, authorities.iter().copied())
                    ),
                ));
            }
        }
    }

    // Params: citations resolve.
    if let Some(file) = &pack.params_file {
        for (id, param) in &pack.params {
            let cite = &param.def.get_ref().cite.instrument;
            if !instruments.contains(cite.get_ref().as_str()) {
                out.push(at(
                    file,
                    cite.span(),
                    format!(
                        "param `{id}` cites unknown instrument `{}`{}",
                        cite.get_ref(),
                        hint(cite.get_ref(), instruments.iter().copied())
                    ),
                ));
            }
        }
    }

    // Obligations: references.
    let mut cited: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut named_points: BTreeSet<&str> = BTreeSet::new();
    for obligation in &pack.obligations {
        let def = &obligation.def;
        let file = &obligation.file;
        let id = def.id.get_ref();
        if def.cite.is_empty() {
            out.push(at(
                file,
                def.id.span(),
                format!("obligation `{id}` has no `[[obligation.cite]]`"),
            ));
        }
        for cite in &def.cite {
            let instrument = cite.instrument.get_ref();
            if let Some(version) = &cite.version {
                let labels: Vec<&str> = pack
                    .instrument(instrument)
                    .map(|i| i.versions.iter().map(|v| v.label.as_str()).collect())
                    .unwrap_or_default();
                if !labels.contains(&version.get_ref().as_str()) {
                    out.push(at(
                        file,
                        version.span(),
                        format!(
                            "citation of `{instrument}` names version `{}`, which it does not have{}",
                            version.get_ref(),
                            hint(version.get_ref(), labels.iter().copied())
                        ),
                    ));
                }
            }
            if instruments.contains(instrument.as_str()) {
                cited.insert((instrument.as_str(), cite.article.as_str()));
            } else {
                out.push(at(
                    file,
                    cite.instrument.span(),
                    format!(
                        "unknown instrument `{instrument}`{}",
                        hint(instrument, instruments.iter().copied())
                    ),
                ));
            }
        }
        if let Some(authority) = &def.authority {
            let name = authority.get_ref();
            if !authorities.contains(name.as_str()) && !roles.contains(name.as_str()) {
                out.push(at(
                    file,
                    authority.span(),
                    format!(
                        "unknown authority or role `{name}`{}",
                        hint(name, authorities.iter().chain(roles.iter()).copied())
                    ),
                ));
            }
        }
        for control in &def.controls {
            let name = control.get_ref();
            if !pack.controls.contains_key(name) {
                out.push(at(
                    file,
                    control.span(),
                    format!(
                        "unknown control `{name}`{}",
                        hint(name, pack.controls.keys().map(String::as_str))
                    ),
                ));
            }
        }
        for point in &def.control_points {
            let name = point.get_ref();
            if control_points.contains(name.as_str()) {
                named_points.insert(name.as_str());
            } else {
                out.push(at(
                    file,
                    point.span(),
                    format!(
                        "unknown control point `{name}`{}",
                        hint(name, control_points.iter().copied())
                    ),
                ));
            }
        }
        for measure in &def.measure {
            let fact = measure.fact.get_ref();
            if !matches!(pack.schema.facts.get(fact), Some(Type::Int | Type::Decimal)) {
                out.push(at(
                    file,
                    measure.fact.span(),
                    format!("measure of `{id}`: `{fact}` is not an int or decimal fact"),
                ));
            }
            let param = measure.param.get_ref();
            if !matches!(
                pack.params.get(param).map(|p| &p.value),
                Some(crate::value::Value::Int(_) | crate::value::Value::Decimal(_))
            ) {
                out.push(at(
                    file,
                    measure.param.span(),
                    format!(
                        "measure of `{id}`: `{param}` is not an int or decimal param{}",
                        hint(param, pack.params.keys().map(String::as_str))
                    ),
                ));
            }
        }
        if let Some(deadline) = &def.deadline {
            let span = deadline.anchor.span();
            if deadline.rule_en.is_none() || deadline.rule_zh.is_none() {
                out.push(at(
                    file,
                    span.clone(),
                    format!("deadline of `{id}` needs both `rule_en` and `rule_zh`"),
                ));
            }
            if deadline.before
                && amount_and_unit(pack, deadline)
                    .is_ok_and(|(_, unit)| unit != crate::model::DeadlineUnit::Days)
            {
                out.push(at(
                    file,
                    span.clone(),
                    format!("deadline of `{id}` has `before = true`: its unit must be `days`"),
                ));
            }
            if deadline.param.is_some() && (deadline.amount.is_some() || deadline.unit.is_some()) {
                out.push(at(
                    file,
                    span.clone(),
                    format!("deadline of `{id}` has both `param` and `amount`/`unit`: use one"),
                ));
            }
            if let Err(problem) = amount_and_unit(pack, deadline) {
                let span = deadline.param.as_ref().map_or(span.clone(), Spanned::span);
                out.push(at(file, span, format!("deadline of `{id}`: {problem}")));
            }
            let anchor = deadline.anchor.get_ref();
            match pack.schema.facts.get(anchor) {
                Some(Type::Date) => {}
                Some(other) => out.push(at(
                    file,
                    span.clone(),
                    format!(
                        "deadline anchor `{anchor}` is a `{other}` fact; it must be a date fact"
                    ),
                )),
                None => out.push(at(
                    file,
                    span.clone(),
                    format!(
                        "deadline anchor `{anchor}` is not a declared fact{}",
                        hint(anchor, pack.schema.facts.keys().map(String::as_str))
                    ),
                )),
            }
            if let Some(calendar_id) = &deadline.calendar
                && !known_calendars.contains(&calendar_id.get_ref().as_str())
            {
                out.push(at(
                    file,
                    calendar_id.span(),
                    format!(
                        "unknown calendar `{}`: expected `cn-mainland`",
                        calendar_id.get_ref()
                    ),
                ));
            }
        }
    }

    // Coverage.
    for point in &pack.meta.control_points {
        if !named_points.contains(point.id.get_ref().as_str()) {
            out.push(at(
                pack_file,
                point.id.span(),
                format!(
                    "control point `{}` ({}) is not named by any obligation's `control_points`",
                    point.id.get_ref(),
                    point.point_zh
                ),
            ));
        }
    }
    for instrument in &pack.meta.instruments {
        for article in &instrument.binding_articles {
            if !cited.contains(&(instrument.id.get_ref().as_str(), article.get_ref().as_str())) {
                out.push(at(
                    pack_file,
                    article.span(),
                    format!(
                        "binding article {} of `{}` is not cited by any obligation",
                        article.get_ref(),
                        instrument.id.get_ref()
                    ),
                ));
            }
        }
    }

    // Scenarios.
    for scenario in &pack.scenarios {
        out.extend(check_scenario(pack, scenario, calendar));
    }
    Diagnostics(out).sorted()
}

fn unique<'a>(
    file: &SourceFile,
    ids: impl Iterator<Item = &'a Spanned<String>>,
    what: &str,
    out: &mut Vec<Located>,
) {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id.get_ref().as_str()) {
            out.push(file.error(id.span(), format!("duplicate {what} id `{}`", id.get_ref())));
        }
    }
}

/// Runs one scenario and compares the outcome with its `[expect]` table.
pub fn check_scenario(
    pack: &Pack,
    scenario: &crate::pack::Scenario,
    calendar: &Calendar,
) -> Vec<Located> {
    let mut out = Vec::new();
    let file = &scenario.file;
    let def = &scenario.def;
    let report = assess(pack, &scenario.profile, def.as_of.0, calendar);
    let by_id: BTreeMap<&str, &crate::assess::ObligationResult> = report
        .obligations
        .iter()
        .map(|o| (o.id.as_str(), o))
        .collect();
    // Every expectation names an obligation: an unknown id is reported once, where it stands.
    let mut lookup = |id: &Spanned<String>| -> Option<&crate::assess::ObligationResult> {
        let found = by_id.get(id.get_ref().as_str()).copied();
        if found.is_none() {
            out.push(file.error(
                id.span(),
                format!(
                    "scenario `{}`: unknown obligation `{}`{}",
                    def.name,
                    id.get_ref(),
                    hint(id.get_ref(), by_id.keys().copied())
                ),
            ));
        }
        found
    };
    let mut problems = Vec::new();
    let groups = [
        (&def.expect.applies, Status::Applicable),
        (&def.expect.not_applicable, Status::NotApplicable),
        (&def.expect.unknown, Status::Unknown),
        (&def.expect.not_in_force, Status::NotInForce),
    ];
    for (ids, want) in groups {
        for id in ids {
            let Some(result) = lookup(id) else {
                continue;
            };
            if result.status != want {
                let why = crate::report::why(result);
                problems.push(file.error(
                    id.span(),
                    format!(
                        "scenario `{}`: expected `{}` to be {}, but it is {} ({why})",
                        def.name,
                        id.get_ref(),
                        want.label_en(),
                        result.status.label_en()
                    ),
                ));
            }
        }
    }
    let listed = [
        (&def.expect.overdue, "overdue"),
        (&def.expect.not_overdue, "not overdue"),
        (&def.expect.gaps, "a gap"),
        (&def.expect.met, "met"),
        (&def.expect.warnings, "a warning"),
    ];
    for (ids, want) in listed {
        for id in ids {
            let Some(result) = lookup(id) else {
                continue;
            };
            let holds = match want {
                "overdue" => result.deadline.as_ref().is_some_and(|d| d.is_overdue()),
                "not overdue" => result
                    .deadline
                    .as_ref()
                    .is_some_and(|d| d.due.is_some() && !d.is_overdue()),
                "a gap" => result.coverage == Some(crate::assess::Coverage::Gap),
                "a warning" => result
                    .measures
                    .iter()
                    .any(|m| m.outcome == crate::coverage::MeasureOutcome::Warn),
                _ => matches!(
                    result.coverage,
                    Some(crate::assess::Coverage::Evidence | crate::assess::Coverage::Hegui)
                ),
            };
            if !holds {
                problems.push(file.error(
                    id.span(),
                    format!(
                        "scenario `{}`: expected `{}` to be {want}, but it is not ({}; {})",
                        def.name,
                        id.get_ref(),
                        crate::report::coverage(result),
                        crate::report::deadline(result)
                    ),
                ));
            }
        }
    }
    for expected in &def.expect.cites {
        let id = expected.obligation.get_ref();
        let Some(result) = lookup(&expected.obligation) else {
            continue;
        };
        let got: Vec<String> = result
            .citations
            .iter()
            .map(|c| format!("{} art. {}", c.instrument, c.article))
            .collect();
        if got != expected.articles {
            problems.push(file.error(
                expected.obligation.span(),
                format!(
                    "scenario `{}`: expected `{id}` to cite [{}], got [{}]",
                    def.name,
                    expected.articles.join("; "),
                    got.join("; ")
                ),
            ));
        }
    }
    for expected in &def.expect.deadline {
        let id = expected.obligation.get_ref();
        let Some(result) = lookup(&expected.obligation) else {
            continue;
        };
        let Some(deadline) = &result.deadline else {
            problems.push(file.error(
                expected.obligation.span(),
                format!("scenario `{}`: `{id}` has no deadline", def.name),
            ));
            continue;
        };
        let want = expected.due.map(|d| d.0);
        if deadline.due != want {
            let got = deadline.due.map_or_else(
                || {
                    format!(
                        "not computed ({})",
                        deadline
                            .problem
                            .as_deref()
                            .unwrap_or("obligation not applicable")
                    )
                },
                |d| d.to_string(),
            );
            let want = want.map_or_else(|| "not computable".to_string(), |d| d.to_string());
            problems.push(file.error(
                expected.obligation.span(),
                format!(
                    "scenario `{}`: expected `{id}` due {want}, got {got}",
                    def.name
                ),
            ));
        }
        if let Some(want) = expected.provisional.map(|d| d.0)
            && deadline.provisional != Some(want)
        {
            problems.push(file.error(
                expected.obligation.span(),
                format!(
                    "scenario `{}`: expected `{id}` provisionally due {want}, got {:?}",
                    def.name, deadline.provisional
                ),
            ));
        }
    }
    out.extend(problems);
    out
}
