//! The condition language of rule packs: a small typed language with CEL-compatible syntax.
//!
//! A condition is parsed by a hand-written lexer and a precedence-climbing parser into an
//! [`Expr`], type-checked against the pack's facts and params when the pack loads
//! ([`check`]), and evaluated against a profile with Kleene three-valued logic ([`eval`]): a fact the
//! profile does not give is *unknown*, never false, and `false && unknown` is still false.
//!
//! Every evaluation returns a [`Trace`] of its atoms (the comparisons, memberships and boolean
//! facts it looked at, with their values) and the facts it needed but did not have, so that a
//! report can say "applies because `service.public_opinion` = true" or "unknown: needs
//! `service.audience`".
//!
//! | form | meaning |
//! |---|---|
//! | `service.public_opinion` | a fact by its path |
//! | `true`, `42`, `3.5`, `"text"`, `date("2025-09-01")`, `["a", "b"]` | literals |
//! | `!a`, `a && b`, `a \|\| b`, `(a)` | Kleene logic |
//! | `==`, `!=`, `<`, `<=`, `>`, `>=` | comparisons of same-typed values (int/decimal mix allowed) |
//! | `x in set_fact`, `x in ["a", "b"]` | membership |
//! | `has(path)` | whether the profile gives the fact (never unknown) |
//! | `size(set_fact)` | number of elements |
//! | `param("id")` | a value from `params.toml` |
//! | `a ? b : c` | conditional |
//!
//! ```
//! use hegui_rules::expr::{self, Schema, Truth};
//! use hegui_rules::{Type, Value};
//! let mut schema = Schema::default();
//! schema.facts.insert("service.public_opinion".into(), Type::Bool);
//! schema.facts.insert("service.minors".into(), Type::Bool);
//! let mut parsed = expr::parse("service.public_opinion || service.minors").unwrap();
//! expr::check(&mut parsed, &schema).unwrap();
//! let mut facts = std::collections::BTreeMap::new();
//! facts.insert("service.public_opinion".to_string(), Value::Bool(true));
//! let (truth, trace) = expr::eval_condition(&parsed, &facts);
//! assert_eq!(truth, Truth::True);
//! assert_eq!(trace.missing.len(), 1); // service.minors was not given
//! ```

pub(crate) mod check;
mod eval;
mod lexer;
mod parser;

use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;

pub use check::{Schema, check};
pub use eval::{Atom, Trace, Truth, eval_condition, eval_value};
pub use parser::parse;

use crate::value::Value;

/// A parse or type error in a condition, with the byte span in the condition text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where, in bytes of the condition text.
    pub span: Range<usize>,
}

impl ExprError {
    pub(crate) fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        })
    }
}

/// A node of a parsed condition, with its span in the condition text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the node is.
    pub kind: ExprKind,
    /// Byte span in the condition text.
    pub span: Range<usize>,
}

/// The kinds of condition nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A decimal literal.
    Decimal(f64),
    /// A string literal.
    Str(String),
    /// `date("YYYY-MM-DD")`.
    Date(NaiveDate),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// A fact path such as `service.audience`.
    Fact(String),
    /// `has(path)`.
    Has(String),
    /// `size(x)`.
    Size(Box<Expr>),
    /// `param("id")`; the value is filled in by [`check`].
    Param {
        /// The param id.
        id: String,
        /// Its value from `params.toml`, once checked.
        value: Option<Value>,
    },
    /// `!a`.
    Not(Box<Expr>),
    /// `a && b`.
    And(Box<Expr>, Box<Expr>),
    /// `a || b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a OP b`.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `a in b`.
    In(Box<Expr>, Box<Expr>),
    /// `a ? b : c`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Every fact path the expression reads (including those under `has`).
    pub fn fact_paths(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |expr| match &expr.kind {
            ExprKind::Fact(path) | ExprKind::Has(path) => out.push(path.as_str()),
            _ => {}
        });
        out
    }

    /// Every param id the expression reads.
    pub fn param_ids(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |expr| {
            if let ExprKind::Param { id, .. } = &expr.kind {
                out.push(id.as_str());
            }
        });
        out
    }

    fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::List(items) => items.iter().for_each(|item| item.walk(visit)),
            ExprKind::Size(inner) | ExprKind::Not(inner) => inner.walk(visit),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Cmp(_, a, b)
            | ExprKind::In(a, b) => {
                a.walk(visit);
                b.walk(visit);
            }
            ExprKind::Cond(a, b, c) => {
                a.walk(visit);
                b.walk(visit);
                c.walk(visit);
            }
            _ => {}
        }
    }
}

impl Expr {
    fn precedence(&self) -> u8 {
        match self.kind {
            ExprKind::Cond(..) => 1,
            ExprKind::Or(..) => 2,
            ExprKind::And(..) => 3,
            ExprKind::Cmp(..) | ExprKind::In(..) => 4,
            ExprKind::Not(_) => 5,
            _ => 6,
        }
    }

    fn fmt_child(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

/// Prints the expression in the condition language, with only the parentheses it needs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Int(n) => write!(f, "{n}"),
            ExprKind::Decimal(d) => {
                if d.fract() == 0.0 {
                    write!(f, "{d:.1}")
                } else {
                    write!(f, "{d}")
                }
            }
            ExprKind::Str(s) => write!(f, "{s:?}"),
            ExprKind::Date(d) => write!(f, "date(\"{d}\")"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            ExprKind::Fact(path) => f.write_str(path),
            ExprKind::Has(path) => write!(f, "has({path})"),
            ExprKind::Size(inner) => write!(f, "size({inner})"),
            ExprKind::Param { id, .. } => write!(f, "param({id:?})"),
            ExprKind::Not(inner) => {
                f.write_str("!")?;
                inner.fmt_child(f, 5)
            }
            ExprKind::And(a, b) => {
                a.fmt_child(f, 3)?;
                f.write_str(" && ")?;
                b.fmt_child(f, 4)
            }
            ExprKind::Or(a, b) => {
                a.fmt_child(f, 2)?;
                f.write_str(" || ")?;
                b.fmt_child(f, 3)
            }
            ExprKind::Cmp(op, a, b) => {
                a.fmt_child(f, 5)?;
                write!(f, " {op} ")?;
                b.fmt_child(f, 5)
            }
            ExprKind::In(a, b) => {
                a.fmt_child(f, 5)?;
                f.write_str(" in ")?;
                b.fmt_child(f, 5)
            }
            ExprKind::Cond(a, b, c) => {
                a.fmt_child(f, 2)?;
                f.write_str(" ? ")?;
                b.fmt_child(f, 1)?;
                f.write_str(" : ")?;
                c.fmt_child(f, 1)
            }
        }
    }
}
