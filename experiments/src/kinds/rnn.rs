//! `kind = "rnn"`: a recurrent network (exercises 9-12) trained by backpropagation through time on
//! a task that needs memory: from the values of a sine wave seen so far, predict the value
//! `ahead` steps later. A single value does not tell whether the wave is rising or falling, so the
//! network must carry the recent past in its state.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_autodiff::vector::{Loss, Mat, VectorTape};
use cg_core::NodeId;
use cg_nn::Rnn;
use cg_optim::{ConstraintConfig, Optimizer, OptimizerConfig, OptimizerParams, ParamConstraint};
use cg_plot::{Legend, LineChart, Series};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig};
use crate::{epoch_scope, json_file, push_figure, Outcome, RunOptions};

/// The whole file of an `rnn` config.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RnnFile {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    seed: u64,
    task: SineTask,
    hidden: usize,
    optimizer: OptimizerConfig,
    epochs: usize,
    batch_size: usize,
    check_epochs: Option<usize>,
    /// Projections of W, V and U (by name) applied after initialisation and every update.
    #[serde(default)]
    constraints: Vec<ConstraintConfig>,
}

/// `[task]`: sequences x_p = sin(ω p + φ), targets y_p = sin(ω (p + ahead) + φ), φ uniform.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct SineTask {
    steps: usize,
    ahead: usize,
    frequency: f64,
    train_sequences: usize,
    test_sequences: usize,
}

/// A validated rnn experiment.
pub struct RnnExperiment {
    seed: u64,
    task: SineTask,
    hidden: usize,
    optimizer: OptimizerParams,
    epochs: usize,
    batch_size: usize,
    check_epochs: Option<usize>,
    constraints: Vec<ParamConstraint>,
}

impl KindConfig for RnnFile {
    const NAME: &'static str = "rnn";
    const SUMMARY: &'static str =
        "a recurrent network trained by backpropagation through time on a sine-prediction task";
    type Experiment = RnnExperiment;

    /// Checks the settings.
    ///
    /// # Errors
    /// A zero size, a non-positive frequency, or a bad optimiser setting.
    fn validate(self, _base: &Path) -> Result<RnnExperiment> {
        let t = &self.task;
        if t.steps == 0 || t.train_sequences == 0 || t.test_sequences == 0 || self.hidden == 0 {
            bail!("[task] steps, train_sequences, test_sequences and hidden must be >= 1");
        }
        if !(t.frequency > 0.0 && t.frequency.is_finite()) {
            bail!("[task] frequency = {} is out of range (> 0)", t.frequency);
        }
        if self.epochs == 0 || self.batch_size == 0 {
            bail!("epochs and batch_size must be >= 1");
        }
        if let Some(c) = self.check_epochs {
            if c == 0 || c > self.epochs {
                bail!("check_epochs = {c} is out of range (1..={})", self.epochs);
            }
        }
        let optimizer = self.optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        let m = self.hidden;
        let sizes = [("W".to_string(), m * m), ("V".to_string(), m), ("U".to_string(), m)];
        let constraints = self
            .constraints
            .iter()
            .enumerate()
            .map(|(k, c)| c.validate(&sizes).map_err(|e| anyhow!("[[constraints]] {}: {e}", k + 1)))
            .collect::<Result<Vec<_>>>()?;
        Ok(RnnExperiment {
            seed: self.seed,
            task: self.task,
            hidden: self.hidden,
            optimizer,
            epochs: self.epochs,
            batch_size: self.batch_size,
            check_epochs: self.check_epochs,
            constraints,
        })
    }
}

/// The values of a constraint's parameters (of W, V, U in that order) joined, column-major.
fn gather(tape: &VectorTape, params: &[NodeId; 3], c: &ParamConstraint) -> Vec<f64> {
    c.params.iter().flat_map(|&k| tape.get(params[k]).expect("internal: initialised").iter().copied()).collect()
}

/// Projects every constrained group of W, V, U onto its set.
fn project(tape: &mut VectorTape, params: &[NodeId; 3], constraints: &[ParamConstraint]) {
    for c in constraints {
        let mut flat = gather(tape, params, c);
        c.constraint.project(&mut flat);
        let mut at = 0;
        for &k in &c.params {
            for v in tape.get_mut(params[k]).expect("internal: initialised").iter_mut() {
                *v = flat[at];
                at += 1;
            }
        }
    }
}

/// Inputs and targets per step: xs[p] and ys[p] are 1 × n_sequences.
fn sequences(task: &SineTask, n: usize, rng: &mut ChaCha8Rng) -> (Vec<Mat>, Vec<Mat>) {
    let phases: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..std::f64::consts::TAU)).collect();
    let wave =
        |p: usize, shift: usize| Mat::from_fn(1, n, |_, j| (task.frequency * (p + shift) as f64 + phases[j]).sin());
    ((1..=task.steps).map(|p| wave(p, 0)).collect(), (1..=task.steps).map(|p| wave(p, task.ahead)).collect())
}

impl Experiment for RnnExperiment {
    /// Trains and writes metrics, the loss curves and predictions on a test sequence.
    ///
    /// # Errors
    /// A non-finite number during training, naming the epoch and node.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.epochs, self.check_epochs);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let (train_x, train_y) = sequences(&self.task, self.task.train_sequences, &mut rng);
        let (test_x, test_y) = sequences(&self.task, self.task.test_sequences, &mut rng);
        let rnn = Rnn::new(self.task.steps, 1, self.hidden, 1);
        let mut tape = rnn.init(&mut rng);
        let params = [rnn.w, rnn.v, rnn.u];
        project(&mut tape, &params, &self.constraints);
        let sizes: Vec<usize> = [rnn.w, rnn.v, rnn.u].iter().map(|&p| tape.get(p).map_or(0, |m| m.len())).collect();
        let mut opt = Optimizer::new(self.optimizer, &sizes);
        let steps = self.task.steps as f64;
        // Loss per step and sequence: Σ_p mean_batch (o_p - y_p)² / t.
        let evaluate = |tape: &mut cg_autodiff::vector::VectorTape, xs: &[Mat], ys: &[Mat]| -> Result<f64> {
            Ok(rnn.loss_and_grads(tape, xs, ys, Loss::SquaredError).map_err(|e| anyhow!("{e}"))?.0 / steps)
        };
        let mut order: Vec<usize> = (0..self.task.train_sequences).collect();
        let (mut train_curve, mut test_curve) = (vec![], vec![]);
        for epoch in 0..epochs {
            order.shuffle(&mut rng);
            for (b, batch) in order.chunks(self.batch_size).enumerate() {
                let xs: Vec<Mat> = train_x.iter().map(|x| x.select_columns(batch)).collect();
                let ys: Vec<Mat> = train_y.iter().map(|y| y.select_columns(batch)).collect();
                let (_, grads) = rnn
                    .loss_and_grads(&mut tape, &xs, &ys, Loss::SquaredError)
                    .map_err(|e| anyhow!("training: epoch {}, batch {}: {e}", epoch + 1, b + 1))?;
                let lr = opt.begin_step(epoch);
                for (k, (&p, g)) in [rnn.w, rnn.v, rnn.u].iter().zip(&grads).enumerate() {
                    opt.update(k, tape.get_mut(p).expect("internal: initialised").as_mut_slice(), g.as_slice(), lr);
                }
                project(&mut tape, &params, &self.constraints);
            }
            train_curve.push(evaluate(&mut tape, &train_x, &train_y)?);
            test_curve.push(evaluate(&mut tape, &test_x, &test_y)?);
        }
        let violation =
            self.constraints.iter().map(|c| c.constraint.violation(&gather(&tape, &params, c))).fold(0.0, f64::max);
        // Predictions on the first test sequence (the last evaluation ran on the test set).
        let predicted: Vec<f64> = rnn.predictions(&tape).iter().map(|o| o[(0, 0)]).collect();
        let target: Vec<f64> = test_y.iter().map(|y| y[(0, 0)]).collect();
        let input: Vec<f64> = test_x.iter().map(|x| x[(0, 0)]).collect();
        let metrics = json!({
            "epochs": epochs,
            "final_loss": train_curve.last(),
            "test_loss": test_curve.last(),
            "loss_curve": train_curve,
            "test_loss_curve": test_curve,
            "hidden": self.hidden,
            "steps": self.task.steps,
            "ahead": self.task.ahead,
            "example": { "input": input, "target": target, "predicted": predicted },
        });
        let mut metrics = metrics;
        if !self.constraints.is_empty() {
            metrics["violation"] = json!(violation);
            metrics["W_max_abs"] = json!(tape.get(rnn.w).map_or(0.0, |w| w.amax()));
        }
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let points =
            |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(k, &y)| ((k + 1) as f64, y)).collect() };
        let loss = LineChart {
            title: format!("{title}: mean squared error per step"),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            series: vec![Series::line("train", points(&train_curve)), Series::line("test", points(&test_curve))],
            legend: Legend::UpperRight,
        };
        push_figure(&mut files, "loss", loss.render()?);
        let pred = LineChart {
            title: format!("{title}: a test sequence, {} steps ahead", self.task.ahead),
            x_label: "step p".into(),
            y_label: "value".into(),
            series: vec![
                Series { name: "input x_p".into(), points: points(&input), markers: false },
                Series { name: "target".into(), points: points(&target), markers: true },
                Series { name: "prediction o_p".into(), points: points(&predicted), markers: false },
            ],
            legend: Legend::LowerLeft,
        };
        push_figure(&mut files, "predictions", pred.render()?);
        let summary = format!(
            "{title}: RNN with {} hidden units over {} steps, {epochs} epochs\n  loss per step: train {:.5}, test {:.5}",
            self.hidden,
            self.task.steps,
            train_curve.last().copied().unwrap_or(f64::NAN),
            test_curve.last().copied().unwrap_or(f64::NAN),
        );
        Ok(Outcome { files, summary, check: scope })
    }
}
