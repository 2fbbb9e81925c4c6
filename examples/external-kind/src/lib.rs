//! PageRank as a kind of the experiment machinery, defined outside its repository: the
//! [`PageRank`] solver (power iteration, a [`cg_core::Solver`]), an observer that records the
//! residual, and [`PageRankFile`], the config that `experiments::main_with` runs, sweeps,
//! explains and checks like a built-in kind.

use std::path::Path;

use anyhow::{bail, Result};
use cg_core::{Flow, Observer, Solver, StepInfo, Stop};
use experiments::kinds::{Entry, Experiment, KindConfig};
use experiments::{json_file, push_figure, push_graph, CheckScope, Cost, Outcome, RunOptions};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

/// The registry entry for `main_with(&[&KIND])`.
pub static KIND: Entry<PageRankFile> = Entry::NEW;

/// Power iteration r ← (1 - d) / n + d (M r + dangling mass / n) on a directed graph, where M
/// spreads each node's rank evenly over its out-links.
pub struct PageRank {
    /// Per node, the nodes that link to it.
    incoming: Vec<Vec<usize>>,
    out_degree: Vec<usize>,
    damping: f64,
    tolerance: f64,
}

impl PageRank {
    /// `edges` as (from, to) over `n` nodes.
    pub fn new(n: usize, edges: &[(usize, usize)], damping: f64, tolerance: f64) -> PageRank {
        let mut incoming = vec![vec![]; n];
        let mut out_degree = vec![0; n];
        for &(a, b) in edges {
            incoming[b].push(a);
            out_degree[a] += 1;
        }
        PageRank { incoming, out_degree, damping, tolerance }
    }
}

impl Solver for PageRank {
    type State = Vec<f64>;
    type Record = Change;
    type Error = std::convert::Infallible;

    fn name(&self) -> &'static str {
        "pagerank"
    }

    fn step(&mut self, ranks: &mut Vec<f64>, _rng: &mut ChaCha8Rng) -> Result<Change, Self::Error> {
        let n = ranks.len() as f64;
        let dangling: f64 = ranks.iter().zip(&self.out_degree).filter(|p| *p.1 == 0).map(|p| p.0).sum();
        let next: Vec<f64> = self
            .incoming
            .iter()
            .map(|from| {
                let spread: f64 = from.iter().map(|&j| ranks[j] / self.out_degree[j] as f64).sum();
                (1.0 - self.damping) / n + self.damping * (spread + dangling / n)
            })
            .collect();
        let change = next.iter().zip(ranks.iter()).map(|(a, b)| (a - b).abs()).sum();
        *ranks = next;
        Ok(Change { l1: change })
    }

    fn stop(&self, _ranks: &Vec<f64>, change: &Change) -> Option<Stop> {
        (change.l1 < self.tolerance).then_some(Stop::Converged)
    }
}

/// What a step reports: the L1 change of the ranks. No objective to watch for divergence (the
/// ranks always sum to one).
pub struct Change {
    pub l1: f64,
}

impl cg_core::solver::Objective for Change {}

/// Records each step's residual.
#[derive(Default)]
pub struct Residuals(pub Vec<f64>);

impl Observer<Vec<f64>, Change> for Residuals {
    fn observe(&mut self, step: &StepInfo<'_, Vec<f64>, Change>) -> Flow {
        self.0.push(step.record.l1);
        Flow::Continue
    }
}

/// `kind = "pagerank"`: the ranks of a directed graph's nodes.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageRankFile {
    /// `"pagerank"` (every config names its kind; the loader has already read it).
    #[allow(dead_code)]
    kind: String,
    /// Links as [from, to] node names; the nodes are the names that appear.
    edges: Vec<[String; 2]>,
    /// The probability of following a link rather than jumping anywhere (0 < d < 1; default
    /// 0.85).
    #[serde(default = "default_damping")]
    damping: f64,
    /// Iterations at most (default 1000).
    #[serde(default = "default_iterations")]
    #[schemars(range(min = 1))]
    iterations: usize,
    /// Converged when the ranks change by less than this in L1 (default 1e-12).
    #[serde(default = "default_tolerance")]
    tolerance: f64,
}

fn default_damping() -> f64 {
    0.85
}
fn default_iterations() -> usize {
    1000
}
fn default_tolerance() -> f64 {
    1e-12
}

/// A validated PageRank run.
pub struct PageRankRun {
    names: Vec<String>,
    edges: Vec<(usize, usize)>,
    damping: f64,
    iterations: usize,
    tolerance: f64,
}

impl KindConfig for PageRankFile {
    const NAME: &'static str = "pagerank";
    const SUMMARY: &'static str =
        "PageRank of a directed graph by power iteration (a kind from outside the repository)";
    type Experiment = PageRankRun;

    fn validate(self, _base: &Path) -> Result<PageRankRun> {
        if self.damping.is_nan() || self.damping <= 0.0 || self.damping >= 1.0 {
            bail!("damping: {} is not between 0 and 1", self.damping);
        }
        if self.iterations == 0 || self.tolerance.is_nan() || self.tolerance < 0.0 {
            bail!("iterations must be >= 1 and tolerance >= 0");
        }
        if self.edges.is_empty() {
            bail!("edges: at least one link");
        }
        let mut names: Vec<String> = vec![];
        let mut id = |name: &String| match names.iter().position(|n| n == name) {
            Some(k) => k,
            None => {
                names.push(name.clone());
                names.len() - 1
            }
        };
        let edges = self.edges.iter().map(|[a, b]| (id(a), id(b))).collect();
        Ok(PageRankRun { names, edges, damping: self.damping, iterations: self.iterations, tolerance: self.tolerance })
    }
}

impl Experiment for PageRankRun {
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let n = self.names.len();
        let mut solver = PageRank::new(n, &self.edges, self.damping, self.tolerance);
        let mut ranks = vec![1.0 / n as f64; n];
        let mut residuals = Residuals::default();
        let mut rng = <ChaCha8Rng as rand_chacha::rand_core::SeedableRng>::seed_from_u64(0);
        let outcome = match cg_core::run(&mut solver, &mut ranks, self.iterations, &mut rng, &mut [&mut residuals]) {
            Ok(o) => o,
            Err(never) => match never {},
        };
        let by_name: serde_json::Map<String, serde_json::Value> =
            self.names.iter().zip(&ranks).map(|(name, r)| (name.clone(), json!(r))).collect();
        let metrics = json!({
            "ranks": by_name,
            "iterations": outcome.steps,
            "converged": outcome.converged(),
            "residual_curve": residuals.0,
        });
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let chart = cg_plot::LineChart {
            title: format!("{title}: change of the ranks per iteration (log10)"),
            x_label: "iteration".into(),
            y_label: "log10 L1 change".into(),
            series: vec![cg_plot::Series::line(
                "residual",
                residuals
                    .0
                    .iter()
                    .enumerate()
                    .filter(|p| *p.1 > 0.0)
                    .map(|(k, r)| ((k + 1) as f64, r.log10()))
                    .collect(),
            )],
            legend: cg_plot::Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "residual", chart.render())?;
        let picture = cg_plot::GraphPicture {
            title: title.to_string(),
            nodes: self
                .names
                .iter()
                .zip(&ranks)
                .map(|(name, r)| cg_plot::NodeLabel {
                    id: name.clone(),
                    lines: vec![name.clone(), format!("{r:.4}")],
                    kind: cg_plot::NodeKind::Inner,
                })
                .collect(),
            edges: self.edges.iter().map(|&(a, b)| (a, b, None)).collect(),
            directed: true,
        };
        push_graph(&mut files, "graph", &picture)?;
        let top = ranks.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |p| p.0);
        let summary = format!(
            "{} iterations ({}); highest rank {} = {:.4}",
            outcome.steps, outcome.stop, self.names[top], ranks[top]
        );
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint: None })
    }

    fn cost(&self) -> Cost {
        let (n, e, k) = (self.names.len() as f64, self.edges.len() as f64, self.iterations as f64);
        Cost::default().memory("the ranks", 16.0 * n).work("power iteration", k * (n + e)).steps("iterations", k)
    }
}
