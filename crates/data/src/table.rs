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

/// How a CSV file is laid out beyond RFC 4180's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The cell separator (`,` unless said otherwise; `;` and tab are common).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions { delimiter: b',' }
    }
}

/// A CSV file's cells as text, with each row's line number: columns are parsed (as numbers,
/// categories or labels) only when something asks for them, so an ID, free-text or date column
/// nobody selects is never read as a number.
#[derive(Clone, Debug)]
pub struct TextTable {
    /// The file read.
    pub path: PathBuf,
    /// The header's names.
    pub columns: Vec<String>,
    records: Vec<csv::StringRecord>,
    lines: Vec<usize>,
}

impl TextTable {
    /// A table of cells read from elsewhere than CSV (a Parquet file, say): `rows` in order,
    /// data row `k` (from 0) standing for line `k + 1`; cells are trimmed as CSV cells are.
    ///
    /// # Errors
    /// A missing or repeated column name, a row of another width, or no rows.
    pub fn from_rows(path: &Path, columns: Vec<String>, rows: Vec<Vec<String>>) -> Result<TextTable> {
        check_names(path, &columns)?;
        let mut records = Vec::with_capacity(rows.len());
        for (k, row) in rows.into_iter().enumerate() {
            if row.len() != columns.len() {
                return Err(Error::Ragged {
                    path: path.to_path_buf(),
                    line: k + 1,
                    expected: columns.len(),
                    found: row.len(),
                });
            }
            let mut record = csv::StringRecord::from(row);
            record.trim();
            records.push(record);
        }
        if records.is_empty() {
            return Err(Error::Empty { path: path.to_path_buf() });
        }
        let lines = (1..=records.len()).collect();
        Ok(TextTable { path: path.to_path_buf(), columns, records, lines })
    }

    /// The number of data rows.
    pub fn rows(&self) -> usize {
        self.records.len()
    }

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

    /// The cell of data row `row` (from 0) in column `column` (trimmed; empty when missing).
    pub fn cell(&self, row: usize, column: usize) -> &str {
        self.records[row].get(column).unwrap_or("")
    }

    /// The file's line (from 1) of data row `row`.
    pub fn line(&self, row: usize) -> usize {
        self.lines[row]
    }

    /// The cell as a number, `None` when empty.
    ///
    /// # Errors
    /// A cell that is not a finite number (its line, column and text).
    pub fn number(&self, row: usize, column: usize) -> Result<Option<f64>> {
        let s = self.cell(row, column);
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some).ok_or_else(|| Error::NotANumber {
            path: self.path.clone(),
            line: self.line(row),
            column: column + 1,
            name: self.columns[column].clone(),
            text: shown(s),
        })
    }

    /// The error of an empty cell.
    pub fn missing(&self, row: usize, column: usize) -> Error {
        Error::MissingValue {
            path: self.path.clone(),
            line: self.line(row),
            column: column + 1,
            name: self.columns[column].clone(),
        }
    }

    /// Every cell as a number (the numeric table [`read_table`] gives).
    ///
    /// # Errors
    /// The first cell, row by row, that is empty or not a number.
    pub fn to_numbers(&self) -> Result<Table> {
        let mut rows = Vec::with_capacity(self.rows());
        for r in 0..self.rows() {
            let row = (0..self.columns.len())
                .map(|c| self.number(r, c)?.ok_or_else(|| self.missing(r, c)))
                .collect::<Result<Vec<f64>>>()?;
            rows.push(row);
        }
        Ok(Table { path: self.path.clone(), columns: self.columns.clone(), rows })
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
    read_text_table(path, &CsvOptions::default())?.to_numbers()
}

/// Reads a CSV file's cells as text (a `.gz` file is decompressed first): RFC 4180 through the
/// `csv` crate with `options`' delimiter, quoted fields, CRLF or LF line ends (line numbers
/// count either the same), cells trimmed, blank lines skipped.
///
/// # Errors
/// An unreadable or corrupt file, malformed CSV, a ragged row (with its line), a missing or
/// repeated column name, or no rows.
pub fn read_text_table(path: &Path, options: &CsvOptions) -> Result<TextTable> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut bytes = std::fs::read(path).map_err(io)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut plain = vec![];
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes.as_slice()), &mut plain).map_err(io)?;
        bytes = plain;
    }
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).delimiter(options.delimiter).from_reader(bytes.as_slice());
    // Line numbers from the byte offset, counted here: the csv crate's own count is one short on
    // CRLF files. A record's position may be the line end before it (the `\n` of a CRLF).
    let line_end = |pos: &csv::Position| {
        let mut end = usize::try_from(pos.byte()).unwrap_or(usize::MAX).min(bytes.len());
        while bytes.get(end).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            end += 1;
        }
        end
    };
    let line_of = |pos: Option<&csv::Position>| {
        pos.map_or(0, |p| bytes[..line_end(p)].iter().filter(|&&b| b == b'\n').count() + 1)
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
    check_names(path, &columns)?;
    let (mut records, mut lines) = (vec![], vec![]);
    // Lines counted as the records come (each offset past the last): linear in the file.
    let (mut counted, mut newlines) = (0, 0);
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let end = record.position().map_or(counted, line_end).max(counted);
        newlines += bytes[counted..end].iter().filter(|&&b| b == b'\n').count();
        counted = end;
        lines.push(newlines + 1);
        records.push(record);
    }
    if records.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf() });
    }
    Ok(TextTable { path: path.to_path_buf(), columns, records, lines })
}

/// Reads a table of cells by the file's kind: Parquet (`.parquet`, `.pq`; with the `parquet`
/// feature) or CSV ([`read_text_table`], `.gz` included).
///
/// # Errors
/// As the reader of that kind; a Parquet file in a build without the `parquet` feature.
pub fn read_any_table(path: &Path, options: &CsvOptions) -> Result<TextTable> {
    if !path.extension().is_some_and(|e| e == "parquet" || e == "pq") {
        return read_text_table(path, options);
    }
    #[cfg(feature = "parquet")]
    return crate::parquet::read_parquet(path);
    #[cfg(not(feature = "parquet"))]
    Err(Error::Parquet {
        path: path.to_path_buf(),
        message: "this build reads no Parquet: build with the `parquet` feature (on by default in experiments)".into(),
    })
}

/// Column names must be there, non-empty and distinct.
fn check_names(path: &Path, columns: &[String]) -> Result<()> {
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
    Ok(())
}

/// A cell as an error shows it: control characters escaped, at most 60 characters.
fn shown(cell: &str) -> String {
    let text: String = cell.chars().flat_map(char::escape_debug).collect();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
