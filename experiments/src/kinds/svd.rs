//! `kind = "svd"`: the SVD learned by a network, one direction at a time (exercise 20). Stage k
//! trains a linear d-1-d autoencoder on the data with the first k-1 learned directions projected
//! out; the decoder's column, normalised and orthogonalised against the earlier ones, is the k-th
//! right singular vector, and ‖X v_k‖ the k-th singular value. Checked against nalgebra's
//! symmetric eigen-decomposition of XᵀX.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_core::Validate;
use cg_data::DataConfig;
use cg_nn::artifact::NamedTensor;
use cg_nn::svd::learn_directions;
use cg_optim::{OptimizerConfig, OptimizerParams};
use cg_plot::{Legend, LineChart, Series};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;

use super::{Experiment, KindConfig, F64};
use crate::{json_file, push_figure, CheckScope, Cost, Outcome, RunOptions};

/// The whole file of an `svd` config.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SvdFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The data: exactly one of `csv`, `inline_x` with `inline_y`, or `[data.synthetic]`; the split
    /// and the feature transforms.
    data: DataConfig,
    /// Number of directions to learn.
    directions: usize,
    optimizer: OptimizerConfig,
    /// Epochs per direction (full batch).
    epochs: usize,
    /// Directions the regression test recomputes.
    check_directions: Option<usize>,
}

/// A validated svd experiment with its data loaded.
pub struct SvdExperiment {
    seed: u64,
    data: DMatrix<f64>,
    directions: usize,
    optimizer: OptimizerParams,
    epochs: usize,
    check_directions: Option<usize>,
}

impl KindConfig for SvdFile {
    const NAME: &'static str = "svd";
    const SUMMARY: &'static str =
        "singular vectors learned one at a time by linear autoencoders on deflated data (exercise 20)";
    type Experiment = SvdExperiment;

    /// Loads the data (training split only) and checks the settings.
    ///
    /// # Errors
    /// A data problem, or a number of directions outside 1..=features.
    fn validate(self, base: &Path) -> Result<SvdExperiment> {
        let splits = self.data.load(base, self.seed)?;
        let d = splits.train.n_features();
        if self.directions == 0 || self.directions > d || self.epochs == 0 {
            bail!("directions must be 1..={d} and epochs >= 1");
        }
        let optimizer = self.optimizer.validate().map_err(|e| anyhow!("[optimizer] {e}"))?;
        Ok(SvdExperiment {
            seed: self.seed,
            data: splits.train.features.transpose(),
            directions: self.directions,
            optimizer,
            epochs: self.epochs,
            check_directions: self.check_directions,
        })
    }
}

impl Experiment for SvdExperiment {
    /// Each direction is trained for `epochs` passes over the data.
    fn cost(&self) -> Cost {
        let (n, d) = (self.data.nrows() as f64, self.data.ncols() as f64);
        Cost::default()
            .memory("the data and its deflations", 3.0 * F64 * n * d)
            .work("training", self.directions as f64 * self.epochs as f64 * 6.0 * n * d)
            .steps("the epochs", self.directions as f64 * self.epochs as f64)
    }

    /// Learns the directions one at a time.
    ///
    /// # Errors
    /// A training failure.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let d = self.data.ncols();
        let (count, scope) = match (options.shortened, self.check_directions) {
            (true, Some(c)) => (c.min(self.directions), CheckScope::Subset),
            _ => (self.directions, CheckScope::Full),
        };
        // Exact reference: eigenvectors of XᵀX by decreasing eigenvalue.
        let eig = (self.data.transpose() * &self.data).symmetric_eigen();
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let basis = learn_directions(&self.data, count, self.optimizer, self.epochs, &mut rng)?;
        let cosines: Vec<f64> =
            basis.iter().enumerate().map(|(k, b)| b.vector.dot(&eig.eigenvectors.column(order[k])).abs()).collect();
        let learned_sv: Vec<f64> = basis.iter().map(|b| b.singular_value).collect();
        let exact_sv: Vec<f64> = order[..count].iter().map(|&i| eig.eigenvalues[i].max(0.0).sqrt()).collect();
        let gram = DMatrix::from_fn(count, count, |i, j| basis[i].vector.dot(&basis[j].vector));
        let orthonormality = (gram - DMatrix::identity(count, count)).amax();
        let relative: Vec<f64> = learned_sv.iter().zip(&exact_sv).map(|(a, b)| (a - b).abs() / b).collect();
        let mut metrics = json!({
            "learned_singular_values": learned_sv,
            "exact_singular_values": exact_sv,
            "singular_value_relative_error": relative,
            "cosine_with_exact": cosines,
        });
        if scope == CheckScope::Full {
            metrics["reference_gap"] = json!(relative.iter().copied().fold(0.0, f64::max));
            // Numbers about the whole basis: a shortened check run cannot vouch for them.
            metrics["directions"] = json!(count);
            metrics["orthonormality_error"] = json!(orthonormality);
        }
        let mut files = vec![json_file("metrics.json", &metrics)?];
        let tensors = [
            NamedTensor {
                name: "basis".into(),
                shape: vec![count, d],
                values: basis.iter().flat_map(|b| b.vector.iter().copied()).collect(),
            },
            NamedTensor { name: "singular_values".into(), shape: vec![count], values: learned_sv.clone() },
        ];
        files.push(crate::tensors_file(
            &tensors,
            &[("kind", "svd".into()), ("layout", "row-major: one direction per row".into())],
        )?);
        let pts = |v: &[f64]| -> Vec<(f64, f64)> { v.iter().enumerate().map(|(k, &s)| ((k + 1) as f64, s)).collect() };
        let chart = LineChart {
            title: format!("{title}: singular values, learned vs exact"),
            x_label: "direction k".into(),
            y_label: "singular value".into(),
            series: vec![
                Series { name: "exact (nalgebra)".into(), points: pts(&exact_sv), markers: true, dashed: false },
                Series { name: "learned one at a time".into(), points: pts(&learned_sv), markers: true, dashed: false },
            ],
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
        };
        push_figure(&mut files, "spectrum", chart.render())?;
        let worst_cos = cosines.iter().copied().fold(1.0, f64::min);
        let worst_sv = relative.iter().copied().fold(0.0, f64::max);
        let summary = format!(
            "{title}: {count} directions; smallest |cosine| with the exact singular vectors {worst_cos:.6}, largest singular-value error {worst_sv:.2e}"
        );
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }
}
