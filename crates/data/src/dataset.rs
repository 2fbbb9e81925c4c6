//! Samples as columns, splits, standardisation and a generated set.

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Error, Result};

/// Samples as columns of `features`, with one target value per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// n_features × n_samples.
    pub features: DMatrix<f64>,
    /// One target value per sample.
    pub targets: Vec<f64>,
    /// The features' names, in row order.
    pub feature_names: Vec<String>,
    /// The target's name.
    pub target_name: String,
}

impl Dataset {
    /// Number of samples.
    pub fn n_samples(&self) -> usize {
        self.features.ncols()
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.features.nrows()
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            features: self.features.select_columns(indices),
            targets: indices.iter().map(|&i| self.targets[i]).collect(),
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
        }
    }

    /// A seeded random split into (train, test), `test_fraction` of the samples (rounded) in test.
    ///
    /// # Errors
    /// `test_fraction` outside [0, 1).
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "test_fraction",
                value: test_fraction,
                expected: "0 <= f < 1",
            }));
        }
        let (order, n_test) = self.split_order(test_fraction, seed);
        if n_test >= self.n_samples() {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "test_fraction",
                value: test_fraction,
                expected: "small enough to leave a training sample",
            }));
        }
        let (test, train) = order.split_at(n_test);
        Ok((self.subset(train), self.subset(test)))
    }

    /// The seeded shuffle behind a split: the first `n_test` rows of the order are the test part.
    fn split_order(&self, test_fraction: f64, seed: u64) -> (Vec<usize>, usize) {
        let mut order: Vec<usize> = (0..self.n_samples()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let n_test = (test_fraction.clamp(0.0, 1.0) * self.n_samples() as f64).round() as usize;
        (order, n_test)
    }

    /// The rows [`Dataset::split`] puts in the test part, ascending.
    pub fn test_rows(&self, test_fraction: f64, seed: u64) -> Vec<usize> {
        let (order, n_test) = self.split_order(test_fraction, seed);
        let mut rows = order[..n_test].to_vec();
        rows.sort_unstable();
        rows
    }

    /// Number of classes, when every target is a class label 0, 1, 2, ... (the largest plus one).
    ///
    /// # Errors
    /// [`Error::NotAClass`] for a negative or fractional target.
    pub fn class_count(&self) -> Result<usize> {
        class_count(&self.targets).map_err(|value| Error::NotAClass { target: self.target_name.clone(), value })
    }
}

/// The number of classes of `targets` when every one is a class label 0, 1, 2, ... (the largest
/// plus one), or the first that is not (negative, fractional or not finite): the one rule for
/// whether targets are class labels, whether they are held in a [`Dataset`] or streamed.
///
/// # Errors
/// The first target that is not a class label.
pub fn class_count(targets: &[f64]) -> std::result::Result<usize, f64> {
    let mut k = 0;
    for &t in targets {
        if t < 0.0 || t.fract() != 0.0 || !t.is_finite() {
            return Err(t);
        }
        k = k.max(t as usize + 1);
    }
    Ok(k)
}

/// Per-feature mean and standard deviation, fitted on training data and applied to any split.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Per-feature mean.
    pub mean: Vec<f64>,
    /// Population standard deviation; a constant feature gets 1 so that it maps to 0.
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits on `data`.
    pub fn fit(data: &Dataset) -> Standardizer {
        let n = data.n_samples().max(1) as f64;
        let mut mean = vec![0.0; data.n_features()];
        let mut scale = vec![1.0; data.n_features()];
        for (f, row) in data.features.row_iter().enumerate() {
            let m = row.sum() / n;
            let var = row.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
            mean[f] = m;
            if var > 0.0 {
                scale[f] = var.sqrt();
            }
        }
        Standardizer { mean, scale }
    }

    /// (x - mean) / scale, feature by feature.
    pub fn apply(&self, data: &mut Dataset) {
        for (f, mut row) in data.features.row_iter_mut().enumerate() {
            row.apply(|v| *v = (*v - self.mean[f]) / self.scale[f]);
        }
    }
}

/// A classification set with a known answer: features drawn from N(0, 1), labels the argmax of a
/// random linear teacher W x (W also N(0, 1)), all from `seed`.
pub fn linear_teacher(n_samples: usize, n_features: usize, n_classes: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let teacher = DMatrix::from_fn(n_classes, n_features, |_, _| normal());
    let features = DMatrix::from_fn(n_features, n_samples, |_, _| normal());
    let scores = &teacher * &features;
    let targets = scores.column_iter().map(|c| c.argmax().0 as f64).collect();
    Dataset {
        features,
        targets,
        feature_names: (0..n_features).map(|i| format!("x{i}")).collect(),
        target_name: "class".into(),
    }
}
