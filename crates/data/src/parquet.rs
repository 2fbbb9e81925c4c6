//! Parquet files (what pandas, polars and Arrow write) as the same text table a CSV file gives,
//! so every `[data]` rule (features by name, categories, ids, text labels, missing cells) and
//! `predict` apply unchanged. Numbers become their shortest exact decimal text (an f64 reads
//! back bit for bit; an f32 as its exact value), nulls become empty cells, text stays text.
//! Row numbers stand in for CSV line numbers in errors: data row 1 is the file's first row.
//!
//! Read with the `parquet` crate (Apache Arrow's Rust implementation, without Arrow itself):
//! plain, dictionary and RLE encodings, snappy (pandas' and pyarrow's default) and zstd
//! (polars') compression.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::{Error, Result, TextTable};

/// Reads the Parquet file `path` as a table of text cells, one column per top-level field.
///
/// # Errors
/// An unreadable file, one that is not Parquet (or is cut short), a compression this build does
/// not read, a nested (list, map, struct) column, no rows.
pub fn read_parquet(path: &Path) -> Result<TextTable> {
    let bad = |e: parquet::errors::ParquetError| Error::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let reader = SerializedFileReader::new(file).map_err(bad)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let columns: Vec<String> = schema.root_schema().get_fields().iter().map(|f| f.name().to_string()).collect();
    if let Some(nested) = schema.root_schema().get_fields().iter().find(|f| f.is_group()) {
        return Err(Error::Parquet {
            path: path.to_path_buf(),
            message: format!("column `{}` is nested (a list, map or struct): give flat columns", nested.name()),
        });
    }
    let mut rows = vec![];
    for row in reader.get_row_iter(None).map_err(bad)? {
        let row = row.map_err(bad)?;
        rows.push(row.get_column_iter().map(|(_, field)| cell(field)).collect::<Vec<String>>());
    }
    TextTable::from_rows(path, columns, rows)
}

/// One value as CSV text.
fn cell(field: &Field) -> String {
    match field {
        Field::Null => String::new(),
        Field::Bool(b) => u8::from(*b).to_string(),
        Field::Float(v) => f64::from(*v).to_string(),
        Field::Double(v) => v.to_string(),
        Field::Float16(v) => f64::from(v.to_f32()).to_string(),
        Field::Str(s) => s.clone(),
        // Integers, decimals, dates and times as the crate writes them (dates as text: they are
        // selected only as ids or categories).
        other => other.to_string(),
    }
}
