//! Tokenizer and recursive-descent parser; compiles straight into the op list of [`Expr`].

use std::fmt;

use crate::{Binary, Expr, Func, Op, Single};

/// A syntax error, with the 1-based column (in characters) where it was found.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct ParseError {
    /// The column where the problem starts, from 1.
    pub column: usize,
    /// What the problem is.
    pub kind: ParseErrorKind,
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseErrorKind {
    /// A character no token starts with.
    UnexpectedChar(char),
    /// `found` is a description of the token; `expected` says what would have fitted.
    UnexpectedToken {
        /// The token found.
        found: String,
        /// What could stand there.
        expected: &'static str,
    },
    /// A function name the language does not know.
    UnknownFunction(String),
    /// A function called with the wrong number of arguments.
    WrongArity {
        /// The function.
        func: String,
        /// The arguments it takes, in words.
        expected: &'static str,
        /// The arguments given.
        found: usize,
    },
    /// A function name where a value was expected (`sin + 1`).
    FunctionAsValue(String),
    /// A number that does not parse.
    BadNumber(String),
    /// Parentheses, calls and unary minus nested deeper than `MAX_DEPTH` (200).
    TooDeep,
}

/// Deepest nesting of parentheses, calls, powers and unary minus: deeper expressions are refused
/// instead of overflowing the stack.
pub const MAX_DEPTH: usize = 200;

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::UnexpectedChar(c) => write!(f, "unexpected character `{c}`"),
            ParseErrorKind::UnexpectedToken { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            ParseErrorKind::UnknownFunction(name) => {
                let known: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
                write!(f, "unknown function `{name}` (known: {}, max, min)", known.join(", "))
            }
            ParseErrorKind::WrongArity { func, expected, found } => {
                write!(f, "`{func}` takes {expected}, got {found}")
            }
            ParseErrorKind::FunctionAsValue(name) => {
                write!(f, "`{name}` is a function; call it as {name}(...)")
            }
            ParseErrorKind::BadNumber(text) => write!(f, "`{text}` is not a number"),
            ParseErrorKind::TooDeep => write!(f, "nested deeper than {MAX_DEPTH} levels"),
        }
    }
}

use crate::lex::{tokenize_with, LexError, Tok};

/// Tokens of the scalar language with their 1-based columns.
fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    tokenize_with(src, "+-*/^(),").map_err(|e| match e {
        LexError::UnexpectedChar { column, c } => ParseError { column, kind: ParseErrorKind::UnexpectedChar(c) },
        LexError::BadNumber { column, text } => ParseError { column, kind: ParseErrorKind::BadNumber(text) },
    })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    ops: Vec<Op>,
    lists: Vec<u32>,
    vars: Vec<String>,
    depth: usize,
}

type Slot = u32;

const OPERAND: &str = "a number, a name, `-` or `(`";

pub(crate) fn parse(source: &str) -> Result<Expr, ParseError> {
    let mut p = Parser { toks: tokenize(source)?, pos: 0, ops: vec![], lists: vec![], vars: vec![], depth: 0 };
    p.expr()?;
    p.expect_end()?;
    let live = p.liveness();
    let single = single_operation(&p.ops);
    Ok(Expr { source: source.trim().to_string(), ops: p.ops, lists: p.lists, live, vars: p.vars, single })
}

/// Recognises `f(a)`, `a ∘ b` and `f(a ∘ b)` for ∘ in `+ - *` over distinct arguments (`a * a`
/// is left to the interpreter, which sums the two uses).
fn single_operation(ops: &[Op]) -> Option<Single> {
    let binary = |op: Op| match op {
        Op::Add(0, 1) => Some(Binary::Add),
        Op::Sub(0, 1) => Some(Binary::Sub),
        Op::Mul(0, 1) => Some(Binary::Mul),
        _ => None,
    };
    match *ops {
        [Op::Var(0), Op::Call(f, 0)] => Some(Single::Call(f)),
        [Op::Var(0), Op::Var(1), op] => binary(op).map(Single::Binary),
        [Op::Var(0), Op::Var(1), op, Op::Call(f, 2)] => binary(op).map(|b| Single::CallOf(f, b)),
        _ => None,
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn column(&self) -> usize {
        self.toks[self.pos].1
    }

    fn unexpected(&self, expected: &'static str) -> ParseError {
        ParseError {
            column: self.column(),
            kind: ParseErrorKind::UnexpectedToken { found: self.peek().describe(), expected },
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if *self.peek() == Tok::Sym(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        match self.peek() {
            Tok::End => Ok(()),
            Tok::Sym(')') => Err(self.unexpected("an operator (unmatched `)`)")),
            _ => Err(self.unexpected("an operator or the end")),
        }
    }

    fn push(&mut self, op: Op) -> Slot {
        self.ops.push(op);
        (self.ops.len() - 1) as Slot
    }

    fn expr(&mut self) -> Result<Slot, ParseError> {
        let mut lhs = self.term()?;
        loop {
            if self.eat('+') {
                let rhs = self.term()?;
                lhs = self.push(Op::Add(lhs, rhs));
            } else if self.eat('-') {
                let rhs = self.term()?;
                lhs = self.push(Op::Sub(lhs, rhs));
            } else {
                return Ok(lhs);
            }
        }
    }

    fn term(&mut self) -> Result<Slot, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            if self.eat('*') {
                let rhs = self.unary()?;
                lhs = self.push(Op::Mul(lhs, rhs));
            } else if self.eat('/') {
                let rhs = self.unary()?;
                lhs = self.push(Op::Div(lhs, rhs));
            } else {
                return Ok(lhs);
            }
        }
    }

    fn unary(&mut self) -> Result<Slot, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError { column: self.column(), kind: ParseErrorKind::TooDeep });
        }
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Slot, ParseError> {
        if self.eat('-') {
            let a = self.unary()?;
            Ok(self.push(Op::Neg(a)))
        } else {
            self.power()
        }
    }

    fn power(&mut self) -> Result<Slot, ParseError> {
        let base = self.primary()?;
        if self.eat('^') {
            // The exponent is a unary: `2^-1` works and `2^3^2` groups to the right.
            let exponent = self.unary()?;
            Ok(self.push(Op::Pow(base, exponent)))
        } else {
            Ok(base)
        }
    }

    fn primary(&mut self) -> Result<Slot, ParseError> {
        let column = self.column();
        match self.peek().clone() {
            Tok::Num(x) => {
                self.pos += 1;
                Ok(self.push(Op::Const(x)))
            }
            Tok::Sym('(') => {
                self.pos += 1;
                let inner = self.expr()?;
                if !self.eat(')') {
                    return Err(self.unexpected("`)`"));
                }
                Ok(inner)
            }
            Tok::Name(name) => {
                self.pos += 1;
                if *self.peek() == Tok::Sym('(') {
                    self.pos += 1;
                    return self.call(&name, column);
                }
                match name.as_str() {
                    "pi" => Ok(self.push(Op::Const(std::f64::consts::PI))),
                    "e" => Ok(self.push(Op::Const(std::f64::consts::E))),
                    _ if crate::is_reserved(&name) => {
                        Err(ParseError { column, kind: ParseErrorKind::FunctionAsValue(name) })
                    }
                    _ => {
                        let index = match self.vars.iter().position(|v| *v == name) {
                            Some(k) => k,
                            None => {
                                self.vars.push(name);
                                self.vars.len() - 1
                            }
                        };
                        Ok(self.push(Op::Var(index as u32)))
                    }
                }
            }
            _ => Err(self.unexpected(OPERAND)),
        }
    }

    /// After `name(`: the arguments and the closing parenthesis.
    fn call(&mut self, name: &str, column: usize) -> Result<Slot, ParseError> {
        let func = Func::from_name(name);
        if func.is_none() && name != "max" && name != "min" {
            return Err(ParseError { column, kind: ParseErrorKind::UnknownFunction(name.to_string()) });
        }
        let mut args = vec![self.expr()?];
        while self.eat(',') {
            args.push(self.expr()?);
        }
        if !self.eat(')') {
            return Err(self.unexpected("`,` or `)`"));
        }
        let arity_error = |expected| ParseError {
            column,
            kind: ParseErrorKind::WrongArity { func: name.to_string(), expected, found: args.len() },
        };
        match func {
            Some(f) if args.len() == 1 => Ok(self.push(Op::Call(f, args[0]))),
            Some(_) => Err(arity_error("1 argument")),
            None if args.len() < 2 => Err(arity_error("2 or more arguments")),
            None => {
                let start = self.lists.len() as u32;
                self.lists.extend_from_slice(&args);
                let len = args.len() as u32;
                Ok(self.push(if name == "max" { Op::Max(start, len) } else { Op::Min(start, len) }))
            }
        }
    }

    /// Marks the ops whose value depends on a variable.
    fn liveness(&self) -> Vec<bool> {
        let mut live = vec![false; self.ops.len()];
        for (k, op) in self.ops.iter().enumerate() {
            live[k] = match *op {
                Op::Const(_) => false,
                Op::Var(_) => true,
                Op::Neg(a) | Op::Call(_, a) => live[a as usize],
                Op::Add(a, b) | Op::Sub(a, b) | Op::Mul(a, b) | Op::Div(a, b) | Op::Pow(a, b) => {
                    live[a as usize] || live[b as usize]
                }
                Op::Max(s, n) | Op::Min(s, n) => {
                    self.lists[s as usize..(s + n) as usize].iter().any(|&a| live[a as usize])
                }
            };
        }
        live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors_name_the_column() {
        assert_eq!(err("1 +"), "column 4: expected a number, a name, `-` or `(`, found end of expression");
        assert_eq!(err("a $ b"), "column 3: unexpected character `$`");
        assert_eq!(err("(a + b"), "column 7: expected `)`, found end of expression");
        assert_eq!(err("a b"), "column 3: expected an operator or the end, found name `b`");
        assert_eq!(err("a)"), "column 2: expected an operator (unmatched `)`), found `)`");
        assert_eq!(err(""), "column 1: expected a number, a name, `-` or `(`, found end of expression");
        assert_eq!(err("1.2.3"), "column 1: `1.2.3` is not a number");
    }

    #[test]
    fn function_errors_name_the_function() {
        assert!(err("2 * foo(x)").starts_with("column 5: unknown function `foo` (known: sin, cos,"));
        assert_eq!(err("sin(x, y)"), "column 1: `sin` takes 1 argument, got 2");
        assert_eq!(err("max(x)"), "column 1: `max` takes 2 or more arguments, got 1");
        assert_eq!(err("1 + tanh"), "column 5: `tanh` is a function; call it as tanh(...)");
    }

    #[test]
    fn numbers_accept_exponents_and_leading_dots() {
        let toks: Vec<Tok> = tokenize("1.5e-3 .5 2E2 2e").unwrap().into_iter().map(|t| t.0).collect();
        assert_eq!(
            toks,
            vec![Tok::Num(1.5e-3), Tok::Num(0.5), Tok::Num(200.0), Tok::Num(2.0), Tok::Name("e".into()), Tok::End]
        );
    }

    #[test]
    fn names_are_listed_once_in_order_of_appearance() {
        let e = parse("b * a + b * pi + c_1").unwrap();
        assert_eq!(e.vars(), ["b", "a", "c_1"]);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        for src in [
            format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000)),
            format!("{}x", "-".repeat(30_000)),
            format!("{}x{}", "sin(".repeat(5000), ")".repeat(5000)),
        ] {
            let e = parse(&src).unwrap_err();
            assert_eq!(e.kind, ParseErrorKind::TooDeep, "{e}");
        }
        assert!(parse(&format!("{}x{}", "(".repeat(150), ")".repeat(150))).is_ok());
    }
}
