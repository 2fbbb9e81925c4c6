//! Gradient descent with a backtracking step on the summed squared violation.

use cg_core::{Solver, Stop};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Result, UndirectedModel};

/// Settings of the descent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitParams {
    /// Stop when the gradient norm falls to this.
    pub tolerance: f64,
    /// Free values start uniform in [-init_scale, init_scale].
    pub init_scale: f64,
}

impl FitParams {
    /// # Errors
    /// A tolerance or scale that is negative or not finite.
    pub fn new(tolerance: f64, init_scale: f64) -> Result<FitParams> {
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "tolerance",
                value: tolerance,
                expected: "finite and > 0",
            }));
        }
        if !(init_scale.is_finite() && init_scale >= 0.0) {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "init_scale",
                value: init_scale,
                expected: "finite and >= 0",
            }));
        }
        Ok(FitParams { tolerance, init_scale })
    }
}

/// The current values (one per variable of the model), their loss and the next trial step.
#[derive(Clone, Debug, PartialEq)]
pub struct FitState {
    /// The values of the free nodes.
    pub values: Vec<f64>,
    /// The loss at those values.
    pub loss: f64,
    /// The current step size of the line search.
    pub step: f64,
}

/// Least-squares best fit of an [`UndirectedModel`]'s node constraints.
pub struct BestFit<'a> {
    model: &'a UndirectedModel,
    params: FitParams,
}

impl<'a> BestFit<'a> {
    /// A solver for `model` with `params`.
    pub fn new(model: &'a UndirectedModel, params: FitParams) -> BestFit<'a> {
        BestFit { model, params }
    }

    /// Random starting values for the computational nodes (fixed ones take their observations).
    ///
    /// # Errors
    /// A function that is not finite at the start.
    pub fn start(&self, rng: &mut ChaCha8Rng) -> Result<FitState> {
        let s = self.params.init_scale;
        let values: Vec<f64> = (0..self.model.names().len())
            .map(|k| self.model.fixed(k).unwrap_or_else(|| if s > 0.0 { rng.random_range(-s..=s) } else { 0.0 }))
            .collect();
        let loss = self.model.loss(&values)?;
        Ok(FitState { values, loss, step: 1.0 })
    }
}

/// What one descent step reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FitRecord {
    /// The loss after the step.
    pub loss: f64,
    /// The norm of the gradient at the new values.
    pub gradient_norm: f64,
    /// The step length tried last.
    pub step: f64,
    /// Loss evaluations the step's line search made.
    pub loss_evaluations: usize,
    /// No step lowers the loss at f64 precision any more.
    pub stalled: bool,
}

impl cg_core::Objective for FitRecord {
    fn objective(&self) -> Option<f64> {
        Some(self.loss)
    }
}

impl Solver for BestFit<'_> {
    type State = FitState;
    type Record = FitRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        "best-fit gradient descent"
    }

    /// One descent step: halve the trial step until the loss falls by at least half the step
    /// times the squared gradient norm (Armijo), then try twice that step next time.
    fn step(&mut self, state: &mut FitState, _rng: &mut ChaCha8Rng) -> Result<FitRecord> {
        let (loss, grad) = self.model.loss_and_gradient(&state.values)?;
        let norm2: f64 = grad.iter().map(|g| g * g).sum();
        let mut t = state.step;
        let mut evaluations = 1;
        let mut stalled = norm2 == 0.0;
        if norm2 > 0.0 {
            loop {
                let trial: Vec<f64> = state.values.iter().zip(&grad).map(|(x, g)| x - t * g).collect();
                evaluations += 1;
                // A trial where a function is not finite counts as too long a step.
                if let Ok(l) = self.model.loss(&trial) {
                    if l <= loss - 0.5 * t * norm2 {
                        // Accepted without any decrease: the required decrease is below the
                        // loss's rounding, and so is any further progress.
                        stalled = l >= loss;
                        state.values = trial;
                        state.loss = l;
                        state.step = (2.0 * t).min(1e6);
                        break;
                    }
                }
                t /= 2.0;
                if t < 1e-30 {
                    // No step lowers the loss at f64 precision: a stationary point for all
                    // purposes (the gradient is then at rounding level).
                    state.loss = loss;
                    stalled = true;
                    break;
                }
            }
        } else {
            state.loss = loss;
        }
        Ok(FitRecord { loss: state.loss, gradient_norm: norm2.sqrt(), step: t, loss_evaluations: evaluations, stalled })
    }

    /// Converged at a gradient norm within tolerance; stalled where no step lowers the loss any
    /// more (a stationary point at f64 precision).
    fn stop(&self, _state: &FitState, r: &FitRecord) -> Option<Stop> {
        if r.gradient_norm <= self.params.tolerance {
            Some(Stop::Converged)
        } else if r.stalled {
            Some(Stop::Stalled)
        } else {
            None
        }
    }
}
