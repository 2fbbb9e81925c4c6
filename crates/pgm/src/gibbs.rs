//! Gibbs sampling over a set of factors, with effective sample sizes.

use cg_core::{run, Flow, Solver, StepInfo};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{Error, Factor, Result};

/// Resamples every unobserved variable in turn from its conditional given all the others,
/// which only involves the factors that mention it (its Markov blanket).
pub struct GibbsSampler<'a> {
    factors: &'a [Factor],
    cards: Vec<usize>,
    evidence: Vec<Option<usize>>,
    by_var: Vec<Vec<usize>>,
}

/// A marginal estimated from Gibbs samples: per state, the frequency, the effective sample size
/// of its indicator series and the standard error sqrt(p (1 - p) / ESS).
#[derive(Clone, Debug, PartialEq)]
pub struct Marginal {
    pub probabilities: Vec<f64>,
    pub ess: Vec<f64>,
    pub standard_errors: Vec<f64>,
    /// Per state, the running frequency after n samples, at up to 200 evenly spaced n.
    pub running: Vec<Vec<(usize, f64)>>,
}

impl<'a> GibbsSampler<'a> {
    /// # Errors
    /// Evidence out of range.
    pub fn new(factors: &'a [Factor], cards: &[usize], evidence: &[(usize, usize)]) -> Result<GibbsSampler<'a>> {
        let mut ev = vec![None; cards.len()];
        for &(v, x) in evidence {
            if v >= cards.len() || x >= cards[v] {
                return Err(Error::Query(format!("evidence value {x} for variable {v} is out of range")));
            }
            ev[v] = Some(x);
        }
        let by_var = (0..cards.len())
            .map(|v| factors.iter().enumerate().filter(|(_, f)| f.vars.contains(&v)).map(|(k, _)| k).collect())
            .collect();
        Ok(GibbsSampler { factors, cards: cards.to_vec(), evidence: ev, by_var })
    }

    /// The starting state: evidence where observed, state 0 elsewhere (a state of probability
    /// zero is fine: the first sweeps move away from it).
    pub fn start(&self) -> Vec<usize> {
        self.evidence.iter().map(|e| e.unwrap_or(0)).collect()
    }

    /// Runs `burn_in` sweeps, then records the query variables every `thin` sweeps until
    /// `samples` records; returns one marginal per query variable.
    ///
    /// # Errors
    /// A query variable that is observed or out of range.
    pub fn marginals(
        &mut self,
        state: &mut Vec<usize>,
        query: &[usize],
        burn_in: usize,
        samples: usize,
        thin: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<Vec<Marginal>> {
        if let Some(&v) = query.iter().find(|&&v| v >= self.cards.len() || self.evidence[v].is_some()) {
            return Err(Error::Query(format!("variable {v} cannot be queried (observed or out of range)")));
        }
        run(self, state, burn_in, rng, &mut [])?;
        // After the burn-in, every `thin`-th sweep records the query variables.
        let thin = thin.max(1);
        let mut records: Vec<Vec<usize>> = vec![Vec::with_capacity(samples); query.len()];
        let mut record = |s: &StepInfo<'_, Vec<usize>, ()>| {
            if s.step.is_multiple_of(thin) {
                for (r, &v) in records.iter_mut().zip(query) {
                    r.push(s.state[v]);
                }
            }
            Flow::Continue
        };
        run(self, state, samples * thin, rng, &mut [&mut record])?;
        Ok(records
            .iter()
            .zip(query)
            .map(|(r, &v)| {
                let mut m = Marginal { probabilities: vec![], ess: vec![], standard_errors: vec![], running: vec![] };
                let every = (r.len() / 200).max(1);
                for x in 0..self.cards[v] {
                    let series: Vec<f64> = r.iter().map(|&s| f64::from(u8::from(s == x))).collect();
                    let p = series.iter().sum::<f64>() / series.len().max(1) as f64;
                    let ess = effective_sample_size(&series);
                    m.probabilities.push(p);
                    m.ess.push(ess);
                    m.standard_errors.push((p * (1.0 - p) / ess).sqrt());
                    let mut hits = 0.0;
                    let mut running = vec![];
                    for (k, x) in series.iter().enumerate() {
                        hits += x;
                        if (k + 1) % every == 0 || k + 1 == series.len() {
                            running.push((k + 1, hits / (k + 1) as f64));
                        }
                    }
                    m.running.push(running);
                }
                m
            })
            .collect())
    }
}

impl Solver for GibbsSampler<'_> {
    type State = Vec<usize>;
    type Record = ();
    type Error = Error;

    fn name(&self) -> &'static str {
        "gibbs"
    }

    /// One sweep over the unobserved variables in id order.
    fn step(&mut self, state: &mut Vec<usize>, rng: &mut ChaCha8Rng) -> Result<()> {
        let mut weights = vec![];
        for v in 0..self.cards.len() {
            if self.evidence[v].is_some() {
                continue;
            }
            weights.clear();
            for x in 0..self.cards[v] {
                state[v] = x;
                weights.push(self.by_var[v].iter().map(|&f| self.factors[f].value_at(state)).product::<f64>());
            }
            let total: f64 = weights.iter().sum();
            // All-zero weights (from a state of probability zero): any value, uniformly.
            let mut u = rng.random::<f64>() * if total > 0.0 { total } else { weights.len() as f64 };
            let mut choice = weights.len() - 1;
            for (x, &w) in weights.iter().enumerate() {
                let w = if total > 0.0 { w } else { 1.0 };
                if u < w {
                    choice = x;
                    break;
                }
                u -= w;
            }
            state[v] = choice;
        }
        Ok(())
    }
}

/// Effective sample size of a correlated series: n / τ with the integrated autocorrelation time
/// τ = -1 + 2 Σ_m Γ_m, Γ_m = ρ(2m) + ρ(2m + 1) summed while positive (Geyer's initial positive
/// sequence, 1992). A constant series counts as n independent samples.
pub fn effective_sample_size(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let gamma = |k: usize| d[..n - k].iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / n as f64;
    let g0 = gamma(0);
    if g0 <= 0.0 {
        return n as f64;
    }
    let mut sum = 0.0;
    let mut m = 0;
    while 2 * m + 1 < n {
        let pair = (gamma(2 * m) + gamma(2 * m + 1)) / g0;
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        m += 1;
    }
    let tau = (2.0 * sum - 1.0).max(1.0 / n as f64);
    n as f64 / tau
}
