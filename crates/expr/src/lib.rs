//! `cg-expr`: the expression language in which a config writes the local function of a node.
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/') unary)*
//! unary   := '-' unary | power
//! power   := primary ('^' unary)?          right-associative, binds tighter than unary minus
//! primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
//! ```
//! Numbers are decimals with an optional exponent (`2`, `.5`, `1.5e-3`); `pi` and `e` are
//! constants; the functions are `sin cos tan exp log sqrt tanh sigmoid relu abs softplus hardtanh`
//! (one argument) and `max`, `min` (two or more). So `-x^2` is `-(x^2)` and `2^3^2` is `2^9`.
//!
//! Parsing compiles the expression into a short straight-line program. Evaluating it with
//! [`cg_core::LocalFunction::eval_with_partials`] runs the program forwards for the value and backwards
//! (reverse mode inside the node) for the partial derivative with respect to every distinct name,
//! summed over all of its occurrences: `a * a` gives `2a`, the chapter's z(i, j).
//!
//! Conventions at kinks (subgradients): `relu'(0) = 0`, `abs'(0) = 0`, `hardtanh'(±1) = 0`, and
//! `max`/`min` pass the whole derivative to the first argument that attains the extremum.
//!
//! # Example
//! ```
//! use cg_core::LocalFunction;
//! let f = cg_expr::Expr::parse("sin(x) * y + x").unwrap();
//! assert_eq!(f.vars(), ["x", "y"]);
//! let mut partials = [0.0; 2];
//! let value = f.eval_with_partials(&[0.0, 3.0], &mut partials, &mut Vec::new());
//! assert_eq!(value, 0.0);
//! assert_eq!(partials, [3.0 * 1.0 + 1.0, 0.0]); // d/dx = y cos x + 1, d/dy = sin x
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod eval;
mod func;
mod graph;
pub mod lex;
mod parse;

pub use func::Func;
pub use graph::{build_graph, ExprGraph, GraphError};
pub use parse::{ParseError, ParseErrorKind};

/// A parsed expression: the local function of one node.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
    ops: Vec<Op>,
    /// Operands of `max`/`min`, referenced by `(start, len)` from the ops.
    lists: Vec<u32>,
    /// Whether an op depends on a variable; derivatives are not carried into constant parts (so
    /// `x^2.5` never evaluates the `ln x` that a variable exponent would need).
    live: Vec<bool>,
    vars: Vec<String>,
    /// The whole expression when it is one operation on its arguments (`tanh(a)`, `a * b`): most
    /// nodes of large graphs are, and they skip the interpreter.
    single: Option<Single>,
}

/// One-operation expressions, and a function of one operation (the `tanh(a + b)` of a neuron),
/// evaluated without the interpreter.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Single {
    Call(Func),
    Binary(Binary),
    CallOf(Func, Binary),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Binary {
    Add,
    Sub,
    Mul,
}

impl Binary {
    /// a ∘ b and its partials with respect to a and b.
    fn apply(self, a: f64, b: f64) -> (f64, f64, f64) {
        match self {
            Binary::Add => (a + b, 1.0, 1.0),
            Binary::Sub => (a - b, 1.0, -1.0),
            Binary::Mul => (a * b, b, a),
        }
    }
}

/// One instruction of the compiled program; operands are indices of earlier instructions.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Const(f64),
    Var(u32),
    Neg(u32),
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    Pow(u32, u32),
    Call(Func, u32),
    Max(u32, u32),
    Min(u32, u32),
}

impl Expr {
    /// Parses `source`.
    ///
    /// ```
    /// use cg_core::LocalFunction;
    /// let f = cg_expr::Expr::parse("x * y + sin(x)").unwrap();
    /// assert_eq!(f.vars(), ["x", "y"]);
    /// let mut partials = [0.0; 2];
    /// let value = f.eval_with_partials(&[0.5, 3.0], &mut partials, &mut vec![]);
    /// assert_eq!(value, 0.5 * 3.0 + 0.5f64.sin());
    /// assert_eq!(partials, [3.0 + 0.5f64.cos(), 0.5]);
    /// assert!(cg_expr::Expr::parse("x +* y").is_err());
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] with the 1-based column of the problem: an unexpected character or token,
    /// an unknown function, a wrong number of arguments, or a function name used as a value.
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        parse::parse(source)
    }

    /// The distinct names the expression uses, in order of first appearance. They are the
    /// arguments of the local function, in this order.
    pub fn vars(&self) -> &[String] {
        &self.vars
    }

    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

/// Whether `name` is taken by the language (a function or a constant) and so cannot name a node.
pub fn is_reserved(name: &str) -> bool {
    matches!(name, "pi" | "e" | "max" | "min") || Func::from_name(name).is_some()
}
