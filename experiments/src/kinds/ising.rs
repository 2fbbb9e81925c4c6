//! `kind = "ising"`: the mean |magnetisation| of the 2-D Ising model against temperature, sampled
//! by heat-bath Gibbs sweeps (`cg_pgm::Ising::measure`), next to Onsager's exact result.

use std::path::Path;

use anyhow::{bail, Result};
use cg_pgm::{onsager_magnetisation, Ising, CRITICAL_TEMPERATURE};
use cg_plot::{Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::{json_file, progress_bar, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "ising"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IsingFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// Spins per side of the square lattice (periodic).
    side: usize,
    /// Coupling J between neighbours (J > 0: ferromagnetic).
    #[serde(default = "unit")]
    coupling: f64,
    /// External field h.
    #[serde(default)]
    field: f64,
    /// Temperatures T, in units of J / k_B.
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

impl KindConfig for IsingFile {
    const NAME: &'static str = "ising";
    const SUMMARY: &'static str =
        "the 2-D Ising model sampled by heat-bath Gibbs sweeps, next to Onsager's exact magnetisation";
    type Experiment = IsingExperiment;

    /// # Errors
    /// A bad lattice, temperature or sweep count.
    fn validate(self, _base: &Path) -> Result<IsingExperiment> {
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

impl Experiment for IsingExperiment {
    /// side² spins, a sweep visits each once, at every temperature.
    fn cost(&self) -> Cost {
        let f = &self.file;
        let spins = (f.side as f64).powi(2);
        let sweeps = f.temperatures.len() as f64 * (f.burn_in + f.sweeps) as f64;
        Cost::default().memory("the lattice", 2.0 * F64 * spins).work("Metropolis sweeps", 10.0 * sweeps * spins)
    }

    /// Samples every temperature (each from its own random stream, so a shortened run repeats
    /// the first temperatures exactly).
    ///
    /// # Errors
    /// A drawing error.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let f = &self.file;
        let (temps, scope) = match (options.shortened, f.check_temperatures) {
            (true, Some(k)) => (&f.temperatures[..k], CheckScope::Subset),
            _ => (&f.temperatures[..], CheckScope::Full),
        };
        let mut bar = progress_bar(options, temps.len(), "temperature", title);
        let (mut abs_m, mut abs_se, mut energy, mut chi, mut ess) = (vec![], vec![], vec![], vec![], vec![]);
        for (k, &t) in temps.iter().enumerate() {
            let mut model = Ising::new(f.side, f.coupling, f.field, t)?;
            let mut rng = ChaCha8Rng::seed_from_u64(f.seed);
            rng.set_stream(k as u64);
            let mut state = model.all_up();
            let stats = model.measure(&mut state, f.burn_in, f.sweeps, &mut rng)?;
            let mean = stats.mean_abs_magnetisation;
            abs_m.push(mean);
            abs_se.push(stats.standard_error);
            ess.push(stats.effective_sample_size);
            energy.push(stats.energy_per_spin);
            chi.push(stats.susceptibility);
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
            // The curve falls vertically at T_c: points crowd towards it from below, and it
            // reaches 0 at T_c itself.
            let below = CRITICAL_TEMPERATURE - lo;
            let mut ts: Vec<f64> = (0..=400).map(|k| lo + (hi - lo) * f64::from(k) / 400.0).collect();
            if below > 0.0 && hi > CRITICAL_TEMPERATURE {
                ts.extend((1..=24).map(|k| CRITICAL_TEMPERATURE - below * 10f64.powf(-f64::from(k) / 2.0)));
                ts.push(CRITICAL_TEMPERATURE);
            }
            ts.sort_by(f64::total_cmp);
            ts.into_iter().map(|t| (t, onsager_magnetisation(t))).collect()
        };
        let chart = LineChart {
            title: format!("{title}: {0} x {0} torus, heat-bath Gibbs sampling", f.side),
            x_label: "temperature T".into(),
            y_label: "mean |magnetisation| per spin".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![
                Series { name: "Gibbs sampling".into(), points: points(&abs_m), markers: true, dashed: false },
                Series::line("Onsager (infinite lattice)", fine),
                Series {
                    name: format!("T_c = 2/ln(1+√2) = {CRITICAL_TEMPERATURE:.4}"),
                    points: vec![(CRITICAL_TEMPERATURE, 0.0), (CRITICAL_TEMPERATURE, 1.0)],
                    markers: false,
                    dashed: true,
                },
            ],
        };
        push_figure(&mut files, "magnetisation", chart.render())?;
        let chi_chart = LineChart {
            title: format!("{title}: susceptibility N(<m²> - <|m|>²)/T"),
            x_label: "temperature T".into(),
            y_label: "susceptibility".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![
                Series { name: "Gibbs sampling".into(), points: points(&chi), markers: true, dashed: false },
                Series::line(
                    "T_c",
                    vec![(CRITICAL_TEMPERATURE, 0.0), (CRITICAL_TEMPERATURE, chi.iter().copied().fold(0.0, f64::max))],
                ),
            ],
        };
        push_figure(&mut files, "susceptibility", chi_chart.render())?;
        let summary = format!(
            "{} temperatures; susceptibility peaks at T = {} (T_c = {CRITICAL_TEMPERATURE:.4})",
            temps.len(),
            metrics.get("susceptibility_peak_temperature").map_or("-".into(), ToString::to_string)
        );
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }
}
