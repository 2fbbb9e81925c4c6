//! Seeded random DAGs, for property tests and benchmarks.
//!
//! Sources first, then computed nodes; each computed node reads 1..=`max_fan_in` distinct earlier
//! nodes, drawn uniformly from the last `window` nodes (all earlier nodes when `window` is
//! `None`). Nodes nobody reads are outputs. The function of each node comes from a caller-given
//! factory, so this crate stays independent of the expression language.

use std::sync::Arc;

use cg_core::{DiGraph, EdgeWeight, LocalFunction, Role, Variable};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{NodeFunction, Result, ScalarDag, Tape};

/// The shape of a random DAG.
#[derive(Clone, Copy, Debug)]
pub struct RandomDagSpec {
    /// Input and weight nodes.
    pub n_sources: usize,
    /// Computed nodes, each a function of earlier nodes.
    pub n_computed: usize,
    /// The most arguments a computed node takes.
    pub max_fan_in: usize,
    /// Draw arguments from the last `window` nodes only (locality, as in layered networks).
    pub window: Option<usize>,
    /// Sources are drawn uniformly from `[-source_range, source_range]`.
    pub source_range: f64,
}

/// Builds a random DAG and a tape whose sources are set (not yet run forward). `make_function`
/// receives the arity and returns a function of that many arguments.
///
/// # Errors
/// Whatever [`ScalarDag::new`] reports for a factory whose functions have the wrong arity.
pub fn random_dag(
    spec: RandomDagSpec,
    seed: u64,
    mut make_function: impl FnMut(usize, &mut ChaCha8Rng) -> Arc<dyn LocalFunction>,
) -> Result<(ScalarDag, Tape)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = spec.n_sources + spec.n_computed;
    let mut arg_lists: Vec<Vec<usize>> = Vec::with_capacity(spec.n_computed);
    let mut has_child = vec![false; n];
    for k in spec.n_sources..n {
        let lo = spec.window.map_or(0, |w| k.saturating_sub(w));
        let fan_in = rng.random_range(1..=spec.max_fan_in.min(k - lo).max(1));
        let args: Vec<usize> = sample(&mut rng, k - lo, fan_in).into_iter().map(|a| a + lo).collect();
        for &a in &args {
            has_child[a] = true;
        }
        arg_lists.push(args);
    }
    let mut g = DiGraph::new();
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let (name, role) = if k < spec.n_sources {
            (format!("x{k}"), Role::Input)
        } else {
            (format!("n{}", k - spec.n_sources), if has_child[k] { Role::Hidden } else { Role::Output })
        };
        ids.push(g.add_node(&name, role, Variable::SCALAR)?);
    }
    let mut functions: Vec<Option<NodeFunction>> = vec![None; n];
    for (offset, arg_list) in arg_lists.into_iter().enumerate() {
        let k = spec.n_sources + offset;
        for &a in &arg_list {
            g.add_edge(ids[a], ids[k], EdgeWeight::None)?;
        }
        let func = make_function(arg_list.len(), &mut rng);
        functions[k] = Some(NodeFunction { func, args: arg_list.iter().map(|&a| ids[a]).collect() });
    }
    let dag = ScalarDag::new(&g, functions)?;
    let mut tape = dag.tape();
    for &id in ids.iter().take(spec.n_sources) {
        tape.set(id, rng.random_range(-spec.source_range..=spec.source_range));
    }
    Ok((dag, tape))
}
