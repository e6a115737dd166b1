//! Loading a rule pack: parse every file with `deny_unknown_fields`, build the facts schema,
//! type-check every condition against it, and read the scenarios' profiles — collecting every
//! problem with its file, line and column rather than stopping at the first.
//!
//! Loading checks what is needed to evaluate the pack safely (syntax, types, fact paths, params
//! named in conditions). Cross-references and coverage (citations resolve, every control point
//! and binding article is covered, scenarios pass) are [`crate::lint()`]'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::diagnostic::{Diagnostics, Located, SourceFile, did_you_mean};
use crate::expr::{self, Expr, Schema};
use crate::model::{
    ControlDef, ControlsFile, FactDef, FactKind, FactsFile, ObligationDef, ObligationsFile,
    PackFile, ParamDef, ParamsFile, ScenarioFile, date_of,
};
use crate::profile::Profile;
use crate::value::{Type, Value};

/// Why a pack could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No embedded pack has this id.
    #[error("no bundled rule pack `{id}`; bundled packs: {available}")]
    UnknownPack {
        /// The id asked for.
        id: String,
        /// The ids available, comma-separated.
        available: String,
    },
    /// The pack's files have errors.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// A param with its converted value.
#[derive(Debug, Clone)]
pub struct Param {
    /// As written.
    pub def: Spanned<ParamDef>,
    /// The value.
    pub value: Value,
}

/// An obligation with its compiled condition.
#[derive(Debug, Clone)]
pub struct Obligation {
    /// As written.
    pub def: ObligationDef,
    /// The file it is in.
    pub file: SourceFile,
    /// The type-checked condition (`true` if it has no `when`).
    pub condition: Expr,
    /// The type-checked `deadline.done` condition, if any.
    pub done: Option<Expr>,
}

/// A scenario with its validated profile.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// As written.
    pub def: ScenarioFile,
    /// The file it is in.
    pub file: SourceFile,
    /// The profile.
    pub profile: Profile,
}

/// A loaded rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// `pack.toml`.
    pub meta: PackFile,
    /// The `pack.toml` source.
    pub pack_file: SourceFile,
    /// `facts.toml`.
    pub facts: BTreeMap<String, Spanned<FactDef>>,
    /// The `facts.toml` source, if present.
    pub facts_file: Option<SourceFile>,
    /// Fact and param types for conditions.
    pub schema: Schema,
    /// `params.toml`.
    pub params: BTreeMap<String, Param>,
    /// The `params.toml` source, if present.
    pub params_file: Option<SourceFile>,
    /// `controls.toml`.
    pub controls: BTreeMap<String, Spanned<ControlDef>>,
    /// The `controls.toml` source, if present.
    pub controls_file: Option<SourceFile>,
    /// Obligations, in file order.
    pub obligations: Vec<Obligation>,
    /// Scenarios, in file order.
    pub scenarios: Vec<Scenario>,
}

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// Ids of the packs embedded in this build (every `packs/<id>/` with a `pack.toml`).
pub fn embedded_ids() -> Vec<&'static str> {
    PACKS.iter().map(|(id, _)| *id).collect()
}

impl Pack {
    /// Loads an embedded pack by id.
    ///
    /// # Errors
    ///
    /// [`LoadError::UnknownPack`] or the pack's diagnostics.
    pub fn embedded(id: &str) -> Result<Pack, LoadError> {
        let Some((_, files)) = PACKS.iter().find(|(candidate, _)| *candidate == id) else {
            return Err(LoadError::UnknownPack {
                id: id.to_string(),
                available: embedded_ids().join(", "),
            });
        };
        let files = files
            .iter()
            .map(|(path, text)| ((*path).to_string(), (*text).to_string()))
            .collect();
        Self::from_files(&format!("packs/{id}"), files)
    }

    /// Loads a pack from a directory on disk.
    ///
    /// # Errors
    ///
    /// [`LoadError::Io`] or the pack's diagnostics.
    pub fn load_dir(dir: &Path) -> Result<Pack, LoadError> {
        let mut files = Vec::new();
        collect(dir, dir, &mut files)?;
        files.sort();
        let base = dir.display().to_string();
        Self::from_files(base.trim_end_matches('/'), files)
    }

    /// Loads a pack from `(relative path, text)` pairs; `base` prefixes file names in diagnostics.
    ///
    /// # Errors
    ///
    /// [`LoadError::Invalid`] with every problem found.
    pub fn from_files(base: &str, files: Vec<(String, String)>) -> Result<Pack, LoadError> {
        let mut errors = Vec::new();
        let mut by_name: BTreeMap<String, SourceFile> = files
            .into_iter()
            .map(|(relative, text)| {
                let source = SourceFile::new(format!("{base}/{relative}"), text);
                (relative, source)
            })
            .collect();

        let Some(pack_file) = by_name.remove("pack.toml") else {
            return Err(LoadError::Invalid(Diagnostics(vec![
                SourceFile::new(format!("{base}/pack.toml"), "")
                    .error_at_start("missing `pack.toml`: a pack directory needs one"),
            ])));
        };
        let meta: PackFile = match toml::from_str(pack_file.text()) {
            Ok(meta) => meta,
            Err(err) => {
                return Err(LoadError::Invalid(Diagnostics(vec![
                    pack_file.toml_error(&err),
                ])));
            }
        };

        let facts_file = by_name.remove("facts.toml");
        let errors_before_facts = errors.len();
        let facts = match &facts_file {
            Some(file) => parse::<FactsFile>(file, &mut errors)
                .map(|f| f.fact)
                .unwrap_or_default(),
            None => {
                errors.push(
                    SourceFile::new(format!("{base}/facts.toml"), "")
                        .error_at_start("missing `facts.toml`: a pack needs a facts schema"),
                );
                BTreeMap::new()
            }
        };
        let mut schema = Schema::default();
        for (path, def) in &facts {
            if let Some(file) = &facts_file
                && let Some(kind) = fact_type(path, def, file, &mut errors)
            {
                schema.facts.insert(path.clone(), kind);
            }
        }

        // Without a readable schema every condition would report its facts as unknown: skip them.
        let schema_ok = errors.len() == errors_before_facts;
        let params_file = by_name.remove("params.toml");
        let mut params = BTreeMap::new();
        if let Some(file) = &params_file {
            for (id, def) in parse::<ParamsFile>(file, &mut errors)
                .map(|f| f.param)
                .unwrap_or_default()
            {
                if let Some(value) = param_value(&id, &def, file, &mut errors) {
                    schema.params.insert(id.clone(), value.clone());
                    params.insert(id, Param { def, value });
                }
            }
        }

        let controls_file = by_name.remove("controls.toml");
        let controls = controls_file
            .as_ref()
            .and_then(|file| parse::<ControlsFile>(file, &mut errors))
            .map(|f| f.control)
            .unwrap_or_default();

        let mut obligations = Vec::new();
        let mut scenario_files = Vec::new();
        for (relative, file) in by_name {
            if relative.starts_with("obligations/") {
                let Some(parsed) = parse::<ObligationsFile>(&file, &mut errors) else {
                    continue;
                };
                for def in parsed.obligation {
                    let id = def.id.get_ref();
                    let (condition, done) = if schema_ok {
                        let done =
                            def.deadline
                                .as_ref()
                                .and_then(|d| d.done.as_ref())
                                .map(|done| {
                                    compile(
                                        done,
                                        &format!("`deadline.done` of `{id}`"),
                                        &file,
                                        &schema,
                                        &mut errors,
                                    )
                                });
                        let condition = def.when.as_ref().map_or_else(always, |when| {
                            compile(
                                when,
                                &format!("`when` of `{id}`"),
                                &file,
                                &schema,
                                &mut errors,
                            )
                        });
                        (condition, done)
                    } else {
                        (always(), None)
                    };
                    obligations.push(Obligation {
                        def,
                        file: file.clone(),
                        condition,
                        done,
                    });
                }
            } else if relative.starts_with("scenarios/") {
                scenario_files.push(file);
            }
        }

        let mut pack = Pack {
            meta,
            pack_file,
            facts,
            facts_file,
            schema,
            params,
            params_file,
            controls,
            controls_file,
            obligations,
            scenarios: Vec::new(),
        };
        if !errors.is_empty() {
            return Err(LoadError::Invalid(Diagnostics(errors).sorted()));
        }

        for file in scenario_files {
            let Some(def) = parse::<ScenarioFile>(&file, &mut errors) else {
                continue;
            };
            let profile = match toml::de::DeTable::parse(file.text()) {
                Ok(table) => match table.get_ref().get("profile") {
                    Some(value) => match value.get_ref() {
                        toml::de::DeValue::Table(inner) => Profile::from_table(inner, &file, &pack),
                        _ => Ok(Profile::default()),
                    },
                    None => Ok(Profile::default()),
                },
                Err(err) => Err(Diagnostics(vec![file.toml_error(&err)])),
            };
            match profile {
                Ok(profile) => pack.scenarios.push(Scenario { def, file, profile }),
                Err(found) => errors.extend(found.0),
            }
        }
        if errors.is_empty() {
            Ok(pack)
        } else {
            Err(LoadError::Invalid(Diagnostics(errors).sorted()))
        }
    }

    /// The pack id.
    pub fn id(&self) -> &str {
        self.meta.id.get_ref()
    }

    /// An obligation by id.
    pub fn obligation(&self, id: &str) -> Option<&Obligation> {
        self.obligations.iter().find(|o| o.def.id.get_ref() == id)
    }

    /// An instrument by id.
    pub fn instrument(&self, id: &str) -> Option<&crate::model::Instrument> {
        self.meta.instruments.iter().find(|i| i.id.get_ref() == id)
    }

    /// An authority by id.
    pub fn authority(&self, id: &str) -> Option<&crate::model::Authority> {
        self.meta.authorities.iter().find(|a| a.id.get_ref() == id)
    }

    /// A role by id.
    pub fn role(&self, id: &str) -> Option<&crate::model::Role> {
        self.meta.roles.iter().find(|r| r.id.get_ref() == id)
    }
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(base, &path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
                path: path.clone(),
                source,
            })?;
            let relative = path
                .strip_prefix(base)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((relative, text));
        }
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(
    file: &SourceFile,
    errors: &mut Vec<Located>,
) -> Option<T> {
    match toml::from_str(file.text()) {
        Ok(value) => Some(value),
        Err(err) => {
            errors.push(file.toml_error(&err));
            None
        }
    }
}

fn fact_type(
    path: &str,
    def: &Spanned<FactDef>,
    file: &SourceFile,
    errors: &mut Vec<Located>,
) -> Option<Type> {
    let inner = def.get_ref();
    let valid_path = !path.is_empty()
        && path.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !segment.starts_with(|c: char| c.is_ascii_digit())
        });
    if !valid_path {
        errors.push(file.error(
            def.span(),
            format!("fact path `{path}` must be dot-separated names of letters, digits and `_`"),
        ));
        return None;
    }
    if ["profile", "hegui", "evidence"].contains(&path.split('.').next().unwrap_or_default()) {
        errors.push(file.error(
            def.span(),
            format!("fact path `{path}` starts with a reserved table name (`profile`, `hegui`, `evidence`)"),
        ));
        return None;
    }
    let has_values = matches!(inner.kind, FactKind::Enum | FactKind::Set);
    if has_values && inner.values.is_empty() {
        errors.push(file.error(
            def.span(),
            format!("fact `{path}` is an enum or set and needs `values`"),
        ));
        return None;
    }
    if !has_values && !inner.values.is_empty() {
        errors.push(file.error(
            def.span(),
            format!("fact `{path}` has `values` but is not an enum or set"),
        ));
        return None;
    }
    Some(match inner.kind {
        FactKind::Bool => Type::Bool,
        FactKind::Int => Type::Int,
        FactKind::Decimal => Type::Decimal,
        FactKind::String => Type::Str,
        FactKind::Date => Type::Date,
        FactKind::Enum => Type::Enum(inner.values.clone()),
        FactKind::Set => Type::Set(inner.values.clone()),
    })
}

fn param_value(
    id: &str,
    def: &Spanned<ParamDef>,
    file: &SourceFile,
    errors: &mut Vec<Located>,
) -> Option<Value> {
    let raw = &def.get_ref().value;
    let value = match raw.get_ref() {
        toml::Value::Boolean(b) => Some(Value::Bool(*b)),
        toml::Value::Integer(n) => Some(Value::Int(*n)),
        toml::Value::Float(f) => Some(Value::Decimal(*f)),
        toml::Value::String(s) => Some(Value::Str(s.clone())),
        toml::Value::Datetime(dt) => date_of(dt).map(Value::Date),
        _ => None,
    };
    if value.is_none() {
        errors.push(file.error(
            raw.span(),
            format!("param `{id}`: value must be an int, decimal, string, bool or date"),
        ));
    }
    value
}

/// Byte offset of a string value's content within its TOML span (past the opening quotes).
pub(crate) fn content_offset(file: &SourceFile, span: &std::ops::Range<usize>) -> usize {
    let raw = file.text().get(span.clone()).unwrap_or_default();
    if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        let after = raw.get(3..).unwrap_or_default();
        let newline = if after.starts_with("\r\n") {
            2
        } else {
            usize::from(after.starts_with('\n'))
        };
        span.start + 3 + newline
    } else if raw.starts_with('\'') || raw.starts_with('"') {
        span.start + 1
    } else {
        span.start
    }
}

/// The condition `true`, for an obligation without `when` (or one that failed to compile).
fn always() -> Expr {
    Expr {
        kind: expr::ExprKind::Bool(true),
        span: 0..0,
    }
}

/// Parses and type-checks one condition (`what` names it in errors, e.g. "`when` of `x`").
fn compile(
    text: &Spanned<String>,
    what: &str,
    file: &SourceFile,
    schema: &Schema,
    errors: &mut Vec<Located>,
) -> Expr {
    let offset = content_offset(file, &text.span());
    let located = |err: expr::ExprError| {
        file.error(
            offset + err.span.start..offset + err.span.end,
            format!("in {what}: {}", err.message),
        )
    };
    let mut parsed = match expr::parse(text.get_ref()) {
        Ok(parsed) => parsed,
        Err(err) => {
            errors.push(located(err));
            return always();
        }
    };
    match expr::check(&mut parsed, schema) {
        Ok(Type::Bool) => parsed,
        Ok(other) => {
            errors.push(located(expr::ExprError::new(
                parsed.span.clone(),
                format!("a condition must be a bool, found `{other}`"),
            )));
            always()
        }
        Err(err) => {
            errors.push(located(err));
            always()
        }
    }
}

/// Suggestion helper re-exported for lint.
pub(crate) fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, candidates)
}
