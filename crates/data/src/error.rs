//! The errors of reading and using a dataset.

use std::path::PathBuf;

/// Why a dataset could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Parquet file that cannot be read as a flat table.
    #[error("{path}: not a readable Parquet table ({message})")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A cell that is not a number.
    #[error("{path}: line {line}, column {column} (`{name}`): `{text}` is not a number")]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// The column's name.
        name: String,
        /// The cell.
        text: String,
    },
    /// An empty cell.
    #[error("{path}: line {line}, column {column} (`{name}`): the cell is empty (a missing value)")]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
        /// The column's name.
        name: String,
    },
    /// Input that cannot be used, as a sentence about it.
    #[error("{path}: {message}")]
    Invalid {
        /// The file (or `<array>`).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A row whose cell count is not the header's.
    #[error("{path}: line {line} has {found} cells, the header has {expected}")]
    Ragged {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The header's cells.
        expected: usize,
        /// The row's cells.
        found: usize,
    },
    /// No column has the target's name.
    #[error("{path}: no column named `{target}` (columns: {columns})")]
    MissingTarget {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        target: String,
        /// The columns there are, comma-separated.
        columns: String,
    },
    /// CSV that cannot be parsed.
    #[error("{path}: line {line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// The parser's reason.
        message: String,
    },
    /// A header cell with no name.
    #[error("{path}: line 1: column {column} has no name")]
    UnnamedColumn {
        /// The file.
        path: PathBuf,
        /// The column, from 1.
        column: usize,
    },
    /// Two columns with one name.
    #[error("{path}: line 1: columns {first} and {second} are both named `{name}`")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The name.
        name: String,
        /// The first column, from 1.
        first: usize,
        /// The second column, from 1.
        second: usize,
    },
    /// A header and no rows.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A target that is not a class label where one is needed.
    #[error("target `{target}` holds {value}, not a class label (0, 1, 2, ...)")]
    NotAClass {
        /// The target's name.
        target: String,
        /// The value found.
        value: f64,
    },
    /// A setting out of its range.
    #[error(transparent)]
    OutOfRange(#[from] cg_core::OutOfRange),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
