//! The 2-D Ising model on an L x L torus: spins s = ±1, energy E = -J Σ_⟨ij⟩ s_i s_j - h Σ s_i,
//! p(s) ∝ e^{-E/T}. A heat-bath (Gibbs) sweep sets each spin to +1 with probability
//! σ(2 (J Σ_neighbours s_j + h) / T).

use cg_core::numeric::sigmoid;
use cg_core::{run, Flow, Solver, StepInfo};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Factor, Result};

/// Onsager's critical temperature of the square lattice (J = 1, k_B = 1): 2 / ln(1 + √2).
pub const CRITICAL_TEMPERATURE: f64 = 2.269_185_314_213_022;

/// Onsager's (and Yang's) spontaneous magnetisation of the infinite square lattice at
/// temperature `t` (J = 1, h = 0): (1 - sinh(2/t)^-4)^(1/8) below the critical temperature, 0 above.
pub fn onsager_magnetisation(t: f64) -> f64 {
    if t >= CRITICAL_TEMPERATURE {
        0.0
    } else {
        (1.0 - (2.0 / t).sinh().powi(-4)).powf(0.125)
    }
}

/// An Ising model and its temperature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ising {
    /// Spins per side of the square lattice.
    pub side: usize,
    /// The coupling J.
    pub coupling: f64,
    /// The field h.
    pub field: f64,
    /// The temperature T.
    pub temperature: f64,
}

/// The spins, row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct IsingState {
    /// The spins, ±1, row by row.
    pub spins: Vec<i8>,
}

impl Ising {
    /// # Errors
    /// A side below 3 (the torus would join a spin to itself or count a pair twice), or a
    /// temperature that is not positive.
    pub fn new(side: usize, coupling: f64, field: f64, temperature: f64) -> Result<Ising> {
        if side < 3 {
            return Err(Error::OutOfRange(cg_core::OutOfRange { param: "side", value: side as f64, expected: ">= 3" }));
        }
        if cg_core::numeric::extent(&[side, side]).is_none() {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "side",
                value: side as f64,
                expected: "side² spins that fit in memory",
            }));
        }
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "temperature",
                value: temperature,
                expected: "> 0",
            }));
        }
        if !coupling.is_finite() || !field.is_finite() {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "coupling, field",
                value: coupling + field,
                expected: "finite",
            }));
        }
        Ok(Ising { side, coupling, field, temperature })
    }

    /// Every spin +1 (the ordered start used below the critical temperature).
    pub fn all_up(&self) -> IsingState {
        IsingState { spins: vec![1; self.side * self.side] }
    }

    fn neighbour_sum(&self, s: &[i8], k: usize) -> i32 {
        let l = self.side;
        let (r, c) = (k / l, k % l);
        let at = |r: usize, c: usize| i32::from(s[r * l + c]);
        at((r + l - 1) % l, c) + at((r + 1) % l, c) + at(r, (c + l - 1) % l) + at(r, (c + 1) % l)
    }

    /// Mean spin and energy per spin.
    ///
    /// ```
    /// // All spins up on the torus: every spin has two bonds of its own (right, down), so the
    /// // energy per spin is -2J - h.
    /// let ising = cg_pgm::Ising::new(4, 1.0, 0.25, 2.0).unwrap();
    /// assert_eq!(ising.observables(&ising.all_up()), (1.0, -2.25));
    /// // A 2 x 2 torus would join each spin to the same neighbour twice: refused.
    /// assert!(cg_pgm::Ising::new(2, 1.0, 0.0, 2.0).is_err());
    /// ```
    pub fn observables(&self, state: &IsingState) -> (f64, f64) {
        let n = state.spins.len() as f64;
        let l = self.side;
        let m: i32 = state.spins.iter().map(|&s| i32::from(s)).sum();
        let mut bonds = 0i32;
        for k in 0..state.spins.len() {
            let (r, c) = (k / l, k % l);
            let s = i32::from(state.spins[k]);
            bonds += s * (i32::from(state.spins[r * l + (c + 1) % l]) + i32::from(state.spins[((r + 1) % l) * l + c]));
        }
        let energy = -self.coupling * f64::from(bonds) - self.field * f64::from(m);
        (f64::from(m) / n, energy / n)
    }

    /// The model as a Markov network: one binary variable per spin (state 0 = -1, 1 = +1), one
    /// factor e^{J s_i s_j / T} per bond and e^{h s_i / T} per spin. For exact checks on small
    /// lattices.
    pub fn factors(&self) -> (Vec<usize>, Vec<Factor>) {
        let (l, t) = (self.side, self.temperature);
        let n = l * l;
        let spin = |x: usize| if x == 1 { 1.0 } else { -1.0 };
        let mut factors = vec![];
        for k in 0..n {
            let (r, c) = (k / l, k % l);
            for j in [r * l + (c + 1) % l, ((r + 1) % l) * l + c] {
                let values = (0..4).map(|a| (self.coupling * spin(a / 2) * spin(a % 2) / t).exp()).collect();
                factors.push(Factor::new(&[k, j], &[2, 2], values).expect("internal: a valid bond"));
            }
            let values = (0..2).map(|a| (self.field * spin(a) / t).exp()).collect();
            factors.push(Factor::new(&[k], &[2], values).expect("internal: a valid field"));
        }
        (vec![2; n], factors)
    }
}

/// Averages over the measured sweeps at one temperature.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsingStats {
    /// Mean |magnetisation| per spin.
    pub mean_abs_magnetisation: f64,
    /// Its standard error, from the effective sample size of the |m| series.
    pub standard_error: f64,
    /// The effective sample size of the |m| series.
    pub effective_sample_size: f64,
    /// The mean energy per spin.
    pub energy_per_spin: f64,
    /// χ = N (<m²> - <|m|>²) / T, the finite-lattice susceptibility.
    pub susceptibility: f64,
}

impl Ising {
    /// Discards `burn_in` sweeps from `state`, then measures `sweeps` sweeps.
    ///
    /// # Errors
    /// As [`Solver::step`] (not expected for a validated model).
    pub fn measure(
        &mut self,
        state: &mut IsingState,
        burn_in: usize,
        sweeps: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<IsingStats> {
        run(self, state, burn_in, rng, &mut [])?;
        let (mut m, mut e) = (Vec::with_capacity(sweeps), Vec::with_capacity(sweeps));
        let mut record = |s: &StepInfo<'_, IsingState, IsingRecord>| {
            m.push(s.record.magnetisation.abs());
            e.push(s.record.energy);
            Flow::Continue
        };
        run(self, state, sweeps, rng, &mut [&mut record])?;
        let count = m.len() as f64;
        let mean = m.iter().sum::<f64>() / count;
        let var = m.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / count;
        let n_eff = crate::effective_sample_size(&m);
        Ok(IsingStats {
            mean_abs_magnetisation: mean,
            standard_error: (var / n_eff).sqrt(),
            effective_sample_size: n_eff,
            energy_per_spin: e.iter().sum::<f64>() / count,
            susceptibility: (self.side * self.side) as f64 * var / self.temperature,
        })
    }
}

/// What one sweep reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IsingRecord {
    /// Mean spin.
    pub magnetisation: f64,
    /// Energy per spin.
    pub energy: f64,
}

impl cg_core::Objective for IsingRecord {}

impl Solver for Ising {
    type State = IsingState;
    type Record = IsingRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        "ising-heat-bath"
    }

    /// One heat-bath sweep over the sites in row order; reports the magnetisation (mean spin)
    /// and the energy per spin afterwards.
    fn step(&mut self, state: &mut IsingState, rng: &mut ChaCha8Rng) -> Result<IsingRecord> {
        // The field on a spin takes 5 values (neighbour sums -4..4 in steps of 2): tabulate p(+1).
        let table: Vec<f64> = (0..5)
            .map(|k| sigmoid(2.0 * (self.coupling * f64::from(2 * k - 4) + self.field) / self.temperature))
            .collect();
        for k in 0..state.spins.len() {
            let sum = self.neighbour_sum(&state.spins, k);
            let p = table[((sum + 4) / 2) as usize];
            state.spins[k] = if rng.random::<f64>() < p { 1 } else { -1 };
        }
        let (magnetisation, energy) = self.observables(state);
        Ok(IsingRecord { magnetisation, energy })
    }
}
