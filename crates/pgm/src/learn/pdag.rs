//! Partially directed graphs: the equivalence class of a DAG (its CPDAG), Meek's orientation
//! rules, and a DAG that extends a pattern.

use std::collections::BTreeSet;

use serde::Serialize;

/// A graph with directed edges (parent, child) and undirected ones (a, b with a < b).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pdag {
    /// The number of variables.
    pub n: usize,
    /// Directed edges (parent, child).
    pub directed: BTreeSet<(usize, usize)>,
    /// Undirected edges (a, b), a < b.
    pub undirected: BTreeSet<(usize, usize)>,
}

impl Pdag {
    /// The CPDAG (essential graph) of a DAG: its skeleton, its v-structures directed, and every
    /// edge Meek's rules then force; two DAGs are Markov equivalent exactly when their CPDAGs
    /// are equal.
    ///
    /// ```
    /// use cg_pgm::learn::Pdag;
    /// // a -> c <- b is a v-structure: fully directed. a -> b -> c is not: all undirected.
    /// assert_eq!(Pdag::of_dag(&[vec![], vec![], vec![0, 1]]).directed.len(), 2);
    /// assert_eq!(Pdag::of_dag(&[vec![], vec![0], vec![1]]).undirected.len(), 2);
    /// ```
    pub fn of_dag(parents: &[Vec<usize>]) -> Pdag {
        let mut g = Pdag { n: parents.len(), ..Pdag::default() };
        for (c, ps) in parents.iter().enumerate() {
            for &p in ps {
                g.undirected.insert((p.min(c), p.max(c)));
            }
        }
        for (c, ps) in parents.iter().enumerate() {
            for (i, &a) in ps.iter().enumerate() {
                for &b in &ps[i + 1..] {
                    if !g.adjacent(a, b) {
                        g.orient(a, c);
                        g.orient(b, c);
                    }
                }
            }
        }
        g.meek();
        g
    }

    /// Whether a and b are joined by any edge.
    pub fn adjacent(&self, a: usize, b: usize) -> bool {
        self.directed.contains(&(a, b))
            || self.directed.contains(&(b, a))
            || self.undirected.contains(&(a.min(b), a.max(b)))
    }

    /// Whether a – b is undirected.
    pub fn is_undirected(&self, a: usize, b: usize) -> bool {
        self.undirected.contains(&(a.min(b), a.max(b)))
    }

    /// Directs a – b as a -> b (nothing when it is not undirected).
    pub(crate) fn orient(&mut self, a: usize, b: usize) -> bool {
        if self.undirected.remove(&(a.min(b), a.max(b))) {
            self.directed.insert((a, b));
            true
        } else {
            false
        }
    }

    /// Applies Meek's rules 1–3 until none applies: a -> b – c with a, c apart gives b -> c;
    /// a -> b -> c with a – c gives a -> c; a – c -> b and a – d -> b with c, d apart and
    /// a – b gives a -> b.
    pub fn meek(&mut self) {
        loop {
            let mut changed = false;
            for (a, b) in self.undirected.clone() {
                for (x, y) in [(a, b), (b, a)] {
                    if self.is_undirected(x, y) && self.forced(x, y) {
                        changed |= self.orient(x, y);
                    }
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// Whether one of Meek's rules directs the undirected x – y as x -> y.
    fn forced(&self, x: usize, y: usize) -> bool {
        let into = |v: usize| self.directed.iter().filter(move |&&(_, c)| c == v).map(|&(p, _)| p);
        // Rule 1: some a -> x with a not adjacent to y.
        if into(x).any(|a| a != y && !self.adjacent(a, y)) {
            return true;
        }
        // Rule 2: x -> c -> y.
        if into(y).any(|c| self.directed.contains(&(x, c))) {
            return true;
        }
        // Rule 3: x – c -> y and x – d -> y with c, d not adjacent.
        let middles: Vec<usize> = into(y).filter(|&c| self.is_undirected(x, c)).collect();
        middles.iter().enumerate().any(|(i, &c)| middles[i + 1..].iter().any(|&d| !self.adjacent(c, d)))
    }

    /// A DAG with this skeleton, these directed edges and no new v-structure (Dor and Tarsi,
    /// 1992), as each variable's parents; `None` when there is none.
    pub fn to_dag(&self) -> Option<Vec<Vec<usize>>> {
        let mut g = self.clone();
        let mut parents = vec![vec![]; self.n];
        for &(p, c) in &self.directed {
            parents[c].push(p);
        }
        let mut alive: Vec<bool> = vec![true; self.n];
        for _ in 0..self.n {
            let neighbours =
                |g: &Pdag, v: usize| -> Vec<usize> { (0..g.n).filter(|&u| u != v && g.adjacent(u, v)).collect() };
            let sink = (0..self.n).filter(|&x| alive[x]).find(|&x| {
                let out = g.directed.iter().any(|&(p, _)| p == x);
                let undirected: Vec<usize> = (0..g.n).filter(|&y| g.is_undirected(x, y)).collect();
                let around = neighbours(&g, x);
                !out && undirected.iter().all(|&y| around.iter().all(|&z| z == y || g.adjacent(y, z)))
            })?;
            for y in (0..g.n).filter(|&y| g.is_undirected(sink, y)).collect::<Vec<_>>() {
                parents[sink].push(y);
            }
            g.directed.retain(|&(p, c)| p != sink && c != sink);
            g.undirected.retain(|&(a, b)| a != sink && b != sink);
            alive[sink] = false;
        }
        for ps in &mut parents {
            ps.sort_unstable();
        }
        Some(parents)
    }
}
