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

mod config;
mod constraints;
mod descent;
pub mod reference;
mod update;

pub use config::*;
pub use constraints::{check_equalities, resolve_all, Constraint, ConstraintConfig, ConstraintError, ParamConstraint};
pub use descent::{Descent, DescentRecord, DescentState};
pub use update::*;

pub use cg_core::OutOfRange;

#[cfg(test)]
mod tests {
    use super::*;
    use cg_core::Validate;

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
    fn cosine_warms_up_then_falls_to_the_minimum() {
        let mut p = params(Method::Sgd, 0.1);
        p.schedule = Schedule::Cosine { epochs: 12, min_rate: 0.02, warmup: 2 };
        let rate = |e| p.learning_rate_at(e);
        assert!((rate(0) - 0.05).abs() < 1e-15 && (rate(1) - 0.1).abs() < 1e-15, "linear warm-up");
        assert!((rate(2) - 0.1).abs() < 1e-15, "the cosine starts at the rate");
        assert!((rate(7) - 0.06).abs() < 1e-15, "halfway: the mean of rate and minimum");
        assert!((rate(12) - 0.02).abs() < 1e-15 && (rate(40) - 0.02).abs() < 1e-15, "the minimum, then flat");
        assert!((2..12).all(|e| rate(e + 1) < rate(e)), "falls all the way");
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
