//! Independent solutions of small constrained least-squares problems, to check projected gradient
//! descent: the KKT system for equality constraints, and enumeration of active sets for boxes
//! and the simplex (exponential in the number of weights, exact for the small problems here).
//!
//! Every problem minimises the mean squared error f(w) = ‖X w - y‖² / n.

use std::ops::AddAssign;

use cg_core::numeric::sigmoid;
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

/// min f(w) subject to A w = b, from the KKT system [2XᵀX/n Aᵀ; A 0] [w; λ] = [2Xᵀy/n; b];
/// `None` when that system is singular (dependent rows of A, or X rank-deficient on the null
/// space of A: no unique minimiser).
pub fn equality_ls(x: &DMatrix<f64>, y: &DVector<f64>, a: &DMatrix<f64>, b: &DVector<f64>) -> Option<DVector<f64>> {
    let (d, k, n) = (x.ncols(), a.nrows(), x.nrows() as f64);
    let mut kkt = DMatrix::zeros(d + k, d + k);
    kkt.view_mut((0, 0), (d, d)).copy_from(&(x.transpose() * x * (2.0 / n)));
    kkt.view_mut((0, d), (d, k)).copy_from(&a.transpose());
    kkt.view_mut((d, 0), (k, d)).copy_from(a);
    let mut rhs = DVector::zeros(d + k);
    rhs.rows_mut(0, d).copy_from(&(x.transpose() * y * (2.0 / n)));
    rhs.rows_mut(d, k).copy_from(b);
    let sol = kkt.lu().solve(&rhs)?;
    sol.iter().all(|v| v.is_finite()).then(|| sol.rows(0, d).into_owned())
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
        let Some(ws) = equality_ls(&xs, y, &a, &DVector::from_element(1, 1.0)) else { continue };
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

/// min ‖X w - y‖²/n + λ/2 ‖w‖², in closed form: (2XᵀX/n + λI) w = 2Xᵀy/n.
///
/// # Panics
/// If the system is singular (λ = 0 with rank-deficient X).
pub fn ridge(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> DVector<f64> {
    ridge_penalized(x, y, &DVector::from_element(x.ncols(), lambda)).expect("internal: ridge system of full-rank data")
}

/// min ‖X w - y‖²/n + ½ Σ_j λ_j w_j² with a penalty per coefficient (0 for an unpenalised
/// intercept): (2XᵀX/n + diag λ) w = 2Xᵀy/n. `None` when the system is singular.
pub fn ridge_penalized(x: &DMatrix<f64>, y: &DVector<f64>, penalty: &DVector<f64>) -> Option<DVector<f64>> {
    let n = x.nrows() as f64;
    let a = x.transpose() * x * (2.0 / n) + DMatrix::from_diagonal(penalty);
    let b = x.transpose() * y * (2.0 / n);
    a.lu().solve(&b)
}

/// min (1/n) Σ log(1 + exp(-y_i wᵀx_i)) + λ/2 ‖w‖² for y_i = ±1, by Newton's method (iteratively
/// reweighted least squares) until the step is below 1e-12: the gradient is
/// -(1/n) Σ y_i σ(-y_i z_i) x_i + λ w and the Hessian (1/n) Σ σ(z_i)(1 - σ(z_i)) x_i x_iᵀ + λ I.
///
/// # Panics
/// If λ = 0 and the Hessian becomes singular (separable data).
pub fn logistic_newton(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64) -> DVector<f64> {
    logistic_newton_penalized(x, y, &DVector::from_element(x.ncols(), lambda))
        .expect("internal: positive definite Hessian")
}

/// [`logistic_newton`] with a penalty per coefficient (0 for an unpenalised intercept); `None`
/// when the Hessian stops being positive definite (separable data along an unpenalised
/// direction).
pub fn logistic_newton_penalized(x: &DMatrix<f64>, y: &DVector<f64>, penalty: &DVector<f64>) -> Option<DVector<f64>> {
    let (n, d) = (x.nrows(), x.ncols());
    let mut w = DVector::zeros(d);
    for _ in 0..100 {
        let z = x * &w;
        let mut grad = w.component_mul(penalty);
        let mut hess = DMatrix::from_diagonal(penalty);
        for i in 0..n {
            let xi = x.row(i).transpose();
            grad -= &xi * (y[i] * sigmoid(-y[i] * z[i]) / n as f64);
            let s = sigmoid(z[i]);
            hess += &xi * xi.transpose() * (s * (1.0 - s) / n as f64);
        }
        let step = hess.cholesky()?.solve(&grad);
        w -= &step;
        if step.amax() < 1e-12 {
            break;
        }
    }
    Some(w)
}

/// min (1/n) Σ -log softmax(W x_i)_{c_i} + λ/2 ‖W‖² over W (k × d, returned row-major as
/// [w_1; …; w_k]), by Newton's method with the full Hessian (k d × k d), which λ > 0 makes
/// positive definite.
///
/// # Panics
/// If λ = 0 (the softmax is invariant to adding a vector to every row, so the Hessian is singular).
pub fn softmax_newton(x: &DMatrix<f64>, labels: &[usize], k: usize, lambda: f64) -> DMatrix<f64> {
    assert!(lambda > 0.0, "internal: softmax_newton needs lambda > 0");
    let (n, d) = (x.nrows(), x.ncols());
    let mut w = DMatrix::zeros(k, d);
    for _ in 0..100 {
        // Probabilities P (n × k) and the gradient (P - Y)ᵀ X / n + λ W.
        let z = x * w.transpose();
        let p = DMatrix::from_fn(n, k, |i, r| {
            let m = z.row(i).max();
            (z[(i, r)] - m).exp() / z.row(i).iter().map(|v| (v - m).exp()).sum::<f64>()
        });
        let mut resid = p.clone();
        for i in 0..n {
            resid[(i, labels[i])] -= 1.0;
        }
        let grad = resid.transpose() * x / n as f64 + &w * lambda;
        // Hessian block (r, s) = Xᵀ diag(p_r (δ_rs - p_s)) X / n: one matrix product per block.
        let mut hess = DMatrix::identity(k * d, k * d) * lambda;
        for r in 0..k {
            for s in 0..k {
                let scaled = DMatrix::from_fn(n, d, |i, j| {
                    x[(i, j)] * p[(i, r)] * (f64::from(u8::from(r == s)) - p[(i, s)]) / n as f64
                });
                hess.view_mut((r * d, s * d), (d, d)).add_assign(&(x.transpose() * scaled));
            }
        }
        let g =
            DVector::from_iterator(k * d, (0..k).flat_map(|r| (0..d).map(move |j| (r, j))).map(|(r, j)| grad[(r, j)]));
        let step = hess.cholesky().expect("internal: positive definite Hessian").solve(&g);
        for r in 0..k {
            for j in 0..d {
                w[(r, j)] -= step[r * d + j];
            }
        }
        if step.amax() < 1e-12 {
            break;
        }
    }
    w
}

/// Support vector machines with every weight (the intercept included, as a constant feature)
/// regularised: min (1/n) Σ ℓ(y_i θᵀx_i) + λ/2 ‖θ‖² with ℓ(m) = max(0, 1 - m) (L1 loss) or
/// max(0, 1 - m)² (L2 loss), y_i = ±1. Solved in the dual by coordinate descent (Hsieh et al.,
/// 2008, the method of LIBLINEAR) with C = 1/(nλ):
///
/// ```text
/// min_α ½ αᵀ(Q + D)α - Σ α_i,  Q_ij = y_i y_j x_iᵀx_j,  0 ≤ α_i ≤ U
/// ```
///
/// with U = C, D = 0 for the L1 loss and U = ∞, D = I/(2C) for the L2 loss; θ = Σ α_i y_i x_i.
/// Stops when the largest projected-gradient violation is below 1e-12 (or after 100,000 passes).
pub fn svm_dual(x: &DMatrix<f64>, y: &DVector<f64>, lambda: f64, squared: bool) -> DVector<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let c = 1.0 / (n as f64 * lambda);
    let (upper, diag) = if squared { (f64::INFINITY, 1.0 / (2.0 * c)) } else { (c, 0.0) };
    let qii: Vec<f64> = (0..n).map(|i| x.row(i).norm_squared() + diag).collect();
    let mut alpha = vec![0.0; n];
    let mut w = DVector::zeros(d);
    for _ in 0..100_000 {
        let mut worst: f64 = 0.0;
        for i in 0..n {
            let g = y[i] * (x.row(i) * &w)[0] - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 {
                g.min(0.0)
            } else if alpha[i] == upper {
                g.max(0.0)
            } else {
                g
            };
            worst = worst.max(pg.abs());
            if pg != 0.0 {
                let old = alpha[i];
                alpha[i] = (old - g / qii[i]).clamp(0.0, upper);
                w += x.row(i).transpose() * ((alpha[i] - old) * y[i]);
            }
        }
        if worst < 1e-12 {
            break;
        }
    }
    w
}

/// The Weston-Watkins multiclass SVM with every weight regularised (the intercept as a constant
/// feature): min (1/n) Σ_i Σ_{r≠c_i} max(0, 1 + (w_r - w_{c_i})ᵀx_i) + λ/2 ‖W‖², W k × d. Solved in
/// the dual by coordinate descent: one variable α_ir ∈ [0, C], C = 1/(nλ), per sample and wrong
/// class, with w_{c_i} += α_ir x_i and w_r -= α_ir x_i; the dual gradient in α_ir is
/// (w_{c_i} - w_r)ᵀx_i - 1 and its curvature 2‖x_i‖². Stops when the largest projected-gradient
/// violation is below 1e-12 (or after 100,000 passes).
pub fn weston_watkins_dual(x: &DMatrix<f64>, labels: &[usize], k: usize, lambda: f64) -> DMatrix<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let c = 1.0 / (n as f64 * lambda);
    let norms: Vec<f64> = (0..n).map(|i| 2.0 * x.row(i).norm_squared()).collect();
    let mut alpha = vec![0.0; n * k];
    let mut w = DMatrix::<f64>::zeros(k, d);
    for _ in 0..100_000 {
        let mut worst: f64 = 0.0;
        for i in 0..n {
            let ci = labels[i];
            for r in (0..k).filter(|&r| r != ci) {
                let xi = x.row(i);
                let g = (w.row(ci) - w.row(r)).dot(&xi) - 1.0;
                let a = alpha[i * k + r];
                let pg = if a == 0.0 {
                    g.min(0.0)
                } else if a == c {
                    g.max(0.0)
                } else {
                    g
                };
                worst = worst.max(pg.abs());
                if pg != 0.0 {
                    let new = (a - g / norms[i]).clamp(0.0, c);
                    let delta = new - a;
                    alpha[i * k + r] = new;
                    for j in 0..d {
                        w[(ci, j)] += delta * xi[j];
                        w[(r, j)] -= delta * xi[j];
                    }
                }
            }
        }
        if worst < 1e-12 {
            break;
        }
    }
    // The dual's W is the primal's scaled by C: ½‖W‖² + C Σ hinge has the same minimiser as
    // (1/n) Σ hinge + λ/2 ‖W‖², and coordinate descent above worked on the former directly.
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (DMatrix<f64>, DVector<f64>, Vec<usize>) {
        // 30 points in 2-D plus an intercept column; labels from a noisy linear rule.
        let x = DMatrix::from_fn(30, 3, |i, j| if j == 2 { 1.0 } else { ((i * 7 + j * 13) % 11) as f64 / 5.0 - 1.0 });
        let labels: Vec<usize> =
            (0..30).map(|i| usize::from(x[(i, 0)] + 0.5 * x[(i, 1)] + 0.1 * ((i % 3) as f64 - 1.0) > 0.0)).collect();
        let y = DVector::from_iterator(30, labels.iter().map(|&c| 2.0 * c as f64 - 1.0));
        (x, y, labels)
    }

    /// Central-difference gradient of `f` at `w`.
    fn fd_grad(f: &dyn Fn(&DVector<f64>) -> f64, w: &DVector<f64>) -> DVector<f64> {
        DVector::from_fn(w.len(), |j, _| {
            let (mut a, mut b) = (w.clone(), w.clone());
            a[j] += 1e-6;
            b[j] -= 1e-6;
            (f(&a) - f(&b)) / 2e-6
        })
    }

    #[test]
    fn l2_svm_dual_solution_has_zero_primal_gradient() {
        // The squared hinge is differentiable, so the primal gradient must vanish at the optimum.
        let (x, y, _) = data();
        let lambda = 0.05;
        let w = svm_dual(&x, &y, lambda, true);
        let f = |w: &DVector<f64>| {
            (0..30).map(|i| (1.0 - y[i] * (x.row(i) * w)[0]).max(0.0).powi(2)).sum::<f64>() / 30.0
                + lambda / 2.0 * w.norm_squared()
        };
        assert!(fd_grad(&f, &w).amax() < 1e-7, "{}", fd_grad(&f, &w));
    }

    #[test]
    fn l1_svm_dual_solution_is_not_improved_by_small_moves() {
        // The hinge objective has kinks, so test optimality directly: no move of size 1e-4 along
        // any coordinate direction lowers the objective.
        let (x, y, _) = data();
        let lambda = 0.05;
        let w = svm_dual(&x, &y, lambda, false);
        let f = |w: &DVector<f64>| {
            (0..30).map(|i| (1.0 - y[i] * (x.row(i) * w)[0]).max(0.0)).sum::<f64>() / 30.0
                + lambda / 2.0 * w.norm_squared()
        };
        no_small_move_improves(f, &w, w.len());
    }

    #[test]
    fn weston_watkins_dual_solution_is_not_improved_by_small_moves() {
        let (x, _, labels) = data();
        // Three classes from two: split class 1 by the sign of the second feature.
        let labels: Vec<usize> =
            labels.iter().enumerate().map(|(i, &c)| if c == 1 && x[(i, 1)] > 0.0 { 2 } else { c }).collect();
        let lambda = 0.05;
        let w = weston_watkins_dual(&x, &labels, 3, lambda);
        let f = |w: &DMatrix<f64>| {
            let mut total = 0.0;
            for i in 0..30 {
                let z = w * x.row(i).transpose();
                total += (0..3).filter(|&r| r != labels[i]).map(|r| (1.0 + z[r] - z[labels[i]]).max(0.0)).sum::<f64>();
            }
            total / 30.0 + lambda / 2.0 * w.norm_squared()
        };
        no_small_move_improves(f, &w, w.len());
    }

    /// No move of ±1e-4 along any single entry of `w` (vector or matrix, `len` entries) lowers f.
    fn no_small_move_improves<M: Clone + std::ops::IndexMut<usize, Output = f64>>(
        f: impl Fn(&M) -> f64,
        w: &M,
        len: usize,
    ) {
        let f0 = f(w);
        for idx in 0..len {
            for step in [1e-4, -1e-4] {
                let mut v = w.clone();
                v[idx] += step;
                assert!(f(&v) >= f0 - 1e-12, "entry {idx}, step {step}");
            }
        }
    }

    #[test]
    fn ridge_solves_its_normal_equations() {
        let (x, y, _) = data();
        let w = ridge(&x, &y, 0.1);
        let f = |w: &DVector<f64>| mse(&x, &y, w) + 0.05 * w.norm_squared();
        assert!(fd_grad(&f, &w).amax() < 1e-8);
    }

    #[test]
    fn newton_solutions_have_zero_gradient() {
        let (x, y, labels) = data();
        let lambda = 0.01;
        let w = logistic_newton(&x, &y, lambda);
        let f = |w: &DVector<f64>| {
            (0..30).map(|i| (1.0 + (-y[i] * (x.row(i) * w)[0]).exp()).ln()).sum::<f64>() / 30.0
                + lambda / 2.0 * w.norm_squared()
        };
        assert!(fd_grad(&f, &w).amax() < 1e-8, "{}", fd_grad(&f, &w));
        let k = 2;
        let wm = softmax_newton(&x, &labels, k, lambda);
        let flat =
            DVector::from_iterator(k * 3, (0..k).flat_map(|r| (0..3).map(move |j| (r, j))).map(|(r, j)| wm[(r, j)]));
        let g = |v: &DVector<f64>| {
            let w = DMatrix::from_fn(k, 3, |r, j| v[r * 3 + j]);
            let mut total = 0.0;
            for i in 0..30 {
                let z = &w * x.row(i).transpose();
                let lse = z.max() + z.map(|t| (t - z.max()).exp()).sum().ln();
                total += lse - z[labels[i]];
            }
            total / 30.0 + lambda / 2.0 * v.norm_squared()
        };
        assert!(fd_grad(&g, &flat).amax() < 1e-8);
    }
}

/// The objective of a single linear layer whose optimum a reference solver knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearLoss {
    /// (o - y)²: linear regression.
    SquaredError,
    /// (1 - y o)², y = ±1: Widrow-Hoff.
    WidrowHoff,
    /// log(1 + exp(-y o)), y = ±1: logistic regression.
    Logistic,
    /// max(0, 1 - y o), y = ±1: L1-loss SVM.
    Hinge,
    /// max(0, 1 - y o)², y = ±1: L2-loss SVM.
    SquaredHinge,
    /// Weston-Watkins multiclass hinge.
    WestonWatkins,
    /// Multinomial logistic regression.
    SoftmaxCrossEntropy,
}

/// A linear model θ = [W | b] fitted to rows of `x` (intercept column last): mean loss +
/// λ/2 ‖θ‖², optionally under a constraint on the weights W (not the intercept).
pub struct LinearProblem<'a> {
    /// The loss.
    pub loss: LinearLoss,
    /// n × (d + 1).
    pub x: &'a DMatrix<f64>,
    /// One output: the targets as the loss takes them (values, or ±1).
    pub y: &'a DVector<f64>,
    /// Several outputs: the class of each row, and the number of classes.
    pub labels: &'a [usize],
    /// The classes.
    pub classes: usize,
    /// The L2 penalty.
    pub lambda: f64,
    /// Whether λ applies to the intercept too (the chapter's convention) or to W only
    /// (scikit-learn's).
    pub penalize_bias: bool,
    /// A constraint on the weights, if any.
    pub constraint: Option<&'a crate::Constraint>,
}

/// The optimum θ (k × (d + 1)) of `p` without gradient descent: closed-form ridge for squared
/// error and Widrow-Hoff, Newton's method for logistic and softmax regression (λ > 0), dual
/// coordinate descent for the L1- and L2-loss SVMs and Weston-Watkins (λ > 0), the KKT system
/// or active-set / support enumeration for constraints on W (λ = 0, squared error, d <= 16).
/// `None` where no reference applies.
pub fn linear_model_optimum(p: &LinearProblem) -> Option<DMatrix<f64>> {
    use crate::Constraint;
    use LinearLoss::*;
    let (d, k, lambda) = (p.x.ncols() - 1, p.classes, p.lambda);
    let row = |v: DVector<f64>| DMatrix::from_row_slice(1, v.len(), v.as_slice());
    let penalty = DVector::from_fn(d + 1, |j, _| if j < d || p.penalize_bias { lambda } else { 0.0 });
    // The dual SVM solvers and softmax's Newton step assume every coefficient penalised.
    let all_penalised = p.penalize_bias || lambda == 0.0;
    Some(match (p.loss, k, p.constraint) {
        (SquaredError | WidrowHoff, 1, None) => row(ridge_penalized(p.x, p.y, &penalty)?),
        (SquaredError, 1, Some(c)) if d <= 16 && lambda == 0.0 => match c {
            Constraint::Box { lower, upper } => {
                let mut bounds = vec![(*lower, *upper); d];
                bounds.push((f64::NEG_INFINITY, f64::INFINITY));
                row(box_ls(p.x, p.y, &bounds))
            }
            Constraint::Simplex => row(simplex_ls(p.x, p.y, &(0..d).collect::<Vec<_>>())),
            Constraint::Equality { a, b, .. } => {
                let a1 = DMatrix::from_fn(a.nrows(), d + 1, |i, j| if j < d { a[(i, j)] } else { 0.0 });
                row(equality_ls(p.x, p.y, &a1, b)?)
            }
        },
        (Logistic, 1, None) if lambda > 0.0 => row(logistic_newton_penalized(p.x, p.y, &penalty)?),
        (Hinge, 1, None) if lambda > 0.0 && all_penalised => row(svm_dual(p.x, p.y, lambda, false)),
        (SquaredHinge, 1, None) if lambda > 0.0 && all_penalised => row(svm_dual(p.x, p.y, lambda, true)),
        (WestonWatkins, _, None) if lambda > 0.0 && k > 1 && all_penalised => {
            weston_watkins_dual(p.x, p.labels, k, lambda)
        }
        (SoftmaxCrossEntropy, _, None) if lambda > 0.0 && k > 1 && k * (d + 1) <= 700 && all_penalised => {
            softmax_newton(p.x, p.labels, k, lambda)
        }
        _ => return None,
    })
}
