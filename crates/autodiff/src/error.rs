/// Everything that can go wrong while compiling or differentiating a DAG. Messages name the node,
/// its expression and its input values, so a NaN can be traced to where it was born.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    #[error("node `{node}`: {message}")]
    Structure { node: String, message: String },
    #[error("{role} `{node}` has the non-finite value {value}")]
    NonFiniteSource { node: String, role: cg_core::Role, value: f64 },
    #[error("forward: `{node}` = {expr} is {value} at {inputs}")]
    NonFiniteValue { node: String, expr: String, inputs: String, value: f64 },
    #[error("forward: `{node}` = {expr} has derivative {value} with respect to `{arg}` at {inputs}")]
    NonFinitePartial { node: String, expr: String, arg: String, inputs: String, value: f64 },
    /// `what` is `= expression` for a computed node, or its role for a source.
    #[error("backward: the derivative with respect to `{node}` ({what}) is {value}; its inputs: {inputs}")]
    NonFiniteGradient { node: String, what: String, inputs: String, value: f64 },
    #[error("{count} paths from `{from}` to `{to}` exceed the path limit of {limit}")]
    TooManyPaths { from: String, to: String, count: u128, limit: u64 },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
