//! `kind = "hopfield_tsp"`: the continuous Hopfield-Tank network on random cities, from many
//! random starts, against the exact Held-Karp optimum.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_core::Validate;
use cg_hopfield::tsp::{distances, held_karp, hopfield_tank, TankConfig, TankParams};
use cg_plot::{Legend, LineChart, Series};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::{json_file, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "hopfield_tsp"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TspFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// Cities, uniform in the unit square (from the seed); the optimum is found by Held-Karp, so
    /// keep it small (<= 16).
    cities: usize,
    /// Independent runs of the network from noisy starts.
    runs: usize,
    /// Hopfield-Tank settings; anything left out keeps its default.
    #[serde(default)]
    network: TankConfig,
    /// Runs the regression test repeats (their per-run results are compared).
    check_runs: Option<usize>,
}

/// A validated TSP experiment.
pub struct TspExperiment {
    seed: u64,
    cities: usize,
    runs: usize,
    check_runs: Option<usize>,
    params: TankParams,
}

impl KindConfig for TspFile {
    const NAME: &'static str = "hopfield_tsp";
    const SUMMARY: &'static str = "Hopfield-Tank tours of random cities against the exact Held-Karp optimum";
    type Experiment = TspExperiment;

    /// Checks the settings.
    ///
    /// # Errors
    /// Fewer than 3 or more than 16 cities, no runs, or a non-positive step or gain.
    fn validate(self, _base: &Path) -> Result<TspExperiment> {
        if !(3..=16).contains(&self.cities) || self.runs == 0 {
            bail!("cities must be 3..=16 (Held-Karp is exponential) and runs >= 1");
        }
        let params = self.network.validate().map_err(|e| anyhow!("[network] {e}"))?;
        if let Some(k) = self.check_runs {
            if k == 0 || k > self.runs {
                bail!("check_runs = {k} is out of range (1..={})", self.runs);
            }
        }
        Ok(TspExperiment { seed: self.seed, cities: self.cities, runs: self.runs, check_runs: self.check_runs, params })
    }
}

impl Experiment for TspExperiment {
    /// cities² neurons, so cities⁴ weights, and a weighted sum over them per step; Held-Karp's
    /// table is 2^cities × cities.
    fn cost(&self) -> Cost {
        let c = self.cities as f64;
        Cost::default()
            .memory("the network (cities^4 weights)", F64 * c.powi(4))
            .memory("Held-Karp's table (2^cities x cities)", F64 * 2f64.powf(c) * c)
            .work("network steps", self.runs as f64 * self.params.steps as f64 * c.powi(4))
            .work("Held-Karp", 2f64.powf(c) * c * c)
    }

    /// Runs the network from `runs` random starts and compares with the exact optimum.
    ///
    /// # Errors
    /// Drawing failures.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let cities: Vec<(f64, f64)> = (0..self.cities).map(|_| (rng.random(), rng.random())).collect();
        let d = distances(&cities);
        let (optimum, best_tour) = held_karp(&d);
        let (runs, scope) = match (self.check_runs, options.shortened) {
            (Some(k), true) => (k, CheckScope::Subset),
            _ => (self.runs, CheckScope::Full),
        };
        let results: Vec<_> = (0..runs).map(|_| hopfield_tank(&self.params, &d, &mut rng)).collect();
        let valid: Vec<&_> = results.iter().filter(|r| r.valid).collect();
        let ratios: Vec<f64> = valid.iter().map(|r| r.length / optimum).collect();
        let best = valid.iter().min_by(|a, b| a.length.total_cmp(&b.length));
        let mean_ratio = (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
        let p = &self.params;
        let metrics = json!({
            "cities": cities.iter().map(|c| [c.0, c.1]).collect::<Vec<_>>(),
            "optimal_length": optimum,
            "optimal_tour": best_tour,
            "runs": runs,
            "valid_fraction": valid.len() as f64 / runs as f64,
            "mean_ratio_valid": mean_ratio,
            "best_ratio": best.map(|b| b.length / optimum),
            "run_valid": results.iter().map(|r| r.valid).collect::<Vec<_>>(),
            "run_length": results.iter().map(|r| r.length).collect::<Vec<_>>(),
            "network": { "a": p.a, "b": p.b, "c": p.c, "d": p.d, "n_bar": p.n_bar, "u0": p.u0, "anneal": p.anneal,
                         "tau": p.tau, "dt": p.dt, "steps": p.steps, "noise": p.noise },
        });
        let metrics = if scope == CheckScope::Subset {
            // A shortened run can only vouch for its own runs.
            json!({ "optimal_length": optimum, "optimal_tour": best_tour,
                    "run_valid": metrics["run_valid"], "run_length": metrics["run_length"] })
        } else {
            metrics
        };
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let closed =
            |tour: &[usize]| -> Vec<(f64, f64)> { tour.iter().chain(tour.first()).map(|&c| cities[c]).collect() };
        // The optimum solid under ours dashed: where the tours agree both stay visible.
        let mut series = vec![Series {
            name: format!("optimal ({optimum:.3})"),
            points: closed(&best_tour),
            markers: true,
            dashed: false,
        }];
        if let Some(b) = best {
            series.push(Series {
                name: format!("best Hopfield-Tank ({:.3})", b.length),
                points: closed(&b.tour),
                markers: false,
                dashed: true,
            });
        }
        let chart = LineChart {
            title: format!("{title}: {} cities, {} of {runs} runs valid", self.cities, valid.len()),
            x_label: "x".into(),
            y_label: "y".into(),
            series,
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: true,
            x_log: false,
        };
        push_figure(&mut files, "tour", chart.render())?;
        if let Some(b) = best {
            let energy = LineChart {
                title: format!("{title}: energy of the best run"),
                x_label: "percent of the integration".into(),
                y_label: "energy".into(),
                series: vec![Series::line(
                    "E",
                    b.energy_trace.iter().enumerate().map(|(k, &e)| (k as f64, e)).collect(),
                )],
                legend: Legend::UpperRight,
                y_range: None,
                equal_aspect: false,
                x_log: false,
            };
            push_figure(&mut files, "energy", energy.render())?;
        }
        let summary = format!(
            "{title}: {} cities, optimum {optimum:.4} (Held-Karp)\n  {} of {runs} runs give valid tours; mean length / optimum over valid runs {}",
            self.cities,
            valid.len(),
            mean_ratio.map_or("-".into(), |m| format!("{m:.3}")),
        );
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }
}
