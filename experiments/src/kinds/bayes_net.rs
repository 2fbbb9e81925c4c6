//! `kind = "bayes_net"`: a discrete Bayesian network written in the config (named variables,
//! states, parents and conditional probability tables), queried exactly and by Gibbs sampling.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_pgm::{BayesianNetwork, MarkovNetwork, VariableSpec};
use serde::Deserialize;

use super::discrete::{DiscreteExperiment, FactorModel, QueryConfig, SamplerConfig};
use super::KindConfig;

/// `kind = "bayes_net"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BayesNetFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The variables with their states, parents and tables.
    variables: Vec<VariableSpec>,
    /// Posteriors asked for, each answered exactly and by Gibbs sampling.
    queries: Vec<QueryConfig>,
    /// How the posteriors are sampled (each is also computed exactly).
    #[serde(alias = "gibbs")]
    sampler: SamplerConfig,
}

impl KindConfig for BayesNetFile {
    const NAME: &'static str = "bayes_net";
    const SUMMARY: &'static str =
        "a discrete Bayesian network queried exactly (variable elimination) and by Gibbs sampling";
    type Experiment = DiscreteExperiment;

    /// # Errors
    /// A bad network (named variable), an unknown query name or state, or empty settings.
    fn validate(self, _base: &Path) -> Result<DiscreteExperiment> {
        let bn = BayesianNetwork::new(&self.variables).map_err(|e| anyhow!("[[variables]] {e}"))?;
        let parents = Some(bn.parents.clone());
        let model = FactorModel { net: MarkovNetwork::from(bn), parents };
        DiscreteExperiment::new(self.seed, model, &self.queries, &self.sampler)
    }
}
