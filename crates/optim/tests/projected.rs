//! Projected gradient descent (an `Optimizer` step, then a projection) reaches the independent
//! solutions of `reference`, and every iterate is feasible.

use cg_optim::reference::{box_ls, equality_ls, mse, simplex_ls};
use cg_optim::{Constraint, Method, Optimizer, OptimizerParams, Schedule};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn problem(seed: u64, n: usize, d: usize) -> (DMatrix<f64>, DVector<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = DMatrix::from_fn(n, d, |_, _| rng.random_range(-1.0..1.0));
    let y = DVector::from_fn(n, |_, _| rng.random_range(-1.0..1.0));
    (x, y)
}

/// Runs projected gradient descent with step 1/L (L = 2 λ_max(XᵀX) / n) and checks feasibility
/// to 1e-9 after every step.
fn projected_gd(x: &DMatrix<f64>, y: &DVector<f64>, c: &Constraint, steps: usize) -> DVector<f64> {
    let n = x.nrows() as f64;
    let lipschitz = 2.0 * (x.transpose() * x).symmetric_eigenvalues().max() / n;
    let params = OptimizerParams {
        method: Method::Sgd,
        learning_rate: 1.0 / lipschitz,
        schedule: Schedule::Constant,
        weight_decay: 0.0,
    };
    let mut opt = Optimizer::new(params, &[x.ncols()]);
    let mut w = DVector::from_element(x.ncols(), 0.3);
    c.project(w.as_mut_slice());
    for _ in 0..steps {
        let g = x.transpose() * (x * &w - y) * (2.0 / n);
        let lr = opt.begin_step(0);
        opt.update(0, w.as_mut_slice(), g.as_slice(), lr);
        c.project(w.as_mut_slice());
        assert!(c.violation(w.as_slice()) <= 1e-9, "infeasible iterate: {}", c.violation(w.as_slice()));
    }
    w
}

#[test]
fn equality_constrained_least_squares_matches_kkt() {
    for seed in 0..5 {
        let (x, y) = problem(seed, 40, 5);
        let a = DMatrix::from_row_slice(2, 5, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0, 0.0, 0.5, 0.0]);
        let b = DVector::from_vec(vec![1.0, 0.0]);
        let c = Constraint::equality(a.clone(), b.clone()).unwrap();
        let w = projected_gd(&x, &y, &c, 20_000);
        let kkt = equality_ls(&x, &y, &a, &b).unwrap();
        assert!((&w - &kkt).amax() < 1e-7, "seed {seed}: {w} vs {kkt}");
    }
}

#[test]
fn box_constrained_least_squares_matches_active_set_enumeration() {
    for seed in 0..5 {
        let (x, y) = problem(10 + seed, 30, 4);
        let bounds = [(0.0, 0.5), (-0.2, 0.2), (0.0, f64::INFINITY), (f64::NEG_INFINITY, 0.1)];
        // One box per weight here: project each coordinate with its own bounds.
        let boxes: Vec<Constraint> = bounds.iter().map(|&(l, u)| Constraint::bounds(l, u).unwrap()).collect();
        let reference = box_ls(&x, &y, &bounds);
        let n = x.nrows() as f64;
        let lipschitz = 2.0 * (x.transpose() * &x).symmetric_eigenvalues().max() / n;
        let mut w = DVector::from_element(4, 0.0);
        for _ in 0..20_000 {
            let g = x.transpose() * (&x * &w - &y) * (2.0 / n);
            w -= g / lipschitz;
            for (i, c) in boxes.iter().enumerate() {
                c.project(std::slice::from_mut(&mut w[i]));
                assert!(c.violation(&[w[i]]) <= 1e-9);
            }
        }
        assert!((mse(&x, &y, &w) - mse(&x, &y, &reference)).abs() < 1e-10, "seed {seed}");
        assert!((&w - &reference).amax() < 1e-6, "seed {seed}: {w} vs {reference}");
    }
}

#[test]
fn simplex_constrained_least_squares_matches_support_enumeration() {
    for seed in 0..5 {
        let (x, y) = problem(20 + seed, 30, 5);
        let w = projected_gd(&x, &y, &Constraint::Simplex, 20_000);
        let reference = simplex_ls(&x, &y, &[0, 1, 2, 3, 4]);
        assert!((mse(&x, &y, &w) - mse(&x, &y, &reference)).abs() < 1e-10, "seed {seed}");
        assert!((&w - &reference).amax() < 1e-6, "seed {seed}: {w} vs {reference}");
    }
}
