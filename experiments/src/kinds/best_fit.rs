//! `kind = "best_fit"`: an undirected computational graph (section 11.5) whose computational
//! nodes each hold a function of their neighbours; finds the least-squares best fit of all node
//! constraints, reports the residual and whether an exact solution exists.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_core::Validate;
use cg_core::{run, Recorder, Stop};
use cg_fit::{BestFit, FitParams, SolverConfig, UndirectedModel};
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map};

use super::{Experiment, KindConfig};
use crate::{finished, json_file, push_figure, push_graph, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "best_fit"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BestFitFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The undirected graph: nodes with their constraints, and the fixed values.
    graph: UndirectedConfig,
    /// Least-squares solver settings.
    #[serde(default)]
    solver: SolverConfig,
}

/// `[graph]`: computational nodes (`[graph.nodes]`, name = function of its neighbours) and
/// observed ones (`[graph.fixed]`, name = value). Edges are implied: a node is joined to every
/// node its function uses.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UndirectedConfig {
    /// Constraints as `name = "expression of other names"`: each edge asks the node to equal the
    /// expression.
    nodes: IndexMap<String, String>,
    /// Nodes with known values (the rest are solved for).
    #[serde(default)]
    fixed: IndexMap<String, f64>,
}

/// A validated best-fit experiment.
pub struct BestFitExperiment {
    seed: u64,
    model: UndirectedModel,
    params: FitParams,
    max_iters: usize,
    exact_tolerance: f64,
}

impl KindConfig for BestFitFile {
    const NAME: &'static str = "best_fit";
    const SUMMARY: &'static str =
        "an undirected graph fitted by least squares (section 11.5); says whether an exact solution exists";
    type Experiment = BestFitExperiment;

    /// Builds the model and checks the settings.
    ///
    /// # Errors
    /// A node problem (syntax, unknown name, self-loop, fixed and computed) or a bad setting.
    fn validate(self, _base: &Path) -> Result<BestFitExperiment> {
        let functions: Vec<(String, String)> = self.graph.nodes.into_iter().collect();
        let fixed: Vec<(String, f64)> = self.graph.fixed.into_iter().collect();
        let model = UndirectedModel::new(&functions, &fixed).map_err(|e| anyhow!("[graph] {e}"))?;
        let s = self.solver.validate().map_err(|e| anyhow!("[solver] {e}"))?;
        Ok(BestFitExperiment {
            seed: self.seed,
            model,
            params: s.params,
            max_iters: s.max_iters,
            exact_tolerance: s.exact_tolerance,
        })
    }
}

impl Experiment for BestFitExperiment {
    /// One descent step evaluates every squared violation and its gradient.
    fn cost(&self) -> Cost {
        let (n, e) = (self.model.graph.node_count() as f64, self.model.graph.edge_count() as f64);
        Cost::default()
            .memory("the graph", 64.0 * (n + e))
            .work("descent steps", self.max_iters as f64 * 10.0 * (n + e))
            .steps("the descent steps", self.max_iters as f64)
    }

    /// Fits and renders `metrics.json`, the graph's drawing and the loss curve.
    ///
    /// # Errors
    /// A function that is not finite at the start, or a drawing error.
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut solver = BestFit::new(&self.model, self.params);
        let mut state = solver.start(&mut rng).map_err(|e| anyhow!("start: {e}"))?;
        let start_loss = state.loss;
        let mut recorder = Recorder::new();
        let out = finished(run(&mut solver, &mut state, self.max_iters, &mut rng, &mut [&mut recorder]), "descent")?;
        let records = recorder.records;
        let residual = state.loss;
        let exact = residual <= self.exact_tolerance;
        let names = self.model.names();
        let violations = self.model.violations(&state.values)?;
        let mut values = Map::new();
        let mut violation = Map::new();
        for (k, name) in names.iter().enumerate() {
            values.insert(name.clone(), json!(state.values[k]));
            if let Some(v) = violations[k] {
                violation.insert(name.clone(), json!(v));
            }
        }
        let verdict = if exact {
            "exact: every computational node equals its function of its neighbours".to_string()
        } else {
            format!(
                "no exact solution found: the best fit leaves squared violations summing to {residual:.6} \
                 at a stationary point (the global least-squares optimum when every function is linear)"
            )
        };
        let curve: Vec<f64> = std::iter::once(start_loss).chain(records.iter().map(|r| r.loss)).collect();
        let metrics = json!({
            "residual": residual,
            "exact_solution": exact,
            "verdict": verdict,
            "values": values,
            "violations": violation,
            "iterations": out.steps,
            // At a stationary point either way: the gradient within tolerance, or no step left.
            "converged": matches!(out.stop, Stop::Converged | Stop::Stalled),
            "gradient_norm": records.last().map(|r| r.gradient_norm),
            "loss_evaluations": records.iter().map(|r| r.loss_evaluations as f64).sum::<f64>(),
            "loss_curve": curve,
            "edges": self.model.graph.edges().map(|(a, b, _)| [names[a.index()].clone(), names[b.index()].clone()]).collect::<Vec<_>>(),
        });
        let mut files = vec![json_file("metrics.json", &metrics)?];
        push_graph(&mut files, "graph", &self.picture(title, &state.values, &violations))?;
        let chart = LineChart {
            title: format!("{title}: summed squared violation"),
            x_label: "iteration".into(),
            y_label: "loss".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![Series::line("loss", curve.iter().enumerate().map(|(i, &l)| (i as f64, l)).collect())],
        };
        push_figure(&mut files, "loss", chart.render())?;
        let summary = format!("{verdict}; {} iterations", out.steps);
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint: None })
    }
}

impl BestFitExperiment {
    /// The undirected graph drawn with each node's function (or observation), value and
    /// violation.
    fn picture(&self, title: &str, values: &[f64], violations: &[Option<f64>]) -> GraphPicture {
        let names = self.model.names();
        let nodes = names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let (lines, kind) = match (self.model.expression(k), violations[k]) {
                    (Some(e), Some(v)) => (
                        vec![format!("{name} = {e}"), format!("value {:.6}", values[k]), format!("violation {v:.6}")],
                        NodeKind::Inner,
                    ),
                    _ => (vec![format!("{name} (observed)"), format!("value {:.6}", values[k])], NodeKind::Source),
                };
                NodeLabel { id: name.clone(), lines, kind }
            })
            .collect();
        let edges = self.model.graph.edges().map(|(a, b, _)| (a.index(), b.index(), None)).collect();
        GraphPicture { title: title.to_string(), nodes, edges, directed: false }
    }
}
