//! Losses from an output node to a scalar, averaged over the columns (samples) of a batch. Each
//! returns the loss and its gradient with respect to the output, the seed Δ(t) of reverse mode.

use super::{Mat, Real};
use cg_core::numeric::{sigmoid, softplus};

/// A loss L(o, y) per sample, averaged over the batch. `o` is the output node's value; `y` holds
/// the targets in the same shape (one-hot columns for classifiers with several outputs, ±1 for
/// the margin losses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Σ_r (o_r - y_r)².
    SquaredError,
    /// -Σ_r y_r log(o_r): with y = 1 it is the chapter's -log(o); with one-hot y, the negative
    /// log-probability of the true class.
    NegLog,
    /// log(1 + exp(-y o)), y ∈ {-1, +1} (logistic regression, Problem 11.2.1).
    Logistic,
    /// (1 - y o)², y ∈ {-1, +1} (Widrow-Hoff, least-squares classification, exercise 2; equal to
    /// (y - o)² because y² = 1).
    WidrowHoff,
    /// max(0, 1 - y o) (L1-loss SVM, Problem 11.2.2).
    Hinge,
    /// max(0, 1 - y o)² (L2-loss SVM, exercise 1).
    SquaredHinge,
    /// -Σ_r y_r log softmax(o)_r on logits o, by log-sum-exp (multinomial logistic regression,
    /// exercise 24).
    SoftmaxCrossEntropy,
    /// Σ_{r ≠ c} max(0, 1 + o_r - o_c) for the true class c (one-hot y): the Weston-Watkins
    /// multiclass SVM (exercise 25).
    WestonWatkins,
}

impl Loss {
    /// Every loss, for listing in messages.
    pub const ALL: [Loss; 8] = [
        Loss::SquaredError,
        Loss::NegLog,
        Loss::Logistic,
        Loss::WidrowHoff,
        Loss::Hinge,
        Loss::SquaredHinge,
        Loss::SoftmaxCrossEntropy,
        Loss::WestonWatkins,
    ];

    /// The name used in configs.
    pub fn name(self) -> &'static str {
        match self {
            Loss::SquaredError => "squared_error",
            Loss::NegLog => "neg_log",
            Loss::Logistic => "logistic",
            Loss::WidrowHoff => "widrow_hoff",
            Loss::Hinge => "hinge",
            Loss::SquaredHinge => "squared_hinge",
            Loss::SoftmaxCrossEntropy => "softmax_cross_entropy",
            Loss::WestonWatkins => "weston_watkins",
        }
    }

    /// The loss with this config name.
    pub fn from_name(name: &str) -> Option<Loss> {
        Loss::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Mean loss over the columns and its gradient with respect to `o`. Sums are taken in f64
    /// whatever `T` is.
    ///
    /// # Panics
    /// If `o` and `y` differ in shape (callers build targets from the same network).
    pub fn value_and_grad<T: Real>(self, o: &Mat<T>, y: &Mat<T>) -> (f64, Mat<T>) {
        self.value_and_grad_of_part(o, y, o.ncols().max(1))
    }

    /// `value_and_grad` for some of the columns of a mini-batch of `batch_size`: the sum over
    /// these columns divided by `batch_size`, so the parts of a batch add up to the batch's mean
    /// loss and gradient.
    ///
    /// # Panics
    /// As `value_and_grad`.
    pub fn value_and_grad_of_part<T: Real>(self, o: &Mat<T>, y: &Mat<T>, batch_size: usize) -> (f64, Mat<T>) {
        assert_eq!(o.shape(), y.shape(), "internal: output and target shapes differ");
        let b = batch_size as f64;
        let mut grad = Mat::<T>::zeros(o.nrows(), o.ncols());
        let (o64, y64) = (|i, j| o[(i, j)].as_f64(), |i, j| y[(i, j)].as_f64());
        let mut total = 0.0;
        match self {
            Loss::SoftmaxCrossEntropy => {
                for j in 0..o.ncols() {
                    let m = (0..o.nrows()).map(|i| o64(i, j)).fold(f64::NEG_INFINITY, f64::max);
                    let lse = m + (0..o.nrows()).map(|i| (o64(i, j) - m).exp()).sum::<f64>().ln();
                    let ysum: f64 = (0..o.nrows()).map(|i| y64(i, j)).sum();
                    for i in 0..o.nrows() {
                        total += y64(i, j) * (lse - o64(i, j));
                        grad[(i, j)] = T::cast(((o64(i, j) - lse).exp() * ysum - y64(i, j)) / b);
                    }
                }
            }
            Loss::WestonWatkins => {
                for j in 0..o.ncols() {
                    let c = (0..o.nrows()).max_by(|&a, &b| y64(a, j).total_cmp(&y64(b, j))).unwrap_or(0);
                    for r in (0..o.nrows()).filter(|&r| r != c) {
                        let m = 1.0 + o64(r, j) - o64(c, j);
                        if m > 0.0 {
                            total += m;
                            grad[(r, j)] += T::cast(1.0 / b);
                            grad[(c, j)] -= T::cast(1.0 / b);
                        }
                    }
                }
            }
            _ => {
                for j in 0..o.ncols() {
                    for i in 0..o.nrows() {
                        let (l, d) = self.pointwise(o64(i, j), y64(i, j));
                        total += l;
                        grad[(i, j)] = T::cast(d / b);
                    }
                }
            }
        }
        (total / b, grad)
    }

    /// Loss and derivative of one output component.
    fn pointwise(self, o: f64, y: f64) -> (f64, f64) {
        match self {
            Loss::SquaredError => ((o - y).powi(2), 2.0 * (o - y)),
            Loss::NegLog => (-y * o.ln(), -y / o),
            Loss::Logistic => {
                // softplus(-y o), stable for large |y o|; derivative -y sigmoid(-y o).
                let z = -y * o;
                (softplus(z), -y * sigmoid(z))
            }
            Loss::WidrowHoff => ((1.0 - y * o).powi(2), -2.0 * y * (1.0 - y * o)),
            Loss::Hinge => {
                let m = 1.0 - y * o;
                if m > 0.0 {
                    (m, -y)
                } else {
                    (0.0, 0.0)
                }
            }
            Loss::SquaredHinge => {
                let m = (1.0 - y * o).max(0.0);
                (m * m, -2.0 * y * m)
            }
            Loss::SoftmaxCrossEntropy | Loss::WestonWatkins => unreachable!("handled per column"),
        }
    }
}
