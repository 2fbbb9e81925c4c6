//! Samples read in chunks: a table of `rows() x dim()` numbers (one sample per row) that a solver
//! walks chunk by chunk, in row order, instead of holding it whole, for data larger than memory.
//! A solver that sums over samples in row order gives the same bits whether the rows come in one
//! slice or in chunks of any size.

/// What a pass calls with each chunk: the chunk's first row and its values; an error stops the
/// pass.
pub type ChunkVisitor<'v> = dyn FnMut(usize, &[f64]) -> Result<(), String> + 'v;

/// A table of samples read in chunks of consecutive rows (row-major, `dim` values per row).
pub trait RowChunks: Send + Sync {
    /// Values per row.
    fn dim(&self) -> usize;

    /// The number of rows.
    fn rows(&self) -> usize;

    /// Calls `visit(first_row, values)` for consecutive chunks covering every row once, in order
    /// (`values` holds whole rows). Stops at the first error.
    ///
    /// # Errors
    /// The source could not be read (a file changed or cut short since it was opened), or what
    /// `visit` returned.
    fn for_each_chunk(&self, visit: &mut ChunkVisitor) -> Result<(), String>;

    /// Reads row `j` into `out` (`dim` values).
    ///
    /// # Errors
    /// As [`RowChunks::for_each_chunk`].
    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String>;
}

/// Rows held in memory, handed out in chunks of `chunk_rows`: the reference a streamed source is
/// compared with, and a way to test that a solver's chunked path matches its in-memory one.
#[derive(Clone, Debug)]
pub struct SliceChunks<'a> {
    /// The rows, row-major.
    pub values: &'a [f64],
    /// Values per row.
    pub dim: usize,
    /// Rows per chunk (at least 1).
    pub chunk_rows: usize,
}

impl RowChunks for SliceChunks<'_> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn rows(&self) -> usize {
        self.values.len().checked_div(self.dim).unwrap_or(0)
    }

    fn for_each_chunk(&self, visit: &mut ChunkVisitor) -> Result<(), String> {
        let step = self.chunk_rows.max(1) * self.dim.max(1);
        for (k, chunk) in self.values.chunks(step).enumerate() {
            visit(k * self.chunk_rows.max(1), chunk)?;
        }
        Ok(())
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        let row = self.values.get(j * self.dim..(j + 1) * self.dim).ok_or_else(|| format!("no row {j}"))?;
        out.copy_from_slice(row);
        Ok(())
    }
}

/// A borrowed source reads as the source itself (a solver may borrow what an experiment owns).
impl<T: RowChunks + ?Sized> RowChunks for &T {
    fn dim(&self) -> usize {
        (**self).dim()
    }

    fn rows(&self) -> usize {
        (**self).rows()
    }

    fn for_each_chunk(&self, visit: &mut ChunkVisitor) -> Result<(), String> {
        (**self).for_each_chunk(visit)
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        (**self).row(j, out)
    }
}

/// A source whose every value passes through `f` as it is read: a threshold that makes binary
/// units of grey levels, a change of units. Nothing is stored; each pass applies `f` again.
pub struct MapValues<R, F> {
    /// The rows read.
    pub source: R,
    /// Applied to each value.
    pub f: F,
}

impl<R: RowChunks, F: Fn(f64) -> f64 + Send + Sync> RowChunks for MapValues<R, F> {
    fn dim(&self) -> usize {
        self.source.dim()
    }

    fn rows(&self) -> usize {
        self.source.rows()
    }

    fn for_each_chunk(&self, visit: &mut ChunkVisitor) -> Result<(), String> {
        let mut buffer = vec![];
        self.source.for_each_chunk(&mut |first, chunk| {
            buffer.clear();
            buffer.extend(chunk.iter().map(|&x| (self.f)(x)));
            visit(first, &buffer)
        })
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        self.source.row(j, out)?;
        out.iter_mut().for_each(|x| *x = (self.f)(*x));
        Ok(())
    }
}

/// A boxed source reads as the source itself (a source chosen at run time).
impl<T: RowChunks + ?Sized> RowChunks for Box<T> {
    fn dim(&self) -> usize {
        (**self).dim()
    }

    fn rows(&self) -> usize {
        (**self).rows()
    }

    fn for_each_chunk(&self, visit: &mut ChunkVisitor) -> Result<(), String> {
        (**self).for_each_chunk(visit)
    }

    fn row(&self, j: usize, out: &mut [f64]) -> Result<(), String> {
        (**self).row(j, out)
    }
}
