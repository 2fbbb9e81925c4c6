//! The exponential reference: explicit path enumeration (Lemma 11.3.1, the pathwise aggregation
//! lemma). It exists to check the dynamic-programming sweeps and to show how the number of paths
//! explodes with depth (Figure 11.7: 2^5 = 32 paths for five layers of two nodes).

use cg_core::NodeId;

use crate::{Error, Result, ScalarDag, Tape};

/// ∂y(to)/∂y(from) as a sum over paths.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathSum {
    /// Σ over paths P of Π_{(i, j) ∈ P} z(i, j).
    pub value: f64,
    /// Σ over paths of |Π z(i, j)|: the scale against which rounding in `value` is measured.
    pub abs_sum: f64,
    /// Number of paths enumerated.
    pub paths: u128,
}

impl ScalarDag {
    /// The number of directed paths from `from` to `to`, by dynamic programming over the
    /// topological order (saturating at `u128::MAX`). 0 when `to` is not reachable; 1 when
    /// `from == to` (the empty path).
    pub fn path_count(&self, from: NodeId, to: NodeId) -> u128 {
        let mut count = vec![0u128; self.node_count()];
        count[from.index()] = 1;
        let args = self.args();
        for k in self.pos(from) + 1..=self.pos(to) {
            let c = self.edge_range(k).fold(0u128, |acc, e| acc.saturating_add(count[args[e] as usize]));
            count[self.order()[k].index()] = c;
        }
        count[to.index()]
    }

    /// Enumerates every path from `from` to `to` depth first, multiplying the local derivatives
    /// along each and adding the products. `tape` must have been through [`ScalarDag::forward`].
    ///
    /// # Errors
    /// [`Error::TooManyPaths`] when [`ScalarDag::path_count`] exceeds `limit`: enumeration is
    /// exponential in depth and would not finish.
    pub fn pathwise(&self, tape: &Tape, from: NodeId, to: NodeId, limit: u64) -> Result<PathSum> {
        let count = self.path_count(from, to);
        if count > u128::from(limit) {
            return Err(Error::TooManyPaths {
                from: self.name(from).to_string(),
                to: self.name(to).to_string(),
                count,
                limit,
            });
        }
        let mut sum = PathSum { value: 0.0, abs_sum: 0.0, paths: 0 };
        if count == 0 {
            return Ok(sum);
        }
        // Prune to nodes from which `to` can be reached, so every branch taken ends in a path.
        let reaches = self.reaches(to);
        // Explicit stack of (node, next child to try, product of z along the path so far): depth
        // can be as large as the graph, too deep for recursion.
        let mut stack: Vec<(NodeId, usize, f64)> = vec![(from, 0, 1.0)];
        while let Some(top) = stack.last_mut() {
            let (node, next, product) = *top;
            if node == to {
                sum.value += product;
                sum.abs_sum += product.abs();
                sum.paths += 1;
                stack.pop();
                continue;
            }
            let children = self.children_of(node);
            match children[next..].iter().position(|&(c, _)| reaches[c as usize]) {
                Some(skip) => {
                    let (child, edge) = children[next + skip];
                    top.1 = next + skip + 1;
                    stack.push((self.id_at(child), 0, product * tape.partials[edge as usize]));
                }
                None => {
                    stack.pop();
                }
            }
        }
        Ok(sum)
    }

    /// By id: whether a directed path leads from the node to `to`.
    fn reaches(&self, to: NodeId) -> Vec<bool> {
        let mut reaches = vec![false; self.node_count()];
        reaches[to.index()] = true;
        let args = self.args();
        for k in (0..=self.pos(to)).rev() {
            if reaches[self.order()[k].index()] {
                for e in self.edge_range(k) {
                    reaches[args[e] as usize] = true;
                }
            }
        }
        reaches
    }
}
