//! The vector engine: the chapter's worked example (Figure 11.15), exercise 13, finite-difference
//! checks of every operation and loss, skip connections, and agreement with the scalar engine.

mod common;

use std::sync::Arc;

use cg_autodiff::vector::{
    Activation, Add, Affine, Arith, Axis, BatchMean, BatchNorm, Broadcast, Clip, Concat, Constant, Dropout,
    Elementwise, Embed, LayerNorm, Linear, LogSoftmax, LogSumExp, Loss, LossNode, Mat, Max, Mul, Power, Reduce, Rows,
    Sign, Softmax, Sqrt, Step, StopGradient, SumAll, Transpose, Unary, VectorDagBuilder, VectorOp, Where,
};
use cg_core::Role;
use proptest::prelude::*;

fn m(rows: usize, cols: usize, data: &[f64]) -> Mat {
    Mat::from_row_slice(rows, cols, data)
}

#[track_caller]
fn close_mat(a: &Mat, b: &Mat, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.iter().zip(b.iter()) {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{a} != {b}");
    }
}

#[test]
fn figure_11_15_vector_backpropagation() {
    let mut b = VectorDagBuilder::<f64>::new();
    let x = b.input("x").unwrap();
    let w = b.param("W").unwrap();
    let w2 = b.param("W2").unwrap();
    let h1 = b.op("h1", Arc::new(Linear), &[w, x], false).unwrap();
    let h2 = b.op("h2", Arc::new(Activation::Relu), &[h1], false).unwrap();
    let h3 = b.op("h3", Arc::new(Linear), &[w2, h2], false).unwrap();
    let o = b.op("o", Arc::new(Activation::Sigmoid), &[h3], true).unwrap();
    let dag = b.build().unwrap();
    let mut tape = dag.tape();
    tape.set(x, m(3, 1, &[2.0, 1.0, 2.0]));
    tape.set(w, m(3, 3, &[2.0, -2.0, 0.0, -1.0, 5.0, -1.0, 0.0, 3.0, -2.0]));
    tape.set(w2, m(1, 3, &[-1.0, 1.0, -3.0]));
    dag.forward(&mut tape).unwrap();
    // h1 = W x = [2, 1, -1], h2 = [2, 1, 0], h3 = -1, o = 1/(1 + e) ≈ 0.27, L = -log o ≈ 1.3.
    assert_eq!(tape.get(h1).unwrap(), &m(3, 1, &[2.0, 1.0, -1.0]));
    assert_eq!(tape.get(h2).unwrap(), &m(3, 1, &[2.0, 1.0, 0.0]));
    let e = std::f64::consts::E;
    let ov = 1.0 / (1.0 + e);
    assert!((tape.get(o).unwrap()[0] - ov).abs() < 1e-15);
    let (loss, seed) = Loss::NegLog.value_and_grad(tape.get(o).unwrap(), &m(1, 1, &[1.0]));
    assert_eq!((loss * 10.0).round() / 10.0, 1.3);
    let grads = dag.reverse(&tape, vec![(o, seed)], true).unwrap();
    // g3 = o - 1 ≈ -0.73; g2 = W2ᵀ g3; g1 copies g2 where h1 > 0; M = g1 xᵀ; M2 = g3 h2ᵀ.
    let g3 = ov - 1.0;
    assert_eq!((grads.get(h3).unwrap()[0] * 100.0).round() / 100.0, -0.73);
    close_mat(grads.get(h3).unwrap(), &m(1, 1, &[g3]), 1e-15);
    close_mat(grads.get(h2).unwrap(), &m(3, 1, &[-g3, g3, -3.0 * g3]), 1e-15);
    close_mat(grads.get(h1).unwrap(), &m(3, 1, &[-g3, g3, 0.0]), 1e-15);
    let mm = m(3, 3, &[-2.0 * g3, -g3, -2.0 * g3, 2.0 * g3, g3, 2.0 * g3, 0.0, 0.0, 0.0]);
    close_mat(grads.get(w).unwrap(), &mm, 1e-15);
    close_mat(grads.get(w2).unwrap(), &m(1, 3, &[2.0 * g3, g3, 0.0]), 1e-15);
    // The printed values: M's first row [1.46, 0.73, 1.46], M2 = [-1.46, -0.73, 0].
    let round2 = |v: f64| (v * 100.0).round() / 100.0;
    assert_eq!(grads.get(w).unwrap().row(0).map(round2), m(1, 3, &[1.46, 0.73, 1.46]).row(0).into_owned());
    assert_eq!(grads.get(w2).unwrap().map(round2), m(1, 3, &[-1.46, -0.73, 0.0]));
    // g0 = Wᵀ g1.
    let w_mat = tape.get(w).unwrap();
    close_mat(grads.get(x).unwrap(), &(w_mat.transpose() * grads.get(h1).unwrap()), 1e-15);
}

#[test]
fn exercise_13_gradients_from_two_branches_add_up() {
    // v = [2, 3, 5, 1] feeds h1 = ReLU(W1 v) and h2 = sigmoid(W2 v). W1 and W2 are chosen so that
    // W1 v = [2, -1, 3] and sigmoid(W2 v) = [0.2, 0.5, 0.3], the exercise's values.
    let w1 = m(3, 4, &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 1.0, 0.0, 0.0]);
    let w2 = m(3, 4, &[0.0, 0.0, 0.0, (0.25f64).ln(), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (3.0f64 / 7.0).ln()]);
    let mut b = VectorDagBuilder::<f64>::new();
    let v = b.input("v").unwrap();
    let (p1, p2) = (b.param("W1").unwrap(), b.param("W2").unwrap());
    let a1 = b.op("a1", Arc::new(Linear), &[p1, v], false).unwrap();
    let a2 = b.op("a2", Arc::new(Linear), &[p2, v], false).unwrap();
    let h1 = b.op("h1", Arc::new(Activation::Relu), &[a1], true).unwrap();
    let h2 = b.op("h2", Arc::new(Activation::Sigmoid), &[a2], true).unwrap();
    let dag = b.build().unwrap();
    let mut tape = dag.tape();
    tape.set(v, m(4, 1, &[2.0, 3.0, 5.0, 1.0]));
    tape.set(p1, w1.clone());
    tape.set(p2, w2.clone());
    dag.forward(&mut tape).unwrap();
    close_mat(tape.get(h2).unwrap(), &m(3, 1, &[0.2, 0.5, 0.3]), 1e-15);
    let seeds = vec![(h1, m(3, 1, &[-2.0, 1.0, 4.0])), (h2, m(3, 1, &[1.0, 3.0, -2.0]))];
    let grads = dag.reverse(&tape, seeds, true).unwrap();
    // dL/dv = W1ᵀ [-2, 0, 4] + W2ᵀ [0.16, 0.75, -0.42].
    let want = w1.transpose() * m(3, 1, &[-2.0, 0.0, 4.0]) + w2.transpose() * m(3, 1, &[0.16, 0.75, -0.42]);
    close_mat(grads.get(v).unwrap(), &want, 1e-14);
}

/// A random matrix with entries in [-1, 1] from a proptest-chosen seed.
fn random(rows: usize, cols: usize, seed: u64) -> Mat {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    Mat::from_fn(rows, cols, |_, _| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// Checks `op`'s backward against central differences of f = Σ R ⊙ op(args) in every argument
/// entry, and its Jacobian-vector product against ⟨backward, t⟩ (the adjoint identity).
fn check_op(op: &dyn VectorOp, args: Vec<Mat>, seed: u64) -> Result<(), TestCaseError> {
    let all = vec![true; args.len()];
    check_op_in(op, args, seed, &all)
}

/// [`check_op`] for the arguments with `graded[k]`; the others must get no gradient (a
/// condition, a batch size) and take no tangent.
fn check_op_in(op: &dyn VectorOp, args: Vec<Mat>, seed: u64, graded: &[bool]) -> Result<(), TestCaseError> {
    let refs: Vec<&Mat> = args.iter().collect();
    let out = op.forward(&refs).unwrap();
    let r = random(out.nrows(), out.ncols(), seed ^ 0xabc);
    let wants = vec![true; args.len()];
    let grads = op.backward(&refs, &out, &r, &wants);
    let f = |a: &[Mat]| -> f64 {
        let refs: Vec<&Mat> = a.iter().collect();
        op.forward(&refs).unwrap().component_mul(&r).sum()
    };
    let h = 1e-6;
    for k in 0..args.len() {
        if !graded[k] {
            prop_assert!(grads[k].is_none(), "{} gives argument {} a gradient", op.name(), k);
            continue;
        }
        let g = grads[k].as_ref().unwrap();
        prop_assert_eq!(g.shape(), args[k].shape());
        for idx in 0..args[k].len() {
            let (mut lo, mut hi) = (args.clone(), args.clone());
            lo[k][idx] -= h;
            hi[k][idx] += h;
            let fd = (f(&hi) - f(&lo)) / (2.0 * h);
            prop_assert!(
                (fd - g[idx]).abs() <= 1e-6 * (1.0 + g[idx].abs()),
                "{} arg {} entry {}: {} vs fd {}",
                op.name(),
                k,
                idx,
                g[idx],
                fd
            );
        }
    }
    let tangents: Vec<Mat> =
        args.iter().enumerate().map(|(k, a)| random(a.nrows(), a.ncols(), seed ^ k as u64)).collect();
    let t: Vec<Option<&Mat>> = tangents.iter().zip(graded).map(|(t, &g)| g.then_some(t)).collect();
    let jv = op.jvp(&refs, &out, &t);
    let lhs = jv.component_mul(&r).sum();
    let rhs: f64 = grads.iter().zip(&tangents).filter_map(|(g, d)| g.as_ref().map(|g| g.component_mul(d).sum())).sum();
    prop_assert!(
        (lhs - rhs).abs() <= 1e-12 * (1.0 + rhs.abs()),
        "{}: <Jt, r> = {} but <t, Jᵀr> = {}",
        op.name(),
        lhs,
        rhs
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_operation_matches_finite_differences(rows in 1usize..5, inner in 1usize..5, cols in 1usize..4, k in 2usize..4, seed in any::<u64>()) {
        let same = |s: u64| random(rows, cols, seed ^ s);
        check_op(&Linear, vec![random(rows, inner, seed), random(inner, cols, seed ^ 1)], seed)?;
        check_op(&Linear, vec![random(rows, inner, seed), random(inner, cols, seed ^ 1), random(rows, 1, seed ^ 2)], seed)?;
        // Activations away from the kinks of relu and hardtanh (|x| not within 1e-3 of 0 or ±1).
        let away = same(3).map(|v| if v.abs() < 0.05 { v + 0.1 } else if (v.abs() - 1.0).abs() < 0.05 { v * 0.9 } else { v } * 1.3);
        for act in [Activation::Sigmoid, Activation::Tanh, Activation::Relu, Activation::HardTanh, Activation::Identity] {
            check_op(&act, vec![away.clone()], seed)?;
        }
        check_op(&Softmax, vec![same(4) * 3.0], seed)?;
        let many: Vec<Mat> = (0..k).map(|i| same(10 + i as u64)).collect();
        check_op(&Add, many.clone(), seed)?;
        check_op(&Max, many, seed)?;
        check_op(&Mul, vec![same(20), same(21)], seed)?;
        check_op(&Concat, vec![same(30), random(inner, cols, seed ^ 31)], seed)?;
        for arith in [Arith::Plus, Arith::Minus, Arith::Times] {
            let op = Broadcast(arith);
            check_op(&op, vec![same(40), same(41)], seed)?;
            check_op(&op, vec![same(42), random(rows, 1, seed ^ 43)], seed)?;
            check_op(&op, vec![random(1, 1, seed ^ 44), same(45)], seed)?;
        }
        check_op(&Affine { scale: -1.5, shift: 0.25 }, vec![same(50)], seed)?;
        let positive = same(51).map(|v| 0.2 + v.abs());
        for f in [Unary::Exp, Unary::Log, Unary::Softplus] {
            check_op(&f, vec![positive.clone()], seed)?;
        }
        check_op(&Unary::Abs, vec![away.clone()], seed)?;
        check_op(&Transpose, vec![random(inner, cols, seed ^ 52)], seed)?;
        check_op(&SumAll, vec![same(53)], seed)?;
    }

    /// The model language's functions (`functions.rs`), away from their kinks.
    #[test]
    fn every_function_matches_finite_differences(rows in 1usize..5, cols in 1usize..4, seed in any::<u64>()) {
        let same = |s: u64| random(rows, cols, seed ^ s);
        let positive = |s: u64| same(s).map(|v| 0.2 + v.abs());
        let row = |s: u64| random(1, cols, seed ^ s);
        for arith in [Arith::Plus, Arith::Minus, Arith::Times, Arith::Divide, Arith::Min, Arith::Max] {
            let op = Broadcast(arith);
            // Min and max away from ties: the two sides differ by at least 0.1.
            let b = same(61);
            let a = same(60).zip_map(&b, |x, y| if (x - y).abs() < 0.1 { y + 0.2 } else { x });
            let away = |m: Mat| m.map(|v| if v.abs() < 0.1 { v + 0.3 } else { v });
            check_op(&op, vec![a.clone(), away(b.clone())], seed)?;
            check_op(&op, vec![same(62), away(row(63))], seed)?;
            check_op(&op, vec![row(64), away(same(65))], seed)?;
            check_op(&op, vec![away(random(rows, 1, seed ^ 66)), away(same(67))], seed)?;
        }
        check_op(&Sqrt, vec![positive(70)], seed)?;
        let kinked = same(69).map(|v| if v.abs() < 0.05 { v + 0.1 } else { v }) * 2.0;
        for f in [Elementwise::Sin, Elementwise::Cos, Elementwise::Silu, Elementwise::Softsign, Elementwise::LeakyRelu(0.1), Elementwise::Elu(1.5)] {
            check_op(&f, vec![kinked.clone()], seed)?;
        }
        for p in [2.0, 3.0, -1.0, 0.5, -1.5] {
            check_op(&Power(p), vec![positive(71)], seed)?;
        }
        check_op(&Power(3.0), vec![same(72)], seed)?;
        let away = same(73).map(|v| if (v.abs() - 0.5).abs() < 0.05 { v * 0.8 } else { v });
        check_op(&Clip { lo: -0.5, hi: 0.5 }, vec![away.clone()], seed)?;
        let nonzero = same(74).map(|v| if v.abs() < 0.05 { v + 0.1 } else { v });
        check_op(&Sign, vec![nonzero.clone()], seed)?;
        check_op(&Step, vec![nonzero.clone()], seed)?;
        check_op_in(&Where, vec![nonzero, same(76), random(rows, 1, seed ^ 77)], seed, &[false, true, true])?;
        for axis in [Axis::Rows, Axis::Columns, Axis::All] {
            for mean in [false, true] {
                check_op(&Reduce { axis, mean }, vec![same(78)], seed)?;
            }
        }
        check_op(&LogSumExp, vec![same(79) * 3.0], seed)?;
        check_op(&LogSoftmax, vec![same(80) * 3.0], seed)?;
        check_op_in(&BatchMean, vec![same(81), Mat::from_element(1, 1, 7.0)], seed, &[true, false])?;
        let samples = Mat::from_fn(1, cols, |_, j| (j * 7) as f64);
        check_op_in(&Dropout { p: 0.4 }, vec![same(84), Mat::from_element(1, 1, 9.0), samples], seed, &[true, false, false])?;
        check_op(&Rows { start: 1, end: rows + 1 }, vec![random(rows + 2, cols, seed ^ 85)], seed)?;
        // Batch normalisation in training (batch statistics; at least 2 samples) and evaluation.
        let (mean, var) = (random(rows, 1, seed ^ 86), random(rows, 1, seed ^ 87).map(|v| 0.5 + v.abs()));
        let x = random(rows, cols + 1, seed ^ 88) * 2.0;
        let training = [true, false, false, false];
        check_op_in(&BatchNorm { eps: 1e-5 }, vec![x.clone(), mean.clone(), var.clone(), Mat::from_element(1, 1, 3.0)], seed, &training)?;
        check_op_in(&BatchNorm { eps: 1e-5 }, vec![x, mean, var, Mat::from_element(1, 1, f64::NAN)], seed, &training)?;
        check_op(&LayerNorm { eps: 1e-5 }, vec![random(rows + 1, cols, seed ^ 83) * 2.0], seed)?;
        // Ids repeat (5 samples over `rows` columns): their gradients add up in one column.
        let ids = Mat::from_fn(1, 5, |_, j| ((j as u64 + seed) % rows as u64) as f64);
        check_op_in(&Embed, vec![random(3, rows, seed ^ 82), ids], seed, &[true, false])?;
    }

    /// A loss node's gradient (for the prediction only) against central differences, as part of a
    /// batch of 7.
    #[test]
    fn loss_nodes_match_finite_differences(rows in 1usize..5, cols in 1usize..4, seed in any::<u64>()) {
        let o = random(rows, cols, seed) * 2.0;
        let y = random(rows, cols, seed ^ 9);
        let n = Mat::from_element(1, 1, 7.0);
        let op = LossNode(Loss::SquaredError);
        let value = |o: &Mat| VectorOp::<f64>::forward(&op, &[o, &y, &n]).unwrap()[(0, 0)];
        let out = VectorOp::<f64>::forward(&op, &[&o, &y, &n]).unwrap();
        let g = VectorOp::<f64>::backward(&op, &[&o, &y, &n], &out, &Mat::from_element(1, 1, 2.0), &[true, true, true]);
        prop_assert!(g[1].is_none() && g[2].is_none());
        let g = g[0].as_ref().unwrap();
        for idx in 0..o.len() {
            let (mut lo, mut hi) = (o.clone(), o.clone());
            lo[idx] -= 1e-6;
            hi[idx] += 1e-6;
            let fd = 2.0 * (value(&hi) - value(&lo)) / 2e-6;
            prop_assert!((fd - g[idx]).abs() <= 1e-6 * (1.0 + g[idx].abs()), "{} vs fd {}", g[idx], fd);
        }
    }

    #[test]
    fn every_loss_matches_finite_differences(rows in 1usize..5, cols in 1usize..4, seed in any::<u64>()) {
        let o = random(rows, cols, seed) * 2.0;
        let signs = random(rows, cols, seed ^ 5).map(|v| if v >= 0.0 { 1.0 } else { -1.0 });
        let one_hot = Mat::from_fn(rows, cols, |i, j| f64::from(u8::from(i == (j + seed as usize) % rows)));
        let probs = o.map(|v| 0.1 + 0.8 * (v.abs() / 2.0));
        let cases = [
            (Loss::SquaredError, o.clone(), random(rows, cols, seed ^ 6)),
            (Loss::NegLog, probs, one_hot.clone()),
            (Loss::Logistic, o.clone(), signs.clone()),
            (Loss::WidrowHoff, o.clone(), signs.clone()),
            (Loss::SoftmaxCrossEntropy, o.clone(), one_hot.clone()),
            // Weston-Watkins away from its kinks: entries on a 0.25 grid plus 0.1 times the row
            // index, so a margin 1 + o_r - o_c is never within 0.05 of 0 (for fewer than 5 rows).
            (Loss::WestonWatkins, Mat::from_fn(rows, cols, |i, j| (o[(i, j)] * 4.0).round() / 4.0 + 0.1 * i as f64), one_hot),
            // Margin losses away from their kink at y o = 1.
            (Loss::Hinge, o.map(|v| if (v.abs() - 1.0).abs() < 0.05 { v * 0.8 } else { v }), signs.clone()),
            (Loss::SquaredHinge, o.clone(), signs),
        ];
        for (loss, o, y) in cases {
            let (_, g) = loss.value_and_grad(&o, &y);
            for idx in 0..o.len() {
                let h = 1e-6;
                let (mut lo, mut hi) = (o.clone(), o.clone());
                lo[idx] -= h;
                hi[idx] += h;
                let fd = (loss.value_and_grad(&hi, &y).0 - loss.value_and_grad(&lo, &y).0) / (2.0 * h);
                prop_assert!((fd - g[idx]).abs() <= 1e-6 * (1.0 + g[idx].abs()), "{}: {} vs fd {}", loss.name(), g[idx], fd);
            }
        }
    }
}

#[test]
fn softmax_cross_entropy_is_stable_for_huge_logits() {
    // log-sum-exp: logits 1000 and 0 with the first class true give loss ≈ e^-1000 ≈ 0, not NaN.
    let (l, g) = Loss::SoftmaxCrossEntropy.value_and_grad(&m(2, 1, &[1000.0, 0.0]), &m(2, 1, &[1.0, 0.0]));
    assert!(l.abs() < 1e-300 && g.iter().all(|v| v.is_finite()));
    let (l, _) = Loss::SoftmaxCrossEntropy.value_and_grad(&m(2, 1, &[0.0, 1000.0]), &m(2, 1, &[1.0, 0.0]));
    assert_eq!(l, 1000.0);
}

#[test]
fn exercise_8_skip_connection_gradients_match_finite_differences() {
    // h1 = ReLU(W1 x), h2 = ReLU(W2 x + W3 h1), y = W4 h2; L = squared error against a target.
    let mut b = VectorDagBuilder::<f64>::new();
    let x = b.input("x").unwrap();
    let ws: Vec<_> = (1..=4).map(|i| b.param(&format!("W{i}")).unwrap()).collect();
    let a1 = b.op("a1", Arc::new(Linear), &[ws[0], x], false).unwrap();
    let h1 = b.op("h1", Arc::new(Activation::Relu), &[a1], false).unwrap();
    let p = b.op("p", Arc::new(Linear), &[ws[1], x], false).unwrap();
    let q = b.op("q", Arc::new(Linear), &[ws[2], h1], false).unwrap();
    let a2 = b.op("a2", Arc::new(Add), &[p, q], false).unwrap();
    let h2 = b.op("h2", Arc::new(Activation::Relu), &[a2], false).unwrap();
    let y = b.op("y", Arc::new(Linear), &[ws[3], h2], true).unwrap();
    let dag = b.build().unwrap();
    let shapes = [(4, 3), (4, 3), (4, 4), (2, 4)];
    let mut tape = dag.tape();
    tape.set(x, random(3, 5, 1));
    for (k, &(r, c)) in shapes.iter().enumerate() {
        tape.set(ws[k], random(r, c, 100 + k as u64));
    }
    let target = random(2, 5, 7);
    let loss =
        |tape: &cg_autodiff::vector::VectorTape| Loss::SquaredError.value_and_grad(tape.get(y).unwrap(), &target);
    dag.forward(&mut tape).unwrap();
    let (_, seed) = loss(&tape);
    let grads = dag.reverse(&tape, vec![(y, seed)], false).unwrap();
    assert!(grads.get(x).is_none(), "no input gradients unless asked");
    for &w in &ws {
        let g = grads.get(w).unwrap().clone();
        for idx in 0..g.len() {
            let h = 1e-6;
            let mut t = tape.clone();
            t.get_mut(w).unwrap()[idx] += h;
            dag.forward(&mut t).unwrap();
            let up = loss(&t).0;
            t.get_mut(w).unwrap()[idx] -= 2.0 * h;
            dag.forward(&mut t).unwrap();
            let fd = (up - loss(&t).0) / (2.0 * h);
            assert!((fd - g[idx]).abs() <= 1e-6 * (1.0 + g[idx].abs()), "{}[{idx}]: {} vs {fd}", dag.name(w), g[idx]);
        }
    }
    // Forward mode agrees: the tangent of L along a direction D of W3 equals ⟨∂L/∂W3, D⟩.
    let d = random(4, 4, 9);
    let tangents = dag.jvp(&tape, vec![(ws[2], d.clone())]);
    let (_, seed) = loss(&tape);
    let along = tangents[y.index()].as_ref().unwrap().component_mul(&seed).sum();
    let want = grads.get(ws[2]).unwrap().component_mul(&d).sum();
    assert!((along - want).abs() <= 1e-12 * (1.0 + want.abs()));
}

#[test]
fn vector_engine_agrees_with_scalar_engine() {
    // A 2-2-1 network, tanh hidden and sigmoid output, one sample, loss (o - 1)^2, written both as
    // a vector graph and as a scalar graph of named expressions.
    let (x, w1, b1, w2, b2) = ([0.5, -1.2], [[0.3, -0.7], [1.1, 0.4]], [0.1, -0.2], [0.9, -1.3], 0.05);
    let mut b = VectorDagBuilder::<f64>::new();
    let xi = b.input("x").unwrap();
    let (pw1, pb1, pw2, pb2) =
        (b.param("W1").unwrap(), b.param("b1").unwrap(), b.param("W2").unwrap(), b.param("b2").unwrap());
    let a = b.op("a", Arc::new(Linear), &[pw1, xi, pb1], false).unwrap();
    let h = b.op("h", Arc::new(Activation::Tanh), &[a], false).unwrap();
    let z = b.op("z", Arc::new(Linear), &[pw2, h, pb2], false).unwrap();
    let o = b.op("o", Arc::new(Activation::Sigmoid), &[z], true).unwrap();
    let dag = b.build().unwrap();
    let mut tape = dag.tape();
    tape.set(xi, m(2, 1, &x));
    tape.set(pw1, m(2, 2, &[w1[0][0], w1[0][1], w1[1][0], w1[1][1]]));
    tape.set(pb1, m(2, 1, &b1));
    tape.set(pw2, m(1, 2, &w2));
    tape.set(pb2, m(1, 1, &[b2]));
    dag.forward(&mut tape).unwrap();
    let (_, seed) = Loss::SquaredError.value_and_grad(tape.get(o).unwrap(), &m(1, 1, &[1.0]));
    let vg = dag.reverse(&tape, vec![(o, seed)], false).unwrap();

    let s = common::build(
        &[
            ("x1", Role::Input, x[0]),
            ("x2", Role::Input, x[1]),
            ("w11", Role::Weight, w1[0][0]),
            ("w12", Role::Weight, w1[0][1]),
            ("w21", Role::Weight, w1[1][0]),
            ("w22", Role::Weight, w1[1][1]),
            ("c1", Role::Weight, b1[0]),
            ("c2", Role::Weight, b1[1]),
            ("v1", Role::Weight, w2[0]),
            ("v2", Role::Weight, w2[1]),
            ("d", Role::Weight, b2),
        ],
        &[
            ("h1", "tanh(w11 * x1 + w12 * x2 + c1)"),
            ("h2", "tanh(w21 * x1 + w22 * x2 + c2)"),
            ("o", "sigmoid(v1 * h1 + v2 * h2 + d)"),
            ("L", "(o - 1)^2"),
        ],
    );
    let sg = s.dag.reverse(&s.tape, &[(s.id("L"), 1.0)]).unwrap();
    let pairs = [
        (vg.get(pw1).unwrap()[(0, 0)], "w11"),
        (vg.get(pw1).unwrap()[(0, 1)], "w12"),
        (vg.get(pw1).unwrap()[(1, 0)], "w21"),
        (vg.get(pw1).unwrap()[(1, 1)], "w22"),
        (vg.get(pb1).unwrap()[0], "c1"),
        (vg.get(pb1).unwrap()[1], "c2"),
        (vg.get(pw2).unwrap()[0], "v1"),
        (vg.get(pw2).unwrap()[1], "v2"),
        (vg.get(pb2).unwrap()[0], "d"),
    ];
    for (v, name) in pairs {
        common::close(v, sg[s.id(name)], 1e-14);
    }
}

#[test]
fn shape_mismatch_names_the_node() {
    let mut b = VectorDagBuilder::<f64>::new();
    let x = b.input("x").unwrap();
    let w = b.param("W").unwrap();
    b.op("h", Arc::new(Linear), &[w, x], true).unwrap();
    let dag = b.build().unwrap();
    let mut tape = dag.tape();
    tape.set(x, Mat::zeros(3, 2));
    tape.set(w, Mat::zeros(4, 2));
    let err = dag.forward(&mut tape).unwrap_err().to_string();
    assert_eq!(err, "node `h`: linear(W, x): W is 4x2 but x has 3 rows");
}

#[test]
fn f32_graphs_match_f64_to_single_precision() {
    // The skip-connection network of exercise 8 in both precisions: gradients agree to ~1e-6.
    fn grads<T: cg_autodiff::vector::Real>() -> Vec<f64> {
        let mut b = VectorDagBuilder::<T>::new();
        let x = b.input("x").unwrap();
        let (w1, w2) = (b.param("W1").unwrap(), b.param("W2").unwrap());
        let a = b.op("a", Arc::new(Linear), &[w1, x], false).unwrap();
        let h = b.op("h", Arc::new(Activation::Tanh), &[a], false).unwrap();
        let s = b.op("s", Arc::new(Add), &[h, a], false).unwrap();
        let o = b.op("o", Arc::new(Linear), &[w2, s], true).unwrap();
        let dag = b.build().unwrap();
        let mut tape = dag.tape();
        let cast = |m: Mat| m.map(|v| T::cast(v));
        tape.set(x, cast(random(3, 4, 1)));
        tape.set(w1, cast(random(3, 3, 2)));
        tape.set(w2, cast(random(2, 3, 3)));
        dag.forward(&mut tape).unwrap();
        let (_, seed) = Loss::SquaredError.value_and_grad(tape.get(o).unwrap(), &cast(random(2, 4, 4)));
        let g = dag.reverse(&tape, vec![(o, seed)], false).unwrap();
        g.get(w1).unwrap().iter().chain(g.get(w2).unwrap().iter()).map(|v| v.as_f64()).collect()
    }
    let (a, b) = (grads::<f64>(), grads::<f32>());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

#[test]
fn reused_buffers_give_the_numbers_of_fresh_passes() {
    // h = ReLU(W1 x + b) feeds two children (its gradient is set, then added to), y = W2 h + W3 h.
    let mut b = VectorDagBuilder::<f64>::new();
    let x = b.input("x").unwrap();
    let (w1, bias, w2, w3) =
        (b.param("W1").unwrap(), b.param("b").unwrap(), b.param("W2").unwrap(), b.param("W3").unwrap());
    let a = b.op("a", Arc::new(Linear), &[w1, x, bias], false).unwrap();
    let h = b.op("h", Arc::new(Activation::Relu), &[a], false).unwrap();
    let p = b.op("p", Arc::new(Linear), &[w2, h], false).unwrap();
    let q = b.op("q", Arc::new(Linear), &[w3, h], false).unwrap();
    let y = b.op("y", Arc::new(Add), &[p, q], true).unwrap();
    let dag = b.build().unwrap();
    let mut params = dag.tape();
    for (k, (id, r, c)) in [(w1, 6, 3), (bias, 6, 1), (w2, 2, 6), (w3, 2, 6)].into_iter().enumerate() {
        params.set(id, random(r, c, 40 + k as u64));
    }
    // One tape and one set of gradient buffers across batches of 5, 3 and 5 columns; the
    // parameters come from `params` (forward_over / reverse_over) or sit on the tape itself.
    let mut layered = dag.tape();
    let mut reused = dag.grads();
    let mut own = params.clone();
    let mut own_grads = dag.grads();
    for (step, cols) in [5, 3, 5].into_iter().enumerate() {
        let input = random(3, cols, 70 + step as u64);
        let target = random(2, cols, 80 + step as u64);
        let mut fresh = params.clone();
        fresh.set(x, input.clone());
        dag.forward(&mut fresh).unwrap();
        let (_, seed) = Loss::SquaredError.value_and_grad(fresh.get(y).unwrap(), &target);
        let want = dag.reverse(&fresh, vec![(y, seed.clone())], false).unwrap();

        layered.set(x, input.clone());
        dag.forward_over(&params, &mut layered).unwrap();
        assert_eq!(layered.get(y), fresh.get(y));
        assert!(layered.get(w1).is_none(), "parameters stay in the base tape");
        dag.reverse_over(&params, &layered, vec![(y, seed.clone())], &mut reused).unwrap();

        own.set(x, input);
        dag.forward(&mut own).unwrap();
        dag.reverse_into(&own, vec![(y, seed)], false, &mut own_grads).unwrap();
        for id in [w1, bias, w2, w3, h, a, p, q, y] {
            assert_eq!(reused.get(id), want.get(id), "{} at step {step}", dag.name(id));
            assert_eq!(own_grads.get(id), want.get(id), "{} at step {step}", dag.name(id));
        }
        assert!(reused.get(x).is_none() && own_grads.get(x).is_none());
    }
}

#[test]
fn non_finite_gradients_are_found_in_every_position() {
    // Lengths around the 16-lane blocks of the finiteness check, the bad value in each place.
    for len in [1, 15, 16, 17, 40] {
        for at in 0..len {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let mut b = VectorDagBuilder::<f64>::new();
                let w = b.param("w").unwrap();
                let y = b.op("y", Arc::new(Activation::Identity), &[w], true).unwrap();
                let dag = b.build().unwrap();
                let mut tape = dag.tape();
                tape.set(w, Mat::from_element(len, 1, 0.5));
                dag.forward(&mut tape).unwrap();
                let mut seed = Mat::from_element(len, 1, 1.0);
                seed[at] = bad;
                let Err(err) = dag.reverse(&tape, vec![(y, seed)], false) else {
                    panic!("length {len}, {bad} at {at}: not reported");
                };
                // The search names the first bad node in backward order: the seeded output.
                assert!(err.to_string().contains("`y`"), "{err}");
            }
        }
    }
}

#[test]
fn stop_gradient_and_constants_pass_no_gradient() {
    // y = stop_gradient(x) * x + C: dy/dx = x (only the second factor), C is fixed.
    let mut b = VectorDagBuilder::<f64>::new();
    let x = b.param("x").unwrap();
    let c = b.op("C", Arc::new(Constant(m(2, 1, &[1.0, -2.0]))), &[], false).unwrap();
    let s = b.op("s", Arc::new(StopGradient), &[x], false).unwrap();
    let p = b.op("p", Arc::new(Broadcast(Arith::Times)), &[s, x], false).unwrap();
    let y = b.op("y", Arc::new(Broadcast(Arith::Plus)), &[p, c], true).unwrap();
    let dag = b.build().unwrap();
    let mut tape = dag.tape();
    tape.set(x, m(2, 1, &[3.0, 4.0]));
    dag.forward(&mut tape).unwrap();
    assert_eq!(tape.get(y).unwrap(), &m(2, 1, &[10.0, 14.0]));
    let grads = dag.reverse(&tape, vec![(y, m(2, 1, &[1.0, 1.0]))], false).unwrap();
    assert_eq!(grads.get(x).unwrap(), &m(2, 1, &[3.0, 4.0]));
    // Forward mode agrees: the tangent of x reaches y only through the second factor.
    let jvp = VectorOp::<f64>::jvp(&StopGradient, &[&m(1, 1, &[1.0])], &m(1, 1, &[1.0]), &[Some(&m(1, 1, &[5.0]))]);
    assert_eq!(jvp, m(1, 1, &[0.0]));
}

#[test]
fn embed_refuses_ids_that_are_not_codes() {
    let table = m(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let forward = |ids: &[f64]| VectorOp::<f64>::forward(&Embed, &[&table, &m(1, ids.len(), ids)]);
    assert_eq!(forward(&[2.0, 0.0, 2.0]).unwrap(), m(2, 3, &[3.0, 1.0, 3.0, 6.0, 4.0, 6.0]));
    assert_eq!(forward(&[1.0, 3.0]).unwrap_err().to_string(), "sample 2: id 3 is not a whole number in 0..2");
    assert_eq!(forward(&[0.5]).unwrap_err().to_string(), "sample 1: id 0.5 is not a whole number in 0..2");
    assert!(forward(&[-1.0]).is_err());
}

#[test]
fn dropout_masks_follow_the_sample_not_the_batch_part() {
    let op = Dropout { p: 0.5 };
    let x = Mat::from_element(50, 6, 1.0);
    let seed = m(1, 1, &[3.0]);
    let whole = VectorOp::<f64>::forward(&op, &[&x, &seed, &m(1, 6, &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0])]).unwrap();
    // Samples 12..14 alone give the columns they had in the whole batch.
    let part =
        VectorOp::<f64>::forward(&op, &[&x.columns(2, 3).into_owned(), &seed, &m(1, 3, &[12.0, 13.0, 14.0])]).unwrap();
    assert_eq!(part, whole.columns(2, 3).into_owned());
    // Entries are 0 or 1 / (1 - p), about half kept; another seed draws another mask.
    assert!(whole.iter().all(|&v| v == 0.0 || v == 2.0));
    let kept = whole.iter().filter(|&&v| v > 0.0).count();
    assert!((120..=180).contains(&kept), "{kept} of 300 kept");
    let other = VectorOp::<f64>::forward(&op, &[&x, &m(1, 1, &[4.0]), &m(1, 6, &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0])])
        .unwrap();
    assert_ne!(whole, other);
    // A NaN seed (evaluation) passes x through.
    let eval = VectorOp::<f64>::forward(&op, &[&x, &m(1, 1, &[f64::NAN]), &m(1, 1, &[0.0])]).unwrap();
    assert_eq!(eval, x);
}
