//! Service profiles: the input of an assessment, a TOML file of facts in the pack's schema.
//!
//! A profile is read with spans (toml's `DeTable`) so that every problem — an unknown fact path, a
//! value of the wrong type, a value outside an enum, an unknown control or obligation id — is an
//! error at its line and column. A fact the profile does not give is *unknown*, never false.
//!
//! Three top-level tables are reserved and are not facts: `[profile]` (name, description),
//! `[hegui]` (the hegui controls in use and the config file cited as evidence) and `[evidence]`
//! (obligation id → evidence).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostics, Located, SourceFile, did_you_mean};
use crate::expr::check::list;
use crate::model::date_of;
use crate::pack::Pack;
use crate::value::{Type, Value};

/// A validated service profile.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Profile {
    /// `[profile] name`.
    pub name: Option<String>,
    /// `[profile] description`.
    pub description: Option<String>,
    /// Fact path → value, for the facts the profile gives.
    pub facts: BTreeMap<String, Value>,
    /// `[hegui]`, if present.
    pub hegui: Option<HeguiUse>,
    /// `[evidence]`: obligation id → evidence.
    pub evidence: BTreeMap<String, Vec<String>>,
    /// Whether the profile has `[hegui]` or `[evidence]`, which turns on the gap list.
    pub tracks_gaps: bool,
}

/// The hegui controls a service runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HeguiUse {
    /// Control ids from the pack's `controls.toml`.
    pub controls: BTreeSet<String>,
    /// The gateway config file, cited as evidence.
    pub config: Option<String>,
}

impl Profile {
    /// Parses and validates a profile file against `pack`.
    ///
    /// # Errors
    ///
    /// Every problem found, each at its line.
    pub fn parse(file: &SourceFile, pack: &Pack) -> Result<Profile, Diagnostics> {
        let table =
            DeTable::parse(file.text()).map_err(|err| Diagnostics(vec![file.toml_error(&err)]))?;
        Self::from_table(table.get_ref(), file, pack)
    }

    /// Validates an already parsed table (a profile file, or a scenario's `[profile]`).
    ///
    /// # Errors
    ///
    /// Every problem found, each at its line.
    pub fn from_table(
        table: &DeTable<'_>,
        file: &SourceFile,
        pack: &Pack,
    ) -> Result<Profile, Diagnostics> {
        let mut reader = Reader {
            file,
            pack,
            errors: Vec::new(),
            profile: Profile::default(),
        };
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "profile" => reader.meta(value),
                "hegui" => reader.hegui(value),
                "evidence" => reader.evidence(value),
                path => reader.fact(path, key, value),
            }
        }
        if reader.errors.is_empty() {
            Ok(reader.profile)
        } else {
            Err(Diagnostics(reader.errors))
        }
    }
}

struct Reader<'a> {
    file: &'a SourceFile,
    pack: &'a Pack,
    errors: Vec<Located>,
    profile: Profile,
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a decimal",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl Reader<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, message: String) {
        self.errors.push(self.file.error(span, message));
    }

    fn string(&mut self, value: &Spanned<DeValue<'_>>, what: &str) -> Option<String> {
        if let DeValue::String(text) = value.get_ref() {
            Some(text.to_string())
        } else {
            let found = type_name(value.get_ref());
            self.error(
                value.span(),
                format!("{what}: expected a string, found {found}"),
            );
            None
        }
    }

    fn strings(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        what: &str,
    ) -> Vec<(String, std::ops::Range<usize>)> {
        match value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| self.string(item, what).map(|s| (s, item.span())))
                .collect(),
            DeValue::String(text) => vec![(text.to_string(), value.span())],
            other => {
                let found = type_name(other);
                self.error(
                    value.span(),
                    format!("{what}: expected an array of strings, found {found}"),
                );
                Vec::new()
            }
        }
    }

    fn table<'v, 'i>(
        &mut self,
        value: &'v Spanned<DeValue<'i>>,
        what: &str,
    ) -> Option<&'v DeTable<'i>> {
        if let DeValue::Table(table) = value.get_ref() {
            Some(table)
        } else {
            let found = type_name(value.get_ref());
            self.error(
                value.span(),
                format!("`{what}` must be a table, found {found}"),
            );
            None
        }
    }

    fn meta(&mut self, value: &Spanned<DeValue<'_>>) {
        let Some(table) = self.table(value, "profile") else {
            return;
        };
        for (key, item) in table {
            match key.get_ref().as_ref() {
                "name" => self.profile.name = self.string(item, "`profile.name`"),
                "description" => {
                    self.profile.description = self.string(item, "`profile.description`");
                }
                other => self.error(
                    key.span(),
                    format!("unknown key `profile.{other}`: expected `name` or `description`"),
                ),
            }
        }
    }

    fn hegui(&mut self, value: &Spanned<DeValue<'_>>) {
        let Some(table) = self.table(value, "hegui") else {
            return;
        };
        self.profile.tracks_gaps = true;
        let mut hegui = HeguiUse::default();
        for (key, item) in table {
            match key.get_ref().as_ref() {
                "controls" => {
                    for (id, span) in self.strings(item, "`hegui.controls`") {
                        if self.pack.controls.contains_key(&id) {
                            hegui.controls.insert(id);
                        } else {
                            let hint =
                                did_you_mean(&id, self.pack.controls.keys().map(String::as_str));
                            self.error(span, format!("unknown control `{id}`{hint}"));
                        }
                    }
                }
                "config" => hegui.config = self.string(item, "`hegui.config`"),
                other => self.error(
                    key.span(),
                    format!("unknown key `hegui.{other}`: expected `controls` or `config`"),
                ),
            }
        }
        self.profile.hegui = Some(hegui);
    }

    fn evidence(&mut self, value: &Spanned<DeValue<'_>>) {
        let Some(table) = self.table(value, "evidence") else {
            return;
        };
        self.profile.tracks_gaps = true;
        for (key, item) in table {
            let id = key.get_ref().to_string();
            if self.pack.obligation(&id).is_none() {
                let hint = did_you_mean(
                    &id,
                    self.pack
                        .obligations
                        .iter()
                        .map(|o| o.def.id.get_ref().as_str()),
                );
                self.error(
                    key.span(),
                    format!("unknown obligation `{id}` in `[evidence]`{hint}"),
                );
                continue;
            }
            let items = self.strings(item, &format!("evidence for `{id}`"));
            self.profile
                .evidence
                .insert(id, items.into_iter().map(|(s, _)| s).collect());
        }
    }

    fn fact(
        &mut self,
        path: &str,
        key: &Spanned<toml::de::DeString<'_>>,
        value: &Spanned<DeValue<'_>>,
    ) {
        if let Some(kind) = self.pack.schema.facts.get(path) {
            let kind = kind.clone();
            if let Some(converted) = self.convert(path, &kind, value) {
                self.profile.facts.insert(path.to_string(), converted);
            }
            return;
        }
        let prefix = format!("{path}.");
        let is_prefix = self
            .pack
            .schema
            .facts
            .keys()
            .any(|fact| fact.starts_with(&prefix));
        match value.get_ref() {
            DeValue::Table(table) if is_prefix => {
                for (child_key, child) in table {
                    let child_path = format!("{path}.{}", child_key.get_ref());
                    self.fact(&child_path, child_key, child);
                }
            }
            _ => {
                let hint = did_you_mean(path, self.pack.schema.facts.keys().map(String::as_str));
                let message = if is_prefix {
                    format!("`{path}` is a group of facts, not a fact: write `{path}.<name> = …`")
                } else {
                    format!("unknown fact `{path}`{hint}")
                };
                self.error(key.span(), message);
            }
        }
    }

    fn convert(&mut self, path: &str, kind: &Type, value: &Spanned<DeValue<'_>>) -> Option<Value> {
        let span = value.span();
        let raw = value.get_ref();
        let converted = match (kind, raw) {
            (Type::Bool, DeValue::Boolean(b)) => Some(Value::Bool(*b)),
            (Type::Int, DeValue::Integer(n)) => integer(n).map(Value::Int),
            (Type::Decimal, DeValue::Integer(n)) => {
                #[expect(clippy::cast_precision_loss, reason = "profile numbers are small")]
                let as_float = integer(n).map(|n| n as f64);
                as_float.map(Value::Decimal)
            }
            (Type::Decimal, DeValue::Float(f)) => {
                f.as_str().replace('_', "").parse().ok().map(Value::Decimal)
            }
            (Type::Str, DeValue::String(s)) => Some(Value::Str(s.to_string())),
            (Type::Date, DeValue::Datetime(dt)) => date_of(dt).map(Value::Date),
            (Type::Enum(values), DeValue::String(s)) => {
                if values.iter().any(|v| v == s.as_ref()) {
                    Some(Value::Str(s.to_string()))
                } else {
                    let hint = did_you_mean(s, values.iter().map(String::as_str));
                    self.error(
                        span,
                        format!(
                            "`{path}`: `{s}` is not allowed{hint}; expected one of {}",
                            list(values)
                        ),
                    );
                    return None;
                }
            }
            (Type::Set(values), DeValue::Array(items)) => {
                let mut set = BTreeSet::new();
                let mut ok = true;
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) if values.iter().any(|v| v == s.as_ref()) => {
                            set.insert(s.to_string());
                        }
                        DeValue::String(s) => {
                            let hint = did_you_mean(s, values.iter().map(String::as_str));
                            self.error(
                                item.span(),
                                format!(
                                    "`{path}`: `{s}` is not allowed{hint}; expected one of {}",
                                    list(values)
                                ),
                            );
                            ok = false;
                        }
                        other => {
                            let found = type_name(other);
                            self.error(
                                item.span(),
                                format!("`{path}`: expected a string, found {found}"),
                            );
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return None;
                }
                Some(Value::Set(set))
            }
            _ => {
                let expected = match kind {
                    Type::Bool => "a boolean (`true` or `false`)".to_string(),
                    Type::Int => "an integer".to_string(),
                    Type::Decimal => "a number".to_string(),
                    Type::Str => "a string".to_string(),
                    Type::Date => "a date such as 2026-03-01 (unquoted)".to_string(),
                    Type::Enum(values) => format!("one of {}", list(values)),
                    Type::Set(values) => format!("an array of {}", list(values)),
                    Type::List(_) => "a list".to_string(),
                };
                let found = match raw {
                    DeValue::String(s) => format!("the string \"{s}\""),
                    other => type_name(other).to_string(),
                };
                self.error(
                    span,
                    format!("`{path}`: expected {expected}, found {found}"),
                );
                return None;
            }
        };
        if converted.is_none() {
            self.error(span, format!("`{path}`: value out of range"));
        }
        converted
    }
}

fn integer(n: &toml::de::DeInteger<'_>) -> Option<i64> {
    i64::from_str_radix(&n.as_str().replace('_', ""), n.radix()).ok()
}

/// Reads a date-valued fact.
pub(crate) fn date_fact(profile: &Profile, path: &str) -> Option<NaiveDate> {
    match profile.facts.get(path) {
        Some(Value::Date(date)) => Some(*date),
        _ => None,
    }
}
