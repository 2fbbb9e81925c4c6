//! From a table's text cells to features and targets: numeric columns parsed, categorical ones
//! one-hot encoded, text labels turned into class codes, missing cells refused, dropped or left
//! for the training mean. What is learnt here (the categories, the classes) is saved with a
//! trained model in its [`InputTransform`](crate::InputTransform), so new rows are encoded the
//! same way.

use nalgebra::DMatrix;

use crate::{ConfigError, Dataset, Error, TextTable};

/// What to do with an empty cell (`[data] missing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Refuse the file, naming the column and the line (the default).
    #[default]
    Error,
    /// Leave out every row with an empty cell in a column used (features or target).
    DropRows,
    /// Fill an empty feature cell with the training split's mean of its feature (for a
    /// categorical column: each one-hot column's mean, the category's frequency); saved with the
    /// model, so `predict` fills new rows the same way. Targets cannot be filled.
    Mean,
}

/// How one source column becomes features.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "encoding", rename_all = "snake_case")]
pub enum Source {
    /// The column's numbers, one feature.
    Number {
        /// The column's name.
        column: String,
    },
    /// One feature per category, 1 where the cell is that category (named `column=category`).
    OneHot {
        /// The column's name.
        column: String,
        /// The categories, in feature order.
        categories: Vec<String>,
    },
    /// One feature, the category's place in `categories` (a text id as an integer code for
    /// `embed`).
    Code {
        /// The column's name.
        column: String,
        /// The categories, in code order.
        categories: Vec<String>,
    },
}

impl Source {
    /// The features this source makes, by name.
    pub fn features(&self) -> Vec<String> {
        match self {
            Source::Number { column } | Source::Code { column, .. } => vec![column.clone()],
            Source::OneHot { column, categories } => categories.iter().map(|c| format!("{column}={c}")).collect(),
        }
    }

    fn column(&self) -> &str {
        match self {
            Source::Number { column } | Source::OneHot { column, .. } | Source::Code { column, .. } => column,
        }
    }

    /// Whether the source needs a record (anything but plain numbers).
    pub fn is_encoded(&self) -> bool {
        !matches!(self, Source::Number { .. })
    }
}

/// A table encoded for training: the samples (NaN where a feature cell was empty and
/// `missing = "mean"`), how each source column became features, and the class names of a text
/// target (empty for a numeric one).
pub struct Encoded {
    /// Features (NaN for a cell to fill) and targets.
    pub dataset: Dataset,
    /// Per source column, its encoding (in feature order).
    pub sources: Vec<Source>,
    /// The class of code k is `classes[k]` (text labels only).
    pub classes: Vec<String>,
}

/// What `[data]` asks of a table.
pub struct Request<'a> {
    /// The target column.
    pub target: &'a str,
    /// The feature columns in order (all but the target when `None`).
    pub features: Option<&'a [String]>,
    /// Feature columns to one-hot encode.
    pub categorical: &'a [String],
    /// Feature columns of ids: kept as numbers when every cell is one, else coded by their
    /// sorted text.
    pub ids: &'a [String],
    /// Names of the classes in code order: text labels are coded by their place here.
    pub class_names: &'a [String],
    /// Empty cells.
    pub missing: Missing,
}

/// Category names in their order: numerically when every one is a number, else as text.
pub fn sorted_categories(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    let numbers: Option<Vec<f64>> = names.iter().map(|n| n.parse::<f64>().ok()).collect();
    if let Some(values) = numbers {
        let mut pairs: Vec<(f64, String)> = values.into_iter().zip(names).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        return pairs.into_iter().map(|(_, n)| n).collect();
    }
    names
}

/// Encodes `table` for training as `request` says.
///
/// # Errors
/// A missing column, a feature cell that is not a number (named with its line and column), an
/// empty cell under `missing = "error"` (or an empty target under `"mean"`), a text label not
/// among `class_names`, a categorical column that is not a feature, no rows left.
pub fn encode_training(table: &TextTable, request: &Request<'_>) -> Result<Encoded, ConfigError> {
    let file = ConfigError::File;
    let t = table.column(request.target).map_err(file)?;
    let features: Vec<usize> = match request.features {
        Some(names) => names
            .iter()
            .map(|n| {
                table.column(n).map_err(|_| ConfigError::UnknownFeature {
                    name: n.clone(),
                    known: table
                        .columns
                        .iter()
                        .filter(|c| *c != request.target)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            })
            .collect::<Result<_, _>>()?,
        None => (0..table.columns.len()).filter(|&c| c != t).collect(),
    };
    for name in request.categorical {
        if !features.iter().any(|&c| table.columns[c] == *name) {
            return Err(ConfigError::Encoding(format!("categorical: `{name}` is not one of the features")));
        }
    }
    // The rows kept: every used cell present, or (mean) the target present.
    let used: Vec<usize> = features.iter().copied().chain(std::iter::once(t)).collect();
    let mut rows = Vec::with_capacity(table.rows());
    for r in 0..table.rows() {
        let empty = used.iter().copied().find(|&c| table.cell(r, c).is_empty());
        match (empty, request.missing) {
            (None, _) => rows.push(r),
            (Some(_), Missing::DropRows) => {}
            (Some(c), Missing::Mean) if c != t => rows.push(r),
            (Some(c), _) => return Err(file(table.missing(r, c))),
        }
    }
    if rows.is_empty() {
        return Err(file(Error::Empty { path: table.path.clone() }));
    }
    let (targets, classes) = targets(table, t, &rows, request.class_names)?;
    let sources: Vec<Source> = features
        .iter()
        .map(|&c| {
            let column = table.columns[c].clone();
            let present = || rows.iter().map(|&r| table.cell(r, c)).filter(|s| !s.is_empty()).map(str::to_string);
            if request.categorical.contains(&column) {
                Source::OneHot { column, categories: sorted_categories(present().collect()) }
            } else if request.ids.contains(&column) && present().any(|cell| cell.parse::<f64>().is_err()) {
                Source::Code { column, categories: sorted_categories(present().collect()) }
            } else {
                Source::Number { column }
            }
        })
        .collect();
    // Empty cells left (missing = "mean") become NaN, filled after the split.
    let values = encode(table, &sources, &rows, true).map_err(file)?;
    let feature_names: Vec<String> = sources.iter().flat_map(Source::features).collect();
    let dataset = Dataset {
        features: DMatrix::from_fn(feature_names.len(), rows.len(), |f, s| values[s][f]),
        targets,
        feature_names,
        target_name: request.target.to_string(),
    };
    Ok(Encoded { dataset, sources, classes })
}

/// The target column of the kept rows: numbers, or class codes of text labels (their order
/// `class_names`' when given, else sorted) with the class names.
fn targets(
    table: &TextTable,
    t: usize,
    rows: &[usize],
    class_names: &[String],
) -> Result<(Vec<f64>, Vec<String>), ConfigError> {
    let numbers: Result<Vec<f64>, Error> =
        rows.iter().map(|&r| table.number(r, t).map(|v| v.expect("internal: targets are present"))).collect();
    if let Ok(values) = numbers {
        return Ok((values, vec![]));
    }
    let classes = if class_names.is_empty() {
        sorted_categories(rows.iter().map(|&r| table.cell(r, t).to_string()).collect())
    } else {
        class_names.to_vec()
    };
    let codes = rows
        .iter()
        .map(|&r| {
            let label = table.cell(r, t);
            classes.iter().position(|c| c == label).map(|k| k as f64).ok_or_else(|| {
                ConfigError::Encoding(format!(
                    "{}: line {}: the label `{label}` is not among class_names ({})",
                    table.path.display(),
                    table.line(r),
                    classes.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<f64>, _>>()?;
    Ok((codes, classes))
}

/// Encodes new rows as `sources` did the training rows: a numeric table with one column per
/// feature (`column=category` for one-hot features); an empty cell becomes NaN when `fill`
/// (the model fills it), else an error.
///
/// # Errors
/// A missing column, a cell that is not a number, a category not seen in training, an empty cell
/// without `fill`.
pub fn encode_rows(table: &TextTable, sources: &[Source], fill: bool) -> Result<crate::Table, Error> {
    let rows: Vec<usize> = (0..table.rows()).collect();
    Ok(crate::Table {
        path: table.path.clone(),
        columns: sources.iter().flat_map(Source::features).collect(),
        rows: encode(table, sources, &rows, fill)?,
    })
}

/// The data rows `rows` of `table` as `sources` make features (one vector per row); an empty
/// cell is NaN with `fill`, an error without.
fn encode(table: &TextTable, sources: &[Source], rows: &[usize], fill: bool) -> Result<Vec<Vec<f64>>, Error> {
    let index: Vec<usize> = sources.iter().map(|s| table.column(s.column())).collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for &r in rows {
        let mut row = vec![];
        for (source, &c) in sources.iter().zip(&index) {
            let cell = table.cell(r, c);
            if cell.is_empty() && !fill {
                return Err(table.missing(r, c));
            }
            match source {
                Source::Number { .. } => row.push(table.number(r, c)?.unwrap_or(f64::NAN)),
                Source::OneHot { categories, .. } if cell.is_empty() => row.extend(categories.iter().map(|_| f64::NAN)),
                Source::Code { .. } if cell.is_empty() => row.push(f64::NAN),
                Source::OneHot { column, categories } | Source::Code { column, categories } => {
                    let Some(code) = categories.iter().position(|k| k == cell) else {
                        let shown = categories.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
                        let more = if categories.len() > 10 {
                            format!(", ... ({} in all)", categories.len())
                        } else {
                            String::new()
                        };
                        return Err(Error::Malformed {
                            path: table.path.clone(),
                            line: table.line(r),
                            message: format!(
                                "column `{column}`: the category `{cell}` was not seen in training (categories: {shown}{more})"
                            ),
                        });
                    };
                    match source {
                        Source::Code { .. } => row.push(code as f64),
                        _ => row.extend((0..categories.len()).map(|k| f64::from(u8::from(k == code)))),
                    }
                }
            }
        }
        out.push(row);
    }
    Ok(out)
}
