//! `experiments predict RESULT_DIR --data FILE.csv`: applies the model a run saved
//! (`model.safetensors`) to new rows. The file's metadata holds what that needs: the kind, the
//! config it was trained from, and the input transform (feature columns by name, scaling, the
//! training split's standardisation), so the rows go through the same steps as the training data.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use cg_data::InputTransform;
use cg_nn::artifact::LoadedTensor;
use serde::de::DeserializeOwned;

use crate::kinds;

/// A trained model read back from a results folder.
pub struct SavedModel {
    /// The file read.
    pub path: std::path::PathBuf,
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its tensors.
    pub tensors: Vec<LoadedTensor>,
}

impl SavedModel {
    /// Reads `dir/model.safetensors`.
    ///
    /// # Errors
    /// A missing or malformed file.
    pub fn load(dir: &Path) -> Result<SavedModel> {
        let path = dir.join("model.safetensors");
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let metadata = cg_nn::artifact::metadata(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let tensors = cg_nn::artifact::load(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        Ok(SavedModel { path, metadata, tensors })
    }

    /// A metadata value.
    ///
    /// # Errors
    /// The key is missing (a model saved by an older version, or by another tool).
    pub fn meta(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("{}: no `{key}` in the metadata; rerun the config to save it", self.path.display()))
    }

    /// The config the model was trained from, as the kind's file type.
    ///
    /// # Errors
    /// No config saved, or one that does not parse.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        crate::config::typed(self.meta("config")?)
            .map_err(|e| anyhow!("{}: the saved config: {e}", self.path.display()))
    }

    /// How the training data's columns became the model's input.
    ///
    /// # Errors
    /// None saved, or malformed.
    pub fn inputs(&self) -> Result<InputTransform> {
        let inputs: InputTransform =
            serde_json::from_str(self.meta("inputs")?).map_err(|e| anyhow!("{}: inputs: {e}", self.path.display()))?;
        let bad =
            |what: String| anyhow!("{}: the saved inputs {what}: the file was edited or damaged", self.path.display());
        if let Some(ms) = &inputs.standardize {
            if ms.len() != inputs.features.len() {
                return Err(bad(format!("standardise {} features but name {}", ms.len(), inputs.features.len())));
            }
            if let Some((k, _)) =
                ms.iter().enumerate().find(|(_, (m, s))| !(m.is_finite() && s.is_finite() && *s > 0.0))
            {
                return Err(bad(format!(
                    "give feature `{}` a mean or spread that is not a finite number above 0",
                    inputs.features[k]
                )));
            }
        }
        if !(inputs.scale.is_finite() && inputs.scale != 0.0) {
            return Err(bad(format!("divide by {}", inputs.scale)));
        }
        Ok(inputs)
    }

    /// [`SavedModel::inputs`] for a model that reads `width` features.
    ///
    /// # Errors
    /// As `inputs`, or fewer saved features than the model reads.
    pub fn inputs_for(&self, width: usize) -> Result<InputTransform> {
        let inputs = self.inputs()?;
        if inputs.features.len() < width {
            bail!(
                "{}: the saved inputs name {} features for a model that reads {width}: the file was edited or damaged",
                self.path.display(),
                inputs.features.len()
            );
        }
        Ok(inputs)
    }

    /// The tensor named `name`: its shape and values (row-major).
    ///
    /// # Errors
    /// No such tensor.
    pub fn tensor(&self, name: &str) -> Result<(&[usize], &[f64])> {
        self.tensors
            .iter()
            .find(|t| t.0 == name)
            .map(|t| (t.1.as_slice(), t.2.as_slice()))
            .ok_or_else(|| anyhow!("{}: no tensor `{name}`", self.path.display()))
    }
}

/// Named columns of numbers, one row per input row.
#[derive(Clone, Debug, PartialEq)]
pub struct Predictions {
    /// The columns' names.
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<f64>>,
    /// The names of the classes the `class` column codes (a model trained on text labels): the
    /// CSV shows them in a `class_name` column after it.
    pub class_names: Vec<String>,
}

impl Predictions {
    /// The CSV's first line (with its line end): also how `predict --out` recognises a
    /// predictions file of the same model, the only file it replaces.
    pub fn header(&self) -> String {
        csv_text(std::iter::once(self.named_columns()))
    }

    /// Where the `class_name` column goes: after `class`, when there are names.
    fn name_column(&self) -> Option<usize> {
        if self.class_names.is_empty() {
            return None;
        }
        self.columns.iter().position(|c| c == "class").map(|k| k + 1)
    }

    fn named_columns(&self) -> Vec<String> {
        let mut columns = self.columns.clone();
        if let Some(at) = self.name_column() {
            columns.insert(at, "class_name".into());
        }
        columns
    }

    /// CSV (RFC 4180 through the `csv` crate: a name with a comma or quote is quoted) with a
    /// header; numbers in their shortest exact form (whole numbers without a fraction, very
    /// small or large ones with an exponent).
    pub fn csv(&self) -> String {
        let number = |v: &f64| if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v}") } else { format!("{v:?}") };
        let at = self.name_column();
        let rows = self.rows.iter().map(|row| {
            let mut cells: Vec<String> = row.iter().map(number).collect();
            if let Some(at) = at {
                let class = row[at - 1];
                let name = (class >= 0.0).then(|| self.class_names.get(class as usize)).flatten();
                cells.insert(at, name.cloned().unwrap_or_default());
            }
            cells
        });
        csv_text(std::iter::once(self.named_columns()).chain(rows))
    }
}

/// Records as CSV text, `\n` after each.
fn csv_text(records: impl Iterator<Item = Vec<String>>) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in records {
        w.write_record(&r).expect("internal: writing CSV to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("internal: flushing CSV to memory cannot fail"))
        .expect("internal: CSV of strings is UTF-8")
}

/// Applies the model saved in `dir` to the rows of the CSV file `data`: only the columns the
/// model reads are parsed, categories are encoded and empty cells filled as in training.
///
/// # Errors
/// A missing or malformed model, a kind without predictions, a missing column, a value that is
/// not a number, a category not seen in training, an empty cell the model cannot fill.
pub fn predict(dir: &Path, data: &Path) -> Result<Predictions> {
    // The model first: a missing or foreign model is the error to name, before the data's.
    let (model, kind) = predictor(dir)?;
    let inputs = model.inputs()?;
    let table = if cg_data::npy::is_numpy(data) {
        npy_rows(data, &inputs)?
    } else {
        let text = cg_data::read_any_table(data, &inputs.csv_options()).map_err(|e| anyhow!("{e}"))?;
        inputs.encode(&text).map_err(|e| anyhow!("{e}"))?
    };
    kind.predict(&model, &table)
}

/// A NumPy `.npy` file (or `FILE.npz:NAME`) of samples x the model's features (in the model's
/// order) as the table the model reads.
fn npy_rows(data: &Path, inputs: &InputTransform) -> Result<cg_data::Table> {
    let array = cg_data::npy::read_array(data).map_err(|e| anyhow!("{}: {e}", data.display()))?;
    let d = inputs.features.len();
    let [n, width] = array.shape[..] else {
        bail!("{}: shape {:?}: expected samples x features (2 dimensions)", data.display(), array.shape);
    };
    if width != d {
        bail!(
            "{}: {width} columns; the model reads {d} features, in this order: {}",
            data.display(),
            inputs.features.join(", ")
        );
    }
    let rows = if d == 0 { vec![vec![]; n] } else { array.values.chunks_exact(d).map(<[f64]>::to_vec).collect() };
    Ok(cg_data::Table { path: data.to_path_buf(), columns: inputs.features.clone(), rows })
}

/// [`predict`] on rows already in memory (named columns of numbers).
///
/// # Errors
/// As [`predict`], without the file part.
pub fn predict_table(dir: &Path, table: &cg_data::Table) -> Result<Predictions> {
    let (model, kind) = predictor(dir)?;
    kind.predict(&model, table)
}

/// The model saved in `dir` and the kind that predicts with it.
fn predictor(dir: &Path) -> Result<(SavedModel, &'static dyn kinds::Kind)> {
    let model = SavedModel::load(dir)?;
    let kind_name = model.meta("kind")?;
    let kind = kinds::find(kind_name).ok_or_else(|| anyhow!("{}: unknown kind `{kind_name}`", model.path.display()))?;
    if !kind.predicts() {
        let names: Vec<&str> = kinds::all().into_iter().filter(|k| k.predicts()).map(|k| k.name()).collect();
        bail!("kind `{kind_name}` has no predictions for new rows (kinds that do: {})", names.join(", "));
    }
    Ok((model, kind))
}
