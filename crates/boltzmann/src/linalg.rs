//! Matrix products on strided buffers through matrixmultiply's blocked kernels.

/// A matrix read through strides: element (r, c) is `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f64],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a> Mat<'a> {
    pub fn row_major(data: &'a [f64], rows: usize, cols: usize) -> Mat<'a> {
        Mat { data, rows, cols, rs: cols, cs: 1 }
    }

    /// One past the largest index the strides reach.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.rs + (self.cols - 1) * self.cs + 1
        }
    }
}

/// C ← α A B + β C, C being `c` read row-major with `c_cols` columns, or, with `c_cols == 0`,
/// column-major with A's row count as its leading dimension.
pub(crate) fn gemm(alpha: f64, a: Mat, b: Mat, beta: f64, c: &mut [f64], c_cols: usize) {
    assert!(a.cols == b.rows, "internal: inner dimensions {} and {}", a.cols, b.rows);
    assert!(a.extent() <= a.data.len() && b.extent() <= b.data.len(), "internal: operand out of bounds");
    let (m, n) = (a.rows, b.cols);
    let (rsc, csc) = if c_cols == 0 { (1, m) } else { (c_cols, 1) };
    assert!(c_cols == 0 || c_cols == n, "internal: output columns");
    assert!(m * n <= c.len(), "internal: output out of bounds");
    // SAFETY: every index the strides reach is within the slices (checked above), and C's strides
    // address m x n distinct elements of `c`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            a.cols,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            csc as isize,
        );
    }
}
