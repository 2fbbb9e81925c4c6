//! Training: the [`Som`] solver, one epoch per step.

use std::borrow::Cow;
use std::time::Instant;

use cg_core::{Resumable, RowChunks, Snapshot, SnapshotError, Solver, Stop};
use nalgebra::{DMatrix, SymmetricEigen};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::params::{Init, Neighbourhood, SomParams, Training};
use crate::quality::{self, bmu};
use crate::{Error, Lattice, Result};

/// What training changes: the codebook (one row of `dim` values per unit) and the epochs done.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SomState {
    /// The prototypes, unit by unit.
    pub weights: Vec<f64>,
    /// Their dimension.
    pub dim: usize,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Online training visits the samples in shuffled passes (each sample once per pass, as
    /// MiniSom's `train_random` does); the current pass and the position in it.
    pub order: Vec<usize>,
    /// The next sample of an online epoch.
    pub cursor: usize,
}

impl SomState {
    /// The best-matching unit of `x` (a sample of the training data or a new one).
    pub fn bmu(&self, x: &[f64]) -> usize {
        bmu(&self.weights, self.dim, x).0
    }

    /// The vector of unit `u`.
    pub fn unit(&self, u: usize) -> &[f64] {
        &self.weights[u * self.dim..(u + 1) * self.dim]
    }
}

/// Where the samples are: in memory (owned or borrowed), or read chunk by chunk from a
/// [`RowChunks`] source (data larger than memory).
enum Samples<'a> {
    Memory(Cow<'a, [f64]>),
    Chunks(Box<dyn RowChunks + 'a>),
}

/// A self-organizing map and the data it learns from (row-major, one sample per row), owned or
/// borrowed (a caller's array, such as a NumPy array handed over by the Python package, is read
/// in place, never copied), or read in chunks ([`Som::streamed`]): every sum over samples runs
/// in sample order, so a streamed map trains to the same bits as the same rows in memory.
pub struct Som<'a> {
    params: SomParams,
    data: Samples<'a>,
    dim: usize,
    positions: Vec<(f64, f64)>,
    /// Measure the quality after every epoch (off for benchmarks of training alone).
    evaluate: bool,
    /// The smallest and largest value in the data: a codebook far outside has diverged.
    data_range: (f64, f64),
}

impl<'a> Som<'a> {
    /// `data`: a `Vec<f64>` (owned) or a `&[f64]` (borrowed for the solver's life).
    ///
    /// # Errors
    /// No samples, a ragged table, a non-finite value, or a lattice of one unit (nothing to
    /// organise, and no second-best unit for the topographic error).
    pub fn new(params: SomParams, data: impl Into<Cow<'a, [f64]>>, dim: usize) -> Result<Som<'a>> {
        let data = data.into();
        if dim == 0 || data.is_empty() || !data.len().is_multiple_of(dim) {
            return Err(Error::Data(format!("{} values do not make rows of {dim} features", data.len())));
        }
        let mut range = Range::default();
        range.add(0, dim, &data)?;
        Som::with(params, Samples::Memory(data), dim, range.bounds())
    }

    /// A map that reads its samples chunk by chunk from `rows` (one pass here checks them and
    /// finds their range): memory stays near one chunk and the codebook, whatever the number of
    /// rows. Trains to the same bits as [`Som::new`] on the same rows.
    ///
    /// # Errors
    /// As [`Som::new`], a source that cannot be read, and `init = "pca"` (it needs the rows in
    /// memory; `random` and `uniform` read them as they go).
    pub fn streamed(params: SomParams, rows: Box<dyn RowChunks + 'a>) -> Result<Som<'a>> {
        let dim = rows.dim();
        if dim == 0 || rows.rows() == 0 {
            return Err(Error::Data(format!("{} rows of {dim} features: nothing to learn from", rows.rows())));
        }
        if params.init == Init::Pca {
            return Err(Error::Data(
                "init = \"pca\" needs the samples in memory: give init = \"random\" or \"uniform\" for streamed data"
                    .into(),
            ));
        }
        let mut range = Range::default();
        rows.for_each_chunk(&mut |first, chunk| range.add(first, dim, chunk).map_err(|e| e.to_string()))
            .map_err(Error::Data)?;
        Som::with(params, Samples::Chunks(rows), dim, range.bounds())
    }

    fn with(params: SomParams, data: Samples<'a>, dim: usize, data_range: (f64, f64)) -> Result<Som<'a>> {
        if cg_core::numeric::extent(&[params.lattice.units(), dim]).is_none() {
            return Err(Error::Data(format!(
                "a codebook of {} units x {dim} features is too large",
                params.lattice.units()
            )));
        }
        if params.lattice.units() < 2 {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "rows x cols",
                value: 1.0,
                expected: ">= 2 units",
            }));
        }
        let positions = params.lattice.positions();
        Ok(Som { params, data, dim, positions, evaluate: true, data_range })
    }

    /// Steps that train only: no quantization and topographic error after each epoch.
    pub fn without_quality(mut self) -> Som<'a> {
        self.evaluate = false;
        self
    }

    /// The settings.
    pub fn params(&self) -> &SomParams {
        &self.params
    }

    /// The lattice.
    pub fn lattice(&self) -> &Lattice {
        &self.params.lattice
    }

    /// The training data, row-major, when it is in memory (`None` for a streamed map).
    pub fn data(&self) -> Option<&[f64]> {
        match &self.data {
            Samples::Memory(d) => Some(d),
            Samples::Chunks(_) => None,
        }
    }

    fn samples(&self) -> usize {
        match &self.data {
            Samples::Memory(d) => d.len() / self.dim,
            Samples::Chunks(c) => c.rows(),
        }
    }

    /// Sample `j`: in place from memory, else read into `buf`.
    fn sample<'s>(&'s self, j: usize, buf: &'s mut Vec<f64>) -> Result<&'s [f64]> {
        match &self.data {
            Samples::Memory(d) => Ok(&d[j * self.dim..(j + 1) * self.dim]),
            Samples::Chunks(c) => {
                buf.resize(self.dim, 0.0);
                c.row(j, buf).map_err(Error::Data)?;
                Ok(buf)
            }
        }
    }

    /// Calls `visit(first_sample, rows)` over the samples in order: one slice from memory, or
    /// chunk by chunk.
    fn each_chunk(&self, visit: &mut dyn FnMut(usize, &[f64])) -> Result<()> {
        match &self.data {
            Samples::Memory(d) => {
                visit(0, d);
                Ok(())
            }
            Samples::Chunks(c) => c
                .for_each_chunk(&mut |first, rows| {
                    visit(first, rows);
                    Ok(())
                })
                .map_err(Error::Data),
        }
    }

    /// Quantization and topographic error of `weights` on the training samples (in sample
    /// order, chunk by chunk when streamed: the same bits either way).
    pub fn quality_of(&self, weights: &[f64]) -> Result<quality::Quality> {
        let mut acc = quality::QualitySums::default();
        self.each_chunk(&mut |_, rows| acc.add(self.lattice(), weights, self.dim, rows))?;
        Ok(acc.finish())
    }

    /// Samples won by each unit (one pass, memory for the counts only).
    pub fn training_hits(&self, weights: &[f64]) -> Result<Vec<usize>> {
        let mut hits = vec![0; self.lattice().units()];
        self.each_chunk(&mut |_, rows| quality::bmus(weights, self.dim, rows).into_iter().for_each(|b| hits[b] += 1))?;
        Ok(hits)
    }

    /// The best-matching unit of every training sample, in order.
    pub fn training_bmus(&self, weights: &[f64]) -> Result<Vec<usize>> {
        let mut out = Vec::with_capacity(self.samples());
        self.each_chunk(&mut |_, rows| out.extend(quality::bmus(weights, self.dim, rows)))?;
        Ok(out)
    }

    /// Samples drawn per online epoch.
    pub fn iterations_per_epoch(&self) -> usize {
        self.params.iterations_per_epoch.unwrap_or_else(|| self.samples())
    }

    /// The starting codebook (random samples draw from `rng`; the PCA plane draws nothing).
    ///
    /// # Errors
    /// A streamed source that cannot be read.
    pub fn init(&self, rng: &mut ChaCha8Rng) -> Result<SomState> {
        let units = self.lattice().units();
        let mut buf = vec![];
        let weights = match self.params.init {
            Init::Random => {
                let mut w = Vec::with_capacity(units * self.dim);
                for _ in 0..units {
                    w.extend_from_slice(self.sample(rng.random_range(0..self.samples()), &mut buf)?);
                }
                w
            }
            Init::Uniform => {
                let (lo, hi) = self.feature_ranges()?;
                (0..units * self.dim).map(|k| rng.random_range(lo[k % self.dim]..=hi[k % self.dim])).collect()
            }
            Init::Pca => match &self.data {
                Samples::Memory(d) => self.pca_plane(d),
                Samples::Chunks(_) => unreachable!("internal: refused by Som::streamed"),
            },
        };
        // The online pass order; a streamed batch map keeps none (memory near one chunk).
        let order: Vec<usize> = match (&self.data, self.params.training) {
            (Samples::Chunks(_), Training::Batch) => vec![],
            _ => (0..self.samples()).collect(),
        };
        Ok(SomState { weights, dim: self.dim, epochs_done: 0, cursor: order.len(), order })
    }

    /// Smallest and largest value of each feature.
    fn feature_ranges(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut lo = self.sample(0, &mut vec![])?.to_vec();
        let mut hi = lo.clone();
        self.each_chunk(&mut |_, rows| {
            for x in rows.chunks_exact(self.dim) {
                for k in 0..self.dim {
                    lo[k] = lo[k].min(x[k]);
                    hi[k] = hi[k].max(x[k]);
                }
            }
        })?;
        Ok((lo, hi))
    }

    /// Units spread over mean ± σ₁ v₁ ± σ₂ v₂ (principal axes v, standard deviations σ), the longer
    /// lattice axis along v₁. Eigenvectors get a fixed sign (largest component positive) so the
    /// picture does not flip between platforms.
    fn pca_plane(&self, data: &[f64]) -> Vec<f64> {
        let (n, d) = (self.samples(), self.dim);
        let x = DMatrix::from_row_slice(n, d, data);
        let mean = x.row_mean();
        let centred = DMatrix::from_fn(n, d, |i, k| x[(i, k)] - mean[k]);
        let cov = centred.transpose() * &centred / (n.max(2) - 1) as f64;
        let eig = SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let axis = |k: usize| -> Vec<f64> {
            let Some(&i) = order.get(k) else { return vec![0.0; d] };
            let v = eig.eigenvectors.column(i);
            let big = v.iter().copied().fold(0.0f64, |m, c| if c.abs() > m.abs() { c } else { m });
            let scale = eig.eigenvalues[i].max(0.0).sqrt() * big.signum();
            v.iter().map(|c| c * scale).collect()
        };
        let (a1, a2) = (axis(0), axis(1));
        let lattice = self.lattice();
        let pos: Vec<(f64, f64)> = (0..lattice.units()).map(|u| lattice.position(u)).collect();
        let span = |f: fn(&(f64, f64)) -> f64| {
            let lo = pos.iter().map(f).fold(f64::INFINITY, f64::min);
            let hi = pos.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        let ((x0, x1), (y0, y1)) = (span(|p| p.0), span(|p| p.1));
        let unit = |v: f64, lo: f64, hi: f64| if hi > lo { 2.0 * (v - lo) / (hi - lo) - 1.0 } else { 0.0 };
        let wide = x1 - x0 >= y1 - y0;
        let mut weights = Vec::with_capacity(pos.len() * d);
        for &(px, py) in &pos {
            let (cx, cy) = (unit(px, x0, x1), unit(py, y0, y1));
            let (c1, c2) = if wide { (cx, cy) } else { (cy, cx) };
            weights.extend((0..d).map(|k| mean[k] + c1 * a1[k] + c2 * a2[k]));
        }
        weights
    }

    /// Squared cut-off distance of the neighbourhood at width `sigma`.
    fn cut2(&self, sigma: f64) -> Option<f64> {
        self.params.truncate.map(|t| (t * sigma) * (t * sigma))
    }

    cg_core::avx2_dispatch!(
    /// One online epoch: samples in shuffled passes, each pulling its best-matching unit and the
    /// unit's neighbours towards it. Returns the last learning rate and radius.
    ///
    /// Compiled for the baseline and for AVX2 (`cg_core::avx2_dispatch`): the same bits either way.
    fn online_epoch(som: &Som, state: &mut SomState, rng: &mut ChaCha8Rng) -> Result<(f64, f64)> => Som::online_epoch_body);

    #[inline(always)]
    fn online_epoch_body(&self, state: &mut SomState, rng: &mut ChaCha8Rng) -> Result<(f64, f64)> {
        let epoch = state.epochs_done;
        let SomState { weights: w, order, cursor, .. } = state;
        let (dim, lattice, nb) = (self.dim, self.lattice(), self.params.neighbourhood);
        let per = self.iterations_per_epoch();
        let total = per * self.params.epochs;
        let rate = self.params.learning_rate.expect("internal: validated for online training");
        let (mut eta, mut sigma) = (0.0, 0.0);
        let mut h = vec![0.0; lattice.units()];
        let mut buf = vec![];
        for i in 0..per {
            let t = epoch * per + i;
            (eta, sigma) = (rate.at(t, total), self.params.radius.at(t, total));
            let cut2 = self.cut2(sigma);
            if *cursor == order.len() {
                order.shuffle(rng);
                *cursor = 0;
            }
            let x = self.sample(order[*cursor], &mut buf)?;
            *cursor += 1;
            let (b, _) = bmu(w, dim, x);
            let pb = self.positions[b];
            for (hu, &pu) in h.iter_mut().zip(&self.positions) {
                *hu = lattice.dist2_between(pb, pu);
            }
            nb.weights_in_place(&mut h, sigma, cut2, eta);
            for (wu, &hu) in w.chunks_exact_mut(dim).zip(&h) {
                if hu != 0.0 {
                    for (wk, xk) in wu.iter_mut().zip(x) {
                        *wk += hu * (xk - *wk);
                    }
                }
            }
        }
        Ok((eta, sigma))
    }

    /// One batch epoch: best-matching units in parallel, per-unit sums of their samples in sample
    /// order, then every unit (in parallel) set to the neighbourhood-weighted mean, summing over
    /// units in index order. Returns the radius used.
    fn batch_epoch(&self, w: &mut [f64], epoch: usize) -> Result<f64> {
        let (dim, lattice) = (self.dim, self.lattice());
        let units = lattice.units();
        let sigma = self.params.radius.at(epoch, self.params.epochs);
        let cut2 = self.cut2(sigma);
        let (mut sums, mut counts) = (vec![0.0; units * dim], vec![0usize; units]);
        self.each_chunk(&mut |_, rows| {
            let winners = quality::bmus(w, dim, rows);
            for (x, &b) in rows.chunks_exact(dim).zip(&winners) {
                counts[b] += 1;
                for (s, xk) in sums[b * dim..(b + 1) * dim].iter_mut().zip(x) {
                    *s += xk;
                }
            }
        })?;
        let occupied: Vec<usize> = (0..units).filter(|&b| counts[b] > 0).collect();
        let batch = Batch { sums: &sums, counts: &counts, occupied: &occupied, sigma, cut2 };
        w.par_chunks_mut(dim).enumerate().for_each_init(
            || (vec![0.0; dim], vec![0.0; occupied.len()]),
            |(num, h), (u, wu)| Som::batch_unit(self, &batch, u, wu, num, h),
        );
        Ok(sigma)
    }
}

/// What every unit's batch update reads: the per-winner sums and counts, the winners that won
/// something, and the neighbourhood's width and cut-off.
struct Batch<'a> {
    sums: &'a [f64],
    counts: &'a [usize],
    occupied: &'a [usize],
    sigma: f64,
    cut2: Option<f64>,
}

impl Som<'_> {
    cg_core::avx2_dispatch!(
    /// Sets unit `u` to the neighbourhood-weighted mean of the samples, summing over the winners
    /// in index order (`num` and `h` are scratch). Compiled for the baseline and for AVX2
    /// (`cg_core::avx2_dispatch`): the same bits either way.
    fn batch_unit(som: &Som, batch: &Batch, u: usize, wu: &mut [f64], num: &mut [f64], h: &mut [f64])
        => Som::batch_unit_body);

    #[inline(always)]
    fn batch_unit_body(&self, batch: &Batch, u: usize, wu: &mut [f64], num: &mut [f64], h: &mut [f64]) {
        let (dim, lattice) = (self.dim, self.lattice());
        let pu = self.positions[u];
        for (hb, &b) in h.iter_mut().zip(batch.occupied) {
            *hb = lattice.dist2_between(pu, self.positions[b]);
        }
        self.params.neighbourhood.weights_in_place(h, batch.sigma, batch.cut2, 1.0);
        num.fill(0.0);
        let mut den = 0.0;
        for (&hb, &b) in h.iter().zip(batch.occupied) {
            if hb != 0.0 {
                den += hb * batch.counts[b] as f64;
                for (a, s) in num.iter_mut().zip(&batch.sums[b * dim..(b + 1) * dim]) {
                    *a += hb * s;
                }
            }
        }
        if den > 0.0 {
            for (wk, a) in wu.iter_mut().zip(num.iter()) {
                *wk = a / den;
            }
        }
    }
}

/// What one epoch reports.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SomRecord {
    /// The learning rate at the epoch's last update (online training only).
    pub learning_rate: Option<f64>,
    /// The neighbourhood radius of the epoch.
    pub radius: f64,
    /// Quality of the new codebook on the training data (absent when not evaluated).
    pub quantization_error: Option<f64>,
    /// The share of samples whose two best units are not neighbours (absent when not evaluated).
    pub topographic_error: Option<f64>,
    /// Wall time of the training part alone (it varies between runs; the rest is deterministic).
    pub train_seconds: f64,
}

impl cg_core::Objective for SomRecord {
    fn objective(&self) -> Option<f64> {
        self.quantization_error
    }
}

/// A stopped run needs the codebook, the epoch count and (online) the shuffled pass and the
/// position in it.
impl Resumable for Som<'_> {
    fn save(&self, state: &SomState, into: &mut Snapshot) {
        into.put_tensor(
            "codebook",
            vec![state.weights.len() / state.dim.max(1), state.dim],
            state.weights.iter().copied(),
        );
        into.put("epochs_done", &state.epochs_done);
        into.put("order", &state.order);
        into.put("cursor", &state.cursor);
    }

    fn restore(&self, state: &mut SomState, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        from.copy_into("codebook", &mut state.weights)?;
        let order: Vec<usize> = from.get("order")?;
        let cursor: usize = from.get("cursor")?;
        if order.len() != state.order.len() || cursor > order.len() {
            return Err(SnapshotError(format!("a pass over {} samples saved, {} now", order.len(), state.order.len())));
        }
        (state.order, state.cursor, state.epochs_done) = (order, cursor, from.get("epochs_done")?);
        Ok(())
    }
}

impl Solver for Som<'_> {
    type State = SomState;
    type Record = SomRecord;
    type Error = Error;

    fn name(&self) -> &'static str {
        match self.params.training {
            Training::Online => "som-online",
            Training::Batch => "som-batch",
        }
    }

    /// One epoch, then (unless turned off) the quality of the new codebook on the training data.
    fn step(&mut self, state: &mut SomState, rng: &mut ChaCha8Rng) -> Result<SomRecord> {
        let epoch = state.epochs_done;
        let start = Instant::now();
        let (learning_rate, radius) = match self.params.training {
            Training::Online => {
                let (eta, sigma) = Som::online_epoch(self, state, rng)?;
                (Some(eta), sigma)
            }
            Training::Batch => (None, self.batch_epoch(&mut state.weights, epoch)?),
        };
        let train_seconds = start.elapsed().as_secs_f64();
        state.epochs_done += 1;
        let mut record =
            SomRecord { learning_rate, radius, quantization_error: None, topographic_error: None, train_seconds };
        if self.evaluate && state.weights.iter().all(|v| v.is_finite()) {
            let q = self.quality_of(&state.weights)?;
            (record.quantization_error, record.topographic_error) =
                (Some(q.quantization_error), Some(q.topographic_error));
        }
        Ok(record)
    }

    /// Diverged when a codebook value is no longer finite, or has exploded: a unit's vector is a
    /// weighted mean of samples for positive neighbourhoods, so a value more than a thousand data
    /// ranges outside the data only comes from negative weights feeding on themselves (a
    /// Mexican hat without `truncate`) or a learning rate above 1.
    fn stop(&self, state: &SomState, _r: &SomRecord) -> Option<Stop> {
        let (lo, hi) = self.data_range;
        let margin = 1e3 * (hi - lo).max(1.0);
        let bad = state.weights.iter().find(|v| !v.is_finite() || **v < lo - margin || **v > hi + margin)?;
        let hint = if self.params.neighbourhood == Neighbourhood::MexicanHat && self.params.truncate.is_none() {
            "set truncate = 1 (beyond the radius the Mexican hat's weights are negative and push units away without bound)"
        } else {
            "lower the learning rate"
        };
        Some(Stop::Diverged {
            what: format!(
                "epoch {}: a codebook value became {bad}, far outside the data's range [{lo}, {hi}]; {hint}",
                state.epochs_done
            ),
        })
    }
}

/// The smallest and largest value of the samples, checked finite as they come.
#[derive(Default)]
struct Range {
    lo: Option<f64>,
    hi: Option<f64>,
}

impl Range {
    /// Adds the rows of `values` (the first is sample `first`).
    fn add(&mut self, first: usize, dim: usize, values: &[f64]) -> Result<()> {
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::Data(format!(
                "sample {}, feature {} is {}",
                first + k / dim + 1,
                k % dim + 1,
                values[k]
            )));
        }
        for &v in values {
            self.lo = Some(self.lo.map_or(v, |lo| lo.min(v)));
            self.hi = Some(self.hi.map_or(v, |hi| hi.max(v)));
        }
        Ok(())
    }

    fn bounds(&self) -> (f64, f64) {
        (self.lo.unwrap_or(f64::INFINITY), self.hi.unwrap_or(f64::NEG_INFINITY))
    }
}
