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
//! Evaluation: the exact log partition function by enumerating the smaller layer (up to 22
//! units), annealed importance sampling for larger machines (validated against the exact value
//! in the tests), and the pseudo-log-likelihood scikit-learn reports.

pub mod bm;
mod linalg;
mod monitor;
mod params;
mod rbm;
mod train;

pub use bm::{BmConfig, BmState, BmTrainer, BoltzmannMachine};
pub use monitor::{sample_states, AisPoint, LikelihoodMonitor};
pub use params::{Method, RbmConfig, RbmParams};
pub use rbm::{ais_base, ais_betas, base_biases, bernoulli_in_place, AisEstimate, Rbm, Visible, EXACT_LIMIT};
pub use train::{RbmRecord, RbmState, RbmTrainer};

/// Why a machine cannot be built, trained or evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
    #[error("data: {0}")]
    Data(String),
    #[error("data: {value} is not 0 or 1 (binary units)")]
    NotBinary { value: f64 },
    #[error("{what}: expected {expected} values, found {found}")]
    Shape { what: &'static str, expected: usize, found: usize },
    #[error("exact enumeration over {units} units is too large (limit {limit}); use AIS")]
    TooLarge { units: usize, limit: usize },
    #[error("{what}: {why}")]
    Unsupported { what: &'static str, why: &'static str },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
