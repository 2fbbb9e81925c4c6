//! Running the compiled program: forwards for the value, backwards for the partials.

use cg_core::LocalFunction;

use crate::{Expr, Op, Single};

impl Expr {
    /// Fills `vals[k]` with the value of op `k`.
    fn forward(&self, args: &[f64], vals: &mut [f64]) {
        for (k, op) in self.ops.iter().enumerate() {
            vals[k] = match *op {
                Op::Const(c) => c,
                Op::Var(i) => args[i as usize],
                Op::Neg(a) => -vals[a as usize],
                Op::Add(a, b) => vals[a as usize] + vals[b as usize],
                Op::Sub(a, b) => vals[a as usize] - vals[b as usize],
                Op::Mul(a, b) => vals[a as usize] * vals[b as usize],
                Op::Div(a, b) => vals[a as usize] / vals[b as usize],
                Op::Pow(a, b) => vals[a as usize].powf(vals[b as usize]),
                Op::Call(f, a) => f.apply(vals[a as usize]),
                Op::Max(s, n) => vals[self.extremum(s, n, vals, |v, best| v > best)],
                Op::Min(s, n) => vals[self.extremum(s, n, vals, |v, best| v < best)],
            };
        }
    }

    /// The op index of the first operand that attains the extremum; a NaN operand wins so that
    /// the NaN is reported instead of silently dropped (`f64::max` would drop it).
    fn extremum(&self, start: u32, len: u32, vals: &[f64], better: fn(f64, f64) -> bool) -> usize {
        let operands = &self.lists[start as usize..(start + len) as usize];
        let mut best = operands[0] as usize;
        for &a in &operands[1..] {
            let v = vals[a as usize];
            if vals[best].is_nan() {
                break;
            }
            if v.is_nan() || better(v, vals[best]) {
                best = a as usize;
            }
        }
        best
    }
}

impl LocalFunction for Expr {
    fn arity(&self) -> usize {
        self.vars.len()
    }

    fn eval(&self, args: &[f64], scratch: &mut Vec<f64>) -> f64 {
        match self.single {
            Some(Single::Call(f)) => return f.apply(args[0]),
            Some(Single::Binary(op)) => return op.apply(args[0], args[1]).0,
            Some(Single::CallOf(f, op)) => return f.apply(op.apply(args[0], args[1]).0),
            None => {}
        }
        let n = self.ops.len();
        scratch.resize(n, 0.0);
        self.forward(args, &mut scratch[..n]);
        scratch[n - 1]
    }

    fn eval_with_partials(&self, args: &[f64], partials: &mut [f64], scratch: &mut Vec<f64>) -> f64 {
        match self.single {
            Some(Single::Call(f)) => {
                let y = f.apply(args[0]);
                partials[0] = f.derivative(args[0], y);
                return y;
            }
            Some(Single::Binary(op)) => {
                let (y, da, db) = op.apply(args[0], args[1]);
                partials[0] = da;
                partials[1] = db;
                return y;
            }
            Some(Single::CallOf(f, op)) => {
                let (u, da, db) = op.apply(args[0], args[1]);
                let y = f.apply(u);
                let dy = f.derivative(u, y);
                partials[0] = dy * da;
                partials[1] = dy * db;
                return y;
            }
            None => {}
        }
        let n = self.ops.len();
        scratch.resize(2 * n, 0.0);
        let (vals, adj) = scratch.split_at_mut(n);
        self.forward(args, vals);
        partials.fill(0.0);
        adj[n - 1] = 1.0;
        // The program is a parse tree: every op but the root feeds exactly one later op, so its
        // adjoint is *set* by that op (no zeroing pass, no accumulation); only the variables,
        // which may occur several times, accumulate into `partials`. Constant ops are skipped:
        // their derivative is not needed and may not exist (`ln` of a negative base under a
        // constant exponent).
        for k in (0..n).rev() {
            if !self.live[k] {
                continue;
            }
            let g = adj[k];
            match self.ops[k] {
                Op::Const(_) => {}
                Op::Var(i) => partials[i as usize] += g,
                Op::Neg(a) => adj[a as usize] = -g,
                Op::Add(a, b) => {
                    adj[a as usize] = g;
                    adj[b as usize] = g;
                }
                Op::Sub(a, b) => {
                    adj[a as usize] = g;
                    adj[b as usize] = -g;
                }
                Op::Mul(a, b) => {
                    adj[a as usize] = g * vals[b as usize];
                    adj[b as usize] = g * vals[a as usize];
                }
                Op::Div(a, b) => {
                    let (x, y) = (vals[a as usize], vals[b as usize]);
                    adj[a as usize] = g / y;
                    adj[b as usize] = -g * x / (y * y);
                }
                Op::Pow(a, b) => {
                    let (x, p) = (vals[a as usize], vals[b as usize]);
                    if self.live[a as usize] {
                        adj[a as usize] = g * p * x.powf(p - 1.0);
                    }
                    if self.live[b as usize] {
                        adj[b as usize] = g * vals[k] * x.ln();
                    }
                }
                Op::Call(f, a) => adj[a as usize] = g * f.derivative(vals[a as usize], vals[k]),
                Op::Max(s, len) | Op::Min(s, len) => {
                    let best = match self.ops[k] {
                        Op::Max(..) => self.extremum(s, len, vals, |v, b| v > b),
                        _ => self.extremum(s, len, vals, |v, b| v < b),
                    };
                    for &a in &self.lists[s as usize..(s + len) as usize] {
                        adj[a as usize] = if a as usize == best { g } else { 0.0 };
                    }
                }
            }
        }
        vals[n - 1]
    }

    fn describe(&self) -> String {
        self.source.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eval(src: &str, args: &[f64]) -> (f64, Vec<f64>) {
        let e = Expr::parse(src).unwrap();
        let mut partials = vec![0.0; e.arity()];
        let v = e.eval_with_partials(args, &mut partials, &mut Vec::new());
        assert_eq!(v.to_bits(), e.eval(args, &mut Vec::new()).to_bits(), "{src}: eval and eval_with_partials disagree");
        (v, partials)
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(eval("-2^2", &[]).0, -4.0);
        assert_eq!(eval("2^3^2", &[]).0, 512.0);
        assert_eq!(eval("1 - 2 - 3", &[]).0, -4.0);
        assert_eq!(eval("8 / 4 / 2", &[]).0, 1.0);
        assert_eq!(eval("2 * -3 + 1", &[]).0, -5.0);
        assert_eq!(eval("2^-1", &[]).0, 0.5);
        assert_eq!(eval("(1 + 2) * 3", &[]).0, 9.0);
        assert_eq!(eval("pi", &[]).0, std::f64::consts::PI);
        assert_eq!(eval("log(e)", &[]).0, 1.0);
    }

    #[test]
    fn repeated_names_sum_their_partials() {
        // a * a at a = 3: value 9, derivative 2a = 6.
        assert_eq!(eval("a * a", &[3.0]), (9.0, vec![6.0]));
        // a * b + a at (2, 5): d/da = b + 1 = 6, d/db = a = 2.
        assert_eq!(eval("a * b + a", &[2.0, 5.0]), (12.0, vec![6.0, 2.0]));
    }

    #[test]
    fn operator_partials_match_calculus() {
        // x / y at (3, 4): d/dx = 1/y = 0.25, d/dy = -x/y^2 = -0.1875.
        assert_eq!(eval("x / y", &[3.0, 4.0]).1, vec![0.25, -0.1875]);
        // x ^ y at (2, 3): d/dx = y x^(y-1) = 12, d/dy = x^y ln x = 8 ln 2.
        let (v, p) = eval("x ^ y", &[2.0, 3.0]);
        assert_eq!((v, p[0]), (8.0, 12.0));
        assert!((p[1] - 8.0 * 2f64.ln()).abs() < 1e-15);
        // A negative base under a constant exponent has a derivative; ln of the base is not used.
        assert_eq!(eval("x ^ 2", &[-3.0]), (9.0, vec![-6.0]));
        assert_eq!(eval("x - y", &[1.0, 1.0]).1, vec![1.0, -1.0]);
        assert_eq!(eval("-x", &[1.0]).1, vec![-1.0]);
    }

    #[test]
    fn max_and_min_pass_the_derivative_to_the_first_extremum() {
        assert_eq!(eval("max(a, b, c)", &[1.0, 3.0, 3.0]), (3.0, vec![0.0, 1.0, 0.0]));
        assert_eq!(eval("min(a, b)", &[-1.0, 2.0]), (-1.0, vec![1.0, 0.0]));
        // max(a, 2*a) at a=1 is 2a: derivative 2, through the second operand.
        assert_eq!(eval("max(a, 2*a)", &[1.0]), (2.0, vec![2.0]));
        assert!(eval("max(a, b)", &[f64::NAN, 1.0]).0.is_nan(), "NaN must not be dropped");
        assert!(eval("max(a, b)", &[1.0, f64::NAN]).0.is_nan(), "NaN must not be dropped");
    }

    #[test]
    fn constant_parts_carry_no_derivative() {
        // The exponent (2 - 1.5) is constant: only d/dx = 0.5 x^(-0.5) = 0.25 at x = 4.
        assert_eq!(eval("x^(2 - 1.5)", &[4.0]), (2.0, vec![0.25]));
    }

    #[test]
    fn fast_paths_agree_with_the_interpreter() {
        // Every f(a), a ∘ b and f(a ∘ b) evaluated by its fast path and, with the fast path
        // switched off, by the general interpreter.
        let mut sources = vec!["a + b".to_string(), "a - b".into(), "a * b".into()];
        for f in FUNCS {
            sources.push(format!("{f}(a)"));
            for op in ["+", "-", "*"] {
                sources.push(format!("{f}(a {op} b)"));
            }
        }
        for src in sources {
            let fast = Expr::parse(&src).unwrap();
            assert!(fast.single.is_some(), "{src} should take a fast path");
            let mut slow = fast.clone();
            slow.single = None;
            for args in [[0.3, 0.4], [0.7, -0.2], [1.5, 0.25]] {
                let args = &args[..fast.arity()];
                let (mut pf, mut ps) = (vec![0.0; args.len()], vec![0.0; args.len()]);
                let vf = fast.eval_with_partials(args, &mut pf, &mut Vec::new());
                let vs = slow.eval_with_partials(args, &mut ps, &mut Vec::new());
                assert_eq!(vf.to_bits(), vs.to_bits(), "{src} at {args:?}");
                assert_eq!(fast.eval(args, &mut Vec::new()).to_bits(), vs.to_bits(), "{src}");
                for (x, y) in pf.iter().zip(&ps) {
                    let same = (x - y).abs() <= 1e-15 * y.abs().max(1.0) || (x.is_nan() && y.is_nan());
                    assert!(same, "{src} at {args:?}: {pf:?} vs {ps:?}");
                }
            }
        }
        // A repeated argument is not a two-argument operation.
        assert!(Expr::parse("a * a").unwrap().single.is_none());
    }

    const FUNCS: [&str; 12] =
        ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs", "softplus", "hardtanh"];

    proptest! {
        /// Partials of random compositions match central differences. Arguments stay positive and
        /// away from kinks (relu, abs, hardtanh at 0 and ±1 are only subdifferentiable).
        #[test]
        fn partials_match_central_differences(
            f in 0usize..12, g in 0usize..12, a in 0.15f64..0.85, b in 0.15f64..0.85,
        ) {
            let src = format!("{}(x * y + 0.1) * {}(x) + x^y / (y + 1)", FUNCS[f], FUNCS[g]);
            let e = Expr::parse(&src).unwrap();
            let args = [a, b];
            let mut partials = [0.0; 2];
            e.eval_with_partials(&args, &mut partials, &mut Vec::new());
            for r in 0..2 {
                let h = 1e-6;
                let (mut lo, mut hi) = (args, args);
                lo[r] -= h;
                hi[r] += h;
                let fd = (e.eval(&hi, &mut Vec::new()) - e.eval(&lo, &mut Vec::new())) / (2.0 * h);
                prop_assert!((fd - partials[r]).abs() <= 1e-6 * (1.0 + partials[r].abs()),
                    "{src} d/d{}: {} vs {fd}", ["x", "y"][r], partials[r]);
            }
        }
    }
}
