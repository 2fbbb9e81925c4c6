//! `cg-autodiff`: derivatives on directed acyclic computational graphs with scalar nodes
//! (chapter 11, section 11.3).
//!
//! A [`ScalarDag`] is compiled once from a [`cg_core::DiGraph`] and the [`cg_core::LocalFunction`]
//! of every computed node; a [`Tape`] holds one evaluation of it. Every algorithm below works from
//! the local partial derivatives z(i, j) = ∂y(j)/∂y(i) that the forward phase stores on the edges:
//!
//! | algorithm | computes | cost (n nodes, m edges) |
//! |---|---|---|
//! | [`ScalarDag::forward`] | every y(j), and z(i, j) on every edge | O(n + m) local evaluations |
//! | [`ScalarDag::reverse`] | Δ(i) = ∂L/∂y(i) for every node, from seeds Δ(t) = ∂L/∂y(t) at the outputs: Δ(i) = Σ_{j ∈ A(i)} Δ(j) z(i, j) | O(n + m) |
//! | [`ScalarDag::tangents`] | forward mode (exercise 14): ∂y(j)/∂y(s) for every j, from one node s | O(n + m) per s |
//! | [`ScalarDag::all_pairs`] | S(i, j) = ∂y(j)/∂y(i) for every pair joined by a path (exercise 15) | O(n (n + m)), one sparse forward sweep per node |
//! | [`ScalarDag::pathwise`] | S(s, t) as a sum over explicit paths of products of z (Lemma 11.3.1) | O(number of paths × length): exponential |
//! | [`ScalarDag::finite_difference`] | central differences with Richardson extrapolation, to check the rest | two forward passes per step |
//!
//! Weights are nodes (the weighted graph of Figure 11.9 turned into the unweighted graph of Figure
//! 11.10), so loss-to-weight derivatives are the reverse-mode Δ of the weight nodes, and a weight
//! used on several edges (a shared weight) collects the sum over its uses without extra code.
//!
//! The derivative of a node that is itself computed is taken "as if it were free": perturbing y(i)
//! without changing i's own inputs, which is what the path sums of the chapter mean.
//!
//! Values are `f64`; the compiled structure (topological order, argument lists, child lists) does
//! not depend on that, so vector-valued nodes can reuse it with Jacobian-vector products in place
//! of the scalar products here.
//!
//! # Example
//! y = sin(w x) + w x and loss = (y - t)², with dloss/dw three ways:
//! ```
//! use cg_autodiff::{NodeFunction, ScalarDag};
//! use cg_core::Role;
//!
//! let sources = [("x", Role::Input), ("w", Role::Weight), ("t", Role::Input)];
//! let nodes = [("a", "w * x", Role::Hidden), ("y", "sin(a) + a", Role::Hidden), ("loss", "(y - t) ^ 2", Role::Output)];
//! let built = cg_expr::build_graph(&sources, &nodes).unwrap();
//! let functions = built.functions.into_iter().map(|f| f.map(|(func, args)| NodeFunction { func, args })).collect();
//! let dag = ScalarDag::new(&built.graph, functions).unwrap();
//! let id = |name: &str| built.graph.id(name).unwrap();
//! let mut tape = dag.tape();
//! for (name, value) in [("x", 1.5), ("w", 0.7), ("t", 2.0)] {
//!     tape.set(id(name), value);
//! }
//! dag.forward(&mut tape).unwrap();
//! let (w, loss) = (id("w"), id("loss"));
//! let backprop = dag.reverse(&tape, &[(loss, 1.0)]).unwrap()[w];
//! let forward_mode = dag.tangents(&tape, w)[loss];
//! let (a, y) = (1.05_f64, 1.05_f64.sin() + 1.05);
//! let by_hand = 2.0 * (y - 2.0) * (a.cos() + 1.0) * 1.5;
//! assert!((backprop - by_hand).abs() < 1e-12 && (forward_mode - by_hand).abs() < 1e-12);
//! ```

// Unsafe code only where a module allows it (the AVX-512 kernel in `vector::few_rows`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod dag;
mod error;
mod finite_diff;
mod paths;
pub mod random;
mod report;
mod sweeps;

pub use dag::{NodeFunction, PerNode, ScalarDag, Tape};
pub use error::{Error, Result};
pub use finite_diff::{central_difference, richardson_difference};
pub use paths::PathSum;
pub use report::DerivativeReport;
pub use sweeps::AllPairs;
pub mod vector;
