//! Recall measured: how often a network recalls each stored pattern exactly from cues with a
//! share of its units flipped, how close it gets, and how many sweeps it takes.

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{flip_units, recall, Hopfield, Mode, Result};

/// Per noise level (in the order asked), over every pattern and trial.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecallRates {
    /// The share of recalls that ended exactly on the stored pattern.
    pub recall_rate: Vec<f64>,
    /// The mean overlap (1/N) Σ s_i ξ_i of the final state with the pattern (1: equal, -1: its
    /// negative).
    pub mean_overlap: Vec<f64>,
    /// The mean number of sweeps until a fixed point (or the limit).
    pub mean_sweeps: Vec<f64>,
}

/// For each noise level, `trials` cues per pattern with round(noise · N) units flipped (chosen
/// from `rng`), each recalled in `mode` for at most `max_sweeps` sweeps. Patterns are taken in
/// order, trials within a pattern, noise levels outermost, all from the one stream.
///
/// ```
/// use cg_hopfield::{recall_rates, Hopfield, Mode, Rule};
/// use rand::SeedableRng;
/// let pattern: Vec<f64> = (0..64).map(|i| if (i * 7) % 5 < 2 { 1.0 } else { -1.0 }).collect();
/// let net = Hopfield::store(Rule::Hebbian, &[pattern.clone()]).unwrap();
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let rates = recall_rates(&net, &[pattern], Mode::Async, &[0.0, 0.1, 0.6], 10, 20, &mut rng).unwrap();
/// // One stored pattern is recalled from any cue nearer to it than to its negative; a cue with
/// // 60% flipped is nearer the negative, which is a fixed point too.
/// assert_eq!(rates.recall_rate, [1.0, 1.0, 0.0]);
/// assert_eq!(rates.mean_overlap[2], -1.0);
/// ```
///
/// # Errors
/// A pattern of another size than the network's.
pub fn recall_rates(
    net: &Hopfield,
    patterns: &[Vec<f64>],
    mode: Mode,
    noise_levels: &[f64],
    trials: usize,
    max_sweeps: usize,
    rng: &mut ChaCha8Rng,
) -> Result<RecallRates> {
    let n = patterns.first().map_or(0, Vec::len);
    let mut out = RecallRates { recall_rate: vec![], mean_overlap: vec![], mean_sweeps: vec![] };
    for &noise in noise_levels {
        let flips = (noise * n as f64).round() as usize;
        let (mut ok, mut overlap, mut total_sweeps, mut count) = (0usize, 0.0, 0usize, 0usize);
        for p in patterns {
            for _ in 0..trials {
                let cue = flip_units(p, flips, rng);
                let (s, trace) = recall(net, mode, &cue, max_sweeps, rng)?;
                ok += usize::from(s == *p);
                overlap += s.iter().zip(p).map(|(a, b)| a * b).sum::<f64>() / n as f64;
                total_sweeps += trace.len() - 1;
                count += 1;
            }
        }
        out.recall_rate.push(ok as f64 / count as f64);
        out.mean_overlap.push(overlap / count as f64);
        out.mean_sweeps.push(total_sweeps as f64 / count as f64);
    }
    Ok(out)
}
