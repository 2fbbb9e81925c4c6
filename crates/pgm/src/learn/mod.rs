//! Learning Bayesian networks from data: the tables of a given structure (maximum likelihood,
//! Bayesian with a Dirichlet prior, EM when cells are missing) and the structure itself
//! (hill climbing on BIC, BDeu or K2; the PC algorithm), compared with a reference network.
//!
//! Counting is sparse: a family's counts hold only the parent configurations that occur
//! ([`FamilyCounts`]), so memory follows the data, not the product of the parents' states.
//!
//! # Example
//! Data drawn from a known network, its structure found again and its tables fitted.
//! ```
//! use cg_pgm::learn::{compare, fit, DiscreteData, Estimator, HillClimb, Prior, Search};
//! use cg_pgm::{files, BayesianNetwork};
//! use rand::SeedableRng;
//! let truth = BayesianNetwork::new(&files::read_bif(
//!     "variable rain { type discrete [ 2 ] { no, yes }; }\n\
//!      variable wet { type discrete [ 2 ] { no, yes }; }\n\
//!      probability ( rain ) { table 0.7, 0.3; }\n\
//!      probability ( wet | rain ) { (no) 0.9, 0.1; (yes) 0.2, 0.8; }").unwrap()).unwrap();
//! let draws = truth.sample(5000, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
//! let data = DiscreteData::from_draws(&truth, &draws);
//! let learned = Search::new(&data, HillClimb::default(), None).unwrap().run();
//! // One edge, in either direction (the two are Markov equivalent).
//! assert_eq!(compare(&data.names, &learned.parents, &truth.parents).cpdag_shd, 0);
//! let net = fit(&data, &truth.parents, Estimator::Bayesian(Prior::Bdeu { ess: 1.0 })).unwrap();
//! let p = net.query("wet", &[("rain", "yes")]).unwrap()[1].1;
//! assert!((p - 0.8).abs() < 0.05);
//! ```

mod compare;
mod counts;
mod dag;
mod data;
mod em;
mod estimate;
mod hill;
mod pc;
mod pdag;
mod score;
#[cfg(test)]
mod tests;

pub use compare::{compare, pdag_distance, Comparison};
pub use counts::{count, FamilyCounts};
pub use dag::edges;
pub use data::{is_missing_token, DataError, DiscreteData, MISSING};
pub use em::{em, Em, EmResult, MAX_MISSING_STATES};
pub use estimate::{fit, Estimator, Prior, Unseen};
pub use hill::{HillClimb, Learned, Move, Search, SearchState};
pub use pc::{independence_test, pc, CiTest, Pc, PcResult, TestResult};
pub use pdag::Pdag;
pub use score::Score;
