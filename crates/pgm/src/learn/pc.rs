//! Constraint-based structure learning: the PC algorithm, order-independent ("stable") variant
//! (Colombo and Maathuis 2014), with chi-square or G tests of conditional independence.

use std::collections::{BTreeSet, HashMap};

use rayon::prelude::*;
use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::counts::count;
use super::data::DiscreteData;
use super::pdag::Pdag;
use crate::{Error, Result};

/// A test of X ⫫ Y | Z on counts, stratum by stratum of Z, summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiTest {
    /// Pearson's chi-square.
    ChiSquare,
    /// The likelihood-ratio G statistic, 2 Σ O ln(O / E).
    G,
}

/// The PC algorithm's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pc {
    /// The test.
    pub test: CiTest,
    /// The significance level: an edge goes when a test's p-value is at least this.
    pub alpha: f64,
    /// The largest conditioning set tried (`None`: as large as the adjacencies allow).
    pub max_conditioning: Option<usize>,
}

impl Pc {
    /// Checks the settings.
    ///
    /// # Errors
    /// An alpha outside (0, 1).
    pub fn check(&self) -> Result<(), cg_core::OutOfRange> {
        cg_core::OutOfRange::check("alpha", self.alpha, self.alpha > 0.0 && self.alpha < 1.0, "in (0, 1)")
    }
}

impl Default for Pc {
    /// Chi-square at 0.01, no bound (pgmpy's defaults).
    fn default() -> Self {
        Pc { test: CiTest::ChiSquare, alpha: 0.01, max_conditioning: None }
    }
}

/// What PC found.
#[derive(Clone, Debug, PartialEq)]
pub struct PcResult {
    /// The equivalence class: edges the data orient are directed, the rest undirected.
    pub cpdag: Pdag,
    /// The independence tests made.
    pub tests: usize,
    /// For each removed edge (a, b), a < b, the set that separated them.
    pub separating: Vec<((usize, usize), Vec<usize>)>,
}

/// One test's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestResult {
    /// The statistic, summed over the strata.
    pub statistic: f64,
    /// Its degrees of freedom, summed over the strata.
    pub dof: usize,
    /// P(χ²_dof ≥ statistic); 1 when dof is 0 (no stratum has two states of both).
    pub p_value: f64,
}

/// Tests X ⫫ Y | Z: in each configuration of Z that occurs, the table of the X and Y states
/// seen there, its statistic and (rows − 1)(columns − 1) degrees of freedom, with Yates'
/// continuity correction where that is 1 (as scipy's `chi2_contingency`, which pgmpy's tests
/// call, does).
///
/// ```
/// use cg_pgm::learn::{independence_test, CiTest, DiscreteData};
/// // Pearson's chi-square of [[3, 1], [1, 3]] with Yates' correction: 4 · (1 − 0.5)² / 2 = 0.5.
/// let data = DiscreteData::from_csv("x,y\n0,0\n0,0\n0,0\n0,1\n1,0\n1,1\n1,1\n1,1\n").unwrap();
/// let t = independence_test(&data, 0, 1, &[], CiTest::ChiSquare);
/// assert!((t.statistic - 0.5).abs() < 1e-12 && t.dof == 1);
/// ```
pub fn independence_test(data: &DiscreteData, x: usize, y: usize, z: &[usize], test: CiTest) -> TestResult {
    let cards = data.cards();
    let mut family: Vec<usize> = z.to_vec();
    family.push(x);
    let c = count(data, y, &family);
    let (cx, cy) = (cards[x] as u64, cards[y]);
    let (mut statistic, mut dof) = (0.0, 0usize);
    let mut rows = c.rows().peekable();
    while let Some((key, first)) = rows.next() {
        let stratum = key / cx;
        let mut table: Vec<&[u32]> = vec![first];
        while let Some(&(k, row)) = rows.peek() {
            if k / cx != stratum {
                break;
            }
            table.push(row);
            rows.next();
        }
        let columns: Vec<usize> = (0..cy).filter(|&j| table.iter().any(|row| row[j] > 0)).collect();
        let (r, k) = (table.len(), columns.len());
        if r < 2 || k < 2 {
            continue;
        }
        let row_sums: Vec<f64> = table.iter().map(|row| row.iter().map(|&v| v as f64).sum()).collect();
        let col_sums: Vec<f64> = columns.iter().map(|&j| table.iter().map(|row| row[j] as f64).sum()).collect();
        let total: f64 = row_sums.iter().sum();
        let d = (r - 1) * (k - 1);
        for (i, row) in table.iter().enumerate() {
            for (jj, &j) in columns.iter().enumerate() {
                let expected = row_sums[i] * col_sums[jj] / total;
                let mut observed = row[j] as f64;
                if d == 1 {
                    let diff = expected - observed;
                    observed += diff.signum() * diff.abs().min(0.5);
                }
                statistic += match test {
                    CiTest::ChiSquare => (observed - expected).powi(2) / expected,
                    CiTest::G if observed > 0.0 => 2.0 * observed * (observed / expected).ln(),
                    CiTest::G => 0.0,
                };
            }
        }
        dof += d;
    }
    let p_value =
        if dof == 0 { 1.0 } else { ChiSquared::new(dof as f64).map_or(1.0, |chi| chi.sf(statistic.max(0.0))) };
    TestResult { statistic, dof, p_value }
}

/// Learns an equivalence class from `data` by PC-stable: the skeleton by tests of growing
/// conditioning sets drawn from the adjacencies frozen at the start of each level (so the
/// result does not depend on the variables' order, and the tests of a level run in parallel),
/// then the v-structures (a – c – b with a, b apart and c outside their separating set) and
/// Meek's rules.
///
/// # Errors
/// An alpha outside (0, 1), or data with missing cells.
pub fn pc(data: &DiscreteData, settings: Pc) -> Result<PcResult> {
    settings.check()?;
    if data.missing() > 0 {
        return Err(Error::Learn(format!(
            "PC tests need complete data; {} cells are missing (fit with EM on a given structure instead)",
            data.missing()
        )));
    }
    let n = data.variables();
    let mut adj: Vec<BTreeSet<usize>> = (0..n).map(|v| (0..n).filter(|&u| u != v).collect()).collect();
    let mut separating: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    let mut tests = 0;
    for level in 0.. {
        if settings.max_conditioning.is_some_and(|m| level > m) {
            break;
        }
        let frozen = adj.clone();
        let edges: Vec<(usize, usize)> =
            (0..n).flat_map(|a| frozen[a].iter().filter(move |&&b| b > a).map(move |&b| (a, b))).collect();
        if !edges.iter().any(|&(a, b)| frozen[a].len() > level || frozen[b].len() > level) {
            break;
        }
        let outcomes: Vec<(usize, Option<Vec<usize>>)> = edges
            .par_iter()
            .map(|&(a, b)| {
                let mut made = 0;
                for (from, other) in [(a, b), (b, a)] {
                    let pool: Vec<usize> = frozen[from].iter().copied().filter(|&v| v != other).collect();
                    for set in subsets(&pool, level) {
                        made += 1;
                        if independence_test(data, a, b, &set, settings.test).p_value >= settings.alpha {
                            return (made, Some(set));
                        }
                    }
                }
                (made, None)
            })
            .collect();
        for (&(a, b), (made, set)) in edges.iter().zip(outcomes) {
            tests += made;
            if let Some(set) = set {
                adj[a].remove(&b);
                adj[b].remove(&a);
                separating.insert((a, b), set);
            }
        }
    }
    let mut g = Pdag { n, ..Pdag::default() };
    for a in 0..n {
        for &b in adj[a].iter().filter(|&&b| b > a) {
            g.undirected.insert((a, b));
        }
    }
    // Unshielded triples a – c – b (a < b apart) with c outside sep(a, b): a -> c <- b. An edge
    // already directed the other way by an earlier triple keeps its first orientation.
    for c in 0..n {
        let around: Vec<usize> = adj[c].iter().copied().collect();
        for (i, &a) in around.iter().enumerate() {
            for &b in &around[i + 1..] {
                if adj[a].contains(&b) {
                    continue;
                }
                if separating.get(&(a, b)).is_some_and(|s| !s.contains(&c)) {
                    g.orient(a, c);
                    g.orient(b, c);
                }
            }
        }
    }
    g.meek();
    let mut separating: Vec<((usize, usize), Vec<usize>)> = separating.into_iter().collect();
    separating.sort();
    Ok(PcResult { cpdag: g, tests, separating })
}

/// Every `k`-subset of `pool`, in lexicographic order.
fn subsets(pool: &[usize], k: usize) -> Vec<Vec<usize>> {
    let mut out = vec![];
    if k > pool.len() {
        return out;
    }
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        out.push(idx.iter().map(|&i| pool[i]).collect());
        let Some(i) = (0..k).rev().find(|&i| idx[i] != i + pool.len() - k) else {
            return out;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}
