//! How a learned structure differs from a reference one.

use serde::Serialize;

use super::pdag::Pdag;

/// The edges a learned DAG gets wrong against a reference DAG over the same variables, and the
/// structural Hamming distance (each missing, added or reversed edge counts 1, as pgmpy's `SHD`
/// and Tsamardinos et al. 2006 count).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Missing + added + reversed.
    pub shd: usize,
    /// The same count between the two equivalence classes (CPDAGs): an edge whose direction no
    /// data could tell is not counted as reversed.
    pub cpdag_shd: usize,
    /// Edges of the reference the learned graph lacks, (parent, child) by name.
    pub missing: Vec<(String, String)>,
    /// Edges the reference lacks.
    pub added: Vec<(String, String)>,
    /// Reference edges learned the other way round, as the reference has them.
    pub reversed: Vec<(String, String)>,
    /// Reference edges learned as they are.
    pub correct: Vec<(String, String)>,
}

/// Compares `learned` with `reference` (each variable's parents; the same variables, named by
/// `names`).
///
/// ```
/// use cg_pgm::learn::compare;
/// let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
/// // reference a -> b -> c; learned b -> a, a -> c: one reversed, one missing, one added.
/// let c = compare(&names, &[vec![1], vec![], vec![0]], &[vec![], vec![0], vec![1]]);
/// assert_eq!((c.shd, c.missing.len(), c.added.len(), c.reversed.len()), (3, 1, 1, 1));
/// ```
pub fn compare(names: &[String], learned: &[Vec<usize>], reference: &[Vec<usize>]) -> Comparison {
    let name = |&(p, c): &(usize, usize)| (names[p].clone(), names[c].clone());
    let has = |g: &[Vec<usize>], p: usize, c: usize| g[c].contains(&p);
    let mut out = Comparison::default();
    for e in super::dag::edges(reference) {
        let (p, c) = e;
        if has(learned, p, c) {
            out.correct.push(name(&e));
        } else if has(learned, c, p) {
            out.reversed.push(name(&e));
        } else {
            out.missing.push(name(&e));
        }
    }
    for e in super::dag::edges(learned) {
        let (p, c) = e;
        if !has(reference, p, c) && !has(reference, c, p) {
            out.added.push(name(&e));
        }
    }
    out.shd = out.missing.len() + out.added.len() + out.reversed.len();
    out.cpdag_shd = pdag_distance(&Pdag::of_dag(learned), &Pdag::of_dag(reference));
    out
}

/// The pairs of variables whose edge differs between two PDAGs (absent, one direction, the
/// other, or undirected).
pub fn pdag_distance(a: &Pdag, b: &Pdag) -> usize {
    let mark = |g: &Pdag, x: usize, y: usize| -> u8 {
        if g.is_undirected(x, y) {
            3
        } else if g.directed.contains(&(x, y)) {
            1
        } else if g.directed.contains(&(y, x)) {
            2
        } else {
            0
        }
    };
    (0..a.n).flat_map(|x| (x + 1..a.n).map(move |y| (x, y))).filter(|&(x, y)| mark(a, x, y) != mark(b, x, y)).count()
}
