//! What the `mlp` and `model` kinds share: their training settings and one training run of a
//! network through the one trainer (initialisation, `init_from`, gradient check, progress bar),
//! the curves every network reports, and their figures.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use cg_autodiff::vector::VectorTape;
use cg_core::RowChunks;
use cg_core::{Recorder, Validate};
use cg_data::stream::StreamedRows;
use cg_data::{DataConfig, InputTransform, Splits};
use cg_nn::{
    EarlyStopping, EarlyStoppingConfig, EpochRecord, Float, Network, StreamedSamples, TrainConfig, TrainOutcome,
    TrainParams, Trainer,
};
use cg_optim::{ConstraintConfig, OptimizerConfig};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::resume::drive;
use crate::{epoch_scope, CheckScope, Progress, RunOptions};

mod outputs;
pub(crate) use outputs::*;

/// A network's data: the loaded splits, or (`[data] stream = true`) a training set read from an
/// `.npy` file chunk by chunk, its targets (`labels`) in memory.
#[allow(clippy::large_enum_variant)] // one per experiment
pub(crate) enum NetData {
    Loaded(Splits),
    Streamed { rows: StreamedRows, targets: Vec<f64>, transform: InputTransform },
}

impl NetData {
    /// Loads `[data]`, or opens it for streaming.
    ///
    /// # Errors
    /// A data problem, or a setting streaming cannot honour.
    pub(crate) fn open(data: &DataConfig, base: &Path, seed: u64) -> Result<NetData> {
        if !data.stream {
            return Ok(NetData::Loaded(data.load(base, seed)?));
        }
        let (rows, transform) = data.open_stream(base)?;
        let targets = data.stream_targets(base, rows.rows())?;
        Ok(NetData::Streamed { rows, targets, transform })
    }

    /// The loaded splits (None when streamed).
    pub(crate) fn loaded(&self) -> Option<&Splits> {
        match self {
            NetData::Loaded(splits) => Some(splits),
            NetData::Streamed { .. } => None,
        }
    }

    pub(crate) fn train_samples(&self) -> usize {
        match self {
            NetData::Loaded(splits) => splits.train.n_samples(),
            NetData::Streamed { targets, .. } => targets.len(),
        }
    }

    pub(crate) fn train_targets(&self) -> &[f64] {
        match self {
            NetData::Loaded(splits) => &splits.train.targets,
            NetData::Streamed { targets, .. } => targets,
        }
    }

    /// How the columns became features (saved with the model for `predict`).
    pub(crate) fn transform(&self) -> &InputTransform {
        match self {
            NetData::Loaded(splits) => &splits.transform,
            NetData::Streamed { transform, .. } => transform,
        }
    }

    pub(crate) fn feature_names(&self) -> &[String] {
        &self.transform().features
    }
}

/// Streamed training samples as the trainer reads them.
fn streamed<'a>(rows: &'a StreamedRows, targets: &'a [f64], transform: &InputTransform) -> StreamedSamples<'a> {
    StreamedSamples {
        features: Box::new(rows),
        targets: targets.into(),
        feature_names: transform.features.clone(),
        target_name: transform.target.clone(),
    }
}

/// The validated training settings of an `mlp` or `model` experiment: the seed, the schedule
/// and constraints, and the requests made in `[train]` (`check_epochs`, `gradient_check`,
/// `init_from`, resolved against the config's folder).
pub(super) struct Training {
    pub seed: u64,
    pub params: TrainParams,
    check_epochs: Option<usize>,
    gradient_check: bool,
    init_from: Option<PathBuf>,
    early_stopping: Option<EarlyStoppingConfig>,
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
    /// With early stopping: the best epoch (1-based; its parameters are in `tape`) and its value.
    pub best: Option<(usize, f64)>,
}

impl Training {
    /// Checks `[optimizer]` and `[train]`; `init_from` is relative to `base`.
    ///
    /// # Errors
    /// The first setting out of range, naming its table.
    pub(super) fn new(seed: u64, train: TrainConfig, optimizer: &OptimizerConfig, base: &Path) -> Result<Training> {
        let optimizer = optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        if let Some(e) = &train.early_stopping {
            if e.patience == 0 {
                anyhow::bail!("[train] early_stopping: patience must be >= 1");
            }
            if !(e.min_delta >= 0.0 && e.min_delta.is_finite()) {
                anyhow::bail!("[train] early_stopping: min_delta = {} must be a finite number >= 0", e.min_delta);
            }
        }
        Ok(Training {
            seed,
            params: train.validate(optimizer)?,
            check_epochs: train.check_epochs,
            gradient_check: train.gradient_check,
            init_from: train.init_from.map(|p| base.join(p)),
            early_stopping: train.early_stopping,
        })
    }

    /// The summary's line on early stopping ("" without it): the epoch kept of those run.
    pub(super) fn early_stopping_line(&self, best: Option<(usize, f64)>, epochs_run: usize) -> String {
        match (best, self.early_stopping) {
            (Some((epoch, value)), Some(e)) => {
                format!("\n  early stopping: kept epoch {epoch} of {epochs_run} (best {} {value:.6})", e.metric.name())
            }
            _ => String::new(),
        }
    }

    /// Checks that a validation metric has its split.
    ///
    /// # Errors
    /// Early stopping on a validation metric without `[data] validation_fraction`.
    pub(super) fn check_data(&self, data: &NetData) -> Result<()> {
        if let Some(e) = &self.early_stopping {
            if e.metric.needs_validation() && data.loaded().is_none_or(|s| s.validation.is_none()) {
                anyhow::bail!(
                    "[train] early_stopping: metric {} needs a validation split: set [data] validation_fraction",
                    e.metric.name()
                );
            }
        }
        Ok(())
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
        data: &NetData,
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
        let gradient_check = if self.gradient_check { Some(gradient_check(net, &tape, data)?) } else { None };
        let mut progress = Progress::new(options, params.epochs, "epoch", title, |r: &EpochRecord| {
            format!("loss {:.4}", r.train_loss)
        });
        let training = |e: cg_nn::Error| anyhow!("training: {e}");
        let mut trainer = match data {
            NetData::Streamed { rows, targets, transform } => {
                Trainer::streamed(net, streamed(rows, targets, transform), &params).map_err(training)?
            }
            NetData::Loaded(splits) => {
                let trainer = Trainer::new(net, &splits.train, splits.test.as_ref(), &params).map_err(training)?;
                match &splits.validation {
                    Some(v) => trainer.with_validation(v).map_err(training)?,
                    None => trainer,
                }
            }
        };
        let mut state = trainer.start(tape);
        let mut recorder = Recorder::new();
        let mut early = self.early_stopping.map(|c| EarlyStopping::new(c, &net.params));
        let (out, checkpoint) = match early.as_mut() {
            Some(early) => drive(
                &mut trainer,
                &mut state,
                params.epochs,
                &mut rng,
                &mut [&mut recorder, early, &mut progress],
                options,
            )?,
            None => {
                drive(&mut trainer, &mut state, params.epochs, &mut rng, &mut [&mut recorder, &mut progress], options)?
            }
        };
        drop(progress);
        let out = crate::finished(out, "training")?;
        let outcome = TrainOutcome::new(recorder.records, state.grad_evals, out.stop);
        let mut tape = state.tape;
        let best = early.as_ref().and_then(EarlyStopping::best);
        // A finished run keeps the best epoch's parameters; a stopped one (--stop-after) goes on
        // from the last epoch's, as training does.
        if let (Some(early), None) = (&early, &checkpoint) {
            early.restore_best(&mut tape);
        }
        Ok(Trained { tape, outcome, epochs: params.epochs, scope, gradient_check, checkpoint, best })
    }
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
fn gradient_check<T: Float>(net: &Network<T>, tape: &VectorTape<T>, data: &NetData) -> Result<Value> {
    let error = |e: cg_nn::Error| anyhow!("gradient check: {e}");
    let head;
    let train = match data {
        NetData::Loaded(splits) => &splits.train,
        NetData::Streamed { rows, targets, transform } => {
            head = streamed(rows, targets, transform).head(8).map_err(error)?;
            &head
        }
    };
    let c = cg_nn::gradient_check(net, tape, train, 8).map_err(error)?;
    Ok(json!({ "max_relative_error": c.max_relative_error, "entries": c.entries, "samples": c.samples }))
}
