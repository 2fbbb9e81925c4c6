//! `kind = "hopfield_capacity"`: the fraction of random patterns a Hopfield network recalls
//! within a tolerance, against the load P/N, per size and storage rule (`cg_hopfield::capacity`).

use std::path::Path;

use anyhow::{bail, Result};
use cg_hopfield::{capacity_curve, load_below_half, CapacityParams, Rule};
use cg_plot::{Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Experiment, KindConfig, F64};
use crate::{json_file, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "hopfield_capacity"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// Network sizes n (units).
    sizes: Vec<usize>,
    /// Loads α = patterns / n to test at each size.
    alphas: Vec<f64>,
    /// Learning rules compared: hebbian, storkey, pseudo_inverse.
    rules: Vec<Rule>,
    /// A stored pattern counts as recalled when at most this fraction of units ends wrong.
    #[serde(default = "one_percent")]
    tolerance: f64,
    /// Recall stops after this many sweeps without reaching a fixed point.
    #[serde(default = "thirty")]
    max_sweeps: usize,
    /// Patterns tested per load (the first ones stored).
    #[serde(default = "hundred")]
    max_tested: usize,
    /// Sizes the regression test reruns (the rest are compared only when run in full).
    check_sizes: Option<Vec<usize>>,
}

fn one_percent() -> f64 {
    0.01
}
fn thirty() -> usize {
    30
}
fn hundred() -> usize {
    100
}

/// A validated capacity experiment.
pub struct CapacityExperiment {
    file: CapacityFile,
    params: CapacityParams,
}

impl KindConfig for CapacityFile {
    const NAME: &'static str = "hopfield_capacity";
    const SUMMARY: &'static str = "the fraction of random patterns a Hopfield network recalls, against the load";
    type Experiment = CapacityExperiment;

    /// Checks the settings.
    ///
    /// # Errors
    /// Empty lists, loads outside (0, 1], sizes below 10, or unknown rules.
    fn validate(self, _base: &Path) -> Result<CapacityExperiment> {
        if self.rules.is_empty() {
            bail!("rules: empty; name hebbian and/or storkey");
        }
        if self.sizes.is_empty() || self.sizes.iter().any(|&n| n < 10) {
            bail!("sizes: {:?} must be non-empty, each >= 10", self.sizes);
        }
        if let Some(c) = &self.check_sizes {
            if let Some(bad) = c.iter().find(|n| !self.sizes.contains(n)) {
                bail!("check_sizes: {bad} is not one of sizes");
            }
        }
        let params = CapacityParams {
            alphas: self.alphas.clone(),
            tolerance: self.tolerance,
            max_sweeps: self.max_sweeps,
            max_tested: self.max_tested,
        };
        params.check()?;
        Ok(CapacityExperiment { file: self, params })
    }
}

impl Experiment for CapacityExperiment {
    /// Per size N: the weights (N²) and, per load, recall sweeps of N² each.
    fn cost(&self) -> Cost {
        let f = &self.file;
        let largest = f.sizes.iter().copied().max().unwrap_or(0) as f64;
        let loads: f64 = f.alphas.iter().sum();
        let work: f64 = f
            .sizes
            .iter()
            .map(|&n| {
                (n as f64).powi(2) * (n as f64 * loads + (f.max_tested * f.alphas.len()) as f64 * f.max_sweeps as f64)
            })
            .sum();
        Cost::default()
            .memory("the weights of the largest network", 2.0 * F64 * largest * largest)
            .memory("the patterns", F64 * largest * largest * f.alphas.iter().copied().fold(0.0, f64::max))
            .work("storage and recall", f.rules.len() as f64 * work)
    }

    /// For every size, rule and load: the fraction of stored patterns that are fixed points up to
    /// the tolerance. Patterns are stored incrementally, load after load.
    ///
    /// # Errors
    /// A failure of the network code (not expected for validated input).
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let f = &self.file;
        let (sizes, scope) = match (&f.check_sizes, options.shortened) {
            (Some(c), true) => (c.clone(), CheckScope::Subset),
            _ => (f.sizes.clone(), CheckScope::Full),
        };
        let mut by_rule = Map::new();
        let mut series = vec![];
        let mut summary = format!("{title}: loads {:?} on sizes {sizes:?}", f.alphas);
        for &rule in &f.rules {
            let mut by_size = Map::new();
            for &n in &sizes {
                // A stream per size, so a size's numbers do not depend on which others run.
                let mut rng = ChaCha8Rng::seed_from_u64(f.seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let fractions = capacity_curve(rule, n, &self.params, &mut rng)?;
                let below = load_below_half(&f.alphas, &fractions);
                summary += &format!(
                    "\n  {} N = {n}: recall falls below 50% at load {}",
                    rule.name(),
                    below.map_or("(never)".to_string(), |a| format!("{a:.3}"))
                );
                series.push(Series::line(
                    &format!("{} N={n}", rule.name()),
                    f.alphas.iter().copied().zip(fractions.iter().copied()).collect(),
                ));
                by_size.insert(format!("N{n}"), json!({ "fraction_recalled": fractions, "alpha_below_half": below }));
            }
            by_rule.insert(rule.name().into(), Value::Object(by_size));
        }
        let metrics = json!({
            "alphas": f.alphas,
            "tolerance": f.tolerance,
            "max_tested": f.max_tested,
            "rules": by_rule,
        });
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let chart = LineChart {
            title: format!("{title}: stored patterns recalled within {:.0}% error", 100.0 * f.tolerance),
            x_label: "load alpha = patterns / units".into(),
            y_label: "fraction recalled".into(),
            series,
            legend: Legend::LowerLeft,
            y_range: Some((0.0, 1.0)),
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "capacity", chart.render())?;
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }
}
