//! `kind = "rnn"`: a recurrent network (exercises 9-12) trained by backpropagation through time on
//! a task that needs memory: from the values of a sine wave seen so far, predict the value
//! `ahead` steps later. A single value does not tell whether the wave is rising or falling, so the
//! network must carry the recent past in its state.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_core::Recorder;
use cg_core::Validate;
use cg_nn::{Rnn, RnnRecord, RnnTrainer, SineTask};
use cg_optim::{ConstraintConfig, OptimizerConfig, OptimizerParams, ParamConstraint};
use cg_plot::{Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::resume::drive;
use crate::{epoch_scope, finished, json_file, push_figure, Cost, Outcome, Progress, RunOptions};

/// The whole file of an `rnn` config.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RnnFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The sine-prediction task.
    task: SineTask,
    /// Hidden units of the recurrent layer.
    hidden: usize,
    optimizer: OptimizerConfig,
    /// Passes over the training sequences.
    epochs: usize,
    /// Sequences per gradient step.
    batch_size: usize,
    /// Epochs the regression test runs instead of `epochs`.
    check_epochs: Option<usize>,
    /// Projections of W, V and U (by name) applied after initialisation and every update.
    #[serde(default)]
    constraints: Vec<ConstraintConfig>,
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
    const RESUMABLE: bool = true;
    const BUDGET: Option<&'static str> = Some("epochs");
    type Experiment = RnnExperiment;

    /// Checks the settings.
    ///
    /// # Errors
    /// A zero size, a non-positive frequency, or a bad optimiser setting.
    fn validate(self, _base: &Path) -> Result<RnnExperiment> {
        self.task.validate().map_err(|e| anyhow!("[task] {e}"))?;
        for (name, n) in [("hidden", self.hidden), ("epochs", self.epochs), ("batch_size", self.batch_size)] {
            cg_core::OutOfRange::at_least(name, n, 1, ">= 1")?;
        }
        if let Some(c) = self.check_epochs {
            if c == 0 || c > self.epochs {
                bail!("check_epochs = {c} is out of range (1..={})", self.epochs);
            }
        }
        let optimizer = self.optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        let m = self.hidden;
        let Some(mm) = m.checked_mul(m) else { bail!("hidden = {m}: W would hold more than {} numbers", usize::MAX) };
        let sizes = [("W".to_string(), mm), ("V".to_string(), m), ("U".to_string(), m)];
        let constraints = cg_optim::resolve_all(&self.constraints, &sizes)?;
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

impl Experiment for RnnExperiment {
    /// Backpropagation through time: 6 × parameters × steps per sequence and epoch.
    fn cost(&self) -> Cost {
        let h = self.hidden as f64;
        let params = h * h + 2.0 * h;
        let sequences = (self.task.train_sequences + self.task.test_sequences) as f64;
        let steps = self.task.steps as f64;
        Cost::default()
            .memory("the unrolled graph's activations", 4.0 * F64 * steps * sequences * h)
            .work("training", self.epochs as f64 * 6.0 * params * steps * sequences)
            .steps("the epochs", self.epochs as f64)
    }

    /// Trains and writes metrics, the loss curves and predictions on a test sequence.
    ///
    /// # Errors
    /// A non-finite number during training, naming the epoch and node.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.epochs, self.check_epochs);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let train = self.task.sequences(self.task.train_sequences, &mut rng);
        let test = self.task.sequences(self.task.test_sequences, &mut rng);
        let rnn = Rnn::new(self.task.steps, 1, self.hidden, 1);
        let tape = rnn.init(&mut rng);
        let mut trainer = RnnTrainer {
            rnn: &rnn,
            train,
            test,
            optimizer: self.optimizer,
            batch_size: self.batch_size,
            constraints: self.constraints.clone(),
        };
        let mut state = trainer.start(tape);
        let mut recorder = Recorder::new();
        let mut progress =
            Progress::new(options, epochs, "epoch", title, |r: &RnnRecord| format!("loss {:.5}", r.train_loss));
        let (out, checkpoint) =
            drive(&mut trainer, &mut state, epochs, &mut rng, &mut [&mut recorder, &mut progress], options)?;
        drop(progress);
        finished(out, "training")?;
        let train_curve: Vec<f64> = recorder.records.iter().map(|r| r.train_loss).collect();
        let test_curve: Vec<f64> = recorder.records.iter().map(|r| r.test_loss).collect();
        let (tape, (test_x, test_y)) = (&state.tape, &trainer.test);
        let violation = cg_nn::violation(&trainer.params(), tape, &self.constraints);
        // Predictions on the first test sequence (the last evaluation ran on the test set).
        let predicted: Vec<f64> = rnn.predictions(tape).iter().map(|o| o[(0, 0)]).collect();
        let target: Vec<f64> = test_y.iter().map(|y| y[(0, 0)]).collect();
        let input: Vec<f64> = test_x.iter().map(|x| x[(0, 0)]).collect();
        let metrics = json!({
            "epochs": recorder.records.len(),
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
        let tensor = |name: &str, id| {
            let m = tape.get(id).expect("internal: trained");
            cg_nn::artifact::row_major(name, vec![m.nrows(), m.ncols()], m)
        };
        let tensors = [tensor("W", rnn.w), tensor("V", rnn.v), tensor("U", rnn.u)];
        files.push(crate::tensors_file(&tensors, &[("kind", "rnn".into()), ("layout", "row-major".into())])?);
        let points =
            |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(k, &y)| ((k + 1) as f64, y)).collect() };
        let loss = LineChart {
            title: format!("{title}: mean squared error per step"),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            series: vec![Series::line("train", points(&train_curve)), Series::line("test", points(&test_curve))],
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "loss", loss.render())?;
        let pred = LineChart {
            title: format!("{title}: a test sequence, {} steps ahead", self.task.ahead),
            x_label: "step p".into(),
            y_label: "value".into(),
            series: vec![
                Series { name: "input x_p".into(), points: points(&input), markers: false, dashed: false },
                Series { name: "target".into(), points: points(&target), markers: true, dashed: false },
                Series { name: "prediction o_p".into(), points: points(&predicted), markers: false, dashed: false },
            ],
            legend: Legend::LowerLeft,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "predictions", pred.render())?;
        let summary = format!(
            "{title}: RNN with {} hidden units over {} steps, {} epochs\n  loss per step: train {:.5}, test {:.5}",
            self.hidden,
            self.task.steps,
            train_curve.len(),
            train_curve.last().copied().unwrap_or(f64::NAN),
            test_curve.last().copied().unwrap_or(f64::NAN),
        );
        Ok(Outcome { files, summary, check: scope, checkpoint })
    }
}
