//! Vector operations (Table 11.1): each gives its forward function, its backward rule
//! (Jacobian-transpose times the incoming gradient) and its Jacobian-vector product.
//!
//! Values are matrices whose columns are the samples of a mini-batch (exercise 3): a layer of
//! width p over a batch of B samples is p × B, and one sample is the case B = 1.

use nalgebra::DMatrix;

use super::gemm::product;

/// A node value: features × batch.
pub type Mat = DMatrix<f64>;

/// An operation of a vector node.
pub trait VectorOp: Send + Sync {
    /// Name used in messages and drawings.
    fn name(&self) -> &'static str;

    /// Checks the number of arguments (`Err` says what is expected).
    fn check_arity(&self, n: usize) -> Result<(), String>;

    /// The output, or a message describing a shape mismatch.
    fn forward(&self, args: &[&Mat]) -> Result<Mat, String>;

    /// For each argument r with `wants[r]`, the vector-Jacobian product J_rᵀ `grad` (shaped like
    /// the argument); `None` where not wanted. `out` is the value `forward` returned.
    fn backward(&self, args: &[&Mat], out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>>;

    /// The Jacobian-vector product Σ_r J_r t_r, where a missing tangent is zero.
    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat;
}

fn exactly(n: usize, k: usize, what: &str) -> Result<(), String> {
    if n == k {
        Ok(())
    } else {
        Err(format!("takes {what}, got {n}"))
    }
}

fn same_shape(args: &[&Mat]) -> Result<(), String> {
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

impl VectorOp for Linear {
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

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        let (w, x) = (args[0], args[1]);
        if w.ncols() != x.nrows() {
            return Err(format!("W is {}x{} but x has {} rows", w.nrows(), w.ncols(), x.nrows()));
        }
        let mut out = product(w, false, x, false);
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

    fn backward(&self, args: &[&Mat], _out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        let (w, x) = (args[0], args[1]);
        let mut grads = vec![wants[0].then(|| product(grad, false, x, true)), wants[1].then(|| product(w, true, grad, false))];
        if args.len() == 3 {
            grads.push(wants[2].then(|| {
                let s = grad.column_sum();
                Mat::from_column_slice(s.nrows(), 1, s.as_slice())
            }));
        }
        grads
    }

    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        let (w, x) = (args[0], args[1]);
        let mut t = Mat::zeros(out.nrows(), out.ncols());
        if let Some(dw) = tangents[0] {
            t += product(dw, false, x, false);
        }
        if let Some(dx) = tangents[1] {
            t += product(w, false, dx, false);
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
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Sigmoid => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::HardTanh => x.clamp(-1.0, 1.0),
            Activation::Identity => x,
        }
    }

    /// φ'(x) given y = φ(x): y(1 - y), 1 - y², I(x > 0), I(-1 < x < 1), 1.
    pub fn derivative(self, x: f64, y: f64) -> f64 {
        match self {
            Activation::Sigmoid => y * (1.0 - y),
            Activation::Tanh => 1.0 - y * y,
            Activation::Relu => f64::from(u8::from(x > 0.0)),
            Activation::HardTanh => f64::from(u8::from(x > -1.0 && x < 1.0)),
            Activation::Identity => 1.0,
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

impl VectorOp for Activation {
    fn name(&self) -> &'static str {
        Activation::name(*self)
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        Ok(args[0].map(|x| self.apply(x)))
    }

    fn backward(&self, args: &[&Mat], out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        // The Jacobian is diagonal, so J v and Jᵀ v are the same elementwise product.
        match tangents[0] {
            Some(t) => {
                Mat::from_fn(out.nrows(), out.ncols(), |i, j| t[(i, j)] * self.derivative(args[0][(i, j)], out[(i, j)]))
            }
            None => Mat::zeros(out.nrows(), out.ncols()),
        }
    }
}

/// Elementwise maximum of two or more same-shaped arguments (the max unit of Table 11.1): the
/// gradient goes to the first argument attaining the maximum, the others get 0.
pub struct Max;

impl Max {
    fn argmax(args: &[&Mat], i: usize, j: usize) -> usize {
        let mut best = 0;
        for (k, a) in args.iter().enumerate().skip(1) {
            if a[(i, j)] > args[best][(i, j)] {
                best = k;
            }
        }
        best
    }
}

impl VectorOp for Max {
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

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        same_shape(args)?;
        Ok(Mat::from_fn(args[0].nrows(), args[0].ncols(), |i, j| args[Self::argmax(args, i, j)][(i, j)]))
    }

    fn backward(&self, args: &[&Mat], out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        (0..args.len())
            .map(|k| {
                wants[k].then(|| {
                    Mat::from_fn(out.nrows(), out.ncols(), |i, j| {
                        if Self::argmax(args, i, j) == k {
                            grad[(i, j)]
                        } else {
                            0.0
                        }
                    })
                })
            })
            .collect()
    }

    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        Mat::from_fn(out.nrows(), out.ncols(), |i, j| tangents[Self::argmax(args, i, j)].map_or(0.0, |t| t[(i, j)]))
    }
}

/// Softmax of each column: y_k = exp(x_k) / Σ_r exp(x_r), computed after subtracting the column
/// maximum. Backward: gx = y ⊙ (g - (yᵀg) 1).
pub struct Softmax;

impl VectorOp for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 1, "1 argument")
    }

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        let mut y = args[0].clone();
        for mut col in y.column_iter_mut() {
            let m = col.max();
            col.apply(|v| *v = (*v - m).exp());
            let s = col.sum();
            col /= s;
        }
        Ok(y)
    }

    fn backward(&self, args: &[&Mat], out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        vec![wants[0].then(|| self.jvp(args, out, &[Some(grad)]))]
    }

    fn jvp(&self, _args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        // The Jacobian diag(y) - y yᵀ is symmetric, so J v and Jᵀ v coincide.
        let Some(t) = tangents[0] else { return Mat::zeros(out.nrows(), out.ncols()) };
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

impl VectorOp for Add {
    fn name(&self) -> &'static str {
        "add"
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        Max.check_arity(n)
    }

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        same_shape(args)?;
        let mut out = args[0].clone();
        for a in &args[1..] {
            out += *a;
        }
        Ok(out)
    }

    fn backward(&self, _args: &[&Mat], _out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        wants.iter().map(|&w| w.then(|| grad.clone())).collect()
    }

    fn jvp(&self, _args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        let mut t = Mat::zeros(out.nrows(), out.ncols());
        for d in tangents.iter().flatten() {
            t += *d;
        }
        t
    }
}

/// Elementwise product of two same-shaped arguments.
pub struct Mul;

impl VectorOp for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        exactly(n, 2, "2 arguments")
    }

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        same_shape(args)?;
        Ok(args[0].component_mul(args[1]))
    }

    fn backward(&self, args: &[&Mat], _out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
        vec![wants[0].then(|| grad.component_mul(args[1])), wants[1].then(|| grad.component_mul(args[0]))]
    }

    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        let mut t = Mat::zeros(out.nrows(), out.ncols());
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

impl VectorOp for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }

    fn check_arity(&self, n: usize) -> Result<(), String> {
        Max.check_arity(n)
    }

    fn forward(&self, args: &[&Mat]) -> Result<Mat, String> {
        let cols = args[0].ncols();
        if let Some(k) = args.iter().position(|a| a.ncols() != cols) {
            return Err(format!("argument 1 has {cols} columns but argument {} has {}", k + 1, args[k].ncols()));
        }
        let rows = args.iter().map(|a| a.nrows()).sum();
        let mut out = Mat::zeros(rows, cols);
        let mut r0 = 0;
        for a in args {
            out.rows_mut(r0, a.nrows()).copy_from(*a);
            r0 += a.nrows();
        }
        Ok(out)
    }

    fn backward(&self, args: &[&Mat], _out: &Mat, grad: &Mat, wants: &[bool]) -> Vec<Option<Mat>> {
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

    fn jvp(&self, args: &[&Mat], out: &Mat, tangents: &[Option<&Mat>]) -> Mat {
        let mut t = Mat::zeros(out.nrows(), out.ncols());
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
