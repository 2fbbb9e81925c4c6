//! Vector operations (Table 11.1): each gives its forward function, its backward rule
//! (Jacobian-transpose times the incoming gradient) and its Jacobian-vector product.
//!
//! Values are matrices whose columns are the samples of a mini-batch (exercise 3): a layer of
//! width p over a batch of B samples is p × B, and one sample is the case B = 1.

use super::{Mat, Real};

/// An operation of a vector node, over the scalar type `T` (f64 by default, f32 for speed).
pub trait VectorOp<T: Real = f64>: Send + Sync {
    /// Name used in messages and drawings.
    fn name(&self) -> &'static str;

    /// Checks the number of arguments (`Err` says what is expected).
    fn check_arity(&self, n: usize) -> Result<(), String>;

    /// The output, or a message describing a shape mismatch.
    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String>;

    /// For each argument r with `wants[r]`, the vector-Jacobian product J_rᵀ `grad` (shaped like
    /// the argument); `None` where not wanted. `out` is the value `forward` returned.
    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>>;

    /// The Jacobian-vector product Σ_r J_r t_r, where a missing tangent is zero.
    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T>;
}

fn exactly(n: usize, k: usize, what: &str) -> Result<(), String> {
    if n == k {
        Ok(())
    } else {
        Err(format!("takes {what}, got {n}"))
    }
}

fn same_shape<T: Real>(args: &[&Mat<T>]) -> Result<(), String> {
    let (r, c) = args[0].shape();
    match args.iter().position(|a| a.shape() != (r, c)) {
        None => Ok(()),
        Some(k) => {
            Err(format!("argument 1 is {r}x{c} but argument {} is {}x{}", k + 1, args[k].nrows(), args[k].ncols()))
        }
    }
}

/// `W x + b`: arguments `[W (p×d), x (d×B)]` or `[W, x, b (p×1)]`, the bias added to every column.
/// Backward: gW = G xᵀ (the chapter's M = g zᵀ, summed over the batch), gx = Wᵀ G, gb = G 1.
pub struct Linear;

impl<T: Real> VectorOp<T> for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        if n == 2 || n == 3 {
            Ok(())
        } else {
            Err(format!("takes 2 or 3 arguments (W, x[, b]), got {n}"))
        }
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
        let (w, x) = (args[0], args[1]);
        if w.ncols() != x.nrows() {
            return Err(format!("W is {}x{} but x has {} rows", w.nrows(), w.ncols(), x.nrows()));
        }
        let mut out = T::product(w, false, x, false);
        if let Some(b) = args.get(2) {
            if b.shape() != (w.nrows(), 1) {
                return Err(format!("b is {}x{} but must be {}x1", b.nrows(), b.ncols(), w.nrows()));
            }
            for mut col in out.column_iter_mut() {
                col += b.column(0);
            }
        }
        Ok(out)
    }

    fn backward(&self, args: &[&Mat<T>], _out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        let (w, x) = (args[0], args[1]);
        let mut grads = vec![
            wants[0].then(|| T::product(grad, false, x, true)),
            wants[1].then(|| T::product(w, true, grad, false)),
        ];
        if args.len() == 3 {
            grads.push(wants[2].then(|| {
                let s = grad.column_sum();
                Mat::<T>::from_column_slice(s.nrows(), 1, s.as_slice())
            }));
        }
        grads
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    HardTanh,
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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
        // One loop per activation (the match hoisted out of the element loop, so the loops
        // vectorise); each computes exactly `apply`.
        let mut out = args[0].clone();
        let xs = out.as_mut_slice();
        match self {
            Activation::Relu => xs.iter_mut().for_each(|x| *x = Activation::Relu.apply(*x)),
            Activation::HardTanh => xs.iter_mut().for_each(|x| *x = Activation::HardTanh.apply(*x)),
            Activation::Identity => {}
            Activation::Sigmoid => xs.iter_mut().for_each(|x| *x = Activation::Sigmoid.apply(*x)),
            Activation::Tanh => xs.iter_mut().for_each(|x| *x = Activation::Tanh.apply(*x)),
        }
        Ok(out)
    }

    fn backward(&self, args: &[&Mat<T>], out: &Mat<T>, grad: &Mat<T>, wants: &[bool]) -> Vec<Option<Mat<T>>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn jvp(&self, args: &[&Mat<T>], out: &Mat<T>, tangents: &[Option<&Mat<T>>]) -> Mat<T> {
        // The Jacobian is diagonal, so J v and Jᵀ v are the same elementwise product.
        let Some(t) = tangents[0] else { return Mat::<T>::zeros(out.nrows(), out.ncols()) };
        let mut r = t.clone();
        let (xs, ys) = (args[0].as_slice(), out.as_slice());
        // The match hoisted out of the element loop, as in `forward`.
        fn each<T: Real>(r: &mut [T], xs: &[T], ys: &[T], f: impl Fn(T, T) -> T) {
            for ((r, &x), &y) in r.iter_mut().zip(xs).zip(ys) {
                *r *= f(x, y);
            }
        }
        let rs = r.as_mut_slice();
        match self {
            Activation::Relu => each(rs, xs, ys, |x, y| Activation::Relu.derivative(x, y)),
            Activation::HardTanh => each(rs, xs, ys, |x, y| Activation::HardTanh.derivative(x, y)),
            Activation::Identity => {}
            Activation::Sigmoid => each(rs, xs, ys, |x, y| Activation::Sigmoid.derivative(x, y)),
            Activation::Tanh => each(rs, xs, ys, |x, y| Activation::Tanh.derivative(x, y)),
        }
        r
    }
}

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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        if n >= 2 {
            Ok(())
        } else {
            Err(format!("takes 2 or more arguments, got {n}"))
        }
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        VectorOp::<T>::check_arity(&Max, n)
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 2, "2 arguments")
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
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

    fn check_arity(&self, n: usize) -> Result<(), String> {
        VectorOp::<T>::check_arity(&Max, n)
    }

    fn forward(&self, args: &[&Mat<T>]) -> Result<Mat<T>, String> {
        let cols = args[0].ncols();
        if let Some(k) = args.iter().position(|a| a.ncols() != cols) {
            return Err(format!("argument 1 has {cols} columns but argument {} has {}", k + 1, args[k].ncols()));
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
