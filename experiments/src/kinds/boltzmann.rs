//! `kind = "boltzmann"`: a small fully connected Boltzmann machine learning a known teacher
//! distribution from exact samples, measured by exact KL divergence after every epoch.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_boltzmann::bm::kl_divergence;
use cg_boltzmann::{sample_states, BmConfig, BmState, BmTrainer, BoltzmannMachine};
use cg_core::{Flow, Observer, Recorder, Snapshot, SnapshotError, StepInfo, Validate};
use cg_plot::{Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::resume::drive;
use crate::{finished, json_file, progress_bar, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// `kind = "boltzmann"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoltzmannFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// Visible units of the teacher and the learner.
    visible: usize,
    /// Teacher weights uniform in [-s, s], biases in [-s/2, s/2] (fully connected, no hidden units).
    teacher_scale: f64,
    /// Training rows drawn from the teacher's exact distribution.
    samples: usize,
    /// The learner and its training.
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

impl KindConfig for BoltzmannFile {
    const NAME: &'static str = "boltzmann";
    const SUMMARY: &'static str =
        "a small fully connected Boltzmann machine learning a known distribution, measured by exact KL";
    const RESUMABLE: bool = true;
    type Experiment = BoltzmannExperiment;

    /// # Errors
    /// Sizes beyond exact enumeration, or a setting out of range.
    fn validate(self, _base: &Path) -> Result<BoltzmannExperiment> {
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

impl Experiment for BoltzmannExperiment {
    /// The exact visible distribution (2^visible states, each summing 2^hidden) is computed
    /// after every epoch; Gibbs sweeps cost units² per chain and sample.
    fn cost(&self) -> Cost {
        let (nv, units) = (self.visible as f64, (self.visible + self.bm.hidden) as f64);
        let epochs = self.bm.epochs as f64;
        let (samples, chains, negative) = (self.samples as f64, self.bm.chains as f64, self.bm.sweeps as f64);
        // The chains are swept after every batch: batch_size = 1 sweeps them once per sample.
        let batches = (samples / self.bm.batch_size as f64).ceil();
        Cost::default()
            .memory("the exact distributions (2^visible states)", 4.0 * F64 * 2f64.powf(nv))
            .memory("the weights", F64 * units * units)
            .work("the exact distribution after each epoch", (epochs + 2.0) * 2f64.powf(units) * units * units)
            .work("positive-phase sweeps", epochs * samples * self.bm.positive_sweeps as f64 * units * units)
            .work(
                "negative-phase sweeps (every chain, every batch)",
                epochs * batches * chains * negative * units * units,
            )
            .steps("the epochs", epochs)
    }

    /// Draws the teacher and its samples, trains, and renders the KL curves.
    ///
    /// # Errors
    /// A non-finite parameter during training, or a drawing error.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (nv, s) = (self.visible, self.teacher_scale);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let teacher = BoltzmannMachine::random_teacher(nv, s, &mut rng);
        let truth = teacher.visible_distribution()?;
        let (data, empirical) = sample_states(&truth, nv, self.samples, &mut rng);
        let mut trainer = BmTrainer::new(self.bm.clone(), data)?;
        let mut state = trainer.start(BoltzmannMachine::fully_connected(nv, self.bm.hidden), &mut rng);
        let q0 = state.machine.visible_distribution()?;
        let mut kl = KlMonitor {
            truth: &truth,
            empirical: &empirical,
            kl_truth: vec![kl_divergence(&truth, &q0)],
            kl_data: vec![kl_divergence(&empirical, &q0)],
            bar: progress_bar(options, self.bm.epochs, "epoch", title),
            failure: None,
        };
        let mut recorder = Recorder::new();
        let (out, checkpoint) =
            drive(&mut trainer, &mut state, self.bm.epochs, &mut rng, &mut [&mut recorder, &mut kl], options)?;
        kl.bar.finish_and_clear();
        finished(out, "training")?;
        if let Some(e) = kl.failure {
            bail!("KL divergence: {e}");
        }
        let (kl_truth, kl_data) = (kl.kl_truth, kl.kl_data);
        let seconds = recorder.total_seconds();
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
            "epochs": recorder.records.len(),
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
        let m = &state.machine;
        let tensors = [
            cg_nn::artifact::row_major("W", vec![m.units(), m.units()], &m.w),
            cg_nn::artifact::NamedTensor {
                name: "bias".into(),
                shape: vec![m.units()],
                values: m.b.iter().copied().collect(),
            },
        ];
        let meta = [("kind", "boltzmann".to_string()), ("visible", nv.to_string()), ("layout", "row-major".into())];
        files.push(crate::tensors_file(&tensors, &meta)?);
        let epochs: Vec<f64> = (0..=recorder.records.len()).map(|e| e as f64).collect();
        let kl_chart = LineChart {
            title: format!("{title}: KL divergence to the learned distribution"),
            x_label: "epoch".into(),
            y_label: "nats".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
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
        push_figure(&mut files, "kl", kl_chart.render())?;
        let mut order: Vec<usize> = (0..truth.len()).collect();
        order.sort_by(|&a, &b| truth[b].total_cmp(&truth[a]));
        let dist_chart = LineChart {
            title: format!("{title}: probability of each state (sorted by the teacher's)"),
            x_label: "state rank".into(),
            y_label: "probability".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![
                Series {
                    name: "teacher".into(),
                    points: order.iter().enumerate().map(|(r, &k)| (r as f64, truth[k])).collect(),
                    markers: false,
                    dashed: false,
                },
                Series {
                    name: "learned".into(),
                    points: order.iter().enumerate().map(|(r, &k)| (r as f64, q[k])).collect(),
                    markers: true,
                    dashed: false,
                },
            ],
        };
        push_figure(&mut files, "distribution", dist_chart.render())?;
        let summary = format!(
            "KL(teacher || model) {:.5} after {} epochs (a maximum-likelihood fit to this many samples: {floor:.5})",
            metrics["kl_teacher_model"].as_f64().unwrap_or(f64::NAN),
            recorder.records.len()
        );
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint })
    }
}

/// The exact KL divergences from the teacher and from the data after every epoch, shown on the
/// progress bar.
struct KlMonitor<'a> {
    truth: &'a [f64],
    empirical: &'a [f64],
    kl_truth: Vec<f64>,
    kl_data: Vec<f64>,
    bar: crate::Bar,
    /// The first error; it stops the run.
    failure: Option<cg_boltzmann::Error>,
}

impl Observer<BmState, ()> for KlMonitor<'_> {
    fn observe(&mut self, step: &StepInfo<'_, BmState, ()>) -> Flow {
        match step.state.machine.visible_distribution() {
            Ok(q) => {
                self.kl_truth.push(kl_divergence(self.truth, &q));
                self.kl_data.push(kl_divergence(self.empirical, &q));
                self.bar.set_message(format!("KL {:.4}", kl_divergence(self.truth, &q)));
                self.bar.set_position(step.step as u64);
                Flow::Continue
            }
            Err(e) => {
                self.failure = Some(e);
                Flow::Stop("the KL observer".into())
            }
        }
    }

    fn save(&self, into: &mut Snapshot) {
        into.put("kl_teacher_model", &self.kl_truth);
        into.put("kl_data_model", &self.kl_data);
    }

    fn restore(&mut self, from: &Snapshot) -> Result<(), SnapshotError> {
        (self.kl_truth, self.kl_data) = (from.get("kl_teacher_model")?, from.get("kl_data_model")?);
        Ok(())
    }
}

fn argmax(p: &[f64]) -> usize {
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(k, _)| k)
}
