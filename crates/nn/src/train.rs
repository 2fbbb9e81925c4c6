//! Mini-batch gradient descent: shuffle the training columns each epoch (from the run's RNG),
//! forward and backward per batch, update every parameter, then evaluate the whole training and
//! test sets for the epoch's record.

use std::time::Instant;

use cg_autodiff::vector::{gather_columns, Mat, VectorGrads, VectorTape};
use cg_data::Dataset;
use cg_optim::{Optimizer, OptimizerParams, ParamConstraint};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Deserialize;

use crate::{Float, Mlp};

/// `[train]` as written in a config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Epochs the regression test runs instead of `epochs` (for configs too slow to rerun in
    /// full); it compares the first `check_epochs` values of every curve.
    pub check_epochs: Option<usize>,
    /// Number type of the network: "f64" (default) or "f32" (faster, about 7 significant digits).
    #[serde(default = "f64_name")]
    pub precision: String,
}

fn f64_name() -> String {
    "f64".into()
}

/// The number type a network is trained in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    F64,
    F32,
}

/// Checked training settings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainParams {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerParams,
    pub precision: Precision,
    /// Projections applied after initialisation and after every update (projected gradient
    /// descent); parameter indices follow [`Mlp::params`].
    pub constraints: Vec<ParamConstraint>,
}

impl TrainConfig {
    /// Checks the sizes.
    ///
    /// # Errors
    /// Zero epochs or batch size, or `check_epochs` not in 1..=epochs.
    pub fn validate(&self, optimizer: OptimizerParams) -> Result<TrainParams, String> {
        if self.epochs == 0 || self.batch_size == 0 {
            return Err(format!(
                "[train] epochs = {}, batch_size = {}: both must be >= 1",
                self.epochs, self.batch_size
            ));
        }
        if let Some(c) = self.check_epochs {
            if c == 0 || c > self.epochs {
                return Err(format!("[train] check_epochs = {c} is out of range (1..={})", self.epochs));
            }
        }
        let precision = match self.precision.as_str() {
            "f64" => Precision::F64,
            "f32" => Precision::F32,
            other => return Err(format!("[train] precision: unknown `{other}`; one of f64, f32")),
        };
        Ok(TrainParams { epochs: self.epochs, batch_size: self.batch_size, optimizer, precision, constraints: vec![] })
    }
}

/// The numbers recorded after one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    pub learning_rate: f64,
    pub train_loss: f64,
    pub train_accuracy: Option<f64>,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
    /// Largest constraint violation after the epoch (None without constraints).
    pub violation: Option<f64>,
}

/// What a training run produced.
pub struct TrainOutcome {
    pub records: Vec<EpochRecord>,
    /// Wall-clock seconds of the batch loops (forward, backward, updates), without evaluation.
    pub train_seconds: f64,
    /// Number of mini-batch gradient evaluations.
    pub grad_evals: usize,
}

/// Encoded data: features and loss targets as matrices, labels for accuracy (if classes).
struct Encoded<'a, T: Float> {
    x: Mat<T>,
    y: Mat<T>,
    labels: Option<&'a [f64]>,
}

fn encode<'a, T: Float>(mlp: &Mlp<T>, d: &'a Dataset) -> Result<Encoded<'a, T>, String> {
    if d.n_features() != mlp.spec.layers[0] {
        return Err(format!(
            "[model] layers: the input width is {} but the data has {} features",
            mlp.spec.layers[0],
            d.n_features()
        ));
    }
    let x = d.features.map(T::cast);
    if mlp.spec.autoencoder {
        return Ok(Encoded { y: x.clone(), x, labels: None });
    }
    let y = mlp.encode_targets(&d.targets).map_err(|e| format!("[data] {e}"))?;
    let labels = d.class_count().is_ok().then_some(d.targets.as_slice());
    Ok(Encoded { x, y, labels })
}

/// Trains `mlp` (parameters in `tape`) on `train`, evaluating on `test` after every epoch.
/// `observe` sees each record as it is made (progress bars).
///
/// # Errors
/// Data that does not fit the network, or a non-finite value or gradient, naming the epoch, the
/// batch and the node.
pub fn train<T: Float>(
    mlp: &Mlp<T>,
    tape: &mut VectorTape<T>,
    train: &Dataset,
    test: Option<&Dataset>,
    params: &TrainParams,
    rng: &mut ChaCha8Rng,
    observe: &mut dyn FnMut(&EpochRecord),
) -> Result<TrainOutcome, String> {
    let tr = encode(mlp, train)?;
    let te = test.map(|t| encode(mlp, t)).transpose()?;
    let sizes: Vec<usize> = mlp.params.iter().map(|&p| tape.get(p).map_or(0, |m| m.len())).collect();
    let mut opt = Optimizer::new(params.optimizer, &sizes);
    project(mlp, tape, &params.constraints);
    let mut order: Vec<usize> = (0..train.n_samples()).collect();
    let mut records = Vec::with_capacity(params.epochs);
    let mut seconds = 0.0;
    let mut grad_evals = 0;
    let mut shards: Vec<Shard<T>> = (0..shard_count(params.batch_size)).map(|_| Shard::new(mlp)).collect();
    for epoch in 0..params.epochs {
        let start = Instant::now();
        order.shuffle(rng);
        let mut lr = 0.0;
        for (b, batch) in order.chunks(params.batch_size).enumerate() {
            let at = |e: String| format!("epoch {}, batch {}: {e}", epoch + 1, b + 1);
            let parts: Vec<&[usize]> = batch.chunks(batch.len().div_ceil(shards.len())).collect();
            let used = &mut shards[..parts.len()];
            let params_tape = &*tape;
            used.par_iter_mut()
                .zip(parts)
                .map(|(shard, columns)| shard.gradient(mlp, params_tape, &tr, columns, batch.len()))
                .collect::<Result<Vec<()>, String>>()
                .map_err(at)?;
            lr = opt.begin_step(epoch);
            for (k, &p) in mlp.params.iter().enumerate() {
                let g: Vec<&[T]> = used
                    .iter()
                    .map(|s| s.grads.get(p).expect("internal: every parameter reaches the output").as_slice())
                    .collect();
                let w = tape.get_mut(p).expect("internal: parameters are initialised");
                opt.update_sum(k, w.as_mut_slice(), &g, lr);
            }
            project(mlp, tape, &params.constraints);
            grad_evals += 1;
        }
        seconds += start.elapsed().as_secs_f64();
        let (train_loss, train_accuracy) =
            evaluate(mlp, tape, &tr).map_err(|e| format!("epoch {}: evaluating: {e}", epoch + 1))?;
        let test_eval = te
            .as_ref()
            .map(|t| evaluate(mlp, tape, t))
            .transpose()
            .map_err(|e| format!("epoch {}: evaluating: {e}", epoch + 1))?;
        let record = EpochRecord {
            epoch: epoch + 1,
            learning_rate: lr,
            train_loss,
            train_accuracy,
            test_loss: test_eval.map(|t| t.0),
            test_accuracy: test_eval.and_then(|t| t.1),
            violation: (!params.constraints.is_empty()).then(|| violation(mlp, tape, &params.constraints)),
        };
        observe(&record);
        records.push(record);
    }
    Ok(TrainOutcome { records, train_seconds: seconds, grad_evals })
}

/// Mini-batches are cut into parts of at least this many samples (at most `MAX_SHARDS` parts),
/// whose forward and backward passes run in parallel on their own tapes over the shared
/// parameters; the parts' gradients are summed in the update. One sync per batch instead of one
/// per matrix product: on bench_mlp (batch 128, 2 cores) the per-product threads spent more
/// time waking up than computing. The count depends on the batch size alone, so the numbers do
/// not depend on the machine's threads; batches under 128 stay whole.
const SHARD_COLUMNS: usize = 64;
const MAX_SHARDS: usize = 8;

fn shard_count(batch_size: usize) -> usize {
    (batch_size / SHARD_COLUMNS).clamp(1, MAX_SHARDS)
}

/// One part of a mini-batch: its activations, gradients and targets, kept from batch to batch so
/// their buffers are reused.
struct Shard<T: Float> {
    tape: VectorTape<T>,
    grads: VectorGrads<T>,
    targets: Mat<T>,
}

impl<T: Float> Shard<T> {
    fn new(mlp: &Mlp<T>) -> Shard<T> {
        Shard { tape: mlp.dag.tape(), grads: mlp.dag.grads(), targets: Mat::zeros(0, 0) }
    }

    /// Forward and backward on `columns` of the training data, the loss scaled as a part of a
    /// batch of `batch_size` samples.
    fn gradient(
        &mut self,
        mlp: &Mlp<T>,
        params: &VectorTape<T>,
        data: &Encoded<T>,
        columns: &[usize],
        batch_size: usize,
    ) -> Result<(), String> {
        self.tape.set_columns(mlp.input, &data.x, columns);
        mlp.dag.forward_over(params, &mut self.tape).map_err(|e| e.to_string())?;
        let out = self.tape.get(mlp.output).expect("internal: forward ran");
        gather_columns(&mut self.targets, &data.y, columns);
        let (loss, seed) = mlp.spec.loss.value_and_grad_of_part(out, &self.targets, batch_size);
        if !loss.is_finite() {
            return Err(format!("the {} loss is {loss}", mlp.spec.loss.name()));
        }
        mlp.dag.reverse_over(params, &self.tape, vec![(mlp.output, seed)], &mut self.grads).map_err(|e| e.to_string())
    }
}

/// The values of a constraint's parameters joined in order (each matrix column-major), as f64.
fn gather<T: Float>(mlp: &Mlp<T>, tape: &VectorTape<T>, c: &ParamConstraint) -> Vec<f64> {
    c.params
        .iter()
        .flat_map(|&k| {
            tape.get(mlp.params[k]).expect("internal: parameters are initialised").iter().map(|v| v.as_f64())
        })
        .collect()
}

/// Projects every constrained group of parameters onto its set.
fn project<T: Float>(mlp: &Mlp<T>, tape: &mut VectorTape<T>, constraints: &[ParamConstraint]) {
    for c in constraints {
        let mut flat = gather(mlp, tape, c);
        c.constraint.project(&mut flat);
        let mut at = 0;
        for &k in &c.params {
            let m = tape.get_mut(mlp.params[k]).expect("internal: parameters are initialised");
            for v in m.iter_mut() {
                *v = T::cast(flat[at]);
                at += 1;
            }
        }
    }
}

/// The largest violation over all constraints.
fn violation<T: Float>(mlp: &Mlp<T>, tape: &VectorTape<T>, constraints: &[ParamConstraint]) -> f64 {
    constraints.iter().map(|c| c.constraint.violation(&gather(mlp, tape, c))).fold(0.0, f64::max)
}

/// Mean loss and accuracy over a whole set, in chunks of 1024 samples to bound memory.
fn evaluate<T: Float>(mlp: &Mlp<T>, tape: &mut VectorTape<T>, data: &Encoded<T>) -> Result<(f64, Option<f64>), String> {
    let n = data.x.ncols();
    let (mut loss, mut correct) = (0.0, 0usize);
    for start in (0..n).step_by(1024) {
        let len = 1024.min(n - start);
        tape.set(mlp.input, data.x.columns(start, len).into_owned());
        mlp.dag.forward(tape).map_err(|e| e.to_string())?;
        let out = tape.get(mlp.output).expect("internal: forward ran");
        loss += mlp.spec.loss.value_and_grad(out, &data.y.columns(start, len).into_owned()).0 * len as f64;
        if let Some(labels) = data.labels {
            let pred = mlp.predict_classes(out);
            correct += pred.iter().zip(&labels[start..start + len]).filter(|(p, t)| p == t).count();
        }
    }
    let accuracy = data.labels.map(|_| correct as f64 / n as f64);
    Ok((loss / n as f64, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelConfig;
    use nalgebra::DMatrix;
    use rand::{Rng, SeedableRng};

    /// ReLU layers, logits out, softmax cross-entropy.
    fn relu_classifier(layers: &[usize]) -> crate::ModelParams {
        ModelConfig {
            layers: layers.to_vec(),
            hidden: "relu".into(),
            output: "identity".into(),
            loss: "softmax_cross_entropy".into(),
            init: None,
            autoencoder: false,
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
        let enc = encode(&mlp, &data).unwrap();
        let batch: Vec<usize> = (0..130).rev().collect();
        let mut whole = Shard::new(&mlp);
        whole.gradient(&mlp, &params, &enc, &batch, batch.len()).unwrap();
        for parts in [2, 3] {
            let mut shards: Vec<Shard<f64>> = (0..parts).map(|_| Shard::new(&mlp)).collect();
            for (shard, cols) in shards.iter_mut().zip(batch.chunks(batch.len().div_ceil(parts))) {
                shard.gradient(&mlp, &params, &enc, cols, batch.len()).unwrap();
            }
            for &p in &mlp.params {
                let want = whole.grads.get(p).unwrap();
                let mut sum = shards[0].grads.get(p).unwrap().clone();
                for s in &shards[1..] {
                    sum += s.grads.get(p).unwrap();
                }
                let err = (&sum - want).abs().max();
                assert!(err <= 1e-14 * want.abs().max().max(1.0), "{} in {parts} parts: off by {err}", mlp.dag.name(p));
            }
        }
        assert_eq!(shard_count(32), 1);
        assert_eq!(shard_count(128), 2);
        assert_eq!(shard_count(100_000), MAX_SHARDS);
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
        let params =
            TrainParams { epochs: 2, batch_size: 128, optimizer, precision: Precision::F32, constraints: vec![] };
        let run = |threads: usize| -> Vec<Vec<f32>> {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mlp = Mlp::<f32>::new(spec.clone());
                let mut rng = ChaCha8Rng::seed_from_u64(9);
                let mut tape = mlp.init(&mut rng);
                train(&mlp, &mut tape, &data, None, &params, &mut rng, &mut |_| {}).unwrap();
                mlp.params.iter().map(|&p| tape.get(p).unwrap().as_slice().to_vec()).collect()
            })
        };
        let one = run(1);
        assert_eq!(run(2), one);
        assert_eq!(run(3), one);
    }
}
