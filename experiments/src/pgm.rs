//! Probabilistic graphical models: `bayes_net` and `markov_net` (a discrete Bayesian or Markov
//! network written in the config, queried exactly by variable elimination and approximately by
//! Gibbs sampling) and
//! `ising` (magnetisation of the 2-D Ising model against temperature, next to Onsager's exact
//! result).

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use cg_core::run;
use cg_pgm::{
    effective_sample_size, onsager_magnetisation, variable_elimination, BayesianNetwork, Error as PgmError, FactorSpec,
    GibbsSampler, Ising, MarkovNetwork, StatesSpec, VariableSpec, CRITICAL_TEMPERATURE,
};
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{json_file, progress_bar, push_figure, push_graph, CheckScope, Outcome, RunOptions};

/// `kind = "bayes_net"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BayesNetFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    variables: Vec<VariableSpec>,
    queries: Vec<QueryConfig>,
    gibbs: GibbsConfig,
}

/// `kind = "markov_net"`: variables with named states and factors over them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkovNetFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    variables: Vec<StatesSpec>,
    factors: Vec<FactorSpec>,
    queries: Vec<QueryConfig>,
    gibbs: GibbsConfig,
}

/// `[[queries]]`: the distribution of `target` given `evidence` (variable = state).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryConfig {
    target: String,
    #[serde(default)]
    evidence: IndexMap<String, String>,
}

/// `[gibbs]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GibbsConfig {
    burn_in: usize,
    samples: usize,
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
struct FactorModel {
    net: MarkovNetwork,
    arrows: Option<Vec<(usize, usize)>>,
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

fn check_gibbs(g: &GibbsConfig) -> Result<()> {
    if g.samples == 0 || g.thin == 0 {
        bail!("[gibbs] samples and thin must be >= 1");
    }
    Ok(())
}

impl BayesNetFile {
    /// # Errors
    /// A bad network (named variable), an unknown query name or state, or empty settings.
    pub fn validate(self) -> Result<DiscreteExperiment> {
        let bn = BayesianNetwork::new(&self.variables).map_err(|e| anyhow!("[[variables]] {e}"))?;
        check_gibbs(&self.gibbs)?;
        let arrows = bn.parents.iter().enumerate().flat_map(|(k, ps)| ps.iter().map(move |&p| (p, k))).collect();
        let model = FactorModel { net: MarkovNetwork::from(bn), arrows: Some(arrows) };
        let queries = model.queries(&self.queries)?;
        Ok(DiscreteExperiment { seed: self.seed, model, queries, gibbs: self.gibbs })
    }
}

impl MarkovNetFile {
    /// # Errors
    /// A repeated or unknown variable, a variable with fewer than two states, a factor table of
    /// the wrong size or with a negative entry, an unknown query name or state.
    pub fn validate(self) -> Result<DiscreteExperiment> {
        let net = MarkovNetwork::new(&self.variables, &self.factors).map_err(|e| match e {
            PgmError::Variable { name, message } => anyhow!("[[variables]] `{name}`: {message}"),
            PgmError::Factor { index, message } => anyhow!("[[factors]] {index}: {message}"),
            e => anyhow!("[[variables]] {e}"),
        })?;
        check_gibbs(&self.gibbs)?;
        let model = FactorModel { net, arrows: None };
        let queries = model.queries(&self.queries)?;
        Ok(DiscreteExperiment { seed: self.seed, model, queries, gibbs: self.gibbs })
    }
}

impl DiscreteExperiment {
    /// Answers every query exactly and by Gibbs sampling.
    ///
    /// # Errors
    /// Evidence of probability zero, or a drawing error.
    pub fn run(&self, title: &str) -> Result<Outcome> {
        let model = &self.model.net;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut answers = vec![];
        let mut series = vec![];
        let mut all_within = true;
        for (k, q) in self.queries.iter().enumerate() {
            let exact = variable_elimination(&model.factors, &model.cards, &[q.target], &q.evidence)
                .map_err(|e| anyhow!("query {}: {e}", k + 1))?;
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
            if let Some(z) = model.partition_function() {
                metrics["partition_function"] = json!(z);
            }
        }
        let mut files = vec![json_file("metrics.json", &metrics)?];
        push_graph(&mut files, "network", &self.picture(title))?;
        let chart = LineChart {
            title: format!("{title}: Gibbs estimate minus exact probability (last state)"),
            x_label: "samples".into(),
            y_label: "error".into(),
            legend: Legend::UpperRight,
            series,
        };
        push_figure(&mut files, "gibbs", chart.render()?);
        let mut summary = String::new();
        for a in &answers {
            let _ =
                write!(summary, "{}: exact {} Gibbs {}; ", a["query"].as_str().unwrap_or(""), a["exact"], a["gibbs"]);
        }
        summary.push_str(if all_within { "all within 3 standard errors" } else { "NOT all within 3 standard errors" });
        Ok(Outcome { files, summary, check: CheckScope::Full })
    }

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

fn describe(model: &MarkovNetwork, q: &Query) -> String {
    if q.evidence.is_empty() {
        format!("P({})", model.names[q.target])
    } else {
        let ev: Vec<String> =
            q.evidence.iter().map(|&(v, x)| format!("{} = {}", model.names[v], model.states[v][x])).collect();
        format!("P({} | {})", model.names[q.target], ev.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------

/// `kind = "ising"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsingFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    side: usize,
    #[serde(default = "unit")]
    coupling: f64,
    #[serde(default)]
    field: f64,
    temperatures: Vec<f64>,
    /// Sweeps discarded at each temperature (from all spins up).
    burn_in: usize,
    /// Sweeps measured at each temperature.
    sweeps: usize,
    /// The shortened regression check runs the first this many temperatures.
    check_temperatures: Option<usize>,
}

fn unit() -> f64 {
    1.0
}

/// A validated Ising experiment.
pub struct IsingExperiment {
    file: IsingFile,
}

impl IsingFile {
    /// # Errors
    /// A bad lattice, temperature or sweep count.
    pub fn validate(self) -> Result<IsingExperiment> {
        for &t in &self.temperatures {
            Ising::new(self.side, self.coupling, self.field, t)?;
        }
        if self.temperatures.is_empty() || self.sweeps < 10 {
            bail!("temperatures must be non-empty and sweeps >= 10");
        }
        if self.check_temperatures.is_some_and(|k| k == 0 || k > self.temperatures.len()) {
            bail!("check_temperatures must be between 1 and the number of temperatures");
        }
        Ok(IsingExperiment { file: self })
    }
}

impl IsingExperiment {
    /// Samples every temperature (each from its own random stream, so a shortened run repeats
    /// the first temperatures exactly).
    ///
    /// # Errors
    /// A drawing error.
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let f = &self.file;
        let (temps, scope) = match (options.shortened, f.check_temperatures) {
            (true, Some(k)) => (&f.temperatures[..k], CheckScope::Subset),
            _ => (&f.temperatures[..], CheckScope::Full),
        };
        let bar = progress_bar(options, temps.len(), "temperature", title);
        let n = (f.side * f.side) as f64;
        let (mut abs_m, mut abs_se, mut energy, mut chi, mut ess) = (vec![], vec![], vec![], vec![], vec![]);
        for (k, &t) in temps.iter().enumerate() {
            let mut model = Ising::new(f.side, f.coupling, f.field, t)?;
            let mut rng = ChaCha8Rng::seed_from_u64(f.seed);
            rng.set_stream(k as u64);
            let mut state = model.all_up();
            run(&mut model, &mut state, f.burn_in, &mut rng)?;
            let out = run(&mut model, &mut state, f.sweeps, &mut rng)?;
            let m: Vec<f64> = out.records.iter().map(|r| r.get("magnetisation").unwrap_or(0.0).abs()).collect();
            let e: Vec<f64> = out.records.iter().map(|r| r.get("energy").unwrap_or(0.0)).collect();
            let count = m.len() as f64;
            let mean = m.iter().sum::<f64>() / count;
            let var = m.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count;
            let n_eff = effective_sample_size(&m);
            abs_m.push(mean);
            abs_se.push((var / n_eff).sqrt());
            ess.push(n_eff);
            energy.push(e.iter().sum::<f64>() / count);
            // χ = N (<m²> - <|m|>²) / T, the finite-lattice susceptibility.
            chi.push(n * var / t);
            bar.set_message(format!("T = {t}: |m| = {mean:.3}"));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let onsager: Vec<f64> = temps.iter().map(|&t| onsager_magnetisation(t)).collect();
        let mut metrics = json!({
            "side": f.side,
            "coupling": f.coupling,
            "field": f.field,
            "temperatures": temps,
            "mean_abs_magnetisation": abs_m,
            "standard_error": abs_se,
            "effective_sample_size": ess,
            "energy_per_spin": energy,
            "susceptibility": chi,
            "onsager_magnetisation": onsager,
        });
        if scope == CheckScope::Full {
            let peak = chi.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(k, _)| k);
            metrics["critical_temperature"] = json!(CRITICAL_TEMPERATURE);
            metrics["susceptibility_peak_temperature"] = json!(temps[peak]);
            metrics["burn_in"] = json!(f.burn_in);
            metrics["sweeps"] = json!(f.sweeps);
        }
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let points = |ys: &[f64]| -> Vec<(f64, f64)> { temps.iter().copied().zip(ys.iter().copied()).collect() };
        let fine: Vec<(f64, f64)> = {
            let (lo, hi) =
                (temps.iter().copied().fold(f64::INFINITY, f64::min), temps.iter().copied().fold(0.0, f64::max));
            (0..=400).map(|k| lo + (hi - lo) * f64::from(k) / 400.0).map(|t| (t, onsager_magnetisation(t))).collect()
        };
        let chart = LineChart {
            title: format!("{title}: {0} x {0} torus, heat-bath Gibbs sampling", f.side),
            x_label: "temperature T".into(),
            y_label: "mean |magnetisation| per spin".into(),
            legend: Legend::UpperRight,
            series: vec![
                Series { name: "Gibbs sampling".into(), points: points(&abs_m), markers: true },
                Series::line("Onsager (infinite lattice)", fine),
                Series::line(
                    &format!("T_c = 2/ln(1+√2) = {CRITICAL_TEMPERATURE:.4}"),
                    vec![(CRITICAL_TEMPERATURE, 0.0), (CRITICAL_TEMPERATURE, 1.0)],
                ),
            ],
        };
        push_figure(&mut files, "magnetisation", chart.render()?);
        let chi_chart = LineChart {
            title: format!("{title}: susceptibility N(<m²> - <|m|>²)/T"),
            x_label: "temperature T".into(),
            y_label: "susceptibility".into(),
            legend: Legend::UpperRight,
            series: vec![
                Series { name: "Gibbs sampling".into(), points: points(&chi), markers: true },
                Series::line(
                    "T_c",
                    vec![(CRITICAL_TEMPERATURE, 0.0), (CRITICAL_TEMPERATURE, chi.iter().copied().fold(0.0, f64::max))],
                ),
            ],
        };
        push_figure(&mut files, "susceptibility", chi_chart.render()?);
        let summary = format!(
            "{} temperatures; susceptibility peaks at T = {} (T_c = {CRITICAL_TEMPERATURE:.4})",
            temps.len(),
            metrics.get("susceptibility_peak_temperature").map_or("-".into(), ToString::to_string)
        );
        Ok(Outcome { files, summary, check: scope })
    }
}
