//! `cg-core`: the graph model every solver of the toolkit works on.
//!
//! A computational graph (chapter 11, section 11.2) is a set of named nodes, each holding a variable,
//! joined by edges that may carry a weight. Directed acyclic graphs carry deterministic computations
//! (neural networks, regression models); undirected graphs carry models whose relations run both ways
//! (Hopfield networks, Boltzmann machines, Markov networks).
//!
//! Directed versus undirected is a type parameter ([`Directed`], [`Undirected`]), so operations that
//! only make sense on one kind, like [`Graph::topological_order`], exist only there.
//!
//! The crate also defines [`LocalFunction`], the capability a computed node needs from whoever
//! supplies its function (the expression language in `cg-expr`, or hand-written operations): the
//! value and the local partial derivatives z(i, j) of the node with respect to its arguments.
//!
//! # Example
//! ```
//! use cg_core::{DiGraph, EdgeWeight, Role, Shape, Variable};
//! let mut g = DiGraph::new();
//! let scalar = Variable::Continuous(Shape::Scalar);
//! let x = g.add_node("x", Role::Input, scalar).unwrap();
//! let h = g.add_node("h", Role::Hidden, scalar).unwrap();
//! let y = g.add_node("y", Role::Output, scalar).unwrap();
//! g.add_edge(x, h, EdgeWeight::Fixed(0.5)).unwrap();
//! g.add_edge(h, y, EdgeWeight::None).unwrap();
//! assert_eq!(g.topological_order().unwrap(), [x, h, y]);
//! // A DAG is required for derivatives: closing a loop is named, node by node.
//! g.add_edge(y, x, EdgeWeight::None).unwrap();
//! assert_eq!(g.topological_order().unwrap_err().to_string(), "cycle: x -> h -> y -> x");
//! ```

#![warn(missing_docs)]

pub mod checkpoint;
mod dispatch;
mod error;
mod graph;
pub mod interrupt;
pub mod lanes;
mod local;
pub mod numeric;
mod params;
mod pool;
pub mod rows;
pub mod solver;
mod topo;

pub use checkpoint::{Checkpoint, Resumable, Snapshot, SnapshotError};
pub use error::{CyclePath, Error, Result};
pub use graph::{DiGraph, Domain, Edge, EdgeWeight, Graph, Node, NodeId, Role, Shape, UnGraph, Variable};
pub use local::LocalFunction;
pub use params::{OutOfRange, Validate};
pub use petgraph::{Directed, EdgeType, Undirected};
pub use pool::{join_global_pool, with_workers_awake};
pub use rows::{MapValues, RowChunks, SliceChunks};
pub use solver::{
    diverged_if_not_finite, run, run_guarded, run_recorded, run_steps, Differentiable, DivergenceGuard, Flow,
    Objective, Observer, Recorder, RunOutcome, Solver, StepInfo, Stop, DIVERGENCE_FACTOR,
};
