//! The lexer: condition text to tokens with byte spans. Hand-written, so that every error can
//! point at the exact character.

use std::ops::Range;

use super::ExprError;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Int(i64),
    Decimal(f64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Bang,
    AndAnd,
    OrOr,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Question,
    Colon,
    Minus,
    End,
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Decimal(d) => format!("`{d}`"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Bang => "`!`".into(),
            Tok::AndAnd => "`&&`".into(),
            Tok::OrOr => "`||`".into(),
            Tok::EqEq => "`==`".into(),
            Tok::NotEq => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::Question => "`?`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Minus => "`-`".into(),
            Tok::End => "end of condition".into(),
        }
    }
}

/// A token with its byte span.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) span: Range<usize>,
}

/// Splits `text` into tokens; the last token is always [`Tok::End`].
pub(super) fn lex(text: &str) -> Result<Vec<Token>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, ch)) = chars.next() {
        let single = |tok| Token {
            tok,
            span: start..start + ch.len_utf8(),
        };
        match ch {
            c if c.is_whitespace() => {}
            '(' => tokens.push(single(Tok::LParen)),
            ')' => tokens.push(single(Tok::RParen)),
            '[' => tokens.push(single(Tok::LBracket)),
            ']' => tokens.push(single(Tok::RBracket)),
            ',' => tokens.push(single(Tok::Comma)),
            '.' => tokens.push(single(Tok::Dot)),
            '?' => tokens.push(single(Tok::Question)),
            ':' => tokens.push(single(Tok::Colon)),
            '-' => tokens.push(single(Tok::Minus)),
            '&' | '|' | '=' => {
                if chars.peek().map(|&(_, next)| next) == Some(ch) {
                    chars.next();
                    let tok = match ch {
                        '&' => Tok::AndAnd,
                        '|' => Tok::OrOr,
                        _ => Tok::EqEq,
                    };
                    tokens.push(Token {
                        tok,
                        span: start..start + 2,
                    });
                } else {
                    let hint = match ch {
                        '&' => "`&&`",
                        '|' => "`||`",
                        _ => "`==`",
                    };
                    return Err(ExprError::new(
                        start..start + 1,
                        format!("unexpected `{ch}`, did you mean {hint}"),
                    ));
                }
            }
            '!' | '<' | '>' => {
                let with_eq = chars.peek().map(|&(_, next)| next) == Some('=');
                if with_eq {
                    chars.next();
                }
                let tok = match (ch, with_eq) {
                    ('!', false) => Tok::Bang,
                    ('!', true) => Tok::NotEq,
                    ('<', false) => Tok::Lt,
                    ('<', true) => Tok::Le,
                    ('>', false) => Tok::Gt,
                    _ => Tok::Ge,
                };
                tokens.push(Token {
                    tok,
                    span: start..start + if with_eq { 2 } else { 1 },
                });
            }
            '"' | '\'' => {
                let mut value = String::new();
                let mut end = None;
                while let Some((index, c)) = chars.next() {
                    if c == ch {
                        end = Some(index + 1);
                        break;
                    }
                    if c == '\\' {
                        let Some((escape_at, escaped)) = chars.next() else {
                            break;
                        };
                        value.push(match escaped {
                            'n' => '\n',
                            't' => '\t',
                            '\\' | '"' | '\'' => escaped,
                            other => {
                                return Err(ExprError::new(
                                    index..escape_at + other.len_utf8(),
                                    format!("unknown escape `\\{other}`"),
                                ));
                            }
                        });
                    } else {
                        value.push(c);
                    }
                }
                let Some(end) = end else {
                    return Err(ExprError::new(start..text.len(), "unterminated string"));
                };
                tokens.push(Token {
                    tok: Tok::Str(value),
                    span: start..end,
                });
            }
            c if c.is_ascii_digit() => {
                let mut end = start + 1;
                let mut is_decimal = false;
                while let Some(&(index, next)) = chars.peek() {
                    if next.is_ascii_digit() || next == '_' {
                        end = index + 1;
                        chars.next();
                    } else if next == '.' && !is_decimal {
                        // A dot followed by a digit continues the number; anything else ends it.
                        let after = text.get(index + 1..).and_then(|rest| rest.chars().next());
                        if after.is_some_and(|a| a.is_ascii_digit()) {
                            is_decimal = true;
                            end = index + 1;
                            chars.next();
                        } else {
                            break;
                        }
                    } else {
                        break;
                    }
                }
                let raw = text.get(start..end).unwrap_or_default().replace('_', "");
                let tok = if is_decimal {
                    raw.parse().map(Tok::Decimal).map_err(|_| ())
                } else {
                    raw.parse().map(Tok::Int).map_err(|_| ())
                };
                let tok = tok.map_err(|()| {
                    ExprError::new(start..end, format!("number `{raw}` is out of range"))
                })?;
                tokens.push(Token {
                    tok,
                    span: start..end,
                });
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = start + 1;
                while let Some(&(index, next)) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' {
                        end = index + 1;
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(Token {
                    tok: Tok::Ident(text.get(start..end).unwrap_or_default().to_string()),
                    span: start..end,
                });
            }
            other => {
                return Err(ExprError::new(
                    start..start + other.len_utf8(),
                    format!("unexpected character `{other}`"),
                ));
            }
        }
    }
    tokens.push(Token {
        tok: Tok::End,
        span: text.len()..text.len(),
    });
    Ok(tokens)
}
