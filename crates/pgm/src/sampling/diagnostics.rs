//! Convergence diagnostics of several Markov chains, as current practice computes them
//! (Vehtari, Gelman, Simpson, Carpenter and Bürkner, "Rank-normalization, folding, and
//! localization: an improved R-hat", Bayesian Analysis 2021), and as ArviZ 0.20 and the R
//! package `posterior` do: chains split in halves, draws replaced by the normal scores of their
//! ranks, the multi-chain autocorrelation with Geyer's initial monotone sequence.
//!
//! Two departures, both towards caution: an effective sample size never exceeds the number of
//! draws (ArviZ allows up to S log10 S for antithetic chains), and draws that never change give
//! no diagnostic at all (`NaN`) instead of ArviZ's "S independent draws": a chain that cannot
//! move and a distribution with one value look the same from inside.

use statrs::distribution::{ContinuousCDF, Normal};

/// Each chain cut into its first and last halves (the middle draw of an odd chain dropped), so
/// a chain that drifts disagrees with itself.
fn split(chains: &[Vec<f64>]) -> Vec<&[f64]> {
    let n = chains.iter().map(Vec::len).min().unwrap_or(0) / 2;
    chains.iter().flat_map(|c| [&c[..n], &c[c.len() - n..]]).collect()
}

fn is_constant(halves: &[&[f64]]) -> bool {
    let mut all = halves.iter().flat_map(|h| h.iter());
    all.next().is_none_or(|&first| all.all(|&x| x == first))
}

/// The normal scores of the draws' ranks over all halves (ties share their average rank),
/// with Blom's offset 3/8: Φ⁻¹((r - 3/8) / (S + 1/4)).
fn rank_normalize(halves: &[&[f64]]) -> Vec<Vec<f64>> {
    let all: Vec<f64> = halves.iter().flat_map(|h| h.iter().copied()).collect();
    let s = all.len();
    let normal = Normal::standard();
    let score = |average_rank: f64| normal.inverse_cdf((average_rank - 0.375) / (s as f64 + 0.25));
    let mut scores = vec![0.0; s];
    // Two values (an indicator): the same average ranks without sorting.
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if all.iter().all(|&x| x == lo || x == hi) {
        let n_lo = all.iter().filter(|&&x| x == lo).count();
        let (low, high) = (score((1 + n_lo) as f64 / 2.0), score((n_lo + 1 + s) as f64 / 2.0));
        let scores: Vec<f64> = all.iter().map(|&x| if x == lo { low } else { high }).collect();
        return cut(&scores, halves);
    }
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_unstable_by(|&a, &b| all[a].total_cmp(&all[b]));
    let mut k = 0;
    while k < s {
        let mut end = k + 1;
        while end < s && all[order[end]] == all[order[k]] {
            end += 1;
        }
        // Ranks k + 1 ..= end share their average, and so their score (an indicator has two).
        let z = score((k + 1 + end) as f64 / 2.0);
        for &i in &order[k..end] {
            scores[i] = z;
        }
        k = end;
    }
    cut(&scores, halves)
}

/// `values` cut into pieces as long as the halves.
fn cut(values: &[f64], halves: &[&[f64]]) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(halves.len());
    let mut at = 0;
    for h in halves {
        out.push(values[at..at + h.len()].to_vec());
        at += h.len();
    }
    out
}

/// The potential scale reduction sqrt(var⁺ / W) of equally long chains; chains each constant
/// but not all alike give infinity.
fn basic_r_hat(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len() as f64;
    let n = chains[0].len() as f64;
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    let grand = means.iter().sum::<f64>() / m;
    let b = n * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m - 1.0);
    let w = chains
        .iter()
        .zip(&means)
        .map(|(c, mean)| c.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0))
        .sum::<f64>()
        / m;
    if w <= 0.0 {
        return if b <= 0.0 { f64::NAN } else { f64::INFINITY };
    }
    ((b / w + n - 1.0) / n).sqrt()
}

/// Rank-normalised split-R-hat: the larger of R-hat over the rank-normalised halves (the bulk)
/// and over the rank-normalised distances from the median (the tails). `NaN` for draws that
/// never change, or fewer than two halves of two draws; infinity for halves each constant at
/// different values (chains stuck in different places).
///
/// ```
/// use cg_pgm::sampling::diagnostics::{bulk_ess, r_hat};
/// // Two chains that never left their starts: infinitely far apart.
/// assert_eq!(r_hat(&[vec![0.0; 50], vec![1.0; 50]]), f64::INFINITY);
/// // Two chains that alternate in step: they agree.
/// let chain: Vec<f64> = (0..100).map(|k| f64::from(k % 2)).collect();
/// assert!(r_hat(&[chain.clone(), chain.clone()]) < 1.01);
/// assert!(bulk_ess(&[chain.clone(), chain]) <= 200.0);
/// ```
pub fn r_hat(chains: &[Vec<f64>]) -> f64 {
    let halves = split(chains);
    if halves.len() < 2 || halves[0].len() < 2 || is_constant(&halves) {
        return f64::NAN;
    }
    // Each half constant, not all alike: stuck (said exactly, not through rounded variances).
    if halves.iter().all(|h| is_constant(&[h])) {
        return f64::INFINITY;
    }
    let bulk = basic_r_hat(&rank_normalize(&halves));
    let median = median(halves.iter().flat_map(|h| h.iter().copied()).collect());
    let folded: Vec<Vec<f64>> = halves.iter().map(|h| h.iter().map(|x| (x - median).abs()).collect()).collect();
    let folded: Vec<&[f64]> = folded.iter().map(Vec::as_slice).collect();
    let tail = if is_constant(&folded) { 1.0 } else { basic_r_hat(&rank_normalize(&folded)) };
    bulk.max(tail)
}

fn median(mut xs: Vec<f64>) -> f64 {
    let n = xs.len();
    let (below, &mut middle, _) = xs.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        middle
    } else {
        (below.iter().copied().fold(f64::NEG_INFINITY, f64::max) + middle) / 2.0
    }
}

/// The effective sample size of equally long chains together (Vehtari et al. 2021, eq. 10-11):
/// autocorrelations from the chains' mean autocovariance and the between-chain variance, summed
/// by Geyer's initial monotone sequence. Lags are computed only as far as the sum needs them.
/// Not capped: see [`bulk_ess`]. `NaN` for constant draws.
fn multi_chain_ess(chains: &[&[f64]]) -> f64 {
    let m = chains.len();
    let n = chains.first().map_or(0, |c| c.len());
    if m == 0 || n < 4 || is_constant(chains) {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| c.iter().sum::<f64>() / n as f64).collect();
    let centred: Vec<Vec<f64>> = chains.iter().zip(&means).map(|(c, mu)| c.iter().map(|x| x - mu).collect()).collect();
    // The chains' mean biased autocovariance at lag t, as ArviZ's FFT gives it.
    let acov = |t: usize| {
        centred.iter().map(|d| d[..n - t].iter().zip(&d[t..]).map(|(a, b)| a * b).sum::<f64>() / n as f64).sum::<f64>()
            / m as f64
    };
    let nf = n as f64;
    let mean_var = acov(0) * nf / (nf - 1.0);
    let mut var_plus = mean_var * (nf - 1.0) / nf;
    if m > 1 {
        let grand = means.iter().sum::<f64>() / m as f64;
        var_plus += means.iter().map(|x| (x - grand).powi(2)).sum::<f64>() / (m as f64 - 1.0);
    }
    let rho = |t: usize| 1.0 - (mean_var - acov(t)) / var_plus;
    let mut rho_t = vec![0.0; n];
    rho_t[0] = 1.0;
    let (mut even, mut odd) = (1.0, rho(1));
    rho_t[1] = odd;
    // Geyer's initial positive sequence.
    let mut t = 1usize;
    while t + 3 < n && even + odd > 0.0 {
        even = rho(t + 1);
        odd = rho(t + 2);
        if even + odd >= 0.0 {
            rho_t[t + 1] = even;
            rho_t[t + 2] = odd;
        }
        t += 2;
    }
    // max_t = t - 2, which is -1 when the first pair already failed.
    let max_t = t as isize - 2;
    let next = (max_t + 1) as usize;
    if even > 0.0 {
        rho_t[next] = even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1isize;
    while t <= max_t - 2 {
        let u = t as usize;
        if rho_t[u + 1] + rho_t[u + 2] > rho_t[u - 1] + rho_t[u] {
            rho_t[u + 1] = (rho_t[u - 1] + rho_t[u]) / 2.0;
            rho_t[u + 2] = rho_t[u + 1];
        }
        t += 2;
    }
    let s = (m * n) as f64;
    let tau = -1.0 + 2.0 * rho_t[..next].iter().sum::<f64>() + rho_t[next];
    let tau = tau.max(1.0 / s.log10());
    if rho_t.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    s / tau
}

/// Bulk effective sample size: of the rank-normalised split chains, at most the number of
/// draws. `NaN` for draws that never change.
pub fn bulk_ess(chains: &[Vec<f64>]) -> f64 {
    let halves = split(chains);
    if is_constant(&halves) {
        return f64::NAN;
    }
    let z = rank_normalize(&halves);
    let z: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
    cap(multi_chain_ess(&z), &halves)
}

/// Tail effective sample size: the smaller of the split chains' ESS of I(x <= q05) and of
/// I(x <= q95) (quantiles of type 7, as R's and ArviZ's), at most the number of draws. A
/// quantile indicator that never changes (a discrete draw with a quantile at its extreme)
/// limits nothing. `NaN` for draws that never change.
pub fn tail_ess(chains: &[Vec<f64>]) -> f64 {
    let halves = split(chains);
    if is_constant(&halves) {
        return f64::NAN;
    }
    let mut sorted: Vec<f64> = halves.iter().flat_map(|h| h.iter().copied()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut ess = f64::INFINITY;
    for p in [0.05, 0.95] {
        let q = quantile_type7(&sorted, p);
        let below: Vec<Vec<f64>> =
            halves.iter().map(|h| h.iter().map(|&x| f64::from(u8::from(x <= q))).collect()).collect();
        let below: Vec<&[f64]> = below.iter().map(Vec::as_slice).collect();
        if !is_constant(&below) {
            ess = ess.min(multi_chain_ess(&below));
        }
    }
    cap(ess, &halves)
}

fn cap(ess: f64, halves: &[&[f64]]) -> f64 {
    ess.min(halves.iter().map(|h| h.len()).sum::<usize>() as f64)
}

/// The `p` quantile of sorted draws by linear interpolation (Hyndman and Fan's type 7).
fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from ArviZ 0.20.0 (`scripts/peers/mcmc_diagnostics.py`) for four
    /// AR(1) chains x_t = φ x_{t-1} + ε_t, with the chains' draws generated by the same
    /// integer recurrence on both sides.
    #[test]
    fn agrees_with_arviz_on_autocorrelated_chains() {
        for (phi, shift, want_r_hat, want_bulk, want_tail) in REFERENCE {
            let chains = ar1_chains(*phi, *shift);
            let (r, b, t) = (r_hat(&chains), bulk_ess(&chains), tail_ess(&chains));
            assert!((r - want_r_hat).abs() < 1e-12, "phi {phi} shift {shift}: R-hat {r} vs {want_r_hat}");
            assert!((b - want_bulk).abs() < 1e-9 * want_bulk, "phi {phi} shift {shift}: bulk {b} vs {want_bulk}");
            assert!((t - want_tail).abs() < 1e-9 * want_tail, "phi {phi} shift {shift}: tail {t} vs {want_tail}");
        }
    }

    /// (φ, shift of the last chain, rank R-hat, bulk ESS, tail ESS) from ArviZ.
    const REFERENCE: &[(f64, f64, f64, f64, f64)] = &include!("arviz_reference.in");

    /// Four chains of 1000 draws: uniform noise from a 64-bit LCG (the same on the Python side)
    /// through an AR(1) filter; the fourth chain shifted by `shift`.
    fn ar1_chains(phi: f64, shift: f64) -> Vec<Vec<f64>> {
        let mut state: u64 = 12345;
        let mut uniform = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        (0..4)
            .map(|k| {
                let mut x = 0.0;
                (0..1000)
                    .map(|_| {
                        x = phi * x + uniform();
                        x + if k == 3 { shift } else { 0.0 }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn constant_draws_have_no_diagnostic_and_stuck_chains_infinite_r_hat() {
        let same = vec![vec![1.0; 100]; 4];
        assert!(r_hat(&same).is_nan());
        assert!(bulk_ess(&same).is_nan() && tail_ess(&same).is_nan());
        let stuck = vec![vec![0.0; 100], vec![1.0; 100]];
        assert_eq!(r_hat(&stuck), f64::INFINITY);
    }

    #[test]
    fn ess_never_exceeds_the_draws() {
        // Antithetic chains: ArviZ would report more effective draws than draws.
        let chains: Vec<Vec<f64>> = (0..4).map(|k| (0..500).map(|t| f64::from((t + k) % 2)).collect()).collect();
        assert!(bulk_ess(&chains) <= 2000.0);
    }
}
