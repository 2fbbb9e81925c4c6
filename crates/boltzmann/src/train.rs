//! RBM training by contrastive divergence (CD-k) or persistent CD, one epoch per solver step.

use std::time::Instant;

use cg_core::{Metrics, Solver};
use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::params::{Method, RbmParams};
use crate::rbm::{bernoulli_in_place, Rbm, Visible};
use crate::{Error, Result};

/// What training changes: the machine, the momentum buffers, the persistent chains' hidden
/// states (PCD) and the epochs done.
#[derive(Clone, Debug)]
pub struct RbmState {
    pub rbm: Rbm,
    velocity: (DMatrix<f64>, DVector<f64>, DVector<f64>),
    chains: Option<DMatrix<f64>>,
    pub epochs_done: usize,
}

/// An RBM trainer over a data set (rows are samples).
pub struct RbmTrainer {
    params: RbmParams,
    data: DMatrix<f64>,
}

impl RbmTrainer {
    /// # Errors
    /// No samples, a non-finite value, or non-binary data for Bernoulli visible units.
    pub fn new(params: RbmParams, data: DMatrix<f64>) -> Result<RbmTrainer> {
        if data.nrows() == 0 || data.ncols() == 0 {
            return Err(Error::Data("no samples".into()));
        }
        if let Some((k, &x)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(Error::Data(format!("value {x} at sample {}", k % data.nrows() + 1)));
        }
        if params.visible == Visible::Bernoulli {
            if let Some(&x) = data.iter().find(|&&x| !(0.0..=1.0).contains(&x)) {
                return Err(Error::Data(format!("{x} is outside [0, 1], which Bernoulli visible units need")));
            }
        }
        Ok(RbmTrainer { params, data })
    }

    pub fn data(&self) -> &DMatrix<f64> {
        &self.data
    }

    pub fn params(&self) -> &RbmParams {
        &self.params
    }

    /// A fresh machine: small random weights, visible biases log(p / (1 - p)) of the data's
    /// means for Bernoulli units (Hinton's practical guide) or the data's means for Gaussian ones.
    pub fn init(&self, rng: &mut ChaCha8Rng) -> RbmState {
        let (nv, nh) = (self.data.ncols(), self.params.hidden);
        let mut rbm = Rbm::random(nv, nh, self.params.visible, self.params.init_std, rng);
        rbm.b = match self.params.visible {
            Visible::Bernoulli => DVector::from_vec(crate::rbm::base_biases(&self.data)),
            Visible::Gaussian => self.data.row_mean().transpose(),
        };
        let chains = (self.params.method == Method::Pcd).then(|| DMatrix::zeros(self.params.batch_size, nh));
        RbmState {
            velocity: (DMatrix::zeros(nv, nh), DVector::zeros(nv), DVector::zeros(nh)),
            rbm,
            chains,
            epochs_done: 0,
        }
    }

    /// One update from the rows `batch`; returns the batch's squared reconstruction error.
    fn update(&self, state: &mut RbmState, v0: &DMatrix<f64>, rng: &mut ChaCha8Rng) -> f64 {
        let p = &self.params;
        let rbm = &state.rbm;
        let h0 = rbm.hidden_probs(v0);
        let reconstruction = rbm.visible_mean(&h0);
        let error = (v0 - &reconstruction).norm_squared();
        // Negative phase: k alternating steps from the data (CD) or from the persistent chains.
        let mut h = match &state.chains {
            Some(chains) => chains.rows(0, v0.nrows()).into_owned(),
            None => {
                let mut h = h0.clone();
                bernoulli_in_place(&mut h, rng);
                h
            }
        };
        let mut vk = rbm.sample_visible(&h, rng);
        let mut hk = rbm.hidden_probs(&vk);
        for _ in 1..p.k {
            h = hk.clone();
            bernoulli_in_place(&mut h, rng);
            vk = rbm.sample_visible(&h, rng);
            hk = rbm.hidden_probs(&vk);
        }
        if let Some(chains) = state.chains.as_mut() {
            let mut next = hk.clone();
            bernoulli_in_place(&mut next, rng);
            chains.rows_mut(0, v0.nrows()).copy_from(&next);
        }
        let scale = p.learning_rate / v0.nrows() as f64;
        let grad_w =
            (v0.transpose() * &h0 - vk.transpose() * &hk) * scale - &rbm.w * (p.learning_rate * p.weight_decay);
        let grad_b = (v0.row_sum() - vk.row_sum()).transpose() * scale;
        let grad_c = (h0.row_sum() - hk.row_sum()).transpose() * scale;
        let (vw, vb, vc) = &mut state.velocity;
        *vw = &*vw * p.momentum + grad_w;
        *vb = &*vb * p.momentum + grad_b;
        *vc = &*vc * p.momentum + grad_c;
        state.rbm.w += &*vw;
        state.rbm.b += &*vb;
        state.rbm.c += &*vc;
        error
    }
}

impl Solver for RbmTrainer {
    type State = RbmState;
    type Error = Error;

    fn name(&self) -> &'static str {
        match self.params.method {
            Method::Cd => "rbm-cd",
            Method::Pcd => "rbm-pcd",
        }
    }

    /// One epoch of mini-batches in a shuffled order. Reports the mean squared reconstruction
    /// error per sample and `seconds`, the epoch's wall time (varies between runs).
    fn step(&mut self, state: &mut RbmState, rng: &mut ChaCha8Rng) -> Result<Metrics> {
        let start = Instant::now();
        let n = self.data.nrows();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        let mut error = 0.0;
        for rows in order.chunks(self.params.batch_size) {
            let batch = self.data.select_rows(rows);
            error += self.update(state, &batch, rng);
        }
        state.epochs_done += 1;
        if let Some(bad) =
            state.rbm.w.iter().chain(state.rbm.b.iter()).chain(state.rbm.c.iter()).find(|x| !x.is_finite())
        {
            return Err(Error::NonFinite { epoch: state.epochs_done, value: *bad });
        }
        Ok(Metrics(vec![("reconstruction_error", error / n as f64), ("seconds", start.elapsed().as_secs_f64())]))
    }
}
