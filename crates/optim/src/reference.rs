//! Independent solutions of small constrained least-squares problems, to check projected gradient
//! descent: the KKT system for equality constraints, and enumeration of active sets for boxes
//! and the simplex (exponential in the number of weights, exact for the small problems here).
//!
//! Every problem minimises the mean squared error f(w) = ‖X w - y‖² / n.

use nalgebra::{DMatrix, DVector};

/// ‖X w - y‖² / n.
pub fn mse(x: &DMatrix<f64>, y: &DVector<f64>, w: &DVector<f64>) -> f64 {
    (x * w - y).norm_squared() / x.nrows() as f64
}

/// Unconstrained least squares on the columns `cols` of X (others fixed at `fixed`), by SVD.
fn solve_on(x: &DMatrix<f64>, y: &DVector<f64>, cols: &[usize], fixed: &DVector<f64>) -> DVector<f64> {
    let mut w = fixed.clone();
    if cols.is_empty() {
        return w;
    }
    let xs = x.select_columns(cols);
    let rest = y - x * fixed;
    let sol = xs.svd(true, true).solve(&rest, 1e-12).expect("internal: SVD with both factors");
    for (k, &c) in cols.iter().enumerate() {
        w[c] = sol[k];
    }
    w
}

/// min f(w) subject to A w = b, from the KKT system [2XᵀX/n Aᵀ; A 0] [w; λ] = [2Xᵀy/n; b].
///
/// # Panics
/// If the KKT matrix is singular (X rank-deficient on the null space of A).
pub fn equality_ls(x: &DMatrix<f64>, y: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> DVector<f64> {
    let (d, k, n) = (x.ncols(), a.nrows(), x.nrows() as f64);
    let mut kkt = DMatrix::zeros(d + k, d + k);
    kkt.view_mut((0, 0), (d, d)).copy_from(&(x.transpose() * x * (2.0 / n)));
    kkt.view_mut((0, d), (d, k)).copy_from(&a.transpose());
    kkt.view_mut((d, 0), (k, d)).copy_from(a);
    let mut rhs = DVector::zeros(d + k);
    rhs.rows_mut(0, d).copy_from(&(x.transpose() * y * (2.0 / n)));
    rhs.rows_mut(d, k).copy_from(b);
    let sol = kkt.lu().solve(&rhs).expect("internal: KKT system of a well-posed problem");
    sol.rows(0, d).into_owned()
}

/// min f(w) subject to lower_i ≤ w_i ≤ upper_i, by enumerating for every weight whether it is
/// free, at its lower bound or at its upper bound (infinite bounds are never active), solving the
/// free weights by least squares, and keeping the best feasible candidate. 3^d least-squares
/// solves at most.
pub fn box_ls(x: &DMatrix<f64>, y: &DVector<f64>, bounds: &[(f64, f64)]) -> DVector<f64> {
    let d = x.ncols();
    let choices: Vec<Vec<u8>> = bounds
        .iter()
        .map(|&(l, u)| {
            let mut c = vec![0u8];
            if l.is_finite() {
                c.push(1);
            }
            if u.is_finite() {
                c.push(2);
            }
            c
        })
        .collect();
    let mut state = vec![0usize; d];
    let (mut best, mut best_f) = (DVector::zeros(d), f64::INFINITY);
    loop {
        let mut fixed = DVector::zeros(d);
        let mut free = vec![];
        for i in 0..d {
            match choices[i][state[i]] {
                0 => free.push(i),
                1 => fixed[i] = bounds[i].0,
                _ => fixed[i] = bounds[i].1,
            }
        }
        let w = solve_on(x, y, &free, &fixed);
        let feasible = (0..d).all(|i| w[i] >= bounds[i].0 - 1e-12 && w[i] <= bounds[i].1 + 1e-12);
        let f = mse(x, y, &w);
        if feasible && f < best_f {
            (best, best_f) = (w, f);
        }
        // Next combination (odometer).
        let mut i = 0;
        while i < d {
            state[i] += 1;
            if state[i] < choices[i].len() {
                break;
            }
            state[i] = 0;
            i += 1;
        }
        if i == d {
            return best;
        }
    }
}

/// min f(w) subject to w_i ≥ 0 and Σ w_i = 1 over `simplex` (the other weights free), by
/// enumerating the support S ⊆ simplex, solving the equality-constrained problem with the
/// weights outside S at zero, and keeping the best feasible candidate.
pub fn simplex_ls(x: &DMatrix<f64>, y: &DVector<f64>, simplex: &[usize]) -> DVector<f64> {
    let d = x.ncols();
    let others: Vec<usize> = (0..d).filter(|i| !simplex.contains(i)).collect();
    let (mut best, mut best_f) = (DVector::zeros(d), f64::INFINITY);
    for mask in 1u64..(1 << simplex.len()) {
        let support: Vec<usize> =
            simplex.iter().enumerate().filter(|(k, _)| mask >> k & 1 == 1).map(|(_, &i)| i).collect();
        let cols: Vec<usize> = support.iter().chain(&others).copied().collect();
        let xs = x.select_columns(&cols);
        let a = DMatrix::from_fn(1, cols.len(), |_, j| f64::from(u8::from(j < support.len())));
        let ws = equality_ls(&xs, y, &a, &DVector::from_element(1, 1.0));
        if ws.rows(0, support.len()).iter().all(|&v| v >= -1e-12) {
            let mut w = DVector::zeros(d);
            for (k, &c) in cols.iter().enumerate() {
                w[c] = ws[k];
            }
            let f = mse(x, y, &w);
            if f < best_f {
                (best, best_f) = (w, f);
            }
        }
    }
    best
}
