//! The functions of the model language beyond layers and plain arithmetic: constants, a gradient
//! stop, powers, clipping, selection, reductions along an axis, log-softmax and log-sum-exp, and
//! the batch mean that turns a per-sample loss written from primitives into an objective.
//!
//! Each is one struct with its forward function, backward rule (Jᵀ g) and Jacobian-vector
//! product; `tests/vector.rs` checks every one against central differences and the adjoint
//! identity ⟨J t, r⟩ = ⟨t, Jᵀ r⟩.

use super::elementwise::{at, broadcast_dims, reduce_to};
use super::ops::{exactly, reshape, OpError};
use super::{Mat, Real, VectorOp};

fn zeros_like<T: Real>(out: &Mat<T>) -> Mat<T> {
    Mat::zeros(out.nrows(), out.ncols())
}

/// A fixed matrix (`[model.constants]`, or a number used where a node is needed): no arguments,
/// no gradient, no optimiser state. Held in f64 and rounded to the graph's scalar.
pub struct Constant(pub Mat<f64>);

impl<T: Real> VectorOp<T> for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 0, "no arguments")
    }

    fn forward(&self, _args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(self.0.map(T::cast))
    }

    fn forward_into(&self, _args: &[&Mat<T>], out: &mut Mat<T>) -> Result<(), OpError> {
        reshape(out, self.0.nrows(), self.0.ncols());
        out.iter_mut().zip(self.0.iter()).for_each(|(o, &v)| *o = T::cast(v));
        Ok(())
    }

    fn backward(&self, _args: &[&Mat<T>], _out: &Mat<T>, _grad: &Mat<T>, _wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, _tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        zeros_like(out)
    }
}

/// The identity forward, zero backward: `stop_gradient(x)` treats x as a constant for the
/// derivative (a target computed from the model, a fixed normaliser).
pub struct StopGradient;

impl<T: Real> VectorOp<T> for StopGradient {
    fn name(&self) -> &'static str {
        "stop_gradient"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(args[0].clone())
    }

    fn backward(&self, _args: &[&Mat<T>], _out: &Mat<T>, _grad: &Mat<T>, _wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![None]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, _tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        zeros_like(out)
    }
}

/// An elementwise function of one argument given by its value and its derivative at each entry.
trait Pointwise: Send + Sync {
    fn name(&self) -> &'static str;
    fn value(&self, x: f64) -> f64;
    /// dy/dx at x, with y the value there.
    fn slope(&self, x: f64, y: f64) -> f64;
}

impl<T: Real, P: Pointwise> VectorOp<T> for P {
    fn name(&self) -> &'static str {
        Pointwise::name(self)
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(args[0].map(|x| T::cast(self.value(x.as_f64()))))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let Some(t) = tangents[0] else { return zeros_like(out) };
        let x = args[0];
        Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            t[(i, j)] * T::cast(self.slope(x[(i, j)].as_f64(), out[(i, j)].as_f64()))
        })
    }
}

/// √x (derivative 1 / (2 √x); infinite at 0, which the graph's finiteness check names).
pub struct Sqrt;

impl Pointwise for Sqrt {
    fn name(&self) -> &'static str {
        "sqrt"
    }
    fn value(&self, x: f64) -> f64 {
        x.sqrt()
    }
    fn slope(&self, _x: f64, y: f64) -> f64 {
        0.5 / y
    }
}

/// -1, 0 or 1 by the sign of x (derivative 0).
pub struct Sign;

impl Pointwise for Sign {
    fn name(&self) -> &'static str {
        "sign"
    }
    fn value(&self, x: f64) -> f64 {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
    fn slope(&self, _x: f64, _y: f64) -> f64 {
        0.0
    }
}

/// The Heaviside step: 1 where x > 0, else 0 (derivative 0): a mask or a gate that is not learnt
/// through.
pub struct Step;

impl Pointwise for Step {
    fn name(&self) -> &'static str {
        "step"
    }
    fn value(&self, x: f64) -> f64 {
        f64::from(u8::from(x > 0.0))
    }
    fn slope(&self, _x: f64, _y: f64) -> f64 {
        0.0
    }
}

/// x^p for a fixed number p (`pow(x, p)`, `x ^ p`); integer powers are repeated products, so
/// `x ^ 2` is exactly `x * x`.
pub struct Power(pub f64);

impl Power {
    fn raise(x: f64, p: f64) -> f64 {
        if p.fract() == 0.0 && p.abs() <= 64.0 {
            x.powi(p as i32)
        } else {
            x.powf(p)
        }
    }
}

impl Pointwise for Power {
    fn name(&self) -> &'static str {
        "pow"
    }
    fn value(&self, x: f64) -> f64 {
        Self::raise(x, self.0)
    }
    fn slope(&self, x: f64, _y: f64) -> f64 {
        if self.0 == 0.0 {
            0.0
        } else {
            self.0 * Self::raise(x, self.0 - 1.0)
        }
    }
}

/// x limited to [lo, hi]; the derivative is 1 inside (bounds included) and 0 outside.
pub struct Clip {
    /// The lower bound.
    pub lo: f64,
    /// The upper bound.
    pub hi: f64,
}

impl Pointwise for Clip {
    fn name(&self) -> &'static str {
        "clip"
    }
    fn value(&self, x: f64) -> f64 {
        x.clamp(self.lo, self.hi)
    }
    fn slope(&self, x: f64, _y: f64) -> f64 {
        f64::from(u8::from(x >= self.lo && x <= self.hi))
    }
}

/// `where(c, a, b)`: a where c > 0, b elsewhere, the three broadcast to one shape (a column or a
/// 1 × 1 stretched over the batch). The condition gets no gradient.
pub struct Where;

impl Where {
    fn dims<T: Real>(args: &[&Mat<T>]) -> Result<(usize, usize), OpError> {
        let ab = broadcast_dims(args[1].shape(), args[2].shape())?;
        broadcast_dims(args[0].shape(), ab)
    }
}

impl<T: Real> VectorOp<T> for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 3, "3 arguments (condition, a, b)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (r, c) = Self::dims(args)?;
        let (cond, a, b) = (args[0], args[1], args[2]);
        Ok(Mat::from_fn(r, c, |i, j| if at(cond, i, j) > T::zero() { at(a, i, j) } else { at(b, i, j) }))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let cond = args[0];
        let (r, c) = out.shape();
        let side = |k: usize, take: bool| {
            wants[k].then(|| {
                let g = Mat::from_fn(
                    r,
                    c,
                    |i, j| if (at(cond, i, j) > T::zero()) == take { grad[(i, j)] } else { T::zero() },
                );
                reduce_to(&g, args[k].shape())
            })
        };
        vec![None, side(1, true), side(2, false)]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let cond = args[0];
        Mat::from_fn(out.nrows(), out.ncols(), |i, j| {
            let k = if at(cond, i, j) > T::zero() { 1 } else { 2 };
            tangents[k].map_or(T::zero(), |t| at(t, i, j))
        })
    }
}

/// The axis a reduction runs along (values are features × batch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// Down each column: one number per sample (1 × batch), numpy's axis 0.
    Rows,
    /// Along each row: one number per feature (p × 1), over the batch, numpy's axis 1.
    Columns,
    /// Every entry: 1 × 1.
    All,
}

/// The sum or mean of a matrix along one axis.
pub struct Reduce {
    /// The axis reduced away.
    pub axis: Axis,
    /// Divide by the number of entries summed.
    pub mean: bool,
}

impl Reduce {
    fn count<T: Real>(&self, x: &Mat<T>) -> T {
        if !self.mean {
            return T::one();
        }
        T::cast(match self.axis {
            Axis::Rows => x.nrows(),
            Axis::Columns => x.ncols(),
            Axis::All => x.len(),
        } as f64)
    }

    fn reduce<T: Real>(&self, x: &Mat<T>) -> Mat<T> {
        let n = self.count(x);
        match self.axis {
            Axis::Rows => Mat::from_fn(1, x.ncols(), |_, j| x.column(j).sum() / n),
            Axis::Columns => Mat::from_fn(x.nrows(), 1, |i, _| x.row(i).sum() / n),
            Axis::All => Mat::from_element(1, 1, x.sum() / n),
        }
    }
}

impl<T: Real> VectorOp<T> for Reduce {
    fn name(&self) -> &'static str {
        if self.mean {
            "mean"
        } else {
            "sum"
        }
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(self.reduce(args[0]))
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let x = args[0];
        let n = self.count(x);
        vec![wants[0].then(|| Mat::from_fn(x.nrows(), x.ncols(), |i, j| at(grad, i, j) / n))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let _ = args;
        tangents[0].map_or_else(|| zeros_like(out), |t| self.reduce(t))
    }
}

/// log Σ_r exp(x_r) of each column (1 × batch), after subtracting the column's maximum.
pub struct LogSumExp;

fn log_sum_exp<T: Real>(x: &Mat<T>) -> Mat<T> {
    Mat::from_fn(1, x.ncols(), |_, j| {
        let col = x.column(j);
        let m = col.max();
        m + col.map(|v| (v - m).exp()).sum().ln()
    })
}

/// softmax(x) of each column, from the log-sum-exp already computed.
fn softmax_of<T: Real>(x: &Mat<T>, lse: &Mat<T>) -> Mat<T> {
    Mat::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - lse[(0, j)]).exp())
}

impl<T: Real> VectorOp<T> for LogSumExp {
    fn name(&self) -> &'static str {
        "logsumexp"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(log_sum_exp(args[0]))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let x = args[0];
        vec![wants[0].then(|| {
            let p = softmax_of(x, out);
            Mat::from_fn(x.nrows(), x.ncols(), |i, j| p[(i, j)] * grad[(0, j)])
        })]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let Some(t) = tangents[0] else { return zeros_like(out) };
        let p = softmax_of(args[0], out);
        Mat::from_fn(1, out.ncols(), |_, j| p.column(j).dot(&t.column(j)))
    }
}

/// x - logsumexp(x) of each column: log-probabilities without forming a softmax first.
pub struct LogSoftmax;

impl<T: Real> VectorOp<T> for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let x = args[0];
        let lse = log_sum_exp(x);
        Ok(Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - lse[(0, j)]))
    }

    fn backward(&self, _args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        // Jᵀ g = g - softmax · (1ᵀ g), column by column.
        vec![wants[0].then(|| {
            Mat::from_fn(out.nrows(), out.ncols(), |i, j| grad[(i, j)] - out[(i, j)].exp() * grad.column(j).sum())
        })]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        // J t = t - 1 (softmaxᵀ t), column by column.
        let Some(t) = tangents[0] else { return zeros_like(out) };
        let p = out.map(|v| v.exp());
        Mat::from_fn(out.nrows(), out.ncols(), |i, j| t[(i, j)] - p.column(j).dot(&t.column(j)))
    }
}

/// The mean over the batch of a per-sample quantity: arguments `[v, n]` with v (k × part) the
/// per-sample values of a part of a batch and n the 1 × 1 size of the whole batch; the value is
/// Σ v / n, so the parts of a batch add up to the batch's mean, and a test set's loss is on the
/// same scale as a mini-batch's. n gets no gradient.
pub struct BatchMean;

impl<T: Real> VectorOp<T> for BatchMean {
    fn name(&self) -> &'static str {
        "batch_mean"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 2, "2 arguments (values, batch size)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(Mat::from_element(1, 1, args[0].sum() / args[1][(0, 0)]))
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let (v, n) = (args[0], args[1][(0, 0)]);
        vec![wants[0].then(|| Mat::from_element(v.nrows(), v.ncols(), grad[(0, 0)] / n)), None]
    }

    fn jvp(&self, args: &[&Mat<T>], _out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        Mat::from_element(1, 1, tangents[0].map_or(T::zero(), |t| t.sum() / args[1][(0, 0)]))
    }
}

/// `embed(P, ids)`: column `ids[j]` of P (d × n) for every sample j, with ids a 1 × batch row of
/// integer codes 0..n-1: an embedding lookup, without one-hot columns. Backward adds each
/// sample's gradient into the column it read (a scatter-add); the ids get no gradient.
pub struct Embed;

impl Embed {
    /// The column of each sample, checked to be an integer code within P's columns.
    fn columns<T: Real>(table: &Mat<T>, ids: &Mat<T>) -> Result<Vec<usize>, OpError> {
        if ids.nrows() != 1 {
            return Err(OpError::Value(format!(
                "the ids are {} x {}, not one row (a code per sample)",
                ids.nrows(),
                ids.ncols()
            )));
        }
        let n = table.ncols();
        ids.iter()
            .enumerate()
            .map(|(j, &v)| {
                let x = v.as_f64();
                if x >= 0.0 && x.fract() == 0.0 && x < n as f64 {
                    Ok(x as usize)
                } else {
                    Err(OpError::Value(format!("sample {}: id {x} is not a whole number in 0..{}", j + 1, n - 1)))
                }
            })
            .collect()
    }
}

impl<T: Real> VectorOp<T> for Embed {
    fn name(&self) -> &'static str {
        "embed"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 2, "2 arguments (table, ids)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (table, ids) = (args[0], args[1]);
        let cols = Self::columns(table, ids)?;
        let d = table.nrows();
        let mut out = Mat::zeros(d, cols.len());
        for (j, &c) in cols.iter().enumerate() {
            out.column_mut(j).copy_from(&table.column(c));
        }
        Ok(out)
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let (table, ids) = (args[0], args[1]);
        let g = wants[0].then(|| {
            let mut g = Mat::zeros(table.nrows(), table.ncols());
            let cols = Self::columns(table, ids).expect("internal: checked by forward");
            for (j, &c) in cols.iter().enumerate() {
                let mut col = g.column_mut(c);
                col += grad.column(j);
            }
            g
        });
        vec![g, None]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        match tangents[0] {
            Some(t) => self.forward(&[t, args[1]]).expect("internal: checked by forward"),
            None => zeros_like(out),
        }
    }
}

/// Layer normalisation of each column (one sample's features): (x - mean) / sqrt(var + eps),
/// mean and (population) variance over the rows. A gain and a shift are the model's own
/// parameters (`g * layer_norm(h) + b`). The Jacobian (I - 11ᵀ/n - y yᵀ/n) / σ is symmetric, so
/// backward and forward mode apply the same map.
pub struct LayerNorm {
    /// Added to the variance (1e-5 unless given).
    pub eps: f64,
}

impl LayerNorm {
    /// 1 / σ of each column.
    fn inverse_sd<T: Real>(&self, x: &Mat<T>) -> Vec<T> {
        let n = T::cast(x.nrows() as f64);
        x.column_iter()
            .map(|c| {
                let mean = c.sum() / n;
                let var = c.iter().fold(T::zero(), |s, &v| s + (v - mean) * (v - mean)) / n;
                T::one() / (var + T::cast(self.eps)).sqrt()
            })
            .collect()
    }

    /// J v for every column: (v - mean(v) - y mean(v ⊙ y)) / σ.
    fn apply<T: Real>(&self, x: &Mat<T>, y: &Mat<T>, v: &Mat<T>) -> Mat<T> {
        let inv = self.inverse_sd(x);
        let n = T::cast(x.nrows() as f64);
        let mut out = Mat::zeros(x.nrows(), x.ncols());
        for j in 0..x.ncols() {
            let mean_v = v.column(j).sum() / n;
            let mean_vy = v.column(j).dot(&y.column(j)) / n;
            for i in 0..x.nrows() {
                out[(i, j)] = (v[(i, j)] - mean_v - y[(i, j)] * mean_vy) * inv[j];
            }
        }
        out
    }
}

impl<T: Real> VectorOp<T> for LayerNorm {
    fn name(&self) -> &'static str {
        "layer_norm"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let x = args[0];
        let inv = self.inverse_sd(x);
        let n = T::cast(x.nrows() as f64);
        Ok(Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            let mean = x.column(j).sum() / n;
            (x[(i, j)] - mean) * inv[j]
        }))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| self.apply(args[0], out, grad))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        tangents[0].map_or_else(|| zeros_like(out), |t| self.apply(args[0], out, t))
    }
}

/// Inverted dropout: arguments `[x, seed, samples]`. In training (a finite seed) each entry is
/// kept with probability 1 - p and then divided by 1 - p, zeroed otherwise; the mask of entry
/// (i, j) is a hash of the seed, the sample's index `samples[j]` in the training set and the row
/// i, so it does not depend on how a batch is cut into parts or on the thread count. A NaN seed
/// (evaluation, `predict`) passes x through. The seed and the indices get no gradient.
pub struct Dropout {
    /// The probability of dropping an entry, in [0, 1).
    pub p: f64,
}

impl Dropout {
    /// Whether entry (i, j) is kept, and the factor it is multiplied by.
    fn masks<T: Real>(&self, x: &Mat<T>, seed: &Mat<T>, samples: &Mat<T>) -> Option<Mat<T>> {
        let s = seed[(0, 0)].as_f64();
        if s.is_nan() {
            return None;
        }
        let keep = 1.0 - self.p;
        let scale = T::cast(1.0 / keep);
        Some(Mat::from_fn(x.nrows(), x.ncols(), |i, j| {
            let sample = if samples.ncols() == x.ncols() { samples[(0, j)].as_f64() as u64 } else { j as u64 };
            let u = uniform(s as u64, sample, i as u64);
            if u < keep {
                scale
            } else {
                T::zero()
            }
        }))
    }
}

/// A uniform number in [0, 1) from three integers (SplitMix64 finalisers, chained).
fn uniform(seed: u64, sample: u64, row: u64) -> f64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let h = mix(mix(mix(seed) ^ sample) ^ row);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl<T: Real> VectorOp<T> for Dropout {
    fn name(&self) -> &'static str {
        "dropout"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 3, "3 arguments (x, seed, samples)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(match self.masks(args[0], args[1], args[2]) {
            Some(m) => args[0].component_mul(&m),
            None => args[0].clone(),
        })
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let g = wants[0].then(|| match self.masks(args[0], args[1], args[2]) {
            Some(m) => grad.component_mul(&m),
            None => grad.clone(),
        });
        vec![g, None, None]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let Some(t) = tangents[0] else { return zeros_like(out) };
        match self.masks(args[0], args[1], args[2]) {
            Some(m) => t.component_mul(&m),
            None => t.clone(),
        }
    }
}

/// Rows `start..end` of the argument (`x[2]`, `x[0:3]`, `rows(x, 0, 3)`): a gate's first row, a
/// slice of a stacked output. Backward puts the gradient back into those rows.
pub struct Rows {
    /// The first row, from 0.
    pub start: usize,
    /// One past the last row.
    pub end: usize,
}

impl<T: Real> VectorOp<T> for Rows {
    fn name(&self) -> &'static str {
        "rows"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let x = args[0];
        if self.end > x.nrows() || self.start >= self.end {
            return Err(OpError::Value(format!(
                "rows {}..{} of a value with {} rows",
                self.start,
                self.end,
                x.nrows()
            )));
        }
        Ok(x.rows(self.start, self.end - self.start).into_owned())
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let x = args[0];
        vec![wants[0].then(|| {
            let mut g = Mat::zeros(x.nrows(), x.ncols());
            g.rows_mut(self.start, self.end - self.start).copy_from(grad);
            g
        })]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        tangents[0].map_or_else(|| zeros_like(out), |t| t.rows(self.start, self.end - self.start).into_owned())
    }
}

/// Batch normalisation of each row (one feature over the samples of a batch): arguments
/// `[x, running_mean, running_var, seed]`. In training (a finite seed) each row is normalised
/// by the batch's own mean and (population) variance, so the value of one sample depends on the
/// others (the batch is never cut into parts); in evaluation (a NaN seed, `predict`) by the
/// running statistics the trainer keeps (frozen parameters, saved with the model). The running
/// statistics and the seed get no gradient.
pub struct BatchNorm {
    /// Added to the variance.
    pub eps: f64,
}

impl BatchNorm {
    /// Per row: (mean, 1 / σ) of the batch.
    fn batch_stats<T: Real>(&self, x: &Mat<T>) -> Vec<(T, T)> {
        let n = T::cast(x.ncols() as f64);
        x.row_iter()
            .map(|r| {
                let mean = r.sum() / n;
                let var = r.iter().fold(T::zero(), |s, &v| s + (v - mean) * (v - mean)) / n;
                (mean, T::one() / (var + T::cast(self.eps)).sqrt())
            })
            .collect()
    }

    fn training<T: Real>(seed: &Mat<T>) -> bool {
        !seed[(0, 0)].as_f64().is_nan()
    }

    /// J v in training, row by row: (v - mean(v) - y mean(v ⊙ y)) / σ (symmetric).
    fn apply<T: Real>(&self, x: &Mat<T>, y: &Mat<T>, v: &Mat<T>) -> Mat<T> {
        let stats = self.batch_stats(x);
        let n = T::cast(x.ncols() as f64);
        let mut out = Mat::zeros(x.nrows(), x.ncols());
        for i in 0..x.nrows() {
            let mean_v = v.row(i).sum() / n;
            let mean_vy = v.row(i).dot(&y.row(i)) / n;
            for j in 0..x.ncols() {
                out[(i, j)] = (v[(i, j)] - mean_v - y[(i, j)] * mean_vy) * stats[i].1;
            }
        }
        out
    }

    /// 1 / sqrt(running variance + eps) of each row, for evaluation.
    fn running_scale<T: Real>(&self, var: &Mat<T>) -> Vec<T> {
        var.iter().map(|&v| T::one() / (v + T::cast(self.eps)).sqrt()).collect()
    }
}

impl<T: Real> VectorOp<T> for BatchNorm {
    fn name(&self) -> &'static str {
        "batch_norm"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 4, "4 arguments (x, running mean, running variance, seed)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (x, mean, var, seed) = (args[0], args[1], args[2], args[3]);
        if mean.nrows() != x.nrows() || var.nrows() != x.nrows() {
            return Err(OpError::Value(format!(
                "running statistics of {} and {} rows for a value of {}",
                mean.nrows(),
                var.nrows(),
                x.nrows()
            )));
        }
        if Self::training(seed) {
            let stats = self.batch_stats(x);
            Ok(Mat::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - stats[i].0) * stats[i].1))
        } else {
            let scale = self.running_scale(var);
            Ok(Mat::from_fn(x.nrows(), x.ncols(), |i, j| (x[(i, j)] - mean[(i, 0)]) * scale[i]))
        }
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let g = wants[0].then(|| {
            if Self::training(args[3]) {
                self.apply(args[0], out, grad)
            } else {
                let scale = self.running_scale(args[2]);
                Mat::from_fn(grad.nrows(), grad.ncols(), |i, j| grad[(i, j)] * scale[i])
            }
        });
        vec![g, None, None, None]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let Some(t) = tangents[0] else { return zeros_like(out) };
        if Self::training(args[3]) {
            self.apply(args[0], out, t)
        } else {
            let scale = self.running_scale(args[2]);
            Mat::from_fn(t.nrows(), t.ncols(), |i, j| t[(i, j)] * scale[i])
        }
    }
}

/// Elementwise functions of one argument given by a formula and its derivative, for the model
/// language (`sin`, `cos`, `silu`, `softsign`, `leaky_relu`, `elu`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Elementwise {
    /// sin x.
    Sin,
    /// cos x.
    Cos,
    /// x σ(x) (also called swish).
    Silu,
    /// x / (1 + |x|).
    Softsign,
    /// x for x > 0, a x otherwise.
    LeakyRelu(f64),
    /// x for x > 0, a (e^x - 1) otherwise.
    Elu(f64),
}

impl Pointwise for Elementwise {
    fn name(&self) -> &'static str {
        match self {
            Elementwise::Sin => "sin",
            Elementwise::Cos => "cos",
            Elementwise::Silu => "silu",
            Elementwise::Softsign => "softsign",
            Elementwise::LeakyRelu(_) => "leaky_relu",
            Elementwise::Elu(_) => "elu",
        }
    }

    fn value(&self, x: f64) -> f64 {
        match *self {
            Elementwise::Sin => x.sin(),
            Elementwise::Cos => x.cos(),
            Elementwise::Silu => x / (1.0 + (-x).exp()),
            Elementwise::Softsign => x / (1.0 + x.abs()),
            Elementwise::LeakyRelu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a * x
                }
            }
            Elementwise::Elu(a) => {
                if x > 0.0 {
                    x
                } else {
                    a * x.exp_m1()
                }
            }
        }
    }

    fn slope(&self, x: f64, y: f64) -> f64 {
        match *self {
            Elementwise::Sin => x.cos(),
            Elementwise::Cos => -x.sin(),
            Elementwise::Silu => {
                let s = 1.0 / (1.0 + (-x).exp());
                s + x * s * (1.0 - s)
            }
            Elementwise::Softsign => 1.0 / (1.0 + x.abs()).powi(2),
            Elementwise::LeakyRelu(a) => {
                if x > 0.0 {
                    1.0
                } else {
                    a
                }
            }
            Elementwise::Elu(a) => {
                if x > 0.0 {
                    1.0
                } else {
                    y + a
                }
            }
        }
    }
}
