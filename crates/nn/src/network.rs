//! A trainable vector graph: the DAG with the nodes the trainer fills (data inputs, targets, the
//! batch size), the scalar loss node it differentiates, and the node whose outputs are
//! predictions. A feed-forward network ([`crate::Mlp`]) and a model written as expressions
//! (`cg-model`) both become one, and one trainer trains both.

use std::ops::Range;

use cg_autodiff::vector::{Loss, Mat, VectorDag};
use cg_core::NodeId;

use crate::{Error, Float, Result};

/// Where a target node's values come from.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSource {
    /// The dataset's target column (class labels or values).
    Labels,
    /// Rows of the feature matrix (an autoencoder reconstructs its input; a second task regresses
    /// one measurement).
    Features(Range<usize>),
}

/// A target node and how it is filled.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetSpec {
    /// The node the target is fed into.
    pub node: NodeId,
    /// Its rows.
    pub width: usize,
    /// Where its values come from.
    pub source: TargetSource,
    /// Labels 0/1 become ±1 (for the margin losses).
    pub plus_minus: bool,
}

/// One term of a loss that is a sum over terms, for the evaluation in f64 and the decision to cut
/// batches into parts.
#[derive(Clone, Debug, PartialEq)]
pub enum LossTerm {
    /// `coefficient × loss(prediction, target)`, the loss averaged over the samples.
    Samples {
        /// Its weight in the total.
        coefficient: f64,
        /// The loss.
        loss: Loss,
        /// The predicted node.
        prediction: NodeId,
        /// The target node.
        target: NodeId,
    },
    /// `coefficient × Σ values / batch size`: a per-sample loss written from primitives
    /// (`batch_mean`), `values` holding a column per sample.
    Mean {
        /// Its weight in the total.
        coefficient: f64,
        /// The per-sample values' node.
        values: NodeId,
    },
    /// `coefficient × node` for a 1 × 1 node that no data reaches (a penalty on parameters).
    Parameters {
        /// Its weight in the total.
        coefficient: f64,
        /// The penalty's node.
        node: NodeId,
    },
}

/// How a prediction's outputs become a class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// The row of the largest output (several outputs).
    Argmax,
    /// Class 1 where the one output is >= this number (0 for the margin losses' sign, 0.5 for a
    /// probability).
    Above(f64),
}

/// The inputs of the random operations (dropout): a 1 × 1 seed, drawn for every mini-batch
/// (NaN in evaluation: the operations pass their input through), and a 1 × part row of the
/// samples' indices in the training set, so each sample's mask depends on the sample, not on the
/// part of the batch it lands in (the same numbers on any number of threads).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// The step's seed.
    pub seed: NodeId,
    /// The samples' indices.
    pub samples: NodeId,
}

/// Running statistics of a batch normalisation, kept by the trainer: after every mini-batch,
/// each is moved towards the batch's statistics of `input` (mean and population variance of each
/// row): s ⇐ (1 - momentum) s + momentum · batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunningStats {
    /// The node normalised.
    pub input: NodeId,
    /// The index (in `params`) of the frozen parameter holding the running means.
    pub mean: usize,
    /// The index of the frozen parameter holding the running variances.
    pub var: usize,
    /// The weight of each batch.
    pub momentum: f64,
}

/// A vector graph ready to train.
pub struct Network<T: Float> {
    /// The vector graph.
    pub dag: VectorDag<T>,
    /// Input nodes and the rows of the feature matrix each takes.
    pub inputs: Vec<(NodeId, Range<usize>)>,
    /// The targets fed with each batch.
    pub targets: Vec<TargetSpec>,
    /// 1 × 1 input: the size of the whole mini-batch (loss nodes divide by it).
    pub batch_size: NodeId,
    /// 1 × 1 input: this part's share of the mini-batch (parameter terms are scaled by it, so the
    /// parts of a batch add up to one penalty).
    pub fraction: NodeId,
    /// The 1 × 1 objective.
    pub loss: NodeId,
    /// The loss as a sum of terms, when it is one: then batches may be cut into parts and the
    /// loss is evaluated in f64. `None` for any other loss (one part, evaluated on the tape).
    pub terms: Option<Vec<LossTerm>>,
    /// Node whose outputs are predictions (accuracy, predicted classes).
    pub predict: NodeId,
    /// How outputs become classes.
    pub decision: Decision,
    /// The inputs of random operations (and of the train/evaluation switch of batch
    /// normalisation), when the graph has any.
    pub noise: Option<Noise>,
    /// The running statistics the trainer keeps (batch normalisation).
    pub running: Vec<RunningStats>,
    /// Learnable parameters, in declaration order, with their names.
    pub params: Vec<NodeId>,
    /// The parameters' names, in order.
    pub param_names: Vec<String>,
    /// For each parameter, whether it is frozen (`trainable = false`): saved and loaded with the
    /// others, but never updated. Empty: none is.
    pub frozen: Vec<bool>,
}

/// Data encoded for a network: one matrix per input and per target, and the class labels.
pub struct Encoded<'a, T: Float> {
    /// Input matrices, one per input node.
    pub xs: Vec<Mat<T>>,
    /// Target matrices, one per target.
    pub ys: Vec<Mat<T>>,
    /// Class labels, for accuracy.
    pub labels: Option<&'a [f64]>,
    /// The number of samples.
    pub n: usize,
}

impl<T: Float> Network<T> {
    /// Targets as the loss expects them: one-hot columns for a width above 1 (class labels), ±1
    /// for margin losses on labels 0/1, the values themselves otherwise.
    ///
    /// # Errors
    /// A label outside the target's classes.
    pub fn encode_labels(targets: &[f64], width: usize, plus_minus: bool) -> Result<Mat<T>> {
        if width == 1 {
            let zero_one = targets.iter().all(|&t| t == 0.0 || t == 1.0);
            if plus_minus && !zero_one && !targets.iter().all(|&t| t == -1.0 || t == 1.0) {
                let mut found: Vec<f64> = targets.to_vec();
                found.sort_by(f64::total_cmp);
                found.dedup();
                let shown: Vec<String> = found.iter().take(6).map(|v| v.to_string()).collect();
                let more = if found.len() > 6 { ", ..." } else { "" };
                return Err(Error::MarginLabels { found: format!("{}{more}", shown.join(", ")) });
            }
            return Ok(Mat::from_fn(1, targets.len(), |_, j| {
                let t = targets[j];
                T::cast(if plus_minus && zero_one { 2.0 * t - 1.0 } else { t })
            }));
        }
        if let Some(bad) = targets.iter().find(|&&t| t < 0.0 || t.fract() != 0.0 || t >= width as f64) {
            return Err(Error::NotAClass { value: *bad, classes: width });
        }
        Ok(Mat::from_fn(width, targets.len(), |i, j| if targets[j] as usize == i { T::one() } else { T::zero() }))
    }

    /// Splits `d`'s features over the inputs and encodes the targets.
    ///
    /// # Errors
    /// A feature count that does not match the inputs, or labels the targets cannot take.
    pub fn encode<'a>(&self, d: &'a cg_data::Dataset) -> Result<Encoded<'a, T>> {
        let expected = self.inputs.iter().map(|(_, r)| r.end).max().unwrap_or(0);
        let used = self.targets.iter().filter_map(|t| match &t.source {
            TargetSource::Features(r) => Some(r.end),
            TargetSource::Labels => None,
        });
        let expected = used.fold(expected, usize::max);
        if d.n_features() != expected {
            return Err(Error::InputWidth { expected, found: d.n_features() });
        }
        let rows = |r: &Range<usize>| -> Mat<T> { d.features.rows(r.start, r.len()).map(T::cast) };
        let xs = self.inputs.iter().map(|(_, r)| rows(r)).collect();
        let mut ys = vec![];
        let mut labels = None;
        for t in &self.targets {
            ys.push(match &t.source {
                TargetSource::Features(r) => rows(r),
                TargetSource::Labels => {
                    labels = d.class_count().is_ok().then_some(d.targets.as_slice());
                    Self::encode_labels(&d.targets, t.width, t.plus_minus)?
                }
            });
        }
        Ok(Encoded { xs, ys, labels, n: d.n_samples() })
    }

    /// The predicted class of each column of a prediction by the network's [`Decision`]: the
    /// argmax for several outputs, output >= the threshold for one.
    pub fn predict_classes(&self, out: &Mat<T>) -> Vec<f64> {
        let threshold = match self.decision {
            Decision::Above(t) if out.nrows() == 1 => t,
            _ => return out.column_iter().map(|c| c.argmax().0 as f64).collect(),
        };
        out.iter().map(|&o| f64::from(u8::from(o.as_f64() >= threshold))).collect()
    }

    /// The prediction for the samples in `xs` (one matrix per input, samples as columns). The
    /// targets are set to zeros: only the prediction is read.
    ///
    /// # Errors
    /// Inputs that do not fit, or a non-finite value, naming the node.
    pub fn predict(&self, tape: &mut cg_autodiff::vector::VectorTape<T>, xs: Vec<Mat<T>>) -> Result<Mat<T>> {
        let cols = xs.first().map_or(0, Mat::ncols);
        for ((node, _), x) in self.inputs.iter().zip(xs) {
            tape.set(*node, x);
        }
        for t in &self.targets {
            tape.set(t.node, Mat::zeros(t.width, cols));
        }
        tape.set(self.batch_size, Mat::from_element(1, 1, T::cast(cols.max(1) as f64)));
        tape.set(self.fraction, Mat::from_element(1, 1, T::one()));
        self.evaluation_mode(tape);
        self.dag.forward(tape)?;
        Ok(tape.get(self.predict).expect("internal: forward ran").clone())
    }

    /// Sets the random operations' inputs for evaluation (they pass their input through).
    pub fn evaluation_mode(&self, tape: &mut cg_autodiff::vector::VectorTape<T>) {
        if let Some(noise) = self.noise {
            tape.set(noise.seed, Mat::from_element(1, 1, T::cast(f64::NAN)));
            tape.set(noise.samples, Mat::from_element(1, 1, T::zero()));
        }
    }

    /// The loss's name for messages: the one per-sample loss, or "total".
    pub fn loss_name(&self) -> &'static str {
        match self.terms.as_deref() {
            Some([LossTerm::Samples { loss, .. }]) => loss.name(),
            _ => "total",
        }
    }

    /// Whether parameter `k` (in `params`' order) is frozen.
    pub fn is_frozen(&self, k: usize) -> bool {
        self.frozen.get(k).copied().unwrap_or(false)
    }

    /// Number of learnable numbers, given their values.
    pub fn parameter_count(&self, tape: &cg_autodiff::vector::VectorTape<T>) -> usize {
        self.params.iter().map(|&p| tape.get(p).map_or(0, |m| m.len())).sum()
    }
}
