//! Boltzmann experiments: `rbm` (a restricted Boltzmann machine on a data file: pseudo- and AIS
//! log-likelihood per epoch, filters, samples) and `boltzmann` (a small fully connected machine
//! learning a known distribution, measured by exact KL divergence).

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_boltzmann::bm::kl_divergence;
use cg_boltzmann::{
    ais_base, ais_betas, bernoulli_in_place, BmConfig, BmTrainer, BoltzmannMachine, RbmConfig, RbmParams, RbmTrainer,
    Visible,
};
use cg_core::Metrics;
use cg_data::DataConfig;
use cg_plot::{ImageGrid, Legend, LineChart, Series};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use crate::{epoch_scope, json_file, one_step, progress_bar, push_figure, CheckScope, Outcome, RunOptions};

/// `kind = "rbm"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbmFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    data: DataConfig,
    /// Values above this become 1, the rest 0 (after `[data] scale`); needed for Bernoulli units
    /// whose pseudo-likelihood is reported.
    binarize: Option<f64>,
    rbm: RbmConfig,
    #[serde(default)]
    evaluation: EvaluationConfig,
    /// Epochs of the shortened regression check run.
    check_epochs: Option<usize>,
}

/// `[evaluation]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvaluationConfig {
    /// Estimate the log-likelihood by AIS every this many epochs (and after the last).
    #[serde(default = "five")]
    ais_every: usize,
    #[serde(default = "hundred")]
    ais_chains: usize,
    #[serde(default = "thousand")]
    ais_temperatures: usize,
    /// Gibbs steps after which samples are drawn.
    #[serde(default = "gibbs_steps")]
    sample_steps: Vec<usize>,
    /// Sampling chains in the picture (each starts from uniform noise).
    #[serde(default = "eight")]
    sample_chains: usize,
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            ais_every: five(),
            ais_chains: hundred(),
            ais_temperatures: thousand(),
            sample_steps: gibbs_steps(),
            sample_chains: eight(),
        }
    }
}

fn five() -> usize {
    5
}
fn eight() -> usize {
    8
}
fn hundred() -> usize {
    100
}
fn thousand() -> usize {
    1000
}
fn gibbs_steps() -> Vec<usize> {
    vec![1, 10, 100, 1000]
}

/// A validated RBM experiment.
pub struct RbmExperiment {
    seed: u64,
    data: DMatrix<f64>,
    params: RbmParams,
    evaluation: EvaluationConfig,
    check_epochs: Option<usize>,
}

impl RbmFile {
    /// Loads the data (rows are samples) and checks the settings.
    ///
    /// # Errors
    /// A data problem, a setting out of range, or data that Bernoulli units cannot take.
    pub fn validate(self, base: &Path) -> Result<RbmExperiment> {
        let params = self.rbm.validate().map_err(|e| anyhow!("[rbm] {e}"))?;
        let splits = self.data.load(base, self.seed).map_err(|e| anyhow!(e))?;
        let mut data = splits.train.features.transpose();
        if let Some(t) = self.binarize {
            data.iter_mut().for_each(|x| *x = f64::from(u8::from(*x > t)));
        }
        if params.visible == Visible::Bernoulli {
            if let Some(x) = data.iter().find(|x| !(0.0..=1.0).contains(*x)) {
                bail!("[data] {x} is outside [0, 1]: scale the data or set binarize for Bernoulli visible units");
            }
        }
        let e = &self.evaluation;
        if e.ais_every == 0 || e.ais_chains == 0 || e.ais_temperatures < 4 || e.sample_chains == 0 {
            bail!("[evaluation] ais_every, ais_chains, sample_chains must be >= 1 and ais_temperatures >= 4");
        }
        if self.check_epochs.is_some_and(|n| n == 0 || n > params.epochs) {
            bail!("check_epochs: must be between 1 and epochs = {}", params.epochs);
        }
        Ok(RbmExperiment {
            seed: self.seed,
            data,
            params,
            evaluation: self.evaluation,
            check_epochs: self.check_epochs,
        })
    }
}

impl RbmExperiment {
    /// Trains and renders metrics, filters, samples and the likelihood curves.
    ///
    /// # Errors
    /// A non-finite parameter during training, or a drawing error.
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.params.epochs, self.check_epochs);
        let binary = self.params.visible == Visible::Bernoulli && self.data.iter().all(|&x| x == 0.0 || x == 1.0);
        let mut trainer = RbmTrainer::new(self.params.clone(), self.data.clone())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut state = trainer.init(&mut rng);
        // Evaluation draws from its own stream, so adding an AIS point never changes training.
        let mut eval_rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x05ee_da15);
        let base = ais_base(&self.data, self.params.visible);
        let betas = ais_betas(self.evaluation.ais_temperatures);
        let bar = progress_bar(options, epochs, "epoch", title);
        let (mut records, mut pl_curve, mut ais_points) = (Vec::<Metrics>::new(), vec![], vec![]);
        let mut exact_points = vec![];
        for epoch in 1..=epochs {
            records.push(one_step(&mut trainer, &mut state, &mut rng, &bar)?);
            if binary {
                pl_curve.push(state.rbm.pseudo_log_likelihood(&self.data)?);
            }
            if epoch % self.evaluation.ais_every == 0 || epoch == epochs {
                if let Ok(log_z) = state.rbm.log_partition_exact() {
                    exact_points.push((epoch, state.rbm.mean_log_likelihood(&self.data, log_z)));
                } else {
                    let est = state.rbm.ais_log_partition(&base, &betas, self.evaluation.ais_chains, &mut eval_rng)?;
                    let ll = |z: f64| state.rbm.mean_log_likelihood(&self.data, z);
                    // A larger log Z means a smaller likelihood: the band flips.
                    ais_points.push((epoch, ll(est.log_z), ll(est.log_z_high), ll(est.log_z_low), est.log_z));
                }
            }
            bar.set_message(pl_curve.last().map_or(String::new(), |pl| format!("PL {pl:.3}")));
            bar.inc(1);
        }
        bar.finish_and_clear();
        self.render(title, &state.rbm, &records, &pl_curve, &ais_points, &exact_points, &mut eval_rng, scope)
    }

    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        title: &str,
        rbm: &cg_boltzmann::Rbm,
        records: &[Metrics],
        pl_curve: &[f64],
        ais: &[(usize, f64, f64, f64, f64)],
        exact: &[(usize, f64)],
        rng: &mut ChaCha8Rng,
        scope: CheckScope,
    ) -> Result<Outcome> {
        let curve = |name: &str| -> Vec<f64> { records.iter().filter_map(|m| m.get(name)).collect() };
        let seconds: f64 = curve("seconds").iter().sum();
        let mut metrics = json!({
            "epochs": records.len(),
            "samples": self.data.nrows(),
            "visible": rbm.n_visible(),
            "hidden": rbm.n_hidden(),
            "reconstruction_error_curve": curve("reconstruction_error"),
        });
        if !pl_curve.is_empty() {
            metrics["pseudo_log_likelihood"] = json!(pl_curve.last());
            metrics["pseudo_log_likelihood_curve"] = json!(pl_curve);
        }
        if let Some(&(_, ll, low, high, log_z)) = ais.last() {
            metrics["ais_log_likelihood"] = json!(ll);
            metrics["ais_log_likelihood_band"] = json!([low, high]);
            metrics["ais_log_partition"] = json!(log_z);
            metrics["ais_epochs"] = json!(ais.iter().map(|a| a.0).collect::<Vec<_>>());
            metrics["ais_log_likelihood_points"] = json!(ais.iter().map(|a| a.1).collect::<Vec<_>>());
        }
        if let Some(&(_, ll)) = exact.last() {
            metrics["exact_log_likelihood"] = json!(ll);
            metrics["exact_epochs"] = json!(exact.iter().map(|a| a.0).collect::<Vec<_>>());
            metrics["exact_log_likelihood_points"] = json!(exact.iter().map(|a| a.1).collect::<Vec<_>>());
        }
        let timing = json!({ "seconds": seconds, "seconds_per_epoch": seconds / records.len().max(1) as f64 });
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        let epochs = |n: usize| -> Vec<f64> { (1..=n).map(|e| e as f64).collect() };
        let mut series = vec![];
        if !pl_curve.is_empty() {
            series.push(Series::line(
                "pseudo-log-likelihood",
                epochs(pl_curve.len()).into_iter().zip(pl_curve.iter().copied()).collect(),
            ));
        }
        if !ais.is_empty() {
            series.push(Series {
                name: "log-likelihood (AIS)".into(),
                points: ais.iter().map(|a| (a.0 as f64, a.1)).collect(),
                markers: true,
            });
        }
        if !exact.is_empty() {
            series.push(Series {
                name: "log-likelihood (exact)".into(),
                points: exact.iter().map(|a| (a.0 as f64, a.1)).collect(),
                markers: true,
            });
        }
        if !series.is_empty() {
            let chart = LineChart {
                title: format!("{title}: mean log-likelihood per sample"),
                x_label: "epoch".into(),
                y_label: "nats".into(),
                legend: Legend::LowerRight,
                series,
            };
            push_figure(&mut files, "likelihood", chart.render()?);
        }
        let side = (rbm.n_visible() as f64).sqrt().round() as usize;
        if side * side == rbm.n_visible() {
            push_figure(&mut files, "filters", self.filters(title, rbm, side).render()?);
            push_figure(&mut files, "samples", self.samples(title, rbm, side, rng).render()?);
        }
        let mut summary = format!("{} epochs", records.len());
        if let Some(pl) = pl_curve.last() {
            summary += &format!(", pseudo-log-likelihood {pl:.3}");
        }
        if let Some(a) = ais.last() {
            summary += &format!(", AIS log-likelihood {:.3}", a.1);
        }
        Ok(Outcome { files, summary, check: scope })
    }

    /// Each hidden unit's weights as a picture, scaled to its own largest magnitude.
    fn filters(&self, title: &str, rbm: &cg_boltzmann::Rbm, side: usize) -> ImageGrid {
        let per_row = (rbm.n_hidden() as f64).sqrt().ceil() as usize;
        let cells: Vec<(String, Vec<f64>)> = (0..rbm.n_hidden())
            .map(|j| {
                let col: Vec<f64> = rbm.w.column(j).iter().copied().collect();
                let m = col.iter().fold(0.0f64, |a, x| a.max(x.abs())).max(1e-12);
                (format!("h{j}"), col.iter().map(|x| x / m).collect())
            })
            .collect();
        ImageGrid {
            title: format!("{title}: filters (weights of each hidden unit, white positive)"),
            width: side,
            height: side,
            cells: cells.chunks(per_row).map(<[_]>::to_vec).collect(),
            low: -1.0,
            high: 1.0,
        }
    }

    /// Chains started from uniform noise, shown as E[v | h] after each number of Gibbs steps.
    fn samples(&self, title: &str, rbm: &cg_boltzmann::Rbm, side: usize, rng: &mut ChaCha8Rng) -> ImageGrid {
        let chains = self.evaluation.sample_chains;
        let mut v = DMatrix::from_fn(chains, rbm.n_visible(), |_, _| f64::from(u8::from(rng.random::<bool>())));
        let mut steps = self.evaluation.sample_steps.clone();
        steps.sort_unstable();
        let mut rows: Vec<Vec<(String, Vec<f64>)>> = vec![];
        let mut done = 0;
        for &k in &steps {
            let mut mean = DMatrix::zeros(chains, rbm.n_visible());
            for _ in done..k {
                let mut h = rbm.hidden_probs(&v);
                bernoulli_in_place(&mut h, rng);
                mean = rbm.visible_mean(&h);
                v = rbm.sample_visible(&h, rng);
            }
            done = k;
            rows.push((0..chains).map(|c| (format!("k = {k}"), mean.row(c).iter().copied().collect())).collect());
        }
        ImageGrid {
            title: format!("{title}: E[v | h] after k Gibbs steps from noise"),
            width: side,
            height: side,
            cells: rows,
            low: 0.0,
            high: 1.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// `kind = "boltzmann"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoltzmannFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    /// Visible units of the teacher and the learner.
    visible: usize,
    /// Teacher weights uniform in [-s, s], biases in [-s/2, s/2] (fully connected, no hidden units).
    teacher_scale: f64,
    /// Training rows drawn from the teacher's exact distribution.
    samples: usize,
    bm: BmConfig,
}

/// A validated small-machine experiment.
pub struct BoltzmannExperiment {
    seed: u64,
    visible: usize,
    teacher_scale: f64,
    samples: usize,
    bm: BmConfig,
}

impl BoltzmannFile {
    /// # Errors
    /// Sizes beyond exact enumeration, or a setting out of range.
    pub fn validate(self) -> Result<BoltzmannExperiment> {
        if self.visible == 0 || self.visible + self.bm.hidden > cg_boltzmann::EXACT_LIMIT {
            bail!("visible + [bm] hidden must be 1..={} (exact distributions)", cg_boltzmann::EXACT_LIMIT);
        }
        if !(self.teacher_scale.is_finite() && self.teacher_scale >= 0.0) || self.samples == 0 {
            bail!("teacher_scale must be finite and >= 0, samples >= 1");
        }
        let bm = self.bm.validate().map_err(|e| anyhow!("[bm] {e}"))?;
        Ok(BoltzmannExperiment {
            seed: self.seed,
            visible: self.visible,
            teacher_scale: self.teacher_scale,
            samples: self.samples,
            bm,
        })
    }
}

impl BoltzmannExperiment {
    /// Draws the teacher and its samples, trains, and renders the KL curves.
    ///
    /// # Errors
    /// A non-finite parameter during training, or a drawing error.
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (nv, s) = (self.visible, self.teacher_scale);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut teacher = BoltzmannMachine::fully_connected(nv, 0);
        for (i, j) in teacher.edges().to_vec() {
            teacher.set_weight(i, j, rng.random_range(-s..=s));
        }
        teacher.b.iter_mut().for_each(|b| *b = rng.random_range(-s / 2.0..=s / 2.0));
        let truth = teacher.visible_distribution()?;
        let cumulative: Vec<f64> = truth
            .iter()
            .scan(0.0, |a, p| {
                *a += p;
                Some(*a)
            })
            .collect();
        let mut empirical = vec![0.0; truth.len()];
        let data: Vec<Vec<f64>> = (0..self.samples)
            .map(|_| {
                let u: f64 = rng.random();
                let k = cumulative.iter().position(|&c| u < c).unwrap_or(truth.len() - 1);
                empirical[k] += 1.0 / self.samples as f64;
                (0..nv).map(|b| f64::from(u8::from(k >> b & 1 == 1))).collect()
            })
            .collect();
        let mut trainer = BmTrainer::new(self.bm.clone(), data)?;
        let mut state = trainer.start(BoltzmannMachine::fully_connected(nv, self.bm.hidden), &mut rng);
        let bar = progress_bar(options, self.bm.epochs, "epoch", title);
        let q0 = state.machine.visible_distribution()?;
        let (mut kl_truth, mut kl_data, mut seconds) =
            (vec![kl_divergence(&truth, &q0)], vec![kl_divergence(&empirical, &q0)], 0.0);
        for _ in 0..self.bm.epochs {
            seconds += one_step(&mut trainer, &mut state, &mut rng, &bar)?.get("seconds").unwrap_or(0.0);
            let q = state.machine.visible_distribution()?;
            kl_truth.push(kl_divergence(&truth, &q));
            kl_data.push(kl_divergence(&empirical, &q));
            bar.set_message(format!("KL {:.4}", kl_truth.last().expect("internal: pushed")));
            bar.inc(1);
        }
        bar.finish_and_clear();
        let q = state.machine.visible_distribution()?;
        // How far a finite sample is from its source: KL(data || teacher), and the asymptotic mean
        // KL(teacher || maximum-likelihood fit) = (free parameters) / (2 samples).
        let sample_noise = kl_divergence(&empirical, &truth);
        let parameters = state.machine.edges().len() + state.machine.units();
        let floor = parameters as f64 / (2.0 * self.samples as f64);
        let metrics = json!({
            "visible": nv,
            "hidden": self.bm.hidden,
            "samples": self.samples,
            "epochs": self.bm.epochs,
            "kl_teacher_model": kl_truth.last(),
            "kl_data_model": kl_data.last(),
            "kl_data_teacher": sample_noise,
            "kl_expected_at_this_sample_size": floor,
            "parameters": parameters,
            "kl_teacher_model_curve": kl_truth,
            "kl_data_model_curve": kl_data,
            "most_probable_state": { "teacher": argmax(&truth), "model": argmax(&q) },
        });
        let timing = json!({ "seconds": seconds, "seconds_per_epoch": seconds / self.bm.epochs as f64 });
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        let epochs: Vec<f64> = (0..=self.bm.epochs).map(|e| e as f64).collect();
        let kl_chart = LineChart {
            title: format!("{title}: KL divergence to the learned distribution"),
            x_label: "epoch".into(),
            y_label: "nats".into(),
            legend: Legend::UpperRight,
            series: vec![
                Series::line(
                    "KL(teacher || model)",
                    epochs
                        .iter()
                        .copied()
                        .zip(
                            metrics["kl_teacher_model_curve"]
                                .as_array()
                                .expect("internal")
                                .iter()
                                .filter_map(serde_json::Value::as_f64),
                        )
                        .collect(),
                ),
                Series::line(
                    "KL(data || model)",
                    epochs
                        .iter()
                        .copied()
                        .zip(
                            metrics["kl_data_model_curve"]
                                .as_array()
                                .expect("internal")
                                .iter()
                                .filter_map(serde_json::Value::as_f64),
                        )
                        .collect(),
                ),
            ],
        };
        push_figure(&mut files, "kl", kl_chart.render()?);
        let mut order: Vec<usize> = (0..truth.len()).collect();
        order.sort_by(|&a, &b| truth[b].total_cmp(&truth[a]));
        let dist_chart = LineChart {
            title: format!("{title}: probability of each state (sorted by the teacher's)"),
            x_label: "state rank".into(),
            y_label: "probability".into(),
            legend: Legend::UpperRight,
            series: vec![
                Series {
                    name: "teacher".into(),
                    points: order.iter().enumerate().map(|(r, &k)| (r as f64, truth[k])).collect(),
                    markers: false,
                },
                Series {
                    name: "learned".into(),
                    points: order.iter().enumerate().map(|(r, &k)| (r as f64, q[k])).collect(),
                    markers: true,
                },
            ],
        };
        push_figure(&mut files, "distribution", dist_chart.render()?);
        let summary = format!(
            "KL(teacher || model) {:.5} after {} epochs (a maximum-likelihood fit to this many samples: {floor:.5})",
            metrics["kl_teacher_model"].as_f64().unwrap_or(f64::NAN),
            self.bm.epochs
        );
        Ok(Outcome { files, summary, check: CheckScope::Full })
    }
}

fn argmax(p: &[f64]) -> usize {
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(k, _)| k)
}
