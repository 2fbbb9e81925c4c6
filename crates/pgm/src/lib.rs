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
//!
//! # Example
//! Pearl's burglary network read from BIF text, asked by names: the exact posterior
//! P(burglary | alarm) = 0.01·0.95 / (0.01·0.95 + 0.99·0.01) by Bayes' rule.
//! ```
//! use cg_pgm::{files, BayesianNetwork};
//! let bif = r#"
//! network alarm {}
//! variable burglary { type discrete [ 2 ] { yes, no }; }
//! variable alarm { type discrete [ 2 ] { yes, no }; }
//! probability ( burglary ) { table 0.01, 0.99; }
//! probability ( alarm | burglary ) { (yes) 0.95, 0.05; (no) 0.01, 0.99; }
//! "#;
//! let net = BayesianNetwork::new(&files::read_bif(bif).unwrap()).unwrap();
//! let answer = net.query("burglary", &[("alarm", "yes")]).unwrap();
//! let exact = 0.01 * 0.95 / (0.01 * 0.95 + 0.99 * 0.01);
//! assert_eq!(answer[0].0, "yes");
//! assert!((answer[0].1 - exact).abs() < 1e-15);
//! assert_eq!(net.query("burglary", &[("alarm", "maybe")]).unwrap_err().to_string(), "`alarm` has no state `maybe` (states: yes, no)");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bayes;
mod factor;
pub mod files;
mod ising;
mod junction;
mod lbp;
pub mod learn;
mod map;
mod markov;
pub mod params;
mod question;
pub mod report;
pub mod sampling;

pub use bayes::{state_id, variable_id, BayesianNetwork, VariableSpec};
pub use factor::{
    ancestral, elimination_order, elimination_table_size, enumerate, markov_graph, variable_elimination, Factor,
};
pub use ising::{onsager_magnetisation, Ising, IsingRecord, IsingState, IsingStats, CRITICAL_TEMPERATURE};
pub use junction::{all_marginals, junction_tree_size};
pub use lbp::{loopy_belief_propagation, LbpResult, LbpSettings};
pub use map::{most_probable, MostProbable};
pub use markov::{FactorSpec, MarkovNetwork, StatesSpec, ELIMINATION_LIMIT};
pub use question::{Answer, Form, Question};
pub use sampling::effective_sample_size;

/// Why a model cannot be built or queried.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A table that is wrong; says why.
    #[error("table: {0}")]
    Table(String),
    /// A variable that is wrong.
    #[error("variable `{name}`: {message}")]
    Variable {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A query that cannot be answered; says why.
    #[error("query: {0}")]
    Query(String),
    /// A variable name the model does not have.
    #[error("no variable `{name}`")]
    UnknownVariable {
        /// The name asked for.
        name: String,
    },
    /// A state name the variable does not have.
    #[error("`{variable}` has no state `{state}` (states: {states})")]
    UnknownState {
        /// The variable.
        variable: String,
        /// The state asked for.
        state: String,
        /// The variable's states, comma-separated.
        states: String,
    },
    /// Data and a structure or settings that cannot be learnt from; says why.
    #[error("{0}")]
    Learn(String),
    /// A setting of a config table (`sampler`, `lbp`) that cannot be used, and why.
    #[error("[{table}] {message}")]
    Setting {
        /// The table.
        table: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The observed values (variable, state) have probability zero under the model.
    #[error("the evidence {evidence:?} has probability zero")]
    ZeroEvidence {
        /// The evidence, as (variable, state) ids.
        evidence: Vec<(usize, usize)>,
    },
    /// A factor of a Markov network, counted from 1.
    #[error("factor {index}: {message}")]
    Factor {
        /// The factor, from 1.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// The graph is wrong (a cycle, a name used twice).
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
    /// A setting out of its range.
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
