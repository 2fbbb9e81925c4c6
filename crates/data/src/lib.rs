//! `cg-data`: the datasets experiments train on.
//!
//! A [`Dataset`] keeps samples as **columns** of a features × samples matrix, the layout of the
//! vector engine (a mini-batch is a block of columns, exercise 3). CSV files have a header row and
//! numeric cells; the target is a named column. Splits and shuffles come from a seeded ChaCha8
//! stream, so a seed gives the same split on every machine and release.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// Why a dataset could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: line {line}, column {column} (`{name}`): `{text}` is not a number")]
    NotANumber { path: PathBuf, line: usize, column: usize, name: String, text: String },
    #[error("{path}: line {line}, column {column} (`{name}`): the cell is empty (a missing value)")]
    MissingValue { path: PathBuf, line: usize, column: usize, name: String },
    #[error("{path}: line {line} has {found} cells, the header has {expected}")]
    Ragged { path: PathBuf, line: usize, expected: usize, found: usize },
    #[error("{path}: no column named `{target}` (columns: {columns})")]
    MissingTarget { path: PathBuf, target: String, columns: String },
    #[error("{path}: line {line}: {message}")]
    Malformed { path: PathBuf, line: usize, message: String },
    #[error("{path}: line 1: column {column} has no name")]
    UnnamedColumn { path: PathBuf, column: usize },
    #[error("{path}: line 1: columns {first} and {second} are both named `{name}`")]
    DuplicateColumn { path: PathBuf, name: String, first: usize, second: usize },
    #[error("{path}: no data rows")]
    Empty { path: PathBuf },
    #[error("target `{target}` holds {value}, not a class label (0, 1, 2, ...)")]
    NotAClass { target: String, value: f64 },
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Samples as columns of `features`, with one target value per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// n_features × n_samples.
    pub features: DMatrix<f64>,
    pub targets: Vec<f64>,
    pub feature_names: Vec<String>,
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
        let mut k = 0;
        for &t in &self.targets {
            if t < 0.0 || t.fract() != 0.0 || !t.is_finite() {
                return Err(Error::NotAClass { target: self.target_name.clone(), value: t });
            }
            k = k.max(t as usize + 1);
        }
        Ok(k)
    }
}

/// Loads a CSV file with a header row; `target` names the target column, every other column is a
/// feature.
///
/// # Errors
/// An unreadable file, a non-numeric cell or ragged row (with line and column), a missing target
/// column, or no rows.
pub fn load_csv(path: &Path, target: &str) -> Result<Dataset> {
    let table = read_table(path)?;
    let t = table.column(target)?;
    let n_features = table.columns.len() - 1;
    let rows = &table.rows;
    let features = DMatrix::from_fn(n_features, rows.len(), |f, s| rows[s][if f < t { f } else { f + 1 }]);
    Ok(Dataset {
        features,
        targets: rows.iter().map(|r| r[t]).collect(),
        feature_names: table.columns.iter().enumerate().filter(|&(c, _)| c != t).map(|(_, n)| n.clone()).collect(),
        target_name: target.to_string(),
    })
}

/// A CSV file's numbers: the header's column names and the rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub path: PathBuf,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

impl Table {
    /// The index of the column named `name`.
    ///
    /// # Errors
    /// No such column (the message lists those there are).
    pub fn column(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| Error::MissingTarget {
            path: self.path.clone(),
            target: name.to_string(),
            columns: self.columns.join(", "),
        })
    }
}

/// Reads a CSV file (RFC 4180, through the `csv` crate: quoted fields, CRLF) with a header row of
/// distinct, non-empty names and numeric cells; blank lines are skipped, cells are trimmed.
///
/// # Errors
/// An unreadable file, malformed CSV, a ragged row or non-numeric cell (with line and column), a
/// missing or repeated column name, or no rows.
pub fn read_table(path: &Path) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes.as_slice());
    // Line numbers from the byte offset, counted here: the csv crate's own count is one short on
    // CRLF files. Counted only for an error, so reading stays linear.
    let line_of = |pos: Option<&csv::Position>| {
        pos.map_or(0, |p| {
            let mut end = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(bytes.len());
            // A record's position may be the line end before it (the `\n` of a CRLF).
            while bytes.get(end).is_some_and(|b| *b == b'\n' || *b == b'\r') {
                end += 1;
            }
            bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
        })
    };
    let malformed = |e: csv::Error| match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => Error::Ragged {
            path: path.to_path_buf(),
            line: line_of(pos.as_ref()),
            expected: *expected_len as usize,
            found: *len as usize,
        },
        _ => Error::Malformed { path: path.to_path_buf(), line: line_of(e.position()), message: e.to_string() },
    };
    let columns: Vec<String> = reader.headers().map_err(malformed)?.iter().map(str::to_string).collect();
    if columns.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf() });
    }
    for (c, name) in columns.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::UnnamedColumn { path: path.to_path_buf(), column: c + 1 });
        }
        if let Some(first) = columns[..c].iter().position(|n| n == name) {
            return Err(Error::DuplicateColumn {
                path: path.to_path_buf(),
                name: name.clone(),
                first: first + 1,
                second: c + 1,
            });
        }
    }
    let mut rows: Vec<Vec<f64>> = vec![];
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let row = record
            .iter()
            .enumerate()
            .map(|(c, s)| {
                s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    let (path, line, column) = (path.to_path_buf(), line_of(record.position()), c + 1);
                    let name = columns.get(c).cloned().unwrap_or_default();
                    if s.is_empty() {
                        Error::MissingValue { path, line, column, name }
                    } else {
                        Error::NotANumber { path, line, column, name, text: shown(s) }
                    }
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf() });
    }
    Ok(Table { path: path.to_path_buf(), columns, rows })
}

/// A cell as an error shows it: control characters escaped, at most 60 characters.
fn shown(cell: &str) -> String {
    let text: String = cell.chars().flat_map(char::escape_debug).collect();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// What `[data]` did to the features the model saw, saved with a trained model so that new rows
/// go through the same steps: the columns by name, the division by `scale`, the training split's
/// standardisation; and the target's standardisation, undone on predicted values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputTransform {
    pub features: Vec<String>,
    pub target: String,
    pub scale: f64,
    /// Per feature (mean, standard deviation) of the training split, when standardised.
    pub standardize: Option<Vec<(f64, f64)>>,
    /// (mean, standard deviation) of the training targets, when standardised.
    pub target_standardize: Option<(f64, f64)>,
}

impl InputTransform {
    /// The model's input (features × rows) from `table`'s columns of the same names.
    ///
    /// # Errors
    /// A feature column missing from the table.
    pub fn features_of(&self, table: &Table) -> Result<DMatrix<f64>> {
        let columns = self.features.iter().map(|f| table.column(f)).collect::<Result<Vec<usize>>>()?;
        Ok(DMatrix::from_fn(self.features.len(), table.rows.len(), |f, s| {
            let x = table.rows[s][columns[f]] / self.scale;
            match &self.standardize {
                Some(ms) => (x - ms[f].0) / ms[f].1,
                None => x,
            }
        }))
    }

    /// The transform of the first `n` features only (a model whose inputs take the first
    /// columns and whose targets take the others).
    pub fn first(&self, n: usize) -> InputTransform {
        let n = n.min(self.features.len());
        InputTransform {
            features: self.features[..n].to_vec(),
            standardize: self.standardize.as_ref().map(|s| s[..n].to_vec()),
            ..self.clone()
        }
    }

    /// Reorders the features as `order` (indices into the current list) says.
    pub fn select(&mut self, order: &[usize]) {
        self.features = order.iter().map(|&k| self.features[k].clone()).collect();
        if let Some(s) = &mut self.standardize {
            *s = order.iter().map(|&k| s[k]).collect();
        }
    }

    /// A predicted target value in the data's units.
    pub fn target_value(&self, y: f64) -> f64 {
        self.target_standardize.map_or(y, |(mean, sd)| y * sd + mean)
    }
}

/// Per-feature mean and standard deviation, fitted on training data and applied to any split.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn loads_features_as_columns_and_the_named_target() {
        let (_d, p) = write("a,target,b\n1,0,2\n3,1,4\n");
        let d = load_csv(&p, "target").unwrap();
        assert_eq!(d.features, DMatrix::from_row_slice(2, 2, &[1.0, 3.0, 2.0, 4.0]));
        assert_eq!(d.targets, vec![0.0, 1.0]);
        assert_eq!(d.feature_names, vec!["a", "b"]);
        assert_eq!(d.class_count().unwrap(), 2);
    }

    #[test]
    fn bad_files_say_where() {
        let (_d, p) = write("a,target\n1,0\nx,1\n");
        assert!(load_csv(&p, "target")
            .unwrap_err()
            .to_string()
            .ends_with("line 3, column 1 (`a`): `x` is not a number"));
        let (_d, p) = write("a,target\n1,0,5\n");
        assert!(load_csv(&p, "target").unwrap_err().to_string().ends_with("line 2 has 3 cells, the header has 2"));
        let (_d, p) = write("a,b\n1,0\n");
        assert!(load_csv(&p, "target").unwrap_err().to_string().ends_with("no column named `target` (columns: a, b)"));
    }

    #[test]
    fn crlf_files_count_lines_as_lf_files_and_missing_cells_name_their_column() {
        for end in ["\n", "\r\n"] {
            let text = ["a,target", "1,0", "", "2,1", "x,1"].join(end) + end;
            let (_d, p) = write(&text);
            let err = read_table(&p).unwrap_err().to_string();
            assert!(err.ends_with("line 5, column 1 (`a`): `x` is not a number"), "{end:?}: {err}");
            let (_d, p) = write(&(["a,target", "1,0", "2"].join(end) + end));
            let err = read_table(&p).unwrap_err().to_string();
            assert!(err.ends_with("line 3 has 1 cells, the header has 2"), "{end:?}: {err}");
            let (_d, p) = write(&(["a,target", "1,0", "2,"].join(end) + end));
            let err = read_table(&p).unwrap_err().to_string();
            assert!(
                err.ends_with("line 3, column 2 (`target`): the cell is empty (a missing value)"),
                "{end:?}: {err}"
            );
        }
        // A quoted cell that swallowed the rest of the file is shown cut, on one line.
        let (_d, p) = write(&format!("a,target\n\"{}\n", "1,2\n".repeat(100)));
        let err = read_table(&p).unwrap_err().to_string();
        assert!(!err.contains('\n') && err.len() < 300, "{err}");
    }

    #[test]
    fn quoted_fields_crlf_and_bad_headers() {
        let (_d, p) = write("\"a, first\",\"target\"\r\n\"1.5\",0\r\n\r\n2,1\r\n");
        let t = read_table(&p).unwrap();
        assert_eq!(t.columns, vec!["a, first", "target"]);
        assert_eq!(t.rows, vec![vec![1.5, 0.0], vec![2.0, 1.0]]);
        let (_d, p) = write("a,b,a\n1,2,3\n");
        assert!(read_table(&p).unwrap_err().to_string().ends_with("line 1: columns 1 and 3 are both named `a`"));
        let (_d, p) = write(",a\n0,1\n");
        assert!(read_table(&p).unwrap_err().to_string().ends_with("line 1: column 1 has no name"));
        let (_d, p) = write("a,b\n1,2\n\"3,4\n");
        assert!(read_table(&p).is_err());
        let (_d, p) = write("");
        assert!(read_table(&p).unwrap_err().to_string().ends_with("no data rows"));
    }

    #[test]
    fn split_is_seeded_and_disjoint() {
        let d = linear_teacher(100, 3, 2, 1);
        let (tr, te) = d.split(0.2, 7).unwrap();
        assert_eq!((tr.n_samples(), te.n_samples()), (80, 20));
        assert_eq!(d.split(0.2, 7).unwrap().1, te, "same seed, same split");
        assert_ne!(d.split(0.2, 8).unwrap().1, te, "another seed, another split");
        // Every sample lands in exactly one part: compare column sums of features.
        let total: f64 = d.features.sum();
        assert!((tr.features.sum() + te.features.sum() - total).abs() < 1e-9);
    }

    #[test]
    fn standardized_training_features_have_zero_mean_unit_variance() {
        let mut d = linear_teacher(500, 4, 3, 2);
        d.features.row_mut(1).apply(|v| *v = 3.0 * *v + 10.0);
        d.features.row_mut(2).fill(5.0); // constant: maps to 0
        let s = Standardizer::fit(&d);
        s.apply(&mut d);
        for (f, row) in d.features.row_iter().enumerate() {
            let m = row.sum() / 500.0;
            let v = row.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 500.0;
            assert!(m.abs() < 1e-12, "feature {f} mean {m}");
            assert!(if f == 2 { v == 0.0 } else { (v - 1.0).abs() < 1e-12 }, "feature {f} variance {v}");
        }
    }

    #[test]
    fn teacher_labels_are_the_argmax_class() {
        let d = linear_teacher(50, 5, 4, 3);
        assert!(d.class_count().unwrap() <= 4);
        assert!(d.targets.iter().all(|&t| (0.0..4.0).contains(&t)));
    }
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
    /// Target column of the CSV (default `target`).
    #[serde(default = "default_target")]
    pub target: String,
    /// Samples written in the config: one row of features per sample.
    pub inline_x: Option<Vec<Vec<f64>>>,
    /// Targets of the inline samples.
    pub inline_y: Option<Vec<f64>>,
    /// A seeded linear-teacher classification set.
    pub synthetic: Option<SyntheticConfig>,
    /// Fraction of samples held out for testing (seeded split); 0 for none.
    #[serde(default)]
    pub test_fraction: f64,
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
    /// Names of the classes 0, 1, ... of a class-label target, for legends.
    #[serde(default)]
    pub class_names: Vec<String>,
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
pub struct Splits {
    pub train: Dataset,
    pub test: Option<Dataset>,
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
    pub fn load(&self, base: &Path, seed: u64) -> Result<Splits, String> {
        let sources = [self.csv.is_some(), self.inline_x.is_some(), self.synthetic.is_some()];
        if sources.iter().filter(|&&s| s).count() != 1 {
            return Err("[data]: give exactly one of csv, inline_x (with inline_y), synthetic".into());
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(format!("[data] scale = {} is out of range (> 0)", self.scale));
        }
        let mut data = if let Some(csv) = &self.csv {
            load_csv(&base.join(csv), &self.target).map_err(|e| format!("[data] {e}"))?
        } else if let Some(x) = &self.inline_x {
            let y = self.inline_y.as_ref().ok_or("[data] inline_y: missing (one target per row of inline_x)")?;
            inline(x, y)?
        } else {
            let s = self.synthetic.expect("internal: one source is set");
            if s.samples == 0 || s.features == 0 || s.classes < 2 {
                return Err("[data] synthetic: needs samples >= 1, features >= 1, classes >= 2".into());
            }
            if s.samples.checked_mul(s.features.max(s.classes)).is_none_or(|n| n > GENERATED_LIMIT) {
                return Err(format!(
                    "[data] synthetic: {} samples x {} features is more than a generated dataset may hold ({GENERATED_LIMIT} numbers)",
                    s.samples, s.features
                ));
            }
            linear_teacher(s.samples, s.features, s.classes, seed)
        };
        if !self.class_names.is_empty() {
            let classes = data.class_count().map_err(|e| format!("[data] class_names: {e}"))?;
            if self.class_names.len() < classes {
                return Err(format!("[data] class_names: {} names for {classes} classes", self.class_names.len()));
            }
        }
        if let Some(names) = &self.features {
            let mut rows = vec![];
            for name in names {
                let r = data.feature_names.iter().position(|f| f == name).ok_or_else(|| {
                    format!("[data] features: no feature `{name}` (features: {})", data.feature_names.join(", "))
                })?;
                rows.push(r);
            }
            data.features = data.features.select_rows(&rows);
            data.feature_names = names.clone();
        }
        if self.scale != 1.0 {
            data.features /= self.scale;
        }
        let mut test_rows = vec![];
        let (mut train, test) = if self.test_fraction > 0.0 {
            test_rows = data.test_rows(self.test_fraction, seed);
            let (a, b) = data.split(self.test_fraction, seed).map_err(|e| format!("[data] {e}"))?;
            (a, Some(b))
        } else if self.test_fraction == 0.0 {
            (data, None)
        } else {
            return Err(format!("[data] test_fraction = {} is out of range (0 <= f < 1)", self.test_fraction));
        };
        let mut test = test;
        let mut transform = InputTransform {
            features: train.feature_names.clone(),
            target: train.target_name.clone(),
            scale: self.scale,
            standardize: None,
            target_standardize: None,
        };
        if self.standardize_target {
            let n = train.n_samples().max(1) as f64;
            let mean = train.targets.iter().sum::<f64>() / n;
            let var = train.targets.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
            let scale = if var > 0.0 { var.sqrt() } else { 1.0 };
            transform.target_standardize = Some((mean, scale));
            for t in train.targets.iter_mut().chain(test.iter_mut().flat_map(|d| d.targets.iter_mut())) {
                *t = (*t - mean) / scale;
            }
        }
        if self.standardize {
            let s = Standardizer::fit(&train);
            s.apply(&mut train);
            if let Some(t) = test.as_mut() {
                s.apply(t);
            }
            transform.standardize = Some(s.mean.iter().copied().zip(s.scale.iter().copied()).collect());
        }
        Ok(Splits { train, test, test_rows, transform, class_names: self.class_names.clone() })
    }
}

fn inline(x: &[Vec<f64>], y: &[f64]) -> Result<Dataset, String> {
    let d = x.first().map_or(0, Vec::len);
    if x.is_empty() || d == 0 {
        return Err("[data] inline_x: empty".into());
    }
    if let Some(k) = x.iter().position(|r| r.len() != d) {
        return Err(format!("[data] inline_x: row {} has {} values, row 1 has {d}", k + 1, x[k].len()));
    }
    if y.len() != x.len() {
        return Err(format!("[data] inline_y: {} targets for {} rows of inline_x", y.len(), x.len()));
    }
    if x.iter().flatten().chain(y).any(|v| !v.is_finite()) {
        return Err("[data] inline: every value must be finite".into());
    }
    Ok(Dataset {
        features: DMatrix::from_fn(d, x.len(), |f, s| x[s][f]),
        targets: y.to_vec(),
        feature_names: (0..d).map(|i| format!("x{i}")).collect(),
        target_name: "y".into(),
    })
}
