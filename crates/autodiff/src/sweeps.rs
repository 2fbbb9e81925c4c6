//! The polynomial-time sweeps: reverse mode, forward mode and all-pairs derivatives.

use cg_core::NodeId;

use crate::{Error, PerNode, Result, ScalarDag, Tape};

/// S(i, j) = ∂y(j)/∂y(i) for every ordered pair of distinct nodes joined by a directed path.
#[derive(Clone, Debug, PartialEq)]
pub struct AllPairs {
    /// By id of i: the pairs `(j, S(i, j))`, j in topological order.
    rows: Vec<Vec<(NodeId, f64)>>,
}

impl AllPairs {
    /// The nodes reachable from `from`, with the derivative of each with respect to `from`.
    pub fn row(&self, from: NodeId) -> &[(NodeId, f64)] {
        &self.rows[from.index()]
    }

    /// S(from, to), or `None` when no path leads from `from` to `to`.
    pub fn get(&self, from: NodeId, to: NodeId) -> Option<f64> {
        self.rows[from.index()].iter().find(|(j, _)| *j == to).map(|&(_, s)| s)
    }

    /// Number of pairs joined by a path.
    pub fn pair_count(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
}

impl ScalarDag {
    /// Reverse mode (the chapter's backpropagation with loss seeds, section 11.3.5): starting from
    /// Δ(t) = `seeds` at the given nodes, visits nodes in reverse topological order and sets
    /// Δ(i) = Σ_{j ∈ A(i)} Δ(j) z(i, j). Returns Δ for every node; for inputs and weights it is the
    /// loss-to-input and loss-to-weight derivative. Seeds on the same node add up.
    ///
    /// `tape` must have been through [`ScalarDag::forward`].
    ///
    /// # Errors
    /// [`Error::NonFiniteGradient`] for the first node (in the backward order) whose Δ overflows.
    pub fn reverse(&self, tape: &Tape, seeds: &[(NodeId, f64)]) -> Result<PerNode> {
        let mut delta = vec![0.0; self.node_count()];
        for &(id, s) in seeds {
            delta[id.index()] += s;
        }
        let args = self.args();
        for (k, id) in self.order().iter().enumerate().rev() {
            let d = delta[id.index()];
            if !d.is_finite() {
                return Err(Error::NonFiniteGradient {
                    node: self.name(*id).to_string(),
                    what: self.describe_at(k),
                    inputs: self.describe_inputs(&tape.values, k),
                    value: d,
                });
            }
            for e in self.edge_range(k) {
                delta[args[e] as usize] += d * tape.partials[e];
            }
        }
        Ok(PerNode(delta))
    }

    /// Forward mode (exercise 14): ∂y(j)/∂y(`from`) for every node j, pushing tangents forwards in
    /// topological order: t(j) = Σ_{i → j} z(i, j) t(i), with t(`from`) = 1. Nodes that do not
    /// depend on `from` get 0. `tape` must have been through [`ScalarDag::forward`].
    pub fn tangents(&self, tape: &Tape, from: NodeId) -> PerNode {
        let mut t = vec![0.0; self.node_count()];
        t[from.index()] = 1.0;
        let args = self.args();
        for k in self.pos(from) + 1..self.node_count() {
            if self.is_computed_at(k) {
                let sum: f64 = self.edge_range(k).map(|e| tape.partials[e] * t[args[e] as usize]).sum();
                t[self.order()[k].index()] = sum;
            }
        }
        PerNode(t)
    }

    /// All-pairs node-to-node derivatives (exercise 15). For each node i, one forward sweep over
    /// the nodes after i in topological order carries S(i, ·) and a reached flag; only nodes with a
    /// reached argument are summed and recorded. Time O(n (n + m)), better than the exercise's
    /// O(n² m); memory O(n) besides the output.
    pub fn all_pairs(&self, tape: &Tape) -> AllPairs {
        let n = self.node_count();
        let args = self.args();
        let order = self.order();
        let mut s = vec![0.0; n];
        let mut reached = vec![false; n];
        let mut rows = vec![Vec::new(); n];
        for (k0, &from) in order.iter().enumerate() {
            let mut row = Vec::new();
            s[from.index()] = 1.0;
            reached[from.index()] = true;
            for (k, &j) in order.iter().enumerate().skip(k0 + 1) {
                let edges = self.edge_range(k);
                if !edges.clone().any(|e| reached[args[e] as usize]) {
                    continue;
                }
                // Unreached arguments hold s = 0, so summing over all edges is exact.
                let sum: f64 = edges.map(|e| tape.partials[e] * s[args[e] as usize]).sum();
                s[j.index()] = sum;
                reached[j.index()] = true;
                row.push((j, sum));
            }
            for &(j, _) in &row {
                s[j.index()] = 0.0;
                reached[j.index()] = false;
            }
            s[from.index()] = 0.0;
            reached[from.index()] = false;
            rows[from.index()] = row;
        }
        AllPairs { rows }
    }
}
