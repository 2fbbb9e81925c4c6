//! The update kernel: SGD, momentum and Adam steps over flat parameter slices, in f64 or f32,
//! split over threads for large parameters.

use rayon::prelude::*;

use crate::*;

/// A parameter's number type. The update arithmetic (and the optimiser's state) is f64 whatever
/// the parameters are stored in, so f32 networks lose no precision in the moments.
pub trait Scalar: Copy + Send + Sync {
    /// As an f64.
    fn to_f64(self) -> f64;
    /// From an f64.
    fn from_f64(x: f64) -> Self;
}

impl Scalar for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(x: f64) -> Self {
        x
    }
}

impl Scalar for f32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

/// An optimiser with its per-parameter state (velocities, moments).
#[derive(Clone, Debug)]
pub struct Optimizer {
    params: OptimizerParams,
    /// Per parameter: first state vector (velocity or m), second (s, Adam only).
    state: Vec<(Vec<f64>, Vec<f64>)>,
    /// Per parameter: whether weight decay applies.
    decayed: Vec<bool>,
    steps: u64,
}

impl Optimizer {
    /// An optimiser for parameters of the given sizes (in the order `update` will be called with).
    pub fn new(params: OptimizerParams, sizes: &[usize]) -> Optimizer {
        let second = matches!(params.method, Method::Adam { .. });
        let state = sizes.iter().map(|&n| (vec![0.0; n], if second { vec![0.0; n] } else { vec![] })).collect();
        Optimizer { params, state, decayed: vec![true; sizes.len()], steps: 0 }
    }

    /// Leaves parameter `k` out of the weight decay (an unpenalised bias).
    ///
    /// # Panics
    /// If `k` is not a parameter index.
    pub fn exclude_from_decay(&mut self, k: usize) {
        self.decayed[k] = false;
    }

    /// Saves the moments and the step count (Adam's bias correction reads it) for a run stopped
    /// between two steps.
    pub fn save(&self, into: &mut cg_core::Snapshot) {
        into.put("optimizer_steps", &self.steps);
        for (k, (first, second)) in self.state.iter().enumerate() {
            into.put_tensor(&format!("optimizer/{k}/first"), vec![first.len()], first.iter().copied());
            if !second.is_empty() {
                into.put_tensor(&format!("optimizer/{k}/second"), vec![second.len()], second.iter().copied());
            }
        }
    }

    /// Takes back what [`Optimizer::save`] saved.
    ///
    /// # Errors
    /// A snapshot of parameters of other sizes or another method.
    pub fn restore(&mut self, from: &cg_core::Snapshot) -> Result<(), cg_core::SnapshotError> {
        self.steps = from.get("optimizer_steps")?;
        for (k, (first, second)) in self.state.iter_mut().enumerate() {
            from.copy_into(&format!("optimizer/{k}/first"), first)?;
            if !second.is_empty() {
                from.copy_into(&format!("optimizer/{k}/second"), second)?;
            }
        }
        Ok(())
    }

    /// Starts a step (one mini-batch) in `epoch`; returns its learning rate.
    pub fn begin_step(&mut self, epoch: usize) -> f64 {
        self.steps += 1;
        self.params.learning_rate_at(epoch)
    }

    /// Updates parameter `k` in place from its gradient, at learning rate `lr` (from
    /// [`Optimizer::begin_step`]).
    ///
    /// # Panics
    /// If `k` or the lengths differ from those given to [`Optimizer::new`].
    ///
    /// Large parameters are updated in chunks on rayon's pool: each element's arithmetic is the
    /// same, so the result does not depend on the thread count, and the pool's threads stay
    /// awake between a training loop's parallel matrix products (a sleeping one took longer to
    /// wake than the update took).
    pub fn update<S: Scalar>(&mut self, k: usize, w: &mut [S], grad: &[S], lr: f64) {
        // Callers of the one-part form check their gradient themselves, where they have one.
        let _finite = self.update_sum(k, w, &[grad], lr);
    }

    /// `update` with the gradient given as parts to add up (the shards of a data-parallel
    /// mini-batch), summed in f64 inside the update loop instead of in a pass of their own.
    /// Returns whether every updated value is finite: false when a gradient part held an
    /// infinity or NaN (it reaches the weight) or the step itself overflowed, checked in the
    /// same pass, so a trainer need not check the gradients in a pass of their own.
    ///
    /// # Panics
    /// As `update`, or with no parts.
    #[must_use = "a false result means the parameter is no longer finite"]
    pub fn update_sum<S: Scalar>(&mut self, k: usize, w: &mut [S], parts: &[&[S]], lr: f64) -> bool {
        assert!(!parts.is_empty(), "internal: no gradient");
        assert!(parts.iter().all(|g| g.len() == w.len()), "internal: parameter and gradient sizes differ");
        let mut step = Step::new(&self.params, self.steps, lr);
        if !self.decayed[k] {
            step.lambda = 0.0;
        }
        let (first, second) = &mut self.state[k];
        if w.len() < PARALLEL_FROM {
            return apply_step(step, w, parts, 0, first, second);
        }
        let mut chunks = vec![];
        let (mut w, mut first, mut second, mut at) = (w, first.as_mut_slice(), second.as_mut_slice(), 0);
        while !w.is_empty() {
            let n = CHUNK.min(w.len());
            let (w0, w1) = w.split_at_mut(n);
            let (f0, f1) = first.split_at_mut(n.min(first.len()));
            let (s0, s1) = second.split_at_mut(n.min(second.len()));
            chunks.push((w0, at, f0, s0));
            (w, first, second, at) = (w1, f1, s1, at + n);
        }
        // Every chunk is updated (no early exit), then the answers are combined.
        chunks.into_par_iter().map(|(w, at, f, s)| apply_step(step, w, parts, at, f, s)).reduce(|| true, |a, b| a & b)
    }
}

// The conversions between f32 and f64 and the update arithmetic at AVX2 width: a third of the
// baseline build's time on bench_mlp's 400 k parameters.
cg_core::avx2_dispatch!(
    fn apply_step<S: Scalar>(step: Step, w: &mut [S], parts: &[&[S]], at: usize, first: &mut [f64], second: &mut [f64]) -> bool
        => Step::apply
);

/// Parameters at least this long are updated in parallel chunks of `CHUNK` elements.
pub(crate) const PARALLEL_FROM: usize = 1 << 15;
pub(crate) const CHUNK: usize = 1 << 13;

/// One step's constants.
#[derive(Clone, Copy)]
pub(crate) struct Step {
    method: Method,
    lr: f64,
    lambda: f64,
    /// Adam's bias corrections 1 - β^t.
    corrections: (f64, f64),
}

impl Step {
    fn new(params: &OptimizerParams, steps: u64, lr: f64) -> Step {
        let corrections = match params.method {
            Method::Adam { beta1, beta2, .. } => {
                let t = steps.max(1) as i32;
                (1.0 - beta1.powi(t), 1.0 - beta2.powi(t))
            }
            _ => (1.0, 1.0),
        };
        Step { method: params.method, lr, lambda: params.weight_decay, corrections }
    }

    /// Updates `w` from the sum of `parts[..][at..at + w.len()]`, with the state slices of the
    /// same elements. The parts are summed into a small f64 block first, so every loop is a
    /// plain zip that vectorises.
    /// Returns whether every new value of `w` is finite.
    #[inline(always)]
    fn apply<S: Scalar>(self, w: &mut [S], parts: &[&[S]], at: usize, first: &mut [f64], second: &mut [f64]) -> bool {
        const BLOCK: usize = 256;
        let mut block = [0.0f64; BLOCK];
        // x - x is 0 for a finite x and NaN otherwise; eight independent sums, so it vectorises.
        let mut lanes = [0.0f64; 8];
        for start in (0..w.len()).step_by(BLOCK) {
            let end = (start + BLOCK).min(w.len());
            let g = &mut block[..end - start];
            let range = at + start..at + end;
            for (g, p) in g.iter_mut().zip(&parts[0][range.clone()]) {
                *g = p.to_f64();
            }
            for part in &parts[1..] {
                for (g, p) in g.iter_mut().zip(&part[range.clone()]) {
                    *g += p.to_f64();
                }
            }
            // State vectors are empty for methods that keep none.
            let first = if first.is_empty() { &mut [][..] } else { &mut first[start..end] };
            let second = if second.is_empty() { &mut [][..] } else { &mut second[start..end] };
            self.apply_block(&mut w[start..end], g, first, second);
            let mut new = w[start..end].chunks_exact(8);
            for chunk in &mut new {
                for (lane, x) in lanes.iter_mut().zip(chunk) {
                    let x = x.to_f64();
                    #[allow(clippy::eq_op)] // on purpose: NaN exactly when x is not finite
                    let zero_if_finite = x - x;
                    *lane += zero_if_finite;
                }
            }
            for x in new.remainder() {
                lanes[0] += x.to_f64() - x.to_f64();
            }
        }
        lanes.iter().all(|&l| l == 0.0)
    }

    /// The update rule on one block, gradient `grad` (f64).
    #[inline(always)]
    fn apply_block<S: Scalar>(self, w: &mut [S], grad: &[f64], first: &mut [f64], second: &mut [f64]) {
        let Step { lr, lambda, .. } = self;
        match self.method {
            Method::Sgd => {
                for (w, g) in w.iter_mut().zip(grad) {
                    let x = w.to_f64();
                    *w = S::from_f64(x - lr * (g + lambda * x));
                }
            }
            Method::Momentum { beta } => {
                for ((w, g), v) in w.iter_mut().zip(grad).zip(first.iter_mut()) {
                    let x = w.to_f64();
                    *v = beta * *v + g + lambda * x;
                    *w = S::from_f64(x - lr * *v);
                }
            }
            Method::Adam { beta1, beta2, epsilon } => {
                let (c1, c2) = self.corrections;
                for (((w, g), m), s) in w.iter_mut().zip(grad).zip(first.iter_mut()).zip(second.iter_mut()) {
                    let x = w.to_f64();
                    let g = g + lambda * x;
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *s = beta2 * *s + (1.0 - beta2) * g * g;
                    *w = S::from_f64(x - lr * (*m / c1) / ((*s / c2).sqrt() + epsilon));
                }
            }
        }
    }
}
