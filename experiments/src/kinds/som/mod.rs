//! `kind = "som"`: train a Kohonen self-organizing map on a data file (or on random colours) and
//! write its quality curves, codebook and map pictures (U-matrix, component planes, hit map,
//! majority labels, and the codebook itself as colours for 3-feature data).

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_core::Validate;
use cg_data::{DataConfig, InputTransform, Table};
use cg_som::{SomConfig, SomParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::kinds::KindConfig;
use crate::predict::{Predictions, SavedModel};

mod run;

/// `kind = "som"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SomFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// A data file (the target column gives the labels of the label map).
    data: Option<DataConfig>,
    /// Instead of `[data]`: this many random RGB colours in [0, 1]³, drawn from the seed.
    colors: Option<usize>,
    /// Names of the classes 0, 1, ... for the label map's legend.
    #[serde(default)]
    class_names: Vec<String>,
    /// Draw the codebook itself as colours (needs 3 features in [0, 1]).
    #[serde(default)]
    draw_codebook_as_colors: bool,
    /// The map and its training.
    som: SomConfig,
    /// Epochs of the shortened regression check run; the whole run when absent.
    check_epochs: Option<usize>,
}

/// A validated SOM experiment.
pub struct SomExperiment {
    seed: u64,
    params: SomParams,
    train: Train,
    test: Option<Vec<f64>>,
    dim: usize,
    feature_names: Vec<String>,
    /// How the data's columns became the features (saved with the codebook, for `predict`).
    inputs: InputTransform,
    labels: Option<Vec<usize>>,
    class_names: Vec<String>,
    as_colors: bool,
    check_epochs: Option<usize>,
}

/// The training samples: in memory, or an `.npy` file read chunk by chunk (`[data] stream`).
enum Train {
    Memory(Vec<f64>),
    Streamed(cg_data::stream::StreamedRows),
}

/// Targets that are small non-negative integers are class labels.
fn class_labels(targets: &[f64]) -> Option<Vec<usize>> {
    targets.iter().map(|&t| (t.fract() == 0.0 && (0.0..=100.0).contains(&t)).then_some(t as usize)).collect()
}

impl KindConfig for SomFile {
    const NAME: &'static str = "som";
    const SUMMARY: &'static str =
        "a Kohonen self-organizing map trained online or in batches, with quality curves and map pictures";
    const RESUMABLE: bool = true;
    const PREDICTS: bool = true;
    type Experiment = SomExperiment;

    /// Checks the settings and loads the data.
    ///
    /// # Errors
    /// A bad `[som]` setting, a data problem, or both or neither of `[data]` and `colors`.
    fn validate(self, base: &Path) -> Result<SomExperiment> {
        let params = self.som.validate().map_err(|e| anyhow!("[som] {e}"))?;
        if self.check_epochs.is_some_and(|n| n == 0 || n > params.epochs) {
            bail!("check_epochs: must be between 1 and epochs = {}", params.epochs);
        }
        let mut class_names = self.class_names;
        let (train, test, dim, inputs, labels) = match (&self.data, self.colors) {
            (Some(data), None) if data.stream => {
                if data.labels.is_some() {
                    bail!("[data] stream = true: a streamed map draws no label map yet (it would keep each sample's unit): leave labels out");
                }
                let (rows, inputs) = data.open_stream(base)?;
                let dim = cg_core::RowChunks::dim(&rows);
                (Train::Streamed(rows), None, dim, inputs, None)
            }
            (Some(data), None) => {
                let splits = data.load(base, self.seed)?;
                if class_names.is_empty() {
                    // Text labels name their classes.
                    class_names.clone_from(&splits.class_names);
                }
                let labels = class_labels(&splits.train.targets);
                let test = splits.test.map(|t| t.features.as_slice().to_vec());
                let d = &splits.train;
                (Train::Memory(d.features.as_slice().to_vec()), test, d.n_features(), splits.transform, labels)
            }
            (None, Some(n)) if n > cg_data::GENERATED_LIMIT / 3 => {
                bail!("colors = {n}: more than a generated dataset may hold ({} colours)", cg_data::GENERATED_LIMIT / 3)
            }
            (None, Some(n)) if n > 0 => {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                let rgb = (0..3 * n).map(|_| rng.random_range(0.0..1.0)).collect();
                let inputs = InputTransform {
                    features: vec!["red".into(), "green".into(), "blue".into()],
                    target: String::new(),
                    scale: 1.0,
                    ..InputTransform::default()
                };
                (Train::Memory(rgb), None, 3, inputs, None)
            }
            (None, Some(_)) => bail!("colors: must be >= 1"),
            _ => bail!("give exactly one of [data] and colors = N"),
        };
        if self.draw_codebook_as_colors && dim != 3 {
            bail!("draw_codebook_as_colors: needs 3 features (red, green, blue), the data has {dim}");
        }
        if let Some(labels) = &labels {
            let classes = labels.iter().max().map_or(0, |m| m + 1);
            if !class_names.is_empty() && class_names.len() < classes {
                bail!("class_names: {} names for {classes} classes", class_names.len());
            }
        }
        Ok(SomExperiment {
            seed: self.seed,
            params,
            train,
            test,
            dim,
            feature_names: inputs.features.clone(),
            inputs,
            labels,
            class_names,
            as_colors: self.draw_codebook_as_colors,
            check_epochs: self.check_epochs,
        })
    }

    /// Each row's best-matching unit (lattice row and column) and its Euclidean distance.
    fn predict(model: &SavedModel, data: &Table) -> Result<Predictions> {
        let (shape, codebook) = model.tensor("codebook")?;
        let &[_, cols, dim] = shape else {
            bail!("{}: codebook has shape {shape:?}, not rows x cols x dim", model.path.display())
        };
        if cols == 0 || dim == 0 || codebook.is_empty() {
            bail!(
                "{}: codebook has shape {shape:?}: an extent of 0 (the file was edited or damaged)",
                model.path.display()
            );
        }
        let x = model.inputs_for(dim)?.features_of(data)?;
        if x.nrows() != dim {
            bail!("{}: {} features for a codebook of dimension {dim}", model.path.display(), x.nrows());
        }
        // A map trained on class labels gives each row its unit's majority class (-1: the unit
        // won no labelled sample).
        let unit_labels: Option<Vec<Option<usize>>> = match model.metadata.get("unit_labels") {
            Some(text) => {
                Some(serde_json::from_str(text).map_err(|e| anyhow!("{}: unit_labels: {e}", model.path.display()))?)
            }
            None => None,
        };
        let class_names: Vec<String> = match model.metadata.get("class_names") {
            Some(text) => {
                serde_json::from_str(text).map_err(|e| anyhow!("{}: class_names: {e}", model.path.display()))?
            }
            None => vec![],
        };
        let rows = x
            .column_iter()
            .map(|sample| {
                let sample: Vec<f64> = sample.iter().copied().collect();
                let (u, d2) = cg_som::quality::bmu(codebook, dim, &sample);
                let mut row = vec![(u / cols) as f64, (u % cols) as f64, d2.sqrt()];
                if let Some(labels) = &unit_labels {
                    row.push(labels.get(u).copied().flatten().map_or(-1.0, |k| k as f64));
                }
                row
            })
            .collect();
        let mut columns = vec!["row".to_string(), "col".into(), "distance".into()];
        if unit_labels.is_some() {
            columns.push("class".into());
        }
        Ok(Predictions { columns, rows, class_names })
    }
}
