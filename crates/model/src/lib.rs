//! `cg-model`: models written as graphs in a config ([`scalar`] holds the scalar graphs of the
//! chapter's figures, compiled and trainable). A model is a set of named nodes, each a
//! vector expression of inputs, targets, learnable parameters and other nodes, plus a loss: any
//! vector computational graph (skip connections, tied weights, several outputs and losses),
//! checked shape by shape before anything runs and built into a [`cg_nn::Network`] that the
//! one trainer of `cg-nn` trains.
//!
//! Expressions: `@` (matrix product), `+ - * /` elementwise with a column, a row or a scalar
//! broadcast, `^` by a number, numbers, constants (`[model.constants]`), and the functions of
//! [`functions`] (one registry: activations, `sqrt pow clip where min max stop_gradient
//! log_softmax logsumexp`, `sum`/`mean` along an axis, `batch_mean` for per-sample losses, and the
//! losses of [`cg_autodiff::vector::Loss`] as `loss(prediction, target)`, each the mean over the
//! batch). A parameter used in several places is one node whose gradient sums over its uses (tied
//! weights).
//!
//! # Example
//! A 4-16-3 classifier written as a graph, built with the data's feature names; shapes are
//! checked before anything runs:
//! ```
//! let text = r#"
//!     inputs  = { x = 4 }
//!     targets = { y = 3 }
//!     predict = "o"
//!     loss    = "softmax_cross_entropy(o, y)"
//!     [params]
//!     W1 = { shape = [16, 4] }
//!     b1 = { shape = [16], init = "zeros" }
//!     W2 = { shape = [3, 16] }
//!     [nodes]
//!     h = "relu(W1 @ x + b1)"
//!     o = "W2 @ h"
//! "#;
//! let features: Vec<String> = ["sepal_length", "sepal_width", "petal_length", "petal_width"].map(String::from).into();
//! let config: cg_model::ModelConfig = toml::from_str(text).unwrap();
//! let model = cg_model::build::<f64>(&config, &features).unwrap();
//! assert_eq!(model.parameter_count(), 16 * 4 + 16 + 3 * 16);
//! // A product whose inner sizes differ is named with both shapes.
//! let config: cg_model::ModelConfig = toml::from_str(&text.replace("W2 @ h", "W2 @ x")).unwrap();
//! let err = cg_model::build::<f64>(&config, &features).err().unwrap();
//! assert_eq!(err.to_string(), "o = W2 @ x: W2 is 3 x 16 but x has 4 rows");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod build;
mod config;
pub mod functions;
pub mod parse;
pub mod scalar;

pub use build::{build, Dim, Model, NodeInfo, Shape};
pub use config::{
    ColumnTarget, ConstantDecl, DecisionName, GeneratedConstant, InitName, LossDecl, ModelConfig, ParamDecl,
    PerSampleLoss, ReduceName, TargetDecl, ValueDecl,
};

/// What is wrong with a model: one line naming the table, node or parameter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting that cannot be used, at its place.
    #[error("{at} {message}")]
    Invalid {
        /// The place (a table or node).
        at: String,
        /// What is wrong.
        message: String,
    },
    /// The graph engine's error (shown in the message, so not a `source`: the binary prints
    /// error chains, and a source would appear twice).
    #[error("[model] {0}")]
    Graph(cg_autodiff::Error),
    /// A message that names its place itself (the scalar graphs' `[graph]` tables).
    #[error("{0}")]
    Message(String),
}

impl From<cg_autodiff::Error> for Error {
    fn from(e: cg_autodiff::Error) -> Self {
        Error::Graph(e)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
