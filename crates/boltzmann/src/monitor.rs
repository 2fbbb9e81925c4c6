//! What is measured around training: the likelihood observer attached to an RBM's run, chains
//! sampled from a trained RBM, and the known teacher machine (with its exact sampler) that a
//! general Boltzmann machine learns from.

use cg_core::checkpoint::RngPosition;
use cg_core::{Flow, Observer, Snapshot, SnapshotError, StepInfo};
use nalgebra::DMatrix;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::bm::BoltzmannMachine;
use crate::rbm::{ais_base_from_sums, ais_betas, bernoulli_in_place, Rbm, Visible};
use crate::samples::each_row;
use crate::train::{RbmRecord, RbmState};
use crate::{Error, Result};
use cg_core::RowChunks;

/// An AIS estimate of the mean log-likelihood after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AisPoint {
    /// The epoch evaluated.
    pub epoch: usize,
    /// The AIS estimate of the mean log-likelihood per sample.
    pub log_likelihood: f64,
    /// From the estimate's log Z band (a larger log Z gives a smaller likelihood).
    pub low: f64,
    /// The log-likelihood with the upper end of the log Z interval.
    pub high: f64,
    /// The estimated log partition function.
    pub log_partition: f64,
}

/// Watches an RBM's training: the exact pseudo-log-likelihood after every epoch (binary data
/// and Bernoulli units only), and every `every` epochs and after `last_epoch` the mean
/// log-likelihood, exact when the hidden layer is small enough to enumerate, by AIS otherwise.
/// AIS draws from its own stream, so measuring never changes training.
pub struct LikelihoodMonitor<'a> {
    data: Box<dyn RowChunks + 'a>,
    binary: bool,
    every: usize,
    last_epoch: usize,
    chains: usize,
    base: Vec<f64>,
    betas: Vec<f64>,
    /// The random stream of the AIS runs, apart from training's.
    pub rng: ChaCha8Rng,
    /// The pseudo-log-likelihood after each epoch.
    pub pseudo_log_likelihood: Vec<f64>,
    /// The AIS estimates made so far.
    pub ais: Vec<AisPoint>,
    /// (epoch, exact mean log-likelihood).
    pub exact: Vec<(usize, f64)>,
    /// The first evaluation error; it stops the run.
    pub error: Option<Error>,
}

impl<'a> LikelihoodMonitor<'a> {
    /// A monitor that estimates the likelihood of the samples in `data` (a
    /// [`MatrixRows`](crate::MatrixRows) or
    /// rows read from a file, each evaluation one pass over them) every `every` epochs.
    ///
    /// # Errors
    /// The source could not be read.
    pub fn new(
        data: impl RowChunks + 'a,
        visible: Visible,
        every: usize,
        last_epoch: usize,
        chains: usize,
        temperatures: usize,
        rng: ChaCha8Rng,
    ) -> Result<LikelihoodMonitor<'a>> {
        // One pass: whether the data are binary, and the column sums of the AIS base model.
        let mut binary = visible == Visible::Bernoulli;
        let mut sums = vec![0.0; data.dim()];
        each_row(&data, |row| {
            binary &= row.iter().all(|&x| x == 0.0 || x == 1.0);
            sums.iter_mut().zip(row).for_each(|(s, x)| *s += x);
            Ok(())
        })?;
        Ok(LikelihoodMonitor {
            base: ais_base_from_sums(&sums, data.rows(), visible),
            data: Box::new(data),
            binary,
            every,
            last_epoch,
            chains,
            betas: ais_betas(temperatures),
            rng,
            pseudo_log_likelihood: vec![],
            ais: vec![],
            exact: vec![],
            error: None,
        })
    }

    fn measure(&mut self, epoch: usize, rbm: &Rbm) -> Result<()> {
        if self.binary {
            self.pseudo_log_likelihood.push(rbm.pseudo_log_likelihood_of(&*self.data)?);
        }
        if epoch.is_multiple_of(self.every) || epoch == self.last_epoch {
            if let Ok(log_z) = rbm.log_partition_exact() {
                self.exact.push((epoch, rbm.mean_log_likelihood_of(&*self.data, log_z)?));
            } else {
                let est = rbm.ais_log_partition(&self.base, &self.betas, self.chains, &mut self.rng)?;
                // A pass over the data for each log Z: the sums are of (-F(v) - log Z), row by
                // row, as in memory.
                let ll = |z: f64| rbm.mean_log_likelihood_of(&*self.data, z);
                self.ais.push(AisPoint {
                    epoch,
                    log_likelihood: ll(est.log_z)?,
                    low: ll(est.log_z_high)?,
                    high: ll(est.log_z_low)?,
                    log_partition: est.log_z,
                });
            }
        }
        Ok(())
    }
}

impl Observer<RbmState, RbmRecord> for LikelihoodMonitor<'_> {
    fn observe(&mut self, step: &StepInfo<'_, RbmState, RbmRecord>) -> Flow {
        match self.measure(step.state.epochs_done, &step.state.rbm) {
            Ok(()) => Flow::Continue,
            Err(e) => {
                let message = e.to_string();
                self.error = Some(e);
                Flow::Stop(format!("the likelihood monitor: {message}"))
            }
        }
    }

    /// The curves so far and the position of AIS's own stream.
    fn save(&self, into: &mut Snapshot) {
        into.put("pseudo_log_likelihood", &self.pseudo_log_likelihood);
        into.put("ais", &self.ais);
        into.put("exact", &self.exact);
        into.put("rng", &RngPosition::of(&self.rng));
    }

    fn restore(&mut self, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        self.pseudo_log_likelihood = from.get("pseudo_log_likelihood")?;
        (self.ais, self.exact) = (from.get("ais")?, from.get("exact")?);
        self.rng = from.get::<RngPosition>("rng")?.rng()?;
        Ok(())
    }
}

impl Rbm {
    /// `chains` Gibbs chains started from uniform binary noise; for each number of steps in
    /// `steps` (sorted), E[v | h] of every chain after that many steps (rows are chains).
    pub fn chains_from_noise(&self, chains: usize, steps: &[usize], rng: &mut ChaCha8Rng) -> Vec<DMatrix<f64>> {
        let mut v = DMatrix::from_fn(chains, self.n_visible(), |_, _| f64::from(u8::from(rng.random::<bool>())));
        let mut steps = steps.to_vec();
        steps.sort_unstable();
        let mut out = vec![];
        let mut done = 0;
        for &k in &steps {
            let mut mean = DMatrix::zeros(chains, self.n_visible());
            for _ in done..k {
                let mut h = self.hidden_probs(&v);
                bernoulli_in_place(&mut h, rng);
                mean = self.visible_mean(&h);
                v = self.sample_visible(&h, rng);
            }
            done = k;
            out.push(mean);
        }
        out
    }
}

impl BoltzmannMachine {
    /// A fully connected machine of `n` visible units and no hidden ones, weights uniform in
    /// [-scale, scale] and biases in [-scale/2, scale/2]: a known distribution to learn.
    pub fn random_teacher(n: usize, scale: f64, rng: &mut ChaCha8Rng) -> BoltzmannMachine {
        let mut teacher = BoltzmannMachine::fully_connected(n, 0);
        for (i, j) in teacher.edges().to_vec() {
            teacher.set_weight(i, j, rng.random_range(-scale..=scale));
        }
        teacher.b.iter_mut().for_each(|b| *b = rng.random_range(-scale / 2.0..=scale / 2.0));
        teacher
    }
}

/// `samples` independent draws from a distribution over the 2^n binary states (state k has unit
/// b on when bit b of k is set), by inverting the cumulative distribution; returns the rows and
/// their empirical distribution.
pub fn sample_states(p: &[f64], n: usize, samples: usize, rng: &mut ChaCha8Rng) -> (Vec<Vec<f64>>, Vec<f64>) {
    let cumulative: Vec<f64> = p
        .iter()
        .scan(0.0, |a, q| {
            *a += q;
            Some(*a)
        })
        .collect();
    let mut empirical = vec![0.0; p.len()];
    let rows = (0..samples)
        .map(|_| {
            let u: f64 = rng.random();
            let k = cumulative.iter().position(|&c| u < c).unwrap_or(p.len() - 1);
            empirical[k] += 1.0 / samples as f64;
            (0..n).map(|b| f64::from(u8::from(k >> b & 1 == 1))).collect()
        })
        .collect();
    (rows, empirical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn exact_samples_follow_their_distribution() {
        let p = [0.1, 0.2, 0.3, 0.4];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (rows, empirical) = sample_states(&p, 2, 20_000, &mut rng);
        for (k, (&e, &q)) in empirical.iter().zip(&p).enumerate() {
            // Four standard errors of a frequency from 20,000 draws.
            assert!((e - q).abs() < 4.0 * (q * (1.0 - q) / 20_000.0f64).sqrt(), "state {k}: {e} vs {q}");
        }
        // State 2 = binary 10: unit 0 off, unit 1 on.
        let twos = rows.iter().filter(|r| r[..] == [0.0, 1.0]).count() as f64 / 20_000.0;
        assert!((twos - empirical[2]).abs() < 1e-12);
    }
}
