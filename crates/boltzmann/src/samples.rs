//! Samples as rows, wherever they live: a matrix in memory or a file read in chunks
//! ([`RowChunks`]). Every sum over the samples here runs row by row in order, so a streamed
//! source gives the same bits as the same rows held whole.

use cg_core::RowChunks;
use nalgebra::DMatrix;

use crate::{Error, Result};

/// The rows of a matrix (samples as rows, nalgebra's column-major storage), handed out in
/// row-major chunks of [`MatrixRows::CHUNK`] rows.
pub struct MatrixRows<'a>(pub &'a DMatrix<f64>);

impl MatrixRows<'_> {
    /// Rows copied per chunk.
    pub const CHUNK: usize = 256;
}

impl RowChunks for MatrixRows<'_> {
    fn dim(&self) -> usize {
        self.0.ncols()
    }

    fn rows(&self) -> usize {
        self.0.nrows()
    }

    fn for_each_chunk(&self, visit: &mut cg_core::rows::ChunkVisitor) -> std::result::Result<(), String> {
        let (n, d) = self.0.shape();
        let mut buf = Vec::with_capacity(Self::CHUNK.min(n) * d);
        for start in (0..n).step_by(Self::CHUNK) {
            buf.clear();
            for r in start..(start + Self::CHUNK).min(n) {
                buf.extend(self.0.row(r).iter());
            }
            visit(start, &buf)?;
        }
        Ok(())
    }

    fn row(&self, j: usize, out: &mut [f64]) -> std::result::Result<(), String> {
        if j >= self.0.nrows() {
            return Err(format!("no row {j}"));
        }
        out.iter_mut().zip(self.0.row(j).iter()).for_each(|(o, &x)| *o = x);
        Ok(())
    }
}

/// Calls `f` with every row of `data` in order; a read error becomes [`Error::Data`].
pub(crate) fn each_row(data: &dyn RowChunks, mut f: impl FnMut(&[f64]) -> Result<()>) -> Result<()> {
    let dim = data.dim().max(1);
    let mut failed = None;
    data.for_each_chunk(&mut |_, chunk| {
        for row in chunk.chunks_exact(dim) {
            if let Err(e) = f(row) {
                failed = Some(e);
                return Err(String::new());
            }
        }
        Ok(())
    })
    .map_err(|read| failed.take().unwrap_or(Error::Data(read)))
}

/// Each column's sum over the rows of `data`, added row by row in order (the same sums as
/// nalgebra's column sums of the samples-as-rows matrix).
pub(crate) fn column_sums(data: &dyn RowChunks) -> Result<Vec<f64>> {
    let mut sums = vec![0.0; data.dim()];
    each_row(data, |row| {
        sums.iter_mut().zip(row).for_each(|(s, x)| *s += x);
        Ok(())
    })?;
    Ok(sums)
}
