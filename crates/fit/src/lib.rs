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
//!
//! # Example
//! The chapter's inconsistent pair a = b + 1, b = a + 1: with d = a - b the loss is
//! (d - 1)² + (d + 1)², least at d = 0 where it is 2, so no assignment satisfies both.
//! ```
//! use cg_fit::{BestFit, FitParams, UndirectedModel};
//! use rand::SeedableRng;
//! let functions = [("a".to_string(), "b + 1".to_string()), ("b".to_string(), "a + 1".to_string())];
//! let model = UndirectedModel::new(&functions, &[]).unwrap();
//! let mut fit = BestFit::new(&model, FitParams::new(1e-10, 1.0).unwrap());
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let mut state = fit.start(&mut rng).unwrap();
//! cg_core::run(&mut fit, &mut state, 1000, &mut rng, &mut []).unwrap();
//! assert!((state.loss - 2.0).abs() < 1e-12);
//! assert!((state.values[0] - state.values[1]).abs() < 1e-6);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithm;
mod model;
mod params;

pub use algorithm::{BestFit, FitParams, FitRecord, FitState};
pub use model::UndirectedModel;
pub use params::{SolverConfig, SolverSettings};

/// Why a graph cannot be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A node's expression is wrong.
    #[error(transparent)]
    Expr(#[from] cg_expr::GraphError),
    /// The graph is wrong (a cycle, a name used twice).
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    /// The gradient engine's error.
    #[error(transparent)]
    Autodiff(#[from] cg_autodiff::Error),
    /// A node's setting is wrong.
    #[error("node `{node}`: {message}")]
    Node {
        /// The node.
        node: String,
        /// What is wrong.
        message: String,
    },
    /// A setting out of its range.
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
