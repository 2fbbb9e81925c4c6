//! Helpers shared by the integration tests: DAGs written as named expressions.
#![allow(dead_code)]

use cg_autodiff::{NodeFunction, ScalarDag, Tape};
use cg_core::{NodeId, Role};

/// A compiled DAG with its tape after the forward pass.
pub struct Built {
    pub dag: ScalarDag,
    pub tape: Tape,
}

impl Built {
    pub fn id(&self, name: &str) -> NodeId {
        self.dag.order().iter().copied().find(|&id| self.dag.name(id) == name).unwrap()
    }

    pub fn value(&self, name: &str) -> f64 {
        self.tape.value(self.id(name))
    }

    /// d `to` / d `from` by reverse mode seeded at `to`.
    pub fn reverse(&self, from: &str, to: &str) -> f64 {
        self.dag.reverse(&self.tape, &[(self.id(to), 1.0)]).unwrap()[self.id(from)]
    }
}

/// Compiles a DAG: `sources` are `(name, role, value)`, `nodes` `(name, expression)`; the last
/// node is the output.
pub fn compile(sources: &[(&str, Role, f64)], nodes: &[(&str, &str)]) -> Result<ScalarDag, cg_autodiff::Error> {
    let src: Vec<(&str, Role)> = sources.iter().map(|&(n, r, _)| (n, r)).collect();
    let last = nodes.len() - 1;
    let nodes: Vec<(&str, &str, Role)> = nodes
        .iter()
        .enumerate()
        .map(|(k, &(n, e))| (n, e, if k == last { Role::Output } else { Role::Hidden }))
        .collect();
    let eg = cg_expr::build_graph(&src, &nodes).expect("test graph must parse");
    let functions = eg.functions.into_iter().map(|f| f.map(|(func, args)| NodeFunction { func, args })).collect();
    ScalarDag::new(&eg.graph, functions)
}

/// Compiles and runs the forward pass.
pub fn build(sources: &[(&str, Role, f64)], nodes: &[(&str, &str)]) -> Built {
    let dag = compile(sources, nodes).unwrap();
    let mut tape = dag.tape();
    for &(name, _, v) in sources {
        let id = dag.order().iter().copied().find(|&id| dag.name(id) == name).unwrap();
        tape.set(id, v);
    }
    dag.forward(&mut tape).unwrap();
    Built { dag, tape }
}

/// Asserts |a - b| <= tol * max(1, |b|).
#[track_caller]
pub fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol * b.abs().max(1.0), "{a} != {b} (tolerance {tol})");
}
