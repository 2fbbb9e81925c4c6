//! Loopy belief propagation: sum-product messages on the factor graph, all at once each
//! iteration, damped, until no message moves by more than a tolerance. Exact on trees; on
//! graphs with loops an approximation for networks whose exact tables do not fit, with a report
//! of whether it converged.

use crate::factor::{root, strides};
use crate::{Error, Factor, Result};

/// How the messages are iterated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LbpSettings {
    /// New message = (1 - damping) x computed + damping x previous; 0 for none.
    pub damping: f64,
    /// The most message-passing sweeps.
    pub max_iterations: usize,
    /// Converged when no message entry moves by more than this in an iteration.
    pub tolerance: f64,
}

/// The beliefs and how the iteration ended.
#[derive(Clone, Debug, PartialEq)]
pub struct LbpResult {
    /// Per variable its belief (normalised); `None` for the observed ones.
    pub marginals: Vec<Option<Vec<f64>>>,
    /// Sweeps made.
    pub iterations: usize,
    /// Whether the messages converged.
    pub converged: bool,
    /// The largest change of a message entry in the last iteration.
    pub residual: f64,
    /// Whether the factor graph, observed variables cut out, is a forest: only then are
    /// converged beliefs the exact marginals. On a graph with loops they are an approximation
    /// however well the messages converged (strong loops can leave them far off).
    pub tree: bool,
}

/// Runs loopy belief propagation on `factors` with `evidence` fixed.
///
/// On a tree it is exact: a chain a - b - c with agreeing pairs and a observed.
/// ```
/// use cg_pgm::{loopy_belief_propagation, Factor, LbpSettings};
/// let agree = |u, v| Factor::new(&[u, v], &[2, 2], vec![3.0, 1.0, 1.0, 3.0]).unwrap();
/// let settings = LbpSettings { damping: 0.0, max_iterations: 50, tolerance: 1e-12 };
/// let out = loopy_belief_propagation(&[agree(0, 1), agree(1, 2)], &[2, 2, 2], &[(0, 0)], &settings).unwrap();
/// assert!(out.converged && out.tree);
/// // P(b = a) = 3/4, P(c = a) = 3/4 · 3/4 + 1/4 · 1/4 = 5/8.
/// let c = out.marginals[2].as_ref().unwrap();
/// assert!((c[0] - 0.625).abs() < 1e-12);
/// ```
///
/// # Errors
/// Evidence out of range, a damping outside [0, 1), or messages that all vanish (evidence the
/// factors rule out).
pub fn loopy_belief_propagation(
    factors: &[Factor],
    cards: &[usize],
    evidence: &[(usize, usize)],
    settings: &LbpSettings,
) -> Result<LbpResult> {
    let n = cards.len();
    if !(0.0..1.0).contains(&settings.damping) {
        return Err(Error::Query(format!("damping {} is out of range (0 <= d < 1)", settings.damping)));
    }
    let mut observed = vec![false; n];
    for &(v, x) in evidence {
        if v >= n || x >= cards[v] {
            return Err(Error::Query(format!("evidence value {x} for variable {v} is out of range")));
        }
        observed[v] = true;
    }
    let reduced: Vec<Factor> = factors.iter().map(|f| f.observe(evidence)).filter(|f| !f.vars.is_empty()).collect();
    // Messages factor -> variable and variable -> factor, one per (factor, position in scope).
    let uniform = |v: usize| vec![1.0 / cards[v] as f64; cards[v]];
    let mut to_var: Vec<Vec<Vec<f64>>> = reduced.iter().map(|f| f.vars.iter().map(|&v| uniform(v)).collect()).collect();
    let mut to_factor = to_var.clone();
    let by_var: Vec<Vec<(usize, usize)>> = (0..n)
        .map(|v| {
            reduced
                .iter()
                .enumerate()
                .filter_map(|(f, t)| t.vars.iter().position(|&u| u == v).map(|k| (f, k)))
                .collect()
        })
        .collect();
    let (mut iterations, mut residual, mut converged) = (0, f64::INFINITY, false);
    while iterations < settings.max_iterations {
        iterations += 1;
        // Variable -> factor: the product of the other factors' messages.
        for (v, links) in by_var.iter().enumerate() {
            for &(f, k) in links {
                let mut m = vec![1.0; cards[v]];
                for &(g, j) in links.iter().filter(|&&(g, _)| g != f) {
                    m.iter_mut().zip(&to_var[g][j]).for_each(|(a, b)| *a *= b);
                }
                normalise(&mut m);
                to_factor[f][k] = m;
            }
        }
        // Factor -> variable: the table times the other variables' messages, summed down.
        residual = 0.0;
        for (f, table) in reduced.iter().enumerate() {
            let strides = strides(&table.cards);
            for (k, &v) in table.vars.iter().enumerate() {
                let mut m = vec![0.0; cards[v]];
                for (index, &value) in table.values.iter().enumerate() {
                    let mut w = value;
                    for (j, (&s, &c)) in strides.iter().zip(&table.cards).enumerate() {
                        if j != k {
                            w *= to_factor[f][j][(index / s) % c];
                        }
                    }
                    m[(index / strides[k]) % table.cards[k]] += w;
                }
                if !normalise(&mut m) {
                    return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
                }
                let old = &to_var[f][k];
                for (new, &o) in m.iter_mut().zip(old) {
                    *new = (1.0 - settings.damping) * *new + settings.damping * o;
                    residual = residual.max((*new - o).abs());
                }
                to_var[f][k] = m;
            }
        }
        if residual <= settings.tolerance {
            converged = true;
            break;
        }
    }
    let marginals = (0..n)
        .map(|v| {
            (!observed[v]).then(|| {
                let mut b = vec![1.0; cards[v]];
                for &(f, k) in &by_var[v] {
                    b.iter_mut().zip(&to_var[f][k]).for_each(|(a, m)| *a *= m);
                }
                if !normalise(&mut b) {
                    b = uniform(v);
                }
                b
            })
        })
        .collect();
    let tree = is_forest(&reduced, n);
    Ok(LbpResult { marginals, iterations, converged, residual, tree })
}

/// Divides by the sum; false when the sum is not positive.
fn normalise(m: &mut [f64]) -> bool {
    let s: f64 = m.iter().sum();
    if s > 0.0 && s.is_finite() {
        m.iter_mut().for_each(|x| *x /= s);
        true
    } else {
        false
    }
}

/// Whether the factor graph of `factors` (a node per variable and per factor, an edge per
/// variable in a factor's scope) has no cycle.
fn is_forest(factors: &[Factor], n: usize) -> bool {
    let mut parent: Vec<usize> = (0..n + factors.len()).collect();
    for (k, f) in factors.iter().enumerate() {
        for &v in &f.vars {
            let (a, b) = (root(&mut parent, n + k), root(&mut parent, v));
            if a == b {
                return false;
            }
            parent[a] = b;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variable_elimination;
    use rand::{Rng, SeedableRng};

    fn settings() -> LbpSettings {
        LbpSettings { damping: 0.5, max_iterations: 2000, tolerance: 1e-12 }
    }

    /// A side x side grid of binary variables with pairwise factors e^{J s s'} (s = ±1) of
    /// random couplings up to `strength` and random fields.
    fn grid(side: usize, strength: f64, seed: u64) -> (Vec<Factor>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let id = |r: usize, c: usize| r * side + c;
        let mut factors = vec![];
        for r in 0..side {
            for c in 0..side {
                let h: f64 = rng.random_range(-0.5..0.5);
                factors.push(Factor::new(&[id(r, c)], &[2], vec![(-h).exp(), h.exp()]).unwrap());
                for (r2, c2) in [(r + 1, c), (r, c + 1)] {
                    if r2 < side && c2 < side {
                        let j: f64 = rng.random_range(-strength..strength);
                        let values = vec![j.exp(), (-j).exp(), (-j).exp(), j.exp()];
                        factors.push(Factor::new(&[id(r, c), id(r2, c2)], &[2, 2], values).unwrap());
                    }
                }
            }
        }
        (factors, vec![2; side * side])
    }

    #[test]
    fn exact_on_a_tree() {
        // A chain is a tree: beliefs are the exact marginals.
        let (factors, cards) = grid(1, 1.0, 1);
        let mut chain: Vec<Factor> = factors;
        chain.push(Factor::new(&[0, 1], &[2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap());
        chain.push(Factor::new(&[1, 2], &[2, 2], vec![5.0, 1.0, 1.0, 5.0]).unwrap());
        let cards = [cards, vec![2, 2]].concat();
        let r = loopy_belief_propagation(&chain, &cards, &[(2, 1)], &settings()).unwrap();
        assert!(r.tree, "a chain's factor graph is a tree");
        assert!(r.converged);
        for v in 0..2 {
            let exact = variable_elimination(&chain, &cards, &[v], &[(2, 1)]).unwrap();
            let b = r.marginals[v].as_ref().unwrap();
            assert!((b[1] - exact.values[1]).abs() < 1e-10, "{b:?} vs {:?}", exact.values);
        }
        assert!(r.marginals[2].is_none());
    }

    #[test]
    fn close_on_weakly_coupled_grids() {
        for seed in 0..3 {
            let (factors, cards) = grid(4, 0.3, seed);
            let r = loopy_belief_propagation(&factors, &cards, &[(0, 1)], &settings()).unwrap();
            assert!(r.converged, "seed {seed}: residual {}", r.residual);
            for v in 1..16 {
                let exact = variable_elimination(&factors, &cards, &[v], &[(0, 1)]).unwrap();
                let b = r.marginals[v].as_ref().unwrap();
                assert!((b[1] - exact.values[1]).abs() < 0.01, "seed {seed} x{v}: {b:?} vs {:?}", exact.values);
            }
        }
    }

    #[test]
    fn says_when_it_does_not_converge() {
        let (factors, cards) = grid(4, 3.0, 2);
        let few = LbpSettings { damping: 0.0, max_iterations: 3, tolerance: 1e-12 };
        let r = loopy_belief_propagation(&factors, &cards, &[], &few).unwrap();
        assert!(!r.tree, "a grid has loops");
        // Observing the two middle rows leaves the first and the last row, each a chain.
        let rows: Vec<(usize, usize)> = (4..12).map(|v| (v, 0)).collect();
        assert!(loopy_belief_propagation(&factors, &cards, &rows, &few).unwrap().tree);
        assert!(!r.converged && r.iterations == 3 && r.residual > 1e-12);
        assert!(loopy_belief_propagation(&factors, &cards, &[], &LbpSettings { damping: 1.0, ..few }).is_err());
    }
}
