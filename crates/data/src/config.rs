//! `[data]` as written in a config, loaded into splits.

use std::path::Path;

use nalgebra::DMatrix;

use crate::{linear_teacher, Dataset, InputTransform, Standardizer};

/// What is wrong with a `[data]` table; every message starts with `[data]`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// None or several of the sources.
    #[error("[data]: give exactly one of csv, parquet, npy (with labels), inline_x (with inline_y), synthetic")]
    Sources,
    /// A number outside its range.
    #[error("[data] {setting} = {value} is out of range ({range})")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// Its value.
        value: f64,
        /// The values allowed.
        range: &'static str,
    },
    /// The file could not be read or used (shown in the message, so not a `source`).
    #[error("[data] {0}")]
    File(crate::Error),
    /// A column that cannot be encoded as asked (`categorical`, text labels, `missing`).
    #[error("[data] {0}")]
    Encoding(String),
    /// A problem with the arrays of `npy` and `labels`.
    #[error("[data] {key} {path}: {why}")]
    Npy {
        /// `npy` or `labels`.
        key: &'static str,
        /// The file as written.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A problem with the inline table (`inline_x`, `inline_y`).
    #[error("[data] {0}")]
    Inline(InlineError),
    /// `synthetic` with no samples, features or a single class.
    #[error("[data] synthetic: needs samples >= 1, features >= 1, classes >= 2")]
    SyntheticEmpty,
    /// `synthetic` larger than [`GENERATED_LIMIT`] numbers.
    #[error("[data] synthetic: {samples} samples x {features} features is more than a generated dataset may hold ({GENERATED_LIMIT} numbers)")]
    SyntheticTooLarge {
        /// Samples asked for.
        samples: usize,
        /// Features asked for.
        features: usize,
    },
    /// `class_names` for a target that is not a class label.
    #[error("[data] class_names: {0}")]
    NotClasses(crate::Error),
    /// Fewer class names than classes.
    #[error("[data] class_names: {names} names for {classes} classes")]
    TooFewClassNames {
        /// Names given.
        names: usize,
        /// Classes in the target.
        classes: usize,
    },
    /// `features` names a column the source does not have.
    #[error("[data] features: no feature `{name}` (features: {known})")]
    UnknownFeature {
        /// The name written.
        name: String,
        /// The source's features, comma-separated.
        known: String,
    },
}

impl From<crate::Error> for ConfigError {
    fn from(e: crate::Error) -> Self {
        ConfigError::File(e)
    }
}

/// What is wrong with `inline_x` / `inline_y`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InlineError {
    /// `inline_x` without `inline_y`.
    #[error("inline_y: missing (one target per row of inline_x)")]
    MissingTargets,
    /// No rows or no columns.
    #[error("inline_x: empty")]
    Empty,
    /// Rows of different lengths.
    #[error("inline_x: row {row} has {found} values, row 1 has {expected}")]
    Ragged {
        /// The row, from 1.
        row: usize,
        /// Its values.
        found: usize,
        /// Row 1's values.
        expected: usize,
    },
    /// A target count that is not the row count.
    #[error("inline_y: {targets} targets for {rows} rows of inline_x")]
    Targets {
        /// Targets given.
        targets: usize,
        /// Rows of `inline_x`.
        rows: usize,
    },
    /// A NaN or infinity.
    #[error("inline: every value must be finite")]
    NotFinite,
}

/// The most numbers a generated dataset (`synthetic`, a SOM's `colors`) may hold: 2^28, 2 GiB
/// of f64. It is made while the config loads, before the run's memory estimate is checked.
pub const GENERATED_LIMIT: usize = 1 << 28;

/// `[data]` as written in a config: exactly one source (`csv`, `inline` or `synthetic`).
#[derive(Clone, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// CSV path, relative to the config file's folder.
    pub csv: Option<String>,
    /// A Parquet file (pandas, polars, Arrow), relative to the config file's folder: read as
    /// the same table a CSV file gives, so `target`, `features`, `categorical`, `ids`,
    /// `missing` and text labels apply alike (nulls are empty cells).
    pub parquet: Option<String>,
    /// Target column of the CSV (default `target`).
    #[serde(default = "default_target")]
    pub target: String,
    /// A NumPy `.npy` file of features, samples x features (floats, integers or booleans; C or
    /// Fortran order), or one array of an `.npz` archive as `FILE.npz:NAME`, relative to the
    /// config file's folder; the features are named x0, x1, ...
    pub npy: Option<String>,
    /// The `.npy` file (or `FILE.npz:NAME`) of the `npy` samples' targets, one per sample.
    pub labels: Option<String>,
    /// Read the `npy` file chunk by chunk while training instead of loading it (data larger
    /// than memory; kinds that support it say so): the same numbers as loaded whole.
    #[serde(default)]
    pub stream: bool,
    /// Rows per chunk when streaming (default 65,536).
    pub chunk_rows: Option<usize>,
    /// Samples written in the config: one row of features per sample.
    pub inline_x: Option<Vec<Vec<f64>>>,
    /// Targets of the inline samples.
    pub inline_y: Option<Vec<f64>>,
    /// A seeded linear-teacher classification set.
    pub synthetic: Option<SyntheticConfig>,
    /// Fraction of samples held out for testing (seeded split); 0 for none.
    #[serde(default)]
    pub test_fraction: f64,
    /// Fraction of the training split held out for validation (early stopping, choosing
    /// settings), by a second seeded split; standardisation and imputation are fitted on what
    /// remains for training. 0 (the default) for none.
    #[serde(default)]
    pub validation_fraction: f64,
    /// Standardise features with the training split's mean and standard deviation.
    #[serde(default)]
    pub standardize: bool,
    /// Standardise a numeric target the same way (regression).
    #[serde(default)]
    pub standardize_target: bool,
    /// Divide every feature by this number first (digits: 16 maps pixel counts to [0, 1]).
    #[serde(default = "one")]
    pub scale: f64,
    /// Keep only these feature columns (by name, in this order); all when absent.
    pub features: Option<Vec<String>>,
    /// Names of the classes 0, 1, ... of a class-label target, for legends; a target of text
    /// labels is coded by its place in this list (sorted labels when not given).
    #[serde(default)]
    pub class_names: Vec<String>,
    /// Feature columns of text (or numeric) categories, one-hot encoded: one feature per
    /// category (`column=category`), categories sorted (numerically when all are numbers) and
    /// saved with the model, so `predict` encodes new rows the same way and refuses one unseen.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// Empty cells (CSV): "error" (the default; the column and line named), "drop_rows" (rows with
    /// an empty cell in a used column are left out) or "mean" (a feature's training-split mean,
    /// saved for `predict`).
    #[serde(default)]
    pub missing: crate::Missing,
    /// The CSV cell separator, one character (default ","); a `.gz` file is decompressed.
    pub delimiter: Option<String>,
    /// Feature columns of ids (a user, an item) for `embed` in a model: numbers are checked to
    /// be whole and >= 0 and kept as they are; text ids become codes 0, 1, ... in sorted order,
    /// saved with the model (so `predict` codes new rows the same way and refuses an unseen
    /// id). Never standardised.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// `synthetic = { samples = ..., features = ..., classes = ... }`.
#[derive(Clone, Copy, Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Samples to draw.
    pub samples: usize,
    /// Features per sample, standard normal.
    pub features: usize,
    /// Classes: each label is the argmax of a random linear teacher.
    pub classes: usize,
}

fn default_target() -> String {
    "target".into()
}

fn one() -> f64 {
    1.0
}

/// Training and (possibly empty) test splits, ready to use.
#[derive(Clone, Debug)]
pub struct Splits {
    /// The training split.
    pub train: Dataset,
    /// The test split, when `test_fraction` > 0.
    pub test: Option<Dataset>,
    /// The validation split, when `validation_fraction` > 0.
    pub validation: Option<Dataset>,
    /// How the source's columns became the features (for applying a trained model to new rows).
    pub transform: InputTransform,
    /// Rows of the source that went to the test split, ascending (so other tools can rebuild the
    /// same split).
    pub test_rows: Vec<usize>,
    /// `[data] class_names`: names of the classes 0, 1, ... (empty when not given).
    pub class_names: Vec<String>,
}

impl Splits {
    /// The name of class `k`: its `class_names` entry, else `class k`.
    pub fn class_name(&self, k: usize) -> String {
        self.class_names.get(k).cloned().unwrap_or_else(|| format!("class {k}"))
    }
}

impl DataConfig {
    /// Loads the source, splits it with `seed` and standardises it.
    ///
    /// # Errors
    /// No source or several, a bad inline table, a file problem, or a setting out of range.
    pub fn load(&self, base: &Path, seed: u64) -> Result<Splits, ConfigError> {
        let table_file = self.csv.as_ref().or(self.parquet.as_ref());
        let sources = [
            self.csv.is_some(),
            self.parquet.is_some(),
            self.npy.is_some(),
            self.inline_x.is_some(),
            self.synthetic.is_some(),
        ];
        if sources.iter().filter(|&&s| s).count() != 1 || (self.labels.is_some() && self.npy.is_none()) {
            return Err(ConfigError::Sources);
        }
        if self.stream {
            return Err(ConfigError::Encoding(
                "stream = true: this kind loads its data whole (som, rbm, mlp and model stream)".into(),
            ));
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(ConfigError::OutOfRange { setting: "scale", value: self.scale, range: "> 0" });
        }
        let (mut sources, mut classes) = (vec![], vec![]);
        let delimiter = self.delimiter_byte()?;
        let mut data = if let Some(file) = table_file {
            let table = crate::read_any_table(&base.join(file), &crate::CsvOptions { delimiter })?;
            let request = crate::Request {
                target: &self.target,
                features: self.features.as_deref(),
                categorical: &self.categorical,
                ids: &self.ids,
                class_names: &self.class_names,
                missing: self.missing,
            };
            let encoded = crate::encode_training(&table, &request)?;
            // Plain numeric columns need no record: the feature names say it all (and a saved
            // model's metadata stays as it was).
            if encoded.sources.iter().any(crate::Source::is_encoded) {
                sources = encoded.sources;
            }
            classes = encoded.classes;
            encoded.dataset
        } else if let Some(x) = &self.npy {
            arrays(base, x, self.labels.as_deref())?
        } else if let Some(x) = &self.inline_x {
            let y = self.inline_y.as_ref().ok_or(ConfigError::Inline(InlineError::MissingTargets))?;
            inline(x, y).map_err(ConfigError::Inline)?
        } else {
            let s = self.synthetic.expect("internal: one source is set");
            if s.samples == 0 || s.features == 0 || s.classes < 2 {
                return Err(ConfigError::SyntheticEmpty);
            }
            if s.samples.checked_mul(s.features.max(s.classes)).is_none_or(|n| n > GENERATED_LIMIT) {
                return Err(ConfigError::SyntheticTooLarge { samples: s.samples, features: s.features });
            }
            linear_teacher(s.samples, s.features, s.classes, seed)
        };
        if !self.class_names.is_empty() {
            let classes = data.class_count().map_err(ConfigError::NotClasses)?;
            if self.class_names.len() < classes {
                return Err(ConfigError::TooFewClassNames { names: self.class_names.len(), classes });
            }
        }
        if let (Some(names), None) = (&self.features, table_file) {
            let mut rows = vec![];
            for name in names {
                let r = data.feature_names.iter().position(|f| f == name).ok_or_else(|| {
                    ConfigError::UnknownFeature { name: name.clone(), known: data.feature_names.join(", ") }
                })?;
                rows.push(r);
            }
            data.features = data.features.select_rows(&rows);
            data.feature_names = names.clone();
        }
        let id_rows = self.id_rows(&data)?;
        if self.scale != 1.0 {
            if !id_rows.is_empty() {
                return Err(ConfigError::Encoding("scale: leave it at 1 with ids (codes are kept as they are)".into()));
            }
            data.features /= self.scale;
        }
        let mut test_rows = vec![];
        let (mut train, test) = if self.test_fraction > 0.0 {
            test_rows = data.test_rows(self.test_fraction, seed);
            let (a, b) = data.split(self.test_fraction, seed)?;
            (a, Some(b))
        } else if self.test_fraction == 0.0 {
            (data, None)
        } else {
            return Err(ConfigError::OutOfRange {
                setting: "test_fraction",
                value: self.test_fraction,
                range: "0 <= f < 1",
            });
        };
        let mut test = test;
        let mut validation = None;
        if self.validation_fraction > 0.0 {
            if self.validation_fraction >= 1.0 {
                return Err(ConfigError::OutOfRange {
                    setting: "validation_fraction",
                    value: self.validation_fraction,
                    range: "0 <= f < 1",
                });
            }
            // A second shuffle of its own (seed + 1), so the test split does not move.
            let (a, b) = train.split(self.validation_fraction, seed.wrapping_add(1))?;
            (train, validation) = (a, Some(b));
        } else if self.validation_fraction < 0.0 || self.validation_fraction.is_nan() {
            return Err(ConfigError::OutOfRange {
                setting: "validation_fraction",
                value: self.validation_fraction,
                range: "0 <= f < 1",
            });
        }
        let mut transform = InputTransform {
            features: train.feature_names.clone(),
            target: train.target_name.clone(),
            scale: self.scale,
            sources,
            classes: classes.clone(),
            delimiter: (delimiter != b',').then_some(char::from(delimiter)),
            ..InputTransform::default()
        };
        if self.missing == crate::Missing::Mean {
            transform.impute = Some(impute(&mut train, test.iter_mut().chain(validation.iter_mut()))?);
        }
        if self.standardize_target {
            let n = train.n_samples().max(1) as f64;
            let mean = train.targets.iter().sum::<f64>() / n;
            let var = train.targets.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
            let scale = if var > 0.0 { var.sqrt() } else { 1.0 };
            transform.target_standardize = Some((mean, scale));
            let held_out = test.iter_mut().chain(validation.iter_mut()).flat_map(|d| d.targets.iter_mut());
            for t in train.targets.iter_mut().chain(held_out) {
                *t = (*t - mean) / scale;
            }
        }
        if self.standardize {
            let mut s = Standardizer::fit(&train);
            for &r in &id_rows {
                (s.mean[r], s.scale[r]) = (0.0, 1.0);
            }
            s.apply(&mut train);
            for t in test.iter_mut().chain(validation.iter_mut()) {
                s.apply(t);
            }
            transform.standardize = Some(s.mean.iter().copied().zip(s.scale.iter().copied()).collect());
        }
        let class_names = if classes.is_empty() { self.class_names.clone() } else { classes };
        Ok(Splits { train, test, validation, test_rows, transform, class_names })
    }

    /// The feature rows of the `ids` columns, each checked to hold whole numbers >= 0.
    fn id_rows(&self, data: &Dataset) -> Result<Vec<usize>, ConfigError> {
        let mut rows = vec![];
        for name in &self.ids {
            let r = data.feature_names.iter().position(|f| f == name).ok_or_else(|| ConfigError::UnknownFeature {
                name: name.clone(),
                known: data.feature_names.join(", "),
            })?;
            if let Some((j, v)) =
                data.features.row(r).iter().enumerate().find(|(_, v)| !(**v >= 0.0 && v.fract() == 0.0))
            {
                return Err(ConfigError::Encoding(format!(
                    "ids: column `{name}`, sample {}: {v} is not a whole number >= 0",
                    j + 1
                )));
            }
            rows.push(r);
        }
        Ok(rows)
    }

    /// `delimiter` as the byte the CSV reader takes.
    fn delimiter_byte(&self) -> Result<u8, ConfigError> {
        match self.delimiter.as_deref() {
            None => Ok(b','),
            Some(d) if d.len() == 1 && d != "\"" && d != "\n" && d != "\r" => Ok(d.as_bytes()[0]),
            Some(d) => Err(ConfigError::Encoding(format!(
                "delimiter = {d:?}: one ASCII character other than a quote or a line end (\",\", \";\", \"\\t\", \"|\")"
            ))),
        }
    }
}

/// Fills every NaN feature value of `train` and `test` with the mean of the feature's other
/// values in `train` (summed in sample order); returns the means.
fn impute<'a>(
    train: &'a mut Dataset,
    held_out: impl Iterator<Item = &'a mut Dataset>,
) -> Result<Vec<f64>, ConfigError> {
    let mut means = Vec::with_capacity(train.n_features());
    for f in 0..train.n_features() {
        let (sum, count) =
            train.features.row(f).iter().filter(|v| !v.is_nan()).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
        if count == 0 {
            return Err(ConfigError::Encoding(format!(
                "missing = \"mean\": feature `{}` has no values in the training split",
                train.feature_names[f]
            )));
        }
        means.push(sum / count as f64);
    }
    for data in std::iter::once(train).chain(held_out) {
        for (f, mut row) in data.features.row_iter_mut().enumerate() {
            row.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = means[f]);
        }
    }
    Ok(means)
}

/// The samples of the `.npy` file `x` (samples x features) with the targets of `labels`.
fn arrays(base: &Path, x: &str, labels: Option<&str>) -> Result<Dataset, ConfigError> {
    let error = |key, path: &str, why: String| ConfigError::Npy { key, path: path.to_string(), why };
    let y =
        labels.ok_or_else(|| error("labels", "", "missing: the .npy file of one target per sample of npy".into()))?;
    let features = crate::npy::read_array(&base.join(x)).map_err(|why| error("npy", x, why))?;
    let [n, d] = features.shape[..] else {
        return Err(error("npy", x, format!("shape {:?}: expected samples x features (2 dimensions)", features.shape)));
    };
    let targets = targets_of(base, y, n)?;
    if n == 0 || d == 0 {
        return Err(error("npy", x, format!("shape [{n}, {d}]: no samples or no features")));
    }
    if let Some(k) = features.values.iter().position(|v| !v.is_finite()) {
        let at = format!("sample {}, feature {}", k / d + 1, k % d + 1);
        return Err(error("npy", x, format!("{at} is {}: every value must be finite", features.values[k])));
    }
    Ok(Dataset {
        features: DMatrix::from_column_slice(d, n, &features.values),
        targets,
        feature_names: (0..d).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
    })
}

/// The targets in the `.npy` file `y` (`labels`): one finite number per sample of `n`, as a
/// vector or a column.
pub(crate) fn targets_of(base: &Path, y: &str, n: usize) -> Result<Vec<f64>, ConfigError> {
    let error = |why: String| ConfigError::Npy { key: "labels", path: y.to_string(), why };
    let targets = crate::npy::read_array(&base.join(y)).map_err(error)?;
    if !matches!(targets.shape[..], [m] | [m, 1] if m == n) {
        return Err(error(format!("shape {:?}: expected {n} targets, one per sample of npy", targets.shape)));
    }
    if let Some(k) = targets.values.iter().position(|v| !v.is_finite()) {
        return Err(error(format!("sample {} is {}: every value must be finite", k + 1, targets.values[k])));
    }
    Ok(targets.values)
}

fn inline(x: &[Vec<f64>], y: &[f64]) -> Result<Dataset, InlineError> {
    let d = x.first().map_or(0, Vec::len);
    if x.is_empty() || d == 0 {
        return Err(InlineError::Empty);
    }
    if let Some(k) = x.iter().position(|r| r.len() != d) {
        return Err(InlineError::Ragged { row: k + 1, found: x[k].len(), expected: d });
    }
    if y.len() != x.len() {
        return Err(InlineError::Targets { targets: y.len(), rows: x.len() });
    }
    if x.iter().flatten().chain(y).any(|v| !v.is_finite()) {
        return Err(InlineError::NotFinite);
    }
    Ok(Dataset {
        features: DMatrix::from_fn(d, x.len(), |f, s| x[s][f]),
        targets: y.to_vec(),
        feature_names: (0..d).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
    })
}
