//! The expression language of model nodes: numbers, names, `+ - * /` (elementwise, broadcasting a
//! column, a row or a scalar), `@` (matrix product), `^` (a power by a number), unary minus,
//! parentheses and calls `f(a, b, ...)`. `^` binds tightest (and groups to the right, so `-x ^ 2`
//! is `-(x ^ 2)`), then unary minus, then `*`, `/` and `@`, then `+` and `-`; the others group to
//! the left.

use std::fmt;

use cg_expr::lex::{tokenize_with, LexError, Tok};

/// Deepest nesting of parentheses, calls and unary minus: deeper expressions are refused
/// instead of overflowing the stack.
pub const MAX_DEPTH: usize = 200;

/// Most operators in one chain (`a + b + ...`), which nests as deeply when evaluated.
pub const MAX_CHAIN: usize = 1000;

/// A parsed expression; `column` is 1-based, in characters.
#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    /// A number.
    Num(f64),
    /// A name.
    Name {
        /// The name.
        name: String,
        /// Its column, from 1.
        column: usize,
    },
    /// Minus an expression.
    Neg(Box<Ast>),
    /// A binary operation.
    Bin {
        /// The operator.
        op: BinOp,
        /// The left operand.
        left: Box<Ast>,
        /// The right operand.
        right: Box<Ast>,
        /// The operator's column, from 1.
        column: usize,
    },
    /// A function call.
    Call {
        /// The function.
        func: String,
        /// Its arguments.
        args: Vec<Ast>,
        /// Its column, from 1.
        column: usize,
    },
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// Addition.
    Plus,
    /// Subtraction.
    Minus,
    /// Elementwise multiplication.
    Times,
    /// Matrix multiplication.
    MatMul,
    /// Elementwise division.
    Divide,
    /// A power by a number.
    Power,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Plus => "+",
            BinOp::Minus => "-",
            BinOp::Times => "*",
            BinOp::MatMul => "@",
            BinOp::Divide => "/",
            BinOp::Power => "^",
        }
    }
}

impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ast::Num(x) => write!(f, "{x}"),
            Ast::Name { name, .. } => write!(f, "{name}"),
            Ast::Neg(a) => write!(f, "-{a}"),
            Ast::Bin { op, left, right, .. } => {
                // Parentheses where the operand binds more loosely than the operator (or as
                // loosely, on the side the operator does not group from).
                let level = |op: BinOp| match op {
                    BinOp::Plus | BinOp::Minus => 1,
                    BinOp::Times | BinOp::MatMul | BinOp::Divide => 2,
                    BinOp::Power => 3,
                };
                let right_side = |a: &Ast| std::ptr::eq(a, &**right);
                let wrap = |a: &Ast| match a {
                    Ast::Bin { op: inner, .. } => {
                        let grouped_side = if *op == BinOp::Power { !right_side(a) } else { right_side(a) };
                        level(*inner) < level(*op) || (level(*inner) == level(*op) && grouped_side)
                    }
                    Ast::Neg(_) => *op == BinOp::Power,
                    Ast::Num(x) => *op == BinOp::Power && *x < 0.0,
                    _ => false,
                };
                let side = |a: &Ast, f: &mut fmt::Formatter<'_>| {
                    if wrap(a) {
                        write!(f, "({a})")
                    } else {
                        write!(f, "{a}")
                    }
                };
                side(left, f)?;
                write!(f, " {} ", op.symbol())?;
                side(right, f)
            }
            Ast::Call { func, args, .. } => {
                write!(f, "{func}(")?;
                for (k, a) in args.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// A syntax error with its column.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct SyntaxError {
    /// The column where the problem starts, from 1.
    pub column: usize,
    /// What the problem is.
    pub message: String,
}

/// Tokens with their columns: the toolkit's shared lexer, with `@` among the symbols; numbers
/// that overflow to infinity are refused.
fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let toks = tokenize_with(src, "+-*@(),/^[]:").map_err(|e| match e {
        LexError::UnexpectedChar { column, c } => {
            SyntaxError { column, message: format!("unexpected character `{c}`") }
        }
        LexError::BadNumber { column, text } => SyntaxError { column, message: format!("`{text}` is not a number") },
    })?;
    if let Some((Tok::Num(x), column)) = toks.iter().find(|(t, _)| matches!(t, Tok::Num(x) if !x.is_finite())) {
        return Err(SyntaxError { column: *column, message: format!("`{x}` is not a finite number") });
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

/// Parses one expression.
///
/// # Errors
/// A syntax error, with its column, or nesting deeper than [`MAX_DEPTH`].
pub fn parse(src: &str) -> Result<Ast, SyntaxError> {
    let mut p = Parser { toks: tokenize(src)?, pos: 0, depth: 0 };
    let ast = p.expr()?;
    match p.peek() {
        Tok::End => Ok(ast),
        Tok::Sym(')') => Err(p.error("expected an operator, found `)` (unmatched)")),
        t => {
            let found = t.describe();
            Err(p.error(&format!("expected an operator or the end, found {found}")))
        }
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }

    fn column(&self) -> usize {
        self.toks[self.pos].1
    }

    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError { column: self.column(), message: message.to_string() }
    }

    fn eat(&mut self, c: char) -> bool {
        if *self.peek() == Tok::Sym(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Ast, SyntaxError> {
        self.chain(&[('+', BinOp::Plus), ('-', BinOp::Minus)], Self::term)
    }

    fn term(&mut self) -> Result<Ast, SyntaxError> {
        self.chain(&[('*', BinOp::Times), ('@', BinOp::MatMul), ('/', BinOp::Divide)], Self::unary)
    }

    /// `operand (op operand)*` for the operators of one precedence level, grouping to the left;
    /// at most [`MAX_CHAIN`] operators.
    fn chain(
        &mut self,
        ops: &[(char, BinOp)],
        operand: fn(&mut Self) -> Result<Ast, SyntaxError>,
    ) -> Result<Ast, SyntaxError> {
        let mut left = operand(self)?;
        for count in 1.. {
            let column = self.column();
            let Some(&(_, op)) = ops.iter().find(|(c, _)| self.eat(*c)) else { break };
            if count > MAX_CHAIN {
                return Err(SyntaxError {
                    column,
                    message: format!("more than {MAX_CHAIN} operators in a row; group them with sum or concat"),
                });
            }
            let right = operand(self)?;
            left = Ast::Bin { op, left: Box::new(left), right: Box::new(right), column };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ast, SyntaxError> {
        if self.eat('-') {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(match inner {
                Ast::Num(x) => Ast::Num(-x),
                other => Ast::Neg(Box::new(other)),
            });
        }
        self.power()
    }

    /// `primary (^ unary)?`: the exponent may carry its own minus (`x ^ -1`), and `a ^ b ^ c`
    /// is `a ^ (b ^ c)`.
    fn power(&mut self) -> Result<Ast, SyntaxError> {
        let mut base = self.primary()?;
        while *self.peek() == Tok::Sym('[') {
            base = self.index(base)?;
        }
        let column = self.column();
        if !self.eat('^') {
            return Ok(base);
        }
        self.enter()?;
        let exponent = self.unary()?;
        self.depth -= 1;
        Ok(Ast::Bin { op: BinOp::Power, left: Box::new(base), right: Box::new(exponent), column })
    }

    /// `x[i]` (row i), `x[a:b]` (rows a..b) or `P[:, ids]` (the column of each id: embed), as
    /// the functions `rows` and `embed`.
    fn index(&mut self, base: Ast) -> Result<Ast, SyntaxError> {
        let column = self.column();
        self.eat('[');
        self.enter()?;
        let out = if self.eat(':') {
            if !self.eat(',') {
                return Err(self.error("expected `,` after `[:` (P[:, ids] picks the column of each id)"));
            }
            let ids = self.expr()?;
            Ast::Call { func: "embed".into(), args: vec![base, ids], column }
        } else {
            let number = |p: &mut Self| match p.peek().clone() {
                Tok::Num(x) => {
                    p.pos += 1;
                    Ok(x)
                }
                t => Err(p.error(&format!("an index is a number of rows (x[2], x[0:3]), found {}", t.describe()))),
            };
            let start = number(self)?;
            let end = if self.eat(':') { number(self)? } else { start + 1.0 };
            Ast::Call { func: "rows".into(), args: vec![base, Ast::Num(start), Ast::Num(end)], column }
        };
        if !self.eat(']') {
            let found = self.peek().describe();
            return Err(self.error(&format!("expected `]`, found {found}")));
        }
        self.depth -= 1;
        Ok(out)
    }

    fn primary(&mut self) -> Result<Ast, SyntaxError> {
        let column = self.column();
        match self.peek().clone() {
            Tok::Num(x) => {
                self.pos += 1;
                Ok(Ast::Num(x))
            }
            Tok::Name(name) => {
                self.pos += 1;
                if !self.eat('(') {
                    return Ok(Ast::Name { name, column });
                }
                self.enter()?;
                let mut args = vec![];
                if !self.eat(')') {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(')') {
                            break;
                        }
                        if !self.eat(',') {
                            let found = self.peek().describe();
                            return Err(self.error(&format!("expected `,` or `)`, found {found}")));
                        }
                    }
                }
                self.depth -= 1;
                Ok(Ast::Call { func: name, args, column })
            }
            Tok::Sym('(') => {
                self.pos += 1;
                self.enter()?;
                let inner = self.expr()?;
                if !self.eat(')') {
                    let found = self.peek().describe();
                    return Err(self.error(&format!("expected `)`, found {found}")));
                }
                self.depth -= 1;
                Ok(inner)
            }
            t => Err(self.error(&format!("expected a number, a name, `-` or `(`, found {}", &t.describe()))),
        }
    }
}

impl Ast {
    /// Every name the expression uses, in order of first use.
    pub fn names(&self) -> Vec<&str> {
        let mut out = vec![];
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Ast::Num(_) => {}
            Ast::Name { name, .. } => {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
            Ast::Neg(a) => a.collect(out),
            Ast::Bin { left, right, .. } => {
                left.collect(out);
                right.collect(out);
            }
            Ast::Call { args, .. } => args.iter().for_each(|a| a.collect(out)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_grouping() {
        assert_eq!(parse("W2 @ h + b2 + S @ x").unwrap().to_string(), "W2 @ h + b2 + S @ x");
        let a = parse("a - b - c").unwrap();
        assert!(
            matches!(a, Ast::Bin { op: BinOp::Minus, ref left, .. } if matches!(**left, Ast::Bin { op: BinOp::Minus, .. }))
        );
        assert_eq!(parse("2 * (a + b)").unwrap().to_string(), "2 * (a + b)");
        assert_eq!(parse("-3").unwrap(), Ast::Num(-3.0));
        assert_eq!(parse("f(a, g(b))").unwrap().names(), vec!["a", "b"]);
        // ^ binds tighter than unary minus and groups to the right; / is at *'s level.
        assert!(
            matches!(parse("-x ^ 2").unwrap(), Ast::Neg(ref inner) if matches!(**inner, Ast::Bin { op: BinOp::Power, .. }))
        );
        assert_eq!(parse("a ^ b ^ c").unwrap().to_string(), "a ^ b ^ c");
        assert!(
            matches!(parse("a ^ b ^ c").unwrap(), Ast::Bin { op: BinOp::Power, ref right, .. } if matches!(**right, Ast::Bin { op: BinOp::Power, .. }))
        );
        assert_eq!(parse("x ^ -1").unwrap().to_string(), "x ^ (-1)");
        assert_eq!(parse("(a + b) / 2 * c").unwrap().to_string(), "(a + b) / 2 * c");
        assert_eq!(parse("(a * b) ^ 2").unwrap().to_string(), "(a * b) ^ 2");
        assert!(
            matches!(parse("a / b / c").unwrap(), Ast::Bin { op: BinOp::Divide, ref left, .. } if matches!(**left, Ast::Bin { op: BinOp::Divide, .. }))
        );
    }

    #[test]
    fn syntax_errors_name_the_column() {
        assert_eq!(parse("W @ (x").unwrap_err().to_string(), "column 7: expected `)`, found end of expression");
        assert_eq!(parse("W # x").unwrap_err().to_string(), "column 3: unexpected character `#`");
        assert_eq!(parse("a b").unwrap_err().to_string(), "column 3: expected an operator or the end, found name `b`");
        assert_eq!(parse("f(a b)").unwrap_err().to_string(), "column 5: expected `,` or `)`, found name `b`");
        let deep = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(parse(&deep).unwrap_err().to_string().contains("nested deeper than 200 levels"));
        let minus = format!("{}x", "-".repeat(30_000));
        assert!(parse(&minus).unwrap_err().to_string().contains("nested deeper"));
        let long = vec!["x"; 5000].join(" + ");
        assert!(parse(&long).unwrap_err().to_string().contains("more than 1000 operators in a row"));
        assert!(parse(&vec!["x"; 1001].join(" * ")).is_ok(), "1000 operators are allowed");
        assert!(parse(&vec!["x"; 1002].join(" * ")).is_err());
    }
}
