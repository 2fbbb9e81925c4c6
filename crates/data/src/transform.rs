//! The steps from a source's columns to a model's inputs, saved with a trained model.

use nalgebra::DMatrix;

use crate::{Result, Table};

/// What `[data]` did to the features the model saw, saved with a trained model so that new rows
/// go through the same steps: the columns by name, the division by `scale`, the training split's
/// standardisation; and the target's standardisation, undone on predicted values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
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
