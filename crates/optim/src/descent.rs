//! First-order descent on any [`Differentiable`] function as a [`Solver`]: one step evaluates
//! the value and gradient, then moves the parameters by the optimiser's rule (SGD, momentum,
//! Adam) at the schedule's learning rate for that step.

use cg_core::{Differentiable, Solver, Stop};
use rand_chacha::ChaCha8Rng;

use crate::{Optimizer, OptimizerParams};

/// Minimises `f` from a starting point.
pub struct Descent<F: Differentiable> {
    /// The function minimised.
    pub f: F,
    params: OptimizerParams,
}

/// The parameters, the optimiser's moments and the steps taken.
pub struct DescentState {
    /// The parameters.
    pub x: Vec<f64>,
    optimizer: Optimizer,
    grad: Vec<f64>,
    /// Steps taken.
    pub steps: usize,
}

/// What one step reports: the value and gradient norm where the step started.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DescentRecord {
    /// The value where the step started.
    pub value: f64,
    /// The gradient norm there.
    pub gradient_norm: f64,
    /// The learning rate of the step.
    pub learning_rate: f64,
}

impl cg_core::Objective for DescentRecord {
    fn objective(&self) -> Option<f64> {
        Some(self.value)
    }
}

impl<F: Differentiable> Descent<F> {
    /// Descent on `f` with `params`.
    pub fn new(f: F, params: OptimizerParams) -> Self {
        Descent { f, params }
    }

    /// The state at `x`.
    pub fn start(&self, x: Vec<f64>) -> DescentState {
        let n = x.len();
        DescentState { optimizer: Optimizer::new(self.params, &[n]), grad: vec![0.0; n], x, steps: 0 }
    }
}

impl<F: Differentiable + Send> Solver for Descent<F>
where
    F::Error: Send,
{
    type State = DescentState;
    type Record = DescentRecord;
    type Error = F::Error;

    fn name(&self) -> &'static str {
        "gradient descent"
    }

    fn step(&mut self, st: &mut DescentState, _rng: &mut ChaCha8Rng) -> Result<DescentRecord, F::Error> {
        let value = self.f.value_and_gradient(&st.x, &mut st.grad)?;
        let gradient_norm = st.grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        let learning_rate = st.optimizer.begin_step(st.steps);
        if value.is_finite() && gradient_norm.is_finite() {
            st.optimizer.update(0, &mut st.x, &st.grad, learning_rate);
        }
        st.steps += 1;
        Ok(DescentRecord { value, gradient_norm, learning_rate })
    }

    /// Diverged when the value, the gradient or a parameter is no longer finite.
    fn stop(&self, st: &DescentState, r: &DescentRecord) -> Option<Stop> {
        let at = st.steps;
        if !r.value.is_finite() {
            return Some(Stop::Diverged { what: format!("step {at}: the loss is {}", r.value) });
        }
        if !r.gradient_norm.is_finite() {
            return Some(Stop::Diverged { what: format!("step {at}: the gradient is not finite") });
        }
        let bad = st.x.iter().position(|v| !v.is_finite())?;
        Some(Stop::Diverged {
            what: format!("step {at}: parameter {} became {}; lower the learning rate", bad + 1, st.x[bad]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Method, Schedule};
    use rand::SeedableRng;

    /// f(x) = Σ (x_i - i)².
    struct Bowl;

    impl Differentiable for Bowl {
        type Error = std::convert::Infallible;

        fn dimension(&self) -> usize {
            3
        }
        fn value_and_gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, Self::Error> {
            let mut v = 0.0;
            for (i, (xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                v += (xi - i as f64).powi(2);
                *gi = 2.0 * (xi - i as f64);
            }
            Ok(v)
        }
    }

    #[test]
    fn descent_finds_the_bowls_bottom_and_reports_divergence() {
        let sgd = |lr| OptimizerParams {
            method: Method::Sgd,
            learning_rate: lr,
            schedule: Schedule::Constant,
            weight_decay: 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut d = Descent::new(Bowl, sgd(0.1));
        let mut st = d.start(vec![0.0; 3]);
        let out = cg_core::run(&mut d, &mut st, 200, &mut rng, &mut []).unwrap();
        assert_eq!(out.stop, Stop::StepLimit);
        assert!(st.x.iter().enumerate().all(|(i, x)| (x - i as f64).abs() < 1e-12), "{:?}", st.x);
        // A step of 1.5 overshoots by a factor of 2 each time: the loss overflows.
        let mut d = Descent::new(Bowl, sgd(1.5));
        let mut st = d.start(vec![0.0; 3]);
        let out = cg_core::run(&mut d, &mut st, 10_000, &mut rng, &mut []).unwrap();
        assert!(matches!(out.stop, Stop::Diverged { .. }), "{:?}", out.stop);
    }
}
