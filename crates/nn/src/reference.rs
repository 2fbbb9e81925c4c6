//! Independent optima for the networks that are classical models (Table 11.2): a single linear
//! layer with one of the chapter's losses is linear or logistic regression, an SVM or softmax
//! regression, solved without gradient descent by `cg_optim::reference`; a linear d-k-d
//! autoencoder is matrix factorisation, whose optimum is the rank-k truncated SVD.

use cg_autodiff::vector::{Activation, Loss};
use cg_data::Dataset;
use cg_optim::reference::{linear_model_optimum, LinearLoss, LinearProblem};
use nalgebra::{DMatrix, DVector};

use crate::{ModelParams, OutputKind, TrainParams};

/// The reference optimum of a single-layer model (identity output) trained with `params` on
/// `train`: the objective mean loss + λ/2 ‖θ‖² (λ the weight decay, θ every weight and bias, or
/// the weights alone with `penalize_bias = false`) and
/// θ = [W | b] (k × (d + 1)). `None` for other models, or where no reference solver applies.
pub fn linear_optimum(spec: &ModelParams, train: &Dataset, params: &TrainParams) -> Option<(f64, DMatrix<f64>)> {
    if spec.layers.len() != 2 || spec.output != OutputKind::Activation(Activation::Identity) {
        return None;
    }
    let loss = match spec.loss {
        Loss::SquaredError => LinearLoss::SquaredError,
        Loss::WidrowHoff => LinearLoss::WidrowHoff,
        Loss::Logistic => LinearLoss::Logistic,
        Loss::Hinge => LinearLoss::Hinge,
        Loss::SquaredHinge => LinearLoss::SquaredHinge,
        Loss::WestonWatkins => LinearLoss::WestonWatkins,
        Loss::SoftmaxCrossEntropy => LinearLoss::SoftmaxCrossEntropy,
        Loss::NegLog => return None,
    };
    let (d, k, n) = (spec.layers[0], spec.layers[1], train.n_samples());
    let lambda = params.optimizer.weight_decay;
    let x = DMatrix::from_fn(n, d + 1, |i, j| if j < d { train.features[(j, i)] } else { 1.0 });
    let targets = crate::Mlp::<f64>::new(spec.clone()).encode_targets(&train.targets).ok()?;
    let y = DVector::from_iterator(n, targets.row(0).iter().copied());
    let constraint = match params.constraints.as_slice() {
        [] => None,
        [c] if c.params == [0] => Some(&c.constraint),
        _ => return None,
    };
    let labels: Vec<usize> = train.targets.iter().map(|&t| t as usize).collect();
    let penalize_bias = spec.penalize_bias;
    let problem = LinearProblem { loss, x: &x, y: &y, labels: &labels, classes: k, lambda, penalize_bias, constraint };
    let theta = linear_model_optimum(&problem)?;
    Some((objective(spec.loss, &x, &targets, &theta, lambda, penalize_bias), theta))
}

/// Mean loss of the linear model θ = [W | b] on rows of `x` (intercept column last) + λ/2 ‖θ‖²
/// (‖W‖² alone when the bias is not penalised).
pub fn objective(
    loss: Loss,
    x: &DMatrix<f64>,
    targets: &DMatrix<f64>,
    theta: &DMatrix<f64>,
    lambda: f64,
    penalize_bias: bool,
) -> f64 {
    let out = theta * x.transpose();
    let d = theta.ncols() - 1;
    let penalised = if penalize_bias { theta.norm_squared() } else { theta.columns(0, d).norm_squared() };
    loss.value_and_grad(&out, targets).0 + 0.5 * lambda * penalised
}

/// How a linear autoencoder's decoder compares with the rank-k truncated SVD of the data.
#[derive(Clone, Debug, PartialEq)]
pub struct FactorisationCheck {
    /// The optimal mean reconstruction error: the discarded eigenvalues of XᵀX over n.
    pub optimum: f64,
    /// The largest principal angle between the decoder's columns and the top-k right singular
    /// vectors (from the singular values of V_kᵀ Q, Q an orthonormal basis of W2).
    pub largest_principal_angle: f64,
    /// The singular values, largest first.
    pub singular_values: Vec<f64>,
}

/// For a linear d-k-d autoencoder with decoder `w2` (d × k) on the samples of `train`: the
/// truncated SVD computed by nalgebra (exercise 19). `None` for other models.
pub fn factorisation_check(spec: &ModelParams, train: &Dataset, w2: &DMatrix<f64>) -> Option<FactorisationCheck> {
    let linear = spec.hidden == Activation::Identity && spec.output == OutputKind::Activation(Activation::Identity);
    if !spec.autoencoder || spec.layers.len() != 3 || !linear {
        return None;
    }
    let (d, k, n) = (spec.layers[0], spec.layers[1], train.n_samples() as f64);
    let x = train.features.transpose();
    let eig = (x.transpose() * &x).symmetric_eigen();
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let vk = eig.eigenvectors.select_columns(&order[..k]);
    let optimum: f64 = order[k..].iter().map(|&i| eig.eigenvalues[i].max(0.0)).sum::<f64>() / n;
    let q = w2.clone().qr().q();
    let cosines = (vk.transpose() * q).singular_values();
    let angle = cosines.iter().fold(1.0f64, |a, &c| a.min(c)).clamp(-1.0, 1.0).acos();
    let singular_values = order[..k].iter().map(|&i| eig.eigenvalues[i].max(0.0).sqrt()).collect();
    Some(FactorisationCheck { optimum, largest_principal_angle: angle, singular_values })
}

/// A trained network against its reference optimum, as a run reports it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Comparison {
    /// A single linear layer against the classical model's optimum.
    Linear {
        /// The reference's objective (mean loss + λ/2 ‖θ‖²).
        objective: f64,
        /// The trained objective minus the reference's (≥ 0 up to rounding at the optimum).
        gap: f64,
        /// max |θ_trained - θ_reference| / max |θ_reference|.
        max_weight_difference_relative: f64,
        /// θ = [W | b] of the reference, column-major.
        weights: Vec<f64>,
    },
    /// A linear autoencoder against the truncated SVD.
    Factorisation {
        /// The optimal mean reconstruction error.
        objective: f64,
        /// The trained reconstruction error minus the optimum.
        gap: f64,
        /// The largest principal angle between the decoder and the top singular vectors.
        largest_principal_angle: f64,
        /// The data's singular values, largest first.
        singular_values: Vec<f64>,
    },
}

impl Comparison {
    /// The trained objective minus the reference's.
    pub fn gap(&self) -> f64 {
        match self {
            Comparison::Linear { gap, .. } | Comparison::Factorisation { gap, .. } => *gap,
        }
    }

    /// A single-layer model's trained weights `w` (k × d) and biases `b` (k × 1), with its
    /// trained `objective`, against [`linear_optimum`]. `None` where no reference applies.
    pub fn linear(
        spec: &ModelParams,
        train: &Dataset,
        params: &TrainParams,
        objective: f64,
        w: &DMatrix<f64>,
        b: &DMatrix<f64>,
    ) -> Option<Comparison> {
        let (reference, theta) = linear_optimum(spec, train, params)?;
        // The trained θ = [W | b] in the reference's layout.
        let trained =
            DMatrix::from_fn(theta.nrows(), theta.ncols(), |i, j| if j < w.ncols() { w[(i, j)] } else { b[(i, 0)] });
        let scale = theta.amax().max(1e-300);
        Some(Comparison::Linear {
            objective: reference,
            gap: objective - reference,
            max_weight_difference_relative: (&trained - &theta).amax() / scale,
            weights: theta.iter().copied().collect(),
        })
    }

    /// A linear autoencoder with decoder `w2` and trained mean reconstruction error `loss`,
    /// against [`factorisation_check`]. `None` for other models.
    pub fn factorisation(spec: &ModelParams, train: &Dataset, w2: &DMatrix<f64>, loss: f64) -> Option<Comparison> {
        let check = factorisation_check(spec, train, w2)?;
        Some(Comparison::Factorisation {
            objective: check.optimum,
            gap: loss - check.optimum,
            largest_principal_angle: check.largest_principal_angle,
            singular_values: check.singular_values,
        })
    }
}
