//! Bad graphs and non-finite numbers are reported with the node, its expression and its inputs.

mod common;

use cg_autodiff::{NodeFunction, ScalarDag};
use cg_core::Role::{Input, Weight};
use cg_core::{DiGraph, EdgeWeight, Role, Variable};
use common::compile;

fn forward_error(sources: &[(&str, Role, f64)], nodes: &[(&str, &str)]) -> String {
    let dag = compile(sources, nodes).unwrap();
    let mut tape = dag.tape();
    for (k, &(_, _, v)) in sources.iter().enumerate() {
        tape.set(cg_core::NodeId::from_index(k), v);
    }
    dag.forward(&mut tape).unwrap_err().to_string()
}

#[test]
fn a_cycle_is_named() {
    let err = compile(&[("x", Input, 1.0)], &[("a", "x + c"), ("b", "a * 2"), ("c", "sin(b)")]).err().unwrap();
    assert_eq!(err.to_string(), "cycle: a -> b -> c -> a");
}

#[test]
fn the_first_non_finite_value_is_named_with_its_inputs() {
    // Both `bad` and `worse` are NaN; `bad` comes first in topological order.
    let err = forward_error(
        &[("x", Input, -1.0)],
        &[("ok", "x * 2"), ("bad", "log(ok)"), ("worse", "sqrt(bad)"), ("out", "worse + ok")],
    );
    assert_eq!(err, "forward: `bad` = log(ok) is NaN at ok = -2");
}

#[test]
fn overflow_is_named() {
    let err = forward_error(&[("x", Input, 800.0)], &[("big", "exp(x)"), ("out", "big + 1")]);
    assert_eq!(err, "forward: `big` = exp(x) is inf at x = 800");
}

#[test]
fn an_infinite_local_derivative_is_named() {
    // sqrt is finite at 0 but its derivative 1/(2 sqrt x) is not.
    let err = forward_error(&[("x", Input, 0.0)], &[("r", "sqrt(x)"), ("out", "r + x")]);
    assert_eq!(err, "forward: `r` = sqrt(x) has derivative inf with respect to `x` at x = 0");
}

#[test]
fn a_non_finite_source_is_named() {
    let err = forward_error(&[("x", Input, 1.0), ("w", Weight, f64::NAN)], &[("out", "w * x")]);
    assert_eq!(err, "weight `w` has the non-finite value NaN");
}

#[test]
fn backward_overflow_is_named() {
    // Values stay finite (y = 1e-100, z = 1e100) but dz/dx = 1e400 overflows at x.
    let dag = compile(&[("x", Input, 0.0)], &[("y", "1e200 * x"), ("z", "1e200 * y")]).unwrap();
    let mut tape = dag.tape();
    let x = dag.sources().next().unwrap();
    tape.set(x, 1e-300);
    dag.forward(&mut tape).unwrap();
    let z = dag.outputs().next().unwrap();
    let err = dag.reverse(&tape, &[(z, 1.0)]).unwrap_err().to_string();
    assert_eq!(err, "backward: the derivative with respect to `x` (input) is inf; its inputs: none");
}

#[test]
fn function_arguments_must_match_the_edges() {
    let mut g = DiGraph::new();
    let x = g.add_node("x", Input, Variable::SCALAR).unwrap();
    let y = g.add_node("y", Input, Variable::SCALAR).unwrap();
    let out = g.add_node("out", Role::Output, Variable::SCALAR).unwrap();
    g.add_edge(x, out, EdgeWeight::None).unwrap();
    let func: std::sync::Arc<dyn cg_core::LocalFunction> = std::sync::Arc::new(cg_expr::Expr::parse("a").unwrap());
    let mut functions = vec![None; 3];
    functions[out.index()] = Some(NodeFunction { func: func.clone(), args: vec![y] });
    let err = ScalarDag::new(&g, functions).err().unwrap();
    assert_eq!(err.to_string(), "node `out`: function arguments differ from the incoming edges");
    let err = ScalarDag::new(&g, vec![None; 3]).err().unwrap();
    assert_eq!(err.to_string(), "node `out`: a computed node needs a function");
}
