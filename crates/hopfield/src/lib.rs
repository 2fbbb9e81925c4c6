//! `cg-hopfield`: Hopfield networks (section 11.5, Table 11.2: undirected graphs of binary nodes,
//! deterministic updates, learned by the Hebbian rule).
//!
//! A network of N units with states s_i ∈ {-1, +1}, symmetric weights W (zero diagonal) and
//! thresholds θ has the energy
//!
//! ```text
//! E(s) = -1/2 sᵀ W s + θᵀ s
//! ```
//!
//! and a unit updates to s_i ⇐ sign(Σ_j W_ij s_j - θ_i) (keeping its state when the field is
//! exactly zero). Updated one unit at a time (asynchronously), E never increases, so recall ends
//! in a fixed point (Hopfield 1982). Updated all at once (synchronously), the dynamics end in a
//! fixed point or a 2-cycle.
//!
//! Storage rules for patterns ξ¹ … ξᴾ:
//! - Hebbian: W = (1/N) Σ_p ξᵖ ξᵖᵀ with the diagonal zeroed. Random patterns are recalled up to a
//!   load α = P/N ≈ 0.138 (Amit, Gutfreund and Sompolinsky, 1985).
//! - Storkey (1997): pattern by pattern, W_ij += (1/N)(ξ_i ξ_j - ξ_i h_ji - h_ij ξ_j) with the
//!   local field h_ij = Σ_{k ≠ i, j} W_ik ξ_k; it holds higher loads.
//!
//! [`tsp`] holds the continuous Hopfield-Tank network for the travelling salesman problem and the
//! exact Held-Karp solution it is measured against.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod capacity;
mod network;
mod rates;
mod recall;
pub mod tsp;

pub use capacity::{capacity_curve, load_below_half, CapacityParams};
pub use network::{Hopfield, Learner, Rule};
pub use rates::{recall_rates, RecallRates};
pub use recall::{flip_units, recall, Mode, Recall, RecallState, SweepRecord};

/// Why a network cannot be built or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Weights that are not symmetric.
    #[error("weights are not symmetric: W[{i}][{j}] = {wij} but W[{j}][{i}] = {wji}")]
    Asymmetric {
        /// One unit.
        i: usize,
        /// The other unit.
        j: usize,
        /// The weight from i to j.
        wij: f64,
        /// The weight from j to i.
        wji: f64,
    },
    /// A unit connected to itself.
    #[error("W[{i}][{i}] = {value}: the diagonal must be zero")]
    SelfConnection {
        /// The unit.
        i: usize,
        /// The weight.
        value: f64,
    },
    /// A pattern of the wrong length.
    #[error("pattern {pattern} has {found} values, the network has {expected} units")]
    SizeMismatch {
        /// The pattern, from 0.
        pattern: usize,
        /// The units.
        expected: usize,
        /// The pattern's length.
        found: usize,
    },
    /// A pattern value that is not -1 or +1.
    #[error("pattern {pattern}, unit {unit}: {value} is not -1 or +1")]
    NotSpin {
        /// The pattern, from 0.
        pattern: usize,
        /// The unit, from 0.
        unit: usize,
        /// The value.
        value: f64,
    },
    /// No patterns to store.
    #[error("no patterns to store")]
    NoPatterns,
    /// An edge without a weight where one is needed.
    #[error("edge {a} - {b} has no weight")]
    Unweighted {
        /// One end.
        a: String,
        /// The other end.
        b: String,
    },
    /// The graph is wrong (a name used twice).
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
