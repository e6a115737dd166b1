//! The parser: tokens to [`Expr`], by precedence climbing.
//!
//! Precedence, lowest first: `?:` (right-associative), `||`, `&&`, comparisons and `in`
//! (non-associative: `a == b == c` is an error, as in CEL), unary `!` and `-`, then primaries.

use chrono::NaiveDate;

use super::lexer::{Tok, Token, lex};
use super::{CmpOp, Expr, ExprError, ExprKind};

/// Deepest nesting accepted, so that hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses a condition.
///
/// # Errors
///
/// An [`ExprError`] with the span of the offending token.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        depth: 0,
    };
    let expr = parser.ternary()?;
    let next = parser.peek();
    if next.tok != Tok::End {
        return Err(ExprError::new(
            next.span.clone(),
            format!(
                "expected an operator or the end, found {}",
                next.tok.describe()
            ),
        ));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Token {
        self.tokens
            .get(self.position)
            .or_else(|| self.tokens.last())
            .cloned()
            .unwrap_or(Token {
                tok: Tok::End,
                span: 0..0,
            })
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if self.position < self.tokens.len() {
            self.position += 1;
        }
        token
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<Token, ExprError> {
        let token = self.peek();
        if &token.tok == want {
            Ok(self.bump())
        } else {
            Err(ExprError::new(
                token.span,
                format!("expected {what}, found {}", token.tok.describe()),
            ))
        }
    }

    fn enter(&mut self, span: &std::ops::Range<usize>) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                span.clone(),
                format!("condition nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn ternary(&mut self) -> Result<Expr, ExprError> {
        let start = self.peek().span;
        self.enter(&start)?;
        let condition = self.or()?;
        let result = if self.peek().tok == Tok::Question {
            self.bump();
            let then = self.ternary()?;
            self.expect(&Tok::Colon, "`:` of a conditional")?;
            let otherwise = self.ternary()?;
            let span = condition.span.start..otherwise.span.end;
            Expr {
                kind: ExprKind::Cond(Box::new(condition), Box::new(then), Box::new(otherwise)),
                span,
            }
        } else {
            condition
        };
        self.depth -= 1;
        Ok(result)
    }

    fn or(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.and()?;
        while self.peek().tok == Tok::OrOr {
            self.bump();
            let right = self.and()?;
            let span = left.span.start..right.span.end;
            left = Expr {
                kind: ExprKind::Or(Box::new(left), Box::new(right)),
                span,
            };
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.relation()?;
        while self.peek().tok == Tok::AndAnd {
            self.bump();
            let right = self.relation()?;
            let span = left.span.start..right.span.end;
            left = Expr {
                kind: ExprKind::And(Box::new(left), Box::new(right)),
                span,
            };
        }
        Ok(left)
    }

    fn relation(&mut self) -> Result<Expr, ExprError> {
        let left = self.unary()?;
        let op = match self.peek().tok {
            Tok::EqEq => Some(CmpOp::Eq),
            Tok::NotEq => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            Tok::Ident(ref name) if name == "in" => None,
            _ => return Ok(left),
        };
        self.bump();
        let right = self.unary()?;
        let span = left.span.start..right.span.end;
        let kind = match op {
            Some(op) => ExprKind::Cmp(op, Box::new(left), Box::new(right)),
            None => ExprKind::In(Box::new(left), Box::new(right)),
        };
        let next = self.peek();
        if matches!(
            next.tok,
            Tok::EqEq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) || matches!(&next.tok, Tok::Ident(name) if name == "in")
        {
            return Err(ExprError::new(
                next.span,
                format!(
                    "comparisons do not chain: put parentheses around one side of {}",
                    next.tok.describe()
                ),
            ));
        }
        Ok(Expr { kind, span })
    }

    fn unary(&mut self) -> Result<Expr, ExprError> {
        let token = self.peek();
        match token.tok {
            Tok::Bang => {
                self.bump();
                self.enter(&token.span)?;
                let inner = self.unary()?;
                self.depth -= 1;
                let span = token.span.start..inner.span.end;
                Ok(Expr {
                    kind: ExprKind::Not(Box::new(inner)),
                    span,
                })
            }
            Tok::Minus => {
                self.bump();
                let number = self.bump();
                let span = token.span.start..number.span.end;
                match number.tok {
                    Tok::Int(n) => Ok(Expr {
                        kind: ExprKind::Int(-n),
                        span,
                    }),
                    Tok::Decimal(d) => Ok(Expr {
                        kind: ExprKind::Decimal(-d),
                        span,
                    }),
                    other => Err(ExprError::new(
                        number.span,
                        format!("expected a number after `-`, found {}", other.describe()),
                    )),
                }
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let token = self.bump();
        let span = token.span.clone();
        let kind = match token.tok {
            Tok::Int(n) => ExprKind::Int(n),
            Tok::Decimal(d) => ExprKind::Decimal(d),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::LParen => {
                let inner = self.ternary()?;
                let close = self.expect(&Tok::RParen, "`)`")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: span.start..close.span.end,
                });
            }
            Tok::LBracket => {
                let mut items = Vec::new();
                if self.peek().tok != Tok::RBracket {
                    loop {
                        items.push(self.ternary()?);
                        if self.peek().tok == Tok::Comma {
                            self.bump();
                            if self.peek().tok == Tok::RBracket {
                                break;
                            }
                        } else {
                            break;
                        }
                    }
                }
                let close = self.expect(&Tok::RBracket, "`,` or `]`")?;
                return Ok(Expr {
                    kind: ExprKind::List(items),
                    span: span.start..close.span.end,
                });
            }
            Tok::Ident(name) => return self.identifier(name, span),
            other => {
                return Err(ExprError::new(
                    span,
                    format!(
                        "expected a value, a fact or `(`, found {}",
                        other.describe()
                    ),
                ));
            }
        };
        Ok(Expr { kind, span })
    }

    fn identifier(
        &mut self,
        name: String,
        span: std::ops::Range<usize>,
    ) -> Result<Expr, ExprError> {
        match name.as_str() {
            "true" => {
                return Ok(Expr {
                    kind: ExprKind::Bool(true),
                    span,
                });
            }
            "false" => {
                return Ok(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                });
            }
            _ => {}
        }
        if self.peek().tok == Tok::LParen {
            return self.call(&name, span);
        }
        let (path, path_span) = self.path_rest(name, span)?;
        Ok(Expr {
            kind: ExprKind::Fact(path),
            span: path_span,
        })
    }

    /// Continues a dotted path after its first segment.
    fn path_rest(
        &mut self,
        first: String,
        span: std::ops::Range<usize>,
    ) -> Result<(String, std::ops::Range<usize>), ExprError> {
        let mut path = first;
        let mut end = span.end;
        while self.peek().tok == Tok::Dot {
            self.bump();
            let segment = self.bump();
            match segment.tok {
                Tok::Ident(part) => {
                    path.push('.');
                    path.push_str(&part);
                    end = segment.span.end;
                }
                other => {
                    return Err(ExprError::new(
                        segment.span,
                        format!("expected a name after `.`, found {}", other.describe()),
                    ));
                }
            }
        }
        Ok((path, span.start..end))
    }

    fn call(&mut self, name: &str, span: std::ops::Range<usize>) -> Result<Expr, ExprError> {
        self.bump(); // `(`
        let kind = match name {
            "has" => {
                let first = self.bump();
                let Tok::Ident(segment) = first.tok else {
                    return Err(ExprError::new(
                        first.span,
                        format!("`has` takes a fact path, found {}", first.tok.describe()),
                    ));
                };
                let (path, _) = self.path_rest(segment, first.span)?;
                ExprKind::Has(path)
            }
            "size" => ExprKind::Size(Box::new(self.ternary()?)),
            "param" | "date" => {
                let argument = self.bump();
                let Tok::Str(text) = argument.tok else {
                    return Err(ExprError::new(
                        argument.span,
                        format!(
                            "`{name}` takes a string literal, found {}",
                            argument.tok.describe()
                        ),
                    ));
                };
                if name == "param" {
                    ExprKind::Param {
                        id: text,
                        value: None,
                    }
                } else {
                    let date = NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                        ExprError::new(
                            argument.span.clone(),
                            format!("`{text}` is not a date in the form YYYY-MM-DD"),
                        )
                    })?;
                    ExprKind::Date(date)
                }
            }
            other => {
                return Err(ExprError::new(
                    span,
                    format!(
                        "unknown function `{other}`: expected `has`, `size`, `param` or `date`"
                    ),
                ));
            }
        };
        let close = self.expect(&Tok::RParen, "`)`")?;
        Ok(Expr {
            kind,
            span: span.start..close.span.end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a parse error as the condition, a caret line and the message.
    fn error(text: &str) -> String {
        match parse(text) {
            Ok(expr) => format!("parsed: {expr:?}"),
            Err(err) => format!(
                "{text}\n{}{} {}",
                " ".repeat(text.get(..err.span.start).map_or(0, |s| s.chars().count())),
                "^".repeat(
                    text.get(err.span.clone())
                        .map_or(1, |s| s.chars().count().max(1))
                ),
                err.message
            ),
        }
    }

    #[test]
    fn parse_errors() {
        insta::assert_snapshot!(error("service.audience = \"x\""), @r#"
        service.audience = "x"
                         ^ unexpected `=`, did you mean `==`
        "#);
        insta::assert_snapshot!(error("a && (b || c"), @r"
        a && (b || c
                    ^ expected `)`, found end of condition
        ");
        insta::assert_snapshot!(error("a == b == c"), @r"
        a == b == c
               ^^ comparisons do not chain: put parentheses around one side of `==`
        ");
        insta::assert_snapshot!(error("frob(x)"), @r"
        frob(x)
        ^^^^ unknown function `frob`: expected `has`, `size`, `param` or `date`
        ");
        insta::assert_snapshot!(error("date(\"2025-13-01\")"), @r#"
        date("2025-13-01")
             ^^^^^^^^^^^^ `2025-13-01` is not a date in the form YYYY-MM-DD
        "#);
        insta::assert_snapshot!(error("\"open"), @r#"
        "open
        ^^^^^ unterminated string
        "#);
        insta::assert_snapshot!(error("a && "), @r"
        a && 
             ^ expected a value, a fact or `(`, found end of condition
        ");
        insta::assert_snapshot!(error("has(\"x\")"), @r#"
        has("x")
            ^^^ `has` takes a fact path, found string "x"
        "#);
        insta::assert_snapshot!(error("a b"), @r"
        a b
          ^ expected an operator or the end, found `b`
        ");
        insta::assert_snapshot!(error("x # y"), @r"
        x # y
          ^ unexpected character `#`
        ");
    }

    #[test]
    fn precedence() {
        let expr = parse("!a && b || c ? 1 : 2").unwrap();
        let ExprKind::Cond(condition, _, _) = expr.kind else {
            panic!("not a conditional: {expr:?}");
        };
        let ExprKind::Or(left, _) = condition.kind else {
            panic!("not an or");
        };
        let ExprKind::And(not, _) = left.kind else {
            panic!("not an and");
        };
        assert!(matches!(not.kind, ExprKind::Not(_)));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}a{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&text).is_err());
        let text = format!("{}a", "!".repeat(500));
        assert!(parse(&text).is_err());
    }
}
