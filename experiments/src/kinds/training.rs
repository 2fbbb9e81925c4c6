//! What the `mlp` and `model` kinds share: their training settings and one training run of a
//! network through the one trainer (initialisation, `init_from`, gradient check, progress bar),
//! the curves every network reports, and their figures.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use cg_autodiff::vector::VectorTape;
use cg_core::{Recorder, Validate};
use cg_data::{Splits, Table};
use cg_nn::{EpochRecord, Float, Network, TargetSource, TrainConfig, TrainOutcome, TrainParams, Trainer};
use cg_optim::{ConstraintConfig, OptimizerConfig};
use cg_plot::{Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use super::F64;
use crate::predict::{Predictions, SavedModel};
use crate::resume::drive;
use crate::{epoch_scope, CheckScope, Cost, Progress, RunOptions};

/// The validated training settings of an `mlp` or `model` experiment: the seed, the schedule
/// and constraints, and the requests made in `[train]` (`check_epochs`, `gradient_check`,
/// `init_from`, resolved against the config's folder).
pub(super) struct Training {
    pub seed: u64,
    pub params: TrainParams,
    check_epochs: Option<usize>,
    gradient_check: bool,
    init_from: Option<PathBuf>,
}

/// One finished training run.
pub(super) struct Trained<T: Float> {
    pub tape: VectorTape<T>,
    pub outcome: TrainOutcome,
    /// The epochs run (fewer on a shortened check run).
    pub epochs: usize,
    pub scope: CheckScope,
    /// `gradient_check` for metrics.json, when asked for.
    pub gradient_check: Option<Value>,
    /// The state of a run stopped by `--stop-after`.
    pub checkpoint: Option<crate::resume::Saved>,
}

impl Training {
    /// Checks `[optimizer]` and `[train]`; `init_from` is relative to `base`.
    ///
    /// # Errors
    /// The first setting out of range, naming its table.
    pub(super) fn new(seed: u64, train: TrainConfig, optimizer: &OptimizerConfig, base: &Path) -> Result<Training> {
        let optimizer = optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        Ok(Training {
            seed,
            params: train.validate(optimizer)?,
            check_epochs: train.check_epochs,
            gradient_check: train.gradient_check,
            init_from: train.init_from.map(|p| base.join(p)),
        })
    }

    /// Resolves `[[constraints]]` against the model's parameters (name, size).
    ///
    /// # Errors
    /// An unknown parameter or a bad constraint, naming its place in the list.
    pub(super) fn constrain(&mut self, constraints: &[ConstraintConfig], sizes: &[(String, usize)]) -> Result<()> {
        self.params.constraints.extend(cg_optim::resolve_all(constraints, sizes)?);
        Ok(())
    }

    /// Draws the parameters from the seed (`init`), replaces those `init_from` names (`shapes`:
    /// each parameter's declared shape), checks the gradient on request, and trains `net` on the
    /// splits with a progress bar; on a shortened run, for `check_epochs` epochs.
    ///
    /// # Errors
    /// A parameter file that does not fit, data that does not fit the network, or a non-finite
    /// number during training.
    pub(super) fn run<T: Float>(
        &self,
        net: &Network<T>,
        init: impl FnOnce(&mut ChaCha8Rng) -> VectorTape<T>,
        shapes: &[Vec<usize>],
        splits: &Splits,
        options: &RunOptions,
        title: &str,
    ) -> Result<Trained<T>> {
        let mut params = self.params.clone();
        let scope;
        (params.epochs, scope) = epoch_scope(options, params.epochs, self.check_epochs);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut tape = init(&mut rng);
        if let Some(file) = &self.init_from {
            init_from(net, &mut tape, shapes, file)?;
        }
        let gradient_check = if self.gradient_check { Some(gradient_check(net, &tape, splits)?) } else { None };
        let mut progress = Progress::new(options, params.epochs, "epoch", title, |r: &EpochRecord| {
            format!("loss {:.4}", r.train_loss)
        });
        let (train, test) = (&splits.train, splits.test.as_ref());
        let mut trainer = Trainer::new(net, train, test, &params).map_err(|e| anyhow!("training: {e}"))?;
        let mut state = trainer.start(tape);
        let mut recorder = Recorder::new();
        let (out, checkpoint) =
            drive(&mut trainer, &mut state, params.epochs, &mut rng, &mut [&mut recorder, &mut progress], options)?;
        drop(progress);
        let out = crate::finished(out, "training")?;
        let outcome = TrainOutcome::new(recorder.records, state.grad_evals, out.stop);
        Ok(Trained { tape: state.tape, outcome, epochs: params.epochs, scope, gradient_check, checkpoint })
    }
}

/// A network's cost: 6 × parameters per sample and epoch to train (forward and backward), 2 to
/// evaluate both splits after every epoch; memory for the parameters with their gradients and
/// moments per batch part, the activations of a batch and of a whole split (`widths`: the sum of
/// the nodes' widths), and the curves.
pub(super) fn network_cost(training: &Training, parameters: f64, widths: f64, splits: &Splits) -> Cost {
    let p = &training.params;
    let train = splits.train.n_samples() as f64;
    let all = train + splits.test.as_ref().map_or(0.0, |t| t.n_samples() as f64);
    let epochs = p.epochs as f64;
    Cost::default()
        .memory("the parameters, gradients and moments", 12.0 * F64 * parameters)
        .memory("a batch's activations", 4.0 * F64 * widths * p.batch_size as f64)
        .memory("a split's activations", 2.0 * F64 * widths * all)
        .memory("the data", F64 * all * splits.train.n_features() as f64 * 2.0)
        .work("training", epochs * 6.0 * parameters * train)
        .work("evaluation", epochs * 2.0 * parameters * all)
        // Every batch updates every parameter (and its moments): batch_size = 1 does it per sample.
        .work("the updates after every batch", epochs * (train / p.batch_size as f64).ceil() * 8.0 * parameters)
        .steps("the epochs", epochs)
}

/// The per-epoch numbers of every network, and the split's sizes.
pub(super) fn curves(records: &[EpochRecord], splits: &Splits) -> Value {
    let last = records.last().expect("internal: epochs >= 1");
    let curve = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Option<Vec<f64>> { records.iter().map(f).collect() };
    json!({
        "epochs": records.len(),
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
        "samples": { "train": splits.train.n_samples(), "test": splits.test.as_ref().map_or(0, |t| t.n_samples()) },
        "test_rows": splits.test_rows,
    })
}

/// Series with at least one point.
fn named(series: Vec<(&str, Vec<(f64, f64)>)>) -> Vec<Series> {
    series.into_iter().filter(|(_, p)| !p.is_empty()).map(|(n, points)| Series::line(n, points)).collect()
}

/// The loss curves, the constraint violation (when constrained) and the accuracy (for classes).
pub(super) fn charts(records: &[EpochRecord], title: &str, loss_name: &str) -> Vec<(&'static str, LineChart)> {
    let last = records.last().expect("internal: epochs >= 1");
    let epoch_points = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        records.iter().filter_map(|r| f(r).map(|v| (r.epoch as f64, v))).collect()
    };
    let mut charts = vec![(
        "loss",
        LineChart {
            title: format!("{title}: {loss_name} loss"),
            x_label: "epoch".into(),
            y_label: "mean loss".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
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
                y_range: None,
                equal_aspect: false,
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
                y_range: Some((0.0, 1.0)),
                equal_aspect: false,
                series: named(vec![
                    ("train", epoch_points(&|r| r.train_accuracy)),
                    ("test", epoch_points(&|r| r.test_accuracy)),
                ]),
            },
        ));
    }
    charts
}

/// "97.50%", or "-" without accuracy.
pub(super) fn percent(a: Option<f64>) -> String {
    a.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a))
}

/// Replaces initial parameter values by those of the safetensors `file`, checking names and
/// shapes.
///
/// # Errors
/// A missing or malformed file, an unknown name or a shape that differs from the declared one.
fn init_from<T: Float>(net: &Network<T>, tape: &mut VectorTape<T>, shapes: &[Vec<usize>], file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|e| anyhow!("[train] init_from: cannot read {}: {e}", file.display()))?;
    let tensors = cg_nn::artifact::load(&bytes).map_err(|e| anyhow!("[train] init_from: {}: {e}", file.display()))?;
    cg_nn::artifact::apply(net, tape, shapes, &tensors).map_err(|e| anyhow!("[train] {e}"))
}

/// `gradient_check` for metrics.json: reverse mode against central differences on 8 samples.
///
/// # Errors
/// Data that does not fit, or a non-finite value.
fn gradient_check<T: Float>(net: &Network<T>, tape: &VectorTape<T>, splits: &Splits) -> Result<Value> {
    let c = cg_nn::gradient_check(net, tape, &splits.train, 8).map_err(|e| anyhow!("gradient check: {e}"))?;
    Ok(json!({ "max_relative_error": c.max_relative_error, "entries": c.entries, "samples": c.samples }))
}

/// `model.safetensors`: the trained parameters, named and shaped as declared, row-major.
///
/// # Errors
/// A parameter without a value.
pub(super) fn safetensors_file<T: Float>(
    net: &Network<T>,
    tape: &VectorTape<T>,
    shapes: &[Vec<usize>],
    kind: &str,
    splits: &Splits,
) -> Result<(String, Vec<u8>)> {
    let precision = if std::mem::size_of::<T>() == 8 { "f64" } else { "f32" };
    let mut meta = vec![
        ("kind", kind.to_string()),
        ("precision", precision.to_string()),
        ("layout", "row-major".to_string()),
        ("inputs", serde_json::to_string(&splits.transform)?),
    ];
    // Class labels are what accuracy is measured on: a target from the label column holding 0, 1, ...
    let labels = net.targets.iter().any(|t| t.source == TargetSource::Labels);
    if let Some(k) = splits.train.class_count().ok().filter(|_| labels) {
        meta.push(("classes", k.to_string()));
    }
    let bytes = cg_nn::artifact::save(net, tape, shapes, &meta).map_err(|e| anyhow!("model.safetensors: {e}"))?;
    Ok(("model.safetensors".to_string(), bytes))
}

/// A saved network's predictions for the rows of `data`: the predicted class (when it was
/// trained on class labels), then the prediction node's values (`output`, or `output_<i>` for
/// several), in the target's units when training standardised it.
///
/// # Errors
/// A parameter missing from the file or of another shape, a feature column missing from the
/// data, or a non-finite value.
pub(super) fn predictions<T: Float>(
    net: &Network<T>,
    shapes: &[Vec<usize>],
    model: &SavedModel,
    data: &Table,
) -> Result<Predictions> {
    let width = net.inputs.iter().map(|(_, r)| r.end).max().unwrap_or(0);
    let inputs = model.inputs_for(width)?;
    let x = inputs.first(width).features_of(data)?;
    for name in &net.param_names {
        model.tensor(name)?;
    }
    let mut tape = net.dag.tape();
    cg_nn::artifact::apply(net, &mut tape, shapes, &model.tensors)
        .map_err(|e| anyhow!("{}: {e}", model.path.display()))?;
    let xs = net.inputs.iter().map(|(_, r)| x.rows(r.start, r.len()).map(T::cast)).collect();
    let out = net.predict(&mut tape, xs).map_err(|e| anyhow!("predicting: {e}"))?;
    let classes = model.metadata.contains_key("classes").then(|| net.predict_classes(&out));
    let probabilities = classes.as_ref().and_then(|_| probabilities(net, &out));
    let single_label = out.nrows() == 1 && net.targets.iter().any(|t| t.source == TargetSource::Labels);
    let mut columns: Vec<String> = classes.iter().map(|_| "class".to_string()).collect();
    if let Some(p) = &probabilities {
        columns.extend((0..p.nrows()).map(|k| format!("p_{k}")));
    }
    columns.extend((0..out.nrows()).map(|i| if out.nrows() == 1 { "output".into() } else { format!("output_{i}") }));
    let rows = (0..out.ncols())
        .map(|s| {
            let value = |v: &T| {
                let v = v.as_f64();
                if classes.is_none() && single_label {
                    inputs.target_value(v)
                } else {
                    v
                }
            };
            let p = probabilities.iter().flat_map(|p| p.column(s).iter().copied().collect::<Vec<_>>());
            classes.iter().map(|c| c[s]).chain(p).chain(out.column(s).iter().map(value)).collect()
        })
        .collect();
    Ok(Predictions { columns, rows })
}

/// Class probabilities from a classifier's outputs, when its loss says what the outputs are:
/// logits under softmax cross-entropy, a logit of class 1 under the logistic loss, a probability
/// vector under the negative log. Other losses (margins, squares) give scores, not probabilities.
fn probabilities<T: Float>(net: &Network<T>, out: &cg_autodiff::vector::Mat<T>) -> Option<nalgebra::DMatrix<f64>> {
    use cg_autodiff::vector::Loss;
    let loss = net.terms.as_ref()?.iter().find_map(|t| match t {
        cg_nn::LossTerm::Samples { loss, prediction, .. } if *prediction == net.predict => Some(*loss),
        _ => None,
    })?;
    let o = out.map(|v| v.as_f64());
    match (loss, o.nrows()) {
        (Loss::SoftmaxCrossEntropy, k) if k > 1 => Some(nalgebra::DMatrix::from_fn(k, o.ncols(), |r, c| {
            let m = o.column(c).max();
            let z: f64 = o.column(c).iter().map(|v| (v - m).exp()).sum();
            (o[(r, c)] - m).exp() / z
        })),
        (Loss::Logistic, 1) => Some(nalgebra::DMatrix::from_fn(2, o.ncols(), |r, c| {
            let p1 = 1.0 / (1.0 + (-o[(0, c)]).exp());
            if r == 1 {
                p1
            } else {
                1.0 - p1
            }
        })),
        (Loss::NegLog, k) if k > 1 => Some(o),
        _ => None,
    }
}
