//! The type checker: runs once when a pack loads, so that a condition that compares a fact with
//! the wrong type, names an undeclared fact or param, or tests an enum against a value it cannot
//! take is rejected with its location instead of silently never matching.

use std::collections::BTreeMap;

use super::{CmpOp, Expr, ExprError, ExprKind};
use crate::diagnostic::did_you_mean;
use crate::value::{Type, Value};

/// What a condition may refer to: the pack's facts (path → type) and params (id → value).
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Fact paths and their types, from `facts.toml`.
    pub facts: BTreeMap<String, Type>,
    /// Param ids and their values, from `params.toml`.
    pub params: BTreeMap<String, Value>,
}

/// Type-checks `expr` against `schema`, fills in `param(...)` values, and returns its type.
///
/// # Errors
///
/// An [`ExprError`] naming what is wrong, with the span of the sub-expression at fault.
pub fn check(expr: &mut Expr, schema: &Schema) -> Result<Type, ExprError> {
    let span = expr.span.clone();
    match &mut expr.kind {
        ExprKind::Bool(_) => Ok(Type::Bool),
        ExprKind::Int(_) => Ok(Type::Int),
        ExprKind::Decimal(_) => Ok(Type::Decimal),
        ExprKind::Str(_) => Ok(Type::Str),
        ExprKind::Date(_) => Ok(Type::Date),
        ExprKind::List(items) => {
            let mut element: Option<Type> = None;
            for item in items.iter_mut() {
                let item_type = check(item, schema)?;
                element = Some(match element {
                    None => item_type,
                    Some(previous) => unify(&previous, &item_type).ok_or_else(|| {
                        ExprError::new(
                            item.span.clone(),
                            format!("list mixes `{previous}` and `{item_type}` elements"),
                        )
                    })?,
                });
            }
            Ok(Type::List(Box::new(element.unwrap_or(Type::Str))))
        }
        ExprKind::Fact(path) => schema.facts.get(path.as_str()).cloned().ok_or_else(|| {
            ExprError::new(
                span,
                format!(
                    "unknown fact `{path}`{}",
                    did_you_mean(path, schema.facts.keys().map(String::as_str))
                ),
            )
        }),
        ExprKind::Has(path) => {
            if schema.facts.contains_key(path.as_str()) {
                Ok(Type::Bool)
            } else {
                Err(ExprError::new(
                    span,
                    format!(
                        "unknown fact `{path}`{}",
                        did_you_mean(path, schema.facts.keys().map(String::as_str))
                    ),
                ))
            }
        }
        ExprKind::Size(inner) => match check(inner, schema)? {
            Type::Set(_) | Type::List(_) => Ok(Type::Int),
            other => Err(ExprError::new(
                inner.span.clone(),
                format!("`size` takes a set or a list, not `{other}`"),
            )),
        },
        ExprKind::Param { id, value } => {
            let found = schema.params.get(id.as_str()).ok_or_else(|| {
                ExprError::new(
                    span,
                    format!(
                        "unknown param `{id}`{}",
                        did_you_mean(id, schema.params.keys().map(String::as_str))
                    ),
                )
            })?;
            *value = Some(found.clone());
            Ok(type_of_value(found))
        }
        ExprKind::Not(inner) => {
            expect_bool(inner, schema, "`!`")?;
            Ok(Type::Bool)
        }
        ExprKind::And(a, b) => {
            expect_bool(a, schema, "`&&`")?;
            expect_bool(b, schema, "`&&`")?;
            Ok(Type::Bool)
        }
        ExprKind::Or(a, b) => {
            expect_bool(a, schema, "`||`")?;
            expect_bool(b, schema, "`||`")?;
            Ok(Type::Bool)
        }
        ExprKind::Cmp(op, a, b) => {
            let left = check(a, schema)?;
            let right = check(b, schema)?;
            check_comparison(*op, a, &left, b, &right, span)?;
            Ok(Type::Bool)
        }
        ExprKind::In(a, b) => {
            let left = check(a, schema)?;
            let right = check(b, schema)?;
            match &right {
                Type::Set(values) | Type::Enum(values) if left.is_text() => {
                    // `x in enum_fact` reads as equality; both need a declared value.
                    check_literal_values(a, values)?;
                }
                Type::List(element) if unify(&left, element).is_some() => {
                    if let Type::Enum(values) = &left {
                        check_literal_values(b, values)?;
                    }
                }
                _ => {
                    return Err(ExprError::new(
                        span,
                        format!(
                            "`in` needs a value and a set or list of its type, found `{left}` in `{right}`"
                        ),
                    ));
                }
            }
            Ok(Type::Bool)
        }
        ExprKind::Cond(condition, then, otherwise) => {
            expect_bool(condition, schema, "the condition of `?:`")?;
            let then_type = check(then, schema)?;
            let otherwise_type = check(otherwise, schema)?;
            unify(&then_type, &otherwise_type).ok_or_else(|| {
                ExprError::new(
                    span,
                    format!("the branches of `?:` have different types: `{then_type}` and `{otherwise_type}`"),
                )
            })
        }
    }
}

fn expect_bool(expr: &mut Expr, schema: &Schema, context: &str) -> Result<(), ExprError> {
    let found = check(expr, schema)?;
    if found == Type::Bool {
        Ok(())
    } else {
        Err(ExprError::new(
            expr.span.clone(),
            format!("{context} needs a bool, found `{found}`"),
        ))
    }
}

/// The common type of two types, if they may be compared or mixed.
fn unify(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Type::Int | Type::Decimal, Type::Int | Type::Decimal) => Some(Type::Decimal),
        (Type::Enum(_), Type::Str) => Some(a.clone()),
        (Type::Str, Type::Enum(_)) => Some(b.clone()),
        (Type::Enum(_), Type::Enum(_)) => Some(Type::Str),
        (Type::List(x), Type::List(y)) => unify(x, y).map(|t| Type::List(Box::new(t))),
        _ => None,
    }
}

fn check_comparison(
    op: CmpOp,
    a: &Expr,
    left: &Type,
    b: &Expr,
    right: &Type,
    span: std::ops::Range<usize>,
) -> Result<(), ExprError> {
    let Some(common) = unify(left, right) else {
        return Err(ExprError::new(
            span,
            format!("cannot compare `{left}` with `{right}` using `{op}`"),
        ));
    };
    if !(matches!(op, CmpOp::Eq | CmpOp::Ne) || common.is_number() || common == Type::Date) {
        return Err(ExprError::new(
            span,
            format!("`{op}` orders numbers and dates, not `{common}`"),
        ));
    }
    if let Type::Enum(values) = left {
        check_literal_values(b, values)?;
    }
    if let Type::Enum(values) = right {
        check_literal_values(a, values)?;
    }
    Ok(())
}

/// A string literal (or list of them) compared with an enum must be one of its values.
fn check_literal_values(expr: &Expr, values: &[String]) -> Result<(), ExprError> {
    match &expr.kind {
        ExprKind::Str(text) if !values.iter().any(|v| v == text) => Err(ExprError::new(
            expr.span.clone(),
            format!(
                "`{text}` is not a value of this fact{}; expected one of {}",
                did_you_mean(text, values.iter().map(String::as_str)),
                list(values)
            ),
        )),
        ExprKind::List(items) => items
            .iter()
            .try_for_each(|item| check_literal_values(item, values)),
        _ => Ok(()),
    }
}

pub(crate) fn list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The type of a param value.
pub(crate) fn type_of_value(value: &Value) -> Type {
    match value {
        Value::Bool(_) => Type::Bool,
        Value::Int(_) => Type::Int,
        Value::Decimal(_) => Type::Decimal,
        Value::Str(_) => Type::Str,
        Value::Date(_) => Type::Date,
        Value::Set(items) => Type::Set(items.iter().cloned().collect()),
        Value::List(items) => Type::List(Box::new(items.first().map_or(Type::Str, type_of_value))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn schema() -> Schema {
        let mut schema = Schema::default();
        let facts = [
            ("service.public_opinion", Type::Bool),
            ("service.users", Type::Int),
            ("service.launch_date", Type::Date),
            (
                "service.audience",
                Type::Enum(vec!["domestic_public".into(), "overseas_only".into()]),
            ),
            (
                "service.generates",
                Type::Set(vec!["text".into(), "image".into()]),
            ),
        ];
        for (path, kind) in facts {
            schema.facts.insert(path.into(), kind);
        }
        schema
            .params
            .insert("threshold".into(), Value::Int(1_000_000));
        schema
    }

    fn check_text(text: &str) -> String {
        let mut expr = match parse(text) {
            Ok(expr) => expr,
            Err(err) => return format!("parse error: {}", err.message),
        };
        match check(&mut expr, &schema()) {
            Ok(found) => format!("ok: {found}"),
            Err(err) => format!(
                "{}: {}",
                text.get(err.span.clone()).unwrap_or_default(),
                err.message
            ),
        }
    }

    #[test]
    fn type_errors() {
        let cases = [
            (
                "service.public_opinion && service.users >= param(\"threshold\")",
                "ok: bool",
            ),
            ("service.users >= 3.5", "ok: bool"),
            (
                "\"image\" in service.generates && size(service.generates) > 1",
                "ok: bool",
            ),
            ("service.audience in [\"domestic_public\"]", "ok: bool"),
            ("service.launch_date >= date(\"2025-09-01\")", "ok: bool"),
            (
                "service.audience == \"domestic\"",
                "\"domestic\": `domestic` is not a value of this fact, did you mean `domestic_public`; expected one of `domestic_public`, `overseas_only`",
            ),
            (
                "\"video\" in service.generates",
                "\"video\": `video` is not a value of this fact; expected one of `text`, `image`",
            ),
            (
                "service.public_opinon",
                "service.public_opinon: unknown fact `service.public_opinon`, did you mean `service.public_opinion`",
            ),
            (
                "service.users && true",
                "service.users: `&&` needs a bool, found `int`",
            ),
            (
                "service.users == \"many\"",
                "service.users == \"many\": cannot compare `int` with `string` using `==`",
            ),
            (
                "service.audience < \"x\"",
                "service.audience < \"x\": `<` orders numbers and dates, not `enum`",
            ),
            (
                "param(\"nope\") > 1",
                "param(\"nope\"): unknown param `nope`",
            ),
            (
                "size(service.users) > 1",
                "service.users: `size` takes a set or a list, not `int`",
            ),
            (
                "has(service.nope)",
                "has(service.nope): unknown fact `service.nope`",
            ),
            (
                "service.public_opinion ? 1 : \"x\"",
                "service.public_opinion ? 1 : \"x\": the branches of `?:` have different types: `int` and `string`",
            ),
            (
                "[1, \"a\"] == [1]",
                "\"a\": list mixes `int` and `string` elements",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(check_text(text), want, "{text}");
        }
    }
}
