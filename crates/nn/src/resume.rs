//! Saving a training run's parameters between two epochs and putting them back (a run stopped
//! with `--stop-after` and continued with `--resume`).

use cg_autodiff::vector::VectorTape;
use cg_core::{NodeId, Snapshot, SnapshotError};

use crate::Float;

/// Saves the parameter values as `param/<k>` (column-major, widened to f64: exact for f32).
pub(crate) fn save_params<T: Float>(params: &[NodeId], tape: &VectorTape<T>, into: &mut Snapshot) {
    for (k, &p) in params.iter().enumerate() {
        let m = tape.get(p).expect("internal: parameters are initialised");
        into.put_tensor(&format!("param/{k}"), vec![m.ncols(), m.nrows()], m.iter().map(|v| v.as_f64()));
    }
}

/// Puts back what [`save_params`] saved into a tape whose parameters have their shapes.
pub(crate) fn restore_params<T: Float>(
    params: &[NodeId],
    tape: &mut VectorTape<T>,
    from: &Snapshot,
) -> Result<(), SnapshotError> {
    for (k, &p) in params.iter().enumerate() {
        let m = tape.get_mut(p).expect("internal: parameters are initialised");
        let saved = from.tensor(&format!("param/{k}"), m.len())?;
        m.iter_mut().zip(saved).for_each(|(v, &s)| *v = T::cast(s));
    }
    Ok(())
}
