//! `cg-model`: models written as graphs in a config ([`scalar`] holds the scalar graphs of the
//! chapter's figures, compiled and trainable). A model is a set of named nodes, each a
//! vector expression of inputs, targets, learnable parameters and other nodes, plus a loss: any
//! vector computational graph (skip connections, tied weights, several outputs and losses),
//! checked shape by shape before anything runs and built into a [`cg_nn::Network`] that the
//! one trainer of `cg-nn` trains.
//!
//! Expressions: `@` (matrix product), `+ - *` elementwise with a column or a scalar broadcast
//! over the batch, numbers, `transpose sigmoid tanh relu hardtanh softplus exp log abs softmax
//! sum`, `max(a, b, ...)`, `concat(a, b, ...)` (stacks rows), and the losses of
//! [`cg_autodiff::vector::Loss`] as `loss(prediction, target)`, each the mean over the batch. A
//! parameter used in several places is one node whose gradient sums over its uses (tied weights).
#![forbid(unsafe_code)]

mod build;
mod config;
pub mod parse;
pub mod scalar;

pub use build::{build, Dim, Model, NodeInfo, Shape};
pub use config::{ColumnTarget, InitName, ModelConfig, ParamDecl, TargetDecl, ValueDecl};

/// What is wrong with a model: one line naming the table, node or parameter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{at} {message}")]
    Invalid { at: String, message: String },
    #[error("[model] {0}")]
    Graph(#[from] cg_autodiff::Error),
    /// A message that names its place itself (the scalar graphs' `[graph]` tables).
    #[error("{0}")]
    Message(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
