//! `cg-som`: Kohonen self-organizing maps (section 11.5, Table 11.2: a 2-D lattice of hidden
//! units with continuous values, deterministic competitive learning).
//!
//! Each unit u of a lattice holds a codebook vector w_u in data space. A sample x is won by its
//! best-matching unit b = argmin_u ‖x - w_u‖; learning pulls b and its lattice neighbours towards
//! x, so units close on the lattice end up with similar vectors and the lattice becomes a 2-D
//! picture of the data:
//!
//! ```text
//! online:  w_u += η(t) h(d(u, b), σ(t)) (x - w_u)                      one sample at a time
//! batch:   w_u  = Σ_j h(d(u, b_j), σ) x_j / Σ_j h(d(u, b_j), σ)         every sample, each epoch
//! ```
//!
//! d is the lattice distance ([`Lattice`]: rectangular or hexagonal, planar or toroidal) and h the
//! neighbourhood ([`Neighbourhood`]: Gaussian, bubble, Mexican hat); η and σ follow
//! [`Schedule`]s. The batch epoch runs its best-matching-unit search in parallel over samples and
//! its update in parallel over units, each unit summing in one fixed order, so its results are
//! bit-identical for any number of threads.
//!
//! Quality ([`quality`]): the quantization error (mean distance of a sample to its
//! best-matching unit) and the topographic error (share of samples whose two best units are not
//! adjacent on the lattice, wrapped distances included on a torus).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithm;
mod lattice;
mod params;
pub mod quality;

pub use algorithm::{Som, SomRecord, SomState};
pub use lattice::{Lattice, Topology, HEX_ROW};
pub use params::{Decay, Init, Neighbourhood, Schedule, ScheduleConfig, SomConfig, SomParams, Training};

/// Why a map cannot be built or trained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A setting out of its range.
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
    /// A setting needed and not given.
    #[error("{param}: missing ({why} needs it)")]
    Missing {
        /// The setting.
        param: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// Settings that contradict each other.
    #[error("{what}: {why}")]
    Conflict {
        /// The settings.
        what: &'static str,
        /// Why they cannot go together.
        why: &'static str,
    },
    /// A hexagonal torus with an odd number of rows.
    #[error("rows = {rows}: a toroidal hexagonal lattice needs an even row count")]
    OddHexTorus {
        /// The rows.
        rows: usize,
    },
    /// The data cannot be used; says why.
    #[error("data: {0}")]
    Data(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
