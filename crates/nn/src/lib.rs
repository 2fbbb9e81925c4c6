//! `cg-nn`: feed-forward neural networks (section 11.4) built as vector computational graphs of
//! `cg-autodiff`, and trained by mini-batch gradient descent with the optimisers of `cg-optim`.
//!
//! A network with layer sizes [d, p1, ..., k] becomes the decoupled graph of Figure 11.14:
//! `a_i = W_i h_{i-1} + b_i` (a linear node), `h_i = Φ(a_i)` (an activation node), with the last
//! layer's activation chosen separately (identity for logits, sigmoid, tanh or softmax). A
//! mini-batch is a matrix whose columns are samples (exercise 3), so one forward and one backward
//! pass per batch are matrix products.

#![forbid(unsafe_code)]

pub mod artifact;
mod constraints;
mod error;
mod model;
mod network;
pub mod reference;
mod resume;
mod rnn;
pub mod svd;
mod train;

pub use constraints::{project, violation};
pub use error::{Error, Result};
pub use model::{margin, Float, Init, Mlp, ModelConfig, ModelParams, OutputKind};
pub use network::{Encoded, LossTerm, Network, TargetSource, TargetSpec};
pub use rnn::{Rnn, RnnRecord, RnnState, RnnTrainer, SineTask};
pub use train::{
    gradient_check, train, EpochRecord, GradientCheck, Precision, TrainConfig, TrainOutcome, TrainParams, TrainState,
    Trainer,
};
