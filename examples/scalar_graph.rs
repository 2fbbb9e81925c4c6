//! Builds a scalar computational graph in code (y = sin(w x) + w x, loss = (y - t)²), runs the
//! forward pass, then gets dloss/dw by backpropagation, by forward mode and by finite
//! differences.

use anyhow::Result;
use cg_autodiff::{NodeFunction, ScalarDag};
use cg_core::Role;

fn main() -> Result<()> {
    let sources = [("x", Role::Input), ("w", Role::Weight), ("t", Role::Input)];
    let nodes =
        [("a", "w * x", Role::Hidden), ("y", "sin(a) + a", Role::Hidden), ("loss", "(y - t) ^ 2", Role::Output)];
    let built = cg_expr::build_graph(&sources, &nodes)?;
    let functions = built.functions.into_iter().map(|f| f.map(|(func, args)| NodeFunction { func, args })).collect();
    let dag = ScalarDag::new(&built.graph, functions)?;
    let id = |name: &str| dag.order().iter().copied().find(|&n| dag.name(n) == name).expect("a node of the graph");
    let mut tape = dag.tape();
    for (name, value) in [("x", 1.5), ("w", 0.7), ("t", 2.0)] {
        tape.set(id(name), value);
    }
    dag.forward(&mut tape)?;
    let (w, loss) = (id("w"), id("loss"));
    let backprop = dag.reverse(&tape, &[(loss, 1.0)])?[w];
    let forward_mode = dag.tangents(&tape, w)[loss];
    let numeric = dag.finite_difference(&tape, w, 1e-3, |t| t.value(loss))?;
    // By hand: dloss/dw = 2 (y - t) (cos(a) + 1) x.
    let (a, y) = (0.7 * 1.5_f64, (0.7 * 1.5_f64).sin() + 0.7 * 1.5);
    let by_hand = 2.0 * (y - 2.0) * (a.cos() + 1.0) * 1.5;
    println!("loss = {:.6}", tape.value(loss));
    println!("dloss/dw: backprop {backprop:.12}, forward mode {forward_mode:.12}, finite differences {numeric:.12}, by hand {by_hand:.12}");
    assert!((backprop - by_hand).abs() < 1e-12 && (forward_mode - by_hand).abs() < 1e-12);
    Ok(())
}
