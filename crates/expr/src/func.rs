//! The one-argument functions of the language, with their derivatives.

use cg_core::numeric::{sigmoid, softplus};

/// A one-argument function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// The sine.
    Sin,
    /// The cosine.
    Cos,
    /// The tangent.
    Tan,
    /// e^x.
    Exp,
    /// The natural logarithm.
    Log,
    /// The square root.
    Sqrt,
    /// The hyperbolic tangent.
    Tanh,
    /// 1 / (1 + e^-x).
    Sigmoid,
    /// max(x, 0).
    Relu,
    /// |x|.
    Abs,
    /// log(1 + e^x).
    Softplus,
    /// x clipped to [-1, 1].
    Hardtanh,
}

impl Func {
    /// Every function, for listing in error messages.
    pub const ALL: [Func; 12] = [
        Func::Sin,
        Func::Cos,
        Func::Tan,
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Tanh,
        Func::Sigmoid,
        Func::Relu,
        Func::Abs,
        Func::Softplus,
        Func::Hardtanh,
    ];

    /// The function's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Tanh => "tanh",
            Func::Sigmoid => "sigmoid",
            Func::Relu => "relu",
            Func::Abs => "abs",
            Func::Softplus => "softplus",
            Func::Hardtanh => "hardtanh",
        }
    }

    /// The function with this name.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// f(x). `log` is the natural logarithm; `sigmoid` and `softplus` are written so that they do
    /// not overflow for large |x|.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Exp => x.exp(),
            Func::Log => x.ln(),
            Func::Sqrt => x.sqrt(),
            Func::Tanh => x.tanh(),
            Func::Sigmoid => sigmoid(x),
            Func::Relu => {
                if x > 0.0 || x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            Func::Abs => x.abs(),
            Func::Softplus => softplus(x),
            Func::Hardtanh => {
                if x.is_nan() {
                    x
                } else {
                    x.clamp(-1.0, 1.0)
                }
            }
        }
    }

    /// f'(x), given `y = f(x)` (several derivatives are cheapest in terms of the value).
    pub fn derivative(self, x: f64, y: f64) -> f64 {
        match self {
            Func::Sin => x.cos(),
            Func::Cos => -x.sin(),
            Func::Tan => 1.0 + y * y,
            Func::Exp => y,
            Func::Log => 1.0 / x,
            Func::Sqrt => 0.5 / y,
            Func::Tanh => 1.0 - y * y,
            Func::Sigmoid => y * (1.0 - y),
            Func::Relu => step(x > 0.0, x),
            Func::Abs => {
                if x.is_nan() {
                    x
                } else if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Func::Softplus => sigmoid(x),
            Func::Hardtanh => step(x > -1.0 && x < 1.0, x),
        }
    }
}

/// 1 or 0, but NaN stays NaN so that a NaN argument is still reported.
fn step(on: bool, x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if on {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed-form derivatives, written independently of `derivative` (from a calculus table).
    fn table(f: Func, x: f64) -> f64 {
        match f {
            Func::Sin => x.cos(),
            Func::Cos => -x.sin(),
            Func::Tan => 1.0 / (x.cos() * x.cos()),
            Func::Exp => x.exp(),
            Func::Log => 1.0 / x,
            Func::Sqrt => 1.0 / (2.0 * x.sqrt()),
            Func::Tanh => 1.0 / (x.cosh() * x.cosh()),
            Func::Sigmoid => x.exp() / ((1.0 + x.exp()) * (1.0 + x.exp())),
            Func::Relu => (x > 0.0) as u8 as f64,
            Func::Abs => x.signum(),
            Func::Softplus => 1.0 / (1.0 + (-x).exp()),
            Func::Hardtanh => (x.abs() < 1.0) as u8 as f64,
        }
    }

    #[test]
    fn every_derivative_matches_the_table_and_central_differences() {
        // Points away from kinks; log and sqrt need x > 0.
        for f in Func::ALL {
            for &x in &[0.3, 0.7, 1.3, 2.1, -0.4, -1.7] {
                if matches!(f, Func::Log | Func::Sqrt) && x <= 0.0 {
                    continue;
                }
                let d = f.derivative(x, f.apply(x));
                let want = table(f, x);
                assert!((d - want).abs() <= 1e-14 * (1.0 + want.abs()), "{} at {x}: {d} vs {want}", f.name());
                // Central difference: truncation error h^2 |f'''| / 6 ~ 1e-10 with h = 1e-5.
                let h = 1e-5;
                let fd = (f.apply(x + h) - f.apply(x - h)) / (2.0 * h);
                assert!((d - fd).abs() <= 1e-8 * (1.0 + d.abs()), "{} at {x}: {d} vs fd {fd}", f.name());
            }
        }
    }

    #[test]
    fn values_match_their_definitions() {
        assert_eq!(Func::Relu.apply(-2.0), 0.0);
        assert_eq!(Func::Hardtanh.apply(3.0), 1.0);
        assert_eq!(Func::Hardtanh.apply(-3.0), -1.0);
        assert!((Func::Sigmoid.apply(0.0) - 0.5).abs() < 1e-16);
        assert!((Func::Softplus.apply(1.0) - (1.0 + 1f64.exp()).ln()).abs() < 1e-15);
        // The stable forms do not overflow where the naive ones do.
        assert_eq!(Func::Sigmoid.apply(-800.0), 0.0);
        assert_eq!(Func::Softplus.apply(800.0), 800.0);
        assert!(Func::Relu.apply(f64::NAN).is_nan());
    }

    #[test]
    fn kinks_use_the_documented_subgradients() {
        assert_eq!(Func::Relu.derivative(0.0, 0.0), 0.0);
        assert_eq!(Func::Abs.derivative(0.0, 0.0), 0.0);
        assert_eq!(Func::Hardtanh.derivative(1.0, 1.0), 0.0);
        assert_eq!(Func::Hardtanh.derivative(-1.0, -1.0), 0.0);
    }
}
