//! Hopfield experiments: `hopfield_digits` (store binarised digits, recall from noisy cues),
//! `hopfield_capacity` (fraction of random patterns that are fixed points, per load), and
//! `hopfield_tsp` (Hopfield-Tank tours against the Held-Karp optimum).

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_core::run;
use cg_hopfield::tsp::{distances, held_karp, hopfield_tank, TankParams};
use cg_hopfield::{Hopfield, Learner, Mode, Recall, Rule};
use cg_plot::{ImageGrid, Legend, LineChart, Series};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::{json_file, push_figure, CheckScope, Outcome, RunOptions};

fn rules(names: &[String]) -> Result<Vec<Rule>> {
    if names.is_empty() {
        bail!("rules: empty; name hebbian and/or storkey");
    }
    names
        .iter()
        .map(|n| Rule::from_name(n).ok_or_else(|| anyhow!("rules: unknown `{n}`; one of hebbian, storkey")))
        .collect()
}

fn mode(name: &str) -> Result<Mode> {
    match name {
        "async" => Ok(Mode::Async),
        "sync" => Ok(Mode::Sync),
        other => bail!("mode: unknown `{other}`; one of async, sync"),
    }
}

fn default_mode() -> String {
    "async".into()
}

/// Flips `k` distinct units of `pattern`, chosen by `rng`.
fn flip(pattern: &[f64], k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut cue = pattern.to_vec();
    for i in sample(rng, pattern.len(), k) {
        cue[i] = -cue[i];
    }
    cue
}

/// Recalls from `cue`; returns the final state and the energy after each sweep (starting state
/// first).
fn recall(
    net: &Hopfield,
    mode: Mode,
    cue: &[f64],
    max_sweeps: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut solver = Recall::new(net, mode);
    let mut state = solver.start(cue)?;
    let start = state.energy;
    let out = run(&mut solver, &mut state, max_sweeps, rng)?;
    let trace = std::iter::once(start).chain(out.records.iter().filter_map(|m| m.get("energy"))).collect();
    Ok((state.s.as_slice().to_vec(), trace))
}

// ---------------------------------------------------------------------------------------------

/// `kind = "hopfield_digits"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigitsFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    /// The digits CSV (8x8 pixel counts 0-16), relative to the config file.
    csv: String,
    #[serde(default = "target")]
    target: String,
    /// Classes to store, one pattern each: the class's mean image, pixel > threshold is +1.
    digits: Vec<u32>,
    /// Pixel count above which a pixel is +1; without it, each image's own median (half the
    /// pixels on, which keeps the patterns far from each other).
    threshold: Option<f64>,
    rules: Vec<String>,
    #[serde(default = "default_mode")]
    mode: String,
    /// Fractions of flipped pixels in the cues.
    noise_levels: Vec<f64>,
    /// Cues per stored pattern and noise level.
    trials: usize,
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

impl DigitsFile {
    /// Checks settings and builds the patterns from the data.
    ///
    /// # Errors
    /// A bad setting or data file, or a requested digit absent from the data.
    pub fn validate(self, base: &Path) -> Result<DigitsExperiment> {
        let rules = rules(&self.rules)?;
        let mode = mode(&self.mode)?;
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
            rules,
            mode,
            noise_levels: self.noise_levels,
            trials: self.trials,
            max_sweeps: self.max_sweeps,
            picture_noise: self.picture_noise,
        })
    }
}

impl DigitsExperiment {
    /// Stores the patterns with each rule and measures recall per noise level.
    ///
    /// # Errors
    /// A failure of the network code (not expected for validated input).
    pub fn run(&self, title: &str) -> Result<Outcome> {
        let n = self.patterns[0].len();
        let side = (n as f64).sqrt().round() as usize;
        let mut by_rule = Map::new();
        let mut recall_series = vec![];
        let mut recalled_pictures: Vec<Vec<Vec<f64>>> = vec![];
        let mut energy_trace = vec![];
        // The picture cues are shared by all rules.
        let mut pic_rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5eed);
        let flips = |noise: f64| (noise * n as f64).round() as usize;
        let picture_cues: Vec<Vec<f64>> =
            self.patterns.iter().map(|p| flip(p, flips(self.picture_noise), &mut pic_rng)).collect();
        for (r, &rule) in self.rules.iter().enumerate() {
            let net = Hopfield::store(rule, &self.patterns)?;
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            let (mut rates, mut overlaps, mut sweeps) = (vec![], vec![], vec![]);
            for &noise in &self.noise_levels {
                let (mut ok, mut overlap, mut total_sweeps, mut count) = (0usize, 0.0, 0usize, 0usize);
                for p in &self.patterns {
                    for _ in 0..self.trials {
                        let cue = flip(p, flips(noise), &mut rng);
                        let (s, trace) = recall(&net, self.mode, &cue, self.max_sweeps, &mut rng)?;
                        ok += usize::from(s == *p);
                        overlap += s.iter().zip(p).map(|(a, b)| a * b).sum::<f64>() / n as f64;
                        total_sweeps += trace.len() - 1;
                        count += 1;
                    }
                }
                rates.push(ok as f64 / count as f64);
                overlaps.push(overlap / count as f64);
                sweeps.push(total_sweeps as f64 / count as f64);
            }
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
                self.noise_levels.iter().copied().zip(rates.iter().copied()).collect(),
            ));
            by_rule.insert(
                rule.name().into(),
                json!({ "recall_rate": rates, "mean_overlap": overlaps, "mean_sweeps": sweeps }),
            );
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
        let chart = LineChart {
            title: format!("{title}: exact recall from noisy cues"),
            x_label: "fraction of pixels flipped in the cue".into(),
            y_label: "fraction recalled exactly".into(),
            series: recall_series,
            legend: Legend::UpperRight,
        };
        push_figure(&mut files, "recall", chart.render()?);
        let energy = LineChart {
            title: format!("{title}: energy during recall ({}, digit {})", self.rules[0].name(), self.digits[0]),
            x_label: "sweep".into(),
            y_label: "energy".into(),
            series: vec![Series::line("E", energy_trace.iter().enumerate().map(|(k, &e)| (k as f64, e)).collect())],
            legend: Legend::UpperRight,
        };
        push_figure(&mut files, "energy", energy.render()?);
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
            width: side,
            height: side,
            cells,
            low: -1.0,
            high: 1.0,
        };
        push_figure(&mut files, "patterns", grid.render()?);
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
        Ok(Outcome { files, summary, check: CheckScope::Full })
    }
}

// ---------------------------------------------------------------------------------------------

/// `kind = "hopfield_capacity"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    sizes: Vec<usize>,
    alphas: Vec<f64>,
    rules: Vec<String>,
    /// A stored pattern counts as recalled when at most this fraction of units ends wrong.
    #[serde(default = "one_percent")]
    tolerance: f64,
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
    rules: Vec<Rule>,
}

impl CapacityFile {
    /// Checks the settings.
    ///
    /// # Errors
    /// Empty lists, loads outside (0, 1], sizes below 10, or unknown rules.
    pub fn validate(self) -> Result<CapacityExperiment> {
        let rules = rules(&self.rules)?;
        if self.sizes.is_empty() || self.sizes.iter().any(|&n| n < 10) {
            bail!("sizes: {:?} must be non-empty, each >= 10", self.sizes);
        }
        if self.alphas.is_empty() || self.alphas.iter().any(|&a| !(a > 0.0 && a <= 1.0)) || !self.alphas.is_sorted() {
            bail!("alphas: {:?} must be increasing loads in (0, 1]", self.alphas);
        }
        if !(0.0..0.5).contains(&self.tolerance) || self.max_sweeps == 0 || self.max_tested == 0 {
            bail!("tolerance must be in [0, 0.5), max_sweeps and max_tested >= 1");
        }
        if let Some(c) = &self.check_sizes {
            if let Some(bad) = c.iter().find(|n| !self.sizes.contains(n)) {
                bail!("check_sizes: {bad} is not one of sizes");
            }
        }
        Ok(CapacityExperiment { file: self, rules })
    }
}

impl CapacityExperiment {
    /// For every size, rule and load: the fraction of stored patterns that are fixed points up to
    /// the tolerance. Patterns are stored incrementally, load after load.
    ///
    /// # Errors
    /// A failure of the network code (not expected for validated input).
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let f = &self.file;
        let (sizes, scope) = match (&f.check_sizes, options.shortened) {
            (Some(c), true) => (c.clone(), CheckScope::Subset),
            _ => (f.sizes.clone(), CheckScope::Full),
        };
        let mut by_rule = Map::new();
        let mut series = vec![];
        let mut summary = format!("{title}: loads {:?} on sizes {sizes:?}", f.alphas);
        for &rule in &self.rules {
            let mut by_size = Map::new();
            for &n in &sizes {
                // A stream per size, so a size's numbers do not depend on which others run.
                let mut rng = ChaCha8Rng::seed_from_u64(f.seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let loads: Vec<usize> = f.alphas.iter().map(|a| ((a * n as f64).round() as usize).max(1)).collect();
                let max_p = *loads.last().expect("internal: validated non-empty");
                let patterns: Vec<Vec<f64>> = (0..max_p)
                    .map(|_| (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect())
                    .collect();
                let mut learner = Learner::new(rule, n);
                let mut fractions = vec![];
                for &p in &loads {
                    while learner.stored() < p {
                        learner.add(&patterns[learner.stored()])?;
                    }
                    let net = learner.network();
                    let tested = p.min(f.max_tested);
                    let mut ok = 0;
                    for pattern in &patterns[..tested] {
                        let (s, _) = recall(&net, Mode::Async, pattern, f.max_sweeps, &mut rng)?;
                        let wrong = s.iter().zip(pattern).filter(|(a, b)| a != b).count();
                        ok += usize::from(wrong as f64 <= f.tolerance * n as f64);
                    }
                    fractions.push(ok as f64 / tested as f64);
                }
                // The first load where fewer than half the patterns are recalled, interpolated
                // linearly between the two loads around the crossing.
                let below = fractions.iter().position(|&x| x < 0.5).map(|k| {
                    if k == 0 {
                        f.alphas[0]
                    } else {
                        let (a0, a1, y0, y1) = (f.alphas[k - 1], f.alphas[k], fractions[k - 1], fractions[k]);
                        a0 + (y0 - 0.5) / (y0 - y1) * (a1 - a0)
                    }
                });
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
        };
        push_figure(&mut files, "capacity", chart.render()?);
        Ok(Outcome { files, summary, check: scope })
    }
}

// ---------------------------------------------------------------------------------------------

/// `kind = "hopfield_tsp"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TspFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    cities: usize,
    runs: usize,
    #[serde(default)]
    network: TankConfig,
    /// Runs the regression test repeats (their per-run results are compared).
    check_runs: Option<usize>,
}

/// `[network]`: the Hopfield-Tank settings; anything left out keeps its default.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TankConfig {
    a: Option<f64>,
    b: Option<f64>,
    c: Option<f64>,
    d: Option<f64>,
    n_bar: Option<f64>,
    u0: Option<f64>,
    anneal: Option<f64>,
    tau: Option<f64>,
    dt: Option<f64>,
    steps: Option<usize>,
    noise: Option<f64>,
}

/// A validated TSP experiment.
pub struct TspExperiment {
    seed: u64,
    cities: usize,
    runs: usize,
    check_runs: Option<usize>,
    params: TankParams,
}

impl TspFile {
    /// Checks the settings.
    ///
    /// # Errors
    /// Fewer than 3 or more than 16 cities, no runs, or a non-positive step or gain.
    pub fn validate(self) -> Result<TspExperiment> {
        if !(3..=16).contains(&self.cities) || self.runs == 0 {
            bail!("cities must be 3..=16 (Held-Karp is exponential) and runs >= 1");
        }
        let d = TankParams::default();
        let c = &self.network;
        let params = TankParams {
            a: c.a.unwrap_or(d.a),
            b: c.b.unwrap_or(d.b),
            c: c.c.unwrap_or(d.c),
            d: c.d.unwrap_or(d.d),
            n_bar: c.n_bar.unwrap_or(d.n_bar),
            u0: c.u0.unwrap_or(d.u0),
            anneal: c.anneal.unwrap_or(d.anneal),
            tau: c.tau.unwrap_or(d.tau),
            dt: c.dt.unwrap_or(d.dt),
            steps: c.steps.unwrap_or(d.steps),
            noise: c.noise.unwrap_or(d.noise),
        };
        for (name, v) in [("u0", params.u0), ("tau", params.tau), ("dt", params.dt), ("anneal", params.anneal)] {
            if !(v > 0.0 && v.is_finite()) {
                bail!("[network] {name} = {v} is out of range (> 0)");
            }
        }
        if params.steps == 0 {
            bail!("[network] steps must be >= 1");
        }
        if let Some(k) = self.check_runs {
            if k == 0 || k > self.runs {
                bail!("check_runs = {k} is out of range (1..={})", self.runs);
            }
        }
        Ok(TspExperiment { seed: self.seed, cities: self.cities, runs: self.runs, check_runs: self.check_runs, params })
    }
}

impl TspExperiment {
    /// Runs the network from `runs` random starts and compares with the exact optimum.
    ///
    /// # Errors
    /// Drawing failures.
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
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
        let mut series =
            vec![Series { name: format!("optimal ({optimum:.3})"), points: closed(&best_tour), markers: true }];
        if let Some(b) = best {
            series.push(Series {
                name: format!("best Hopfield-Tank ({:.3})", b.length),
                points: closed(&b.tour),
                markers: false,
            });
        }
        let chart = LineChart {
            title: format!("{title}: {} cities, {} of {runs} runs valid", self.cities, valid.len()),
            x_label: "x".into(),
            y_label: "y".into(),
            series,
            legend: Legend::UpperRight,
        };
        push_figure(&mut files, "tour", chart.render()?);
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
            };
            push_figure(&mut files, "energy", energy.render()?);
        }
        let summary = format!(
            "{title}: {} cities, optimum {optimum:.4} (Held-Karp)\n  {} of {runs} runs give valid tours; mean length / optimum over valid runs {}",
            self.cities,
            valid.len(),
            mean_ratio.map_or("-".into(), |m| format!("{m:.3}")),
        );
        Ok(Outcome { files, summary, check: scope })
    }
}
