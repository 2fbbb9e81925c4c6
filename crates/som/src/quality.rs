//! Best-matching units and what is measured with them: quantization and topographic error, hit
//! counts, majority labels, the U-matrix. Data and codebooks are row-major: one row of `dim`
//! values per sample or unit.
//!
//! Work over samples runs in parallel; every sum is then taken in sample order, so results do not
//! depend on the number of threads.

use rayon::prelude::*;

use crate::Lattice;

/// Squared Euclidean distance. Eight partial sums let the compiler use vector instructions; they
/// are added in a fixed order, so the result is the same on every run.
#[inline(always)]
pub fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| (x - y) * (x - y)).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

cg_core::avx2_dispatch!(
/// The best-matching unit of `x` (the first one on a tie) and its squared distance. Compiled for
/// the baseline and for AVX2 (`cg_core::avx2_dispatch`): the same answer either way.
#[inline]
pub fn bmu(weights: &[f64], dim: usize, x: &[f64]) -> (usize, f64) => bmu_body);

#[inline(always)]
fn bmu_body(weights: &[f64], dim: usize, x: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (u, w) in weights.chunks_exact(dim).enumerate() {
        let d = sq_dist(w, x);
        if d < best.1 {
            best = (u, d);
        }
    }
    best
}

cg_core::avx2_dispatch!(
/// The best and second-best units of `x` and the best squared distance. Needs two units or more.
/// Dispatched like [`bmu`].
pub fn best_two(weights: &[f64], dim: usize, x: &[f64]) -> (usize, usize, f64) => best_two_body);

#[inline(always)]
fn best_two_body(weights: &[f64], dim: usize, x: &[f64]) -> (usize, usize, f64) {
    let (mut b1, mut d1, mut b2, mut d2) = (0, f64::INFINITY, 0, f64::INFINITY);
    for (u, w) in weights.chunks_exact(dim).enumerate() {
        let d = sq_dist(w, x);
        if d < d1 {
            (b2, d2) = (b1, d1);
            (b1, d1) = (u, d);
        } else if d < d2 {
            (b2, d2) = (u, d);
        }
    }
    (b1, b2, d1)
}

/// The best-matching unit of every sample (also for data the map was not trained on).
pub fn bmus(weights: &[f64], dim: usize, data: &[f64]) -> Vec<usize> {
    data.par_chunks(dim).map(|x| bmu(weights, dim, x).0).collect()
}

/// Quantization and topographic error of a codebook on some data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quality {
    /// Mean Euclidean distance from a sample to its best-matching unit's vector.
    pub quantization_error: f64,
    /// Share of samples whose best and second-best units are not adjacent on the lattice.
    pub topographic_error: f64,
}

/// Both errors in one pass over the data. The lattice decides adjacency, so a hexagonal or
/// toroidal map is measured with its own neighbours (wrapped ones included).
///
/// ```
/// use cg_som::{quality::quality, Lattice, Topology};
/// // A 1 x 3 map with prototypes 0, 1, 2 (one dimension) and samples 0.1 and 1.6.
/// let lattice = Lattice::new(1, 3, Topology::Rectangular, false).unwrap();
/// let q = quality(&lattice, &[0.0, 1.0, 2.0], 1, &[0.1, 1.6]);
/// assert!((q.quantization_error - (0.1 + 0.4) / 2.0).abs() < 1e-15);
/// // 1.6: best unit 2, second unit 1, neighbours; 0.1: units 0 and 1, neighbours too.
/// assert_eq!(q.topographic_error, 0.0);
/// // On the unit ends only a torus makes 0 and 2 neighbours: 1.0 + ε is nearest 1, then 2.
/// let q = quality(&lattice, &[0.0, 5.0, 1.0], 1, &[0.6]);
/// assert_eq!(q.topographic_error, 1.0);
/// let ring = Lattice::new(1, 3, Topology::Rectangular, true).unwrap();
/// assert_eq!(quality(&ring, &[0.0, 5.0, 1.0], 1, &[0.6]).topographic_error, 0.0);
/// ```
pub fn quality(lattice: &Lattice, weights: &[f64], dim: usize, data: &[f64]) -> Quality {
    let mut sums = QualitySums::default();
    sums.add(lattice, weights, dim, data);
    sums.finish()
}

/// [`quality`] over data that comes in chunks: the distances are summed in sample order across
/// chunks, so any chunking gives the bits of one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QualitySums {
    distance: f64,
    not_adjacent: usize,
    samples: usize,
}

impl QualitySums {
    /// Adds the samples of `data` (whole rows of `dim` values).
    pub fn add(&mut self, lattice: &Lattice, weights: &[f64], dim: usize, data: &[f64]) {
        let per_sample: Vec<(f64, bool)> = data
            .par_chunks(dim)
            .map(|x| {
                let (b1, b2, d1) = best_two(weights, dim, x);
                (d1.sqrt(), !lattice.adjacent(b1, b2))
            })
            .collect();
        for &(d, far) in &per_sample {
            self.distance += d;
            self.not_adjacent += usize::from(far);
        }
        self.samples += per_sample.len();
    }

    /// The mean distance and the share of samples whose two best units are not neighbours.
    pub fn finish(&self) -> Quality {
        let n = self.samples.max(1) as f64;
        Quality { quantization_error: self.distance / n, topographic_error: self.not_adjacent as f64 / n }
    }
}

/// Samples won by each unit.
pub fn hits(bmus: &[usize], units: usize) -> Vec<usize> {
    let mut h = vec![0; units];
    for &b in bmus {
        h[b] += 1;
    }
    h
}

/// The most frequent label among the samples each unit wins (the smallest label on a tie), or
/// `None` for a unit that wins none.
pub fn majority_labels(bmus: &[usize], labels: &[usize], units: usize) -> Vec<Option<usize>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut counts = vec![vec![0usize; classes]; units];
    for (&b, &l) in bmus.iter().zip(labels) {
        counts[b][l] += 1;
    }
    counts
        .iter()
        .map(|c| {
            let best = c.iter().copied().max().unwrap_or(0);
            (best > 0).then(|| c.iter().position(|&k| k == best).expect("internal: the max is in the list"))
        })
        .collect()
}

/// A class's region of the map: the units whose majority label it is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelRegion {
    /// Units.
    pub units: usize,
    /// The share of the region's samples that belong to the class (0 for an empty region).
    pub purity: f64,
    /// The share of the class's samples that fall inside the region.
    pub recall: f64,
}

/// For each class 0, 1, ...: its region given the winners of the samples and each unit's
/// majority label.
pub fn label_regions(labels: &[usize], bmus: &[usize], majority: &[Option<usize>]) -> Vec<LabelRegion> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    (0..classes)
        .map(|c| {
            let in_region: Vec<usize> =
                bmus.iter().enumerate().filter(|&(_, &b)| majority[b] == Some(c)).map(|(j, _)| j).collect();
            let hits = in_region.iter().filter(|&&j| labels[j] == c).count();
            let size = labels.iter().filter(|&&l| l == c).count();
            LabelRegion {
                units: majority.iter().filter(|&&m| m == Some(c)).count(),
                purity: if in_region.is_empty() { 0.0 } else { hits as f64 / in_region.len() as f64 },
                recall: if size == 0 { 0.0 } else { hits as f64 / size as f64 },
            }
        })
        .collect()
}

/// The U-matrix: for each unit, the mean distance between its vector and its adjacent units'
/// vectors. High values mark borders between clusters.
pub fn u_matrix(lattice: &Lattice, weights: &[f64], dim: usize) -> Vec<f64> {
    (0..lattice.units())
        .map(|u| {
            let n = lattice.neighbours(u);
            let w = &weights[u * dim..(u + 1) * dim];
            let total: f64 = n.iter().map(|&v| sq_dist(w, &weights[v * dim..(v + 1) * dim]).sqrt()).sum();
            if n.is_empty() {
                0.0
            } else {
                total / n.len() as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Topology;

    #[test]
    fn sq_dist_matches_the_plain_sum() {
        for len in [1, 7, 8, 9, 64, 67] {
            let a: Vec<f64> = (0..len).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..len).map(|i| (i as f64 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            assert!((sq_dist(&a, &b) - plain).abs() <= 1e-14 * plain.max(1.0), "len {len}");
        }
    }

    #[test]
    fn topographic_error_uses_the_wrapped_lattice() {
        // A 1 x 4 ring: units 0 and 3 are adjacent only on the torus.
        let w = [0.0, 1.0, 2.0, 0.2];
        let x = [0.1];
        let planar = Lattice::new(1, 4, Topology::Rectangular, false).unwrap();
        let torus = Lattice::new(1, 4, Topology::Rectangular, true).unwrap();
        assert_eq!(best_two(&w, 1, &x), (0, 3, 0.010000000000000002));
        assert_eq!(quality(&planar, &w, 1, &x).topographic_error, 1.0);
        assert_eq!(quality(&torus, &w, 1, &x).topographic_error, 0.0);
        assert!((quality(&torus, &w, 1, &x).quantization_error - 0.1).abs() < 1e-15);
    }

    #[test]
    fn majority_labels_and_hits() {
        let bmus = [0, 0, 0, 2, 2];
        let labels = [1, 1, 0, 0, 1];
        assert_eq!(hits(&bmus, 3), vec![3, 0, 2]);
        assert_eq!(majority_labels(&bmus, &labels, 3), vec![Some(1), None, Some(0)]);
    }

    #[test]
    fn u_matrix_of_a_line() {
        let l = Lattice::new(1, 3, Topology::Rectangular, false).unwrap();
        let u = u_matrix(&l, &[0.0, 1.0, 3.0], 1);
        assert_eq!(u, vec![1.0, 1.5, 2.0]);
    }
}
