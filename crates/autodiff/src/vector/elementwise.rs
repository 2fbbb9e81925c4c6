//! The operations a model written as expressions needs beyond Table 11.1's layer operations:
//! elementwise arithmetic that broadcasts a column vector (a bias) or a 1 × 1 scalar over a
//! batch, constants, more elementwise functions, transposition, the sum of all elements (for
//! penalties), and losses as nodes of the graph.

use super::ops::{exactly, Dims, OpError, ShapeRule};
use super::{Loss, Mat, Real, VectorOp};

/// How one argument's shape is stretched to the output's: a column repeated over the batch, a
/// row (one number per sample) repeated over the rows, a scalar everywhere, or nothing.
pub(super) fn broadcast_dims(a: Dims, b: Dims) -> Result<Dims, OpError> {
    let fits = |x: (usize, usize), to: (usize, usize)| {
        x == to || x == (1, 1) || (x.0 == to.0 && x.1 == 1) || (x.0 == 1 && x.1 == to.1)
    };
    if fits(a, b) {
        Ok(b)
    } else if fits(b, a) {
        Ok(a)
    } else {
        Err(OpError::against_first(ShapeRule::Broadcast, a, 1, b))
    }
}

/// Element (i, j) of `m` stretched to a larger shape.
pub(super) fn at<T: Real>(m: &Mat<T>, i: usize, j: usize) -> T {
    m[(if m.nrows() == 1 { 0 } else { i }, if m.ncols() == 1 { 0 } else { j })]
}

/// `g` (the output's shape) summed down to `shape` (the argument's, before broadcasting).
pub(super) fn reduce_to<T: Real>(g: &Mat<T>, shape: (usize, usize)) -> Mat<T> {
    if g.shape() == shape {
        return g.clone();
    }
    let mut out = Mat::<T>::zeros(shape.0, shape.1);
    for j in 0..g.ncols() {
        for i in 0..g.nrows() {
            let (r, c) = (if shape.0 == 1 { 0 } else { i }, if shape.1 == 1 { 0 } else { j });
            out[(r, c)] += g[(i, j)];
        }
    }
    out
}

/// An elementwise binary operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// a + b.
    Plus,
    /// a - b.
    Minus,
    /// a * b, elementwise.
    Times,
    /// a / b, elementwise.
    Divide,
    /// The smaller of a and b (the gradient goes to a on a tie).
    Min,
    /// The larger of a and b (the gradient goes to a on a tie).
    Max,
}

impl Arith {
    fn apply<T: Real>(self, x: T, y: T) -> T {
        match self {
            Arith::Plus => x + y,
            Arith::Minus => x - y,
            Arith::Times => x * y,
            Arith::Divide => x / y,
            Arith::Min => {
                if y < x {
                    y
                } else {
                    x
                }
            }
            Arith::Max => {
                if y > x {
                    y
                } else {
                    x
                }
            }
        }
    }

    /// (∂/∂a, ∂/∂b) at (x, y).
    fn partials<T: Real>(self, x: T, y: T) -> (T, T) {
        let (one, zero) = (T::one(), T::zero());
        match self {
            Arith::Plus => (one, one),
            Arith::Minus => (one, -one),
            Arith::Times => (y, x),
            Arith::Divide => (one / y, -x / (y * y)),
            Arith::Min => {
                if y < x {
                    (zero, one)
                } else {
                    (one, zero)
                }
            }
            Arith::Max => {
                if y > x {
                    (zero, one)
                } else {
                    (one, zero)
                }
            }
        }
    }
}

/// `a ∘ b` elementwise for ∘ in + - * / min max, where either side may be a column (p × 1,
/// repeated over the batch's columns), a row (1 × batch, repeated over the rows) or a scalar
/// (1 × 1) against a larger matrix. Backward sums the gradient over the repeated positions.
pub struct Broadcast(pub Arith);

impl<T: Real> VectorOp<T> for Broadcast {
    fn name(&self) -> &'static str {
        match self.0 {
            Arith::Plus => "+",
            Arith::Minus => "-",
            Arith::Times => "*",
            Arith::Divide => "/",
            Arith::Min => "min",
            Arith::Max => "max",
        }
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 2, "2 arguments")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (a, b) = (args[0], args[1]);
        let (r, c) = broadcast_dims(a.shape(), b.shape())?;
        Ok(Mat::from_fn(r, c, |i, j| self.0.apply(at(a, i, j), at(b, i, j))))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let (a, b) = (args[0], args[1]);
        let (r, c) = out.shape();
        let ga = wants[0].then(|| {
            let g = match self.0 {
                Arith::Plus | Arith::Minus => grad.clone(),
                Arith::Times => Mat::from_fn(r, c, |i, j| grad[(i, j)] * at(b, i, j)),
                _ => Mat::from_fn(r, c, |i, j| grad[(i, j)] * self.0.partials(at(a, i, j), at(b, i, j)).0),
            };
            reduce_to(&g, a.shape())
        });
        let gb = wants[1].then(|| {
            let g = match self.0 {
                Arith::Plus => grad.clone(),
                Arith::Minus => -grad,
                Arith::Times => Mat::from_fn(r, c, |i, j| grad[(i, j)] * at(a, i, j)),
                _ => Mat::from_fn(r, c, |i, j| grad[(i, j)] * self.0.partials(at(a, i, j), at(b, i, j)).1),
            };
            reduce_to(&g, b.shape())
        });
        vec![ga, gb]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let (a, b) = (args[0], args[1]);
        let zero = |_: &Mat<T>| T::zero();
        Mat::from_fn(out.nrows(), out.ncols(), |i, j| {
            let da = tangents[0].map_or_else(|| zero(a), |t| at(t, i, j));
            let db = tangents[1].map_or_else(|| zero(b), |t| at(t, i, j));
            match self.0 {
                Arith::Plus => da + db,
                Arith::Minus => da - db,
                Arith::Times => da * at(b, i, j) + at(a, i, j) * db,
                _ => {
                    let (pa, pb) = self.0.partials(at(a, i, j), at(b, i, j));
                    da * pa + db * pb
                }
            }
        })
    }
}

/// `scale · x + shift` elementwise: the numbers of an expression (`2 * h`, `1 - h`).
pub struct Affine {
    /// The factor a of a x + b.
    pub scale: f64,
    /// The offset b of a x + b.
    pub shift: f64,
}

impl<T: Real> VectorOp<T> for Affine {
    fn name(&self) -> &'static str {
        "affine"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (s, d) = (T::cast(self.scale), T::cast(self.shift));
        Ok(args[0].map(|x| s * x + d))
    }

    fn backward(&self, _args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| grad * T::cast(self.scale))]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        tangents[0].map_or_else(|| Mat::zeros(out.nrows(), out.ncols()), |t| t * T::cast(self.scale))
    }
}

/// Elementwise functions beyond the layer activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    /// e^x.
    Exp,
    /// The natural logarithm.
    Log,
    /// |x|.
    Abs,
    /// log(1 + e^x).
    Softplus,
}

impl Unary {
    fn apply<T: Real>(self, x: T) -> T {
        match self {
            Unary::Exp => x.exp(),
            Unary::Log => x.ln(),
            Unary::Abs => x.abs(),
            // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), stable for large |x|.
            Unary::Softplus => x.max(T::zero()) + (T::one() + (-x.abs()).exp()).ln(),
        }
    }

    /// dy/dx at x (with y = f(x)); abs'(0) = 0.
    fn derivative<T: Real>(self, x: T, y: T) -> T {
        match self {
            Unary::Exp => y,
            Unary::Log => T::one() / x,
            Unary::Abs => {
                if x > T::zero() {
                    T::one()
                } else if x < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                }
            }
            Unary::Softplus => T::one() / (T::one() + (-x).exp()),
        }
    }

    /// The function's name as the model language writes it.
    pub fn name(self) -> &'static str {
        match self {
            Unary::Exp => "exp",
            Unary::Log => "log",
            Unary::Abs => "abs",
            Unary::Softplus => "softplus",
        }
    }
}

impl<T: Real> VectorOp<T> for Unary {
    fn name(&self) -> &'static str {
        Unary::name(*self)
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(args[0].map(|x| self.apply(x)))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let x = args[0];
        vec![wants[0]
            .then(|| Mat::from_fn(x.nrows(), x.ncols(), |i, j| grad[(i, j)] * self.derivative(x[(i, j)], out[(i, j)])))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let x = args[0];
        match tangents[0] {
            Some(t) => Mat::from_fn(x.nrows(), x.ncols(), |i, j| t[(i, j)] * self.derivative(x[(i, j)], out[(i, j)])),
            None => Mat::zeros(out.nrows(), out.ncols()),
        }
    }
}

/// Aᵀ.
pub struct Transpose;

impl<T: Real> VectorOp<T> for Transpose {
    fn name(&self) -> &'static str {
        "transpose"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(args[0].transpose())
    }

    fn backward(&self, _args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| grad.transpose())]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        tangents[0].map_or_else(|| Mat::zeros(out.nrows(), out.ncols()), |t| t.transpose())
    }
}

/// The sum of every element, as a 1 × 1 matrix (penalties: `sum(W * W)`).
pub struct SumAll;

impl<T: Real> VectorOp<T> for SumAll {
    fn name(&self) -> &'static str {
        "sum"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        Ok(Mat::from_element(1, 1, args[0].sum()))
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| Mat::from_element(args[0].nrows(), args[0].ncols(), grad[(0, 0)]))]
    }

    fn jvp(&self, _args: &[&Mat<T>], _out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        Mat::from_element(1, 1, tangents[0].map_or(T::zero(), |t| t.sum()))
    }
}

/// A loss as a node: arguments `[prediction, target, n]` with `n` a 1 × 1 node holding the size
/// of the whole mini-batch; the value (1 × 1) is the loss summed over the prediction's columns
/// and divided by n, so the parts of a batch add up to the batch's mean
/// ([`Loss::value_and_grad_of_part`]). The target and n get no gradient.
pub struct LossNode(pub Loss);

impl<T: Real> VectorOp<T> for LossNode {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 3, "3 arguments (prediction, target, batch size)")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let (o, y, n) = (args[0], args[1], args[2]);
        if o.shape() != y.shape() {
            return Err(OpError::Shapes {
                left: "the prediction",
                left_shape: o.shape(),
                right: "the target".into(),
                right_shape: y.shape(),
                rule: ShapeRule::Equal,
            });
        }
        let batch = n[(0, 0)].as_f64().round() as usize;
        Ok(Mat::from_element(1, 1, T::cast(self.0.value_and_grad_of_part(o, y, batch.max(1)).0)))
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let batch = args[2][(0, 0)].as_f64().round() as usize;
        let go = wants[0].then(|| {
            let seed = self.0.value_and_grad_of_part(args[0], args[1], batch.max(1)).1;
            let g = grad[(0, 0)];
            // The loss is usually the whole objective (g = 1): keep its gradient's bits exactly.
            if g == T::one() {
                seed
            } else {
                seed * g
            }
        });
        vec![go, None, None]
    }

    fn jvp(&self, args: &[&Mat<T>], _out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let batch = args[2][(0, 0)].as_f64().round() as usize;
        let Some(t) = tangents[0] else { return Mat::zeros(1, 1) };
        let seed = self.0.value_and_grad_of_part(args[0], args[1], batch.max(1)).1;
        Mat::from_element(1, 1, seed.component_mul(t).sum())
    }
}
