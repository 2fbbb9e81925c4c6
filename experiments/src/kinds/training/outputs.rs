//! What a trained network writes: its cost, curves and charts, `model.safetensors`, and its
//! predictions for new rows.

use anyhow::{anyhow, Result};
use cg_autodiff::vector::VectorTape;
use cg_data::Table;
use cg_nn::{EpochRecord, Float, Network, TargetSource};
use cg_plot::{Legend, LineChart, Series};
use serde_json::{json, Value};

use crate::kinds::F64;
use crate::predict::{Predictions, SavedModel};
use crate::Cost;

use super::*;

/// A network's cost: 6 × parameters per sample and epoch to train (forward and backward), 2 to
/// evaluate both splits after every epoch; memory for the parameters with their gradients and
/// moments per batch part, the activations of a batch and of a whole split (`widths`: the sum of
/// the nodes' widths), and the curves.
pub(crate) fn network_cost(training: &Training, parameters: f64, widths: f64, data: &NetData) -> Cost {
    let p = &training.params;
    let train = data.train_samples() as f64;
    let test = data.loaded().and_then(|s| s.test.as_ref()).map_or(0.0, |t| t.n_samples() as f64);
    let all = train + test;
    let epochs = p.epochs as f64;
    let cost = Cost::default()
        .memory("the parameters, gradients and moments", 12.0 * F64 * parameters)
        .memory("a batch's activations", 4.0 * F64 * widths * p.batch_size as f64);
    let cost = match data {
        NetData::Loaded(_) => cost
            .memory("a split's activations", 2.0 * F64 * widths * all)
            .memory("the data", F64 * all * data.feature_names().len() as f64 * 2.0),
        // Evaluated in blocks of 1024 samples; a chunk read, its numbers and a batch gathered.
        NetData::Streamed { rows, .. } => cost
            .memory("a block's activations", 2.0 * F64 * widths * 1024f64.min(all))
            .memory("a chunk of the streamed data", rows.chunk_bytes() as f64 * 2.0)
            .memory("the targets", F64 * train),
    };
    cost.work("training", epochs * 6.0 * parameters * train)
        .work("evaluation", epochs * 2.0 * parameters * all)
        // Every batch updates every parameter (and its moments): batch_size = 1 does it per sample.
        .work("the updates after every batch", epochs * (train / p.batch_size as f64).ceil() * 8.0 * parameters)
        .steps("the epochs", epochs)
}

/// The epoch whose parameters the run keeps: the best one under early stopping, else the last.
pub(crate) fn reported(records: &[EpochRecord], best: Option<(usize, f64)>) -> &EpochRecord {
    best.and_then(|(epoch, _)| records.get(epoch - 1)).unwrap_or_else(|| records.last().expect("internal: epochs >= 1"))
}

/// The per-epoch numbers of every network, and the split's sizes; the headline numbers are the
/// kept epoch's ([`reported`]).
pub(crate) fn curves(records: &[EpochRecord], data: &NetData, best: Option<(usize, f64)>) -> Value {
    let last = reported(records, best);
    let curve = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Option<Vec<f64>> { records.iter().map(f).collect() };
    let mut out = json!({
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
        "samples": {
            "train": data.train_samples(),
            "test": data.loaded().and_then(|s| s.test.as_ref()).map_or(0, |t| t.n_samples()),
        },
        "test_rows": data.loaded().map_or(&[][..], |s| &s.test_rows[..]),
    });
    if let Some(v) = data.loaded().and_then(|s| s.validation.as_ref()) {
        out["samples"]["validation"] = json!(v.n_samples());
        out["validation_loss"] = json!(last.validation_loss);
        out["validation_accuracy"] = json!(last.validation_accuracy);
        out["validation_loss_curve"] = json!(curve(&|r| r.validation_loss));
        out["validation_accuracy_curve"] = json!(curve(&|r| r.validation_accuracy));
    }
    if let Some((epoch, value)) = best {
        out["early_stopping"] = json!({ "best_epoch": epoch, "best_value": value, "epochs_run": records.len() });
    }
    out
}

/// Series with at least one point.
fn named(series: Vec<(&str, Vec<(f64, f64)>)>) -> Vec<Series> {
    series.into_iter().filter(|(_, p)| !p.is_empty()).map(|(n, points)| Series::line(n, points)).collect()
}

/// The loss curves, the constraint violation (when constrained) and the accuracy (for classes).
pub(crate) fn charts(records: &[EpochRecord], title: &str, loss_name: &str) -> Vec<(&'static str, LineChart)> {
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
            x_log: false,
            series: named(vec![
                ("train", epoch_points(&|r| Some(r.train_loss))),
                ("test", epoch_points(&|r| r.test_loss)),
                ("validation", epoch_points(&|r| r.validation_loss)),
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
                x_log: false,
            },
        ));
    }
    if records.iter().any(|r| r.learning_rate != records[0].learning_rate) {
        charts.push((
            "learning_rate",
            LineChart {
                title: format!("{title}: learning rate of each epoch (the schedule)"),
                x_label: "epoch".into(),
                y_label: "learning rate".into(),
                series: named(vec![("learning rate", epoch_points(&|r| Some(r.learning_rate)))]),
                legend: Legend::UpperRight,
                y_range: None,
                equal_aspect: false,
                x_log: false,
            },
        ));
    }
    if last.train_accuracy.is_some() {
        let series = named(vec![
            ("train", epoch_points(&|r| r.train_accuracy)),
            ("test", epoch_points(&|r| r.test_accuracy)),
            ("validation", epoch_points(&|r| r.validation_accuracy)),
        ]);
        // The axis ends at 1 and starts just below the lowest accuracy.
        let values = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
        let y_range = Some(cg_plot::zoomed_bounds(values.collect::<Vec<_>>(), (0.0, 1.0)));
        charts.push((
            "accuracy",
            LineChart {
                title: format!("{title}: accuracy"),
                x_label: "epoch".into(),
                y_label: "accuracy".into(),
                legend: Legend::LowerRight,
                y_range,
                equal_aspect: false,
                x_log: false,
                series,
            },
        ));
    }
    charts
}

/// "97.50%", or "-" without accuracy.
pub(crate) fn percent(a: Option<f64>) -> String {
    a.map_or("-".to_string(), |a| format!("{:.2}%", 100.0 * a))
}

/// `model.safetensors`: the trained parameters, named and shaped as declared, row-major.
///
/// # Errors
/// A parameter without a value.
pub(crate) fn safetensors_file<T: Float>(
    net: &Network<T>,
    tape: &VectorTape<T>,
    shapes: &[Vec<usize>],
    kind: &str,
    data: &NetData,
) -> Result<(String, Vec<u8>)> {
    let precision = if std::mem::size_of::<T>() == 8 { "f64" } else { "f32" };
    let mut meta = vec![
        ("kind", kind.to_string()),
        ("precision", precision.to_string()),
        ("layout", "row-major".to_string()),
        ("inputs", serde_json::to_string(data.transform())?),
    ];
    // Class labels are what accuracy is measured on: a target from the label column holding 0, 1, ...
    let labels = net.targets.iter().any(|t| t.source == TargetSource::Labels);
    if let Some(k) = cg_data::class_count(data.train_targets()).ok().filter(|_| labels) {
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
pub(crate) fn predictions<T: Float>(
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
    Ok(Predictions { columns, rows, class_names: inputs.classes.clone() })
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
