//! The travelling salesman problem on a continuous Hopfield network (Hopfield and Tank, 1985),
//! and the exact optimum by the Held-Karp dynamic programme (1962) to measure it against.
//!
//! Unit V_xi ∈ (0, 1) says "city x is visited at position i". With distances d normalised so the
//! largest is 1, the network descends the energy
//!
//! ```text
//! E = A/2 Σ_x Σ_i Σ_{j≠i} V_xi V_xj + B/2 Σ_i Σ_x Σ_{y≠x} V_xi V_yi + C/2 (Σ_xi V_xi - n̄)²
//!   + D/2 Σ_x Σ_{y≠x} Σ_i d_xy V_xi (V_{y,i+1} + V_{y,i-1})
//! ```
//!
//! (no city twice, no position twice, n units on in all, and the tour length; positions wrap
//! around) through du/dt = -u/τ - ∂E/∂V, V = (1 + tanh(u/u0))/2, integrated by Euler steps. This is
//! the original energy; a "sum of each row equals one" penalty alone was tried first and settles
//! in smeared states (each city half at two neighbouring positions), which the exclusion terms A
//! and B forbid. The gain 1/u0 may be annealed (u0 shrinking geometrically every 1% of the steps),
//! which pushes units towards 0 or 1. A run is decoded by reading, for each position, the city whose unit is
//! largest; it is a **valid** tour only if every row and every column of V has exactly one unit
//! above 1/2. Invalid runs are counted, never repaired.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Settings of the network dynamics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TankParams {
    /// A: the penalty on a city visited at two positions.
    pub a: f64,
    /// B: the penalty on two cities at one position.
    pub b: f64,
    /// C: the penalty on a number of units on other than n̄.
    pub c: f64,
    /// D: the weight of the tour length.
    pub d: f64,
    /// The target number of units on, n̄ (Hopfield and Tank used a little more than n).
    pub n_bar: f64,
    /// Initial u0 (inverse gain).
    pub u0: f64,
    /// u0 is multiplied by this every `steps / 100` steps (1 = fixed gain).
    pub anneal: f64,
    /// The time constant of the units.
    pub tau: f64,
    /// The integration step.
    pub dt: f64,
    /// Integration steps.
    pub steps: usize,
    /// Uniform noise on the initial u, as a fraction of u0.
    pub noise: f64,
}

impl Default for TankParams {
    fn default() -> Self {
        TankParams {
            a: 500.0,
            b: 500.0,
            c: 200.0,
            d: 500.0,
            n_bar: 15.0,
            u0: 0.02,
            anneal: 1.0,
            tau: 1.0,
            dt: 1e-5,
            steps: 10_000,
            noise: 0.1,
        }
    }
}

/// `[network]` of a `hopfield_tsp` config: the Hopfield-Tank settings; anything left out keeps
/// its default ([`TankParams::default`]).
#[derive(serde::Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(description = "`[network]`: the Hopfield-Tank settings; anything left out keeps its default.")]
pub struct TankConfig {
    /// Penalty weight A: more than one unit on in a row (a city visited twice). Default 500.
    pub a: Option<f64>,
    /// Penalty weight B: more than one unit on in a column (two cities at one stop). Default 500.
    pub b: Option<f64>,
    /// Penalty weight C: total activity away from n_bar. Default 200.
    pub c: Option<f64>,
    /// Weight D of the tour length. Default 500.
    pub d: Option<f64>,
    /// Target number of units on (a little more than the number of cities). Default 15.
    pub n_bar: Option<f64>,
    /// Initial u0 of V = (1 + tanh(u/u0))/2, the inverse gain. Default 0.02.
    pub u0: Option<f64>,
    /// u0 is multiplied by this every 1% of the steps (1: fixed gain). Default 1.
    pub anneal: Option<f64>,
    /// Time constant τ of du/dt = -u/τ - dE/dV. Default 1.
    pub tau: Option<f64>,
    /// Euler step. Default 1e-5.
    pub dt: Option<f64>,
    /// Euler steps per run. Default 10000.
    pub steps: Option<usize>,
    /// Uniform noise on the initial u, as a fraction of u0. Default 0.1.
    pub noise: Option<f64>,
}

impl cg_core::Validate for TankConfig {
    type Params = TankParams;
    type Error = cg_core::OutOfRange;

    /// The settings given, defaults for the rest.
    ///
    /// ```
    /// use cg_core::Validate;
    /// let p = cg_hopfield::tsp::TankConfig { steps: Some(500), ..Default::default() }.validate().unwrap();
    /// assert_eq!((p.steps, p.a), (500, 500.0));
    /// let zero = cg_hopfield::tsp::TankConfig { dt: Some(0.0), ..Default::default() };
    /// assert_eq!(zero.validate().unwrap_err().to_string(), "dt = 0 is out of range (> 0)");
    /// ```
    ///
    /// # Errors
    /// A gain, time constant, step or annealing factor that is not positive and finite, or no
    /// steps.
    fn validate(&self) -> Result<TankParams, cg_core::OutOfRange> {
        let d = TankParams::default();
        let params = TankParams {
            a: self.a.unwrap_or(d.a),
            b: self.b.unwrap_or(d.b),
            c: self.c.unwrap_or(d.c),
            d: self.d.unwrap_or(d.d),
            n_bar: self.n_bar.unwrap_or(d.n_bar),
            u0: self.u0.unwrap_or(d.u0),
            anneal: self.anneal.unwrap_or(d.anneal),
            tau: self.tau.unwrap_or(d.tau),
            dt: self.dt.unwrap_or(d.dt),
            steps: self.steps.unwrap_or(d.steps),
            noise: self.noise.unwrap_or(d.noise),
        };
        for (name, v) in [("u0", params.u0), ("tau", params.tau), ("dt", params.dt), ("anneal", params.anneal)] {
            cg_core::OutOfRange::check(name, v, v > 0.0, "> 0")?;
        }
        cg_core::OutOfRange::at_least("steps", params.steps, 1, ">= 1")?;
        Ok(params)
    }
}

/// Euclidean distances between cities, scaled so the largest is 1.
pub fn distances(cities: &[(f64, f64)]) -> Vec<Vec<f64>> {
    let n = cities.len();
    let raw = |i: usize, j: usize| ((cities[i].0 - cities[j].0).powi(2) + (cities[i].1 - cities[j].1).powi(2)).sqrt();
    let max = (0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| raw(i, j)).fold(0.0, f64::max);
    (0..n).map(|i| (0..n).map(|j| if max > 0.0 { raw(i, j) / max } else { 0.0 }).collect()).collect()
}

/// Length of the closed tour visiting `tour` in order.
pub fn tour_length(d: &[Vec<f64>], tour: &[usize]) -> f64 {
    (0..tour.len()).map(|k| d[tour[k]][tour[(k + 1) % tour.len()]]).sum()
}

/// The shortest closed tour, by Held-Karp: `best[S][j]` = shortest path from city 0 through the set
/// S ending at j. O(2ⁿ n²) time, O(2ⁿ n) memory: exact for the small instances here (n ≤ 16).
///
/// # Panics
/// For fewer than 2 or more than 20 cities.
///
/// ```
/// use cg_hopfield::tsp::{distances, held_karp, tour_length};
/// // The corners of a square: the shortest tour is its perimeter, 4 sides of 1/√2 once the
/// // longest distance (the diagonal) is scaled to 1; crossing the diagonals is longer.
/// let d = distances(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]);
/// let (length, tour) = held_karp(&d);
/// assert!((length - 4.0 / 2f64.sqrt()).abs() < 1e-12);
/// assert!((tour_length(&d, &tour) - length).abs() < 1e-12);
/// assert!(tour_length(&d, &[0, 2, 1, 3]) > length);
/// ```
pub fn held_karp(d: &[Vec<f64>]) -> (f64, Vec<usize>) {
    let n = d.len();
    assert!((2..=20).contains(&n), "internal: held_karp is for 2..=20 cities");
    let full = 1usize << (n - 1); // subsets of cities 1..n, bit k for city k + 1
    let mut best = vec![f64::INFINITY; full * n];
    let mut parent = vec![usize::MAX; full * n];
    for j in 1..n {
        best[(1 << (j - 1)) * n + j] = d[0][j];
    }
    for set in 1..full {
        for j in 1..n {
            let cur = best[set * n + j];
            if set & (1 << (j - 1)) == 0 || !cur.is_finite() {
                continue;
            }
            for k in 1..n {
                if set & (1 << (k - 1)) != 0 {
                    continue;
                }
                let next = set | (1 << (k - 1));
                let cand = cur + d[j][k];
                if cand < best[next * n + k] {
                    best[next * n + k] = cand;
                    parent[next * n + k] = j;
                }
            }
        }
    }
    let all = full - 1;
    let (mut last, mut length) = (1, f64::INFINITY);
    for j in 1..n {
        let l = best[all * n + j] + d[j][0];
        if l < length {
            (last, length) = (j, l);
        }
    }
    let mut tour = vec![0; n];
    let (mut set, mut j) = (all, last);
    for pos in (1..n).rev() {
        tour[pos] = j;
        let p = parent[set * n + j];
        set &= !(1 << (j - 1));
        j = p;
    }
    (length, tour)
}

/// One run of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct TankRun {
    /// The city at each position (argmax per position).
    pub tour: Vec<usize>,
    /// Every row and column of V has exactly one unit above 1/2.
    pub valid: bool,
    /// Tour length (meaningful when valid).
    pub length: f64,
    /// Energy every `steps / 100` steps.
    pub energy_trace: Vec<f64>,
    /// Final unit values, V[x * n + i] for city x at position i.
    pub v: Vec<f64>,
}

fn energy(p: &TankParams, d: &[Vec<f64>], v: &[f64], n: usize) -> f64 {
    let at = |x: usize, i: usize| v[x * n + i];
    let (mut rows, mut cols, mut dist) = (0.0, 0.0, 0.0);
    for x in 0..n {
        let r: f64 = (0..n).map(|i| at(x, i)).sum();
        rows += r * r - (0..n).map(|i| at(x, i).powi(2)).sum::<f64>();
    }
    for i in 0..n {
        let c: f64 = (0..n).map(|x| at(x, i)).sum();
        cols += c * c - (0..n).map(|x| at(x, i).powi(2)).sum::<f64>();
    }
    let total: f64 = v.iter().sum();
    for x in 0..n {
        for y in 0..n {
            if x != y {
                for i in 0..n {
                    dist += d[x][y] * at(x, i) * (at(y, (i + 1) % n) + at(y, (i + n - 1) % n));
                }
            }
        }
    }
    0.5 * (p.a * rows + p.b * cols + p.c * (total - p.n_bar).powi(2) + p.d * dist)
}

/// Runs the network once from a random start drawn from `rng`.
pub fn hopfield_tank(p: &TankParams, d: &[Vec<f64>], rng: &mut ChaCha8Rng) -> TankRun {
    let n = d.len();
    let mut u0 = p.u0;
    // Start where every V is about 1/n (the centre of the feasible region), plus noise.
    let centre = p.u0 * (2.0 / n as f64 - 1.0).atanh();
    let mut u: Vec<f64> = (0..n * n).map(|_| centre + p.noise * p.u0 * rng.random_range(-1.0..1.0)).collect();
    let act = |u: f64, u0: f64| 0.5 * (1.0 + (u / u0).tanh());
    let mut v: Vec<f64> = u.iter().map(|&x| act(x, u0)).collect();
    let every = (p.steps / 100).max(1);
    let mut trace = Vec::with_capacity(101);
    let mut grad = vec![0.0; n * n];
    for step in 0..p.steps {
        if step % every == 0 {
            trace.push(energy(p, d, &v, n));
            if step > 0 {
                u0 *= p.anneal;
            }
        }
        let row: Vec<f64> = (0..n).map(|x| v[x * n..(x + 1) * n].iter().sum::<f64>()).collect();
        let col: Vec<f64> = (0..n).map(|i| (0..n).map(|x| v[x * n + i]).sum::<f64>()).collect();
        let total: f64 = row.iter().sum();
        for x in 0..n {
            for i in 0..n {
                let (next, prev) = ((i + 1) % n, (i + n - 1) % n);
                let tour: f64 = (0..n).filter(|&y| y != x).map(|y| d[x][y] * (v[y * n + next] + v[y * n + prev])).sum();
                let vxi = v[x * n + i];
                grad[x * n + i] = p.a * (row[x] - vxi) + p.b * (col[i] - vxi) + p.c * (total - p.n_bar) + p.d * tour;
            }
        }
        for k in 0..n * n {
            u[k] += p.dt * (-u[k] / p.tau - grad[k]);
            v[k] = act(u[k], u0);
        }
    }
    trace.push(energy(p, d, &v, n));
    let tour: Vec<usize> = (0..n)
        .map(|i| (0..n).max_by(|&x, &y| v[x * n + i].total_cmp(&v[y * n + i])).expect("internal: n >= 1"))
        .collect();
    let one_per = |count: &dyn Fn(usize) -> usize| (0..n).all(|k| count(k) == 1);
    let valid = one_per(&|x| (0..n).filter(|&i| v[x * n + i] > 0.5).count())
        && one_per(&|i| (0..n).filter(|&x| v[x * n + i] > 0.5).count());
    let length = tour_length(d, &tour);
    TankRun { tour, valid, length, energy_trace: trace, v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Every permutation starting at city 0: the brute-force reference for Held-Karp.
    fn brute_force(d: &[Vec<f64>]) -> f64 {
        fn go(d: &[Vec<f64>], tour: &mut Vec<usize>, used: &mut [bool], best: &mut f64) {
            if tour.len() == d.len() {
                *best = best.min(tour_length(d, tour));
                return;
            }
            for c in 1..d.len() {
                if !used[c] {
                    used[c] = true;
                    tour.push(c);
                    go(d, tour, used, best);
                    tour.pop();
                    used[c] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        go(d, &mut vec![0], &mut vec![false; d.len()], &mut best);
        best
    }

    #[test]
    fn held_karp_matches_brute_force() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for n in [3usize, 5, 7, 8] {
            let cities: Vec<(f64, f64)> = (0..n).map(|_| (rng.random(), rng.random())).collect();
            let d = distances(&cities);
            let (len, tour) = held_karp(&d);
            assert!((len - brute_force(&d)).abs() < 1e-12, "n = {n}");
            assert!((tour_length(&d, &tour) - len).abs() < 1e-12);
            let mut sorted = tour.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn square_tour_is_the_perimeter() {
        // Four corners of a unit square: the optimum is the perimeter, 4 / sqrt(2) after scaling.
        let d = distances(&[(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]);
        assert!((held_karp(&d).0 - 4.0 / 2f64.sqrt()).abs() < 1e-12);
    }
}
