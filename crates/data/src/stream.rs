//! `[data] stream = true`: samples read from an `.npy` file chunk by chunk instead of loaded,
//! for data larger than memory. Standardisation comes from two streaming passes that sum in
//! sample order as [`crate::Standardizer::fit`] does, so the numbers a solver sees are the bits
//! of the same file loaded whole and standardised.

use std::path::Path;

use cg_core::RowChunks;

use crate::npy::NpyRows;
use crate::{ConfigError, DataConfig, InputTransform, Standardizer};

/// Rows a pass reads at a time unless `chunk_rows` says otherwise: 65,536 rows of 64 f32
/// features are 16 MiB read and 32 MiB as f64.
pub const DEFAULT_CHUNK_ROWS: usize = 65_536;

/// An `.npy` file's samples as a solver reads them: chunk by chunk, standardised on the fly
/// when asked.
#[derive(Debug)]
pub struct StreamedRows {
    rows: NpyRows,
    standardizer: Option<Standardizer>,
}

impl StreamedRows {
    /// Bytes a pass holds at once (one chunk as read and as numbers).
    pub fn chunk_bytes(&self) -> usize {
        self.rows.chunk_bytes()
    }

    fn standardize(&self, values: &mut [f64]) {
        if let Some(s) = &self.standardizer {
            let d = s.mean.len();
            for (k, v) in values.iter_mut().enumerate() {
                *v = (*v - s.mean[k % d]) / s.scale[k % d];
            }
        }
    }
}

impl RowChunks for StreamedRows {
    fn dim(&self) -> usize {
        self.rows.dim()
    }

    fn rows(&self) -> usize {
        self.rows.rows()
    }

    fn for_each_chunk(&self, visit: &mut cg_core::rows::ChunkVisitor) -> Result<(), String> {
        let mut buffer = vec![];
        self.rows.for_each_chunk(&mut |first, chunk| {
            buffer.clear();
            buffer.extend_from_slice(chunk);
            self.standardize(&mut buffer);
            visit(first, &buffer)
        })
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        self.rows.row(j, out)?;
        self.standardize(out);
        Ok(())
    }
}

/// Per-feature mean and population standard deviation of `rows` in two passes, each summing in
/// sample order (the order [`Standardizer::fit`] sums in); a constant feature gets 1.
///
/// # Errors
/// The source cannot be read.
pub fn streamed_standardizer(rows: &dyn RowChunks) -> Result<Standardizer, String> {
    let (d, n) = (rows.dim(), rows.rows().max(1) as f64);
    let mut sums = vec![0.0; d];
    rows.for_each_chunk(&mut |_, chunk| {
        for x in chunk.chunks_exact(d) {
            for (s, v) in sums.iter_mut().zip(x) {
                *s += v;
            }
        }
        Ok(())
    })?;
    let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
    let mut squares = vec![0.0; d];
    rows.for_each_chunk(&mut |_, chunk| {
        for x in chunk.chunks_exact(d) {
            for ((s, v), m) in squares.iter_mut().zip(x).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        Ok(())
    })?;
    let scale = squares.iter().map(|s| s / n).map(|var| if var > 0.0 { var.sqrt() } else { 1.0 }).collect();
    Ok(Standardizer { mean, scale })
}

impl DataConfig {
    /// Opens a `stream = true` source: the `npy` file read in chunks of `chunk_rows`, with the
    /// standardisation (when asked) from streaming passes. Returns the rows and the transform
    /// `predict` applies (saved with the model).
    ///
    /// # Errors
    /// Not an `npy` source, a setting that needs the rows in memory (a test or validation split,
    /// `features`, `scale`, missing cells, ids), or a file problem. `labels` are read by
    /// [`DataConfig::stream_targets`], for the kinds that learn from them.
    pub fn open_stream(&self, base: &Path) -> Result<(StreamedRows, InputTransform), ConfigError> {
        let refuse = |why: &str| Err(ConfigError::Encoding(format!("stream = true: {why}")));
        let Some(file) = &self.npy else {
            return refuse("give the samples as npy = \"FILE.npy\" (samples x features, C order)");
        };
        if self.test_fraction != 0.0 || self.validation_fraction != 0.0 {
            return refuse("a test or validation split needs the rows shuffled in memory: leave test_fraction and validation_fraction at 0");
        }
        if self.features.is_some() || self.scale != 1.0 || !self.ids.is_empty() || self.standardize_target {
            return refuse("features, scale, ids and standardize_target are not read when streaming: leave them out");
        }
        let error = |why: String| ConfigError::Npy { key: "npy", path: file.clone(), why };
        let chunk_rows = self.chunk_rows.unwrap_or(DEFAULT_CHUNK_ROWS);
        if chunk_rows == 0 {
            return refuse("chunk_rows must be at least 1");
        }
        let rows = NpyRows::open(&base.join(file), chunk_rows).map_err(error)?;
        if rows.rows() == 0 || rows.dim() == 0 {
            return Err(error(format!("shape [{}, {}]: no samples or no features", rows.rows(), rows.dim())));
        }
        let standardizer = if self.standardize { Some(streamed_standardizer(&rows).map_err(error)?) } else { None };
        let transform = InputTransform {
            features: (0..rows.dim()).map(|i| format!("x{i}")).collect(),
            target: "y".into(),
            scale: 1.0,
            standardize: standardizer.as_ref().map(|s| s.mean.iter().copied().zip(s.scale.iter().copied()).collect()),
            ..InputTransform::default()
        };
        Ok((StreamedRows { rows, standardizer }, transform))
    }

    /// The targets of a `stream = true` source, held in memory (8 bytes a sample): the `labels`
    /// file, one finite number per row of the `npy` file.
    ///
    /// # Errors
    /// No `labels`, a file problem, another count of targets, or a value that is not finite.
    pub fn stream_targets(&self, base: &Path, rows: usize) -> Result<Vec<f64>, ConfigError> {
        let Some(y) = &self.labels else {
            return Err(ConfigError::Npy {
                key: "labels",
                path: String::new(),
                why: "missing: the .npy file of one target per sample of npy".into(),
            });
        };
        crate::config::targets_of(base, y, rows)
    }
}
