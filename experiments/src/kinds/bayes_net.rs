//! `kind = "bayes_net"`: a discrete Bayesian network written in the config (named variables,
//! states, parents and conditional probability tables) or read from a BIF file, queried exactly
//! and by a sampler; every run writes the network as `network.bif`.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_pgm::{BayesianNetwork, MarkovNetwork, VariableSpec};
use serde::Deserialize;

use super::discrete::{
    DiscreteExperiment, FactorModel, LbpConfig, MapConfig, MarginalsConfig, QueryConfig, SamplerConfig,
};
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
    /// The variables with their states, parents and tables (or `[network] bif`).
    #[serde(default)]
    variables: Vec<VariableSpec>,
    /// The network from a file instead of `[[variables]]`.
    network: Option<BifSource>,
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

/// The name an inline network is written with until the run names it after its config
/// ([`named_after`]).
const UNNAMED: &str = "unknown";

/// `network.bif`'s text with the network named after the run `title` when it had no name of its
/// own (an inline network).
pub(super) fn named_after(text: &str, title: &str) -> String {
    let first = format!("network {UNNAMED} {{");
    match text.strip_prefix(&first) {
        Some(rest) if cg_pgm::files::bif_word(title) => format!("network {title} {{{rest}"),
        _ => text.to_string(),
    }
}

/// `[network]` of a `bayes_net` config.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BifSource {
    /// A BIF file (bnlearn repository, pgmpy, GeNIe), relative to the config file.
    bif: String,
}

impl KindConfig for BayesNetFile {
    const NAME: &'static str = "bayes_net";
    const SUMMARY: &'static str =
        "a discrete Bayesian network (inline or BIF) queried exactly and by samplers with error bars";
    type Experiment = DiscreteExperiment;

    /// # Errors
    /// A bad network (named variable), an unknown query name or state, or empty settings.
    fn validate(self, base: &Path) -> Result<DiscreteExperiment> {
        let (specs, place, name) = match (&self.network, self.variables.is_empty()) {
            (Some(source), true) => {
                let path = base.join(&source.bif);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow!("[network] bif: cannot read {}: {e}", path.display()))?;
                (
                    cg_pgm::files::read_bif(&text).map_err(|e| anyhow!("[network] bif: {}: {e}", path.display()))?,
                    "[network] bif",
                    cg_pgm::files::bif_name(&text),
                )
            }
            // An inline network is named after the run (`network.bif` gets the config's name).
            (None, false) => (self.variables, "[[variables]]", None),
            _ => anyhow::bail!("give the network either as [[variables]] or as [network] bif, not both or neither"),
        };
        let bn = BayesianNetwork::new(&specs).map_err(|e| anyhow!("{place} {e}"))?;
        let parents = Some(bn.parents.clone());
        let file = cg_pgm::files::write_bif_named(&bn, name.as_deref().unwrap_or(UNNAMED))
            .map(|text| ("network.bif", text))
            .map_err(|e| e.to_string());
        let model = FactorModel { net: MarkovNetwork::from(bn), parents, file };
        DiscreteExperiment::new(
            self.seed,
            model,
            &self.queries,
            self.sampler.as_ref(),
            self.marginals.as_ref(),
            self.lbp.as_ref(),
        )?
        .with_map(&self.map)
    }
}
