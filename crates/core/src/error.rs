use std::fmt;

/// Everything that can go wrong while building or ordering a graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A node name used twice.
    #[error("node `{name}` is defined twice")]
    DuplicateNode {
        /// The name.
        name: String,
    },
    /// An edge to or from a node that does not exist.
    #[error("node `{name}` is used but never defined")]
    UnknownNode {
        /// The name.
        name: String,
    },
    /// The same edge added twice.
    #[error("edge `{from}` -> `{to}` is added twice")]
    DuplicateEdge {
        /// Its tail.
        from: String,
        /// Its head.
        to: String,
    },
    /// The graph must be acyclic (derivatives, forward evaluation) but is not.
    #[error("{0}")]
    Cycle(CyclePath),
    /// A value outside its node's domain.
    #[error("value {value} of node `{name}` is not in its domain ({domain})")]
    OutOfDomain {
        /// The node.
        name: String,
        /// The value.
        value: f64,
        /// The domain, written out.
        domain: String,
    },
}

/// The nodes of one directed cycle, first node not repeated: `a -> b -> c -> a` is `[a, b, c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CyclePath(pub Vec<String>);

impl fmt::Display for CyclePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cycle: ")?;
        for name in &self.0 {
            write!(f, "{name} -> ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
