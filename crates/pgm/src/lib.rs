//! `cg-pgm`: probabilistic graphical models (section 11.5, Table 11.2: graphs whose nodes are
//! random variables, each sampled conditionally on its neighbours).
//!
//! - [`BayesianNetwork`]: discrete variables on a DAG of the core model, one conditional
//!   probability table per variable; cycles are refused with the cycle named.
//! - [`MarkovNetwork`]: named discrete variables and non-negative [`Factor`]s over them, with its
//!   undirected graph and partition function; a Bayesian network converts into one (its moral
//!   graph). The 2-D [`Ising`] model is one too (pairwise factors e^{J s_i s_j / T}), with a fast
//!   lattice sampler of its own.
//! - Exact inference: [`variable_elimination`] (parts d-separated from the query left out,
//!   barren variables of Bayesian networks too with [`ancestral`]; weighted min-fill order) and, for checking it,
//!   [`enumerate`].
//! - Every marginal at once: [`all_marginals`], a junction tree from the same elimination order,
//!   calibrated by two passes.
//! - [`loopy_belief_propagation`] (damped, with a convergence report) for Markov networks whose
//!   exact tables do not fit.
//! - Approximate inference, [`sampling`]: Gibbs chains (several, started in modes spread apart,
//!   with rank-normalised split-R-hat and bulk ESS; runs of deterministic tables sampled as
//!   blocks), likelihood weighting (in log space) and forward sampling; each marginal comes with
//!   its effective sample size, a standard error that is never 0, a 95% interval, and the
//!   sampler's [`sampling::Doubt`]s.

#![forbid(unsafe_code)]

mod bayes;
mod factor;
pub mod files;
mod ising;
mod junction;
mod lbp;
mod markov;
pub mod params;
pub mod sampling;

pub use bayes::{state_id, variable_id, BayesianNetwork, VariableSpec};
pub use factor::{
    ancestral, elimination_order, elimination_table_size, enumerate, markov_graph, variable_elimination, Factor,
};
pub use ising::{onsager_magnetisation, Ising, IsingRecord, IsingState, IsingStats, CRITICAL_TEMPERATURE};
pub use junction::all_marginals;
pub use lbp::{loopy_belief_propagation, LbpResult, LbpSettings};
pub use markov::{FactorSpec, MarkovNetwork, StatesSpec, ELIMINATION_LIMIT};
pub use sampling::effective_sample_size;

/// Why a model cannot be built or queried.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("table: {0}")]
    Table(String),
    #[error("variable `{name}`: {message}")]
    Variable { name: String, message: String },
    #[error("query: {0}")]
    Query(String),
    /// A setting of a config table (`sampler`, `lbp`) that cannot be used, and why.
    #[error("[{table}] {message}")]
    Setting { table: &'static str, message: String },
    /// The observed values (variable, state) have probability zero under the model.
    #[error("the evidence {evidence:?} has probability zero")]
    ZeroEvidence { evidence: Vec<(usize, usize)> },
    /// A factor of a Markov network, counted from 1.
    #[error("factor {index}: {message}")]
    Factor { index: usize, message: String },
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
}

/// The first name that appears twice in `names` (in one pass: a file may list 10^5 states).
pub(crate) fn repeated(names: &[String]) -> Option<&String> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    names.iter().find(|n| !seen.insert(n.as_str()))
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
