//! Recall dynamics as a [`Solver`]: one step is one sweep over all units.

use cg_core::{run, Flow, Solver, StepInfo, Stop, UnGraph};
use nalgebra::DVector;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::network::check_patterns;
use crate::{Error, Hopfield, Result};

/// Networks at least this large compute synchronous sweeps on all cores.
const PARALLEL_FROM: usize = 512;

/// How units are updated (`async` or `sync` in configs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One unit at a time, in a fresh random order each sweep (from the run's RNG).
    #[default]
    Async,
    /// All units at once from the previous state.
    Sync,
}

/// Where local fields come from: a dense matrix (one dot product per unit, a matrix-vector
/// product per synchronous sweep) or adjacency lists of a sparse graph.
enum Fields<'a> {
    Dense(&'a Hopfield),
    Sparse { neighbours: Vec<Vec<(usize, f64)>> },
}

/// Recall from a cue.
pub struct Recall<'a> {
    fields: Fields<'a>,
    mode: Mode,
    track_energy: bool,
}

/// The running state of a recall.
#[derive(Clone, Debug, PartialEq)]
pub struct RecallState {
    /// The state, one ±1 value per unit.
    pub s: DVector<f64>,
    /// Energy of `s`, kept up to date incrementally (ΔE = -δ h_i when unit i changes by δ).
    pub energy: f64,
    /// The state two synchronous steps ago, to detect 2-cycles.
    before: Option<DVector<f64>>,
    changed: usize,
    cycle: bool,
}

impl RecallState {
    /// Whether the last synchronous step returned to the state two steps back (a 2-cycle).
    pub fn in_two_cycle(&self) -> bool {
        self.cycle
    }
}

/// Σ a_k b_k in the eight-lane order of [`cg_core::lanes`]: fixed, so results are the same on
/// every run, for any blocking and on every CPU.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    cg_core::lanes::dots([a], b)[0]
}

/// Four rows at once read each chunk of `s` once for all of them: a synchronous sweep of a
/// large network streams W from memory and re-reading `s` per row took cache bandwidth the
/// stream needed.
fn dot4(a: [&[f64]; 4], b: &[f64]) -> [f64; 4] {
    cg_core::lanes::dots(a, b)
}

fn sign_or_keep(h: f64, current: f64) -> f64 {
    if h > 0.0 {
        1.0
    } else if h < 0.0 {
        -1.0
    } else {
        current
    }
}

impl<'a> Recall<'a> {
    /// Recall on a dense network.
    pub fn new(net: &'a Hopfield, mode: Mode) -> Recall<'a> {
        Recall { fields: Fields::Dense(net), mode, track_energy: true }
    }

    /// Stops computing the energy after synchronous sweeps (it costs a second pass over W; the
    /// asynchronous energy is tracked incrementally for free). The reported energy is then NaN.
    pub fn without_energy(mut self) -> Self {
        self.track_energy = false;
        self
    }

    /// Recall on a sparse network given as an undirected graph of weighted spin edges.
    ///
    /// # Errors
    /// An edge without a weight.
    pub fn sparse(g: &UnGraph, mode: Mode) -> Result<Recall<'static>> {
        let mut neighbours = vec![vec![]; g.node_count()];
        for (a, b, e) in g.edges() {
            let w = e
                .weight
                .value()
                .ok_or_else(|| Error::Unweighted { a: g.node(a).name.clone(), b: g.node(b).name.clone() })?;
            neighbours[a.index()].push((b.index(), w));
            neighbours[b.index()].push((a.index(), w));
        }
        Ok(Recall { fields: Fields::Sparse { neighbours }, mode, track_energy: true })
    }

    fn n_units(&self) -> usize {
        match &self.fields {
            Fields::Dense(net) => net.n_units(),
            Fields::Sparse { neighbours } => neighbours.len(),
        }
    }

    /// h_i = Σ_j W_ij s_j - θ_i.
    fn field(&self, i: usize, s: &DVector<f64>) -> f64 {
        match &self.fields {
            // W is symmetric, so row i is column i, which is contiguous.
            Fields::Dense(net) => {
                let n = net.n_units();
                dot(&net.weights().as_slice()[i * n..(i + 1) * n], s.as_slice()) - net.thresholds()[i]
            }
            Fields::Sparse { neighbours } => neighbours[i].iter().map(|&(j, w)| w * s[j]).sum(),
        }
    }

    /// The next values of units `first..first + out.len()` in a synchronous sweep.
    fn sync_block(&self, first: usize, s: &DVector<f64>, out: &mut [f64]) {
        if let (Fields::Dense(net), 4) = (&self.fields, out.len()) {
            let n = net.n_units();
            let row = |i: usize| &net.weights().as_slice()[i * n..(i + 1) * n];
            let h = dot4([row(first), row(first + 1), row(first + 2), row(first + 3)], s.as_slice());
            for (k, o) in out.iter_mut().enumerate() {
                *o = sign_or_keep(h[k] - net.thresholds()[first + k], s[first + k]);
            }
        } else {
            for (k, o) in out.iter_mut().enumerate() {
                *o = sign_or_keep(self.field(first + k, s), s[first + k]);
            }
        }
    }

    fn energy(&self, s: &DVector<f64>) -> f64 {
        match &self.fields {
            Fields::Dense(net) => net.energy(s),
            Fields::Sparse { neighbours } => {
                -0.5 * (0..s.len())
                    .map(|i| s[i] * neighbours[i].iter().map(|&(j, w)| w * s[j]).sum::<f64>())
                    .sum::<f64>()
            }
        }
    }

    /// The starting state for a cue (N values of ±1).
    ///
    /// # Errors
    /// A cue of the wrong size or with values other than ±1.
    pub fn start(&self, cue: &[f64]) -> Result<RecallState> {
        check_patterns(self.n_units(), std::slice::from_ref(&cue.to_vec()))?;
        let s = DVector::from_column_slice(cue);
        Ok(RecallState { energy: self.energy(&s), s, before: None, changed: usize::MAX, cycle: false })
    }
}

/// What one sweep reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepRecord {
    /// The energy after the sweep (NaN for synchronous sweeps built [`Recall::without_energy`]).
    pub energy: f64,
    /// Units that changed state.
    pub changed: usize,
}

impl cg_core::Objective for SweepRecord {}

impl Solver for Recall<'_> {
    type State = RecallState;
    type Record = SweepRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        match self.mode {
            Mode::Async => "hopfield-async",
            Mode::Sync => "hopfield-sync",
        }
    }

    fn step(&mut self, st: &mut RecallState, rng: &mut ChaCha8Rng) -> Result<SweepRecord> {
        let n = self.n_units();
        let mut changed = 0;
        match self.mode {
            Mode::Async => {
                let mut order: Vec<usize> = (0..n).collect();
                order.shuffle(rng);
                for i in order {
                    let h = self.field(i, &st.s);
                    let new = sign_or_keep(h, st.s[i]);
                    if new != st.s[i] {
                        st.energy -= (new - st.s[i]) * h;
                        st.s[i] = new;
                        changed += 1;
                    }
                }
            }
            Mode::Sync => {
                // Each unit's field is one dot product in a fixed order (a contiguous column of
                // W for dense networks), so splitting the units over the cores for large
                // networks does not change the result.
                let s = &st.s;
                let mut next = DVector::zeros(n);
                // Blocks of four units (see `dots_body`), in parallel for large networks.
                let block = |(b, out): (usize, &mut [f64])| self.sync_block(4 * b, s, out);
                if n >= PARALLEL_FROM {
                    next.as_mut_slice().par_chunks_mut(4).enumerate().for_each(block);
                } else {
                    next.as_mut_slice().chunks_mut(4).enumerate().for_each(block);
                }
                changed = next.iter().zip(st.s.iter()).filter(|(a, b)| a != b).count();
                st.cycle = changed > 0 && st.before.as_ref() == Some(&next);
                st.before = Some(std::mem::replace(&mut st.s, next));
                st.energy = if self.track_energy { self.energy(&st.s) } else { f64::NAN };
            }
        }
        st.changed = changed;
        Ok(SweepRecord { energy: st.energy, changed })
    }

    /// A fixed point has converged; a synchronous 2-cycle has stalled (it never settles).
    fn stop(&self, st: &RecallState, _r: &SweepRecord) -> Option<Stop> {
        if st.changed == 0 {
            Some(Stop::Converged)
        } else if st.cycle {
            Some(Stop::Stalled)
        } else {
            None
        }
    }
}

/// `pattern` with `k` distinct units flipped, chosen by `rng`: a noisy cue.
pub fn flip_units(pattern: &[f64], k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut cue = pattern.to_vec();
    for i in rand::seq::index::sample(rng, pattern.len(), k) {
        cue[i] = -cue[i];
    }
    cue
}

/// Recalls from `cue` for at most `max_sweeps` sweeps; returns the final state and the energy
/// before the first sweep and after each one.
///
/// # Errors
/// A cue of the wrong size or with values other than ±1.
pub fn recall(
    net: &Hopfield,
    mode: Mode,
    cue: &[f64],
    max_sweeps: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut solver = Recall::new(net, mode);
    let mut state = solver.start(cue)?;
    let mut trace = vec![state.energy];
    let mut energies = |s: &StepInfo<'_, RecallState, SweepRecord>| {
        trace.push(s.record.energy);
        Flow::Continue
    };
    run(&mut solver, &mut state, max_sweeps, rng, &mut [&mut energies])?;
    Ok((state.s.as_slice().to_vec(), trace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;
    use rand::{Rng, SeedableRng};

    #[test]
    fn blocked_dot_products_equal_single_ones_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for n in [1, 7, 8, 13, 64, 1001] {
            let rows: Vec<Vec<f64>> = (0..4).map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()).collect();
            let b: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let four = dot4([&rows[0], &rows[1], &rows[2], &rows[3]], &b);
            for (r, row) in rows.iter().enumerate() {
                assert_eq!(four[r].to_bits(), dot(row, &b).to_bits(), "n = {n}, row {r}");
                let naive: f64 = row.iter().zip(&b).map(|(x, y)| x * y).sum();
                assert!((four[r] - naive).abs() < 1e-12, "n = {n}, row {r}: {} vs {naive}", four[r]);
            }
        }
    }

    #[test]
    fn a_synchronous_sweep_is_the_sign_of_every_field() {
        // 1,030 units: parallel, and not a multiple of the block of four.
        let n = 1030;
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let mut w = DMatrix::<f64>::zeros(n, n);
        for i in 0..n {
            for j in 0..i {
                let v = rng.random_range(-1.0..1.0);
                (w[(i, j)], w[(j, i)]) = (v, v);
            }
        }
        let theta = DVector::from_fn(n, |_, _| rng.random_range(-0.5..0.5));
        let net = Hopfield::new(w.clone(), theta.clone()).unwrap();
        let cue: Vec<f64> = (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
        let mut recall = Recall::new(&net, Mode::Sync);
        let mut st = recall.start(&cue).unwrap();
        recall.step(&mut st, &mut rng).unwrap();
        for i in 0..n {
            let h: f64 = (0..n).map(|j| w[(i, j)] * cue[j]).sum::<f64>() - theta[i];
            assert_eq!(st.s[i], if h > 0.0 { 1.0 } else { -1.0 }, "unit {i}, field {h}");
        }
    }
}
