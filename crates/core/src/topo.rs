//! Topological order of a directed graph, and a named cycle when there is none.
//!
//! Kahn's algorithm with a min-heap on node ids: among the nodes whose parents are all placed, the
//! earliest inserted goes first. The order is therefore deterministic and stays close to the order
//! in which a config file defines its nodes. O((n + m) log n).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::Direction;

use crate::error::CyclePath;
use crate::{DiGraph, Error, NodeId, Result};

impl DiGraph {
    /// The nodes in an order where every edge goes forward.
    ///
    /// ```
    /// use cg_core::{DiGraph, EdgeWeight, Role, Variable};
    /// let mut g = DiGraph::new();
    /// let a = g.add_node("a", Role::Input, Variable::SCALAR).unwrap();
    /// let b = g.add_node("b", Role::Hidden, Variable::SCALAR).unwrap();
    /// let c = g.add_node("c", Role::Output, Variable::SCALAR).unwrap();
    /// g.add_edge(a, b, EdgeWeight::None).unwrap();
    /// g.add_edge(b, c, EdgeWeight::None).unwrap();
    /// assert_eq!(g.topological_order().unwrap(), vec![a, b, c]);
    /// g.add_edge(c, b, EdgeWeight::None).unwrap();
    /// assert_eq!(g.topological_order().unwrap_err().to_string(), "cycle: b -> c -> b");
    /// ```
    ///
    /// # Errors
    /// [`Error::Cycle`] naming the nodes of one directed cycle, in edge order, starting at the
    /// earliest-inserted node of that cycle: `cycle: a -> b -> c -> a`.
    pub fn topological_order(&self) -> Result<Vec<NodeId>> {
        let g = self.as_petgraph();
        let n = g.node_count();
        let mut in_degree: Vec<usize> =
            g.node_indices().map(|i| g.neighbors_directed(i, Direction::Incoming).count()).collect();
        let mut ready: BinaryHeap<Reverse<usize>> = (0..n).filter(|&i| in_degree[i] == 0).map(Reverse).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for child in g.neighbors_directed(petgraph::graph::NodeIndex::new(i), Direction::Outgoing) {
                let c = child.index();
                in_degree[c] -= 1;
                if in_degree[c] == 0 {
                    ready.push(Reverse(c));
                }
            }
        }
        if order.len() < n {
            return Err(Error::Cycle(self.find_cycle(&in_degree)));
        }
        let ids: Vec<NodeId> = self.node_ids().collect();
        Ok(order.into_iter().map(|i| ids[i]).collect())
    }

    /// Walks backwards from an unplaced node. Every unplaced node keeps an unplaced parent (its
    /// in-degree never reached zero), so the walk must revisit a node: the revisited stretch is a
    /// cycle.
    fn find_cycle(&self, in_degree: &[usize]) -> CyclePath {
        let unplaced = |id: &NodeId| in_degree[id.index()] > 0;
        let start = self.node_ids().find(unplaced).expect("internal: Kahn left a node unplaced");
        let mut seen_at = vec![usize::MAX; self.node_count()];
        let mut walk = vec![];
        let mut cur = start;
        while seen_at[cur.index()] == usize::MAX {
            seen_at[cur.index()] = walk.len();
            walk.push(cur);
            cur = *self
                .parents(cur)
                .iter()
                .find(|p| unplaced(p))
                .expect("internal: an unplaced node has an unplaced parent");
        }
        // The walk followed edges backwards; reverse it to read them forwards.
        let mut cycle: Vec<NodeId> = walk[seen_at[cur.index()]..].to_vec();
        cycle.reverse();
        let first = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
        cycle.rotate_left(first);
        CyclePath(cycle.into_iter().map(|id| self.node(id).name.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EdgeWeight, Role, Variable};
    use proptest::prelude::*;

    fn graph(names: &[&str], edges: &[(usize, usize)]) -> (DiGraph, Vec<NodeId>) {
        let mut g = DiGraph::new();
        let ids: Vec<_> = names.iter().map(|n| g.add_node(n, Role::Hidden, Variable::SCALAR).unwrap()).collect();
        for &(a, b) in edges {
            g.add_edge(ids[a], ids[b], EdgeWeight::None).unwrap();
        }
        (g, ids)
    }

    #[test]
    fn order_puts_parents_first_and_keeps_insertion_order_among_ready_nodes() {
        // c depends on a and b, a depends on d: d, then b (ready from the start, inserted before
        // d), so the order is b, d, a, c.
        let (g, ids) = graph(&["a", "b", "c", "d"], &[(0, 2), (1, 2), (3, 0)]);
        let order = g.topological_order().unwrap();
        assert_eq!(order, vec![ids[1], ids[3], ids[0], ids[2]]);
    }

    #[test]
    fn cycle_is_named_in_edge_order() {
        // x -> a -> b -> c -> a, plus c -> out: the cycle is a -> b -> c -> a.
        let (g, _) = graph(&["x", "c", "b", "a", "out"], &[(0, 3), (3, 2), (2, 1), (1, 3), (1, 4)]);
        let err = g.topological_order().unwrap_err();
        assert_eq!(err.to_string(), "cycle: c -> a -> b -> c");
    }

    #[test]
    fn self_loop_is_a_cycle() {
        let (g, _) = graph(&["a", "b"], &[(0, 1), (1, 1)]);
        assert_eq!(g.topological_order().unwrap_err().to_string(), "cycle: b -> b");
    }

    proptest! {
        /// On random directed graphs: either every edge goes forward in the order, or the reported
        /// cycle is a real cycle of the graph.
        #[test]
        fn order_or_cycle_is_correct(n in 1usize..9, edges in prop::collection::vec((0usize..9, 0usize..9), 0..20)) {
            let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
            let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut g = DiGraph::new();
            let ids: Vec<_> = name_refs.iter().map(|s| g.add_node(s, Role::Hidden, Variable::SCALAR).unwrap()).collect();
            for (a, b) in edges {
                let _ = g.add_edge(ids[a % n], ids[b % n], EdgeWeight::None);
            }
            match g.topological_order() {
                Ok(order) => {
                    let mut pos = vec![0; n];
                    for (k, id) in order.iter().enumerate() { pos[id.index()] = k; }
                    for (a, b, _) in g.edges() { prop_assert!(pos[a.index()] < pos[b.index()]); }
                    prop_assert_eq!(order.len(), n);
                }
                Err(Error::Cycle(CyclePath(cycle))) => {
                    prop_assert!(!cycle.is_empty());
                    for k in 0..cycle.len() {
                        let a = g.id(&cycle[k]).unwrap();
                        let b = g.id(&cycle[(k + 1) % cycle.len()]).unwrap();
                        prop_assert!(g.edge(a, b).is_some(), "{} -> {} is not an edge", cycle[k], cycle[(k + 1) % cycle.len()]);
                    }
                }
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}
