//! Early stopping: watch a metric of every epoch, keep the parameters of the best epoch, and
//! stop when it has not improved for `patience` epochs. The kept parameters are what the run
//! saves, so the saved model is the best one seen, not the last.

use cg_autodiff::vector::{Mat, VectorTape};
use cg_core::{Flow, NodeId, Observer, Snapshot, SnapshotError, StepInfo};
use serde::Deserialize;

use crate::train::{EpochRecord, TrainState};
use crate::Float;

/// The metric early stopping watches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopMetric {
    /// The validation split's mean loss (lower is better).
    #[default]
    ValidationLoss,
    /// The validation split's accuracy (higher is better).
    ValidationAccuracy,
    /// The training split's mean loss (lower is better).
    TrainLoss,
}

impl StopMetric {
    /// The metric's name as written.
    pub fn name(self) -> &'static str {
        match self {
            StopMetric::ValidationLoss => "validation_loss",
            StopMetric::ValidationAccuracy => "validation_accuracy",
            StopMetric::TrainLoss => "train_loss",
        }
    }

    /// The epoch's value of the metric.
    pub fn of(self, r: &EpochRecord) -> Option<f64> {
        match self {
            StopMetric::ValidationLoss => r.validation_loss,
            StopMetric::ValidationAccuracy => r.validation_accuracy,
            StopMetric::TrainLoss => Some(r.train_loss),
        }
    }

    /// Whether the metric needs a validation split.
    pub fn needs_validation(self) -> bool {
        self != StopMetric::TrainLoss
    }

    fn higher_is_better(self) -> bool {
        self == StopMetric::ValidationAccuracy
    }
}

/// `[train] early_stopping = { metric = "validation_loss", patience = 10 }`.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// What to watch: validation_loss (the default), validation_accuracy or train_loss.
    #[serde(default)]
    pub metric: StopMetric,
    /// Epochs without improvement before stopping (>= 1).
    pub patience: usize,
    /// The least change that counts as an improvement (default 0).
    #[serde(default)]
    pub min_delta: f64,
}

/// The best epoch so far and its parameters.
pub struct EarlyStopping<T: Float> {
    config: EarlyStoppingConfig,
    params: Vec<NodeId>,
    /// (epoch, value) of the best epoch.
    best: Option<(usize, f64)>,
    best_params: Vec<Mat<T>>,
}

impl<T: Float> EarlyStopping<T> {
    /// Watches `config.metric` for a network with these parameter nodes.
    pub fn new(config: EarlyStoppingConfig, params: &[NodeId]) -> Self {
        EarlyStopping { config, params: params.to_vec(), best: None, best_params: vec![] }
    }

    /// The best epoch (1-based) and its value, once an epoch has run.
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best
    }

    /// Puts the best epoch's parameters into `tape`.
    pub fn restore_best(&self, tape: &mut VectorTape<T>) {
        for (&p, m) in self.params.iter().zip(&self.best_params) {
            tape.set(p, m.clone());
        }
    }

    fn improves(&self, value: f64) -> bool {
        match self.best {
            None => true,
            Some((_, best)) if self.config.metric.higher_is_better() => value > best + self.config.min_delta,
            Some((_, best)) => value < best - self.config.min_delta,
        }
    }
}

impl<T: Float> Observer<TrainState<T>, EpochRecord> for EarlyStopping<T> {
    fn observe(&mut self, step: &StepInfo<'_, TrainState<T>, EpochRecord>) -> Flow {
        let r = step.record;
        let Some(value) = self.config.metric.of(r) else { return Flow::Continue };
        if self.improves(value) {
            self.best = Some((r.epoch, value));
            let tape = &step.state.tape;
            self.best_params =
                self.params.iter().map(|&p| tape.get(p).expect("internal: initialised").clone()).collect();
            return Flow::Continue;
        }
        let (best_epoch, best) = self.best.expect("internal: set on the first epoch");
        if r.epoch - best_epoch >= self.config.patience {
            return Flow::Stop(format!(
                "early stopping: {} has not improved on {best} (epoch {best_epoch}) for {} epochs",
                self.config.metric.name(),
                self.config.patience
            ));
        }
        Flow::Continue
    }

    fn save(&self, into: &mut Snapshot) {
        into.put("early_stopping/best", &self.best);
        let shapes: Vec<(usize, usize)> = self.best_params.iter().map(Mat::shape).collect();
        into.put("early_stopping/shapes", &shapes);
        for (k, m) in self.best_params.iter().enumerate() {
            into.put_tensor(
                &format!("early_stopping/param/{k}"),
                vec![m.ncols(), m.nrows()],
                m.iter().map(|v| v.as_f64()),
            );
        }
    }

    fn restore(&mut self, from: &Snapshot) -> Result<(), SnapshotError> {
        self.best = from.get("early_stopping/best")?;
        self.best_params.clear();
        if self.best.is_none() {
            return Ok(());
        }
        let shapes: Vec<(usize, usize)> = from.get("early_stopping/shapes")?;
        if shapes.len() != self.params.len() {
            return Err(SnapshotError(format!("{} parameters kept, {} now", shapes.len(), self.params.len())));
        }
        for (k, &(rows, cols)) in shapes.iter().enumerate() {
            let values = from.tensor(&format!("early_stopping/param/{k}"), rows * cols)?;
            self.best_params.push(Mat::from_iterator(rows, cols, values.iter().map(|&v| T::cast(v))));
        }
        Ok(())
    }
}
