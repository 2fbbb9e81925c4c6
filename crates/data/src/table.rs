//! CSV files: a header of names over numeric cells.

use std::path::{Path, PathBuf};

use nalgebra::DMatrix;

use crate::{Dataset, Error, Result};

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
    /// The file read.
    pub path: PathBuf,
    /// The header's names.
    pub columns: Vec<String>,
    /// The rows, one number per column.
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
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("d.csv");
/// std::fs::write(&path, "a,b\n1,2\n3,x\n").unwrap();
/// let err = cg_data::read_table(&path).unwrap_err().to_string();
/// assert!(err.ends_with("d.csv: line 3, column 2 (`b`): `x` is not a number"), "{err}");
/// std::fs::write(&path, "a,b\n1,2\n3,4\n").unwrap();
/// assert_eq!(cg_data::read_table(&path).unwrap().rows, [[1.0, 2.0], [3.0, 4.0]]);
/// ```
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
