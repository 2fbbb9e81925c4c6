//! What `bayes_net` and `markov_net` share: a discrete network queried exactly by variable
//! elimination and approximately by a sampler (several Gibbs chains with R-hat, likelihood
//! weighting or forward sampling), each estimate with its error bars.

use anyhow::{anyhow, bail, Result};
use cg_core::Validate;
use cg_pgm::sampling::{Compiled, Method, Settings};
use cg_pgm::{Error as PgmError, MarkovNetwork};
use indexmap::IndexMap;
use serde::Deserialize;

mod run;

/// `[[queries]]`: the distribution of `target` given `evidence` (variable = state).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct QueryConfig {
    /// The variable whose posterior is asked for.
    target: String,
    /// Observed variables: `name = "state"`.
    #[serde(default)]
    evidence: IndexMap<String, String>,
}

/// `[[map]]`: the most probable joint state of `variables` (every unobserved variable when
/// empty: the most probable explanation) given `evidence`, by sum-then-max elimination.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MapConfig {
    /// The variables whose joint state is asked for (empty: all unobserved ones).
    #[serde(default)]
    variables: Vec<String>,
    /// Observed variables: `name = "state"`.
    #[serde(default)]
    evidence: IndexMap<String, String>,
}

struct MapQuery {
    variables: Vec<usize>,
    evidence: Vec<(usize, usize)>,
}

/// `[marginals]`: every variable's posterior given `evidence`, computed at once by a junction
/// tree (and, to check it, by variable elimination one variable at a time).
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MarginalsConfig {
    /// Observed variables: `name = "state"` (none: the prior marginals).
    #[serde(default)]
    evidence: IndexMap<String, String>,
}

pub(super) use cg_pgm::params::{LbpConfig, SamplerConfig};

/// The sampler's name in metrics.
fn method_name(m: Method) -> &'static str {
    match m {
        Method::Gibbs => "gibbs",
        Method::LikelihoodWeighting => "likelihood_weighting",
        Method::Forward => "forward",
    }
}

struct Query {
    target: usize,
    evidence: Vec<(usize, usize)>,
}

/// A discrete model: the Markov network (for a Bayesian network, its tables on the moral graph)
/// and, for a Bayesian network, each variable's parents (table k is variable k's).
pub(super) struct FactorModel {
    pub(super) net: MarkovNetwork,
    pub(super) parents: Option<Vec<Vec<usize>>>,
    /// The network in its exchange format (`network.bif`, `network.uai`), or why it cannot be.
    pub(super) file: Result<(&'static str, String), String>,
}

impl FactorModel {
    /// Evidence by names, as (variable, state) ids.
    fn evidence(&self, names: &IndexMap<String, String>) -> Result<Vec<(usize, usize)>> {
        let at = |e: PgmError| match e {
            PgmError::Query(m) => anyhow!("{m}"),
            e => anyhow!("{e}"),
        };
        let mut evidence = vec![];
        for (name, state) in names {
            let v = self.net.id(name).map_err(at)?;
            evidence.push((v, self.net.state(v, state).map_err(at)?));
        }
        Ok(evidence)
    }

    /// The arrows parent -> child of a Bayesian network.
    fn arrows(&self) -> Option<Vec<(usize, usize)>> {
        self.parents
            .as_ref()
            .map(|ps| ps.iter().enumerate().flat_map(|(k, ps)| ps.iter().map(move |&p| (p, k))).collect())
    }

    /// The factors exact inference needs for `q`: for a Bayesian network, those of the query's
    /// and the evidence's ancestors (the others are barren).
    fn relevant_factors(&self, q: &Query) -> Vec<cg_pgm::Factor> {
        let factors = &self.net.factors;
        match &self.parents {
            Some(ps) => {
                let keep = cg_pgm::ancestral(ps, &[q.target], &q.evidence);
                factors.iter().enumerate().filter(|&(v, _)| keep[v]).map(|(_, f)| f.clone()).collect()
            }
            None => factors.clone(),
        }
    }

    /// The factors compiled for the samplers.
    fn compiled(&self) -> Result<Compiled<'_>> {
        let net = &self.net;
        Ok(match &self.parents {
            Some(ps) => Compiled::bayesian(&net.factors, &net.cards, ps)?,
            None => Compiled::new(&net.factors, &net.cards)?,
        })
    }
}

impl FactorModel {
    fn queries(&self, queries: &[QueryConfig]) -> Result<Vec<Query>> {
        if queries.is_empty() {
            bail!("[[queries]]: at least one query");
        }
        queries
            .iter()
            .enumerate()
            .map(|(k, q)| {
                let at = |e: PgmError| match e {
                    PgmError::Query(m) => anyhow!("[[queries]] {}: {m}", k + 1),
                    e => anyhow!("[[queries]] {}: {e}", k + 1),
                };
                let target = self.net.id(&q.target).map_err(at)?;
                let evidence = self.evidence(&q.evidence).map_err(|e| anyhow!("[[queries]] {}: {e}", k + 1))?;
                if evidence.iter().any(|e| e.0 == target) {
                    bail!("[[queries]] {}: `{}` is both the target and evidence", k + 1, q.target);
                }
                Ok(Query { target, evidence })
            })
            .collect()
    }
}

/// A validated discrete-model experiment (`bayes_net` or `markov_net`).
pub struct DiscreteExperiment {
    seed: u64,
    model: FactorModel,
    queries: Vec<Query>,
    /// The sampler's settings, when the queries are also estimated.
    sampler: Option<Settings>,
    /// `[marginals]`'s evidence.
    marginals: Option<Vec<(usize, usize)>>,
    lbp: Option<cg_pgm::LbpSettings>,
    /// `[[map]]`'s questions.
    map: Vec<MapQuery>,
}

impl DiscreteExperiment {
    /// Adds `[[map]]`'s questions.
    ///
    /// # Errors
    /// An unknown name or state, or a variable both asked for and observed.
    pub(super) fn with_map(mut self, maps: &[MapConfig]) -> Result<DiscreteExperiment> {
        for (k, m) in maps.iter().enumerate() {
            let at = |e: anyhow::Error| anyhow!("[[map]] {}: {e}", k + 1);
            let evidence = self.model.evidence(&m.evidence).map_err(at)?;
            let mut variables = vec![];
            for name in &m.variables {
                let v = self.model.net.id(name).map_err(|e| at(e.into()))?;
                if evidence.iter().any(|e| e.0 == v) || variables.contains(&v) {
                    bail!("[[map]] {}: `{name}` is asked for twice or also observed", k + 1);
                }
                variables.push(v);
            }
            if variables.is_empty() {
                variables = (0..self.model.net.cards.len()).filter(|v| !evidence.iter().any(|e| e.0 == *v)).collect();
            }
            self.map.push(MapQuery { variables, evidence });
        }
        Ok(self)
    }

    /// Resolves the queries' names against the model and checks the sampler's settings.
    ///
    /// # Errors
    /// An unknown query name or state, a sampler setting out of range or of another method, or
    /// a sampler that needs a Bayesian network on a Markov network.
    pub(super) fn new(
        seed: u64,
        model: FactorModel,
        queries: &[QueryConfig],
        sampler: Option<&SamplerConfig>,
        marginals: Option<&MarginalsConfig>,
        lbp: Option<&LbpConfig>,
    ) -> Result<DiscreteExperiment> {
        let lbp = lbp.map(Validate::validate).transpose()?;
        let sampler = sampler.map(SamplerConfig::validate).transpose()?;
        if let Some(s) = sampler.as_ref().filter(|s| s.method != Method::Gibbs && model.parents.is_none()) {
            bail!(
                "[sampler] method = \"{}\" needs a Bayesian network (kind = \"bayes_net\"); use gibbs",
                method_name(s.method)
            );
        }
        let queries = model.queries(queries)?;
        let marginals = marginals
            .map(|m| model.evidence(&m.evidence).map_err(|e| anyhow!("[marginals] evidence: {e}")))
            .transpose()?;
        Ok(DiscreteExperiment { seed, model, queries, sampler, marginals, lbp, map: vec![] })
    }
}
