//! `kind = "bn_learn"`: a Bayesian network learnt from discrete data (a CSV file, or rows drawn
//! from a BIF network with the run's seed): its structure by hill climbing (BIC, BDeu, K2) or
//! the PC algorithm, or given; its tables by maximum likelihood, a Dirichlet prior, or EM when
//! cells are missing. Writes the network as BIF, its scores, and, against a reference network,
//! the structural Hamming distance with a picture of the edges missed, added and reversed.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use cg_pgm::learn::{self, DiscreteData, Estimator, Prior, Score, Unseen};
use cg_pgm::BayesianNetwork;
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig};
use crate::{json_file, push_figure, push_graph, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "bn_learn"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BnLearnFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run (the drawn rows, the restarts' perturbations).
    #[serde(default)]
    seed: u64,
    /// The data: `csv`, or rows drawn from a network (`[data.sample]`).
    data: DataSource,
    /// How the structure is found.
    learn: LearnConfig,
    /// How the tables are estimated.
    #[serde(default)]
    parameters: ParametersConfig,
    /// EM, used when the data have missing cells.
    #[serde(default)]
    em: EmConfig,
    /// A network to compare the learnt one with (by default the one the rows were drawn from).
    reference: Option<BifPath>,
}

/// `[data]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DataSource {
    /// A CSV file of discrete columns with a header of names, relative to the config; cells
    /// empty, `NA`, `NaN` or `?` are missing. States are the values seen, in numeric order when
    /// all are numbers, text order otherwise.
    csv: Option<String>,
    /// Read the CSV's states from the reference network instead (its variables, its order; a
    /// value it does not have is an error).
    #[serde(default)]
    states_from_reference: bool,
    /// Rows drawn from a network by forward sampling.
    sample: Option<SampleSource>,
}

/// `[data.sample]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SampleSource {
    /// The network (BIF), relative to the config.
    bif: String,
    /// Rows to draw.
    rows: usize,
    /// Hide each cell with this probability (missing completely at random).
    #[serde(default)]
    missing: f64,
}

/// `[reference]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BifPath {
    /// A BIF file, relative to the config.
    bif: String,
}

/// How the structure is found.
#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Method {
    /// Greedy hill climbing over edge additions, removals and reversals.
    HillClimb,
    /// The PC algorithm (stable), then a DAG of the equivalence class for the tables.
    Pc,
    /// The structure of `edges`, or of the reference network.
    Given,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum ScoreName {
    Bic,
    Bdeu,
    K2,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum TestName {
    ChiSquare,
    G,
}

/// `[learn]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct LearnConfig {
    /// `hill_climb`, `pc` or `given`.
    method: Method,
    /// Hill climbing's score: `bic`, `bdeu` or `k2`.
    #[serde(default = "bic")]
    score: ScoreName,
    /// BDeu's equivalent sample size.
    #[serde(default = "ten")]
    ess: f64,
    /// Hill climbing: the most parents a variable may have.
    max_indegree: Option<usize>,
    /// Hill climbing: how many recent moves may not be undone.
    #[serde(default = "hundred")]
    tabu: usize,
    /// Hill climbing: stop when no move gains this much.
    #[serde(default = "epsilon")]
    epsilon: f64,
    /// Hill climbing: the most moves per climb.
    #[serde(default = "million")]
    max_iter: usize,
    /// Hill climbing: climbs after the first (default 2), each breaking ties in a new order of
    /// the variables drawn from the seed, from the empty graph (or, with `perturbation`, from
    /// the best graph changed by that many random moves); the best climb is kept.
    #[serde(default = "two")]
    restarts: usize,
    /// Hill climbing: random moves before each restart (0: restart from the empty graph).
    #[serde(default)]
    perturbation: usize,
    /// Hill climbing: the only edges [parent, child] that may be added.
    white_list: Option<Vec<[String; 2]>>,
    /// Hill climbing: edges [parent, child] that may never be present.
    #[serde(default)]
    black_list: Vec<[String; 2]>,
    /// PC's test: `chi_square` or `g`.
    #[serde(default = "chi_square")]
    test: TestName,
    /// PC's significance level.
    #[serde(default = "alpha")]
    alpha: f64,
    /// PC: the largest conditioning set.
    max_conditioning: Option<usize>,
    /// `given`: the edges [parent, child] (without them, the reference network's).
    edges: Option<Vec<[String; 2]>>,
}

fn bic() -> ScoreName {
    ScoreName::Bic
}
fn ten() -> f64 {
    10.0
}
fn hundred() -> usize {
    100
}
fn epsilon() -> f64 {
    1e-4
}
fn million() -> usize {
    1_000_000
}
fn two() -> usize {
    2
}
fn chi_square() -> TestName {
    TestName::ChiSquare
}
fn alpha() -> f64 {
    0.01
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
enum EstimatorName {
    /// Maximum likelihood.
    #[default]
    Mle,
    /// The posterior mean under a Dirichlet prior.
    Bayes,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
enum PriorName {
    /// `ess` imaginary rows spread evenly over each table.
    #[default]
    Bdeu,
    /// A pseudo-count of 1 per cell.
    K2,
    /// `pseudo_count` per cell.
    PseudoCount,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
enum UnseenName {
    /// The uniform distribution.
    #[default]
    Uniform,
    /// An error naming the configuration.
    Refuse,
}

/// `[parameters]`.
#[derive(Deserialize, schemars::JsonSchema, Default)]
#[serde(deny_unknown_fields)]
struct ParametersConfig {
    /// `mle` (default) or `bayes`.
    #[serde(default)]
    estimator: EstimatorName,
    /// `bayes`: `bdeu` (default), `k2` or `pseudo_count`.
    #[serde(default)]
    prior: PriorName,
    /// `bdeu`: the equivalent sample size (default 10).
    ess: Option<f64>,
    /// `pseudo_count`: the count added to every cell.
    pseudo_count: Option<f64>,
    /// `mle`: what a parent configuration the data never show gets, `uniform` (default) or
    /// `refuse`.
    #[serde(default)]
    unseen: UnseenName,
}

/// `[em]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EmConfig {
    /// The most iterations.
    #[serde(default = "hundred")]
    max_iter: usize,
    /// Stop when the log-likelihood rises by less than this times its size.
    #[serde(default = "tolerance")]
    tolerance: f64,
}

impl Default for EmConfig {
    fn default() -> Self {
        EmConfig { max_iter: 100, tolerance: tolerance() }
    }
}

fn tolerance() -> f64 {
    1e-10
}

/// The structure step, settled.
enum Plan {
    HillClimb(learn::HillClimb),
    Pc(learn::Pc),
    Given(Vec<Vec<usize>>),
}

/// A validated `bn_learn` experiment with its data loaded.
pub struct BnLearnExperiment {
    data: DiscreteData,
    source: String,
    plan: Plan,
    estimator: Estimator,
    em: learn::Em,
    reference: Option<BayesianNetwork>,
}

/// Reads a BIF network, the error prefixed with the config's place.
fn read_bif(base: &Path, file: &str, place: &str) -> Result<BayesianNetwork> {
    crate::read_network(&base.join(file)).map_err(|e| anyhow!("{place}: {e:#}"))
}

/// Edges given by name as (parent, child) ids.
fn edge_ids(data: &DiscreteData, edges: &[[String; 2]], place: &str) -> Result<Vec<(usize, usize)>> {
    edges
        .iter()
        .map(|[a, b]| {
            let id = |n: &str| {
                data.id(n).map_err(|e| anyhow!("{place}: {e} in the data (columns: {})", data.names.join(", ")))
            };
            Ok((id(a)?, id(b)?))
        })
        .collect()
}

/// The reference's structure over the data's variables (matched by name).
fn structure_of(net: &BayesianNetwork, data: &DiscreteData, place: &str) -> Result<Vec<Vec<usize>>> {
    let mut parents = vec![vec![]; data.variables()];
    for (v, ps) in net.parents.iter().enumerate() {
        let child = data.id(&net.names[v]).map_err(|e| anyhow!("{place}: the network's {e} in the data"))?;
        for &p in ps {
            parents[child].push(data.id(&net.names[p]).map_err(|e| anyhow!("{place}: the network's {e} in the data"))?);
        }
    }
    Ok(parents)
}

impl KindConfig for BnLearnFile {
    const NAME: &'static str = "bn_learn";
    const SUMMARY: &'static str =
        "a Bayesian network learnt from discrete data: hill climbing (BIC, BDeu, K2) or PC, tables by ML, a prior or EM";
    type Experiment = BnLearnExperiment;
    /// Hill climbing stops after N moves (`--stop-after`) and resumes to the same network.
    const RESUMABLE: bool = true;

    /// Loads (or draws) the data and checks every setting.
    ///
    /// # Errors
    /// A missing or malformed file, an unknown name in a list, a setting out of range.
    fn validate(self, base: &Path) -> Result<BnLearnExperiment> {
        let mut reference = self.reference.as_ref().map(|r| read_bif(base, &r.bif, "[reference] bif")).transpose()?;
        let (data, source) = match (&self.data.csv, &self.data.sample) {
            (Some(csv), None) => {
                let path = base.join(csv);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| anyhow!("[data] csv: cannot read {}: {e}", path.display()))?;
                let data = match (&reference, self.data.states_from_reference) {
                    (Some(net), true) => DiscreteData::from_csv_for(&text, net),
                    (None, true) => bail!("[data] states_from_reference needs a [reference] bif"),
                    (_, false) => DiscreteData::from_csv(&text),
                };
                (data.map_err(|e| anyhow!("[data] csv: {}: {e}", path.display()))?, csv.clone())
            }
            (None, Some(s)) => {
                if !(0.0..1.0).contains(&s.missing) {
                    bail!("[data.sample] missing = {}: a probability in [0, 1)", s.missing);
                }
                if s.rows == 0 {
                    bail!("[data.sample] rows must be at least 1");
                }
                let net = read_bif(base, &s.bif, "[data.sample] bif")?;
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
                let mut data = DiscreteData::from_draws(&net, &net.sample(s.rows, &mut rng));
                if s.missing > 0.0 {
                    data.hide(s.missing, &mut rng);
                }
                reference.get_or_insert(net);
                (data, format!("{} rows drawn from {}", s.rows, s.bif))
            }
            _ => bail!("[data] needs exactly one of `csv` and `[data.sample]`"),
        };
        let l = &self.learn;
        let score = match l.score {
            ScoreName::Bic => Score::Bic,
            ScoreName::Bdeu => Score::Bdeu { ess: l.ess },
            ScoreName::K2 => Score::K2,
        };
        let plan = match l.method {
            Method::HillClimb => {
                let settings = learn::HillClimb {
                    score,
                    max_indegree: l.max_indegree,
                    tabu_length: l.tabu,
                    epsilon: l.epsilon,
                    max_iter: l.max_iter,
                    restarts: l.restarts,
                    perturbation: l.perturbation,
                    seed: self.seed,
                    white_list: l.white_list.as_ref().map(|w| edge_ids(&data, w, "[learn] white_list")).transpose()?,
                    black_list: edge_ids(&data, &l.black_list, "[learn] black_list")?,
                };
                settings.check(data.variables()).map_err(|e| anyhow!("[learn] {e}"))?;
                Plan::HillClimb(settings)
            }
            Method::Pc => {
                if data.missing() > 0 {
                    bail!("[learn] method = \"pc\" needs complete data; {} cells are missing", data.missing());
                }
                let test = match l.test {
                    TestName::ChiSquare => learn::CiTest::ChiSquare,
                    TestName::G => learn::CiTest::G,
                };
                let settings = learn::Pc { test, alpha: l.alpha, max_conditioning: l.max_conditioning };
                settings.check().map_err(|e| anyhow!("[learn] {e}"))?;
                Plan::Pc(settings)
            }
            Method::Given => {
                let parents = match (&l.edges, &reference) {
                    (Some(edges), _) => {
                        let mut parents = vec![vec![]; data.variables()];
                        for (p, c) in edge_ids(&data, edges, "[learn] edges")? {
                            parents[c].push(p);
                        }
                        parents
                    }
                    (None, Some(net)) => structure_of(net, &data, "[reference]")?,
                    (None, None) => bail!("[learn] method = \"given\" needs `edges` or a reference network"),
                };
                Plan::Given(parents)
            }
        };
        let p = &self.parameters;
        let estimator = match p.estimator {
            EstimatorName::Mle => Estimator::MaximumLikelihood {
                unseen: if p.unseen == UnseenName::Refuse { Unseen::Refuse } else { Unseen::Uniform },
            },
            EstimatorName::Bayes => Estimator::Bayesian(match p.prior {
                PriorName::Bdeu => Prior::Bdeu { ess: p.ess.unwrap_or(10.0) },
                PriorName::K2 => Prior::K2,
                PriorName::PseudoCount => Prior::PseudoCount(
                    p.pseudo_count
                        .ok_or_else(|| anyhow!("[parameters] prior = \"pseudo_count\" needs `pseudo_count`"))?,
                ),
            }),
        };
        if let Estimator::Bayesian(Prior::Bdeu { ess } | Prior::PseudoCount(ess)) = estimator {
            if !(ess.is_finite() && ess > 0.0) {
                bail!("[parameters] {ess}: the prior's size must be a number > 0");
            }
        }
        if self.em.tolerance.is_nan() || self.em.tolerance < 0.0 || self.em.max_iter == 0 {
            bail!("[em] tolerance must be >= 0 and max_iter >= 1");
        }
        let em = learn::Em {
            max_iter: self.em.max_iter,
            tolerance: self.em.tolerance,
            prior: match estimator {
                Estimator::Bayesian(prior) => Some(prior),
                Estimator::MaximumLikelihood { .. } => None,
            },
        };
        Ok(BnLearnExperiment { data, source, plan, estimator, em, reference })
    }
}

impl Experiment for BnLearnExperiment {
    /// The data (2 bytes a cell), and counting it once per family scored.
    fn cost(&self) -> Cost {
        let (n, v) = (self.data.rows() as f64, self.data.variables() as f64);
        let families = match &self.plan {
            Plan::HillClimb(h) => v * v * (1.0 + h.restarts as f64) * 4.0,
            Plan::Pc(_) => v * v * v,
            Plan::Given(_) => v,
        };
        Cost::default()
            .memory("the data and one family's counts", 2.0 * n * v + 16.0 * n)
            .work("counting", families * 4.0 * n)
    }

    /// Learns the structure, fits the tables, compares with the reference.
    ///
    /// # Errors
    /// A structure whose tables cannot be built (too many parents), or EM failing.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let data = &self.data;
        let mut checkpoint = None;
        // Work done, not a result: a resumed search counts again what its cache lost.
        let mut families_scored = None;
        let start = Instant::now();
        let mut structure = json!({});
        let mut curve = vec![];
        let parents = match &self.plan {
            Plan::HillClimb(settings) => {
                let (found, saved) = climb(data, settings, options)?;
                checkpoint = saved;
                structure["method"] = json!("hill_climb");
                structure["score"] = json!(settings.score.name());
                structure["moves"] = json!(found.moves);
                families_scored = Some(found.families_scored);
                structure["restarts"] = json!(settings.restarts);
                curve = found.curve;
                found.parents
            }
            Plan::Pc(settings) => {
                let found = learn::pc(data, *settings)?;
                structure["method"] = json!("pc");
                structure["tests"] = json!(found.tests);
                let name = |&(a, b): &(usize, usize)| [data.names[a].clone(), data.names[b].clone()];
                structure["cpdag_directed"] = json!(found.cpdag.directed.iter().map(name).collect::<Vec<_>>());
                structure["cpdag_undirected"] = json!(found.cpdag.undirected.iter().map(name).collect::<Vec<_>>());
                found.cpdag.to_dag().ok_or_else(|| {
                    anyhow!("PC's pattern has no DAG extension (conflicting orientations); try a smaller alpha or more rows")
                })?
            }
            Plan::Given(parents) => {
                structure["method"] = json!("given");
                parents.clone()
            }
        };
        let learn_seconds = start.elapsed().as_secs_f64();
        let edges = learn::edges(&parents);
        structure["edges"] = json!(edges.iter().map(|&(a, b)| [&data.names[a], &data.names[b]]).collect::<Vec<_>>());
        structure["edge_count"] = json!(edges.len());
        structure["scores"] = scores(data, &parents);
        if !curve.is_empty() {
            structure["score_curve"] = json!(curve);
        }
        let start = Instant::now();
        let mut parameters = json!({ "estimator": estimator_name(self.estimator) });
        let (net, em_curve) = if data.missing() > 0 {
            let fitted = learn::em(data, &parents, self.em)?;
            parameters["em"] = json!({
                "iterations": fitted.log_likelihood.len(),
                "converged": fitted.converged,
                "log_likelihood_curve": fitted.log_likelihood,
            });
            (fitted.net, fitted.log_likelihood)
        } else {
            let net = learn::fit(data, &parents, self.estimator)?;
            parameters["log_likelihood"] = json!(log_likelihood(&net, data));
            (net, vec![])
        };
        let fit_seconds = start.elapsed().as_secs_f64();
        let parameter_count: usize =
            net.factors.iter().zip(&net.cards).map(|(f, &r)| f.values.len() / r * (r - 1)).sum();
        parameters["free_parameters"] = json!(parameter_count);
        let mut metrics = json!({
            "data": { "source": self.source, "rows": data.rows(), "variables": data.variables(), "missing_cells": data.missing() },
            "structure": structure,
            "parameters": parameters,
        });
        let comparison = match &self.reference {
            Some(reference) => {
                let truth = structure_of(reference, data, "[reference]")?;
                let c = learn::compare(&data.names, &parents, &truth);
                metrics["reference"] = json!({ "comparison": c, "scores": scores(data, &truth) });
                Some((c, truth))
            }
            None => None,
        };
        let bif = super::bayes_net::named_after(&cg_pgm::files::write_bif(&net).context("writing network.bif")?, title);
        let mut timing = json!({ "learn_seconds": learn_seconds, "fit_seconds": fit_seconds, "threads": rayon::current_num_threads() });
        if let Some(n) = families_scored {
            timing["families_scored"] = json!(n);
        }
        let mut files = vec![
            json_file("metrics.json", &metrics)?,
            json_file("timing.json", &timing)?,
            ("network.bif".to_string(), bif.into_bytes()),
        ];
        push_graph(&mut files, "network", &picture(title, data, &parents, comparison.as_ref().map(|c| &c.1)))?;
        if !curve.is_empty() || !em_curve.is_empty() {
            let (name, points, y) = if em_curve.is_empty() {
                ("score", curve, "score after the move")
            } else {
                ("em", em_curve, "log-likelihood of the observed cells")
            };
            let chart = LineChart {
                title: format!("{title}: {}", if name == "score" { "hill climbing" } else { "EM" }),
                x_label: if name == "score" { "move".into() } else { "iteration".into() },
                y_label: y.into(),
                series: climbs(name, &points),
                legend: Legend::LowerRight,
                y_range: None,
                equal_aspect: false,
                x_log: false,
            };
            push_figure(&mut files, name, chart.render())?;
        }
        let mut summary = format!(
            "{title}: {} rows of {} variables; {} edges by {}",
            data.rows(),
            data.variables(),
            edges.len(),
            metrics["structure"]["method"].as_str().unwrap_or("?")
        );
        if let Some((c, _)) = &comparison {
            summary += &format!(
                "; against the reference SHD {} ({} missing, {} added, {} reversed; {} between the equivalence classes)",
                c.shd,
                c.missing.len(),
                c.added.len(),
                c.reversed.len(),
                c.cpdag_shd
            );
        }
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint })
    }
}

/// A hill-climbing search as the solver loop drives it: one step is one move (or the end of a
/// climb), the state ([`learn::SearchState`]) is what a checkpoint saves.
struct Climb<'a> {
    search: learn::Search<'a>,
}

/// What a move reports: nothing the loop watches (a score is not a loss that may diverge).
struct Moved;

impl cg_core::Objective for Moved {}

impl cg_core::Solver for Climb<'_> {
    type State = learn::SearchState;
    type Record = Moved;
    type Error = std::convert::Infallible;

    fn name(&self) -> &'static str {
        "hill_climb"
    }

    fn step(
        &mut self,
        state: &mut learn::SearchState,
        _rng: &mut rand_chacha::ChaCha8Rng,
    ) -> Result<Moved, Self::Error> {
        self.search.step_on(state);
        Ok(Moved)
    }

    fn stop(&self, state: &learn::SearchState, _record: &Moved) -> Option<cg_core::Stop> {
        state.done.then_some(cg_core::Stop::Converged)
    }
}

impl cg_core::Resumable for Climb<'_> {
    fn save(&self, state: &learn::SearchState, into: &mut cg_core::Snapshot) {
        into.values.insert("search".into(), serde_json::to_value(state).expect("internal: a search state is JSON"));
    }

    fn restore(&self, state: &mut learn::SearchState, from: &cg_core::Snapshot) -> Result<(), cg_core::SnapshotError> {
        let saved = from.values.get("search").ok_or_else(|| cg_core::SnapshotError("no search state saved".into()))?;
        let saved: learn::SearchState = serde_json::from_value(saved.clone())
            .map_err(|e| cg_core::SnapshotError(format!("the saved search state: {e}")))?;
        if saved.parents.len() != state.parents.len() {
            return Err(cg_core::SnapshotError("the saved search is over other variables".into()));
        }
        *state = saved;
        Ok(())
    }
}

/// Hill climbing through the solver loop (so `--stop-after`, `--resume`, `--checkpoint-every`
/// and Ctrl-C work as for training): the search found so far, and the state when it stopped.
fn climb(
    data: &DiscreteData,
    settings: &learn::HillClimb,
    options: &RunOptions,
) -> Result<(learn::Learned, Option<crate::resume::Saved>)> {
    let search = learn::Search::new(data, settings.clone(), None)?;
    let mut state = search.state().clone();
    let mut solver = Climb { search };
    // Every climb ends within max_iter moves and one more step.
    let most = settings.max_iter.saturating_add(1).saturating_mul(settings.restarts.saturating_add(1));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(settings.seed);
    let (out, saved) = crate::resume::drive(&mut solver, &mut state, most, &mut rng, &mut [], options)?;
    crate::finished(out, "the search")?;
    Ok((solver.search.result(&state), saved))
}

/// A curve as one series per climb (a restart starts again lower): `climb 1`, `climb 2`, ...
/// (one series named `name` when there is one climb).
fn climbs(name: &str, points: &[f64]) -> Vec<Series> {
    let mut parts: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for (k, &s) in points.iter().enumerate() {
        if k > 0 && s <= points[k - 1] && name == "score" {
            parts.push(vec![]);
        }
        parts.last_mut().expect("one part at least").push(((k + 1) as f64, s));
    }
    let many = parts.len() > 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(k, points)| Series {
            name: if many { format!("climb {}", k + 1) } else { name.to_string() },
            markers: points.len() <= 60,
            points,
            dashed: false,
        })
        .collect()
}

/// The structure's BIC, BDeu (ess 10), K2 and log-likelihood on the data (families counted on
/// the rows where they are observed).
fn scores(data: &DiscreteData, parents: &[Vec<usize>]) -> serde_json::Value {
    let all = [Score::Bic, Score::Bdeu { ess: 10.0 }, Score::K2, Score::LogLikelihood];
    // Each family counted once for the four scores (summed in the variables' order, as
    // `Score::total` sums).
    let mut totals = [0.0; 4];
    for (v, ps) in parents.iter().enumerate() {
        let counts = learn::count(data, v, ps);
        for (total, score) in totals.iter_mut().zip(&all) {
            *total += score.local(&counts);
        }
    }
    all.iter()
        .zip(totals)
        .map(|(score, total)| (score.name().to_string(), json!(total)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Σ over rows of ln P(row) under the network (complete data).
fn log_likelihood(net: &BayesianNetwork, data: &DiscreteData) -> f64 {
    let mut x = vec![0usize; data.variables()];
    let mut total = 0.0;
    for r in 0..data.rows() {
        for (v, x) in x.iter_mut().enumerate() {
            *x = data.column(v)[r] as usize;
        }
        total += net.factors.iter().map(|f| f.value_at(&x).ln()).sum::<f64>();
    }
    total
}

fn estimator_name(e: Estimator) -> String {
    match e {
        Estimator::MaximumLikelihood { unseen: Unseen::Uniform } => "maximum likelihood (unseen rows uniform)".into(),
        Estimator::MaximumLikelihood { unseen: Unseen::Refuse } => "maximum likelihood".into(),
        Estimator::Bayesian(Prior::Bdeu { ess }) => format!("posterior mean, BDeu prior (ess {ess})"),
        Estimator::Bayesian(Prior::K2) => "posterior mean, K2 prior (pseudo-count 1)".into(),
        Estimator::Bayesian(Prior::PseudoCount(a)) => format!("posterior mean, pseudo-count {a}"),
    }
}

/// The learnt network; against a reference, each edge labelled: reversed, added, or (drawn
/// from the reference) missing. Edges learnt as the reference has them carry no label.
fn picture(
    title: &str,
    data: &DiscreteData,
    learnt: &[Vec<usize>],
    reference: Option<&Vec<Vec<usize>>>,
) -> GraphPicture {
    let nodes =
        data.names.iter().map(|n| NodeLabel { id: n.clone(), lines: vec![n.clone()], kind: NodeKind::Inner }).collect();
    let mut edges = vec![];
    for (p, c) in learn::edges(learnt) {
        let label = reference.and_then(|r| {
            if r[c].contains(&p) {
                None
            } else if r[p].contains(&c) {
                Some("reversed".to_string())
            } else {
                Some("added".to_string())
            }
        });
        edges.push((p, c, label));
    }
    if let Some(r) = reference {
        for (p, c) in learn::edges(r) {
            if !learnt[c].contains(&p) && !learnt[p].contains(&c) {
                edges.push((p, c, Some("missing".to_string())));
            }
        }
    }
    let what = if reference.is_some() { "learnt against the reference" } else { "learnt" };
    GraphPicture { title: format!("{title}: {what}"), nodes, edges, directed: true }
}
