//! `cg-boltzmann`: Boltzmann machines (section 11.5, Table 11.2: undirected graphs of binary,
//! probabilistic nodes, learned by Monte Carlo sampling and a Hebbian-like rule).
//!
//! A Boltzmann machine gives every joint state s of its binary units the probability
//! p(s) = e^{-E(s)} / Z with E(s) = -½ sᵀWs - bᵀs. Learning raises the log-likelihood of the data
//! by ΔW_ij ∝ ⟨s_i s_j⟩_data - ⟨s_i s_j⟩_model: the first average with the visible units clamped
//! to data, the second from free-running Gibbs chains ([`bm`]).
//!
//! The restricted machine ([`Rbm`]) joins only visible to hidden units, so each layer is sampled
//! in one block given the other, and the hidden layer sums out in closed form (the free energy).
//! [`RbmTrainer`] learns it by contrastive divergence (CD-k: k block-Gibbs steps from the data)
//! or persistent CD (chains kept between updates), with mini-batches, momentum and weight decay;
//! visible units are Bernoulli or Gaussian (unit variance).
//!
//! # Example
//! The exact partition function of a small RBM, checked against the sum over all 2^(3+2) joint
//! states of e^{-E(v, h)}:
//! ```
//! use cg_boltzmann::{Rbm, Visible};
//! use rand::SeedableRng;
//! let rbm = Rbm::random(3, 2, Visible::Bernoulli, 1.0, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
//! let bits = |n: usize, k: usize| -> Vec<f64> { (0..n).map(|i| ((k >> i) & 1) as f64).collect() };
//! let z: f64 = (0..8).flat_map(|v| (0..4).map(move |h| (v, h))).map(|(v, h)| (-rbm.energy(&bits(3, v), &bits(2, h))).exp()).sum();
//! assert!((rbm.log_partition_exact().unwrap() - z.ln()).abs() < 1e-12);
//! ```
//!
//! Evaluation: the exact log partition function by enumerating the smaller layer (up to 22
//! units), annealed importance sampling for larger machines (validated against the exact value
//! in the tests), and the pseudo-log-likelihood scikit-learn reports.

#![warn(missing_docs)]

pub mod bm;
mod linalg;
mod monitor;
mod params;
mod rbm;
mod samples;
mod train;

pub use bm::{BmConfig, BmState, BmTrainer, BoltzmannMachine};
pub use monitor::{sample_states, AisPoint, LikelihoodMonitor};
pub use params::{EvaluationConfig, Method, RbmConfig, RbmParams};
pub use rbm::{
    ais_base, ais_base_of, ais_betas, base_biases, bernoulli_in_place, AisEstimate, Rbm, Visible, EXACT_LIMIT,
};
pub use samples::MatrixRows;
pub use train::{RbmRecord, RbmState, RbmTrainer};

/// Why a machine cannot be built, trained or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A setting out of its range.
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
    /// The data cannot be used (empty, ragged); says why.
    #[error("data: {0}")]
    Data(String),
    /// A visible value that is not 0 or 1 where binary units are asked for.
    #[error("data: {value} is not 0 or 1 (binary units)")]
    NotBinary {
        /// The value found.
        value: f64,
    },
    /// A matrix or vector of the wrong size.
    #[error("{what}: expected {expected} values, found {found}")]
    Shape {
        /// Which one.
        what: &'static str,
        /// The size it must have.
        expected: usize,
        /// The size it has.
        found: usize,
    },
    /// A machine too large for exact enumeration.
    #[error("exact enumeration over {units} units is too large (limit {limit}); use AIS")]
    TooLarge {
        /// The units to enumerate over.
        units: usize,
        /// The most allowed.
        limit: usize,
    },
    /// A combination of settings that is not supported.
    #[error("{what}: {why}")]
    Unsupported {
        /// The combination.
        what: &'static str,
        /// Why not.
        why: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
