//! `kind = "markov_net"`: a discrete Markov network written in the config (variables with named
//! states, factors over them) or read from a UAI file, queried exactly and by Gibbs sampling;
//! reports the partition function and writes the network as `network.uai`.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_pgm::{Error as PgmError, FactorSpec, MarkovNetwork, StatesSpec};
use serde::Deserialize;

use super::discrete::{
    DiscreteExperiment, FactorModel, LbpConfig, MapConfig, MarginalsConfig, QueryConfig, SamplerConfig,
};
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
    /// The variables with their states (or `[network] uai`).
    #[serde(default)]
    variables: Vec<StatesSpec>,
    /// Non-negative factors; their product, normalised, is the distribution.
    #[serde(default)]
    factors: Vec<FactorSpec>,
    /// The network from a file instead of `[[variables]]` and `[[factors]]`.
    network: Option<UaiSource>,
    /// Posteriors asked for, each answered exactly and by the sampler.
    queries: Vec<QueryConfig>,
    /// How the posteriors are also estimated by sampling, beside their exact answers; without
    /// it the queries are answered exactly only.
    #[serde(alias = "gibbs")]
    sampler: Option<SamplerConfig>,
    /// Every variable's posterior given this evidence, at once (junction tree).
    marginals: Option<MarginalsConfig>,
    /// Also answer each query by loopy belief propagation (approximate; for networks whose
    /// exact tables do not fit).
    lbp: Option<LbpConfig>,
    /// Most probable joint states (MAP; MPE when no variables are named), each exact.
    #[serde(default)]
    map: Vec<MapConfig>,
}

/// `[network]` of a `markov_net` config.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UaiSource {
    /// A UAI file (MARKOV or BAYES), relative to the config file; its variables are named x0,
    /// x1, ... with states 0, 1, ...
    uai: String,
}

impl KindConfig for MarkovNetFile {
    const NAME: &'static str = "markov_net";
    const SUMMARY: &'static str =
        "a discrete Markov network (inline or UAI): partition function, exact queries, Gibbs sampling, loopy BP";
    type Experiment = DiscreteExperiment;

    /// # Errors
    /// A repeated or unknown variable, a variable with fewer than two states, a factor table of
    /// the wrong size or with a negative entry, an unknown query name or state.
    fn validate(self, base: &Path) -> Result<DiscreteExperiment> {
        let (variables, factors) = match (&self.network, self.variables.is_empty() && self.factors.is_empty()) {
            (Some(source), true) => {
                let path = base.join(&source.uai);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow!("[network] uai: cannot read {}: {e}", path.display()))?;
                cg_pgm::files::read_uai(&text).map_err(|e| anyhow!("[network] uai: {}: {e}", path.display()))?
            }
            (None, _) => (self.variables, self.factors),
            _ => {
                anyhow::bail!("give the network either as [[variables]] and [[factors]] or as [network] uai, not both")
            }
        };
        let net = MarkovNetwork::new(&variables, &factors).map_err(|e| match e {
            PgmError::Variable { name, message } => anyhow!("[[variables]] `{name}`: {message}"),
            PgmError::Factor { index, message } => anyhow!("[[factors]] {index}: {message}"),
            e => anyhow!("[[variables]] {e}"),
        })?;
        let file = Ok(("network.uai", cg_pgm::files::write_uai(&net)));
        DiscreteExperiment::new(
            self.seed,
            FactorModel { net, parents: None, file },
            &self.queries,
            self.sampler.as_ref(),
            self.marginals.as_ref(),
            self.lbp.as_ref(),
        )?
        .with_map(&self.map)
    }
}
