//! Values of facts, params and expressions, and their types.
//!
//! A profile fact, a param and every sub-expression of a condition has one of these types; the
//! checker in [`crate::expr`] makes sure an expression only combines compatible ones, so that the
//! evaluator never meets a type error at run time.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

/// A known value. An unknown value is represented by its absence (`Option<Value>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A decimal number.
    Decimal(f64),
    /// A string or an enum value.
    Str(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A set of enum values (a `set` fact).
    Set(BTreeSet<String>),
    /// A list literal.
    List(Vec<Value>),
}

impl Value {
    /// The value as a number, if it is one.
    pub(crate) fn as_number(&self) -> Option<f64> {
        match self {
            #[expect(clippy::cast_precision_loss, reason = "comparisons of small counts")]
            Value::Int(n) => Some(*n as f64),
            Value::Decimal(d) => Some(*d),
            _ => None,
        }
    }

    /// The value as a boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Set(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item:?}")?;
                }
                f.write_str("]")
            }
            Value::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// The type of a fact, a param or an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `decimal`.
    Decimal,
    /// `string`.
    Str,
    /// `date`.
    Date,
    /// `enum` with its allowed values.
    Enum(Vec<String>),
    /// `set` of the allowed values.
    Set(Vec<String>),
    /// A list literal of elements of one type.
    List(Box<Type>),
}

impl Type {
    /// Whether the type is `int` or `decimal`.
    pub(crate) fn is_number(&self) -> bool {
        matches!(self, Type::Int | Type::Decimal)
    }

    /// Whether the type is `string` or an `enum`.
    pub(crate) fn is_text(&self) -> bool {
        matches!(self, Type::Str | Type::Enum(_))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Decimal => f.write_str("decimal"),
            Type::Str => f.write_str("string"),
            Type::Date => f.write_str("date"),
            Type::Enum(_) => f.write_str("enum"),
            Type::Set(_) => f.write_str("set"),
            Type::List(inner) => write!(f, "list of {inner}"),
        }
    }
}
