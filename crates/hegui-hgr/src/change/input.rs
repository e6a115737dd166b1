//! The `APPROVAL.toml` input of [`super`]: its model, reading it with every problem located by
//! line and column, and the checks a file must pass before it is classified.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{ApprovalKind, ChangeClass, ChangeReport, Status, UnitChange, change_id, classify};

// ------------------------------------------------------------------------------- input model

/// `APPROVAL.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFile {
    /// The approval or filing.
    pub approval: ApprovalHeader,
    /// Initially approved quantities, one per HGR type.
    #[serde(rename = "resource")]
    pub resources: Vec<Resource>,
    /// Changes, in the order they were (or will be) declared.
    #[serde(default, rename = "change")]
    pub changes: Vec<Change>,
}

/// `[approval]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalHeader {
    /// Approval or filing.
    pub kind: ApprovalKind,
    /// Approval or filing number.
    #[serde(default)]
    pub number: Option<String>,
    /// Project title.
    #[serde(default)]
    pub title: Option<String>,
    /// Date granted.
    #[serde(default)]
    pub date: Option<toml::value::Datetime>,
}

/// `[[resource]]`: one HGR type and its initially approved quantity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Type key, e.g. `whole_blood`.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Display name, e.g. `全血`.
    #[serde(default)]
    pub name: Option<String>,
    /// Initially approved quantity.
    pub quantity: Spanned<i64>,
    /// Unit, e.g. `例` or `tubes`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// `[[change]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Id shown in reports (default `#n`).
    #[serde(default)]
    pub id: Option<String>,
    /// Date declared or planned.
    #[serde(default)]
    pub date: Option<toml::value::Datetime>,
    /// Declared (history) or proposed.
    #[serde(default)]
    pub status: Status,
    /// For a declared change: how it was declared.
    #[serde(default)]
    pub declared_as: Option<Spanned<ChangeClass>>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Partner changed (合作方).
    #[serde(default)]
    pub partner: bool,
    /// Purpose changed (研究目的).
    #[serde(default)]
    pub purpose: bool,
    /// Content changed (研究内容).
    #[serde(default)]
    pub content: bool,
    /// Protocol changed (研究方案).
    #[serde(default)]
    pub protocol: bool,
    /// Use of the HGR changed (用途).
    #[serde(default, rename = "use")]
    pub use_changed: bool,
    /// Cooperation term changed (合作期限).
    #[serde(default)]
    pub term: bool,
    /// Quantity and unit changes per type.
    #[serde(default, rename = "item")]
    pub items: Vec<ChangeItem>,
}

/// `[[change.item]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeItem {
    /// Type key; a key not among the resources adds a new type.
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    /// Change of quantity: positive increases, negative decreases.
    #[serde(default)]
    pub delta: Option<Spanned<i64>>,
    /// Change of unit specification.
    #[serde(default)]
    pub unit: Option<UnitChange>,
}

// ------------------------------------------------------------------------------------ errors

/// A problem in an `APPROVAL.toml`, with its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct InputError {
    /// File name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Why an `APPROVAL.toml` could not be classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// One or more problems, each with its line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<InputError>),
}

pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

struct Located<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<InputError>,
}

impl Located<'_> {
    fn push(&mut self, span: Range<usize>, message: String) {
        let (line, column) = position(self.text, span.start);
        self.errors.push(InputError {
            file: self.file.to_string(),
            line,
            column,
            message,
        });
    }
}

/// Reads and classifies an `APPROVAL.toml`; `file` names it in errors.
///
/// # Errors
///
/// [`ChangeError::Invalid`] with every problem and its line.
pub fn classify_file(file: &str, text: &str) -> Result<ChangeReport, ChangeError> {
    let mut located = Located {
        file,
        text,
        errors: Vec::new(),
    };
    let parsed: ApprovalFile = match toml::from_str(text) {
        Ok(parsed) => parsed,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            located.push(span, err.message().to_string());
            return Err(ChangeError::Invalid(located.errors));
        }
    };
    validate(&parsed, &mut located);
    if !located.errors.is_empty() {
        return Err(ChangeError::Invalid(located.errors));
    }
    Ok(classify(&parsed))
}

fn validate(file: &ApprovalFile, located: &mut Located<'_>) {
    let mut known: BTreeMap<String, ()> = BTreeMap::new();
    if file.resources.is_empty() {
        located.push(
            0..0,
            "no `[[resource]]`: give each approved HGR type and its quantity".into(),
        );
    }
    for resource in &file.resources {
        let kind = resource.kind.get_ref();
        if kind.trim().is_empty() {
            located.push(resource.kind.span(), "resource `type` is empty".into());
        }
        if known.insert(kind.clone(), ()).is_some() {
            located.push(
                resource.kind.span(),
                format!("resource type `{kind}` is listed twice"),
            );
        }
        if *resource.quantity.get_ref() <= 0 {
            located.push(
                resource.quantity.span(),
                format!(
                    "approved quantity of `{kind}` must be positive, found `{}`",
                    resource.quantity.get_ref()
                ),
            );
        }
    }
    let mut ids: BTreeMap<String, ()> = BTreeMap::new();
    for (index, change) in file.changes.iter().enumerate() {
        let id = change_id(change, index);
        if ids.insert(id.clone(), ()).is_some() {
            let span = change.items.first().map(|i| i.kind.span()).unwrap_or(0..0);
            located.push(span, format!("change id `{id}` is used twice"));
        }
        let flags = change.partner
            || change.purpose
            || change.content
            || change.protocol
            || change.use_changed
            || change.term;
        if change.items.is_empty() && !flags {
            // No span for a table header in toml's Spanned model; point at the declared_as if any.
            let span = change
                .declared_as
                .as_ref()
                .map(Spanned::span)
                .unwrap_or(0..0);
            located.push(span, format!("change `{id}` changes nothing: give `[[change.item]]` or a flag (partner, purpose, content, protocol, use, term)"));
        }
        if let Some(declared) = &change.declared_as
            && change.status == Status::Proposed
        {
            located.push(
                declared.span(),
                format!(
                    "change `{id}` is proposed but has `declared_as`; set `status = \"declared\"`"
                ),
            );
        }
        for item in &change.items {
            let kind = item.kind.get_ref();
            match (&item.delta, item.unit) {
                (None, None) => located.push(item.kind.span(), format!("change `{id}`, type `{kind}`: give `delta` or `unit`")),
                (Some(delta), _) if !known.contains_key(kind) && *delta.get_ref() <= 0 => located.push(
                    delta.span(),
                    format!("change `{id}` adds the new type `{kind}` with a non-positive quantity `{}`", delta.get_ref()),
                ),
                (None, Some(_)) if !known.contains_key(kind) => located.push(
                    item.kind.span(),
                    format!("change `{id}` changes the unit of `{kind}`, which is not an approved type"),
                ),
                _ => {}
            }
            if item.delta.as_ref().is_some_and(|d| *d.get_ref() > 0) {
                known.insert(kind.clone(), ());
            }
        }
    }
}
