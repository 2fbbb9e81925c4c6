//! Mini-batch gradient descent: shuffle the training columns each epoch (from the run's RNG),
//! forward and backward per batch, update every parameter, then evaluate the whole training and
//! test sets for the epoch's record.

use std::time::Instant;

use cg_autodiff::vector::{Mat, VectorGrads, VectorTape};
use cg_core::{run, Flow, Observer, OutOfRange, Recorder, Resumable, Snapshot, SnapshotError, Solver, StepInfo, Stop};
use cg_core::{NodeId, RowChunks};
use cg_data::Dataset;
use cg_optim::{Optimizer, OptimizerParams, ParamConstraint};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Deserialize;

use crate::constraints::{project, violation};
use crate::network::{Encoded, LossTerm, Network};
use crate::resume::{restore_params, save_params};
use crate::{Error, Float, Result};

/// `[train]` as written in a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training split.
    pub epochs: usize,
    /// Samples per gradient step (the training split size for full-batch descent).
    pub batch_size: usize,
    /// Epochs the regression test runs instead of `epochs` (for configs too slow to rerun in
    /// full); it compares the first `check_epochs` values of every curve.
    pub check_epochs: Option<usize>,
    /// Number type of the network: f64 (default) or f32 (faster, about 7 significant digits).
    #[serde(default)]
    pub precision: Precision,
    /// Before training, compare reverse mode with central differences on a few samples and
    /// report the largest relative error.
    #[serde(default)]
    pub gradient_check: bool,
    /// A safetensors file (relative to the config) whose tensors replace the initial values of
    /// the parameters they name.
    pub init_from: Option<String>,
    /// Stop when a metric has not improved for `patience` epochs, and keep (and save) the best
    /// epoch's parameters: `{ metric = "validation_loss", patience = 10 }` (validation metrics
    /// need `[data] validation_fraction`).
    pub early_stopping: Option<crate::EarlyStoppingConfig>,
}

/// The number type a network is trained in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Double precision.
    #[default]
    F64,
    /// Single precision (faster; checked against f64).
    F32,
}

/// Checked training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainParams {
    /// Passes over the data.
    pub epochs: usize,
    /// Samples per mini-batch.
    pub batch_size: usize,
    /// The optimiser.
    pub optimizer: OptimizerParams,
    /// f64 or f32 arithmetic.
    pub precision: Precision,
    /// Projections applied after initialisation and after every update (projected gradient
    /// descent); parameter indices follow the model's parameter list.
    pub constraints: Vec<ParamConstraint>,
    /// Parameters (indices as for `constraints`) that weight decay leaves alone.
    pub undecayed: Vec<usize>,
}

impl TrainParams {
    /// `epochs` passes over the data in batches of `batch_size`, in f64, without constraints.
    pub fn new(epochs: usize, batch_size: usize, optimizer: OptimizerParams) -> TrainParams {
        TrainParams { epochs, batch_size, optimizer, precision: Precision::F64, constraints: vec![], undecayed: vec![] }
    }
}

impl TrainConfig {
    /// Checks the sizes.
    ///
    /// # Errors
    /// Zero epochs or batch size, or `check_epochs` not in 1..=epochs.
    pub fn validate(&self, optimizer: OptimizerParams) -> Result<TrainParams> {
        OutOfRange::at_least("epochs", self.epochs, 1, ">= 1")?;
        OutOfRange::at_least("batch_size", self.batch_size, 1, ">= 1")?;
        if let Some(check) = self.check_epochs {
            if check == 0 || check > self.epochs {
                return Err(Error::CheckEpochs { check, epochs: self.epochs });
            }
        }
        Ok(TrainParams {
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer,
            precision: self.precision,
            constraints: vec![],
            undecayed: vec![],
        })
    }
}

/// The numbers recorded after one epoch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// The learning rate of the epoch.
    pub learning_rate: f64,
    /// The mean training loss.
    pub train_loss: f64,
    /// The training accuracy, for classifiers.
    pub train_accuracy: Option<f64>,
    /// The test loss, when there is a test split.
    pub test_loss: Option<f64>,
    /// The test accuracy, for classifiers with a test split.
    pub test_accuracy: Option<f64>,
    /// The validation loss, when there is a validation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_loss: Option<f64>,
    /// The validation accuracy, for classifiers with a validation split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_accuracy: Option<f64>,
    /// Largest constraint violation after the epoch (None without constraints).
    pub violation: Option<f64>,
    /// Wall-clock seconds of the epoch's batch loop (forward, backward, updates), without
    /// evaluation: what speed comparisons measure.
    pub train_seconds: f64,
}

impl cg_core::Objective for EpochRecord {
    fn objective(&self) -> Option<f64> {
        Some(self.train_loss)
    }
}

/// What a training run produced.
pub struct TrainOutcome {
    /// Every epoch's record.
    pub records: Vec<EpochRecord>,
    /// Wall-clock seconds of the batch loops (forward, backward, updates), without evaluation.
    pub train_seconds: f64,
    /// Number of mini-batch gradient evaluations.
    pub grad_evals: usize,
    /// Why training ended before `epochs` (an observer's request), or the step limit.
    pub stop: Stop,
}

impl TrainOutcome {
    /// The outcome of a run that recorded `records`; the batch-loop seconds are theirs summed.
    pub fn new(records: Vec<EpochRecord>, grad_evals: usize, stop: Stop) -> TrainOutcome {
        TrainOutcome { train_seconds: records.iter().map(|r| r.train_seconds).sum(), records, grad_evals, stop }
    }
}

/// Mini-batch gradient descent as a [`Solver`]: one step is one epoch (shuffle the training
/// columns from the run's RNG, forward and backward per batch, update and project every
/// parameter), then the whole training and test sets are evaluated for the epoch's record.
pub struct Trainer<'a, T: Float> {
    net: &'a Network<T>,
    train: TrainSet<'a, T>,
    test: Option<Encoded<'a, T>>,
    validation: Option<Encoded<'a, T>>,
    params: &'a TrainParams,
}

/// The training samples: encoded in memory, or read from a file batch by batch.
enum TrainSet<'a, T: Float> {
    Encoded(Encoded<'a, T>),
    Streamed {
        samples: StreamedSamples<'a>,
        /// Whether accuracy is reported (a target is the labels and all are classes), decided
        /// over them all.
        labels: bool,
    },
}

impl<T: Float> TrainSet<'_, T> {
    fn n(&self) -> usize {
        match self {
            TrainSet::Encoded(e) => e.n,
            TrainSet::Streamed { samples, .. } => samples.targets.len(),
        }
    }
}

/// Training samples read from a file in chunks, for data larger than memory: a row of features
/// per sample, and the targets (one number per sample, a class label or a value) in memory. A
/// batch reads its rows one by one in the shuffled order, so training gives the bits of the same
/// samples loaded whole; evaluation reads the file once per epoch, in blocks of the size the
/// in-memory evaluation uses.
pub struct StreamedSamples<'a> {
    /// The features, one row per sample.
    pub features: Box<dyn RowChunks + 'a>,
    /// One target per sample, in row order (borrowed from the caller, or owned).
    pub targets: std::borrow::Cow<'a, [f64]>,
    /// The features' names.
    pub feature_names: Vec<String>,
    /// The target's name.
    pub target_name: String,
}

impl StreamedSamples<'_> {
    /// Rows `first..first + rows.len() / dim` (`rows` row-major) as a dataset.
    fn dataset(&self, rows: &[f64], targets: Vec<f64>) -> Dataset {
        let dim = self.features.dim();
        Dataset {
            features: nalgebra::DMatrix::from_column_slice(dim, rows.len() / dim.max(1), rows),
            targets,
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
        }
    }

    /// The samples `ids`, read one by one, as a dataset.
    fn gather(&self, ids: &[usize]) -> Result<Dataset> {
        let dim = self.features.dim();
        let mut rows = vec![0.0; ids.len() * dim];
        for (out, &j) in rows.chunks_exact_mut(dim.max(1)).zip(ids) {
            self.features.row(j, out).map_err(Error::Stream)?;
        }
        Ok(self.dataset(&rows, ids.iter().map(|&j| self.targets[j]).collect()))
    }

    /// The first `n` samples as a dataset (a gradient check's).
    ///
    /// # Errors
    /// The file could not be read.
    pub fn head(&self, n: usize) -> Result<Dataset> {
        self.gather(&(0..n.min(self.targets.len())).collect::<Vec<_>>())
    }

    /// Calls `block(first, dataset)` for consecutive blocks of `size` samples in order.
    fn for_each_block(&self, size: usize, mut block: impl FnMut(usize, Dataset) -> Result<()>) -> Result<()> {
        let dim = self.features.dim().max(1);
        let (mut buffer, mut first) = (Vec::with_capacity(size * dim), 0);
        let mut failed = None;
        let mut flush = |buffer: &mut Vec<f64>, first: &mut usize| -> Result<()> {
            let len = buffer.len() / dim;
            let data = self.dataset(buffer, self.targets[*first..*first + len].to_vec());
            block(*first, data)?;
            *first += len;
            buffer.clear();
            Ok(())
        };
        self.features
            .for_each_chunk(&mut |_, chunk| {
                for row in chunk.chunks_exact(dim) {
                    buffer.extend_from_slice(row);
                    if buffer.len() == size * dim {
                        if let Err(e) = flush(&mut buffer, &mut first) {
                            failed = Some(e);
                            return Err(String::new());
                        }
                    }
                }
                Ok(())
            })
            .map_err(|e| failed.take().unwrap_or(Error::Stream(e)))?;
        if !buffer.is_empty() {
            flush(&mut buffer, &mut first)?;
        }
        Ok(())
    }
}

/// What changes while training: the parameters (in `tape`), the optimiser's moments and
/// schedule position, the shuffling order, and the batch parts' reusable buffers.
pub struct TrainState<T: Float> {
    /// The tape of the graph.
    pub tape: VectorTape<T>,
    optimizer: Optimizer,
    order: Vec<usize>,
    shards: Vec<Shard<T>>,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Gradient evaluations made.
    pub grad_evals: usize,
}

impl<'a, T: Float> Trainer<'a, T> {
    /// Encodes the data for `net`.
    ///
    /// # Errors
    /// Data that does not fit the network (input width, class labels).
    pub fn new(
        net: &'a Network<T>,
        train: &'a Dataset,
        test: Option<&'a Dataset>,
        params: &'a TrainParams,
    ) -> Result<Self> {
        let tr = net.encode(train)?;
        let te = test.map(|t| net.encode(t)).transpose()?;
        Ok(Trainer { net, train: TrainSet::Encoded(tr), test: te, validation: None, params })
    }

    /// A trainer over samples streamed from a file ([`StreamedSamples`]); one pass here checks
    /// that every block encodes for `net` as the whole set would.
    ///
    /// # Errors
    /// A loss that is not a sum over samples (it needs the whole set at once), features and
    /// targets of different lengths, data that does not fit the network, or a read error.
    pub fn streamed(net: &'a Network<T>, samples: StreamedSamples<'a>, params: &'a TrainParams) -> Result<Self> {
        if net.terms.is_none() {
            return Err(Error::Stream("the loss is not a sum of per-sample terms, so it needs every sample at once: load the data (leave stream out)".into()));
        }
        if samples.features.rows() != samples.targets.len() {
            return Err(Error::Stream(format!(
                "{} rows of features for {} targets",
                samples.features.rows(),
                samples.targets.len()
            )));
        }
        // Accuracy as over the whole set: when a target is the labels and every one is a class.
        let labels = net.targets.iter().any(|t| matches!(t.source, crate::TargetSource::Labels))
            && cg_data::class_count(&samples.targets).is_ok();
        samples.for_each_block(EVALUATION_BLOCK, |first, data| {
            net.encode(&data).map(|_| ()).map_err(|e| e.at(format!("samples from {}", first + 1)))
        })?;
        Ok(Trainer { net, train: TrainSet::Streamed { samples, labels }, test: None, validation: None, params })
    }

    /// Also evaluates `validation` after every epoch (`validation_loss`, `validation_accuracy`).
    ///
    /// # Errors
    /// Data that does not fit the network.
    pub fn with_validation(mut self, validation: &'a Dataset) -> Result<Self> {
        self.validation = Some(self.net.encode(validation)?);
        Ok(self)
    }

    /// The state at the start of training from the parameters in `tape`, projected onto the
    /// constraints.
    pub fn start(&self, mut tape: VectorTape<T>) -> TrainState<T> {
        let net = self.net;
        // A frozen parameter has no optimiser state.
        let sizes: Vec<usize> = net
            .params
            .iter()
            .enumerate()
            .map(|(k, &p)| if net.is_frozen(k) { 0 } else { tape.get(p).map_or(0, |m| m.len()) })
            .collect();
        project(&net.params, &mut tape, &self.params.constraints);
        // A loss that is not a sum of per-sample and parameter terms cannot be cut into parts.
        let parts = if net.terms.is_some() { shard_count(self.params.batch_size) } else { 1 };
        let mut optimizer = Optimizer::new(self.params.optimizer, &sizes);
        for &k in &self.params.undecayed {
            optimizer.exclude_from_decay(k);
        }
        TrainState {
            tape,
            optimizer,
            order: (0..self.train.n()).collect(),
            shards: (0..parts).map(|_| Shard::new(net)).collect(),
            epochs_done: 0,
            grad_evals: 0,
        }
    }
}

impl<T: Float> Solver for Trainer<'_, T> {
    type State = TrainState<T>;
    type Record = EpochRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        "mini-batch gradient descent"
    }

    fn step(&mut self, st: &mut TrainState<T>, rng: &mut ChaCha8Rng) -> Result<EpochRecord> {
        let (net, params) = (self.net, self.params);
        let epoch = st.epochs_done;
        let start = Instant::now();
        st.order.shuffle(rng);
        let mut lr = 0.0;
        for (b, batch) in st.order.chunks(params.batch_size).enumerate() {
            // Random operations (dropout) draw one seed per mini-batch from the run's stream;
            // a network without any draws nothing, so its stream is unchanged.
            let noise_seed = if net.noise.is_some() { f64::from(rng.random::<u32>()) } else { f64::NAN };
            let at = |e: Error| e.at(format!("epoch {}, batch {}", epoch + 1, b + 1));
            // A streamed batch is read and encoded on its own: its samples are its columns
            // 0..len, while random operations still see each sample's own number.
            let (read, local): (Dataset, Vec<usize>);
            let encoded;
            let (train, columns): (&Encoded<T>, &[usize]) = match &self.train {
                TrainSet::Encoded(e) => (e, batch),
                TrainSet::Streamed { samples, .. } => {
                    read = samples.gather(batch).map_err(at)?;
                    encoded = net.encode(&read).map_err(at)?;
                    local = (0..batch.len()).collect();
                    (&encoded, &local)
                }
            };
            let size = batch.len().div_ceil(st.shards.len());
            let parts: Vec<(&[usize], &[usize])> = columns.chunks(size).zip(batch.chunks(size)).collect();
            let used = &mut st.shards[..parts.len()];
            let params_tape = &st.tape;
            used.par_iter_mut()
                .zip(parts)
                .map(|(shard, (columns, ids))| {
                    let part = Part { columns, ids, batch_size: batch.len() };
                    shard.unchecked_gradient(net, params_tape, train, part, noise_seed)
                })
                .collect::<Result<Vec<()>>>()
                .map_err(at)?;
            lr = st.optimizer.begin_step(epoch);
            for (k, &p) in net.params.iter().enumerate() {
                if net.is_frozen(k) {
                    continue;
                }
                let g: Vec<&[T]> = used
                    .iter()
                    .map(|s| s.grads.get(p).expect("internal: every parameter reaches the output").as_slice())
                    .collect();
                let w = st.tape.get_mut(p).expect("internal: parameters are initialised");
                if !st.optimizer.update_sum(k, w.as_mut_slice(), &g, lr) {
                    // A non-finite gradient (named by the graph's check) or an update that
                    // overflowed; the run stops here, so the weights already updated do not
                    // matter.
                    for shard in used.iter() {
                        net.dag.check_gradients(&shard.grads).map_err(|e| at(e.into()))?;
                    }
                    return Err(at(Error::Diverged(format!(
                        "updating {} made it infinite or NaN (learning rate {lr:e} too large?)",
                        net.dag.name(p)
                    ))));
                }
            }
            project(&net.params, &mut st.tape, &params.constraints);
            update_running(net, &mut st.tape, used);
            st.grad_evals += 1;
        }
        let train_seconds = start.elapsed().as_secs_f64();
        st.epochs_done += 1;
        let evaluating = |e: Error| e.at(format!("epoch {}: evaluating", epoch + 1));
        let (train_loss, train_accuracy) = match &self.train {
            TrainSet::Encoded(e) => evaluate(net, &mut st.tape, e),
            TrainSet::Streamed { samples, labels } => evaluate_streamed(net, &mut st.tape, samples, *labels),
        }
        .map_err(evaluating)?;
        let test_eval = self.test.as_ref().map(|t| evaluate(net, &mut st.tape, t)).transpose().map_err(evaluating)?;
        let validation_eval =
            self.validation.as_ref().map(|v| evaluate(net, &mut st.tape, v)).transpose().map_err(evaluating)?;
        Ok(EpochRecord {
            epoch: epoch + 1,
            learning_rate: lr,
            train_loss,
            train_accuracy,
            test_loss: test_eval.map(|t| t.0),
            test_accuracy: test_eval.and_then(|t| t.1),
            validation_loss: validation_eval.map(|v| v.0),
            validation_accuracy: validation_eval.and_then(|v| v.1),
            violation: (!params.constraints.is_empty()).then(|| violation(&net.params, &st.tape, &params.constraints)),
            train_seconds,
        })
    }
}

/// A stopped training run needs the parameters, the optimiser's moments, the shuffling order
/// (each epoch shuffles the previous one) and the counters; the batch parts' tapes are
/// overwritten by every batch.
impl<T: Float> Resumable for Trainer<'_, T> {
    fn save(&self, st: &TrainState<T>, into: &mut Snapshot) {
        save_params(&self.net.params, &st.tape, into);
        st.optimizer.save(into);
        into.put("order", &st.order);
        into.put("epochs_done", &st.epochs_done);
        into.put("grad_evals", &st.grad_evals);
    }

    fn restore(&self, st: &mut TrainState<T>, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        restore_params(&self.net.params, &mut st.tape, from)?;
        st.optimizer.restore(from)?;
        let order: Vec<usize> = from.get("order")?;
        if order.len() != st.order.len() {
            return Err(SnapshotError(format!("{} training samples saved, {} now", order.len(), st.order.len())));
        }
        st.order = order;
        (st.epochs_done, st.grad_evals) = (from.get("epochs_done")?, from.get("grad_evals")?);
        Ok(())
    }
}

/// Trains `mlp` from the parameters in `tape` on `train` for `params.epochs` epochs, evaluating
/// on `test` after every epoch; `observers` see each epoch as it ends (progress bars, early
/// stopping).
///
/// # Errors
/// Data that does not fit the network, or a non-finite value or gradient, naming the epoch, the
/// batch and the node.
pub fn train<T: Float>(
    net: &Network<T>,
    tape: &mut VectorTape<T>,
    train: &Dataset,
    test: Option<&Dataset>,
    params: &TrainParams,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<TrainState<T>, EpochRecord>],
) -> Result<TrainOutcome> {
    let mut trainer = Trainer::new(net, train, test, params)?;
    let mut state = trainer.start(std::mem::replace(tape, net.dag.tape()));
    let mut with_records = Recording { recorder: Recorder::new(), others: observers };
    let out = run(&mut trainer, &mut state, params.epochs, rng, &mut [&mut with_records]);
    *tape = state.tape;
    let out = out?;
    let records = with_records.recorder.records;
    Ok(TrainOutcome::new(records, state.grad_evals, out.stop))
}

/// A [`Recorder`] in front of the caller's observers.
struct Recording<'a, 'b, St, R> {
    recorder: Recorder<R>,
    others: &'a mut [&'b mut dyn Observer<St, R>],
}

impl<St, R: Clone + serde::Serialize + serde::de::DeserializeOwned> Observer<St, R> for Recording<'_, '_, St, R> {
    /// Every observer sees the step; the first request to stop wins, as in `cg_core::run`.
    fn observe(&mut self, step: &StepInfo<'_, St, R>) -> Flow {
        let mut flow = self.recorder.observe(step);
        for o in self.others.iter_mut() {
            if let (Flow::Stop(by), Flow::Continue) = (o.observe(step), &flow) {
                flow = Flow::Stop(by);
            }
        }
        flow
    }
}

/// Mini-batches are cut into parts of at least this many samples (at most `MAX_SHARDS` parts),
/// whose forward and backward passes run in parallel on their own tapes over the shared
/// parameters; the parts' gradients are summed in the update. One sync per batch instead of one
/// per matrix product: on bench_mlp (batch 128, 2 cores) the per-product threads spent more
/// time waking up than computing. The count depends on the batch size alone, so the numbers do
/// not depend on the machine's threads; batches under 128 stay whole.
const SHARD_COLUMNS: usize = 64;
const MAX_SHARDS: usize = 8;

/// Moves every running statistic towards the batch's (batch normalisation), from the inputs the
/// batch's forward pass computed. Such a network is never cut into parts (the normalisation
/// mixes the batch's samples), so the one part holds the whole batch.
fn update_running<T: Float>(net: &Network<T>, tape: &mut VectorTape<T>, parts: &[Shard<T>]) {
    let [part] = parts else { return };
    for r in &net.running {
        let x = part.tape.get(r.input).expect("internal: forward ran");
        let n = x.ncols().max(1) as f64;
        let m = r.momentum;
        let means: Vec<f64> = x.row_iter().map(|row| row.iter().map(|v| v.as_f64()).sum::<f64>() / n).collect();
        let vars: Vec<f64> = x
            .row_iter()
            .zip(&means)
            .map(|(row, mean)| row.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n)
            .collect();
        for (index, batch) in [(r.mean, &means), (r.var, &vars)] {
            let s = tape.get_mut(net.params[index]).expect("internal: initialised");
            s.iter_mut().zip(batch).for_each(|(s, b)| *s = T::cast((1.0 - m) * s.as_f64() + m * b));
        }
    }
}

fn shard_count(batch_size: usize) -> usize {
    (batch_size / SHARD_COLUMNS).clamp(1, MAX_SHARDS)
}

/// One part of a mini-batch: its activations and gradients, kept from batch to batch so their
/// buffers are reused.
struct Shard<T: Float> {
    tape: VectorTape<T>,
    grads: VectorGrads<T>,
    /// The loss node's seed, ∂L/∂L = 1.
    seed: Mat<T>,
}

/// One part of a mini-batch: its columns of the encoded data, the numbers of those samples in
/// the whole set (what random operations are keyed by), and the batch's size.
#[derive(Clone, Copy)]
struct Part<'a> {
    columns: &'a [usize],
    ids: &'a [usize],
    batch_size: usize,
}

/// Sets a 1 × 1 node, reusing its buffer.
fn set_scalar<T: Float>(tape: &mut VectorTape<T>, node: NodeId, value: f64) {
    match tape.get_mut(node) {
        Some(m) if m.shape() == (1, 1) => m[(0, 0)] = T::cast(value),
        _ => tape.set(node, Mat::from_element(1, 1, T::cast(value))),
    }
}

impl<T: Float> Shard<T> {
    fn new(net: &Network<T>) -> Shard<T> {
        Shard { tape: net.dag.tape(), grads: net.dag.grads(), seed: Mat::from_element(1, 1, T::one()) }
    }

    /// Forward on the part's columns of the training data, random operations drawn from
    /// `noise_seed` and the part's ids (NaN: evaluation, they pass through): the part's loss.
    fn loss(
        &mut self,
        net: &Network<T>,
        params: &VectorTape<T>,
        data: &Encoded<T>,
        part: Part,
        noise_seed: f64,
    ) -> Result<f64> {
        let Part { columns, ids, batch_size } = part;
        if let Some(noise) = net.noise {
            set_scalar(&mut self.tape, noise.seed, noise_seed);
            self.tape.set(noise.samples, Mat::from_iterator(1, ids.len(), ids.iter().map(|&c| T::cast(c as f64))));
        }
        for ((node, _), x) in net.inputs.iter().zip(&data.xs) {
            self.tape.set_columns(*node, x, columns);
        }
        for (t, y) in net.targets.iter().zip(&data.ys) {
            self.tape.set_columns(t.node, y, columns);
        }
        set_scalar(&mut self.tape, net.batch_size, batch_size as f64);
        set_scalar(&mut self.tape, net.fraction, columns.len() as f64 / batch_size as f64);
        net.dag.forward_over(params, &mut self.tape)?;
        let loss = self.tape.get(net.loss).expect("internal: forward ran")[(0, 0)].as_f64();
        if !loss.is_finite() {
            let origin = net
                .dag
                .first_non_finite(&self.tape)
                .map_or(String::new(), |(node, what)| format!(", first at node `{node}` = {what}"));
            return Err(Error::NonFiniteLoss { loss: net.loss_name(), value: loss, origin });
        }
        Ok(loss)
    }

    /// [`gradient`](Self::gradient) without the check that every parameter's gradient is
    /// finite: for the training loop, whose update checks the weights it writes instead.
    fn unchecked_gradient(
        &mut self,
        net: &Network<T>,
        params: &VectorTape<T>,
        data: &Encoded<T>,
        part: Part,
        noise_seed: f64,
    ) -> Result<()> {
        self.loss(net, params, data, part, noise_seed)?;
        Ok(net.dag.reverse_over_unchecked(params, &self.tape, vec![(net.loss, self.seed.clone())], &mut self.grads)?)
    }

    /// Forward and backward on `columns` of the training data, as a part of a batch of
    /// `batch_size` samples; the gradients land in `grads`, checked to be finite.
    fn gradient(
        &mut self,
        net: &Network<T>,
        params: &VectorTape<T>,
        data: &Encoded<T>,
        columns: &[usize],
        batch_size: usize,
        noise_seed: f64,
    ) -> Result<()> {
        self.unchecked_gradient(net, params, data, Part { columns, ids: columns, batch_size }, noise_seed)?;
        Ok(net.dag.check_gradients(&self.grads)?)
    }
}

/// The result of [`gradient_check`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradientCheck {
    /// The largest |g - fd| / max(1, |g|, |fd|) over the entries checked, g from reverse mode
    /// and fd a central difference.
    pub max_relative_error: f64,
    /// Numbers compared.
    pub entries: usize,
    /// Samples used.
    pub samples: usize,
}

/// Reverse mode against central differences of the loss on the first `samples` training
/// samples, at the parameters in `tape`: every entry of small parameters, 25 evenly spaced
/// entries of larger ones. Steps are relative (h = ε · max(1, |w|), ε = 1e-5 for f64, 1e-2 for
/// f32).
///
/// # Errors
/// Data that does not fit the network, or a non-finite value.
///
/// ```
/// use cg_core::Validate;
/// use cg_nn::{gradient_check, Mlp, ModelConfig};
/// use rand::SeedableRng;
/// let data = cg_data::linear_teacher(20, 3, 2, 1);
/// let mut config = ModelConfig::new(vec![3, 5, 2], cg_autodiff::vector::Loss::SoftmaxCrossEntropy);
/// config.hidden = cg_autodiff::vector::Activation::Tanh;
/// let mlp = Mlp::<f64>::new(config.validate().unwrap());
/// let tape = mlp.init(&mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
/// let check = gradient_check(&mlp.net, &tape, &data, 8).unwrap();
/// assert_eq!(check.entries, 3 * 5 + 5 + 5 * 2 + 2);
/// assert!(check.max_relative_error < 1e-7, "{check:?}");
/// ```
pub fn gradient_check<T: Float>(
    net: &Network<T>,
    tape: &VectorTape<T>,
    data: &Dataset,
    samples: usize,
) -> Result<GradientCheck> {
    let enc = net.encode(data)?;
    let columns: Vec<usize> = (0..samples.min(enc.n).max(1)).collect();
    let mut shard = Shard::new(net);
    // Random operations keep one fixed draw, so the loss is one function of the parameters.
    const FIXED_NOISE: f64 = 1.0;
    shard.gradient(net, tape, &enc, &columns, columns.len(), FIXED_NOISE)?;
    let eps = if std::mem::size_of::<T>() == 8 { 1e-5 } else { 1e-2 };
    let mut probe = tape.clone();
    // Central differences need only the loss: forward passes on one reused part.
    let mut part = Shard::new(net);
    let mut loss_at = |probe: &VectorTape<T>| {
        let whole = Part { columns: &columns, ids: &columns, batch_size: columns.len() };
        part.loss(net, probe, &enc, whole, FIXED_NOISE)
    };
    let (mut worst, mut entries) = (0.0f64, 0);
    for (k, &p) in net.params.iter().enumerate() {
        let Some(g) = shard.grads.get(p).cloned().filter(|_| !net.is_frozen(k)) else { continue };
        let len = g.len();
        let picks: Vec<usize> = if len <= 25 { (0..len).collect() } else { (0..25).map(|k| k * len / 25).collect() };
        for idx in picks {
            let w = probe.get(p).expect("internal: initialised")[idx];
            let h = eps * w.as_f64().abs().max(1.0);
            probe.get_mut(p).expect("internal: initialised")[idx] = T::cast(w.as_f64() + h);
            let hi = loss_at(&probe)?;
            probe.get_mut(p).expect("internal: initialised")[idx] = T::cast(w.as_f64() - h);
            let lo = loss_at(&probe)?;
            probe.get_mut(p).expect("internal: initialised")[idx] = w;
            let fd = (hi - lo) / (2.0 * h);
            let gi = g[idx].as_f64();
            worst = worst.max((gi - fd).abs() / gi.abs().max(fd.abs()).max(1.0));
            entries += 1;
        }
    }
    Ok(GradientCheck { max_relative_error: worst, entries, samples: columns.len() })
}

/// Samples evaluated at once when the loss is a sum of terms (bounds the memory).
const EVALUATION_BLOCK: usize = 1024;

/// Mean loss and accuracy over a whole set: in blocks of [`EVALUATION_BLOCK`] samples when the
/// loss is a sum of terms, each term's value computed in f64; on the whole set at once otherwise.
fn evaluate<T: Float>(net: &Network<T>, tape: &mut VectorTape<T>, data: &Encoded<T>) -> Result<(f64, Option<f64>)> {
    let n = data.n;
    let chunk = if net.terms.is_some() { EVALUATION_BLOCK } else { n.max(1) };
    let (mut loss, mut correct) = (0.0, 0usize);
    for start in (0..n).step_by(chunk) {
        let (l, c) = evaluate_block(net, tape, data, start, chunk.min(n - start))?;
        loss += l;
        correct += c;
    }
    let accuracy = data.labels.map(|_| correct as f64 / n as f64);
    Ok((loss / n as f64, accuracy))
}

/// [`evaluate`] over samples streamed from a file, block by block as in memory (the same sums).
fn evaluate_streamed<T: Float>(
    net: &Network<T>,
    tape: &mut VectorTape<T>,
    samples: &StreamedSamples,
    labels: bool,
) -> Result<(f64, Option<f64>)> {
    let (mut loss, mut correct) = (0.0, 0usize);
    samples.for_each_block(EVALUATION_BLOCK, |_, data| {
        let mut encoded = net.encode(&data)?;
        encoded.labels = labels.then_some(data.targets.as_slice());
        let (l, c) = evaluate_block(net, tape, &encoded, 0, encoded.n)?;
        loss += l;
        correct += c;
        Ok(())
    })?;
    let n = samples.targets.len();
    Ok((loss / n as f64, labels.then(|| correct as f64 / n as f64)))
}

/// The summed loss (the mean times `len`) and the correct predictions of samples
/// `start..start + len` of `data`.
fn evaluate_block<T: Float>(
    net: &Network<T>,
    tape: &mut VectorTape<T>,
    data: &Encoded<T>,
    start: usize,
    len: usize,
) -> Result<(f64, usize)> {
    for ((node, _), x) in net.inputs.iter().zip(&data.xs) {
        tape.set(*node, x.columns(start, len).into_owned());
    }
    for (t, y) in net.targets.iter().zip(&data.ys) {
        tape.set(t.node, y.columns(start, len).into_owned());
    }
    set_scalar(tape, net.batch_size, len as f64);
    set_scalar(tape, net.fraction, 1.0);
    net.evaluation_mode(tape);
    net.dag.forward(tape)?;
    let loss = match &net.terms {
        Some(terms) => {
            let mut sum = 0.0;
            for term in terms {
                sum += match *term {
                    LossTerm::Samples { coefficient, loss, prediction, target } => {
                        let get = |id| tape.get(id).expect("internal: forward ran");
                        coefficient * loss.value_and_grad(get(prediction), get(target)).0
                    }
                    LossTerm::Mean { coefficient, values } => {
                        let v = tape.get(values).expect("internal: forward ran");
                        coefficient * v.iter().map(|x| x.as_f64()).sum::<f64>() / len as f64
                    }
                    LossTerm::Parameters { coefficient, node } => {
                        coefficient * tape.get(node).expect("internal: forward ran")[(0, 0)].as_f64()
                    }
                };
            }
            sum * len as f64
        }
        None => tape.get(net.loss).expect("internal: forward ran")[(0, 0)].as_f64() * len as f64,
    };
    let mut correct = 0;
    if let Some(labels) = data.labels {
        let pred = net.predict_classes(tape.get(net.predict).expect("internal: forward ran"));
        correct = pred.iter().zip(&labels[start..start + len]).filter(|(p, t)| p == t).count();
    }
    Ok((loss, correct))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mlp, ModelConfig};
    use cg_core::Validate;
    use nalgebra::DMatrix;
    use rand::{Rng, SeedableRng};

    /// ReLU layers, logits out, softmax cross-entropy.
    fn relu_classifier(layers: &[usize]) -> crate::ModelParams {
        ModelConfig {
            layers: layers.to_vec(),
            hidden: cg_autodiff::vector::Activation::Relu,
            output: crate::OutputKind::Activation(cg_autodiff::vector::Activation::Identity),
            loss: cg_autodiff::vector::Loss::SoftmaxCrossEntropy,
            init: None,
            autoencoder: false,
            penalize_bias: true,
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn shards_add_up_to_the_whole_batch_gradient() {
        let mlp = Mlp::<f64>::new(relu_classifier(&[5, 8, 3]));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let params = mlp.init(&mut rng);
        let data = Dataset {
            features: DMatrix::from_fn(5, 130, |_, _| rng.random_range(-2.0..2.0)),
            targets: (0..130).map(|i| f64::from(i % 3)).collect(),
            feature_names: (0..5).map(|i| format!("f{i}")).collect(),
            target_name: "class".into(),
        };
        let net = &mlp.net;
        let enc = net.encode(&data).unwrap();
        let batch: Vec<usize> = (0..130).rev().collect();
        let mut whole = Shard::new(net);
        whole.gradient(net, &params, &enc, &batch, batch.len(), f64::NAN).unwrap();
        for parts in [2, 3] {
            let mut shards: Vec<Shard<f64>> = (0..parts).map(|_| Shard::new(net)).collect();
            for (shard, cols) in shards.iter_mut().zip(batch.chunks(batch.len().div_ceil(parts))) {
                shard.gradient(net, &params, &enc, cols, batch.len(), f64::NAN).unwrap();
            }
            for &p in &mlp.params {
                let want = whole.grads.get(p).unwrap();
                let mut sum = shards[0].grads.get(p).unwrap().clone();
                for s in &shards[1..] {
                    sum += s.grads.get(p).unwrap();
                }
                let err = (&sum - want).abs().max();
                assert!(err <= 1e-14 * want.abs().max().max(1.0), "{} in {parts} parts: off by {err}", net.dag.name(p));
            }
        }
        assert_eq!(shard_count(32), 1);
        assert_eq!(shard_count(128), 2);
        assert_eq!(shard_count(100_000), MAX_SHARDS);
    }

    #[test]
    fn streamed_samples_train_to_the_bits_of_the_loaded_ones() {
        // Batches of 150 (two parts, a short last batch), evaluation blocks of 1024 over 2,100
        // samples, chunks of 37 rows that cut every batch and block at other places.
        let spec = relu_classifier(&[6, 9, 3]);
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let n = 2100;
        let data = Dataset {
            features: DMatrix::from_fn(6, n, |_, _| rng.random_range(-2.0..2.0)),
            targets: (0..n).map(|i| f64::from((i * 5 % 7 % 3) as u8)).collect(),
            feature_names: (0..6).map(|i| format!("f{i}")).collect(),
            target_name: "class".into(),
        };
        // Samples as rows: the columns of the features x samples matrix, one after another.
        let rows: Vec<f64> = data.features.as_slice().to_vec();
        let optimizer = cg_optim::OptimizerParams {
            method: cg_optim::Method::Momentum { beta: 0.9 },
            learning_rate: 0.05,
            schedule: cg_optim::Schedule::Constant,
            weight_decay: 1e-3,
        };
        let params = TrainParams::new(3, 150, optimizer);
        let mlp = Mlp::<f64>::new(spec);
        let run = |streamed: bool| {
            let mut rng = ChaCha8Rng::seed_from_u64(2);
            let tape = mlp.init(&mut rng);
            let mut trainer = if streamed {
                let samples = StreamedSamples {
                    features: Box::new(cg_core::SliceChunks { values: &rows, dim: 6, chunk_rows: 37 }),
                    targets: data.targets.as_slice().into(),
                    feature_names: data.feature_names.clone(),
                    target_name: data.target_name.clone(),
                };
                Trainer::streamed(&mlp.net, samples, &params).unwrap()
            } else {
                Trainer::new(&mlp.net, &data, None, &params).unwrap()
            };
            let mut state = trainer.start(tape);
            let records: Vec<EpochRecord> = (0..3)
                .map(|_| EpochRecord { train_seconds: 0.0, ..trainer.step(&mut state, &mut rng).unwrap() })
                .collect();
            let weights: Vec<Vec<f64>> =
                mlp.params.iter().map(|&p| state.tape.get(p).unwrap().as_slice().to_vec()).collect();
            (records, weights)
        };
        let (loaded, streamed) = (run(false), run(true));
        assert!(loaded.0[2].train_accuracy.is_some());
        assert_eq!(loaded, streamed);
    }

    #[test]
    fn an_update_that_overflows_names_the_parameter() {
        // f32 weights and a learning rate of 1e300: the first update leaves the f32 range. The
        // gradients are finite, so the error is the update's, located and named.
        let mlp = Mlp::<f32>::new(relu_classifier(&[4, 6, 3]));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut tape = mlp.init(&mut rng);
        let data = Dataset {
            features: DMatrix::from_fn(4, 130, |_, _| rng.random_range(-2.0..2.0)),
            targets: (0..130).map(|i| f64::from(i % 3)).collect(),
            feature_names: (0..4).map(|i| format!("f{i}")).collect(),
            target_name: "class".into(),
        };
        let params = TrainParams {
            epochs: 1,
            batch_size: 128,
            optimizer: cg_optim::OptimizerParams {
                method: cg_optim::Method::Sgd,
                learning_rate: 1e300,
                schedule: cg_optim::Schedule::Constant,
                weight_decay: 0.0,
            },
            precision: Precision::F32,
            constraints: vec![],
            undecayed: vec![],
        };
        let e =
            train(&mlp.net, &mut tape, &data, None, &params, &mut rng, &mut []).err().expect("overflows").to_string();
        assert!(e.starts_with("epoch 1, batch 1: diverged: updating "), "{e}");
        assert!(e.contains("made it infinite or NaN (learning rate 1e300 too large?)"), "{e}");
    }

    #[test]
    fn training_gives_the_same_bits_on_any_number_of_threads() {
        // Batches of 128 (two parts) and 256-wide layers, so both the parts and the blocks of
        // the products run in parallel when there are threads for them.
        let spec = relu_classifier(&[32, 256, 256, 4]);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let data = Dataset {
            features: DMatrix::from_fn(32, 384, |_, _| rng.random_range(-1.0..1.0)),
            targets: (0..384).map(|i| f64::from((i * 7 % 11) % 4)).collect(),
            feature_names: (0..32).map(|i| format!("f{i}")).collect(),
            target_name: "class".into(),
        };
        let optimizer = cg_optim::OptimizerParams {
            method: cg_optim::Method::Momentum { beta: 0.9 },
            learning_rate: 0.05,
            schedule: cg_optim::Schedule::Constant,
            weight_decay: 0.0,
        };
        let params = TrainParams {
            epochs: 2,
            batch_size: 128,
            optimizer,
            precision: Precision::F32,
            constraints: vec![],
            undecayed: vec![],
        };
        let run = |threads: usize| -> Vec<Vec<f32>> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mlp = Mlp::<f32>::new(spec.clone());
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let mut tape = mlp.init(&mut rng);
                train(&mlp.net, &mut tape, &data, None, &params, &mut rng, &mut []).unwrap();
                mlp.params.iter().map(|&p| tape.get(p).unwrap().as_slice().to_vec()).collect()
            })
        };
        let one = run(1);
        assert_eq!(run(2), one);
        assert_eq!(run(3), one);
    }
}
