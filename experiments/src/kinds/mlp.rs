//! `kind = "mlp"`: a feed-forward network trained by mini-batch gradient descent; writes
//! `metrics.json`, loss and accuracy curves (PNG and SVG) and `timing.json`.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_core::Validate;
use cg_data::{DataConfig, Table};
use cg_nn::reference::Comparison;
use cg_nn::{Float, Mlp, ModelConfig, ModelParams, Precision, TrainConfig};
use cg_optim::{ConstraintConfig, OptimizerConfig};
use serde::Deserialize;
use serde_json::json;

use super::training::{self, NetData, Trained, Training};
use super::{Experiment, KindConfig};
use crate::predict::{Predictions, SavedModel};
use crate::{json_file, Cost, Outcome, RunOptions};

/// The whole file of an `mlp` config.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MlpFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds initialisation, splitting and shuffling.
    #[serde(default)]
    seed: u64,
    /// The data: exactly one of `csv`, `parquet`, `npy` with `labels`, `inline_x` with
    /// `inline_y`, or `[data.synthetic]`; the split and the feature transforms. `stream = true`
    /// reads an `.npy` file batch by batch (data larger than memory) with the same numbers.
    data: DataConfig,
    /// The network: layer widths, activations, loss.
    model: ModelConfig,
    optimizer: OptimizerConfig,
    /// The training loop.
    train: TrainConfig,
    /// Projected gradient descent: feasible sets for named parameters (W1, b1, ...).
    #[serde(default)]
    constraints: Vec<ConstraintConfig>,
}

/// A validated `mlp` experiment with its data loaded.
pub struct MlpExperiment {
    data: NetData,
    model: ModelParams,
    training: Training,
}

impl KindConfig for MlpFile {
    const NAME: &'static str = "mlp";
    const SUMMARY: &'static str =
        "a feed-forward network (or a Table 11.2 linear model) trained by mini-batch gradient descent";
    const RESUMABLE: bool = true;
    const BUDGET: Option<&'static str> = Some("train.epochs");
    const PREDICTS: bool = true;
    type Experiment = MlpExperiment;

    /// Checks every table and loads the data (CSV paths relative to `base`).
    ///
    /// # Errors
    /// The first bad setting, naming its table and field, or a data file problem.
    fn validate(self, base: &Path) -> Result<MlpExperiment> {
        let model = self.model.validate()?;
        let mut training = Training::new(self.seed, self.train, &self.optimizer, base)?;
        training.constrain(&self.constraints, &model.param_sizes())?;
        training.params.undecayed = model.undecayed();
        let data = NetData::open(&self.data, base, self.seed)?;
        training.check_data(&data)?;
        Ok(MlpExperiment { data, model, training })
    }

    /// Rebuilds the network from the saved config, in the precision it was trained in.
    fn predict(model: &SavedModel, data: &Table) -> Result<Predictions> {
        let spec = model.config::<MlpFile>()?.model.validate()?;
        let shapes = shapes(&spec);
        match model.meta("precision")? {
            "f32" => training::predictions(&Mlp::<f32>::new(spec).net, &shapes, model, data),
            _ => training::predictions(&Mlp::<f64>::new(spec).net, &shapes, model, data),
        }
    }
}

impl Experiment for MlpExperiment {
    /// 6 × parameters × samples per epoch (forward and backward), evaluation of both splits
    /// every epoch; memory for the parameters, their gradients and moments, and the activations
    /// of a batch and of a whole split.
    fn cost(&self) -> Cost {
        training::network_cost(
            &self.training,
            self.model.param_sizes().iter().map(|p| p.1).sum::<usize>() as f64,
            self.model.layers.iter().sum::<usize>() as f64,
            &self.data,
        )
    }

    /// Trains and renders the results. With `options.shortened`, trains `check_epochs` epochs.
    ///
    /// # Errors
    /// Data that does not fit the model, or a non-finite number during training.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        match self.training.params.precision {
            Precision::F64 => self.run_in(Mlp::<f64>::new(self.model.clone()), title, options),
            Precision::F32 => self.run_in(Mlp::<f32>::new(self.model.clone()), title, options),
        }
    }
}

impl MlpExperiment {
    fn run_in<T: Float>(&self, mlp: Mlp<T>, title: &str, options: &RunOptions) -> Result<Outcome> {
        let shapes = shapes(&self.model);
        let Trained { mut tape, outcome, epochs, scope, gradient_check: check, checkpoint, best } =
            self.training.run(&mlp.net, |rng| mlp.init(rng), &shapes, &self.data, options, title)?;
        let records = &outcome.records;
        let last = training::reported(records, best);
        let flops_per_epoch = 6.0 * mlp.parameter_count() as f64 * self.data.train_samples() as f64;
        let mut metrics = training::curves(records, &self.data, best);
        let extra = json!({
            "layers": mlp.spec.layers,
            "weight_decay": self.training.params.optimizer.weight_decay,
            "parameters": mlp.parameter_count(),
            "grad_evals": outcome.grad_evals,
            "flops_per_epoch": flops_per_epoch,
        });
        metrics.as_object_mut().expect("internal: an object").extend(extra.as_object().expect("internal").clone());
        let lambda = self.training.params.optimizer.weight_decay;
        let undecayed = &self.training.params.undecayed;
        let squares: f64 = mlp
            .params
            .iter()
            .enumerate()
            .filter(|(k, _)| !undecayed.contains(k))
            .map(|(_, &p)| tape.get(p).map_or(0.0, |m| m.iter().map(|v| v.as_f64().powi(2)).sum()))
            .sum();
        let trained_objective = last.train_loss + 0.5 * lambda * squares;
        metrics["objective"] = json!(trained_objective);
        // R² and the reference solutions read the loaded samples (a streamed run has neither).
        if let Some(splits) = self.data.loaded() {
            let (train, test) = (&splits.train, splits.test.as_ref());
            if last.train_accuracy.is_none()
                && mlp.n_outputs() == 1
                && mlp.spec.loss == cg_autodiff::vector::Loss::SquaredError
            {
                // R² = 1 - mean squared error / variance of the targets (regression).
                let r2 = |loss: f64, d: &cg_data::Dataset| {
                    let n = d.n_samples() as f64;
                    let mean = d.targets.iter().sum::<f64>() / n;
                    1.0 - loss / (d.targets.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n)
                };
                metrics["train_r2"] = json!(r2(last.train_loss, train));
                if let (Some(l), Some(t)) = (last.test_loss, test) {
                    metrics["test_r2"] = json!(r2(l, t));
                }
            }
            // References are for the full run; a shortened check run compares only curves.
            let w2 = mlp.params.get(2).and_then(|&p| tape.get(p)).map(|w| w.map(|v| v.as_f64()));
            let factorisation = w2.and_then(|w2| Comparison::factorisation(&self.model, train, &w2, last.train_loss));
            let linear = || {
                let as_f64 = |p: usize| tape.get(mlp.params[p]).map(|m| m.map(|v| v.as_f64()));
                Comparison::linear(
                    &self.model,
                    train,
                    &self.training.params,
                    trained_objective,
                    &as_f64(0)?,
                    &as_f64(1)?,
                )
            };
            let reference = if options.shortened { None } else { factorisation.or_else(linear) };
            if let Some(r) = reference {
                metrics["reference_gap"] = json!(r.gap());
                metrics["reference"] = serde_json::to_value(&r)?;
            }
        }
        let seconds = outcome.train_seconds;
        let timing = json!({
            "seconds": seconds,
            "seconds_per_epoch": seconds / epochs as f64,
            "gflops_per_second": flops_per_epoch * epochs as f64 / seconds.max(1e-12) / 1e9,
        });
        if let Some(check) = check {
            metrics["gradient_check"] = check;
        }
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        files.push(training::safetensors_file(&mlp.net, &tape, &shapes, "mlp", &self.data)?);
        let charts = training::charts(records, title, mlp.spec.loss.name());
        for (name, chart) in charts {
            crate::push_figure(&mut files, name, chart.render())?;
        }
        if let Some(splits) = self.data.loaded() {
            if let Some(regions) = regions(&mlp, &mut tape, splits, title)? {
                crate::push_figure(&mut files, "regions", regions.render())?;
            }
        }
        let summary = format!(
            "{title}: {} network, {} parameters, {} epochs on {} samples\n  final loss {:.6}, train accuracy {}, test accuracy {}\n  training {} ({} per epoch)",
            mlp.spec.layers.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"),
            mlp.parameter_count(),
            epochs,
            self.data.train_samples(),
            last.train_loss,
            training::percent(last.train_accuracy),
            training::percent(last.test_accuracy),
            crate::duration(seconds),
            crate::duration(seconds / epochs as f64),
        );
        let summary = summary + &self.training.early_stopping_line(best, records.len());
        Ok(Outcome { files, summary, check: scope, checkpoint })
    }
}

/// The parameters' shapes as a reader expects them: W_i out x in, b_i a vector of out.
fn shapes(model: &ModelParams) -> Vec<Vec<usize>> {
    model.layers.windows(2).flat_map(|w| [vec![w[1], w[0]], vec![w[1]]]).collect()
}

/// For a classifier on two features: its predicted class over a 400 × 400 grid covering the
/// training data, and the training points.
fn regions<T: Float>(
    mlp: &Mlp<T>,
    tape: &mut cg_autodiff::vector::VectorTape<T>,
    splits: &cg_data::Splits,
    title: &str,
) -> Result<Option<cg_plot::RegionChart>> {
    let train = &splits.train;
    let Ok(k) = train.class_count() else { return Ok(None) };
    if train.n_features() != 2 || mlp.spec.autoencoder {
        return Ok(None);
    }
    let range = |r: usize| {
        let row = train.features.row(r);
        (row.min() - 0.5, row.max() + 0.5)
    };
    let (xr, yr) = (range(0), range(1));
    let n = 400;
    let grid = cg_autodiff::vector::Mat::<T>::from_fn(2, n * n, |f, c| {
        let (i, j) = (c % n, c / n);
        let (lo, hi, t) = if f == 0 { (xr.0, xr.1, i) } else { (yr.0, yr.1, j) };
        T::cast(lo + (t as f64 + 0.5) * (hi - lo) / n as f64)
    });
    let out = mlp.net.predict(tape, vec![grid]).map_err(|e| anyhow!("decision regions: {e}"))?;
    let predicted = mlp.predict_classes(&out);
    let standardized = if splits.transform.standardize.is_some() { " (standardised)" } else { "" };
    Ok(Some(cg_plot::RegionChart {
        title: format!("{title}: decision regions (training points)"),
        x_label: format!("{}{standardized}", train.feature_names[0]),
        y_label: format!("{}{standardized}", train.feature_names[1]),
        x_range: xr,
        y_range: yr,
        cells: (n, n),
        predicted: predicted.iter().map(|&c| c as usize).collect(),
        points: (0..train.n_samples())
            .map(|s| (train.features[(0, s)], train.features[(1, s)], train.targets[s] as usize))
            .collect(),
        class_names: (0..k.max(2)).map(|c| splits.class_name(c)).collect(),
    }))
}
