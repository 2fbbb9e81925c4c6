//! `cg-fit`: best-fit values of undirected computational graphs (section 11.5).
//!
//! In an undirected computational graph every computational node holds a function of the nodes
//! it is joined to, and some nodes are fixed by observed data. Unlike a DAG, such a graph may have
//! no consistent assignment at all: the chapter's two nodes that each equal the other plus one
//! cannot both hold. [`BestFit`] finds the least-squares best fit of all node constraints,
//!
//! ```text
//! minimise  L(x) = Σ_i (x_i - f_i(x_N(i)))²   over the values x_i of the computational nodes,
//! ```
//!
//! by gradient descent with a backtracking (Armijo) step, the gradient coming from reverse mode
//! on a DAG that computes L ([`UndirectedModel`] builds it: one node per f_i, per squared
//! violation, and the sum). A residual L ≈ 0 at the end means the values satisfy every
//! constraint: an exact solution exists. A residual that stays positive at a stationary point is
//! the best fit the descent found (the global one when every f_i is linear, since L is then
//! convex).

#![forbid(unsafe_code)]

mod algorithm;
mod model;

pub use algorithm::{BestFit, FitParams, FitRecord, FitState};
pub use model::UndirectedModel;

/// Why a graph cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Expr(#[from] cg_expr::GraphError),
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    #[error(transparent)]
    Autodiff(#[from] cg_autodiff::Error),
    #[error("node `{node}`: {message}")]
    Node { node: String, message: String },
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
