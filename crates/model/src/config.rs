//! `[model]` as written in a config: inputs and targets with their widths, learnable parameters
//! with shapes and initialisation, named nodes as expressions, the loss and the prediction node.

use indexmap::IndexMap;
use serde::Deserialize;

/// `[model]`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Input nodes and their widths, filled from the data's features in order.
    pub inputs: IndexMap<String, usize>,
    /// Target nodes: `y = 3` takes the data's target column (one-hot for a width above 1),
    /// `z = { column = "alcohol" }` takes a feature column (which then is no input).
    #[serde(default)]
    pub targets: IndexMap<String, TargetDecl>,
    /// The node whose outputs give accuracy and predictions.
    pub predict: String,
    /// The objective: an expression over nodes, parameters and loss functions reducing to 1 x 1,
    /// or `{ per_sample = "...", reduce = "mean" }`.
    pub loss: LossDecl,
    /// How `predict`'s outputs become classes: `argmax` (several outputs), `sign` (output >= 0),
    /// `threshold` (output >= `threshold`, 0.5 unless given). By default: argmax for several
    /// outputs, sign for the margin losses, threshold 0.5 otherwise.
    pub decision: Option<DecisionName>,
    /// The threshold of `decision = "threshold"`.
    pub threshold: Option<f64>,
    /// Learnable parameters in declaration order (their initial values are drawn in this order).
    #[serde(default)]
    pub params: IndexMap<String, ParamDecl>,
    /// Fixed matrices: no gradient, no optimiser state, not counted as parameters.
    #[serde(default)]
    pub constants: IndexMap<String, ConstantDecl>,
    /// Named nodes: `name = "expression"`, in any order.
    pub nodes: IndexMap<String, String>,
}

/// The loss as written.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged, expecting = "an expression, or { per_sample = \"expression\", reduce = \"mean\" }")]
pub enum LossDecl {
    /// An expression reducing to 1 x 1.
    Expression(String),
    /// A per-sample loss (a value per column, or k x batch values summed per sample), averaged
    /// over the batch: the same as `batch_mean(expression)`.
    PerSample(PerSampleLoss),
}

/// `{ per_sample = "...", reduce = "mean" }`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PerSampleLoss {
    /// The per-sample expression: a column per sample.
    pub per_sample: String,
    /// How the samples are combined: `mean` (the only one; the default), so that mini-batches,
    /// the test set and the curves are on one scale.
    #[serde(default)]
    pub reduce: ReduceName,
}

/// How per-sample losses are combined.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReduceName {
    /// The mean over the batch.
    #[default]
    Mean,
}

impl LossDecl {
    /// The loss as one expression.
    pub fn expression(&self) -> String {
        match self {
            LossDecl::Expression(e) => e.clone(),
            LossDecl::PerSample(p) => format!("batch_mean({})", p.per_sample),
        }
    }
}

/// A decision rule's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionName {
    /// The row of the largest output.
    Argmax,
    /// Class 1 where the output is >= 0.
    Sign,
    /// Class 1 where the output is >= the threshold.
    Threshold,
}

/// A constant: a number, a column `[...]`, rows `[[...], ...]`, or `{ fill = x, shape = [r, c] }`,
/// `{ identity = n }`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged, expecting = "a number, a list, a list of rows, { fill = x, shape = [r, c] } or { identity = n }")]
pub enum ConstantDecl {
    /// Values written out.
    Value(ValueDecl),
    /// A generated matrix.
    Generated(GeneratedConstant),
}

/// `{ fill = x, shape = [r, c] }`, `{ identity = n }` or `{ csv = "file.csv" }`.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GeneratedConstant {
    /// Every entry this number (with `shape`).
    pub fill: Option<f64>,
    /// The dimensions for `fill`: `[rows, cols]`, `[rows]` or `[]`.
    pub shape: Option<Vec<usize>>,
    /// The n x n identity matrix.
    pub identity: Option<usize>,
    /// A CSV file of numbers, one matrix row per line, no header (relative to the config's
    /// folder): read when the config loads ([`ModelConfig::read_constant_files`]) and saved
    /// with the model, so `predict` needs no file.
    pub csv: Option<String>,
}

impl ModelConfig {
    /// Reads every `{ csv = "..." }` constant (paths relative to `base`) and writes its numbers
    /// in place; returns what it read, by name, as rows.
    ///
    /// # Errors
    /// A file that cannot be read, a cell that is not a finite number (with its line and
    /// column), rows of different lengths, or no numbers.
    pub fn read_constant_files(&mut self, base: &std::path::Path) -> crate::Result<IndexMap<String, Vec<Vec<f64>>>> {
        let mut read = IndexMap::new();
        for (name, decl) in &mut self.constants {
            let ConstantDecl::Generated(GeneratedConstant { csv: Some(file), fill, shape, identity }) = decl else {
                continue;
            };
            if fill.is_some() || shape.is_some() || identity.is_some() {
                return Err(crate::Error::Message(format!(
                    "[model.constants] {name}: give csv alone (its file sets the shape)"
                )));
            }
            let at = format!("[model.constants] {name}: {file}:");
            let path = base.join(&*file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| crate::Error::Message(format!("{at} cannot read {}: {e}", path.display())))?;
            let mut rows: Vec<Vec<f64>> = vec![];
            for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let row = line
                    .split(',')
                    .enumerate()
                    .map(|(c, cell)| match cell.trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => Ok(x),
                        _ => Err(crate::Error::Message(format!(
                            "{at} line {}, column {}: `{}` is not a finite number",
                            k + 1,
                            c + 1,
                            cell.trim()
                        ))),
                    })
                    .collect::<crate::Result<Vec<f64>>>()?;
                if rows.first().is_some_and(|r| r.len() != row.len()) {
                    return Err(crate::Error::Message(format!(
                        "{at} line {}: {} numbers, but the first row has {}",
                        k + 1,
                        row.len(),
                        rows[0].len()
                    )));
                }
                rows.push(row);
            }
            if rows.is_empty() {
                return Err(crate::Error::Message(format!("{at} holds no numbers")));
            }
            *decl = ConstantDecl::Value(ValueDecl::Matrix(rows.clone()));
            read.insert(name.clone(), rows);
        }
        Ok(read)
    }

    /// The feature columns that targets take, in the targets' order.
    pub fn column_targets(&self) -> Vec<&str> {
        self.targets
            .values()
            .filter_map(|t| match t {
                TargetDecl::Column(c) => Some(c.column.as_str()),
                TargetDecl::Width(_) => None,
            })
            .collect()
    }
}

/// A target's declaration.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged, expecting = "a width (y = 3) or a feature column (z = { column = \"name\" })")]
pub enum TargetDecl {
    /// A target of this many rows, given with the data.
    Width(usize),
    /// A target taken from a data column.
    Column(ColumnTarget),
}

/// `{ column = "name" }`: one feature column as a 1-wide regression target.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnTarget {
    /// The column's name.
    pub column: String,
}

/// A parameter: its shape (`[rows, cols]`, `[rows]` for a column, `[]` for a scalar) and how it
/// starts: `init = "he" | "xavier" | "zeros" | "ones"`, or `normal = std`, `uniform = a`, `value = ...`.
/// The default is xavier.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamDecl {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// A named initialisation.
    pub init: Option<InitName>,
    /// Draw from N(0, σ²) with this σ.
    pub normal: Option<f64>,
    /// Draw from U(-a, a) with this a.
    pub uniform: Option<f64>,
    /// Values written out.
    pub value: Option<ValueDecl>,
    /// `false` freezes it: initialised (or loaded by `init_from`) and saved like the others,
    /// never updated, no optimiser state, not counted in `parameters`.
    pub trainable: Option<bool>,
}

/// A named initialisation of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitName {
    /// Normal with variance 2 / fan_in.
    He,
    /// Uniform on ±sqrt(6 / (fan_in + fan_out)).
    Xavier,
    /// All zeros.
    Zeros,
    /// All ones (a gain).
    Ones,
}

/// Given values: rows of a matrix, the entries of a column, or one number.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged, expecting = "a number, a list of numbers or a list of rows")]
pub enum ValueDecl {
    /// One number.
    Scalar(f64),
    /// A column of numbers.
    Vector(Vec<f64>),
    /// A matrix, row by row.
    Matrix(Vec<Vec<f64>>),
}
