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
use cg_core::NodeId;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// An unrolled recurrent network.
pub struct Rnn {
    pub dag: VectorDag,
    /// x_1 … x_t.
    pub inputs: Vec<NodeId>,
    /// h_0 (set to zeros).
    pub h0: NodeId,
    /// h_1 … h_t.
    pub hidden: Vec<NodeId>,
    /// o_1 … o_t.
    pub outputs: Vec<NodeId>,
    pub w: NodeId,
    pub v: NodeId,
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

    /// Sets a batch of sequences (xs[p] is d × B) and h_0 = 0, runs forward and backward with
    /// loss Σ_p `loss`(o_p, ys[p]) (each term a mean over the batch), and returns the loss and
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
        let grads = self.dag.reverse(tape, seeds, false)?;
        let g = |id| grads.get(id).expect("internal: parameters reach the loss").clone();
        Ok((total, [g(self.w), g(self.v), g(self.u)]))
    }

    /// The outputs o_1 … o_t of the last forward pass.
    pub fn predictions(&self, tape: &VectorTape) -> Vec<Mat> {
        self.outputs.iter().map(|&o| tape.get(o).expect("internal: forward ran").clone()).collect()
    }
}
