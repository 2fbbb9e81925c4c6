//! Recurrent networks unrolled through time (exercises 9-12): for steps p = 1..t,
//!
//! ```text
//! h_p = tanh(W h_{p-1} + V x_p),   o_p = U h_p,   h_0 = 0,   L = Σ_p L(o_p)
//! ```
//!
//! with W (m × m), V (m × d) and U (k × m) shared by every step. The unrolled network is an
//! ordinary vector DAG of `cg-autodiff` in which the three parameter nodes feed t operations each,
//! so backpropagation through time is plain reverse mode: the gradient of a shared matrix is the
//! sum over its uses (exercise 5).

use std::sync::Arc;

use cg_autodiff::vector::{Activation, Add, Linear, Loss, Mat, VectorDag, VectorDagBuilder, VectorTape};
use cg_core::{NodeId, Resumable, Snapshot, SnapshotError, Solver};
use cg_optim::{Optimizer, OptimizerParams, ParamConstraint};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::constraints::project;
use crate::resume::{restore_params, save_params};
use crate::{Error, Result};

/// An unrolled recurrent network.
pub struct Rnn {
    /// The unrolled graph.
    pub dag: VectorDag,
    /// x_1 … x_t.
    pub inputs: Vec<NodeId>,
    /// h_0 (set to zeros).
    pub h0: NodeId,
    /// h_1 … h_t.
    pub hidden: Vec<NodeId>,
    /// o_1 … o_t.
    pub outputs: Vec<NodeId>,
    /// The hidden-to-hidden weights.
    pub w: NodeId,
    /// The input-to-hidden weights.
    pub v: NodeId,
    /// The hidden-to-output weights.
    pub u: NodeId,
    /// (d, m, k): input, hidden and output widths.
    pub widths: (usize, usize, usize),
}

impl Rnn {
    /// Unrolls `steps` steps of a network with input width d, hidden width m, output width k.
    pub fn new(steps: usize, d: usize, m: usize, k: usize) -> Rnn {
        let build = || -> cg_autodiff::Result<Rnn> {
            let mut b = VectorDagBuilder::<f64>::new();
            let (w, v, u) = (b.param("W")?, b.param("V")?, b.param("U")?);
            let h0 = b.input("h0")?;
            let (mut inputs, mut hidden, mut outputs) = (vec![], vec![], vec![]);
            let mut h = h0;
            for p in 1..=steps {
                let x = b.input(&format!("x{p}"))?;
                let wh = b.op(&format!("Wh{p}"), Arc::new(Linear), &[w, h], false)?;
                let vx = b.op(&format!("Vx{p}"), Arc::new(Linear), &[v, x], false)?;
                let a = b.op(&format!("a{p}"), Arc::new(Add), &[wh, vx], false)?;
                h = b.op(&format!("h{p}"), Arc::new(Activation::Tanh), &[a], false)?;
                let o = b.op(&format!("o{p}"), Arc::new(Linear), &[u, h], true)?;
                inputs.push(x);
                hidden.push(h);
                outputs.push(o);
            }
            Ok(Rnn { dag: b.build()?, inputs, h0, hidden, outputs, w, v, u, widths: (d, m, k) })
        };
        build().expect("internal: an unrolled RNN has fresh names and no cycles")
    }

    /// A tape with W, V, U drawn uniformly on ±sqrt(6 / (fan_in + fan_out)) from `rng`.
    pub fn init(&self, rng: &mut ChaCha8Rng) -> VectorTape {
        let (d, m, k) = self.widths;
        let mut tape = self.dag.tape();
        for (id, rows, cols) in [(self.w, m, m), (self.v, m, d), (self.u, k, m)] {
            let a = (6.0 / (rows + cols) as f64).sqrt();
            tape.set(id, Mat::from_fn(rows, cols, |_, _| rng.random_range(-a..=a)));
        }
        tape
    }

    /// Sets a batch of sequences (`xs[p]` is d × B) and h_0 = 0, runs forward and backward with
    /// loss Σ_p `loss`(o_p, `ys[p]`) (each term a mean over the batch), and returns the loss and
    /// the gradients of (W, V, U).
    ///
    /// # Errors
    /// A shape mismatch or a non-finite number, naming the node.
    pub fn loss_and_grads(
        &self,
        tape: &mut VectorTape,
        xs: &[Mat],
        ys: &[Mat],
        loss: Loss,
    ) -> cg_autodiff::Result<(f64, [Mat; 3])> {
        let (total, seeds) = self.forward_loss(tape, xs, ys, loss)?;
        let grads = self.dag.reverse(tape, seeds, false)?;
        let g = |id| grads.get(id).expect("internal: parameters reach the loss").clone();
        Ok((total, [g(self.w), g(self.v), g(self.u)]))
    }

    /// The loss Σ_p `loss`(o_p, ys[p]) of the sequences `xs` (forward only), and its gradient
    /// with respect to each output, the seeds of the backward pass.
    ///
    /// # Errors
    /// A shape mismatch or a non-finite number, naming the node.
    fn forward_loss(
        &self,
        tape: &mut VectorTape,
        xs: &[Mat],
        ys: &[Mat],
        loss: Loss,
    ) -> cg_autodiff::Result<(f64, Vec<(NodeId, Mat)>)> {
        let batch = xs.first().map_or(1, Mat::ncols);
        tape.set(self.h0, Mat::zeros(self.widths.1, batch));
        for (&id, x) in self.inputs.iter().zip(xs) {
            tape.set(id, x.clone());
        }
        self.dag.forward(tape)?;
        let mut total = 0.0;
        let mut seeds = vec![];
        for (&o, y) in self.outputs.iter().zip(ys) {
            let (l, g) = loss.value_and_grad(tape.get(o).expect("internal: forward ran"), y);
            total += l;
            seeds.push((o, g));
        }
        Ok((total, seeds))
    }

    /// The loss of the sequences `xs` by a forward pass alone (evaluation).
    ///
    /// # Errors
    /// As [`Rnn::loss_and_grads`].
    pub fn loss(&self, tape: &mut VectorTape, xs: &[Mat], ys: &[Mat], loss: Loss) -> cg_autodiff::Result<f64> {
        Ok(self.forward_loss(tape, xs, ys, loss)?.0)
    }

    /// The outputs o_1 … o_t of the last forward pass.
    pub fn predictions(&self, tape: &VectorTape) -> Vec<Mat> {
        self.outputs.iter().map(|&o| tape.get(o).expect("internal: forward ran").clone()).collect()
    }
}

/// A task that needs memory: sequences x_p = sin(ω p + φ) with a uniform phase φ, targets
/// y_p = sin(ω (p + ahead) + φ). A single value does not tell whether the wave is rising or
/// falling, so the network must carry the recent past in its state.
#[derive(Deserialize, Clone, Copy, Debug, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SineTask {
    /// Time steps per sequence.
    pub steps: usize,
    /// Predict the wave this many steps ahead.
    pub ahead: usize,
    /// Angular step of the wave per time step (radians).
    pub frequency: f64,
    /// Training sequences (random phases from the seed).
    pub train_sequences: usize,
    /// Test sequences (other random phases).
    pub test_sequences: usize,
}

impl cg_core::Validate for SineTask {
    type Params = SineTask;
    type Error = cg_core::OutOfRange;

    /// ```
    /// use cg_core::Validate;
    /// let task = cg_nn::SineTask { steps: 20, ahead: 3, frequency: 0.3, train_sequences: 64, test_sequences: 16 };
    /// assert_eq!(task.validate().unwrap(), task);
    /// let flat = cg_nn::SineTask { frequency: 0.0, ..task };
    /// assert_eq!(flat.validate().unwrap_err().to_string(), "frequency = 0 is out of range (> 0)");
    /// ```
    ///
    /// # Errors
    /// No steps or sequences, or a frequency that is not positive and finite.
    fn validate(&self) -> Result<SineTask, cg_core::OutOfRange> {
        for (name, n) in
            [("steps", self.steps), ("train_sequences", self.train_sequences), ("test_sequences", self.test_sequences)]
        {
            cg_core::OutOfRange::at_least(name, n, 1, ">= 1")?;
        }
        cg_core::OutOfRange::check("frequency", self.frequency, self.frequency > 0.0, "> 0")?;
        Ok(*self)
    }
}

impl SineTask {
    /// Inputs and targets per step of `n` sequences: `xs[p]` and `ys[p]` are 1 × n.
    pub fn sequences(&self, n: usize, rng: &mut ChaCha8Rng) -> (Vec<Mat>, Vec<Mat>) {
        let phases: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..std::f64::consts::TAU)).collect();
        let wave =
            |p: usize, shift: usize| Mat::from_fn(1, n, |_, j| (self.frequency * (p + shift) as f64 + phases[j]).sin());
        ((1..=self.steps).map(|p| wave(p, 0)).collect(), (1..=self.steps).map(|p| wave(p, self.ahead)).collect())
    }
}

/// Backpropagation through time as a [`Solver`]: one step is one epoch of mini-batches of
/// sequences in a shuffled order (squared error summed over the steps), each update followed by
/// the constraints' projection; then the loss per step on the training and test sequences.
pub struct RnnTrainer<'a> {
    /// The network trained.
    pub rnn: &'a Rnn,
    /// (inputs, targets) per step, training and test.
    pub train: (Vec<Mat>, Vec<Mat>),
    /// Test inputs and targets.
    pub test: (Vec<Mat>, Vec<Mat>),
    /// The optimiser.
    pub optimizer: OptimizerParams,
    /// Sequences per mini-batch.
    pub batch_size: usize,
    /// Projections of W, V and U (parameter indices 0, 1, 2).
    pub constraints: Vec<ParamConstraint>,
}

/// The parameters (in `tape`), the optimiser's moments and the shuffling order.
pub struct RnnState {
    /// The tape of the unrolled graph.
    pub tape: VectorTape,
    optimizer: Optimizer,
    order: Vec<usize>,
    /// Epochs completed.
    pub epochs_done: usize,
}

/// The loss per step after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RnnRecord {
    /// The mean training loss of the epoch.
    pub train_loss: f64,
    /// The test loss after it.
    pub test_loss: f64,
}

impl cg_core::Objective for RnnRecord {
    fn objective(&self) -> Option<f64> {
        Some(self.train_loss)
    }
}

impl RnnTrainer<'_> {
    /// The parameters W, V, U in the constraints' index order.
    pub fn params(&self) -> [NodeId; 3] {
        [self.rnn.w, self.rnn.v, self.rnn.u]
    }

    /// The state at the start of training from the parameters in `tape`, projected onto the
    /// constraints.
    pub fn start(&self, mut tape: VectorTape) -> RnnState {
        project(&self.params(), &mut tape, &self.constraints);
        let sizes: Vec<usize> = self.params().iter().map(|&p| tape.get(p).map_or(0, |m| m.len())).collect();
        RnnState {
            tape,
            optimizer: Optimizer::new(self.optimizer, &sizes),
            order: (0..self.train.0.first().map_or(0, Mat::ncols)).collect(),
            epochs_done: 0,
        }
    }

    /// Σ_p mean_batch (o_p - y_p)² / t: the loss per step and sequence. Leaves the forward pass
    /// of these sequences on the tape.
    ///
    /// # Errors
    /// A non-finite number, naming the node.
    pub fn loss(&self, tape: &mut VectorTape, xs: &[Mat], ys: &[Mat]) -> Result<f64> {
        Ok(self.rnn.loss(tape, xs, ys, Loss::SquaredError)? / xs.len() as f64)
    }
}

/// A stopped run needs W, V, U, the optimiser's moments and the shuffling order.
impl Resumable for RnnTrainer<'_> {
    fn save(&self, st: &RnnState, into: &mut Snapshot) {
        save_params(&self.params(), &st.tape, into);
        st.optimizer.save(into);
        into.put("order", &st.order);
        into.put("epochs_done", &st.epochs_done);
    }

    fn restore(&self, st: &mut RnnState, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        restore_params(&self.params(), &mut st.tape, from)?;
        st.optimizer.restore(from)?;
        let order: Vec<usize> = from.get("order")?;
        if order.len() != st.order.len() {
            return Err(SnapshotError(format!("{} training sequences saved, {} now", order.len(), st.order.len())));
        }
        (st.order, st.epochs_done) = (order, from.get("epochs_done")?);
        Ok(())
    }
}

impl Solver for RnnTrainer<'_> {
    type State = RnnState;
    type Record = RnnRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        "backpropagation through time"
    }

    fn step(&mut self, st: &mut RnnState, rng: &mut ChaCha8Rng) -> Result<RnnRecord> {
        let epoch = st.epochs_done;
        let params = self.params();
        st.order.shuffle(rng);
        for (b, batch) in st.order.chunks(self.batch_size).enumerate() {
            let xs: Vec<Mat> = self.train.0.iter().map(|x| x.select_columns(batch)).collect();
            let ys: Vec<Mat> = self.train.1.iter().map(|y| y.select_columns(batch)).collect();
            let (_, grads) = self
                .rnn
                .loss_and_grads(&mut st.tape, &xs, &ys, Loss::SquaredError)
                .map_err(|e| Error::from(e).at(format!("epoch {}, batch {}", epoch + 1, b + 1)))?;
            let lr = st.optimizer.begin_step(epoch);
            for (k, (&p, g)) in params.iter().zip(&grads).enumerate() {
                st.optimizer.update(
                    k,
                    st.tape.get_mut(p).expect("internal: initialised").as_mut_slice(),
                    g.as_slice(),
                    lr,
                );
            }
            project(&params, &mut st.tape, &self.constraints);
        }
        st.epochs_done += 1;
        let train_loss = self.loss(&mut st.tape, &self.train.0, &self.train.1)?;
        let test_loss = self.loss(&mut st.tape, &self.test.0, &self.test.1)?;
        Ok(RnnRecord { train_loss, test_loss })
    }
}
