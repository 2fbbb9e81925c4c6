//! The map's lattice: where each unit sits in the plane, the distance between two units (the
//! distance that drives the neighbourhood), and which units are adjacent.

use cg_core::{EdgeWeight, Role, Shape, UnGraph, Variable};

use crate::{Error, Result};

/// How units are arranged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// A square grid; each unit has 8 adjacent units (diagonals included, as MiniSom counts them
    /// for the topographic error).
    #[default]
    Rectangular,
    /// Offset rows ("odd-r"): odd rows are shifted half a unit to the right and rows are √3/2
    /// apart, so every unit is at distance 1 from its 6 adjacent units.
    Hexagonal,
}

/// A `rows` x `cols` lattice of units, planar or wrapped into a torus. Units are numbered row by
/// row: unit `u` is at row `u / cols`, column `u % cols`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lattice {
    rows: usize,
    cols: usize,
    topology: Topology,
    toroidal: bool,
}

/// Tolerance for "at distance 1 (or √2)": positions are sums of halves and multiples of √3/2.
const EPS: f64 = 1e-9;

impl Lattice {
    /// A lattice; a toroidal hexagonal lattice needs an even number of rows, or the offset rows
    /// would not meet when the top edge is glued to the bottom.
    ///
    /// ```
    /// use cg_som::{Lattice, Topology};
    /// let plane = Lattice::new(4, 5, Topology::Rectangular, false).unwrap();
    /// let torus = Lattice::new(4, 5, Topology::Rectangular, true).unwrap();
    /// // The first and the last unit of a row: 4 apart on the plane, neighbours on the torus.
    /// assert_eq!(plane.distance(0, 4), 4.0);
    /// assert!(torus.adjacent(0, 4) && !plane.adjacent(0, 4));
    /// assert!(Lattice::new(3, 4, Topology::Hexagonal, true).is_err());
    /// ```
    ///
    /// # Errors
    /// A zero dimension, or an odd row count on a toroidal hexagonal lattice.
    pub fn new(rows: usize, cols: usize, topology: Topology, toroidal: bool) -> Result<Lattice> {
        if rows == 0 || cols == 0 {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "rows, cols",
                value: rows.min(cols) as f64,
                expected: ">= 1",
            }));
        }
        if cg_core::numeric::extent(&[rows, cols]).is_none() {
            return Err(Error::OutOfRange(cg_core::OutOfRange {
                param: "rows x cols",
                value: rows as f64 * cols as f64,
                expected: "a unit count that fits in memory",
            }));
        }
        if toroidal && topology == Topology::Hexagonal && rows % 2 == 1 {
            return Err(Error::OddHexTorus { rows });
        }
        Ok(Lattice { rows, cols, topology, toroidal })
    }

    /// Rows of units.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns of units.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// Rectangular or hexagonal.
    pub fn topology(&self) -> Topology {
        self.topology
    }
    /// Whether opposite edges meet.
    pub fn toroidal(&self) -> bool {
        self.toroidal
    }

    /// Number of units.
    pub fn units(&self) -> usize {
        self.rows * self.cols
    }

    /// Position of unit `u` in the plane (x to the right along a row, y down the rows).
    pub fn position(&self, u: usize) -> (f64, f64) {
        let (r, c) = (u / self.cols, u % self.cols);
        match self.topology {
            Topology::Rectangular => (c as f64, r as f64),
            Topology::Hexagonal => (c as f64 + 0.5 * (r % 2) as f64, r as f64 * HEX_ROW),
        }
    }

    /// Width and height of the periodic cell of a torus.
    fn period(&self) -> (f64, f64) {
        let height = match self.topology {
            Topology::Rectangular => self.rows as f64,
            Topology::Hexagonal => self.rows as f64 * HEX_ROW,
        };
        (self.cols as f64, height)
    }

    /// Squared lattice distance between units `a` and `b`; on a torus, the shortest way round.
    pub fn dist2(&self, a: usize, b: usize) -> f64 {
        self.dist2_between(self.position(a), self.position(b))
    }

    /// Positions of all units, for loops that would otherwise recompute them (two integer
    /// divisions each) for every distance.
    pub fn positions(&self) -> Vec<(f64, f64)> {
        (0..self.units()).map(|u| self.position(u)).collect()
    }

    /// Squared lattice distance between two unit positions (from [`Lattice::positions`]).
    #[inline]
    pub fn dist2_between(&self, (xa, ya): (f64, f64), (xb, yb): (f64, f64)) -> f64 {
        let (mut dx, mut dy) = ((xa - xb).abs(), (ya - yb).abs());
        if self.toroidal {
            let (w, h) = self.period();
            dx = dx.min(w - dx);
            dy = dy.min(h - dy);
        }
        dx * dx + dy * dy
    }

    /// Lattice distance between units `a` and `b`.
    pub fn distance(&self, a: usize, b: usize) -> f64 {
        self.dist2(a, b).sqrt()
    }

    /// Whether distinct units `a` and `b` are adjacent: distance 1 on a hexagonal lattice, at most
    /// √2 on a rectangular one.
    pub fn adjacent(&self, a: usize, b: usize) -> bool {
        let limit = match self.topology {
            Topology::Rectangular => 2.0,
            Topology::Hexagonal => 1.0,
        };
        a != b && self.dist2(a, b) <= limit + EPS
    }

    /// The units adjacent to `u`, ascending. Only the rows and columns next to `u` can hold them
    /// (also for the offset rows of a hexagonal lattice), so this is O(1) per unit.
    pub fn neighbours(&self, u: usize) -> Vec<usize> {
        let (r, c) = ((u / self.cols) as isize, (u % self.cols) as isize);
        let mut out = vec![];
        for dr in -1..=1 {
            for dc in -1..=1 {
                let (rr, cc) = (r + dr, c + dc);
                let (rr, cc) = if self.toroidal {
                    (rr.rem_euclid(self.rows as isize), cc.rem_euclid(self.cols as isize))
                } else if rr < 0 || cc < 0 || rr >= self.rows as isize || cc >= self.cols as isize {
                    continue;
                } else {
                    (rr, cc)
                };
                let v = rr as usize * self.cols + cc as usize;
                if self.adjacent(u, v) {
                    out.push(v);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The lattice as a graph of the core model: one node per unit holding its `dim`-dimensional
    /// codebook vector, one edge per adjacent pair weighted by their lattice distance.
    pub fn graph(&self, dim: usize) -> UnGraph {
        let mut g = UnGraph::new();
        let var = Variable::Continuous(Shape::Vector(dim));
        let ids: Vec<_> = (0..self.units())
            .map(|u| {
                let name = format!("unit({},{})", u / self.cols, u % self.cols);
                g.add_node(&name, Role::Hidden, var).expect("internal: unit names are distinct")
            })
            .collect();
        for u in 0..self.units() {
            for v in self.neighbours(u).into_iter().filter(|&v| v > u) {
                g.add_edge(ids[u], ids[v], EdgeWeight::Fixed(self.distance(u, v)))
                    .expect("internal: one edge per adjacent pair");
            }
        }
        g
    }
}

/// Vertical distance between rows of a hexagonal lattice.
pub const HEX_ROW: f64 = 0.866_025_403_784_438_6; // √3 / 2

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangular_units_have_up_to_eight_neighbours() {
        let l = Lattice::new(4, 5, Topology::Rectangular, false).unwrap();
        assert_eq!(l.neighbours(0), vec![1, 5, 6]);
        assert_eq!(l.neighbours(6).len(), 8);
        let t = Lattice::new(4, 5, Topology::Rectangular, true).unwrap();
        assert!((0..20).all(|u| t.neighbours(u).len() == 8));
        // Corner to opposite corner is one diagonal step round the torus.
        assert!(t.adjacent(0, 19));
        assert!((t.distance(0, 19) - 2f64.sqrt()).abs() < 1e-12);
        assert!((l.distance(0, 19) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn hexagonal_units_have_six_neighbours_at_distance_one() {
        let l = Lattice::new(4, 4, Topology::Hexagonal, false).unwrap();
        // Unit 5 = row 1 (shifted right), column 1: rows 0 and 2 contribute columns 1 and 2.
        assert_eq!(l.neighbours(5), vec![1, 2, 4, 6, 9, 10]);
        // Unit 9 = row 2 (not shifted), column 1: rows 1 and 3 contribute columns 0 and 1.
        assert_eq!(l.neighbours(9), vec![4, 5, 8, 10, 12, 13]);
        let t = Lattice::new(4, 4, Topology::Hexagonal, true).unwrap();
        for u in 0..16 {
            let n = t.neighbours(u);
            assert_eq!(n.len(), 6, "unit {u}: {n:?}");
            assert!(n.iter().all(|&v| (t.distance(u, v) - 1.0).abs() < 1e-9));
        }
    }

    #[test]
    fn odd_hexagonal_torus_is_rejected() {
        assert!(matches!(Lattice::new(5, 4, Topology::Hexagonal, true), Err(Error::OddHexTorus { rows: 5 })));
        assert!(Lattice::new(0, 4, Topology::Rectangular, false).is_err());
    }

    #[test]
    fn graph_has_one_edge_per_adjacent_pair() {
        let l = Lattice::new(3, 3, Topology::Rectangular, false).unwrap();
        let g = l.graph(2);
        // 12 horizontal/vertical pairs and 8 diagonal pairs.
        assert_eq!((g.node_count(), g.edge_count()), (9, 20));
        let center = g.id("unit(1,1)").unwrap();
        assert_eq!(g.neighbors(center).len(), 8);
    }

    #[test]
    fn small_torus_counts_each_neighbour_once() {
        let l = Lattice::new(2, 2, Topology::Rectangular, true).unwrap();
        assert_eq!(l.neighbours(0), vec![1, 2, 3]);
    }
}
