//! The steps from a source's columns to a model's inputs, saved with a trained model.

use nalgebra::DMatrix;

use crate::{encode_rows, CsvOptions, Error, Result, Source, Table, TextTable};

/// What `[data]` did to the features the model saw, saved with a trained model so that new rows
/// go through the same steps: the columns by name, the division by `scale`, the training split's
/// standardisation; and the target's standardisation, undone on predicted values.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputTransform {
    /// The feature columns, by name, in input order.
    pub features: Vec<String>,
    /// The target column's name.
    pub target: String,
    /// The number every feature was divided by first.
    pub scale: f64,
    /// Per feature (mean, standard deviation) of the training split, when standardised.
    pub standardize: Option<Vec<(f64, f64)>>,
    /// (mean, standard deviation) of the training targets, when standardised.
    pub target_standardize: Option<(f64, f64)>,
    /// How source columns became the features when some were one-hot encoded (empty: each
    /// feature is the column of its name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// Per feature, the value that fills an empty cell (after `scale`): the training mean, when
    /// trained with `missing = "mean"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impute: Option<Vec<f64>>,
    /// The class names of a text target, in code order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// The CSV cell separator, when not a comma.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
}

impl InputTransform {
    /// The model's input (features × rows) from `table`'s columns of the same names.
    ///
    /// # Errors
    /// A feature column missing from the table.
    /// A NaN (an empty cell) is filled with the training mean when the model was trained with
    /// `missing = "mean"`, and refused otherwise.
    ///
    /// # Errors
    /// A feature column missing from the table; a NaN the model cannot fill.
    pub fn features_of(&self, table: &Table) -> Result<DMatrix<f64>> {
        let columns = self.features.iter().map(|f| table.column(f)).collect::<Result<Vec<usize>>>()?;
        let fill = |f: usize, s: usize| {
            match &self.impute {
            Some(means) => Ok(means[f]),
            None => Err(Error::Invalid {
                path: table.path.clone(),
                message: format!(
                    "row {}, feature `{}`: NaN (a missing value), and the model was not trained with missing = \"mean\"",
                    s + 1,
                    self.features[f]
                ),
            }),
        }
        };
        let mut x = DMatrix::zeros(self.features.len(), table.rows.len());
        for s in 0..table.rows.len() {
            for f in 0..self.features.len() {
                let v = table.rows[s][columns[f]] / self.scale;
                let v = if v.is_nan() { fill(f, s)? } else { v };
                x[(f, s)] = match &self.standardize {
                    Some(ms) => (v - ms[f].0) / ms[f].1,
                    None => v,
                };
            }
        }
        Ok(x)
    }

    /// New rows' cells as the model's numeric columns: one-hot categories as in training, an
    /// empty cell as NaN when the model fills it (else an error naming the line and column).
    ///
    /// # Errors
    /// A missing column, a cell that is not a number, an unseen category, an empty cell the model
    /// cannot fill.
    pub fn encode(&self, table: &TextTable) -> Result<Table> {
        let plain: Vec<Source>;
        let sources = if self.sources.is_empty() {
            plain = self.features.iter().map(|f| Source::Number { column: f.clone() }).collect();
            &plain
        } else {
            &self.sources
        };
        encode_rows(table, sources, self.impute.is_some())
    }

    /// How to read a CSV file of new rows.
    pub fn csv_options(&self) -> CsvOptions {
        CsvOptions { delimiter: self.delimiter.and_then(|c| u8::try_from(c).ok()).unwrap_or(b',') }
    }

    /// The transform of the first `n` features only (a model whose inputs take the first
    /// columns and whose targets take the others).
    pub fn first(&self, n: usize) -> InputTransform {
        let n = n.min(self.features.len());
        InputTransform {
            features: self.features[..n].to_vec(),
            standardize: self.standardize.as_ref().map(|s| s[..n].to_vec()),
            impute: self.impute.as_ref().map(|m| m[..n].to_vec()),
            ..self.clone()
        }
    }

    /// Reorders the features as `order` (indices into the current list) says.
    pub fn select(&mut self, order: &[usize]) {
        self.features = order.iter().map(|&k| self.features[k].clone()).collect();
        if let Some(s) = &mut self.standardize {
            *s = order.iter().map(|&k| s[k]).collect();
        }
        if let Some(m) = &mut self.impute {
            *m = order.iter().map(|&k| m[k]).collect();
        }
    }

    /// A predicted target value in the data's units.
    pub fn target_value(&self, y: f64) -> f64 {
        self.target_standardize.map_or(y, |(mean, sd)| y * sd + mean)
    }
}
