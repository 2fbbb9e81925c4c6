//! Small directed-graph helpers for the learners: descendants as bitsets, edges as pairs.

/// Each variable's descendants, itself included, as bitsets (`words` u64 per variable).
pub(crate) struct Reach {
    words: usize,
    bits: Vec<u64>,
}

impl Reach {
    /// Descendants in the DAG given by each variable's parents.
    pub(crate) fn of(parents: &[Vec<usize>]) -> Reach {
        let n = parents.len();
        let words = n.div_ceil(64).max(1);
        let mut children = vec![vec![]; n];
        for (v, ps) in parents.iter().enumerate() {
            for &p in ps {
                children[p].push(v);
            }
        }
        let order = parents_first(parents).expect("the learners keep the graph acyclic");
        let mut bits = vec![0u64; n * words];
        for &v in order.iter().rev() {
            bits[v * words + v / 64] |= 1 << (v % 64);
            for &c in &children[v] {
                for w in 0..words {
                    bits[v * words + w] |= bits[c * words + w];
                }
            }
        }
        Reach { words, bits }
    }

    /// Whether `to` is `from` or one of its descendants.
    pub(crate) fn reaches(&self, from: usize, to: usize) -> bool {
        self.bits[from * self.words + to / 64] >> (to % 64) & 1 == 1
    }
}

/// The variables with every parent first, or `None` when the graph has a cycle.
pub(crate) fn parents_first(parents: &[Vec<usize>]) -> Option<Vec<usize>> {
    let n = parents.len();
    let mut waiting: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut children = vec![vec![]; n];
    for (v, ps) in parents.iter().enumerate() {
        for &p in ps {
            children[p].push(v);
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|&v| waiting[v] == 0).collect();
    let mut k = 0;
    while k < order.len() {
        for &c in &children[order[k]] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                order.push(c);
            }
        }
        k += 1;
    }
    (order.len() == n).then_some(order)
}

/// Every edge (parent, child), sorted.
pub fn edges(parents: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let mut e: Vec<(usize, usize)> =
        parents.iter().enumerate().flat_map(|(v, ps)| ps.iter().map(move |&p| (p, v))).collect();
    e.sort_unstable();
    e
}
