//! The SVD learned by a network one direction at a time (exercise 20). Direction k trains a
//! linear d-1-d autoencoder, full batch, on the data with the first k-1 learned directions
//! projected out; the decoder's column, orthogonalised against the earlier directions and
//! normalised, is the k-th right singular vector, and ‖X v_k‖ the k-th singular value.

use cg_autodiff::vector::{Activation, Loss};
use cg_core::Validate;
use cg_data::Dataset;
use cg_optim::OptimizerParams;
use nalgebra::{DMatrix, DVector};
use rand_chacha::ChaCha8Rng;

use crate::{train, Error, Init, Mlp, ModelConfig, OutputKind, Precision, Result, TrainParams};

/// One learned direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Direction {
    /// Unit length, orthogonal to the earlier directions.
    pub vector: DVector<f64>,
    /// ‖X v‖ on the original (undeflated) data.
    pub singular_value: f64,
}

/// Learns `count` directions of `data` (rows are samples), each by `epochs` full-batch epochs of
/// `optimizer`, drawing initial weights from `rng`.
///
/// # Errors
/// A non-finite number while training a direction, naming it.
pub fn learn_directions(
    data: &DMatrix<f64>,
    count: usize,
    optimizer: OptimizerParams,
    epochs: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Direction>> {
    let (n, d) = (data.nrows(), data.ncols());
    let spec = ModelConfig {
        layers: vec![d, 1, d],
        hidden: Activation::Identity,
        output: OutputKind::Activation(Activation::Identity),
        loss: Loss::SquaredError,
        init: Some(Init::Xavier),
        autoencoder: true,
        penalize_bias: true,
    }
    .validate()?;
    let params = TrainParams {
        epochs,
        batch_size: n,
        optimizer,
        precision: Precision::F64,
        constraints: vec![],
        undecayed: vec![],
    };
    let mut residual = data.clone();
    let mut basis: Vec<Direction> = vec![];
    for k in 0..count {
        let mlp = Mlp::<f64>::new(spec.clone());
        let mut tape = mlp.init(rng);
        let dataset = Dataset {
            features: residual.transpose(),
            targets: vec![0.0; n],
            feature_names: (0..d).map(|i| format!("x{i}")).collect(),
            target_name: "none".into(),
        };
        train(&mlp.net, &mut tape, &dataset, None, &params, rng, &mut [])
            .map_err(|e| e.at(format!("direction {}", k + 1)))?;
        // The decoder column spans the learned direction; orthogonalise and normalise it.
        let mut v = tape.get(mlp.params[2]).expect("internal: W2").column(0).into_owned();
        for b in &basis {
            v -= &b.vector * b.vector.dot(&v);
        }
        v /= v.norm();
        if !v.iter().all(|x| x.is_finite()) {
            let what = Error::Diverged("the decoder column is zero or not finite".into());
            return Err(what.at(format!("direction {}", k + 1)));
        }
        residual -= (&residual * &v) * v.transpose();
        basis.push(Direction { singular_value: (data * &v).norm(), vector: v });
    }
    Ok(basis)
}
