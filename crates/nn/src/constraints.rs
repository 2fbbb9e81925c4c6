//! Projected gradient descent on named parameter nodes: the one projection every trainer (MLP,
//! RNN, general models) applies after initialisation and after each update.

use cg_autodiff::vector::VectorTape;
use cg_core::NodeId;
use cg_optim::ParamConstraint;

use crate::Float;

/// The values of a constraint's parameters joined in order (each matrix column-major), as f64.
/// `params` maps the constraint's parameter indices to nodes.
fn gather<T: Float>(params: &[NodeId], tape: &VectorTape<T>, c: &ParamConstraint) -> Vec<f64> {
    c.params
        .iter()
        .flat_map(|&k| tape.get(params[k]).expect("internal: parameters are initialised").iter().map(|v| v.as_f64()))
        .collect()
}

/// Projects every constrained group of parameters onto its set.
pub fn project<T: Float>(params: &[NodeId], tape: &mut VectorTape<T>, constraints: &[ParamConstraint]) {
    for c in constraints {
        let mut flat = gather(params, tape, c);
        c.constraint.project(&mut flat);
        let mut at = 0;
        for &k in &c.params {
            let m = tape.get_mut(params[k]).expect("internal: parameters are initialised");
            for v in m.iter_mut() {
                *v = T::cast(flat[at]);
                at += 1;
            }
        }
    }
}

/// The largest violation over all constraints.
pub fn violation<T: Float>(params: &[NodeId], tape: &VectorTape<T>, constraints: &[ParamConstraint]) -> f64 {
    constraints.iter().map(|c| c.constraint.violation(&gather(params, tape, c))).fold(0.0, f64::max)
}
