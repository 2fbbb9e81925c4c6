/// Everything that can go wrong while compiling or differentiating a DAG. Messages name the node,
/// its expression and its input values, so a NaN can be traced to where it was born.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A graph that is not a DAG, or a name used twice or never defined.
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    /// A node whose place in the graph is wrong (an unknown argument, a missing value).
    #[error("node `{node}`: {message}")]
    Structure {
        /// The node's name.
        node: String,
        /// What is wrong with it.
        message: String,
    },
    /// An operation given the wrong number of arguments while the graph is built.
    #[error("node `{node}`: {op} {error}")]
    Arity {
        /// The node's name.
        node: String,
        /// The operation's name.
        op: &'static str,
        /// What the operation takes.
        error: Box<crate::vector::OpError>,
    },
    /// An operation refusing the shapes of its arguments in a forward pass.
    #[error("node `{node}`: {expression}: {error}")]
    Op {
        /// The node's name.
        node: String,
        /// The node written as an expression of its arguments.
        expression: String,
        /// The shapes and the rule they break.
        error: Box<crate::vector::OpError>,
    },
    /// An input or weight set to NaN or an infinity.
    #[error("{role} `{node}` has the non-finite value {value}")]
    NonFiniteSource {
        /// The node's name.
        node: String,
        /// Whether it is an input or a weight.
        role: cg_core::Role,
        /// The value it holds.
        value: f64,
    },
    /// A computed value that is not finite.
    #[error("forward: `{node}` = {expr} is {value} at {inputs}")]
    NonFiniteValue {
        /// The node's name.
        node: String,
        /// Its expression.
        expr: String,
        /// Its arguments' values, written out.
        inputs: String,
        /// The value computed.
        value: f64,
    },
    /// A local partial derivative that is not finite.
    #[error("forward: `{node}` = {expr} has derivative {value} with respect to `{arg}` at {inputs}")]
    NonFinitePartial {
        /// The node's name.
        node: String,
        /// Its expression.
        expr: String,
        /// The argument the derivative is taken with respect to.
        arg: String,
        /// Its arguments' values, written out.
        inputs: String,
        /// The derivative computed.
        value: f64,
    },
    /// `what` is `= expression` for a computed node, or its role for a source.
    #[error("backward: the derivative with respect to `{node}` ({what}) is {value}; its inputs: {inputs}")]
    NonFiniteGradient {
        /// The node's name.
        node: String,
        /// Its expression or role.
        what: String,
        /// Its arguments' values, written out.
        inputs: String,
        /// The gradient computed.
        value: f64,
    },
    /// Too many paths for the exponential pathwise-aggregation reference.
    #[error("{count} paths from `{from}` to `{to}` exceed the path limit of {limit}")]
    TooManyPaths {
        /// The source node.
        from: String,
        /// The target node.
        to: String,
        /// The number of paths.
        count: u128,
        /// The path limit.
        limit: u64,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
