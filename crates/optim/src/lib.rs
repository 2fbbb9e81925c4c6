//! `cg-optim`: first-order updates for the weights of a computational graph (equation 11.10,
//! W ⇐ W - α ∂L/∂W) and its common refinements.
//!
//! - SGD: w ⇐ w - α g.
//! - Momentum: v ⇐ β v + g; w ⇐ w - α v.
//! - Adam (Kingma and Ba, 2015): m ⇐ β1 m + (1 - β1) g; s ⇐ β2 s + (1 - β2) g²;
//!   w ⇐ w - α m̂ / (sqrt(ŝ) + ε) with the bias corrections m̂ = m / (1 - β1^t), ŝ = s / (1 - β2^t).
//!
//! L2 regularisation (`weight_decay` λ) adds λ w to the gradient. Learning-rate schedules depend
//! on the epoch: constant α, step α · factor^⌊epoch / every⌋, inverse time α / (1 + decay · epoch).
//!
//! The optimiser sees parameters as flat slices, so any model (a vector graph's matrices, a scalar
//! graph's weight nodes) can use it.
//!
//! # Example
//! Any [`cg_core::Differentiable`] function is minimised by [`Descent`], a solver that
//! [`cg_core::run`] drives:
//! ```
//! use cg_core::{Differentiable, Validate};
//! use cg_optim::{Descent, OptimizerConfig};
//! use rand::SeedableRng;
//!
//! /// f(x) = (x0 - 1)² + 10 (x1 + 2)².
//! struct Bowl;
//! impl Differentiable for Bowl {
//!     type Error = std::convert::Infallible;
//!     fn dimension(&self) -> usize {
//!         2
//!     }
//!     fn value_and_gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
//!         g[0] = 2.0 * (x[0] - 1.0);
//!         g[1] = 20.0 * (x[1] + 2.0);
//!         Ok((x[0] - 1.0).powi(2) + 10.0 * (x[1] + 2.0).powi(2))
//!     }
//! }
//!
//! let mut descent = Descent::new(Bowl, OptimizerConfig::adam(0.05).validate().unwrap());
//! let mut state = descent.start(vec![0.0, 0.0]);
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! cg_core::run(&mut descent, &mut state, 2000, &mut rng, &mut []).unwrap();
//! assert!((state.x[0] - 1.0).abs() < 1e-6 && (state.x[1] + 2.0).abs() < 1e-6, "{:?}", state.x);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use cg_core::Validate;
use rayon::prelude::*;
use serde::Deserialize;

mod constraints;
mod descent;
pub mod reference;

pub use constraints::{check_equalities, resolve_all, Constraint, ConstraintConfig, ConstraintError, ParamConstraint};
pub use descent::{Descent, DescentRecord, DescentState};

pub use cg_core::OutOfRange;

/// The update rule, with its own settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Plain gradient descent.
    Sgd,
    /// Heavy-ball momentum.
    Momentum {
        /// The momentum coefficient.
        beta: f64,
    },
    /// Adam (Kingma and Ba).
    Adam {
        /// The first moment's decay.
        beta1: f64,
        /// The second moment's decay.
        beta2: f64,
        /// Added to the denominator.
        epsilon: f64,
    },
}

/// How the learning rate changes with the epoch, with its own settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// The same rate throughout.
    Constant,
    /// The rate times `factor` every `every` steps.
    Step {
        /// Steps between drops.
        every: usize,
        /// The factor of each drop.
        factor: f64,
    },
    /// rate / (1 + decay · step).
    InverseTime {
        /// The decay.
        decay: f64,
    },
}

/// `[optimizer]` as written in a config: `method` names the rule and carries its settings
/// (`momentum` for momentum; `beta1`, `beta2`, `epsilon` for Adam), `schedule` likewise
/// (`step_every`, `step_factor` for step; `decay` for inverse_time). A setting of another method
/// or schedule is an error, not ignored. Defaults: method sgd, momentum 0.9, beta1 0.9, beta2
/// 0.999, epsilon 1e-8, schedule constant, step_every 10, step_factor 0.5, decay 0, weight_decay 0.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(try_from = "OptimizerFields")]
pub struct OptimizerConfig {
    /// The update rule.
    pub method: Method,
    /// The initial step size.
    pub learning_rate: f64,
    /// How the step size changes.
    pub schedule: Schedule,
    /// L2 penalty λ: λ w is added to the gradient.
    pub weight_decay: f64,
}

impl OptimizerConfig {
    /// `method` at a constant `learning_rate`, no weight decay; change any field before
    /// [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// use cg_optim::{Method, OptimizerConfig, Schedule};
    /// let adam = OptimizerConfig::adam(1e-3).validate().unwrap();
    /// assert_eq!(adam.method, Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 });
    /// let decayed = OptimizerConfig { schedule: Schedule::InverseTime { decay: 0.1 }, ..OptimizerConfig::sgd(0.5) };
    /// assert_eq!(decayed.validate().unwrap().schedule, Schedule::InverseTime { decay: 0.1 });
    /// // A step size of zero never moves: refused, naming the setting.
    /// assert!(OptimizerConfig::sgd(0.0).validate().unwrap_err().to_string().contains("learning_rate"));
    /// ```
    pub fn new(method: Method, learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig { method, learning_rate, schedule: Schedule::Constant, weight_decay: 0.0 }
    }

    /// Plain gradient descent at `learning_rate`.
    pub fn sgd(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Sgd, learning_rate)
    }

    /// Heavy-ball momentum (β = 0.9) at `learning_rate`.
    pub fn momentum(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Momentum { beta: 0.9 }, learning_rate)
    }

    /// Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8 (Kingma and Ba's values) at `learning_rate`.
    pub fn adam(learning_rate: f64) -> OptimizerConfig {
        OptimizerConfig::new(Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, learning_rate)
    }
}

/// A config's `[optimizer]` is read as `OptimizerFields`, so that is its schema.
impl schemars::JsonSchema for OptimizerConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptimizerConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        OptimizerFields::json_schema(generator)
    }
}

/// The table's fields as written, before they are sorted into the method and the schedule.
/// (Its doc comments are the help `experiments explain` prints.)
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "The optimiser: an update rule with its settings, a learning-rate schedule, an L2 penalty.")]
struct OptimizerFields {
    /// The update rule: plain gradient descent, heavy-ball momentum, or Adam.
    #[serde(default)]
    method: MethodName,
    /// Step size α (the first epoch's, under a schedule).
    learning_rate: f64,
    /// momentum only: β, the fraction of the last step kept (default 0.9).
    momentum: Option<f64>,
    /// adam only: decay of the first-moment average (default 0.9).
    beta1: Option<f64>,
    /// adam only: decay of the second-moment average (default 0.999).
    beta2: Option<f64>,
    /// adam only: added to the root of the second moment (default 1e-8).
    epsilon: Option<f64>,
    /// How the learning rate changes with the epoch.
    #[serde(default)]
    schedule: ScheduleName,
    /// step schedule only: epochs between reductions (default 10).
    step_every: Option<usize>,
    /// step schedule only: factor applied at each reduction (default 0.5).
    step_factor: Option<f64>,
    /// inverse_time schedule only: α / (1 + decay · epoch) (default 0).
    decay: Option<f64>,
    /// L2 penalty λ: λ w is added to each gradient (biases too unless the model says otherwise).
    #[serde(default)]
    weight_decay: f64,
}

#[derive(Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum MethodName {
    #[default]
    Sgd,
    Momentum,
    Adam,
}

#[derive(Clone, Copy, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ScheduleName {
    #[default]
    Constant,
    Step,
    InverseTime,
}

/// `Err` naming a setting given for a method or schedule that does not take it.
fn only(owner: &str, given: &[(&str, bool)], takes: &str) -> Result<(), String> {
    match given.iter().find(|(_, present)| *present) {
        Some((name, _)) => Err(format!("`{name}` is not a setting of {owner} (its settings: {takes})")),
        None => Ok(()),
    }
}

impl TryFrom<OptimizerFields> for OptimizerConfig {
    type Error = String;

    fn try_from(f: OptimizerFields) -> Result<OptimizerConfig, String> {
        let (m, b1, b2, e) = (f.momentum.is_some(), f.beta1.is_some(), f.beta2.is_some(), f.epsilon.is_some());
        let method = match f.method {
            MethodName::Sgd => {
                only("method `sgd`", &[("momentum", m), ("beta1", b1), ("beta2", b2), ("epsilon", e)], "none")?;
                Method::Sgd
            }
            MethodName::Momentum => {
                only("method `momentum`", &[("beta1", b1), ("beta2", b2), ("epsilon", e)], "momentum")?;
                Method::Momentum { beta: f.momentum.unwrap_or(0.9) }
            }
            MethodName::Adam => {
                only("method `adam`", &[("momentum", m)], "beta1, beta2, epsilon")?;
                Method::Adam {
                    beta1: f.beta1.unwrap_or(0.9),
                    beta2: f.beta2.unwrap_or(0.999),
                    epsilon: f.epsilon.unwrap_or(1e-8),
                }
            }
        };
        let (every, factor, decay) = (f.step_every.is_some(), f.step_factor.is_some(), f.decay.is_some());
        let schedule = match f.schedule {
            ScheduleName::Constant => {
                only(
                    "schedule `constant`",
                    &[("step_every", every), ("step_factor", factor), ("decay", decay)],
                    "none",
                )?;
                Schedule::Constant
            }
            ScheduleName::Step => {
                only("schedule `step`", &[("decay", decay)], "step_every, step_factor")?;
                Schedule::Step { every: f.step_every.unwrap_or(10), factor: f.step_factor.unwrap_or(0.5) }
            }
            ScheduleName::InverseTime => {
                only("schedule `inverse_time`", &[("step_every", every), ("step_factor", factor)], "decay")?;
                Schedule::InverseTime { decay: f.decay.unwrap_or(0.0) }
            }
        };
        Ok(OptimizerConfig { method, learning_rate: f.learning_rate, schedule, weight_decay: f.weight_decay })
    }
}

/// Checked optimiser settings: what the update rule runs with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerParams {
    /// The update rule.
    pub method: Method,
    /// The initial step size.
    pub learning_rate: f64,
    /// How the step size changes.
    pub schedule: Schedule,
    /// The L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Validate for OptimizerConfig {
    type Params = OptimizerParams;
    type Error = OutOfRange;

    /// Checks every number.
    ///
    /// # Errors
    /// The first setting out of range.
    fn validate(&self) -> Result<OptimizerParams, OutOfRange> {
        OutOfRange::check("learning_rate", self.learning_rate, self.learning_rate > 0.0, "> 0")?;
        OutOfRange::check("weight_decay", self.weight_decay, self.weight_decay >= 0.0, ">= 0")?;
        match self.method {
            Method::Sgd => {}
            Method::Momentum { beta } => {
                OutOfRange::check("momentum", beta, (0.0..1.0).contains(&beta), "0 <= momentum < 1")?;
            }
            Method::Adam { beta1, beta2, epsilon } => {
                OutOfRange::check("beta1", beta1, (0.0..1.0).contains(&beta1), "0 <= beta1 < 1")?;
                OutOfRange::check("beta2", beta2, (0.0..1.0).contains(&beta2), "0 <= beta2 < 1")?;
                OutOfRange::check("epsilon", epsilon, epsilon > 0.0, "> 0")?;
            }
        }
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Step { every, factor } => {
                OutOfRange::at_least("step_every", every, 1, ">= 1")?;
                OutOfRange::check("step_factor", factor, factor > 0.0 && factor <= 1.0, "0 < factor <= 1")?;
            }
            Schedule::InverseTime { decay } => OutOfRange::check("decay", decay, decay >= 0.0, ">= 0")?,
        }
        let OptimizerConfig { method, learning_rate, schedule, weight_decay } = *self;
        Ok(OptimizerParams { method, learning_rate, schedule, weight_decay })
    }
}

impl OptimizerParams {
    /// The learning rate in `epoch` (0-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.learning_rate,
            Schedule::Step { every, factor } => self.learning_rate * factor.powi((epoch / every) as i32),
            Schedule::InverseTime { decay } => self.learning_rate / (1.0 + decay * epoch as f64),
        }
    }
}

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
const PARALLEL_FROM: usize = 1 << 15;
const CHUNK: usize = 1 << 13;

/// One step's constants.
#[derive(Clone, Copy)]
struct Step {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(method: Method, lr: f64) -> OptimizerParams {
        OptimizerParams { method, learning_rate: lr, schedule: Schedule::Constant, weight_decay: 0.0 }
    }

    /// Minimises f(w) = Σ a_i (w_i - c_i)² / 2 and returns the final w.
    fn minimise(p: OptimizerParams, steps: usize) -> Vec<f64> {
        let (a, c) = ([1.0, 4.0], [3.0, -2.0]);
        let mut w = vec![0.0, 0.0];
        let mut opt = Optimizer::new(p, &[2]);
        for _ in 0..steps {
            let g: Vec<f64> = (0..2).map(|i| a[i] * (w[i] - c[i])).collect();
            let lr = opt.begin_step(0);
            opt.update(0, &mut w, &g, lr);
        }
        w
    }

    #[test]
    fn every_method_reaches_the_minimum_of_a_quadratic() {
        for m in [Method::Sgd, Method::Momentum { beta: 0.9 }, Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }]
        {
            let lr = if matches!(m, Method::Adam { .. }) { 0.05 } else { 0.1 };
            let w = minimise(params(m, lr), 2000);
            assert!((w[0] - 3.0).abs() < 1e-6 && (w[1] + 2.0).abs() < 1e-6, "{m:?}: {w:?}");
        }
    }

    #[test]
    fn first_steps_follow_the_formulas() {
        // SGD: w = 0 - 0.1 · (1 · (0 - 3)) = 0.3.
        assert!((minimise(params(Method::Sgd, 0.1), 1)[0] - 0.3).abs() < 1e-15);
        // Momentum, two steps: v1 = -3, w1 = 0.3; v2 = 0.9·(-3) + (0.3 - 3) = -5.4, w2 = 0.84.
        let w = minimise(params(Method::Momentum { beta: 0.9 }, 0.1), 2)[0];
        assert!((w - 0.84).abs() < 1e-15, "{w}");
        // Adam's first step moves each weight by lr (m̂ / sqrt(ŝ) = g / |g|), up to ε.
        let w = minimise(params(Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 0.01), 1);
        assert!((w[0] - 0.01).abs() < 1e-9 && (w[1] + 0.01).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn schedules_follow_their_formulas() {
        let mut p = params(Method::Sgd, 0.8);
        p.schedule = Schedule::Step { every: 10, factor: 0.5 };
        assert_eq!((p.learning_rate_at(9), p.learning_rate_at(10), p.learning_rate_at(25)), (0.8, 0.4, 0.2));
        p.schedule = Schedule::InverseTime { decay: 0.5 };
        assert_eq!((p.learning_rate_at(0), p.learning_rate_at(2)), (0.8, 0.4));
    }

    #[test]
    fn weight_decay_shrinks_weights_without_gradient() {
        let mut p = params(Method::Sgd, 0.1);
        p.weight_decay = 0.5;
        let mut opt = Optimizer::new(p, &[1]);
        let mut w = [2.0];
        let lr = opt.begin_step(0);
        opt.update(0, &mut w, &[0.0], lr);
        assert_eq!(w[0], 2.0 - 0.1 * 0.5 * 2.0);
    }

    #[test]
    fn a_parameter_left_out_of_the_decay_keeps_its_value() {
        let mut p = params(Method::Sgd, 0.1);
        p.weight_decay = 0.5;
        let mut opt = Optimizer::new(p, &[1, 1]);
        opt.exclude_from_decay(1);
        let (mut w, mut b) = ([2.0f64], [2.0f64]);
        let lr = opt.begin_step(0);
        opt.update(0, &mut w, &[0.0], lr);
        opt.update(1, &mut b, &[0.0], lr);
        assert!((w[0] - 2.0 * (1.0 - 0.1 * 0.5)).abs() < 1e-15);
        assert_eq!(b[0], 2.0);
    }

    #[test]
    fn the_update_reports_weights_that_are_no_longer_finite() {
        // A NaN or infinite gradient element anywhere (sequential and parallel sizes, in the
        // ragged tail or a full block), and a finite step that overflows f32.
        for n in [300usize, 70_000] {
            for at in [0, n / 2, n - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut opt = Optimizer::new(params(Method::Sgd, 0.1), &[n]);
                    let mut w = vec![1.0f32; n];
                    let g0 = vec![0.5f32; n];
                    let mut g1 = vec![0.25f32; n];
                    g1[at] = bad;
                    let lr = opt.begin_step(0);
                    assert!(!opt.update_sum(0, &mut w, &[&g0, &g1], lr), "n = {n}, {bad} at {at}");
                    let mut opt = Optimizer::new(params(Method::Sgd, 0.1), &[n]);
                    let mut w = vec![1.0f32; n];
                    assert!(opt.update_sum(0, &mut w, &[&g0, &g0], lr), "n = {n}: all finite");
                }
            }
        }
        let mut opt = Optimizer::new(params(Method::Sgd, 1.0), &[3]);
        let mut w = vec![0.0f32; 3];
        let lr = opt.begin_step(0);
        assert!(!opt.update_sum(0, &mut w, &[&[0.0, 3e38, 0.0], &[0.0, 3e38, 0.0]], lr), "6e38 overflows f32");
    }

    #[test]
    fn summed_parts_and_parallel_chunks_follow_the_scalar_formulas() {
        // 70 000 weights (parallel chunks, a ragged last block) and 300 (one sequential pass),
        // in f32 with two gradient parts: every element must equal the formula written out for
        // that one element, for three steps of each method (state carried across steps).
        let methods =
            [Method::Sgd, Method::Momentum { beta: 0.9 }, Method::Adam { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }];
        for method in methods {
            for n in [70_000usize, 300] {
                let mut p = params(method, 0.05);
                p.weight_decay = 0.01;
                let mut opt = Optimizer::new(p, &[n]);
                let mut w: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
                let mut reference: Vec<f64> = w.iter().map(|&x| f64::from(x)).collect();
                let (mut v, mut m2) = (vec![0.0f64; n], vec![0.0f64; n]);
                for t in 1..=3 {
                    let g0: Vec<f32> = (0..n).map(|i| ((i * 13 + t) % 29) as f32 / 29.0 - 0.5).collect();
                    let g1: Vec<f32> = (0..n).map(|i| ((i * 7 + 3 * t) % 17) as f32 / 17.0 - 0.4).collect();
                    let lr = opt.begin_step(0);
                    assert!(opt.update_sum(0, &mut w, &[&g0, &g1], lr), "finite weights");
                    for i in 0..n {
                        let x = reference[i];
                        let g = f64::from(g0[i]) + f64::from(g1[i]) + 0.01 * x;
                        let next = match method {
                            Method::Sgd => x - lr * g,
                            Method::Momentum { beta } => {
                                v[i] = beta * v[i] + g;
                                x - lr * v[i]
                            }
                            Method::Adam { beta1, beta2, epsilon } => {
                                v[i] = beta1 * v[i] + (1.0 - beta1) * g;
                                m2[i] = beta2 * m2[i] + (1.0 - beta2) * g * g;
                                let (c1, c2) = (1.0 - beta1.powi(t as i32), 1.0 - beta2.powi(t as i32));
                                x - lr * (v[i] / c1) / ((m2[i] / c2).sqrt() + epsilon)
                            }
                        };
                        reference[i] = f64::from(next as f32);
                        assert_eq!(w[i], next as f32, "{method:?}, n = {n}, step {t}, element {i}");
                    }
                }
            }
        }
    }

    fn config(text: &str) -> Result<OptimizerConfig, String> {
        toml::from_str(text).map_err(|e| e.message().trim().to_string())
    }

    #[test]
    fn methods_and_schedules_carry_their_own_settings() {
        let adam = config("method = \"adam\"\nlearning_rate = 0.01\nbeta2 = 0.99").unwrap();
        assert_eq!(adam.method, Method::Adam { beta1: 0.9, beta2: 0.99, epsilon: 1e-8 });
        assert_eq!(adam.schedule, Schedule::Constant);
        let step = config("learning_rate = 0.1\nschedule = \"step\"\nstep_factor = 0.1").unwrap();
        assert_eq!((step.method, step.schedule), (Method::Sgd, Schedule::Step { every: 10, factor: 0.1 }));
        assert_eq!(
            config("method = \"adam\"\nlearning_rate = 0.01\nmomentum = 0.5").unwrap_err(),
            "`momentum` is not a setting of method `adam` (its settings: beta1, beta2, epsilon)"
        );
        assert_eq!(
            config("learning_rate = 0.1\ndecay = 0.5").unwrap_err(),
            "`decay` is not a setting of schedule `constant` (its settings: none)"
        );
        assert!(config("method = \"rmsprop\"\nlearning_rate = 0.1")
            .unwrap_err()
            .starts_with("unknown variant `rmsprop`"));
    }

    #[test]
    fn rejects_bad_settings() {
        let e = config("learning_rate = 0").unwrap().validate().unwrap_err();
        assert_eq!(e.to_string(), "learning_rate = 0 is out of range (> 0)");
        let e = config("method = \"momentum\"\nlearning_rate = 0.1\nmomentum = 1.0").unwrap().validate().unwrap_err();
        assert_eq!(e.to_string(), "momentum = 1 is out of range (0 <= momentum < 1)");
    }
}
