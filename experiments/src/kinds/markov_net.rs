//! `kind = "markov_net"`: a discrete Markov network written in the config (variables with named
//! states, factors over them), queried exactly and by Gibbs sampling; reports the partition
//! function.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_pgm::{Error as PgmError, FactorSpec, MarkovNetwork, StatesSpec};
use serde::Deserialize;

use super::discrete::{DiscreteExperiment, FactorModel, QueryConfig, SamplerConfig};
use super::KindConfig;

/// `kind = "markov_net"`: variables with named states and factors over them.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkovNetFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The variables with their states.
    variables: Vec<StatesSpec>,
    /// Non-negative factors; their product, normalised, is the distribution.
    factors: Vec<FactorSpec>,
    /// Posteriors asked for, each answered exactly and by Gibbs sampling.
    queries: Vec<QueryConfig>,
    /// How the posteriors are sampled (each is also computed exactly).
    #[serde(alias = "gibbs")]
    sampler: SamplerConfig,
}

impl KindConfig for MarkovNetFile {
    const NAME: &'static str = "markov_net";
    const SUMMARY: &'static str = "a discrete Markov network: partition function, exact queries and Gibbs sampling";
    type Experiment = DiscreteExperiment;

    /// # Errors
    /// A repeated or unknown variable, a variable with fewer than two states, a factor table of
    /// the wrong size or with a negative entry, an unknown query name or state.
    fn validate(self, _base: &Path) -> Result<DiscreteExperiment> {
        let net = MarkovNetwork::new(&self.variables, &self.factors).map_err(|e| match e {
            PgmError::Variable { name, message } => anyhow!("[[variables]] `{name}`: {message}"),
            PgmError::Factor { index, message } => anyhow!("[[factors]] {index}: {message}"),
            e => anyhow!("[[variables]] {e}"),
        })?;
        DiscreteExperiment::new(self.seed, FactorModel { net, parents: None }, &self.queries, &self.sampler)
    }
}
