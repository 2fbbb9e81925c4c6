//! The capacity protocol: store random ±1 patterns incrementally, load after load, and count the
//! stored patterns that asynchronous recall keeps within a tolerance (Amit, Gutfreund and
//! Sompolinsky's α ≈ 0.138 for the Hebbian rule).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::{recall, Learner, Mode, Result, Rule};

/// Settings of one capacity curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacityParams {
    /// Loads P/N, increasing.
    pub alphas: Vec<f64>,
    /// A pattern counts as recalled when at most this fraction of units ends wrong.
    pub tolerance: f64,
    /// The most sweeps of a recall before it is counted as failed.
    pub max_sweeps: usize,
    /// Patterns tested per load (the first ones stored).
    pub max_tested: usize,
}

impl Default for CapacityParams {
    /// Loads 0.02, 0.04, ..., 0.5 (the Hebbian limit 0.138 and Storkey's higher one inside),
    /// recalled within 1% of the units in at most 30 sweeps, 100 patterns tested per load.
    fn default() -> Self {
        CapacityParams {
            alphas: (1..=25).map(|k| f64::from(k) * 0.02).collect(),
            tolerance: 0.01,
            max_sweeps: 30,
            max_tested: 100,
        }
    }
}

impl CapacityParams {
    /// Checks the settings.
    ///
    /// ```
    /// let p = cg_hopfield::CapacityParams { max_sweeps: 10, ..Default::default() };
    /// assert!(p.check().is_ok());
    /// let backwards = cg_hopfield::CapacityParams { alphas: vec![0.2, 0.1], ..p };
    /// assert_eq!(backwards.check().unwrap_err().to_string(), "alphas = 0.1 is out of range (increasing loads in (0, 1])");
    /// ```
    ///
    /// # Errors
    /// No loads, a load outside (0, 1] or below the one before it, a tolerance outside
    /// [0, 0.5), or no sweeps or patterns to test.
    pub fn check(&self) -> std::result::Result<(), cg_core::OutOfRange> {
        cg_core::OutOfRange::at_least("alphas (loads given)", self.alphas.len(), 1, ">= 1")?;
        let mut before = 0.0;
        for &a in &self.alphas {
            cg_core::OutOfRange::check("alphas", a, a > 0.0 && a <= 1.0 && a >= before, "increasing loads in (0, 1]")?;
            before = a;
        }
        cg_core::OutOfRange::check(
            "tolerance",
            self.tolerance,
            (0.0..0.5).contains(&self.tolerance),
            "0 <= tolerance < 0.5",
        )?;
        cg_core::OutOfRange::at_least("max_sweeps", self.max_sweeps, 1, ">= 1")?;
        cg_core::OutOfRange::at_least("max_tested", self.max_tested, 1, ">= 1")
    }
}

/// For each load α: the fraction of the first min(P, max_tested) stored patterns recalled, with
/// P = max(1, round(α N)) random patterns in N units stored by `rule`. Patterns are drawn first,
/// then stored one by one, so each load adds to the previous one.
///
/// # Errors
/// A failure of the storage rule (not expected for random ±1 patterns).
pub fn capacity_curve(rule: Rule, n: usize, p: &CapacityParams, rng: &mut ChaCha8Rng) -> Result<Vec<f64>> {
    let loads: Vec<usize> = p.alphas.iter().map(|a| ((a * n as f64).round() as usize).max(1)).collect();
    let max_p = loads.iter().copied().max().unwrap_or(0);
    let patterns: Vec<Vec<f64>> =
        (0..max_p).map(|_| (0..n).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect()).collect();
    let mut learner = Learner::new(rule, n);
    let mut fractions = vec![];
    for &load in &loads {
        while learner.stored() < load {
            learner.add(&patterns[learner.stored()])?;
        }
        let net = learner.network();
        let tested = load.min(p.max_tested);
        let mut ok = 0;
        for pattern in &patterns[..tested] {
            let (s, _) = recall(&net, Mode::Async, pattern, p.max_sweeps, rng)?;
            let wrong = s.iter().zip(pattern).filter(|(a, b)| a != b).count();
            ok += usize::from(wrong as f64 <= p.tolerance * n as f64);
        }
        fractions.push(ok as f64 / tested as f64);
    }
    Ok(fractions)
}

/// The first load where fewer than half the patterns are recalled, interpolated linearly between
/// the two loads around the crossing; `None` when recall never falls below half.
pub fn load_below_half(alphas: &[f64], fractions: &[f64]) -> Option<f64> {
    fractions.iter().position(|&x| x < 0.5).map(|k| {
        if k == 0 {
            alphas[0]
        } else {
            let (a0, a1, y0, y1) = (alphas[k - 1], alphas[k], fractions[k - 1], fractions[k]);
            a0 + (y0 - 0.5) / (y0 - y1) * (a1 - a0)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crossing_is_interpolated_between_loads() {
        assert_eq!(load_below_half(&[0.25, 0.75], &[1.0, 0.0]), Some(0.5));
        assert_eq!(load_below_half(&[0.1, 0.2], &[0.2, 0.0]), Some(0.1));
        assert_eq!(load_below_half(&[0.1, 0.2], &[1.0, 0.9]), None);
    }
}
