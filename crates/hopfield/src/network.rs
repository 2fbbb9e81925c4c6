//! The weights, how they are learned, and the energy.

use cg_core::{Domain, EdgeWeight, Role, UnGraph, Variable};
use nalgebra::{DMatrix, DVector};

use crate::{Error, Result};

/// A storage rule (`hebbian` or `storkey` in configs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The Hebbian rule (outer products of the patterns).
    Hebbian,
    /// Storkey's rule (higher capacity).
    Storkey,
}

impl Rule {
    /// The name used in configs.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Hebbian => "hebbian",
            Rule::Storkey => "storkey",
        }
    }
}

/// A Hopfield network: symmetric weights with zero diagonal, and thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct Hopfield {
    /// N × N, symmetric, zero diagonal (checked on construction).
    weights: DMatrix<f64>,
    thresholds: DVector<f64>,
}

/// Checks that every pattern has `n` values, all ±1.
pub(crate) fn check_patterns(n: usize, patterns: &[Vec<f64>]) -> Result<()> {
    if patterns.is_empty() {
        return Err(Error::NoPatterns);
    }
    for (p, x) in patterns.iter().enumerate() {
        if x.len() != n {
            return Err(Error::SizeMismatch { pattern: p, expected: n, found: x.len() });
        }
        if let Some(unit) = x.iter().position(|&v| v != 1.0 && v != -1.0) {
            return Err(Error::NotSpin { pattern: p, unit, value: x[unit] });
        }
    }
    Ok(())
}

impl Hopfield {
    /// A network with the given weights and thresholds.
    ///
    /// # Errors
    /// Asymmetric weights or a non-zero diagonal (exact comparison: the rules produce exactly
    /// symmetric matrices), or thresholds of the wrong length.
    pub fn new(weights: DMatrix<f64>, thresholds: DVector<f64>) -> Result<Hopfield> {
        let n = weights.nrows();
        if weights.ncols() != n || thresholds.len() != n {
            return Err(Error::SizeMismatch { pattern: 0, expected: n, found: thresholds.len().min(weights.ncols()) });
        }
        for i in 0..n {
            if weights[(i, i)] != 0.0 {
                return Err(Error::SelfConnection { i, value: weights[(i, i)] });
            }
            for j in 0..i {
                if weights[(i, j)] != weights[(j, i)] {
                    return Err(Error::Asymmetric { i, j, wij: weights[(i, j)], wji: weights[(j, i)] });
                }
            }
        }
        Ok(Hopfield { weights, thresholds })
    }

    /// Stores `patterns` (each N values of ±1) with `rule`; thresholds are zero.
    ///
    /// ```
    /// use cg_hopfield::{recall, Hopfield, Mode, Rule};
    /// use rand::SeedableRng;
    /// let pattern = vec![1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, -1.0];
    /// let net = Hopfield::store(Rule::Hebbian, &[pattern.clone()]).unwrap();
    /// // Two units flipped: recall restores the stored pattern, and the energy never rises.
    /// let mut cue = pattern.clone();
    /// cue[0] = -cue[0];
    /// cue[5] = -cue[5];
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let (state, energy) = recall(&net, Mode::Async, &cue, 10, &mut rng).unwrap();
    /// assert_eq!(state, pattern);
    /// assert!(energy.windows(2).all(|e| e[1] <= e[0]));
    /// ```
    ///
    /// # Errors
    /// No patterns, patterns of different sizes, or values other than ±1.
    pub fn store(rule: Rule, patterns: &[Vec<f64>]) -> Result<Hopfield> {
        let n = patterns.first().map_or(0, Vec::len);
        check_patterns(n, patterns)?;
        let mut learner = Learner::new(rule, n);
        for p in patterns {
            learner.add(p)?;
        }
        Ok(learner.network())
    }

    /// Number of units.
    pub fn n_units(&self) -> usize {
        self.thresholds.len()
    }

    /// The weight matrix.
    pub fn weights(&self) -> &DMatrix<f64> {
        &self.weights
    }

    /// The thresholds.
    pub fn thresholds(&self) -> &DVector<f64> {
        &self.thresholds
    }

    /// E(s) = -1/2 sᵀ W s + θᵀ s.
    pub fn energy(&self, s: &DVector<f64>) -> f64 {
        -0.5 * s.dot(&(&self.weights * s)) + self.thresholds.dot(s)
    }

    /// The network as an undirected graph of spin nodes with learnable weighted edges (zero
    /// weights are left out, so a sparse network stays sparse).
    pub fn to_graph(&self) -> UnGraph {
        let mut g = UnGraph::new();
        let spin = Variable::Discrete(Domain::Spin);
        let ids: Vec<_> = (0..self.n_units())
            .map(|i| g.add_node(&format!("s{i}"), Role::Hidden, spin).expect("internal: fresh names"))
            .collect();
        for j in 0..self.n_units() {
            for i in 0..j {
                let w = self.weights[(i, j)];
                if w != 0.0 {
                    g.add_edge(ids[i], ids[j], EdgeWeight::Learnable(w)).expect("internal: one edge per pair");
                }
            }
        }
        g
    }

    /// A network from an undirected graph whose nodes are spins and whose edges carry weights
    /// (absent edges weigh zero); thresholds zero.
    ///
    /// # Errors
    /// A node that is not a spin, or an edge without a weight, as [`Error::Graph`].
    pub fn from_graph(g: &UnGraph) -> Result<Hopfield> {
        let n = g.node_count();
        for id in g.node_ids() {
            let node = g.node(id);
            if node.variable != Variable::Discrete(Domain::Spin) {
                return Err(Error::Graph(cg_core::Error::OutOfDomain {
                    name: node.name.clone(),
                    value: f64::NAN,
                    domain: "a spin variable {-1, +1}".into(),
                }));
            }
        }
        let mut w = DMatrix::zeros(n, n);
        for (a, b, e) in g.edges() {
            let v = e
                .weight
                .value()
                .ok_or_else(|| Error::Unweighted { a: g.node(a).name.clone(), b: g.node(b).name.clone() })?;
            if a == b {
                return Err(Error::SelfConnection { i: a.index(), value: v });
            }
            w[(a.index(), b.index())] = v;
            w[(b.index(), a.index())] = v;
        }
        Hopfield::new(w, DVector::zeros(n))
    }
}

/// Stores patterns one at a time, so that a capacity sweep can test the network after every
/// load without relearning from scratch.
#[derive(Clone, Debug)]
pub struct Learner {
    rule: Rule,
    w: DMatrix<f64>,
    stored: usize,
}

impl Learner {
    /// No patterns yet, N units.
    pub fn new(rule: Rule, n: usize) -> Learner {
        Learner { rule, w: DMatrix::zeros(n, n), stored: 0 }
    }

    /// Number of patterns stored.
    pub fn stored(&self) -> usize {
        self.stored
    }

    /// Adds one pattern.
    ///
    /// # Errors
    /// A pattern of the wrong size or with values other than ±1.
    pub fn add(&mut self, x: &[f64]) -> Result<()> {
        let n = self.w.nrows();
        check_patterns(n, std::slice::from_ref(&x.to_vec())).map_err(|e| match e {
            Error::SizeMismatch { expected, found, .. } => {
                Error::SizeMismatch { pattern: self.stored, expected, found }
            }
            Error::NotSpin { unit, value, .. } => Error::NotSpin { pattern: self.stored, unit, value },
            other => other,
        })?;
        let nf = n as f64;
        let xv = DVector::from_column_slice(x);
        match self.rule {
            // W += ξ ξᵀ / N.
            Rule::Hebbian => self.w.ger(1.0 / nf, &xv, &xv, 1.0),
            Rule::Storkey => {
                // h_i = Σ_k W_ik ξ_k (W_ii = 0); h_ij = h_i - W_ij ξ_j excludes k = j.
                let h = &self.w * &xv;
                for j in 0..n {
                    for i in 0..j {
                        let wij = self.w[(i, j)];
                        let h_ij = h[i] - wij * x[j];
                        let h_ji = h[j] - wij * x[i];
                        let dw = (x[i] * x[j] - x[i] * h_ji - h_ij * x[j]) / nf;
                        self.w[(i, j)] = wij + dw;
                        self.w[(j, i)] = wij + dw;
                    }
                }
            }
        }
        for i in 0..n {
            self.w[(i, i)] = 0.0;
        }
        self.stored += 1;
        Ok(())
    }

    /// The network holding the patterns stored so far (zero thresholds).
    pub fn network(&self) -> Hopfield {
        let mut w = self.w.clone();
        // The rank-one update is symmetric in exact arithmetic; copy the lower triangle over the
        // upper one so that it is symmetric to the bit, as the dynamics' guarantees assume.
        for j in 0..w.ncols() {
            for i in 0..j {
                w[(i, j)] = w[(j, i)];
            }
        }
        let n = w.nrows();
        Hopfield::new(w, DVector::zeros(n)).expect("internal: symmetric with zero diagonal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hebbian_weights_of_one_pattern_are_its_outer_product() {
        // ξ = [1, -1, 1]: W = ξ ξᵀ / 3 off the diagonal.
        let h = Hopfield::store(Rule::Hebbian, &[vec![1.0, -1.0, 1.0]]).unwrap();
        let third = 1.0 / 3.0;
        assert_eq!(h.weights()[(0, 1)], -third);
        assert_eq!(h.weights()[(0, 2)], third);
        assert_eq!(h.weights()[(1, 1)], 0.0);
        // E(ξ) = -1/2 Σ_{i≠j} W_ij ξ_i ξ_j = -1/2 · 6 · (1/3) = -1.
        assert!((h.energy(&DVector::from_vec(vec![1.0, -1.0, 1.0])) + 1.0).abs() < 1e-15);
    }

    #[test]
    fn storkey_of_one_pattern_equals_hebbian() {
        // With W = 0 the local fields vanish, so the first Storkey step is the Hebbian one.
        let p = vec![vec![1.0, 1.0, -1.0, -1.0, 1.0]];
        assert_eq!(Hopfield::store(Rule::Storkey, &p).unwrap(), Hopfield::store(Rule::Hebbian, &p).unwrap());
    }

    #[test]
    fn bad_input_is_rejected() {
        assert_eq!(Hopfield::store(Rule::Hebbian, &[]), Err(Error::NoPatterns));
        let err = Hopfield::store(Rule::Hebbian, &[vec![1.0, -1.0], vec![1.0]]).unwrap_err();
        assert_eq!(err.to_string(), "pattern 1 has 1 values, the network has 2 units");
        let err = Hopfield::store(Rule::Hebbian, &[vec![1.0, 0.0]]).unwrap_err();
        assert_eq!(err.to_string(), "pattern 0, unit 1: 0 is not -1 or +1");
        let w = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 2.0, 0.0]);
        let err = Hopfield::new(w, DVector::zeros(2)).unwrap_err();
        assert_eq!(err.to_string(), "weights are not symmetric: W[1][0] = 2 but W[0][1] = 1");
    }

    #[test]
    fn graph_round_trip_keeps_the_weights() {
        let h = Hopfield::store(Rule::Hebbian, &[vec![1.0, -1.0, 1.0, 1.0], vec![-1.0, -1.0, 1.0, -1.0]]).unwrap();
        let g = h.to_graph();
        assert_eq!(g.node_count(), 4);
        assert_eq!(Hopfield::from_graph(&g).unwrap(), h);
    }
}
