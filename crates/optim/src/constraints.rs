//! Constraints on groups of weights (exercise 6), enforced by projection after every update:
//! projected gradient descent, w ⇐ Π_C(w - α g), starting from the projection of the initial
//! weights, so that every iterate is feasible.
//!
//! - Linear equalities A w = b: Π(w) = w - Aᵀ (A Aᵀ)⁻¹ (A w - b), the matrix Aᵀ (A Aᵀ)⁻¹ computed
//!   once (A must have full row rank).
//! - Boxes l ≤ w ≤ u: clipping.
//! - The probability simplex (w ≥ 0, Σ w = 1): the exact Euclidean projection of Held, Wolfe and
//!   Crowder (1974) / Duchi et al. (2008): sort, find the threshold θ, w_i ⇐ max(w_i - θ, 0).
//!
//! Ties (one weight used in several places) need no code here: a shared weight is one parameter,
//! and reverse mode already sums its gradient over its uses.

use nalgebra::{DMatrix, DVector};
use serde::Deserialize;

/// What is wrong with a constraint or a list of them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConstraintError {
    /// A and b of A w = b disagree in height (or are empty).
    #[error("a has {rows} rows but b has {values} values")]
    Sizes {
        /// Rows of A.
        rows: usize,
        /// Values of b.
        values: usize,
    },
    /// A Aᵀ is singular, so the projection is undefined.
    #[error("the rows of a are linearly dependent (A Aᵀ is singular)")]
    DependentRows,
    /// A box whose lower end exceeds its upper end (or is NaN).
    #[error("lower = {lower} must not exceed upper = {upper}")]
    Bounds {
        /// The lower end.
        lower: f64,
        /// The upper end.
        upper: f64,
    },
    /// A parameter name the model does not have.
    #[error("params: unknown parameter `{name}` (parameters: {known})")]
    UnknownParam {
        /// The name written.
        name: String,
        /// The model's parameters, comma-separated.
        known: String,
    },
    /// An empty `params` list.
    #[error("params: name at least one parameter")]
    NoParams,
    /// An equality without `a` or `b`.
    #[error("equality needs a (rows of coefficients) and b")]
    MissingEquality,
    /// A row of A whose length is not the number of constrained weights.
    #[error("a: row {row} has {found} coefficients for {width} weights")]
    RowWidth {
        /// The row, from 1.
        row: usize,
        /// Its coefficients.
        found: usize,
        /// The constrained weights.
        width: usize,
    },
    /// A kind other than equality, box and simplex.
    #[error("kind: unknown `{kind}`; one of equality, box, simplex")]
    UnknownKind {
        /// The kind written.
        kind: String,
    },
    /// Equalities with no common point.
    #[error("[[constraints]] {index} (row {row}) cannot hold together with [[constraints]] {earlier}: no weights satisfy them all (least-squares residual {residual:.3e}); remove or correct one")]
    Inconsistent {
        /// The constraint (from 1) whose row broke consistency.
        index: usize,
        /// That row, from 1.
        row: usize,
        /// The constraints before it that it contradicts, comma-separated.
        earlier: String,
        /// The least-squares residual of the stacked equations.
        residual: f64,
    },
    /// A constraint of a list, by its place (from 1).
    #[error("[[constraints]] {index}: {error}")]
    At {
        /// The place in the list, from 1.
        index: usize,
        /// What is wrong with it (shown in the message, so not a `source`).
        error: Box<ConstraintError>,
    },
}

/// A feasible set for a vector of weights.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// A w = b.
    Equality {
        /// The coefficients A.
        a: DMatrix<f64>,
        /// The right-hand side b.
        b: DVector<f64>,
        /// Aᵀ (A Aᵀ)⁻¹.
        correction: DMatrix<f64>,
    },
    /// lower ≤ w ≤ upper.
    Box {
        /// The smallest value allowed.
        lower: f64,
        /// The largest value allowed.
        upper: f64,
    },
    /// w ≥ 0 and Σ w = 1.
    Simplex,
}

impl Constraint {
    /// A w = b.
    ///
    /// # Errors
    /// Mismatched sizes, or rows of A that are linearly dependent (A Aᵀ singular).
    pub fn equality(a: DMatrix<f64>, b: DVector<f64>) -> Result<Constraint, ConstraintError> {
        if a.nrows() != b.len() || a.nrows() == 0 {
            return Err(ConstraintError::Sizes { rows: a.nrows(), values: b.len() });
        }
        let gram = &a * a.transpose();
        let inv = gram.cholesky().ok_or(ConstraintError::DependentRows)?.inverse();
        Ok(Constraint::Equality { correction: a.transpose() * inv, a, b })
    }

    /// l ≤ w ≤ u.
    ///
    /// # Errors
    /// l > u or a NaN bound.
    pub fn bounds(lower: f64, upper: f64) -> Result<Constraint, ConstraintError> {
        if lower.is_nan() || upper.is_nan() || lower > upper {
            return Err(ConstraintError::Bounds { lower, upper });
        }
        Ok(Constraint::Box { lower, upper })
    }

    /// Number of weights the constraint expects, if it fixes one.
    pub fn size(&self) -> Option<usize> {
        match self {
            Constraint::Equality { a, .. } => Some(a.ncols()),
            _ => None,
        }
    }

    /// Replaces `w` by its Euclidean projection onto the set.
    ///
    /// ```
    /// use cg_optim::Constraint;
    /// // The simplex: (0.5, 0.5, -1) goes to the nearest point with w >= 0 and Σ w = 1.
    /// let mut w = [0.5, 0.5, -1.0];
    /// Constraint::Simplex.project(&mut w);
    /// assert_eq!(w, [0.5, 0.5, 0.0]);
    /// // w1 + w2 = 1 from (1, 1): the foot of the perpendicular, (0.5, 0.5).
    /// let line = Constraint::equality(nalgebra::DMatrix::from_row_slice(1, 2, &[1.0, 1.0]), nalgebra::DVector::from_element(1, 1.0)).unwrap();
    /// let mut w = [1.0, 1.0];
    /// line.project(&mut w);
    /// assert!((w[0] - 0.5).abs() < 1e-15 && (w[1] - 0.5).abs() < 1e-15 && line.violation(&w) < 1e-15);
    /// ```
    pub fn project(&self, w: &mut [f64]) {
        match self {
            Constraint::Equality { a, b, correction } => {
                let wv = DVector::from_column_slice(w);
                let fixed = &wv - correction * (a * &wv - b);
                w.copy_from_slice(fixed.as_slice());
            }
            Constraint::Box { lower, upper } => {
                for x in w.iter_mut() {
                    *x = x.clamp(*lower, *upper);
                }
            }
            Constraint::Simplex => {
                let mut u = w.to_vec();
                u.sort_by(|x, y| y.total_cmp(x));
                let (mut sum, mut theta) = (0.0, 0.0);
                for (j, &uj) in u.iter().enumerate() {
                    sum += uj;
                    let t = (sum - 1.0) / (j + 1) as f64;
                    if uj - t > 0.0 {
                        theta = t;
                    }
                }
                for x in w.iter_mut() {
                    *x = (*x - theta).max(0.0);
                }
            }
        }
    }

    /// How far `w` is from the set: the largest violated equation or bound, 0 when feasible.
    pub fn violation(&self, w: &[f64]) -> f64 {
        match self {
            Constraint::Equality { a, b, .. } => (a * DVector::from_column_slice(w) - b).amax(),
            Constraint::Box { lower, upper } => {
                w.iter().map(|&x| (lower - x).max(x - upper).max(0.0)).fold(0.0, f64::max)
            }
            Constraint::Simplex => {
                let neg = w.iter().map(|&x| (-x).max(0.0)).fold(0.0, f64::max);
                neg.max((w.iter().sum::<f64>() - 1.0).abs())
            }
        }
    }
}

/// `[[constraints]]` as written in a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintConfig {
    /// The parameters constrained together, by name; their values are joined in this order.
    pub params: Vec<String>,
    /// "equality", "box" or "simplex".
    pub kind: String,
    /// box: the smallest value allowed.
    pub lower: Option<f64>,
    /// box: the largest value allowed.
    pub upper: Option<f64>,
    /// Rows of A, for equality.
    pub a: Option<Vec<Vec<f64>>>,
    /// Right-hand side of A w = b, for equality.
    pub b: Option<Vec<f64>>,
}

/// A constraint on named parameters, checked against their sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamConstraint {
    /// Indices of the parameters, in the model's parameter order.
    pub params: Vec<usize>,
    /// The feasible set.
    pub constraint: Constraint,
}

impl ConstraintConfig {
    /// Resolves parameter names against `(name, size)` of the model's parameters.
    ///
    /// # Errors
    /// An unknown parameter or kind, a missing or inconsistent setting, or an A whose width is
    /// not the number of constrained weights.
    pub fn validate(&self, params: &[(String, usize)]) -> Result<ParamConstraint, ConstraintError> {
        let mut idx = vec![];
        for name in &self.params {
            let k = params.iter().position(|(n, _)| n == name).ok_or_else(|| {
                let known: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
                ConstraintError::UnknownParam { name: name.clone(), known: known.join(", ") }
            })?;
            idx.push(k);
        }
        if idx.is_empty() {
            return Err(ConstraintError::NoParams);
        }
        let width: usize = idx.iter().map(|&k| params[k].1).sum();
        let constraint = match self.kind.as_str() {
            "box" => Constraint::bounds(self.lower.unwrap_or(f64::NEG_INFINITY), self.upper.unwrap_or(f64::INFINITY))?,
            "simplex" => Constraint::Simplex,
            "equality" => {
                let (Some(a), Some(b)) = (&self.a, &self.b) else {
                    return Err(ConstraintError::MissingEquality);
                };
                if let Some(r) = a.iter().position(|row| row.len() != width) {
                    return Err(ConstraintError::RowWidth { row: r + 1, found: a[r].len(), width });
                }
                let am = DMatrix::from_fn(a.len(), width, |i, j| a[i][j]);
                Constraint::equality(am, DVector::from_column_slice(b))?
            }
            other => return Err(ConstraintError::UnknownKind { kind: other.to_string() }),
        };
        Ok(ParamConstraint { params: idx, constraint })
    }
}

/// Resolves a `[[constraints]]` list against the model's parameters `(name, size)` and checks
/// that its equalities can hold together ([`check_equalities`]).
///
/// # Errors
/// The first bad constraint, by its place in the list.
pub fn resolve_all(
    constraints: &[ConstraintConfig],
    params: &[(String, usize)],
) -> Result<Vec<ParamConstraint>, ConstraintError> {
    let resolved = constraints
        .iter()
        .enumerate()
        .map(|(k, c)| c.validate(params).map_err(|e| ConstraintError::At { index: k + 1, error: Box::new(e) }))
        .collect::<Result<Vec<_>, _>>()?;
    let sizes: Vec<usize> = params.iter().map(|p| p.1).collect();
    check_equalities(&resolved, &sizes)?;
    Ok(resolved)
}

/// Checks that the equality constraints of a list can hold together: two constraints on the
/// same weights (`w1 + w2 = 1` and `w1 + w2 = 2`) have no common point, and alternating their
/// projections would train with a violation that never shrinks. The equalities are stacked over
/// the weights they touch (`sizes`: every parameter's size) and solved by least squares; a
/// residual means no weights satisfy them all. Lists too large to stack densely (more than
/// 10^7 coefficients) are not checked.
///
/// # Errors
/// The first constraint (1-based, as `[[constraints]]` numbers them) and its first row that
/// cannot hold with the ones before it.
pub fn check_equalities(constraints: &[ParamConstraint], sizes: &[usize]) -> Result<(), ConstraintError> {
    let equalities: Vec<(usize, &ParamConstraint)> =
        constraints.iter().enumerate().filter(|(_, c)| matches!(c.constraint, Constraint::Equality { .. })).collect();
    if equalities.len() < 2 {
        return Ok(());
    }
    // Columns: every weight of every parameter an equality touches, each parameter once.
    let mut offsets: Vec<Option<usize>> = vec![None; sizes.len()];
    let mut width = 0usize;
    for (_, c) in &equalities {
        for &p in &c.params {
            if offsets[p].is_none() {
                offsets[p] = Some(width);
                width += sizes[p];
            }
        }
    }
    let rows: usize = equalities
        .iter()
        .map(|(_, c)| if let Constraint::Equality { a, .. } = &c.constraint { a.nrows() } else { 0 })
        .sum();
    if rows.saturating_mul(width) > 10_000_000 {
        return Ok(());
    }
    // (row over every touched weight, right-hand side, the constraint's place in the list)
    let mut stacked: Vec<(Vec<f64>, f64, usize)> = vec![];
    for (k, c) in equalities {
        let Constraint::Equality { a, b, .. } = &c.constraint else { continue };
        for r in 0..a.nrows() {
            let mut row = vec![0.0; width];
            let mut col = 0;
            for &p in &c.params {
                let start = offsets[p].expect("internal: every parameter placed");
                for j in 0..sizes[p] {
                    row[start + j] = a[(r, col + j)];
                }
                col += sizes[p];
            }
            stacked.push((row, b[r], k));
            if let Some(residual) = inconsistency(&stacked) {
                let earlier: Vec<String> = {
                    let mut ks: Vec<usize> = stacked[..stacked.len() - 1].iter().map(|s| s.2 + 1).collect();
                    ks.dedup();
                    ks.iter().map(|k| k.to_string()).collect()
                };
                return Err(ConstraintError::Inconsistent {
                    index: k + 1,
                    row: r + 1,
                    earlier: earlier.join(", "),
                    residual,
                });
            }
        }
    }
    Ok(())
}

/// The residual of the least-squares solution of the stacked rows, when it is not zero (up to
/// rounding relative to the sizes involved).
fn inconsistency(rows: &[(Vec<f64>, f64, usize)]) -> Option<f64> {
    let n = rows[0].0.len();
    let a = DMatrix::from_fn(rows.len(), n, |i, j| rows[i].0[j]);
    let b = DVector::from_iterator(rows.len(), rows.iter().map(|r| r.1));
    let svd = a.clone().svd(true, true);
    let tolerance = 1e-10 * svd.singular_values.max().max(1.0);
    let w = svd.solve(&b, tolerance).ok()?;
    let residual = (&a * w - &b).amax();
    (residual > 1e-9 * (1.0 + b.amax())).then_some(residual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The simplex projection lands on the simplex and is the nearest point: for every vertex
        /// e_k, (w - p)·(e_k - p) <= 0 (the obtuse-angle test of a projection onto a convex set).
        #[test]
        fn simplex_projection_is_the_nearest_point(w in prop::collection::vec(-3.0f64..3.0, 1..12)) {
            let mut p = w.clone();
            Constraint::Simplex.project(&mut p);
            prop_assert!(Constraint::Simplex.violation(&p) < 1e-12);
            for k in 0..w.len() {
                let dot: f64 = (0..w.len()).map(|i| (w[i] - p[i]) * (f64::from(u8::from(i == k)) - p[i])).sum();
                prop_assert!(dot <= 1e-12, "vertex {k}: {dot}");
            }
        }

        /// The affine projection satisfies A w = b and moves w along the rows of A only.
        #[test]
        fn equality_projection_is_orthogonal(w in prop::collection::vec(-3.0f64..3.0, 4)) {
            let a = DMatrix::from_row_slice(2, 4, &[1.0, 1.0, 1.0, 1.0, 1.0, -1.0, 0.0, 2.0]);
            let c = Constraint::equality(a.clone(), DVector::from_vec(vec![1.0, 0.5])).unwrap();
            let mut p = w.clone();
            c.project(&mut p);
            prop_assert!(c.violation(&p) < 1e-12);
            // w - p lies in the row space of A: orthogonal to the null space of A, spanned by
            // (1, 1, -2, 0) and (-2, 0, 1, 1) (both solve A v = 0 by hand).
            let d = DVector::from_vec((0..4).map(|i| w[i] - p[i]).collect());
            let null = DMatrix::from_row_slice(2, 4, &[1.0, 1.0, -2.0, 0.0, -2.0, 0.0, 1.0, 1.0]);
            prop_assert!((&a * null.transpose()).amax() < 1e-15);
            prop_assert!((null * d).amax() < 1e-10);
        }
    }

    #[test]
    fn box_clips_and_reports_violations() {
        let c = Constraint::bounds(0.0, 1.0).unwrap();
        let mut w = [-0.5, 0.3, 1.7];
        assert!((c.violation(&w) - 0.7).abs() < 1e-15);
        c.project(&mut w);
        assert_eq!(w, [0.0, 0.3, 1.0]);
        assert!(Constraint::bounds(1.0, 0.0).is_err());
    }

    #[test]
    fn configs_are_resolved_by_name() {
        let params = vec![("W1".to_string(), 3), ("b1".to_string(), 1)];
        let cfg = ConstraintConfig {
            params: vec!["W1".into()],
            kind: "equality".into(),
            lower: None,
            upper: None,
            a: Some(vec![vec![1.0, 1.0]]),
            b: Some(vec![1.0]),
        };
        assert_eq!(cfg.validate(&params).unwrap_err(), ConstraintError::RowWidth { row: 1, found: 2, width: 3 });
        assert_eq!(cfg.validate(&params).unwrap_err().to_string(), "a: row 1 has 2 coefficients for 3 weights");
        let mut cfg2 = cfg.clone();
        cfg2.params = vec!["W2".into()];
        assert_eq!(
            cfg2.validate(&params).unwrap_err().to_string(),
            "params: unknown parameter `W2` (parameters: W1, b1)"
        );
        let mut cfg3 = cfg;
        cfg3.a = Some(vec![vec![1.0, 1.0, 1.0], vec![2.0, 2.0, 2.0]]);
        cfg3.b = Some(vec![1.0, 2.0]);
        assert_eq!(cfg3.validate(&params).unwrap_err(), ConstraintError::DependentRows);
    }

    #[test]
    fn contradictory_equalities_are_named_and_consistent_ones_pass() {
        let sizes = [2, 1];
        let eq = |params: Vec<usize>, a: Vec<Vec<f64>>, b: Vec<f64>| {
            let am = DMatrix::from_fn(a.len(), a[0].len(), |i, j| a[i][j]);
            ParamConstraint { params, constraint: Constraint::equality(am, DVector::from_vec(b)).unwrap() }
        };
        let one = eq(vec![0], vec![vec![1.0, 1.0]], vec![1.0]);
        let two = eq(vec![0], vec![vec![1.0, 1.0]], vec![2.0]);
        let err = check_equalities(&[one.clone(), two], &sizes).unwrap_err().to_string();
        assert!(err.starts_with("[[constraints]] 2 (row 1) cannot hold together with [[constraints]] 1"), "{err}");
        // The same equality twice, or one implied by others over other parameters: fine.
        assert!(check_equalities(&[one.clone(), one.clone()], &sizes).is_ok());
        let other = eq(vec![1, 0], vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, -1.0]], vec![5.0, 0.0]);
        assert!(check_equalities(&[one.clone(), other], &sizes).is_ok());
        // w0 + w1 = 1, w0 - w1 = 0, and w0 = 1 contradict in the third.
        let diff = eq(vec![0], vec![vec![1.0, -1.0]], vec![0.0]);
        let w0 = eq(vec![0], vec![vec![1.0, 0.0]], vec![1.0]);
        let err = check_equalities(&[one, diff, w0], &sizes).unwrap_err().to_string();
        assert!(err.starts_with("[[constraints]] 3 (row 1) cannot hold together with [[constraints]] 1, 2"), "{err}");
    }
}
