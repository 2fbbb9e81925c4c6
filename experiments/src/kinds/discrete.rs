//! What `bayes_net` and `markov_net` share: a discrete network queried exactly by variable
//! elimination and approximately by Gibbs sampling.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use cg_pgm::{variable_elimination, Error as PgmError, GibbsSampler, MarkovNetwork};
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Experiment, F64};
use crate::{json_file, push_figure, push_graph, CheckScope, Cost, Outcome, RunOptions};

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

/// `[gibbs]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GibbsConfig {
    /// Sweeps discarded before sampling.
    burn_in: usize,
    /// Samples kept.
    samples: usize,
    /// Sweeps between kept samples.
    #[serde(default = "one")]
    thin: usize,
}

fn one() -> usize {
    1
}

struct Query {
    target: usize,
    evidence: Vec<(usize, usize)>,
}

/// A discrete model: the Markov network (for a Bayesian network, its tables on the moral graph)
/// and, for a Bayesian network, its arrows parent -> child for the drawing.
pub(super) struct FactorModel {
    pub(super) net: MarkovNetwork,
    pub(super) arrows: Option<Vec<(usize, usize)>>,
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
                let mut evidence = vec![];
                for (name, state) in &q.evidence {
                    let v = self.net.id(name).map_err(at)?;
                    evidence.push((v, self.net.state(v, state).map_err(at)?));
                }
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
    gibbs: GibbsConfig,
}

impl DiscreteExperiment {
    /// Resolves the queries' names against the model and checks the sampler's settings.
    ///
    /// # Errors
    /// An unknown query name or state, or zero samples or thinning.
    pub(super) fn new(
        seed: u64,
        model: FactorModel,
        queries: &[QueryConfig],
        gibbs: GibbsConfig,
    ) -> Result<DiscreteExperiment> {
        if gibbs.samples == 0 || gibbs.thin == 0 {
            bail!("[gibbs] samples and thin must be >= 1");
        }
        let queries = model.queries(queries)?;
        Ok(DiscreteExperiment { seed, model, queries, gibbs })
    }
}

impl Experiment for DiscreteExperiment {
    /// Variable elimination's largest intermediate table per query (found on the scopes alone),
    /// the joint table of the partition function when it is computed (up to 2^20 entries), and
    /// the Gibbs sweeps.
    fn cost(&self) -> Cost {
        let net = &self.model.net;
        let widest = self
            .queries
            .iter()
            .map(|q| cg_pgm::elimination_table_size(&net.factors, &net.cards, &[q.target], &q.evidence))
            .fold(0.0, f64::max);
        let vars = net.cards.len() as f64;
        let largest_factor = net.factors.iter().map(|f| f.values.len() as f64).fold(0.0, f64::max);
        let sweeps = (self.gibbs.burn_in + self.gibbs.samples * self.gibbs.thin) as f64;
        Cost::default()
            .memory("variable elimination's largest table", 2.0 * F64 * widest)
            .work("variable elimination", self.queries.len() as f64 * widest * vars)
            .memory("the joint table (partition function)", F64 * (1u64 << 20) as f64)
            .work("Gibbs sweeps", sweeps * vars * largest_factor.max(1.0))
            .memory("the Gibbs samples", F64 * self.gibbs.samples as f64 * vars)
    }

    /// Answers every query exactly and by Gibbs sampling.
    ///
    /// # Errors
    /// Evidence of probability zero, or a drawing error.
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let model = &self.model.net;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut answers = vec![];
        let mut series = vec![];
        let mut all_within = true;
        for (k, q) in self.queries.iter().enumerate() {
            let exact =
                variable_elimination(&model.factors, &model.cards, &[q.target], &q.evidence).map_err(|e| match e {
                    PgmError::ZeroEvidence { .. } => {
                        anyhow!(
                            "[[queries]] {}: the evidence {} has probability zero",
                            k + 1,
                            evidence_text(model, &q.evidence)
                        )
                    }
                    e => anyhow!("[[queries]] {}: {e}", k + 1),
                })?;
            let mut sampler = GibbsSampler::new(&model.factors, &model.cards, &q.evidence)?;
            let mut state = sampler.start();
            let g = &self.gibbs;
            let m = sampler
                .marginals(&mut state, &[q.target], g.burn_in, g.samples, g.thin, &mut rng)?
                .pop()
                .expect("internal: one query variable");
            let states = &model.states[q.target];
            let by_state = |xs: &[f64]| -> Map<String, Value> {
                states.iter().zip(xs).map(|(s, x)| (s.clone(), json!(x))).collect()
            };
            let within = exact
                .values
                .iter()
                .zip(&m.probabilities)
                .zip(&m.standard_errors)
                .all(|((e, p), se)| (e - p).abs() <= 3.0 * se);
            all_within &= within;
            let evidence: Map<String, Value> =
                q.evidence.iter().map(|&(v, x)| (model.names[v].clone(), json!(model.states[v][x]))).collect();
            let label = describe(model, q);
            answers.push(json!({
                "query": label,
                "target": model.names[q.target],
                "evidence": evidence,
                "exact": by_state(&exact.values),
                "gibbs": by_state(&m.probabilities),
                "standard_error": by_state(&m.standard_errors),
                "effective_sample_size": by_state(&m.ess),
                "within_3_standard_errors": within,
            }));
            let last = states.len() - 1;
            series.push(Series {
                name: format!(
                    "{label}: exact {:.4}, Gibbs {:.4} ± {:.4}",
                    exact.values[last], m.probabilities[last], m.standard_errors[last]
                ),
                points: m.running[last].iter().map(|&(n, p)| (n as f64, p - exact.values[last])).collect(),
                markers: false,
                dashed: false,
            });
        }
        let mut metrics = json!({
            "variables": model.names,
            "gibbs": { "burn_in": self.gibbs.burn_in, "samples": self.gibbs.samples, "thin": self.gibbs.thin },
            "all_within_3_standard_errors": all_within,
            "queries": answers,
        });
        if self.model.arrows.is_none() {
            // Bayesian networks have Z = 1.
            if let (Some(z), Some(log_z)) = (model.partition_function(), model.log_partition_function()) {
                // Z itself only while it is a finite number.
                metrics["partition_function"] = json!(Some(z).filter(|z| z.is_finite()));
                metrics["log_partition_function"] = json!(log_z);
            }
        }
        let mut files = vec![json_file("metrics.json", &metrics)?];
        push_graph(&mut files, "network", &self.picture(title))?;
        let chart = LineChart {
            title: format!("{title}: Gibbs estimate minus exact probability (last state)"),
            x_label: "samples".into(),
            y_label: "error".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            series,
        };
        push_figure(&mut files, "gibbs", chart.render())?;
        let mut summary = String::new();
        for a in &answers {
            let _ =
                write!(summary, "{}: exact {} Gibbs {}; ", a["query"].as_str().unwrap_or(""), a["exact"], a["gibbs"]);
        }
        summary.push_str(if all_within { "all within 3 standard errors" } else { "NOT all within 3 standard errors" });
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint: None })
    }
}

impl DiscreteExperiment {
    /// The drawing: one node per variable with its states, an arrow per parent (or a line per
    /// pair sharing a factor).
    fn picture(&self, title: &str) -> GraphPicture {
        let m = &self.model.net;
        let nodes = m
            .names
            .iter()
            .zip(&m.states)
            .map(|(name, states)| NodeLabel {
                id: name.clone(),
                lines: vec![name.clone(), format!("{{{}}}", states.join(", "))],
                kind: NodeKind::Inner,
            })
            .collect();
        let edges = match &self.model.arrows {
            Some(arrows) => arrows.iter().map(|&(a, b)| (a, b, None)).collect(),
            None => m.graph.edges().map(|(a, b, _)| (a.index(), b.index(), None)).collect(),
        };
        GraphPicture { title: title.to_string(), nodes, edges, directed: self.model.arrows.is_some() }
    }
}

/// `either = no, lung = yes`: evidence by variable and state names.
fn evidence_text(model: &MarkovNetwork, evidence: &[(usize, usize)]) -> String {
    evidence.iter().map(|&(v, x)| format!("{} = {}", model.names[v], model.states[v][x])).collect::<Vec<_>>().join(", ")
}

fn describe(model: &MarkovNetwork, q: &Query) -> String {
    if q.evidence.is_empty() {
        format!("P({})", model.names[q.target])
    } else {
        format!("P({} | {})", model.names[q.target], evidence_text(model, &q.evidence))
    }
}
