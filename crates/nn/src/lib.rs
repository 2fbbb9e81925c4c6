//! `cg-nn`: feed-forward neural networks (section 11.4) built as vector computational graphs of
//! `cg-autodiff`, and trained by mini-batch gradient descent with the optimisers of `cg-optim`.
//!
//! A network with layer sizes [d, p1, ..., k] becomes the decoupled graph of Figure 11.14:
//! `a_i = W_i h_{i-1} + b_i` (a linear node), `h_i = Φ(a_i)` (an activation node), with the last
//! layer's activation chosen separately (identity for logits, sigmoid, tanh or softmax). A
//! mini-batch is a matrix whose columns are samples (exercise 3), so one forward and one backward
//! pass per batch are matrix products.
//!
//! Fitting y = 3x - 1 with one linear unit (a 1-1 network with an identity output):
//!
//! ```
//! use cg_core::Validate;
//! use cg_data::Dataset;
//! use cg_nn::{train, Mlp, ModelConfig, TrainParams};
//! use cg_optim::OptimizerConfig;
//! use nalgebra::DMatrix;
//! use rand::SeedableRng;
//!
//! let x: Vec<f64> = (0..21).map(|i| -1.0 + 0.1 * i as f64).collect();
//! let data = Dataset {
//!     features: DMatrix::from_row_slice(1, x.len(), &x),
//!     targets: x.iter().map(|x| 3.0 * x - 1.0).collect(),
//!     feature_names: vec!["x".into()],
//!     target_name: "y".into(),
//! };
//! let spec = ModelConfig::new(vec![1, 1], cg_autodiff::vector::Loss::SquaredError).validate().unwrap();
//! let mlp = Mlp::<f64>::new(spec);
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let mut tape = mlp.init(&mut rng);
//! let params = TrainParams::new(500, 21, OptimizerConfig::sgd(0.2).validate().unwrap());
//! let outcome = train(&mlp.net, &mut tape, &data, None, &params, &mut rng, &mut []).unwrap();
//! let (w, b) = (tape.get(mlp.params[0]).unwrap()[(0, 0)], tape.get(mlp.params[1]).unwrap()[(0, 0)]);
//! assert!((w - 3.0).abs() < 1e-6 && (b + 1.0).abs() < 1e-6, "w = {w}, b = {b}");
//! assert!(outcome.records.last().unwrap().train_loss < 1e-12);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod artifact;
mod constraints;
mod early;
mod error;
mod model;
mod network;
pub mod reference;
mod resume;
mod rnn;
pub mod svd;
mod train;

pub use constraints::{project, violation};
pub use early::{EarlyStopping, EarlyStoppingConfig, StopMetric};
pub use error::{Error, Result};
pub use model::{margin, Float, Init, Mlp, ModelConfig, ModelParams, OutputKind};
pub use network::{Decision, Encoded, LossTerm, Network, Noise, RunningStats, TargetSource, TargetSpec};
pub use rnn::{Rnn, RnnRecord, RnnState, RnnTrainer, SineTask};
pub use train::{
    gradient_check, train, EpochRecord, GradientCheck, Precision, StreamedSamples, TrainConfig, TrainOutcome,
    TrainParams, TrainState, Trainer,
};
