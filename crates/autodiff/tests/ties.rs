//! Shared (tied) weights, exercise 5: a weight used on several edges gets the sum of the
//! gradients its uses would get if they were separate weights, in scalar and vector graphs.

mod common;

use std::sync::Arc;

use cg_autodiff::vector::{Activation, Linear, Loss, Mat, VectorDagBuilder};
use cg_core::Role::{Input, Weight};
use common::{build, close};

#[test]
fn a_tied_scalar_weight_gets_the_sum_of_the_untied_gradients() {
    // Tied: o = tanh(w x1) * sin(w x2 + w); untied: the three uses get w_a, w_b, w_c.
    let (x1, x2, w) = (0.7, -1.3, 0.4);
    let tied = build(
        &[("x1", Input, x1), ("x2", Input, x2), ("w", Weight, w)],
        &[("a", "tanh(w * x1)"), ("b", "sin(w * x2 + w)"), ("o", "a * b")],
    );
    let untied = build(
        &[("x1", Input, x1), ("x2", Input, x2), ("wa", Weight, w), ("wb", Weight, w), ("wc", Weight, w)],
        &[("a", "tanh(wa * x1)"), ("b", "sin(wb * x2 + wc)"), ("o", "a * b")],
    );
    let sum = untied.reverse("wa", "o") + untied.reverse("wb", "o") + untied.reverse("wc", "o");
    close(tied.reverse("w", "o"), sum, 1e-15);
    // And both equal the finite difference of the tied graph.
    let fd = tied.dag.finite_difference(&tied.tape, tied.id("w"), 1e-3, |t| t.value(tied.id("o"))).unwrap();
    close(tied.reverse("w", "o"), fd, 1e-9);
}

#[test]
fn a_matrix_used_by_two_layers_gets_both_gradients() {
    // h1 = tanh(W x), h2 = tanh(W h1), o = h2: the same W in both layers, versus W1 and W2 copies.
    let x = Mat::from_fn(3, 2, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1);
    let w = Mat::from_fn(3, 3, |i, j| ((i * 3 + j) as f64 * 0.37).sin());
    let grads = |tied: bool| {
        let mut b = VectorDagBuilder::<f64>::new();
        let xi = b.input("x").unwrap();
        let w1 = b.param("W1").unwrap();
        let w2 = if tied { w1 } else { b.param("W2").unwrap() };
        let a1 = b.op("a1", Arc::new(Linear), &[w1, xi], false).unwrap();
        let h1 = b.op("h1", Arc::new(Activation::Tanh), &[a1], false).unwrap();
        let a2 = b.op("a2", Arc::new(Linear), &[w2, h1], false).unwrap();
        let o = b.op("o", Arc::new(Activation::Tanh), &[a2], true).unwrap();
        let dag = b.build().unwrap();
        let mut tape = dag.tape();
        tape.set(xi, x.clone());
        tape.set(w1, w.clone());
        tape.set(w2, w.clone());
        dag.forward(&mut tape).unwrap();
        let (_, seed) = Loss::SquaredError.value_and_grad(tape.get(o).unwrap(), &Mat::from_element(3, 2, 0.5));
        let g = dag.reverse(&tape, vec![(o, seed)], false).unwrap();
        (g.get(w1).unwrap().clone(), (!tied).then(|| g.get(w2).unwrap().clone()))
    };
    let (tied, _) = grads(true);
    let (g1, g2) = grads(false);
    let summed = g1 + g2.unwrap();
    assert!((tied - summed).amax() < 1e-15);
}
