//! RBM training by contrastive divergence (CD-k) or persistent CD, one epoch per solver step.

use std::borrow::Cow;

use cg_core::{Resumable, RowChunks, SliceChunks, Snapshot, SnapshotError, Solver, Stop};
use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::params::{Method, RbmParams};
use cg_core::numeric::sigmoid_in_place;
use rand_distr::{Distribution, StandardNormal};

use crate::linalg::{gemm, Mat};
use crate::rbm::{bernoulli_slice, Rbm, Visible};
use crate::samples::each_row;
use crate::{Error, Result};

/// What training changes: the machine, the momentum buffers, the persistent
/// chains' hidden states (PCD), the batch buffers and the epochs done.
#[derive(Clone, Debug)]
pub struct RbmState {
    /// The machine being trained.
    pub rbm: Rbm,
    velocity: (DMatrix<f64>, DVector<f64>, DVector<f64>),
    chains: Option<DMatrix<f64>>,
    work: Work,
    /// Epochs completed.
    pub epochs_done: usize,
}

/// An RBM trainer over a data set: samples row-major, owned, borrowed (a caller's array, such
/// as a NumPy array handed over by the Python package, is read in place, never copied) or read
/// from a file in chunks (data larger than memory).
pub struct RbmTrainer<'a> {
    params: RbmParams,
    samples: Samples<'a>,
    /// Visible units (the row length).
    nv: usize,
    /// Each visible unit's mean over the samples, from the pass that checked them.
    means: Vec<f64>,
}

/// Where the training samples are.
enum Samples<'a> {
    /// Row-major in memory: a batch is copied row by row.
    Slice(Cow<'a, [f64]>),
    /// In a file: a batch reads its rows one by one, in the shuffled order, so the batches are
    /// those of the same samples held whole.
    Chunks(Box<dyn RowChunks + 'a>),
}

impl RbmTrainer<'static> {
    /// A trainer over the rows of `data` (samples as rows), copied row-major.
    ///
    /// # Errors
    /// As [`RbmTrainer::from_rows`].
    pub fn new(params: RbmParams, data: DMatrix<f64>) -> Result<RbmTrainer<'static>> {
        let nv = data.ncols();
        RbmTrainer::from_rows(params, data.transpose().as_slice().to_vec(), nv)
    }
}

impl<'a> RbmTrainer<'a> {
    /// A trainer over `rows`, samples of `nv` values one after another: a `Vec<f64>` (owned) or
    /// a `&[f64]` (borrowed for the trainer's life).
    ///
    /// # Errors
    /// No samples, a ragged table, a non-finite value, or non-binary data for Bernoulli visible
    /// units.
    pub fn from_rows(params: RbmParams, rows: impl Into<Cow<'a, [f64]>>, nv: usize) -> Result<RbmTrainer<'a>> {
        let rows = rows.into();
        if nv > 0 && !rows.len().is_multiple_of(nv) {
            return Err(Error::Data(format!("{} values do not make rows of {nv} visible units", rows.len())));
        }
        let n = rows.len().checked_div(nv).unwrap_or(0);
        let means = Self::check(&params, &SliceChunks { values: &rows, dim: nv, chunk_rows: n.max(1) })?;
        Ok(RbmTrainer { params, samples: Samples::Slice(rows), nv, means })
    }

    /// A trainer over samples read in chunks from `source` (one pass here checks them and takes
    /// the visible means; each batch then reads its rows). Training gives the same bits as
    /// [`RbmTrainer::from_rows`] over the same rows.
    ///
    /// # Errors
    /// As [`RbmTrainer::from_rows`], or the source could not be read.
    pub fn streamed(params: RbmParams, source: impl RowChunks + 'a) -> Result<RbmTrainer<'a>> {
        let nv = source.dim();
        let means = Self::check(&params, &source)?;
        Ok(RbmTrainer { params, samples: Samples::Chunks(Box::new(source)), nv, means })
    }

    /// Checks the samples and the sizes in one pass; returns each visible unit's mean, summed
    /// sample by sample in order (the same sums as nalgebra's column sums of the
    /// samples-as-rows matrix).
    fn check(params: &RbmParams, data: &dyn RowChunks) -> Result<Vec<f64>> {
        let (nv, n) = (data.dim(), data.rows());
        if n == 0 || nv == 0 {
            return Err(Error::Data("no samples".into()));
        }
        let bernoulli = params.visible == Visible::Bernoulli;
        let mut sample = 0;
        let mut sums = vec![0.0; nv];
        each_row(data, |row| {
            sample += 1;
            if let Some(&x) = row.iter().find(|x| !x.is_finite()) {
                return Err(Error::Data(format!("value {x} at sample {sample}")));
            }
            if let Some(&x) = row.iter().find(|&&x| bernoulli && !(0.0..=1.0).contains(&x)) {
                return Err(Error::Data(format!("{x} is outside [0, 1], which Bernoulli visible units need")));
            }
            sums.iter_mut().zip(row).for_each(|(s, x)| *s += x);
            Ok(())
        })?;
        let (nh, batch) = (params.hidden, params.batch_size);
        if [[nv, nh], [batch, nv], [batch, nh], [nv + 1, nh]]
            .iter()
            .any(|dims| cg_core::numeric::extent(dims).is_none())
        {
            return Err(Error::Data(format!("{nv} visible x {nh} hidden units (batches of {batch}) are too large")));
        }
        Ok(sums.iter().map(|s| s / n as f64).collect())
    }

    /// The training samples, row-major, when they are held in memory.
    pub fn rows(&self) -> Option<&[f64]> {
        match &self.samples {
            Samples::Slice(rows) => Some(rows),
            Samples::Chunks(_) => None,
        }
    }

    /// The number of training samples.
    pub fn samples(&self) -> usize {
        match &self.samples {
            Samples::Slice(rows) => rows.len() / self.nv,
            Samples::Chunks(source) => source.rows(),
        }
    }

    /// The training settings.
    pub fn params(&self) -> &RbmParams {
        &self.params
    }

    /// A fresh machine: small random weights, visible biases log(p / (1 - p)) of the data's
    /// means for Bernoulli units (Hinton's practical guide) or the data's means for Gaussian ones.
    pub fn init(&self, rng: &mut ChaCha8Rng) -> RbmState {
        let (nv, nh) = (self.nv, self.params.hidden);
        let mut rbm = Rbm::random(nv, nh, self.params.visible, self.params.init_std, rng);
        let means = self.means.clone();
        rbm.b = DVector::from_vec(match self.params.visible {
            Visible::Bernoulli => means.into_iter().map(crate::rbm::log_odds).collect(),
            Visible::Gaussian => means,
        });
        let chains = (self.params.method == Method::Pcd).then(|| DMatrix::zeros(self.params.batch_size, nh));
        RbmState {
            velocity: (DMatrix::zeros(nv, nh), DVector::zeros(nv), DVector::zeros(nh)),
            work: Work::new(nv, nh, self.params.batch_size),
            rbm,
            chains,
            epochs_done: 0,
        }
    }

    /// One update from the batch rows `rows` of the data; returns the batch's squared
    /// reconstruction error (CD; 0 for PCD, whose chains do not start at the data).
    ///
    /// Batches live in row-major buffers kept between calls (no allocation per batch); the
    /// products go to matrixmultiply's blocked kernels, which read W and Wᵀ from the same
    /// storage through strides.
    ///
    /// # Errors
    /// A streamed source could not be read.
    fn update(&self, state: &mut RbmState, rows: &[usize], rng: &mut ChaCha8Rng) -> Result<f64> {
        let p = &self.params;
        let (nv, nh, bsz) = (self.nv, p.hidden, rows.len());
        let RbmState { rbm, velocity, chains, work, .. } = state;
        let Work { v0, h0, hs, vk, hk, grad } = work;
        let (v0, h0, hs, vk, hk) =
            (&mut v0[..bsz * nv], &mut h0[..bsz * nh], &mut hs[..bsz * nh], &mut vk[..bsz * nv], &mut hk[..bsz * nh]);
        for (dst, &row) in v0.chunks_exact_mut(nv).zip(rows) {
            match &self.samples {
                Samples::Slice(data) => dst.copy_from_slice(&data[row * nv..(row + 1) * nv]),
                Samples::Chunks(source) => source.row(row, dst).map_err(Error::Data)?,
            }
        }
        let w = Mat { data: rbm.w.as_slice(), rows: nv, cols: nh, rs: 1, cs: nv };
        let wt = Mat { data: rbm.w.as_slice(), rows: nh, cols: nv, rs: nv, cs: 1 };
        hidden_probs(&rbm.c, Mat::row_major(v0, bsz, nv), w, h0);
        // Negative phase: k alternating steps from the data (CD) or from the persistent chains.
        match chains {
            Some(c) => {
                for r in 0..bsz {
                    for j in 0..nh {
                        hs[r * nh + j] = c[(r, j)];
                    }
                }
            }
            None => {
                hs.copy_from_slice(h0);
                bernoulli_slice(hs, rng);
            }
        }
        let mut error = 0.0;
        for step in 0..p.k {
            if step > 0 {
                hs.copy_from_slice(hk);
                bernoulli_slice(hs, rng);
            }
            gemm(1.0, Mat::row_major(hs, bsz, nh), wt, 0.0, vk, nv);
            for row in vk.chunks_exact_mut(nv) {
                row.iter_mut().zip(rbm.b.iter()).for_each(|(x, b)| *x += b);
            }
            if rbm.visible == Visible::Bernoulli {
                sigmoid_in_place(vk);
            }
            if step == 0 && chains.is_none() {
                // CD's first reconstruction E[v | h ~ p(h | v0)]: the usual monitor, for free.
                error = v0.iter().zip(vk.iter()).map(|(a, b)| (a - b) * (a - b)).sum();
            }
            match rbm.visible {
                Visible::Bernoulli => bernoulli_slice(vk, rng),
                Visible::Gaussian => {
                    for x in vk.iter_mut() {
                        *x += Distribution::<f64>::sample(&StandardNormal, rng);
                    }
                }
            }
            hidden_probs(&rbm.c, Mat::row_major(vk, bsz, nv), w, hk);
        }
        if let Some(c) = chains {
            hs.copy_from_slice(hk);
            bernoulli_slice(hs, rng);
            for r in 0..bsz {
                for j in 0..nh {
                    c[(r, j)] = hs[r * nh + j];
                }
            }
        }
        // grad (W's layout) = v0ᵀ h0 - vkᵀ hk; the transposes are strides of the row-major batches.
        let scale = p.learning_rate / bsz as f64;
        gemm(scale, Mat { data: v0, rows: nv, cols: bsz, rs: 1, cs: nv }, Mat::row_major(h0, bsz, nh), 0.0, grad, 0);
        gemm(-scale, Mat { data: vk, rows: nv, cols: bsz, rs: 1, cs: nv }, Mat::row_major(hk, bsz, nh), 1.0, grad, 0);
        let decay = p.learning_rate * p.weight_decay;
        let (vw, vb, vc) = velocity;
        for ((v, g), w) in vw.as_mut_slice().iter_mut().zip(grad.iter()).zip(rbm.w.as_mut_slice().iter_mut()) {
            *v = p.momentum * *v + g - decay * *w;
            *w += *v;
        }
        for i in 0..nv {
            let g: f64 = (0..bsz).map(|r| v0[r * nv + i] - vk[r * nv + i]).sum();
            vb[i] = p.momentum * vb[i] + scale * g;
            rbm.b[i] += vb[i];
        }
        for j in 0..nh {
            let g: f64 = (0..bsz).map(|r| h0[r * nh + j] - hk[r * nh + j]).sum();
            vc[j] = p.momentum * vc[j] + scale * g;
            rbm.c[j] += vc[j];
        }
        Ok(error)
    }
}

/// Row-major batch buffers and the gradient (in W's column-major layout), kept by the trainer
/// between batches.
#[derive(Clone, Debug)]
struct Work {
    v0: Vec<f64>,
    h0: Vec<f64>,
    hs: Vec<f64>,
    vk: Vec<f64>,
    hk: Vec<f64>,
    grad: Vec<f64>,
}

impl Work {
    fn new(nv: usize, nh: usize, batch: usize) -> Work {
        Work {
            v0: vec![0.0; batch * nv],
            h0: vec![0.0; batch * nh],
            hs: vec![0.0; batch * nh],
            vk: vec![0.0; batch * nv],
            hk: vec![0.0; batch * nh],
            grad: vec![0.0; nv * nh],
        }
    }
}

/// σ(c + v W) for every row of `v`, into the row-major `out`.
fn hidden_probs(c: &DVector<f64>, v: Mat, w: Mat, out: &mut [f64]) {
    let nh = w.cols;
    gemm(1.0, v, w, 0.0, out, nh);
    for row in out.chunks_exact_mut(nh) {
        row.iter_mut().zip(c.iter()).for_each(|(x, cj)| *x += cj);
    }
    sigmoid_in_place(out);
}

/// What one epoch reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RbmRecord {
    /// Mean squared reconstruction error per sample (CD only: PCD's negative phase does not
    /// reconstruct the batch).
    pub reconstruction_error: Option<f64>,
}

impl cg_core::Objective for RbmRecord {
    fn objective(&self) -> Option<f64> {
        self.reconstruction_error
    }
}

/// The first non-finite parameter of a machine after an epoch, as a divergence.
pub(crate) fn diverged<'a>(epoch: usize, mut values: impl Iterator<Item = &'a f64>) -> Option<Stop> {
    let bad = values.find(|x| !x.is_finite())?;
    Some(Stop::Diverged { what: format!("epoch {epoch}: a parameter became {bad}; lower the learning rate") })
}

/// A stopped run needs the machine, the momentum buffers, the persistent chains (PCD) and the
/// epoch count; each epoch draws its own batch order.
impl Resumable for RbmTrainer<'_> {
    fn save(&self, state: &RbmState, into: &mut Snapshot) {
        let (vw, vb, vc) = &state.velocity;
        let mut put =
            |name: &str, m: &DMatrix<f64>| into.put_tensor(name, vec![m.ncols(), m.nrows()], m.iter().copied());
        put("W", &state.rbm.w);
        put("velocity_W", vw);
        if let Some(c) = &state.chains {
            put("chains", c);
        }
        for (name, v) in [("b", &state.rbm.b), ("c", &state.rbm.c), ("velocity_b", vb), ("velocity_c", vc)] {
            into.put_tensor(name, vec![v.len()], v.iter().copied());
        }
        into.put("epochs_done", &state.epochs_done);
    }

    fn restore(&self, state: &mut RbmState, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        let (vw, vb, vc) = &mut state.velocity;
        from.copy_into("W", state.rbm.w.as_mut_slice())?;
        from.copy_into("velocity_W", vw.as_mut_slice())?;
        if let Some(c) = &mut state.chains {
            from.copy_into("chains", c.as_mut_slice())?;
        }
        from.copy_into("b", state.rbm.b.as_mut_slice())?;
        from.copy_into("c", state.rbm.c.as_mut_slice())?;
        from.copy_into("velocity_b", vb.as_mut_slice())?;
        from.copy_into("velocity_c", vc.as_mut_slice())?;
        state.epochs_done = from.get("epochs_done")?;
        Ok(())
    }
}

impl Solver for RbmTrainer<'_> {
    type State = RbmState;
    type Record = RbmRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        match self.params.method {
            Method::Cd => "rbm-cd",
            Method::Pcd => "rbm-pcd",
        }
    }

    /// One epoch of mini-batches in a shuffled order.
    fn step(&mut self, state: &mut RbmState, rng: &mut ChaCha8Rng) -> Result<RbmRecord> {
        let n = self.samples();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        let mut error = 0.0;
        for rows in order.chunks(self.params.batch_size) {
            error += self.update(state, rows, rng)?;
        }
        state.epochs_done += 1;
        Ok(RbmRecord { reconstruction_error: (self.params.method == Method::Cd).then_some(error / n as f64) })
    }

    fn stop(&self, state: &RbmState, _r: &RbmRecord) -> Option<Stop> {
        let rbm = &state.rbm;
        diverged(state.epochs_done, rbm.w.iter().chain(rbm.b.iter()).chain(rbm.c.iter()))
    }
}
