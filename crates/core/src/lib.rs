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

pub mod checkpoint;
mod dispatch;
mod error;
mod graph;
pub mod interrupt;
mod local;
pub mod numeric;
mod params;
pub mod solver;
mod topo;

pub use checkpoint::{Checkpoint, Resumable, Snapshot, SnapshotError};
pub use error::{CyclePath, Error, Result};
pub use graph::{DiGraph, Domain, Edge, EdgeWeight, Graph, Node, NodeId, Role, Shape, UnGraph, Variable};
pub use local::LocalFunction;
pub use params::{OutOfRange, Validate};
pub use petgraph::{Directed, EdgeType, Undirected};
pub use solver::{
    diverged_if_not_finite, run, run_guarded, run_recorded, run_steps, Differentiable, DivergenceGuard, Flow,
    Objective, Observer, Recorder, RunOutcome, Solver, StepInfo, Stop, DIVERGENCE_FACTOR,
};
