//! Vector operations (Table 11.1): each gives its forward function, its backward rule
//! (Jacobian-transpose times the incoming gradient) and its Jacobian-vector product.
//!
//! Values are matrices whose columns are the samples of a mini-batch (exercise 3): a layer of
//! width p over a batch of B samples is p × B, and one sample is the case B = 1.

use super::{Mat, Real};

/// A matrix shape, rows × columns.
pub type Dims = (usize, usize);

/// Why an operation refuses its arguments; the graph adds the node and its expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The wrong number of arguments; `expected` reads "2 arguments", "2 or more arguments".
    #[error("takes {expected}, got {got}")]
    Arity {
        /// What the operation takes, in words.
        expected: &'static str,
        /// How many it was given.
        got: usize,
    },
    /// Two arguments whose shapes break the operation's `rule`.
    #[error("{}", rule.describe(left, *left_shape, right, *right_shape))]
    Shapes {
        /// The first argument of the pair, as a user names it ("W", "argument 1").
        left: &'static str,
        /// Its shape.
        left_shape: Dims,
        /// The second argument of the pair.
        right: String,
        /// Its shape.
        right_shape: Dims,
        /// What the shapes had to satisfy.
        rule: ShapeRule,
    },
    /// An argument's value the operation cannot take (an index out of range), in words.
    #[error("{0}")]
    Value(String),
}

/// The shape rules of Table 11.1's operations and the elementwise ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeRule {
    /// Both the same shape.
    Equal,
    /// `left` (p × d) times `right`: `right` needs d rows.
    InnerDimension,
    /// `right` is the bias of `left` (p × d): it must be p × 1.
    Bias,
    /// The same number of columns (samples).
    Columns,
    /// Equal, or one a column or a 1 × 1 scalar the other can be stretched over.
    Broadcast,
}

impl ShapeRule {
    fn describe(self, left: &str, (lr, lc): Dims, right: &str, (rr, rc): Dims) -> String {
        match self {
            ShapeRule::Equal => format!("{left} is {lr}x{lc} but {right} is {rr}x{rc}"),
            ShapeRule::InnerDimension => format!("{left} is {lr}x{lc} but {right} has {rr} rows"),
            ShapeRule::Bias => format!("{right} is {rr}x{rc} but must be {lr}x1"),
            ShapeRule::Columns => format!("{left} has {lc} columns but {right} has {rc}"),
            ShapeRule::Broadcast => format!("shapes {lr}x{lc} and {rr}x{rc} do not broadcast"),
        }
    }
}

impl OpError {
    /// Argument `k` (from 0) breaks `rule` against argument 1.
    pub fn against_first(rule: ShapeRule, first: Dims, k: usize, shape: Dims) -> OpError {
        OpError::Shapes {
            left: "argument 1",
            left_shape: first,
            right: format!("argument {}", k + 1),
            right_shape: shape,
            rule,
        }
    }
}

/// An operation of a vector node, over the scalar type `T` (f64 by default, f32 for speed).
pub trait VectorOp<T: Real = f64>: Send + Sync {
    /// Name used in messages and drawings.
    fn name(&self) -> &'static str;

    /// Checks the number of arguments (`Err` says what is expected).
    fn check_arity(&self, n: usize) -> Result<(), OpError>;

    /// The output, or a message describing a shape mismatch.
    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError>;

    /// For each argument r with `wants[r]`, the vector-Jacobian product J_rᵀ `grad` (shaped like
    /// the argument); `None` where not wanted, or where the operation passes no gradient (taken
    /// as zero). `out` is the value `forward` returned.
    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>>;

    /// The Jacobian-vector product Σ_r J_r t_r, where a missing tangent is zero.
    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T>;

    /// `forward` written into `out`, reusing its allocation when the shape already fits: a tape
    /// keeps its buffers from one mini-batch to the next, and allocating fresh ones (with the
    /// page faults that follow) cost a tenth of bench_mlp's epoch. The default calls `forward`.
    fn forward_into(&self, args: &[&Mat<T>], out: &mut Mat<T>) -> Result<(), OpError> {
        *out = self.forward(args)?;
        Ok(())
    }

    /// `backward` delivered into gradient slots, one per argument, so that the first
    /// contribution can be written straight into the buffer it ends in. The default calls
    /// `backward` and moves or adds its results.
    fn backward_into(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, slots: &mut [GradSlot<'_, T>]) {
        let wants: Vec<bool> = slots.iter().map(GradSlot::wanted).collect();
        for ((slot, g), a) in slots.iter_mut().zip(self.backward(args, out, grad, &wants)).zip(args) {
            match g {
                Some(g) => slot.put(g),
                // An argument the operation passes no gradient to (a loss's target, a
                // condition, stop_gradient's argument) that a parameter still lies upstream of:
                // its contribution is zero, and a first contribution must say so.
                None if slot.wanted() => slot.put(Mat::zeros(a.nrows(), a.ncols())),
                None => {}
            }
        }
    }
}

/// Where a backward rule delivers one argument's gradient.
pub enum GradSlot<'a, T: Real> {
    /// Not wanted: no parameter (or wanted input) lies upstream of the argument.
    Skip,
    /// The first contribution in this pass: overwrite. The buffer holds a stale value from an
    /// earlier pass, possibly of another shape.
    Set(&'a mut Mat<T>),
    /// Add to the contributions of the children already visited.
    Add(&'a mut Mat<T>),
}

impl<T: Real> GradSlot<'_, T> {
    /// Whether the gradient is wanted at all.
    pub fn wanted(&self) -> bool {
        !matches!(self, GradSlot::Skip)
    }

    /// Delivers a computed gradient.
    pub fn put(&mut self, g: Mat<T>) {
        match self {
            GradSlot::Skip => {}
            GradSlot::Set(b) => **b = g,
            GradSlot::Add(b) => **b += g,
        }
    }

    /// Delivers the gradient that `write` stores into a buffer (setting its shape and every
    /// element): straight into the slot on the first contribution, otherwise into a temporary
    /// that is then added, so the rounding is that of summing separate contributions.
    pub fn write(&mut self, write: impl FnOnce(&mut Mat<T>)) {
        match self {
            GradSlot::Skip => {}
            GradSlot::Set(b) => write(b),
            GradSlot::Add(b) => {
                let mut t = Mat::<T>::zeros(0, 0);
                write(&mut t);
                **b += t;
            }
        }
    }
}

/// Gives `m` the shape rows × cols, keeping its allocation (and stale contents) when it has it.
pub(crate) fn reshape<T: Real>(m: &mut Mat<T>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = Mat::<T>::zeros(rows, cols);
    }
}

pub(crate) fn exactly(n: usize, k: usize, expected: &'static str) -> Result<(), OpError> {
    if n == k {
        Ok(())
    } else {
        Err(OpError::Arity { expected, got: n })
    }
}

fn same_shape<T: Real>(args: &[&Mat<T>]) -> Result<(), OpError> {
    let (r, c) = args[0].shape();
    match args.iter().position(|a| a.shape() != (r, c)) {
        None => Ok(()),
        Some(k) => Err(OpError::against_first(ShapeRule::Equal, (r, c), k, args[k].shape())),
    }
}

/// `W x + b`: arguments `[W (p×d), x (d×B)]` or `[W, x, b (p×1)]`, the bias added to every column.
/// Backward: gW = G xᵀ (the chapter's M = g zᵀ, summed over the batch), gx = Wᵀ G, gb = G 1.
pub struct Linear;

impl<T: Real> VectorOp<T> for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        if n == 2 || n == 3 {
            Ok(())
        } else {
            Err(OpError::Arity { expected: "2 or 3 arguments (W, x[, b])", got: n })
        }
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let mut out = Mat::<T>::zeros(0, 0);
        self.forward_into(args, &mut out)?;
        Ok(out)
    }

    fn forward_into(&self, args: &[&Mat<T>], out: &mut Mat<T>) -> Result<(), OpError> {
        let (w, x) = (args[0], args[1]);
        if w.ncols() != x.nrows() {
            return Err(OpError::Shapes {
                left: "W",
                left_shape: w.shape(),
                right: "x".into(),
                right_shape: x.shape(),
                rule: ShapeRule::InnerDimension,
            });
        }
        if let Some(b) = args.get(2) {
            if b.shape() != (w.nrows(), 1) {
                return Err(OpError::Shapes {
                    left: "W",
                    left_shape: w.shape(),
                    right: "b".into(),
                    right_shape: b.shape(),
                    rule: ShapeRule::Bias,
                });
            }
        }
        T::product_into(out, w, false, x, false);
        if let Some(b) = args.get(2) {
            add_to_columns(out.as_mut_slice(), b.as_slice());
        }
        Ok(())
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let mut bufs: Vec<Mat<T>> = wants.iter().map(|_| Mat::<T>::zeros(0, 0)).collect();
        let mut slots: Vec<GradSlot<'_, T>> =
            bufs.iter_mut().zip(wants).map(|(b, &w)| if w { GradSlot::Set(b) } else { GradSlot::Skip }).collect();
        self.backward_into(args, out, grad, &mut slots);
        drop(slots);
        bufs.into_iter().zip(wants).map(|(b, &w)| w.then_some(b)).collect()
    }

    fn backward_into(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, slots: &mut [GradSlot<'_, T>]) {
        let (w, x) = (args[0], args[1]);
        slots[0].write(|gw| T::product_into(gw, grad, false, x, true));
        slots[1].write(|gx| T::product_into(gx, w, true, grad, false));
        if let Some(slot) = slots.get_mut(2) {
            slot.write(|gb| {
                reshape(gb, grad.nrows(), 1);
                sum_columns(grad.as_slice(), gb.as_mut_slice());
            });
        }
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let (w, x) = (args[0], args[1]);
        let mut t = Mat::<T>::zeros(out.nrows(), out.ncols());
        if let Some(dw) = tangents[0] {
            t += T::product(dw, false, x, false);
        }
        if let Some(dx) = tangents[1] {
            t += T::product(w, false, dx, false);
        }
        if let Some(Some(db)) = tangents.get(2) {
            for mut col in t.column_iter_mut() {
                col += db.column(0);
            }
        }
        t
    }
}

/// Elementwise activations, with the derivative written in terms of the input `x` or the output
/// `y` as Table 11.1 does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// max(x, 0).
    Relu,
    /// x clipped to [-1, 1].
    #[serde(rename = "hardtanh")]
    HardTanh,
    /// x unchanged (a linear output).
    Identity,
}

impl Activation {
    /// φ(x).
    pub fn apply<T: Real>(self, x: T) -> T {
        let one = T::one();
        match self {
            Activation::Sigmoid => {
                if x >= T::zero() {
                    one / (one + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (one + e)
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Relu => {
                if x > T::zero() {
                    x
                } else {
                    T::zero()
                }
            }
            Activation::HardTanh => x.clamp(-one, one),
            Activation::Identity => x,
        }
    }

    /// φ'(x) given y = φ(x): y(1 - y), 1 - y², I(x > 0), I(-1 < x < 1), 1.
    pub fn derivative<T: Real>(self, x: T, y: T) -> T {
        let (zero, one) = (T::zero(), T::one());
        let indicator = |b: bool| if b { one } else { zero };
        match self {
            Activation::Sigmoid => y * (one - y),
            Activation::Tanh => one - y * y,
            Activation::Relu => indicator(x > zero),
            Activation::HardTanh => indicator(x > -one && x < one),
            Activation::Identity => one,
        }
    }

    /// The name used in configs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::HardTanh => "hardtanh",
            Activation::Identity => "identity",
        }
    }
}

impl<T: Real> VectorOp<T> for Activation {
    fn name(&self) -> &'static str {
        Activation::name(*self)
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let mut out = Mat::<T>::zeros(0, 0);
        self.forward_into(args, &mut out)?;
        Ok(out)
    }

    fn forward_into(&self, args: &[&Mat<T>], out: &mut Mat<T>) -> Result<(), OpError> {
        let x = args[0];
        reshape(out, x.nrows(), x.ncols());
        activate(*self, out.as_mut_slice(), x.as_slice());
        Ok(())
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn backward_into(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, slots: &mut [GradSlot<'_, T>]) {
        slots[0].write(|r| self.scale_by_derivative(args[0], out, grad, r));
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        // The Jacobian is diagonal, so J v and Jᵀ v are the same elementwise product.
        let Some(t) = tangents[0] else { return Mat::<T>::zeros(out.nrows(), out.ncols()) };
        let mut r = Mat::<T>::zeros(0, 0);
        self.scale_by_derivative(args[0], out, t, &mut r);
        r
    }
}

impl Activation {
    /// r = t ⊙ φ'(x) given y = φ(x): the diagonal Jacobian applied to `t`.
    fn scale_by_derivative<T: Real>(self, x: &Mat<T>, y: &Mat<T>, t: &Mat<T>, r: &mut Mat<T>) {
        reshape(r, t.nrows(), t.ncols());
        scale_by_derivative_slices(self, r.as_mut_slice(), t.as_slice(), x.as_slice(), y.as_slice());
    }
}

// The elementwise loops of the vector engine, each built for AVX2 too (`avx2_dispatch!`): the
// baseline build's two-lane SSE2 loops took a quarter of a bench_mlp epoch. One loop per
// activation, the match hoisted out of the element loop so the loops vectorise; each computes
// exactly `apply` and `derivative`.

#[inline(always)]
fn activate_body<T: Real>(act: Activation, ys: &mut [T], xs: &[T]) {
    #[inline(always)]
    fn each<T: Real>(ys: &mut [T], xs: &[T], f: impl Fn(T) -> T) {
        for (y, &x) in ys.iter_mut().zip(xs) {
            *y = f(x);
        }
    }
    match act {
        Activation::Relu => each(ys, xs, |x| Activation::Relu.apply(x)),
        Activation::HardTanh => each(ys, xs, |x| Activation::HardTanh.apply(x)),
        Activation::Identity => ys.copy_from_slice(xs),
        Activation::Sigmoid => each(ys, xs, |x| Activation::Sigmoid.apply(x)),
        Activation::Tanh => each(ys, xs, |x| Activation::Tanh.apply(x)),
    }
}

cg_core::avx2_dispatch!(fn activate<T: Real>(act: Activation, ys: &mut [T], xs: &[T]) => activate_body);

#[inline(always)]
fn scale_by_derivative_body<T: Real>(act: Activation, rs: &mut [T], ts: &[T], xs: &[T], ys: &[T]) {
    #[inline(always)]
    fn each<T: Real>(r: &mut [T], ts: &[T], xs: &[T], ys: &[T], f: impl Fn(T, T) -> T) {
        for (((r, &t), &x), &y) in r.iter_mut().zip(ts).zip(xs).zip(ys) {
            *r = t * f(x, y);
        }
    }
    match act {
        Activation::Relu => each(rs, ts, xs, ys, |x, y| Activation::Relu.derivative(x, y)),
        Activation::HardTanh => each(rs, ts, xs, ys, |x, y| Activation::HardTanh.derivative(x, y)),
        Activation::Identity => rs.copy_from_slice(ts),
        Activation::Sigmoid => each(rs, ts, xs, ys, |x, y| Activation::Sigmoid.derivative(x, y)),
        Activation::Tanh => each(rs, ts, xs, ys, |x, y| Activation::Tanh.derivative(x, y)),
    }
}

cg_core::avx2_dispatch!(
    fn scale_by_derivative_slices<T: Real>(act: Activation, rs: &mut [T], ts: &[T], xs: &[T], ys: &[T])
        => scale_by_derivative_body
);

/// Adds `b` to every column of the column-major `out` (columns of `b.len()`).
#[inline(always)]
fn add_to_columns_body<T: Real>(out: &mut [T], b: &[T]) {
    for col in out.chunks_exact_mut(b.len()) {
        for (o, &b) in col.iter_mut().zip(b) {
            *o += b;
        }
    }
}

cg_core::avx2_dispatch!(fn add_to_columns<T: Real>(out: &mut [T], b: &[T]) => add_to_columns_body);

/// `sums` = the sum of the columns of the column-major `g` (columns of `sums.len()`), added
/// column by column from zero (the order of nalgebra's `column_sum`).
#[inline(always)]
fn sum_columns_body<T: Real>(g: &[T], sums: &mut [T]) {
    sums.fill(T::zero());
    for col in g.chunks_exact(sums.len()) {
        for (s, &v) in sums.iter_mut().zip(col) {
            *s += v;
        }
    }
}

cg_core::avx2_dispatch!(fn sum_columns<T: Real>(g: &[T], sums: &mut [T]) => sum_columns_body);

/// Elementwise maximum of two or more same-shaped arguments (the max unit of Table 11.1): the
/// gradient goes to the first argument attaining the maximum, the others get 0.
pub struct Max;

impl Max {
    fn argmax<T: Real>(args: &[&Mat<T>], i: usize, j: usize) -> usize {
        let mut best = 0;
        for (k, a) in args.iter().enumerate().skip(1) {
            if a[(i, j)] > args[best][(i, j)] {
                best = k;
            }
        }
        best
    }
}

impl<T: Real> VectorOp<T> for Max {
    fn name(&self) -> &'static str {
        "max"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        if n >= 2 {
            Ok(())
        } else {
            Err(OpError::Arity { expected: "2 or more arguments", got: n })
        }
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        same_shape(args)?;
        Ok(Mat::from_fn(args[0].nrows(), args[0].ncols(), |i, j| args[Self::argmax(args, i, j)][(i, j)]))
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        (0..args.len())
            .map(|k| {
                wants[k].then(|| {
                    Mat::from_fn(out.nrows(), out.ncols(), |i, j| {
                        if Self::argmax(args, i, j) == k {
                            grad[(i, j)]
                        } else {
                            T::zero()
                        }
                    })
                })
            })
            .collect()
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        Mat::from_fn(out.nrows(), out.ncols(), |i, j| {
            tangents[Self::argmax(args, i, j)].map_or(T::zero(), |t| t[(i, j)])
        })
    }
}

/// Softmax of each column: y_k = exp(x_k) / Σ_r exp(x_r), computed after subtracting the column
/// maximum. Backward: gx = y ⊙ (g - (yᵀg) 1).
pub struct Softmax;

impl<T: Real> VectorOp<T> for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let mut y = args[0].clone();
        for mut col in y.column_iter_mut() {
            let m = col.max();
            col.apply(|v| *v = (*v - m).exp());
            let s = col.sum();
            col /= s;
        }
        Ok(y)
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        // The Jacobian diag(y) - y yᵀ is symmetric, so J v and Jᵀ v coincide.
        let Some(t) = tangents[0] else { return Mat::<T>::zeros(out.nrows(), out.ncols()) };
        let mut r = out.component_mul(t);
        for (j, mut col) in r.column_iter_mut().enumerate() {
            let s = col.sum();
            col -= out.column(j) * s;
        }
        r
    }
}

/// Elementwise sum of two or more same-shaped arguments (the join of a skip connection).
pub struct Add;

impl<T: Real> VectorOp<T> for Add {
    fn name(&self) -> &'static str {
        "add"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        VectorOp::<T>::check_arity(&Max, n)
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        same_shape(args)?;
        let mut out = args[0].clone();
        for a in &args[1..] {
            out += *a;
        }
        Ok(out)
    }

    fn backward(&self, _args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        wants.iter().map(|&w| w.then(|| grad.clone())).collect()
    }

    fn jvp(&self, _args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let mut t = Mat::<T>::zeros(out.nrows(), out.ncols());
        for d in tangents.iter().flatten() {
            t += *d;
        }
        t
    }
}

/// Elementwise product of two same-shaped arguments.
pub struct Mul;

impl<T: Real> VectorOp<T> for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        exactly(n, 2, "2 arguments")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        same_shape(args)?;
        Ok(args[0].component_mul(args[1]))
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| grad.component_mul(args[1])), wants[1].then(|| grad.component_mul(args[0]))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let mut t = Mat::<T>::zeros(out.nrows(), out.ncols());
        if let Some(da) = tangents[0] {
            t += da.component_mul(args[1]);
        }
        if let Some(db) = tangents[1] {
            t += args[0].component_mul(db);
        }
        t
    }
}

/// Stacks arguments with the same number of columns on top of each other.
pub struct Concat;

impl<T: Real> VectorOp<T> for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }

    fn check_arity(&self, n: usize) -> Result<(), OpError> {
        VectorOp::<T>::check_arity(&Max, n)
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, OpError> {
        let cols = args[0].ncols();
        if let Some(k) = args.iter().position(|a| a.ncols() != cols) {
            return Err(OpError::against_first(ShapeRule::Columns, args[0].shape(), k, args[k].shape()));
        }
        let rows = args.iter().map(|a| a.nrows()).sum();
        let mut out = Mat::<T>::zeros(rows, cols);
        let mut r0 = 0;
        for a in args {
            out.rows_mut(r0, a.nrows()).copy_from(*a);
            r0 += a.nrows();
        }
        Ok(out)
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let mut r0 = 0;
        args.iter()
            .zip(wants)
            .map(|(a, &w)| {
                let g = w.then(|| grad.rows(r0, a.nrows()).into_owned());
                r0 += a.nrows();
                g
            })
            .collect()
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        let mut t = Mat::<T>::zeros(out.nrows(), out.ncols());
        let mut r0 = 0;
        for (a, d) in args.iter().zip(tangents) {
            if let Some(d) = d {
                t.rows_mut(r0, a.nrows()).copy_from(*d);
            }
            r0 += a.nrows();
        }
        t
    }
}
