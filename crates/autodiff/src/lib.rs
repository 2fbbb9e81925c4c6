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

// Unsafe code only where a module allows it (the AVX-512 kernel in `vector::few_rows`).
#![deny(unsafe_code)]

mod dag;
mod error;
mod finite_diff;
mod paths;
pub mod random;
mod sweeps;

pub use dag::{NodeFunction, PerNode, ScalarDag, Tape};
pub use error::{Error, Result};
pub use finite_diff::{central_difference, richardson_difference};
pub use paths::PathSum;
pub use sweeps::AllPairs;
pub mod vector;
