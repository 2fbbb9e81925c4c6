//! `kind = "mlp"`: a feed-forward network trained by mini-batch gradient descent; writes
//! `metrics.json`, loss and accuracy curves (PNG and SVG) and `timing.json`.

use std::path::Path;

use anyhow::{anyhow, Result};
use cg_data::{DataConfig, Splits};
use cg_nn::{EpochRecord, Float, Mlp, ModelConfig, ModelParams, Precision, TrainConfig, TrainParams};
use cg_optim::{Constraint, ConstraintConfig, OptimizerConfig};
use cg_plot::{Legend, LineChart, Series};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use crate::{CheckScope, Outcome, RunOptions};

/// The whole file of an `mlp` config.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds initialisation, splitting and shuffling.
    #[serde(default)]
    seed: u64,
    data: DataConfig,
    model: ModelConfig,
    optimizer: OptimizerConfig,
    train: TrainConfig,
    /// Projected gradient descent: feasible sets for named parameters (W1, b1, ...).
    #[serde(default)]
    constraints: Vec<ConstraintConfig>,
}

/// A validated `mlp` experiment with its data loaded.
pub struct MlpExperiment {
    seed: u64,
    splits: Splits,
    model: ModelParams,
    train: TrainParams,
    check_epochs: Option<usize>,
}

impl MlpFile {
    /// Checks every table and loads the data (CSV paths relative to `base`).
    ///
    /// # Errors
    /// The first bad setting, naming its table and field, or a data file problem.
    pub fn validate(self, base: &Path) -> Result<MlpExperiment> {
        let model = self.model.validate().map_err(|e| anyhow!(e))?;
        let optimizer = self.optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        let mut train = self.train.validate(optimizer).map_err(|e| anyhow!(e))?;
        let sizes = model.param_sizes();
        for (k, c) in self.constraints.iter().enumerate() {
            train.constraints.push(c.validate(&sizes).map_err(|e| anyhow!("[[constraints]] {}: {e}", k + 1))?);
        }
        let splits = self.data.load(base, self.seed).map_err(|e| anyhow!(e))?;
        Ok(MlpExperiment { seed: self.seed, splits, model, train, check_epochs: self.train.check_epochs })
    }
}

impl MlpExperiment {
    /// Trains and renders the results. With `options.shortened`, trains `check_epochs` epochs.
    ///
    /// # Errors
    /// Data that does not fit the model, or a non-finite number during training.
    pub fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        match self.train.precision {
            Precision::F64 => self.run_in(Mlp::<f64>::new(self.model.clone()), title, options),
            Precision::F32 => self.run_in(Mlp::<f32>::new(self.model.clone()), title, options),
        }
    }

    fn run_in<T: Float>(&self, mlp: Mlp<T>, title: &str, options: &RunOptions) -> Result<Outcome> {
        let mut params = self.train.clone();
        let scope = match (options.shortened, self.check_epochs) {
            (true, Some(n)) => {
                params.epochs = n;
                CheckScope::CurvePrefix(n)
            }
            _ => CheckScope::Full,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut tape = mlp.init(&mut rng);
        let bar = if options.progress { ProgressBar::new(params.epochs as u64) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] epoch {pos}/{len} {msg} ({elapsed}, eta {eta})")
                .expect("internal: valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(title.to_string());
        let mut observe = |r: &EpochRecord| {
            bar.set_message(format!("loss {:.4}", r.train_loss));
            bar.inc(1);
        };
        let (train, test) = (&self.splits.train, self.splits.test.as_ref());
        let outcome = cg_nn::train(&mlp, &mut tape, train, test, &params, &mut rng, &mut observe)
            .map_err(|e| anyhow!("training: {e}"));
        bar.finish_and_clear();
        let outcome = outcome?;
        let records = &outcome.records;
        let last = records.last().expect("internal: epochs >= 1");
        let curve = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Option<Vec<f64>> { records.iter().map(f).collect() };
        let flops_per_epoch = 6.0 * mlp.parameter_count() as f64 * train.n_samples() as f64;
        let metrics = json!({
            "epochs": params.epochs,
            "final_loss": last.train_loss,
            "train_accuracy": last.train_accuracy,
            "test_loss": last.test_loss,
            "test_accuracy": last.test_accuracy,
            "loss_curve": curve(&|r| Some(r.train_loss)),
            "test_loss_curve": curve(&|r| r.test_loss),
            "train_accuracy_curve": curve(&|r| r.train_accuracy),
            "test_accuracy_curve": curve(&|r| r.test_accuracy),
            "learning_rate_curve": curve(&|r| Some(r.learning_rate)),
            "violation_curve": curve(&|r| r.violation),
            "samples": { "train": train.n_samples(), "test": test.map_or(0, |t| t.n_samples()) },
            "layers": mlp.spec.layers,
            "parameters": mlp.parameter_count(),
            "grad_evals": outcome.grad_evals,
            "flops_per_epoch": flops_per_epoch,
        });
        let mut metrics = metrics;
        if let Some(reference) = self.reference(train) {
            let gap = last.train_loss - reference.0;
            metrics["reference"] = json!({ "objective": reference.0, "gap": gap, "weights": reference.1 });
        }
        let seconds = outcome.train_seconds;
        let timing = json!({
            "seconds": seconds,
            "seconds_per_epoch": seconds / params.epochs as f64,
            "gflops_per_second": flops_per_epoch * params.epochs as f64 / seconds.max(1e-12) / 1e9,
        });
        let mut files = vec![
            ("metrics.json".to_string(), (serde_json::to_string_pretty(&metrics)? + "\n").into_bytes()),
            ("timing.json".to_string(), (serde_json::to_string_pretty(&timing)? + "\n").into_bytes()),
        ];
        let epoch_points = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
            records.iter().filter_map(|r| f(r).map(|v| (r.epoch as f64, v))).collect()
        };
        let mut charts = vec![(
            "loss",
            LineChart {
                title: format!("{title}: {} loss", mlp.spec.loss.name()),
                x_label: "epoch".into(),
                y_label: "mean loss".into(),
                legend: Legend::UpperRight,
                series: named(vec![
                    ("train", epoch_points(&|r| Some(r.train_loss))),
                    ("test", epoch_points(&|r| r.test_loss)),
                ]),
            },
        )];
        if last.violation.is_some() {
            charts.push((
                "violation",
                LineChart {
                    title: format!("{title}: largest constraint violation after each epoch"),
                    x_label: "epoch".into(),
                    y_label: "violation".into(),
                    series: named(vec![("violation", epoch_points(&|r| r.violation))]),
                    legend: Legend::UpperRight,
                },
            ));
        }
        if last.train_accuracy.is_some() {
            charts.push((
                "accuracy",
                LineChart {
                    title: format!("{title}: accuracy"),
                    x_label: "epoch".into(),
                    y_label: "accuracy".into(),
                    legend: Legend::LowerRight,
                    series: named(vec![
                        ("train", epoch_points(&|r| r.train_accuracy)),
                        ("test", epoch_points(&|r| r.test_accuracy)),
                    ]),
                },
            ));
        }
        for (name, chart) in charts {
            crate::push_figure(&mut files, name, chart.render()?);
        }
        let acc = |a: Option<f64>| a.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a));
        let summary = format!(
            "{title}: {} network, {} parameters, {} epochs on {} samples\n  final loss {:.6}, train accuracy {}, test accuracy {}\n  training {:.3} s ({:.4} s/epoch)",
            mlp.spec.layers.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"),
            mlp.parameter_count(),
            params.epochs,
            train.n_samples(),
            last.train_loss,
            acc(last.train_accuracy),
            acc(last.test_accuracy),
            seconds,
            seconds / params.epochs as f64,
        );
        Ok(Outcome { files, summary, check: scope })
    }
}

impl MlpExperiment {
    /// For a linear model (one identity output, squared error) whose constraints all act on W1
    /// alone: the optimum of the same objective on the training set, computed independently of
    /// gradient descent (`cg_optim::reference`): least squares, the KKT system for equalities,
    /// active-set enumeration for boxes and the simplex. The intercept b1 is free.
    fn reference(&self, train: &cg_data::Dataset) -> Option<(f64, Vec<f64>)> {
        use cg_optim::reference::{box_ls, equality_ls, mse, simplex_ls};
        use nalgebra::{DMatrix, DVector};
        let m = &self.model;
        let linear = m.layers.len() == 2
            && m.layers[1] == 1
            && m.output == cg_nn::OutputKind::Activation(cg_autodiff::vector::Activation::Identity)
            && m.loss == cg_autodiff::vector::Loss::SquaredError;
        let d = m.layers[0];
        if !linear
            || self.train.constraints.len() > 1
            || self.train.constraints.iter().any(|c| c.params != [0])
            || d > 16
        {
            return None;
        }
        let n = train.n_samples();
        let x = DMatrix::from_fn(n, d + 1, |i, j| if j < d { train.features[(j, i)] } else { 1.0 });
        let y = DVector::from_column_slice(&train.targets);
        let w = match self.train.constraints.first().map(|c| &c.constraint) {
            None => box_ls(&x, &y, &vec![(f64::NEG_INFINITY, f64::INFINITY); d + 1]),
            Some(Constraint::Box { lower, upper }) => {
                let mut bounds = vec![(*lower, *upper); d];
                bounds.push((f64::NEG_INFINITY, f64::INFINITY));
                box_ls(&x, &y, &bounds)
            }
            Some(Constraint::Simplex) => simplex_ls(&x, &y, &(0..d).collect::<Vec<_>>()),
            Some(Constraint::Equality { a, b, .. }) => {
                let a1 = DMatrix::from_fn(a.nrows(), d + 1, |i, j| if j < d { a[(i, j)] } else { 0.0 });
                equality_ls(&x, &y, &a1, b)
            }
        };
        Some((mse(&x, &y, &w), w.iter().copied().collect()))
    }
}

/// Series with at least one point.
fn named(series: Vec<(&str, Vec<(f64, f64)>)>) -> Vec<Series> {
    series.into_iter().filter(|(_, p)| !p.is_empty()).map(|(n, points)| Series::line(n, points)).collect()
}
