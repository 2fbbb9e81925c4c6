//! `cg-data`: the datasets experiments train on.
//!
//! A [`Dataset`] keeps samples as **columns** of a features × samples matrix, the layout of the
//! vector engine (a mini-batch is a block of columns, exercise 3). CSV files have a header row and
//! numeric cells; the target is a named column. Splits and shuffles come from a seeded ChaCha8
//! stream, so a seed gives the same split on every machine and release.
//!
//! # Example
//! A `[data]` table, split and standardised with the training split's statistics:
//! ```
//! let config: cg_data::DataConfig = toml::from_str(r#"
//!     inline_x = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]]
//!     inline_y = [0.0, 1.0, 0.0, 1.0, 0.0]
//!     test_fraction = 0.2
//!     standardize = true
//! "#).unwrap();
//! let splits = config.load(std::path::Path::new("."), 7).unwrap();
//! assert_eq!((splits.train.n_samples(), splits.test.as_ref().unwrap().n_samples()), (4, 1));
//! for row in splits.train.features.row_iter() {
//!     assert!(row.sum().abs() < 1e-12); // mean 0 on the training split
//! }
//! // The same seed, the same split, on every machine.
//! assert_eq!(config.load(std::path::Path::new("."), 7).unwrap().test_rows, splits.test_rows);
//! let bad: cg_data::DataConfig = toml::from_str("inline_x = [[1.0], [2.0, 3.0]]\ninline_y = [0.0, 1.0]").unwrap();
//! assert_eq!(bad.load(std::path::Path::new("."), 0).unwrap_err().to_string(), "[data] inline_x: row 2 has 2 values, row 1 has 1");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod dataset;
mod encode;
mod error;
pub mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod ratings;
pub mod stream;
mod table;
mod transform;

pub use config::{ConfigError, DataConfig, InlineError, Splits, SyntheticConfig, GENERATED_LIMIT};
pub use dataset::{class_count, linear_teacher, Dataset, Standardizer};
pub use encode::{encode_rows, encode_training, sorted_categories, Encoded, Missing, Request, Source};
pub use error::{Error, Result};
pub use table::{load_csv, read_any_table, read_table, read_text_table, CsvOptions, Table, TextTable};
pub use transform::InputTransform;

#[cfg(test)]
mod tests;
