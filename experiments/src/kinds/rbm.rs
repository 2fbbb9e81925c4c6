//! `kind = "rbm"`: a restricted Boltzmann machine trained on a data file by CD-k or PCD, watched
//! by `cg_boltzmann::LikelihoodMonitor` (pseudo-log-likelihood per epoch, exact or AIS
//! log-likelihood), with its filters and chains sampled from noise.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_boltzmann::{LikelihoodMonitor, RbmConfig, RbmParams, RbmRecord, RbmTrainer, Visible};
use cg_core::{Recorder, Validate};
use cg_data::{DataConfig, InputTransform, Table};
use cg_nn::artifact::NamedTensor;
use cg_plot::{ImageGrid, Legend, LineChart, Series};
use nalgebra::{DMatrix, DVector};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::predict::{Predictions, SavedModel};
use crate::resume::drive;
use crate::{epoch_scope, finished, json_file, push_figure, CheckScope, Cost, Outcome, Progress, RunOptions};

/// `kind = "rbm"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RbmFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The data: exactly one of `csv`, `inline_x` with `inline_y`, or `[data.synthetic]`; the split
    /// and the feature transforms.
    data: DataConfig,
    /// Values above this become 1, the rest 0 (after `[data] scale`); needed for Bernoulli units
    /// whose pseudo-likelihood is reported.
    binarize: Option<f64>,
    /// The machine and its training.
    rbm: RbmConfig,
    /// How the log-likelihood is estimated and what is sampled for the pictures.
    #[serde(default)]
    evaluation: EvaluationConfig,
    /// Epochs of the shortened regression check run.
    check_epochs: Option<usize>,
}

/// `[evaluation]`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct EvaluationConfig {
    /// Estimate the log-likelihood by AIS every this many epochs (and after the last).
    #[serde(default = "five")]
    ais_every: usize,
    /// AIS chains (importance samples) per estimate.
    #[serde(default = "hundred")]
    ais_chains: usize,
    /// Intermediate temperatures of each AIS chain.
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
    /// How the data's columns became the visible units (saved with the model, for `predict`).
    inputs: InputTransform,
    binarize: Option<f64>,
    params: RbmParams,
    evaluation: EvaluationConfig,
    check_epochs: Option<usize>,
}

impl KindConfig for RbmFile {
    const NAME: &'static str = "rbm";
    const SUMMARY: &'static str =
        "a restricted Boltzmann machine trained by CD-k or PCD, with exact or AIS log-likelihood";
    const RESUMABLE: bool = true;
    const PREDICTS: bool = true;
    type Experiment = RbmExperiment;

    /// Loads the data (rows are samples) and checks the settings.
    ///
    /// # Errors
    /// A data problem, a setting out of range, or data that Bernoulli units cannot take.
    fn validate(self, base: &Path) -> Result<RbmExperiment> {
        let params = self.rbm.validate().map_err(|e| anyhow!("[rbm] {e}"))?;
        let splits = self.data.load(base, self.seed)?;
        let mut data = splits.train.features.transpose();
        if let Some(t) = self.binarize {
            data.iter_mut().for_each(|x| *x = f64::from(u8::from(*x > t)));
        }
        if params.visible == Visible::Bernoulli {
            if let Some(x) = data.iter().find(|x| !(0.0..=1.0).contains(*x)) {
                bail!("[data] {x} is outside [0, 1]: scale the data or set binarize for Bernoulli visible units");
            }
            // A likelihood of binary units is only defined on binary data.
            if let Some(x) = data.iter().find(|&&x| x != 0.0 && x != 1.0) {
                bail!("[data] {x} is not 0 or 1: Bernoulli visible units model binary data; set binarize = threshold (or visible = \"gaussian\")");
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
            inputs: splits.transform,
            binarize: self.binarize,
            params,
            evaluation: self.evaluation,
            check_epochs: self.check_epochs,
        })
    }

    /// Each row's hidden-unit probabilities p(h_j = 1 | v) and free energy F(v).
    fn predict(model: &SavedModel, data: &Table) -> Result<Predictions> {
        let bad = |what: String| anyhow!("{}: {what}", model.path.display());
        let (shape, w) = model.tensor("W")?;
        let &[nv, nh] = shape else { return Err(bad(format!("W has shape {shape:?}, not visible x hidden"))) };
        let (b, c) = (model.tensor("visible_bias")?.1, model.tensor("hidden_bias")?.1);
        if b.len() != nv || c.len() != nh {
            return Err(bad(format!("biases of {} and {} units for W of {nv} x {nh}", b.len(), c.len())));
        }
        let visible = match model.meta("visible_units")? {
            "bernoulli" => Visible::Bernoulli,
            "gaussian" => Visible::Gaussian,
            other => return Err(bad(format!("visible_units = {other}"))),
        };
        let rbm = cg_boltzmann::Rbm {
            w: DMatrix::from_row_slice(nv, nh, w),
            b: DVector::from_column_slice(b),
            c: DVector::from_column_slice(c),
            visible,
        };
        let mut v = model.inputs_for(nv)?.features_of(data)?.transpose();
        if v.ncols() != nv {
            return Err(bad(format!("{} features for {nv} visible units", v.ncols())));
        }
        if let Some(t) = model.metadata.get("binarize") {
            let t: f64 = t.parse().map_err(|_| bad(format!("binarize = {t}")))?;
            v.iter_mut().for_each(|x| *x = f64::from(u8::from(*x > t)));
        }
        let h = rbm.hidden_probs(&v);
        let rows = (0..v.nrows())
            .map(|r| {
                let row: Vec<f64> = v.row(r).iter().copied().collect();
                h.row(r).iter().copied().chain([rbm.free_energy(&row)]).collect()
            })
            .collect();
        let mut columns: Vec<String> = (0..nh).map(|j| format!("h_{j}")).collect();
        columns.push("free_energy".into());
        Ok(Predictions { columns, rows })
    }
}

impl Experiment for RbmExperiment {
    /// CD-k: 2(k + 1) products of a batch with W per batch; the likelihood every `ais_every`
    /// epochs (exact: 2^min(visible, hidden) states; AIS: chains × temperatures × 2 products);
    /// the pseudo-likelihood every epoch; the sample chains.
    fn cost(&self) -> Cost {
        let (nv, nh) = (self.data.ncols() as f64, self.params.hidden as f64);
        let (n, epochs) = (self.data.nrows() as f64, self.params.epochs as f64);
        let e = &self.evaluation;
        let evaluations = (epochs / e.ais_every as f64).ceil() + 1.0;
        let small = nv.min(nh);
        let likelihood = if small <= cg_boltzmann::EXACT_LIMIT as f64 {
            2f64.powf(small) * nv.max(nh)
        } else {
            e.ais_chains as f64 * e.ais_temperatures as f64 * 2.0 * nv * nh
        };
        let sample_steps = e.sample_steps.iter().copied().max().unwrap_or(0) as f64;
        Cost::default()
            .memory(
                "the weights, momenta and batches",
                F64 * (3.0 * nv * nh + 6.0 * self.params.batch_size as f64 * (nv + nh)),
            )
            .memory("the data", F64 * n * nv)
            .memory("the AIS chains", 4.0 * F64 * e.ais_chains as f64 * (nv + nh))
            .work("contrastive divergence", epochs * n * nv * nh * 2.0 * (self.params.k as f64 + 1.0))
            .work("the likelihood", evaluations * likelihood)
            .work("the pseudo-likelihood", epochs * n * nv * nh)
            .work("the sample chains", sample_steps * e.sample_chains as f64 * 2.0 * nv * nh)
            .work("the updates after every batch", epochs * (n / self.params.batch_size as f64).ceil() * 6.0 * nv * nh)
            .steps("the epochs", epochs)
    }

    /// Trains and renders metrics, filters, samples and the likelihood curves.
    ///
    /// # Errors
    /// A non-finite parameter during training, or a drawing error.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.params.epochs, self.check_epochs);
        let mut trainer = RbmTrainer::new(self.params.clone(), self.data.clone())?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut state = trainer.init(&mut rng);
        let e = &self.evaluation;
        let eval_rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x05ee_da15);
        let mut monitor = LikelihoodMonitor::new(
            &self.data,
            self.params.visible,
            e.ais_every,
            epochs,
            e.ais_chains,
            e.ais_temperatures,
            eval_rng,
        );
        let mut recorder = Recorder::new();
        let mut progress = Progress::new(options, epochs, "epoch", title, |_: &RbmRecord| String::new());
        let (out, checkpoint) = drive(
            &mut trainer,
            &mut state,
            epochs,
            &mut rng,
            &mut [&mut recorder, &mut monitor, &mut progress],
            options,
        )?;
        drop(progress);
        finished(out, "training")?;
        if let Some(e) = monitor.error.take() {
            bail!("evaluation: {e}");
        }
        Ok(Outcome { checkpoint, ..self.render(title, &state.rbm, &recorder, &mut monitor, scope)? })
    }
}

impl RbmExperiment {
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        title: &str,
        rbm: &cg_boltzmann::Rbm,
        recorder: &Recorder<RbmRecord>,
        monitor: &mut LikelihoodMonitor,
        scope: CheckScope,
    ) -> Result<Outcome> {
        let (pl_curve, ais, exact) = (&monitor.pseudo_log_likelihood, &monitor.ais, &monitor.exact);
        let (records, seconds) = (&recorder.records, recorder.total_seconds());
        let mut metrics = json!({
            "epochs": records.len(),
            "samples": self.data.nrows(),
            "visible": rbm.n_visible(),
            "hidden": rbm.n_hidden(),
            "reconstruction_error_curve": records.iter().filter_map(|r| r.reconstruction_error).collect::<Vec<_>>(),
        });
        if !pl_curve.is_empty() {
            metrics["pseudo_log_likelihood"] = json!(pl_curve.last());
            metrics["pseudo_log_likelihood_curve"] = json!(pl_curve);
        }
        if let Some(last) = ais.last() {
            metrics["ais_log_likelihood"] = json!(last.log_likelihood);
            metrics["ais_log_likelihood_band"] = json!([last.low, last.high]);
            metrics["ais_log_partition"] = json!(last.log_partition);
            metrics["ais_epochs"] = json!(ais.iter().map(|a| a.epoch).collect::<Vec<_>>());
            metrics["ais_log_likelihood_points"] = json!(ais.iter().map(|a| a.log_likelihood).collect::<Vec<_>>());
        }
        if let Some(&(_, ll)) = exact.last() {
            metrics["exact_log_likelihood"] = json!(ll);
            metrics["exact_epochs"] = json!(exact.iter().map(|a| a.0).collect::<Vec<_>>());
            metrics["exact_log_likelihood_points"] = json!(exact.iter().map(|a| a.1).collect::<Vec<_>>());
        }
        let timing = json!({ "seconds": seconds, "seconds_per_epoch": seconds / records.len().max(1) as f64 });
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
        let tensors = [
            cg_nn::artifact::row_major("W", vec![nv, nh], &rbm.w),
            NamedTensor { name: "visible_bias".into(), shape: vec![nv], values: rbm.b.iter().copied().collect() },
            NamedTensor { name: "hidden_bias".into(), shape: vec![nh], values: rbm.c.iter().copied().collect() },
        ];
        let units = if self.params.visible == Visible::Bernoulli { "bernoulli" } else { "gaussian" };
        let mut meta = vec![
            ("kind", "rbm".to_string()),
            ("visible_units", units.to_string()),
            ("layout", "row-major".into()),
            ("inputs", serde_json::to_string(&self.inputs)?),
        ];
        if let Some(t) = self.binarize {
            meta.push(("binarize", t.to_string()));
        }
        files.push(crate::tensors_file(&tensors, &meta)?);
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
                points: ais.iter().map(|a| (a.epoch as f64, a.log_likelihood)).collect(),
                markers: true,
                dashed: false,
            });
        }
        if !exact.is_empty() {
            series.push(Series {
                name: "log-likelihood (exact)".into(),
                points: exact.iter().map(|a| (a.0 as f64, a.1)).collect(),
                markers: true,
                dashed: false,
            });
        }
        if !series.is_empty() {
            let chart = LineChart {
                title: format!("{title}: mean log-likelihood per sample"),
                x_label: "epoch".into(),
                y_label: "nats".into(),
                legend: Legend::LowerRight,
                y_range: None,
                equal_aspect: false,
                series,
            };
            push_figure(&mut files, "likelihood", chart.render())?;
        }
        let side = (rbm.n_visible() as f64).sqrt().round() as usize;
        if side * side == rbm.n_visible() {
            push_figure(&mut files, "filters", self.filters(title, rbm, side).render())?;
            push_figure(&mut files, "samples", self.samples(title, rbm, side, &mut monitor.rng).render())?;
        }
        let mut summary = format!("{title}: {nv} {units} visible x {nh} hidden units, {} epochs", records.len());
        if let Some(e) = records.iter().rev().find_map(|r| r.reconstruction_error) {
            summary += &format!(", reconstruction error {e:.4}");
        }
        if let Some(&(_, ll)) = exact.last() {
            summary += &format!(", exact log-likelihood {ll:.3}");
        }
        if let Some(pl) = pl_curve.last() {
            summary += &format!(", pseudo-log-likelihood {pl:.3}");
        }
        if let Some(a) = ais.last() {
            summary += &format!(", AIS log-likelihood {:.3}", a.log_likelihood);
        }
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
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
            scale: Some("weight / largest |weight| of the unit".into()),
        }
    }

    /// Chains started from uniform noise, shown as E[v | h] after each number of Gibbs steps.
    fn samples(&self, title: &str, rbm: &cg_boltzmann::Rbm, side: usize, rng: &mut ChaCha8Rng) -> ImageGrid {
        let mut steps = self.evaluation.sample_steps.clone();
        steps.sort_unstable();
        let rows = rbm
            .chains_from_noise(self.evaluation.sample_chains, &steps, rng)
            .iter()
            .zip(steps)
            .map(|(mean, k)| mean.row_iter().map(|row| (format!("k = {k}"), row.iter().copied().collect())).collect())
            .collect();
        ImageGrid {
            title: format!("{title}: E[v | h] after k Gibbs steps from noise"),
            width: side,
            height: side,
            cells: rows,
            low: 0.0,
            high: 1.0,
            scale: Some("E[v | h]".into()),
        }
    }
}
