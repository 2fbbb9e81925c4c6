//! `kind = "hopfield_digits"`: store binarised mean digit images in a Hopfield network with each
//! storage rule, and measure exact recall from cues with a fraction of pixels flipped.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_hopfield::{flip_units, recall, recall_rates, Hopfield, Mode, Rule};
use cg_nn::artifact::NamedTensor;
use cg_plot::{ImageGrid, Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map};

use super::{Experiment, KindConfig, F64};
use crate::{json_file, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "hopfield_digits"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DigitsFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The digits CSV (8x8 pixel counts 0-16), relative to the config file.
    csv: String,
    /// Class column of the CSV.
    #[serde(default = "target")]
    target: String,
    /// Classes to store, one pattern each: the class's mean image, pixel > threshold is +1.
    digits: Vec<u32>,
    /// Pixel count above which a pixel is +1; without it, each image's own median (half the
    /// pixels on, which keeps the patterns far from each other).
    threshold: Option<f64>,
    /// Learning rules compared: hebbian, storkey, pseudo_inverse.
    rules: Vec<Rule>,
    #[serde(default)]
    mode: Mode,
    /// Fractions of flipped pixels in the cues.
    noise_levels: Vec<f64>,
    /// Cues per stored pattern and noise level.
    trials: usize,
    /// Recall stops after this many sweeps without reaching a fixed point.
    max_sweeps: usize,
    /// Noise of the cues drawn in the picture grid and of the energy trace.
    #[serde(default = "picture_noise")]
    picture_noise: f64,
}

fn target() -> String {
    "target".into()
}
fn picture_noise() -> f64 {
    0.2
}

/// A validated digits experiment.
pub struct DigitsExperiment {
    seed: u64,
    digits: Vec<u32>,
    patterns: Vec<Vec<f64>>,
    rules: Vec<Rule>,
    mode: Mode,
    noise_levels: Vec<f64>,
    trials: usize,
    max_sweeps: usize,
    picture_noise: f64,
}

impl KindConfig for DigitsFile {
    const NAME: &'static str = "hopfield_digits";
    const SUMMARY: &'static str = "a Hopfield network storing digit images and recalling them from noisy cues";
    type Experiment = DigitsExperiment;

    /// Checks settings and builds the patterns from the data.
    ///
    /// # Errors
    /// A bad setting or data file, or a requested digit absent from the data.
    fn validate(self, base: &Path) -> Result<DigitsExperiment> {
        if self.rules.is_empty() {
            bail!("rules: empty; name hebbian and/or storkey");
        }
        if let Some(bad) = self.noise_levels.iter().chain([&self.picture_noise]).find(|&&x| !(0.0..=0.5).contains(&x)) {
            bail!("noise_levels: {bad} is out of range (0 <= noise <= 0.5)");
        }
        if self.noise_levels.is_empty() || self.trials == 0 || self.max_sweeps == 0 || self.digits.is_empty() {
            bail!("noise_levels, digits, trials and max_sweeps must be non-empty and >= 1");
        }
        let data = cg_data::load_csv(&base.join(&self.csv), &self.target).map_err(|e| anyhow!("csv: {e}"))?;
        let mut patterns = vec![];
        for &d in &self.digits {
            let cols: Vec<usize> = (0..data.n_samples()).filter(|&j| data.targets[j] == f64::from(d)).collect();
            if cols.is_empty() {
                bail!("digits: no samples of class {d} in {}", self.csv);
            }
            let mean = data.features.select_columns(&cols).column_mean();
            let cut = self.threshold.unwrap_or_else(|| {
                let mut sorted: Vec<f64> = mean.iter().copied().collect();
                sorted.sort_by(f64::total_cmp);
                0.5 * (sorted[(sorted.len() - 1) / 2] + sorted[sorted.len() / 2])
            });
            patterns.push(mean.iter().map(|&v| if v > cut { 1.0 } else { -1.0 }).collect());
        }
        Ok(DigitsExperiment {
            seed: self.seed,
            digits: self.digits,
            patterns,
            rules: self.rules,
            mode: self.mode,
            noise_levels: self.noise_levels,
            trials: self.trials,
            max_sweeps: self.max_sweeps,
            picture_noise: self.picture_noise,
        })
    }
}

impl Experiment for DigitsExperiment {
    /// N² weights per rule; recall sweeps of N² per trial, noise level and pattern.
    fn cost(&self) -> Cost {
        let n = self.patterns.first().map_or(0, Vec::len) as f64;
        let rules = self.rules.len() as f64;
        let recalls = rules * self.patterns.len() as f64 * self.noise_levels.len() as f64 * self.trials as f64;
        Cost::default()
            .memory("the weights", 2.0 * rules * F64 * n * n)
            .work("storage", rules * self.patterns.len() as f64 * n * n * n)
            .work("recall sweeps", recalls * self.max_sweeps as f64 * n * n)
    }

    /// Stores the patterns with each rule and measures recall per noise level.
    ///
    /// # Errors
    /// A failure of the network code (not expected for validated input).
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let n = self.patterns[0].len();
        // Square patterns are drawn as images, others as one row of n pixels.
        let side = (n as f64).sqrt().round() as usize;
        let (width, height) = if side * side == n { (side, side) } else { (n, 1) };
        let mut by_rule = Map::new();
        let mut recall_series = vec![];
        let mut recalled_pictures: Vec<Vec<Vec<f64>>> = vec![];
        // Per rule its weights and thresholds for model.safetensors (the patterns are added last).
        let mut tensors = vec![];
        let mut energy_trace = vec![];
        // The picture cues are shared by all rules.
        let mut pic_rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed);
        let flips = |noise: f64| (noise * n as f64).round() as usize;
        let picture_cues: Vec<Vec<f64>> =
            self.patterns.iter().map(|p| flip_units(p, flips(self.picture_noise), &mut pic_rng)).collect();
        for (r, &rule) in self.rules.iter().enumerate() {
            let net = Hopfield::store(rule, &self.patterns)?;
            tensors.push(cg_nn::artifact::row_major(&format!("W_{}", rule.name()), vec![n, n], net.weights()));
            let threshold = net.thresholds().iter().copied().collect();
            tensors.push(NamedTensor { name: format!("threshold_{}", rule.name()), shape: vec![n], values: threshold });
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let rates = recall_rates(
                &net,
                &self.patterns,
                self.mode,
                &self.noise_levels,
                self.trials,
                self.max_sweeps,
                &mut rng,
            )?;
            let mut pics = vec![];
            for (k, cue) in picture_cues.iter().enumerate() {
                let (s, trace) = recall(&net, self.mode, cue, self.max_sweeps, &mut pic_rng)?;
                if r == 0 && k == 0 {
                    energy_trace = trace;
                }
                pics.push(s);
            }
            recalled_pictures.push(pics);
            recall_series.push(Series::line(
                rule.name(),
                self.noise_levels.iter().copied().zip(rates.recall_rate.iter().copied()).collect(),
            ));
            by_rule.insert(rule.name().into(), serde_json::to_value(&rates)?);
        }
        let metrics = json!({
            "units": n,
            "digits": self.digits,
            "patterns": self.patterns.len(),
            "load": self.patterns.len() as f64 / n as f64,
            "mode": match self.mode { Mode::Async => "async", Mode::Sync => "sync" },
            "noise_levels": self.noise_levels,
            "trials_per_pattern": self.trials,
            "rules": by_rule,
            "energy_trace": energy_trace,
        });
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let p = self.patterns.len();
        tensors.push(NamedTensor { name: "patterns".into(), shape: vec![p, n], values: self.patterns.concat() });
        files.push(crate::tensors_file(
            &tensors,
            &[("kind", "hopfield_digits".into()), ("layout", "row-major".into())],
        )?);
        let chart = LineChart {
            title: format!("{title}: exact recall from noisy cues"),
            x_label: "fraction of pixels flipped in the cue".into(),
            y_label: "fraction recalled exactly".into(),
            series: recall_series,
            legend: Legend::UpperRight,
            y_range: Some((0.0, 1.0)),
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "recall", chart.render())?;
        let energy = LineChart {
            title: format!("{title}: energy during recall ({}, digit {})", self.rules[0].name(), self.digits[0]),
            x_label: "sweep".into(),
            y_label: "energy".into(),
            series: vec![Series::line("E", energy_trace.iter().enumerate().map(|(k, &e)| (k as f64, e)).collect())],
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "energy", energy.render())?;
        let cells = self
            .patterns
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut row = vec![(format!("cue {}", self.digits[k]), picture_cues[k].clone())];
                for (r, rule) in self.rules.iter().enumerate() {
                    row.push((rule.name().to_string(), recalled_pictures[r][k].clone()));
                }
                row.push(("stored".into(), p.clone()));
                row
            })
            .collect();
        let grid = ImageGrid {
            title: format!("{title}: cue ({:.0}% flipped), recalled, stored", 100.0 * self.picture_noise),
            width,
            height,
            cells,
            low: -1.0,
            high: 1.0,
            scale: Some("unit state".into()),
        };
        push_figure(&mut files, "patterns", grid.render())?;
        let mut summary = format!(
            "{title}: {} patterns in {n} units (load {:.3})",
            self.patterns.len(),
            self.patterns.len() as f64 / n as f64
        );
        for rule in &self.rules {
            let rates: Vec<String> = by_rule[rule.name()]["recall_rate"]
                .as_array()
                .map(|a| a.iter().map(|v| format!("{:.2}", v.as_f64().unwrap_or(f64::NAN))).collect())
                .unwrap_or_default();
            summary += &format!("\n  {}: exact recall by noise level [{}]", rule.name(), rates.join(", "));
        }
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint: None })
    }
}
