//! The evaluator: Kleene three-valued logic over a profile's facts, with a trace.
//!
//! A fact the profile does not give evaluates to *unknown*; unknown propagates through
//! comparisons, and `&&` / `||` / `!` follow Kleene's strong logic, so a decided side wins
//! (`false && unknown` is false, `true || unknown` is true). `has(path)` is never unknown.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{CmpOp, Expr, ExprKind};
use crate::value::Value;

/// A three-valued truth value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Truth {
    /// Known true.
    True,
    /// Known false.
    False,
    /// Not decided by the facts given.
    Unknown,
}

impl Truth {
    /// Kleene conjunction.
    #[must_use]
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    /// Kleene disjunction.
    #[must_use]
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    /// Kleene negation.
    #[must_use]
    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    fn from_value(value: Option<&Value>) -> Truth {
        match value {
            Some(Value::Bool(true)) => Truth::True,
            Some(Value::Bool(false)) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    fn into_value(self) -> Option<Value> {
        match self {
            Truth::True => Some(Value::Bool(true)),
            Truth::False => Some(Value::Bool(false)),
            Truth::Unknown => None,
        }
    }
}

impl std::fmt::Display for Truth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        })
    }
}

/// One atom of a condition (a comparison, a membership, `has`, or a boolean fact) and its value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Atom {
    /// The atom, printed in the condition language.
    pub text: String,
    /// What it evaluated to.
    pub value: Truth,
}

/// What an evaluation looked at.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trace {
    /// Every atom, in evaluation order.
    pub atoms: Vec<Atom>,
    /// Facts the expression read that the profile does not give.
    pub missing: BTreeSet<String>,
}

/// Evaluates a boolean condition.
pub fn eval_condition(expr: &Expr, facts: &BTreeMap<String, Value>) -> (Truth, Trace) {
    let mut trace = Trace::default();
    let truth = truth(expr, facts, &mut trace);
    (truth, trace)
}

/// Evaluates any expression to a value, or `None` when it is unknown.
pub fn eval_value(expr: &Expr, facts: &BTreeMap<String, Value>) -> (Option<Value>, Trace) {
    let mut trace = Trace::default();
    let value = value(expr, facts, &mut trace);
    (value, trace)
}

fn truth(expr: &Expr, facts: &BTreeMap<String, Value>, trace: &mut Trace) -> Truth {
    match &expr.kind {
        ExprKind::Not(inner) => truth(inner, facts, trace).negate(),
        // Both sides are always evaluated so that the trace names every fact that could matter.
        ExprKind::And(a, b) => {
            let left = truth(a, facts, trace);
            let right = truth(b, facts, trace);
            left.and(right)
        }
        ExprKind::Or(a, b) => {
            let left = truth(a, facts, trace);
            let right = truth(b, facts, trace);
            left.or(right)
        }
        ExprKind::Cond(condition, then, otherwise) => match truth(condition, facts, trace) {
            Truth::True => truth(then, facts, trace),
            Truth::False => truth(otherwise, facts, trace),
            Truth::Unknown => {
                let a = truth(then, facts, trace);
                let b = truth(otherwise, facts, trace);
                if a == b { a } else { Truth::Unknown }
            }
        },
        ExprKind::Bool(b) => {
            if *b {
                Truth::True
            } else {
                Truth::False
            }
        }
        _ => {
            let result = Truth::from_value(value(expr, facts, trace).as_ref());
            trace.atoms.push(Atom {
                text: expr.to_string(),
                value: result,
            });
            result
        }
    }
}

fn value(expr: &Expr, facts: &BTreeMap<String, Value>, trace: &mut Trace) -> Option<Value> {
    match &expr.kind {
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::Int(n) => Some(Value::Int(*n)),
        ExprKind::Decimal(d) => Some(Value::Decimal(*d)),
        ExprKind::Str(s) => Some(Value::Str(s.clone())),
        ExprKind::Date(d) => Some(Value::Date(*d)),
        ExprKind::List(items) => items
            .iter()
            .map(|item| value(item, facts, trace))
            .collect::<Option<Vec<_>>>()
            .map(Value::List),
        ExprKind::Fact(path) => {
            let found = facts.get(path.as_str()).cloned();
            if found.is_none() {
                trace.missing.insert(path.clone());
            }
            found
        }
        ExprKind::Has(path) => Some(Value::Bool(facts.contains_key(path.as_str()))),
        ExprKind::Size(inner) => match value(inner, facts, trace)? {
            Value::Set(items) => i64::try_from(items.len()).ok().map(Value::Int),
            Value::List(items) => i64::try_from(items.len()).ok().map(Value::Int),
            _ => None,
        },
        ExprKind::Param { value, .. } => value.clone(),
        ExprKind::Not(_) | ExprKind::And(..) | ExprKind::Or(..) => {
            truth(expr, facts, trace).into_value()
        }
        ExprKind::Cond(condition, then, otherwise) => match truth(condition, facts, trace) {
            Truth::True => value(then, facts, trace),
            Truth::False => value(otherwise, facts, trace),
            Truth::Unknown => {
                let a = value(then, facts, trace);
                let b = value(otherwise, facts, trace);
                if a == b { a } else { None }
            }
        },
        ExprKind::Cmp(op, a, b) => {
            let left = value(a, facts, trace);
            let right = value(b, facts, trace);
            compare(*op, &left?, &right?).map(Value::Bool)
        }
        ExprKind::In(a, b) => {
            let needle = value(a, facts, trace);
            let haystack = value(b, facts, trace);
            let (needle, haystack) = (needle?, haystack?);
            let found = match (&needle, &haystack) {
                (Value::Str(s), Value::Set(items)) => items.contains(s),
                (_, Value::Str(single)) => matches!(&needle, Value::Str(s) if s == single),
                (_, Value::List(items)) => items
                    .iter()
                    .any(|item| compare(CmpOp::Eq, &needle, item) == Some(true)),
                _ => return None,
            };
            Some(Value::Bool(found))
        }
    }
}

fn compare(op: CmpOp, left: &Value, right: &Value) -> Option<bool> {
    use std::cmp::Ordering;
    let ordering = match (left, right) {
        (Value::Date(a), Value::Date(b)) => a.cmp(b),
        (Value::Str(a), Value::Str(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
        (Value::Set(a), Value::Set(b)) => a.cmp(b),
        (Value::List(a), Value::List(b)) => {
            if a == b {
                Ordering::Equal
            } else {
                return match op {
                    CmpOp::Eq => Some(false),
                    CmpOp::Ne => Some(true),
                    _ => None,
                };
            }
        }
        _ => {
            let (a, b) = (left.as_number()?, right.as_number()?);
            a.partial_cmp(&b)?
        }
    };
    Some(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;
    use proptest::prelude::*;

    fn truth_strategy() -> impl Strategy<Value = Truth> {
        prop_oneof![Just(Truth::True), Just(Truth::False), Just(Truth::Unknown)]
    }

    /// Facts `a`, `b`, `c` set from three-valued inputs (unknown = absent).
    fn facts(values: [Truth; 3]) -> BTreeMap<String, Value> {
        ["a", "b", "c"]
            .iter()
            .zip(values)
            .filter_map(|(name, truth)| truth.into_value().map(|v| ((*name).to_string(), v)))
            .collect()
    }

    fn eval(text: &str, values: [Truth; 3]) -> Truth {
        eval_condition(&parse(text).unwrap(), &facts(values)).0
    }

    proptest! {
        #[test]
        fn kleene_laws(a in truth_strategy(), b in truth_strategy(), c in truth_strategy()) {
            let v = [a, b, c];
            // Commutativity, associativity, De Morgan, double negation, distributivity.
            prop_assert_eq!(eval("a && b", v), eval("b && a", v));
            prop_assert_eq!(eval("a || b", v), eval("b || a", v));
            prop_assert_eq!(eval("(a && b) && c", v), eval("a && (b && c)", v));
            prop_assert_eq!(eval("(a || b) || c", v), eval("a || (b || c)", v));
            prop_assert_eq!(eval("!(a && b)", v), eval("!a || !b", v));
            prop_assert_eq!(eval("!(a || b)", v), eval("!a && !b", v));
            prop_assert_eq!(eval("!!a", v), a);
            prop_assert_eq!(eval("a && (b || c)", v), eval("(a && b) || (a && c)", v));
            // Identities and absorbing elements.
            prop_assert_eq!(eval("a && true", v), a);
            prop_assert_eq!(eval("a || false", v), a);
            prop_assert_eq!(eval("a && false", v), Truth::False);
            prop_assert_eq!(eval("a || true", v), Truth::True);
            // The evaluator agrees with the truth tables.
            prop_assert_eq!(eval("a && b", v), a.and(b));
            prop_assert_eq!(eval("a || b", v), a.or(b));
            // `has` is never unknown.
            prop_assert_ne!(eval("has(a)", v), Truth::Unknown);
            // Unknown never becomes known by negation.
            prop_assert_eq!(eval("!a", v) == Truth::Unknown, a == Truth::Unknown);
        }

        #[test]
        fn known_inputs_give_known_outputs(a in any::<bool>(), b in any::<bool>(), c in any::<bool>()) {
            let to = |x: bool| if x { Truth::True } else { Truth::False };
            let v = [to(a), to(b), to(c)];
            let expected = to((a && !b) || (if c { a } else { b }));
            prop_assert_eq!(eval("(a && !b) || (c ? a : b)", v), expected);
        }
    }

    #[test]
    fn trace_names_atoms_and_missing_facts() {
        let mut facts = BTreeMap::new();
        facts.insert("service.public_opinion".to_string(), Value::Bool(true));
        facts.insert("service.users".to_string(), Value::Int(10));
        let expr = parse("service.audience == \"domestic_public\" && (service.public_opinion || service.users > 5)").unwrap();
        let (result, trace) = eval_condition(&expr, &facts);
        assert_eq!(result, Truth::Unknown);
        assert_eq!(
            trace.missing.iter().collect::<Vec<_>>(),
            ["service.audience"]
        );
        let atoms: Vec<String> = trace
            .atoms
            .iter()
            .map(|atom| format!("{} = {}", atom.text, atom.value))
            .collect();
        assert_eq!(
            atoms,
            [
                "service.audience == \"domestic_public\" = unknown",
                "service.public_opinion = true",
                "service.users > 5 = true"
            ]
        );
    }

    #[test]
    fn values_and_membership() {
        let mut facts = BTreeMap::new();
        facts.insert(
            "g".to_string(),
            Value::Set(["text".to_string(), "image".to_string()].into()),
        );
        facts.insert("n".to_string(), Value::Decimal(2.5));
        facts.insert(
            "d".to_string(),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap()),
        );
        facts.insert("e".to_string(), Value::Str("x".into()));
        let cases = [
            ("\"image\" in g", Truth::True),
            ("\"video\" in g", Truth::False),
            ("size(g) == 2", Truth::True),
            ("n > 2", Truth::True),
            ("n <= 2", Truth::False),
            ("d >= date(\"2025-09-01\")", Truth::True),
            ("d < date(\"2025-09-01\")", Truth::False),
            ("e in [\"x\", \"y\"]", Truth::True),
            ("e in \"x\"", Truth::True),
            ("missing in [\"x\"]", Truth::Unknown),
            ("has(missing)", Truth::False),
            ("missing ? true : true", Truth::True),
            ("missing ? true : false", Truth::Unknown),
        ];
        for (text, want) in cases {
            assert_eq!(
                eval_condition(&parse(text).unwrap(), &facts).0,
                want,
                "{text}"
            );
        }
    }
}
