//! The restricted Boltzmann machine: energy, free energy, block conditionals, exact partition
//! function for small models, annealed importance sampling for large ones, pseudo-likelihood.

use cg_core::numeric::{sigmoid, sigmoid_in_place, softplus, softplus_in_place};
use nalgebra::{DMatrix, DVector};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::linalg::{gemm, Mat};
use crate::samples::{column_sums, each_row, MatrixRows};
use crate::{Error, Result};
use cg_core::RowChunks;

/// Visible units: binary, or real-valued with unit variance (for standardised data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visible {
    /// v ∈ {0, 1}: E(v, h) = -bᵀv - cᵀh - vᵀWh.
    #[default]
    Bernoulli,
    /// v ∈ ℝ: E(v, h) = ½‖v - b‖² - cᵀh - vᵀWh, so p(v | h) = N(b + Wh, I).
    Gaussian,
}

/// An RBM with `nv` visible and `nh` hidden binary units: W is nv x nh.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm {
    /// Weights, visible × hidden.
    pub w: DMatrix<f64>,
    /// Visible biases.
    pub b: DVector<f64>,
    /// Hidden biases.
    pub c: DVector<f64>,
    /// Binary or Gaussian visible units.
    pub visible: Visible,
}

/// Largest number of units on the enumerated side of an exact partition function (2^22 states).
pub const EXACT_LIMIT: usize = 22;

/// Running log Σ e^x over a stream, without overflow.
#[derive(Clone, Copy)]
struct StreamLse {
    max: f64,
    sum: f64,
}

impl StreamLse {
    fn new() -> StreamLse {
        StreamLse { max: f64::NEG_INFINITY, sum: 0.0 }
    }
    fn push(&mut self, x: f64) {
        if x > self.max {
            self.sum = self.sum * (self.max - x).exp() + 1.0;
            self.max = x;
        } else {
            self.sum += (x - self.max).exp();
        }
    }
    fn value(self) -> f64 {
        self.max + self.sum.ln()
    }
}

impl Rbm {
    /// Weights drawn from N(0, std²), biases zero.
    pub fn random(nv: usize, nh: usize, visible: Visible, std: f64, rng: &mut ChaCha8Rng) -> Rbm {
        let w = DMatrix::from_fn(nv, nh, |_, _| std * Distribution::<f64>::sample(&StandardNormal, rng));
        Rbm { w, b: DVector::zeros(nv), c: DVector::zeros(nh), visible }
    }

    /// The number of visible units.
    pub fn n_visible(&self) -> usize {
        self.w.nrows()
    }

    /// The number of hidden units.
    pub fn n_hidden(&self) -> usize {
        self.w.ncols()
    }

    /// Hidden pre-activations c + Wᵀv.
    pub fn hidden_input(&self, v: &[f64]) -> DVector<f64> {
        &self.c + self.w.tr_mul(&DVector::from_column_slice(v))
    }

    /// E(v, h).
    pub fn energy(&self, v: &[f64], h: &[f64]) -> f64 {
        let (v, h) = (DVector::from_column_slice(v), DVector::from_column_slice(h));
        let coupling = v.dot(&(&self.w * &h));
        let visible = match self.visible {
            Visible::Bernoulli => -self.b.dot(&v),
            Visible::Gaussian => 0.5 * (&v - &self.b).norm_squared(),
        };
        visible - self.c.dot(&h) - coupling
    }

    /// Free energy F(v) = -log Σ_h e^{-E(v, h)}, so p(v) = e^{-F(v)} / Z.
    pub fn free_energy(&self, v: &[f64]) -> f64 {
        let visible = match self.visible {
            Visible::Bernoulli => -v.iter().zip(self.b.iter()).map(|(x, b)| x * b).sum::<f64>(),
            Visible::Gaussian => 0.5 * v.iter().zip(self.b.iter()).map(|(x, b)| (x - b) * (x - b)).sum::<f64>(),
        };
        visible - self.hidden_input(v).iter().map(|&a| softplus(a)).sum::<f64>()
    }

    /// p(h = 1 | v) for every row of `v` (batch x nv), as batch x nh.
    pub fn hidden_probs(&self, v: &DMatrix<f64>) -> DMatrix<f64> {
        let mut a = v * &self.w;
        for mut row in a.row_iter_mut() {
            for (x, c) in row.iter_mut().zip(self.c.iter()) {
                *x = sigmoid(*x + c);
            }
        }
        a
    }

    /// E[v | h] for every row of `h`: σ(b + Wh) for Bernoulli units, b + Wh for Gaussian ones.
    pub fn visible_mean(&self, h: &DMatrix<f64>) -> DMatrix<f64> {
        let mut a = h * self.w.transpose();
        for mut row in a.row_iter_mut() {
            for (x, b) in row.iter_mut().zip(self.b.iter()) {
                *x += b;
                if self.visible == Visible::Bernoulli {
                    *x = sigmoid(*x);
                }
            }
        }
        a
    }

    /// A sample of v given h: Bernoulli draws, or the mean plus standard normal noise.
    pub fn sample_visible(&self, h: &DMatrix<f64>, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
        let mut m = self.visible_mean(h);
        match self.visible {
            Visible::Bernoulli => bernoulli_in_place(&mut m, rng),
            Visible::Gaussian => m.iter_mut().for_each(|x| *x += Distribution::<f64>::sample(&StandardNormal, rng)),
        }
        m
    }

    /// log Z exactly, enumerating the smaller side (Bernoulli visible units) or the hidden units
    /// (Gaussian visible units, integrating v in closed form).
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the enumerated side has more than [`EXACT_LIMIT`] units.
    pub fn log_partition_exact(&self) -> Result<f64> {
        let (nv, nh) = (self.n_visible(), self.n_hidden());
        let by_hidden = self.visible == Visible::Gaussian || nh <= nv;
        let side = if by_hidden { nh } else { nv };
        if side > EXACT_LIMIT {
            return Err(Error::TooLarge { units: side, limit: EXACT_LIMIT });
        }
        let mut lse = StreamLse::new();
        if by_hidden {
            // a = b + W h, updated one column at a time along a Gray code.
            let mut a = self.b.clone();
            let mut ch = 0.0;
            let mut h = vec![false; nh];
            for i in 0u64..(1u64 << nh) {
                if i > 0 {
                    let j = i.trailing_zeros() as usize;
                    let sign = if h[j] { -1.0 } else { 1.0 };
                    h[j] = !h[j];
                    a.axpy(sign, &self.w.column(j), 1.0);
                    ch += sign * self.c[j];
                }
                let x = match self.visible {
                    // Σ_v e^{bᵀv + vᵀWh} = Π_i (1 + e^{a_i}).
                    Visible::Bernoulli => ch + a.iter().map(|&x| softplus(x)).sum::<f64>(),
                    // ∫ e^{-½‖v - b‖² + vᵀWh} dv = (2π)^{nv/2} e^{½‖a‖² - ½‖b‖²}.
                    Visible::Gaussian => ch + 0.5 * (a.norm_squared() - self.b.norm_squared()),
                };
                lse.push(x);
            }
            let gauss = if self.visible == Visible::Gaussian {
                0.5 * nv as f64 * (2.0 * std::f64::consts::PI).ln()
            } else {
                0.0
            };
            Ok(lse.value() + gauss)
        } else {
            let mut v = vec![0.0; nv];
            for i in 0u64..(1u64 << nv) {
                if i > 0 {
                    let j = i.trailing_zeros() as usize;
                    v[j] = 1.0 - v[j];
                }
                lse.push(-self.free_energy(&v));
            }
            Ok(lse.value())
        }
    }

    /// Mean log-likelihood of the rows of `data` given log Z.
    pub fn mean_log_likelihood(&self, data: &DMatrix<f64>, log_z: f64) -> f64 {
        self.mean_log_likelihood_of(&MatrixRows(data), log_z).expect("internal: a matrix reads")
    }

    /// [`Rbm::mean_log_likelihood`] of rows read in chunks (a file larger than memory), summed
    /// in the same order.
    ///
    /// # Errors
    /// The source could not be read.
    pub fn mean_log_likelihood_of(&self, data: &dyn RowChunks, log_z: f64) -> Result<f64> {
        let mut total = 0.0;
        each_row(data, |v| {
            total += -self.free_energy(v) - log_z;
            Ok(())
        })?;
        Ok(total / data.rows().max(1) as f64)
    }

    /// Mean pseudo-log-likelihood of binary rows: Σ_i log p(v_i | v_-i), each term
    /// log σ(F(v with bit i flipped) - F(v)). scikit-learn's `BernoulliRBM.score_samples` is an
    /// unbiased one-bit estimate of the same number (nv times the term of a random bit).
    ///
    /// # Errors
    /// Gaussian visible units, or a value that is not 0 or 1.
    pub fn pseudo_log_likelihood(&self, data: &DMatrix<f64>) -> Result<f64> {
        self.pseudo_log_likelihood_of(&MatrixRows(data))
    }

    /// [`Rbm::pseudo_log_likelihood`] of rows read in chunks, summed in the same order.
    ///
    /// # Errors
    /// As [`Rbm::pseudo_log_likelihood`], or the source could not be read.
    pub fn pseudo_log_likelihood_of(&self, data: &dyn RowChunks) -> Result<f64> {
        if self.visible == Visible::Gaussian {
            return Err(Error::Unsupported {
                what: "pseudo-likelihood",
                why: "it is defined here for binary visible units",
            });
        }
        let (nv, nh) = (self.n_visible(), self.n_hidden());
        if data.dim() != nv {
            return Err(Error::Shape { what: "a sample", expected: nv, found: data.dim() });
        }
        let wt = self.w.transpose();
        let mut total = 0.0;
        // For each sample: the hidden inputs with every bit flipped in turn (row i: a + δ_i W[i, :]),
        // their softplus in one vector pass, then the sums in order.
        let mut shifted = vec![0.0; (nv + 1) * nh];
        each_row(data, |v| {
            if let Some(&bad) = v.iter().find(|&&x| x != 0.0 && x != 1.0) {
                return Err(Error::NotBinary { value: bad });
            }
            let a = self.hidden_input(v);
            shifted[..nh].copy_from_slice(a.as_slice());
            for (i, &vi) in v.iter().enumerate() {
                let delta = 1.0 - 2.0 * vi;
                let wi = &wt.as_slice()[i * nh..(i + 1) * nh];
                for ((s, &aj), &w) in shifted[(i + 1) * nh..(i + 2) * nh].iter_mut().zip(a.iter()).zip(wi) {
                    *s = aj + delta * w;
                }
            }
            softplus_in_place(&mut shifted);
            let base: f64 = shifted[..nh].iter().sum();
            for (i, &vi) in v.iter().enumerate() {
                let delta = 1.0 - 2.0 * vi;
                // F(v') - F(v) = -δ b_i - Σ softplus(a') + Σ softplus(a).
                let diff = -delta * self.b[i] - shifted[(i + 1) * nh..(i + 2) * nh].iter().sum::<f64>() + base;
                total += -softplus(-diff);
            }
            Ok(())
        })?;
        Ok(total / data.rows().max(1) as f64)
    }

    /// Annealed importance sampling estimate of log Z (Salakhutdinov and Murray, 2008):
    /// `chains` runs through the inverse temperatures `betas` (rising from 0 to 1) from the base
    /// model with no couplings and visible biases `base` (Bernoulli units) or visible means
    /// `base` (Gaussian units; see [`ais_base`]).
    ///
    /// The intermediate models scale the couplings and hidden biases by β and mix the visible
    /// terms: log p*_β(v) = (1-β) b_Aᵀv + β bᵀv + Σ_j softplus(β a_j) for Bernoulli units,
    /// -(1-β)|v - b_A|²/2 - β|v - b|²/2 + Σ_j softplus(β a_j) for Gaussian ones, with
    /// a = c + Wᵀv. Their Gibbs sweeps draw h_j ~ Bernoulli(σ(β a_j)), then v from
    /// Bernoulli(σ((1-β) b_A + β(b + W h))) or N((1-β) b_A + β(b + W h), I).
    ///
    /// # Errors
    /// A base of the wrong length, or a bad temperature ladder.
    pub fn ais_log_partition(
        &self,
        base: &[f64],
        betas: &[f64],
        chains: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<AisEstimate> {
        let (nv, nh) = (self.n_visible(), self.n_hidden());
        let gaussian = self.visible == Visible::Gaussian;
        if base.len() != nv {
            return Err(Error::Shape { what: "AIS base biases", expected: nv, found: base.len() });
        }
        let ladder_ok = betas.len() >= 2
            && betas[0] == 0.0
            && *betas.last().expect("internal: len >= 2") == 1.0
            && betas.windows(2).all(|w| w[1] > w[0]);
        if !ladder_ok || chains == 0 {
            return Err(Error::Unsupported { what: "AIS", why: "betas must rise from 0 to 1 and chains be >= 1" });
        }
        // All chains advance together: V (chains x nv) and A = V W + c (chains x nh), row-major.
        let w = Mat { data: self.w.as_slice(), rows: nv, cols: nh, rs: 1, cs: nv };
        let wt = Mat { data: self.w.as_slice(), rows: nh, cols: nv, rs: nv, cs: 1 };
        // Exact draws from the base model.
        let mut v: Vec<f64> = if gaussian {
            (0..chains * nv).map(|k| base[k % nv] + Distribution::<f64>::sample(&StandardNormal, rng)).collect()
        } else {
            (0..chains * nv).map(|k| f64::from(u8::from(rng.random::<f64>() < sigmoid(base[k % nv])))).collect()
        };
        let (mut a, mut h, mut field) = (vec![0.0; chains * nh], vec![0.0; chains * nh], vec![0.0; chains * nv]);
        let hidden_input = |v: &[f64], a: &mut [f64]| {
            gemm(1.0, Mat::row_major(v, chains, nv), w, 0.0, a, nh);
            a.chunks_exact_mut(nh).for_each(|row| row.iter_mut().zip(self.c.iter()).for_each(|(x, c)| *x += c));
        };
        hidden_input(&v, &mut a);
        // The visible terms of log p*_β(v).
        let linear = |v: &[f64], beta: f64| -> f64 {
            if gaussian {
                let terms = v.iter().zip(base).zip(self.b.iter());
                -0.5 * terms
                    .map(|((x, ba), b)| (1.0 - beta) * (x - ba) * (x - ba) + beta * (x - b) * (x - b))
                    .sum::<f64>()
            } else {
                v.iter().zip(base).zip(self.b.iter()).map(|((x, ba), b)| x * ((1.0 - beta) * ba + beta * b)).sum()
            }
        };
        let (mut sp_now, mut sp_prev) = (vec![0.0; chains * nh], vec![0.0; chains * nh]);
        let mut log_w = vec![0.0; chains];
        for k in 1..betas.len() {
            let (beta, prev) = (betas[k], betas[k - 1]);
            // log p*_β(v) - log p*_prev(v), the softplus terms of every chain in two vector passes.
            for ((n, p), &x) in sp_now.iter_mut().zip(sp_prev.iter_mut()).zip(&a) {
                (*n, *p) = (beta * x, prev * x);
            }
            softplus_in_place(&mut sp_now);
            softplus_in_place(&mut sp_prev);
            for (c, lw) in log_w.iter_mut().enumerate() {
                let vc = &v[c * nv..(c + 1) * nv];
                let now = linear(vc, beta) + sp_now[c * nh..(c + 1) * nh].iter().sum::<f64>();
                let before = linear(vc, prev) + sp_prev[c * nh..(c + 1) * nh].iter().sum::<f64>();
                *lw += now - before;
            }
            // One Gibbs sweep leaving p_β invariant, every chain at once.
            for (x, &ai) in h.iter_mut().zip(&a) {
                *x = beta * ai;
            }
            sigmoid_in_place(&mut h);
            bernoulli_slice(&mut h, rng);
            gemm(1.0, Mat::row_major(&h, chains, nh), wt, 0.0, &mut field, nv);
            for (k, f) in field.iter_mut().enumerate() {
                let i = k % nv;
                *f = (1.0 - beta) * base[i] + beta * (self.b[i] + *f);
            }
            if gaussian {
                field.iter_mut().for_each(|f| *f += Distribution::<f64>::sample(&StandardNormal, rng));
            } else {
                sigmoid_in_place(&mut field);
                bernoulli_slice(&mut field, rng);
            }
            v.copy_from_slice(&field);
            hidden_input(&v, &mut a);
        }
        // Z_0: 2^nh for the free hidden units times Σ_v e^{b_Aᵀv} or ∫ e^{-|v - b_A|²/2} dv.
        let visible_z0 = if gaussian {
            0.5 * nv as f64 * (2.0 * std::f64::consts::PI).ln()
        } else {
            base.iter().map(|&x| softplus(x)).sum::<f64>()
        };
        let log_z0 = nh as f64 * std::f64::consts::LN_2 + visible_z0;
        let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = log_w.iter().map(|x| (x - m).exp()).collect();
        let mean = w.iter().sum::<f64>() / chains as f64;
        let var = w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (chains.max(2) - 1) as f64;
        let se = (var / chains as f64).sqrt();
        Ok(AisEstimate {
            log_z: log_z0 + m + mean.ln(),
            log_z_low: log_z0 + m + (mean - 3.0 * se).max(f64::MIN_POSITIVE).ln(),
            log_z_high: log_z0 + m + (mean + 3.0 * se).ln(),
        })
    }
}

/// An AIS estimate of log Z with the band of ± 3 standard errors of the mean importance weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AisEstimate {
    /// The estimate of log Z.
    pub log_z: f64,
    /// The lower end of its interval.
    pub log_z_low: f64,
    /// The upper end of its interval.
    pub log_z_high: f64,
}

/// `n` inverse temperatures from 0 to 1: a quarter spread evenly over [0, 0.5), the rest over
/// [0.5, 1], where the intermediate distributions change fastest.
pub fn ais_betas(n: usize) -> Vec<f64> {
    let n = n.max(4);
    let (low, high) = (n / 4, n - n / 4);
    let mut betas: Vec<f64> = (0..low).map(|k| 0.5 * k as f64 / low as f64).collect();
    betas.extend((0..high).map(|k| 0.5 + 0.5 * k as f64 / (high - 1) as f64));
    betas
}

/// Replaces each probability by a Bernoulli draw.
pub fn bernoulli_in_place(m: &mut DMatrix<f64>, rng: &mut ChaCha8Rng) {
    bernoulli_slice(m.as_mut_slice(), rng);
}

/// Replaces each probability in `xs` by a Bernoulli draw, in order.
pub(crate) fn bernoulli_slice(xs: &mut [f64], rng: &mut ChaCha8Rng) {
    for x in xs {
        *x = f64::from(u8::from(rng.random::<f64>() < *x));
    }
}

/// The AIS base model for `data` (samples as rows): visible biases from the marginals
/// ([`base_biases`]) for Bernoulli units, the column means for Gaussian ones.
pub fn ais_base(data: &DMatrix<f64>, visible: Visible) -> Vec<f64> {
    ais_base_of(&MatrixRows(data), visible).expect("internal: a matrix reads")
}

/// [`ais_base`] of rows read in chunks, from the same sums.
///
/// # Errors
/// The source could not be read.
pub fn ais_base_of(data: &dyn RowChunks, visible: Visible) -> Result<Vec<f64>> {
    Ok(ais_base_from_sums(&column_sums(data)?, data.rows(), visible))
}

/// [`ais_base`] from each visible unit's sum over the `n` samples.
pub(crate) fn ais_base_from_sums(sums: &[f64], n: usize, visible: Visible) -> Vec<f64> {
    let n = n.max(1) as f64;
    match visible {
        Visible::Bernoulli => sums.iter().map(|s| log_odds(s / n)).collect(),
        Visible::Gaussian => sums.iter().map(|s| s / n).collect(),
    }
}

/// Visible biases of the AIS base model from the data's marginals: log(p / (1 - p)), with p kept
/// within [1e-3, 1 - 1e-3].
pub fn base_biases(data: &DMatrix<f64>) -> Vec<f64> {
    ais_base(data, Visible::Bernoulli)
}

/// The bias that makes a lone unit on with probability `p` (kept within [0.001, 0.999]):
/// log(p / (1 - p)).
pub(crate) fn log_odds(p: f64) -> f64 {
    let p = p.clamp(1e-3, 1.0 - 1e-3);
    (p / (1.0 - p)).ln()
}
