//! Expectation-maximisation: the tables of a given structure from data with missing cells.

use indexmap::IndexMap;

use super::data::{DiscreteData, MISSING};
use super::estimate::{check_structure, estimate, fit, table_rows, Estimator, Prior, Unseen};
use crate::{BayesianNetwork, Error, Result};

/// The largest number of joint states of one row's missing cells the E step enumerates (2^20):
/// past it the row is refused rather than left to run for hours.
pub const MAX_MISSING_STATES: usize = 1 << 20;

/// EM's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Em {
    /// The most iterations.
    pub max_iter: usize,
    /// Stop when the log-likelihood rises by less than this times its size.
    pub tolerance: f64,
    /// The M step: maximum likelihood (`None`) or the posterior mean under this prior.
    pub prior: Option<Prior>,
}

impl Default for Em {
    /// 100 iterations, relative tolerance 1e-10, maximum likelihood.
    fn default() -> Self {
        Em { max_iter: 100, tolerance: 1e-10, prior: None }
    }
}

/// What EM found.
#[derive(Clone, Debug)]
pub struct EmResult {
    /// The network with the fitted tables.
    pub net: BayesianNetwork,
    /// The log-likelihood of the observed cells under each iteration's tables; the last is the
    /// returned network's.
    pub log_likelihood: Vec<f64>,
    /// Whether the change fell below the tolerance before `max_iter`.
    pub converged: bool,
}

/// Fits the tables of `parents` (each variable's parents, by column of `data`) to data with
/// missing cells by EM, the E step exact: each row's missing cells are enumerated jointly under
/// the current tables (rows that repeat are done once). It starts from the tables of the rows
/// where each family is observed, with a pseudo-count of 1 so that no observed row starts
/// impossible; with maximum likelihood each iteration cannot lower the log-likelihood.
///
/// ```
/// use cg_pgm::learn::{em, DiscreteData, Em};
/// // b is missing in two rows; a is always seen, so the answer is known in closed form:
/// // P(a) from all rows, P(b | a) from the rows that show b.
/// let data = DiscreteData::from_csv("a,b\n0,0\n0,1\n0,0\n1,1\n1,\n0,\n").unwrap();
/// let fitted = em(&data, &[vec![], vec![0]], Em::default()).unwrap();
/// let b = fitted.net.query("b", &[("a", "0")]).unwrap();
/// assert!((b[0].1 - 2.0 / 3.0).abs() < 1e-8, "{b:?}");
/// assert!(fitted.log_likelihood.windows(2).all(|w| w[1] >= w[0] - 1e-12));
/// ```
///
/// # Errors
/// A structure that does not fit the data, settings out of range, or a row whose missing cells
/// have more than [`MAX_MISSING_STATES`] joint states.
pub fn em(data: &DiscreteData, parents: &[Vec<usize>], settings: Em) -> Result<EmResult> {
    check_structure(data, parents)?;
    cg_core::OutOfRange::check("tolerance", settings.tolerance, settings.tolerance >= 0.0, "a number >= 0")?;
    let cards = data.cards();
    let n = data.variables();
    let estimator =
        settings.prior.map_or(Estimator::MaximumLikelihood { unseen: Unseen::Uniform }, Estimator::Bayesian);
    let start = settings.prior.unwrap_or(Prior::K2);
    let mut tables: Vec<Vec<f64>> =
        fit(data, parents, Estimator::Bayesian(start))?.factors.iter().map(|f| f.values.clone()).collect();
    // Each family's variables (parents, then the child) and the strides of its table.
    let families: Vec<(Vec<usize>, Vec<usize>)> = (0..n)
        .map(|v| {
            let mut vars = parents[v].clone();
            vars.push(v);
            let mut strides = vec![1; vars.len()];
            for k in (0..vars.len().saturating_sub(1)).rev() {
                strides[k] = strides[k + 1] * cards[vars[k + 1]];
            }
            (vars, strides)
        })
        .collect();
    let rows_of: Vec<usize> = (0..n).map(|v| table_rows(data, v, &parents[v])).collect::<Result<_>>()?;
    let configs: Vec<f64> = (0..n).map(|v| parents[v].iter().map(|&p| cards[p] as f64).product()).collect();
    let patterns = patterns(data);
    let mut children = vec![vec![]; n];
    for (v, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(v);
        }
    }
    let mut curve = vec![];
    let mut converged = false;
    for iteration in 0..settings.max_iter.max(1) {
        let mut expected: Vec<Vec<f64>> = tables.iter().map(|t| vec![0.0; t.len()]).collect();
        let mut ll = 0.0;
        for (k, (row, &weight)) in patterns.iter().enumerate() {
            let hidden: Vec<usize> = (0..n).filter(|&v| row[v] == MISSING).collect();
            let states = hidden.iter().try_fold(1usize, |s, &v| s.checked_mul(cards[v]));
            if states.is_none_or(|s| s > MAX_MISSING_STATES) {
                return Err(Error::Learn(format!(
                    "a row with {} missing cells has more than {MAX_MISSING_STATES} joint states to enumerate (first such row pattern: {})",
                    hidden.len(),
                    k + 1
                )));
            }
            // The families a missing cell touches vary; the rest are constant.
            let mut touched = vec![false; n];
            for &h in &hidden {
                touched[h] = true;
                for &c in &children[h] {
                    touched[c] = true;
                }
            }
            let mut x: Vec<usize> = row.iter().map(|&c| if c == MISSING { 0 } else { c as usize }).collect();
            let cell = |v: usize, x: &[usize]| -> usize {
                families[v].0.iter().zip(&families[v].1).map(|(&u, &s)| x[u] * s).sum()
            };
            let mut constant = 0.0;
            for v in (0..n).filter(|&v| !touched[v]) {
                let at = cell(v, &x);
                constant += tables[v][at].ln();
                expected[v][at] += weight;
            }
            let varying: Vec<usize> = (0..n).filter(|&v| touched[v]).collect();
            let mut joint = Vec::with_capacity(states.unwrap_or(1));
            let mut z = 0.0;
            for s in 0..states.unwrap_or(1) {
                let mut rest = s;
                for &h in hidden.iter().rev() {
                    x[h] = rest % cards[h];
                    rest /= cards[h];
                }
                let p: f64 = varying.iter().map(|&v| tables[v][cell(v, &x)]).product();
                z += p;
                joint.push(p);
            }
            if z <= 0.0 {
                return Err(Error::Learn(format!(
                    "row pattern {} has probability zero under the tables of iteration {}",
                    k + 1,
                    iteration + 1
                )));
            }
            ll += weight * (z.ln() + constant);
            for (s, p) in joint.iter().enumerate().filter(|(_, &p)| p > 0.0) {
                let mut rest = s;
                for &h in hidden.iter().rev() {
                    x[h] = rest % cards[h];
                    rest /= cards[h];
                }
                for &v in &varying {
                    expected[v][cell(v, &x)] += weight * p / z;
                }
            }
        }
        if curve.last().is_some_and(|&last: &f64| ll - last <= settings.tolerance * ll.abs()) {
            curve.push(ll);
            converged = true;
            break;
        }
        curve.push(ll);
        if iteration + 1 == settings.max_iter.max(1) {
            break;
        }
        for v in 0..n {
            let r = cards[v];
            for j in 0..rows_of[v] {
                let row = &expected[v][j * r..(j + 1) * r];
                let new = estimate(row, configs[v], estimator).expect("unseen rows are uniform in EM");
                tables[v][j * r..(j + 1) * r].copy_from_slice(&new);
            }
        }
    }
    let specs = (0..n)
        .map(|v| crate::VariableSpec {
            name: data.names[v].clone(),
            states: data.states[v].clone(),
            parents: parents[v].iter().map(|&p| data.names[p].clone()).collect(),
            cpt: tables[v].chunks(cards[v]).map(<[f64]>::to_vec).collect(),
        })
        .collect::<Vec<_>>();
    Ok(EmResult { net: BayesianNetwork::new(&specs)?, log_likelihood: curve, converged })
}

/// The distinct rows of the data with how often each occurs, in order of first appearance.
fn patterns(data: &DiscreteData) -> IndexMap<Vec<u16>, f64> {
    let mut out: IndexMap<Vec<u16>, f64> = IndexMap::new();
    let mut row = vec![0u16; data.variables()];
    for r in 0..data.rows() {
        for (v, x) in row.iter_mut().enumerate() {
            *x = data.column(v)[r];
        }
        *out.entry(row.clone()).or_insert(0.0) += 1.0;
    }
    out
}
