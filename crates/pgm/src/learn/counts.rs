//! Counting a family (a variable and its parents) in the data, storing only the parent
//! configurations that occur.

use super::data::{DiscreteData, MISSING};

/// How often each state of a child occurs with each configuration of its parents, for the
/// configurations that occur (rows with a missing cell in the family are left out). A
/// configuration's key is its row in the conditional table: parents in the given order, the last
/// varying fastest.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyCounts {
    /// The child's number of states.
    pub child_card: usize,
    /// The number of parent configurations there are (the product of the parents' numbers of
    /// states; a float, as it may exceed any integer type).
    pub configs: f64,
    /// The keys of the configurations that occur, increasing.
    pub keys: Vec<u64>,
    /// Their counts, `child_card` per key.
    pub counts: Vec<u32>,
    /// The rows counted.
    pub total: usize,
}

impl FamilyCounts {
    /// Each occurring configuration's key and counts.
    pub fn rows(&self) -> impl Iterator<Item = (u64, &[u32])> {
        self.keys.iter().copied().zip(self.counts.chunks(self.child_card.max(1)))
    }
}

/// Counts `child` against `parents` in `data`.
///
/// ```
/// use cg_pgm::learn::{count, DiscreteData};
/// let data = DiscreteData::from_csv("a,b\n0,x\n0,y\n1,y\n1,y\n").unwrap();
/// let c = count(&data, 1, &[0]);
/// assert_eq!(c.keys, [0, 1]);
/// assert_eq!(c.counts, [1, 1, 0, 2]); // a = 0: one x, one y; a = 1: two y
/// ```
///
/// # Panics
/// More parent configurations than a 64-bit key holds (2^64 / states of the child); the
/// learners bound the in-degree long before.
pub fn count(data: &DiscreteData, child: usize, parents: &[usize]) -> FamilyCounts {
    let cards = data.cards();
    let r = cards[child];
    let n = data.rows();
    let configs: f64 = parents.iter().map(|&p| cards[p] as f64).product();
    let space = parents.iter().try_fold(r as u64, |s, &p| s.checked_mul(cards[p] as u64));
    let space = space.expect("a family with more configurations than a 64-bit key holds");
    if space <= (n as u64).max(256) && data.missing_in(child) == 0 && parents.iter().all(|&p| data.missing_in(p) == 0) {
        // Complete and small: one pass over the rows, straight into a counter per cell.
        let mut cells = vec![0u32; space as usize];
        let columns: Vec<&[u16]> = parents.iter().map(|&p| data.column(p)).collect();
        let radices: Vec<usize> = parents.iter().map(|&p| cards[p]).collect();
        let y = data.column(child);
        // The common small families unrolled: the loop over parents costs more than the count.
        match (&columns[..], &radices[..]) {
            ([], _) => y.iter().for_each(|&k| cells[k as usize] += 1),
            ([a], _) => a.iter().zip(y).for_each(|(&a, &k)| cells[a as usize * r + k as usize] += 1),
            ([a, b], [_, cb]) => {
                for ((&a, &b), &k) in a.iter().zip(b.iter()).zip(y) {
                    cells[(a as usize * cb + b as usize) * r + k as usize] += 1;
                }
            }
            ([a, b, c], [_, cb, cc]) => {
                for (((&a, &b), &c), &k) in a.iter().zip(b.iter()).zip(c.iter()).zip(y) {
                    cells[((a as usize * cb + b as usize) * cc + c as usize) * r + k as usize] += 1;
                }
            }
            ([a, b, c, d], [_, cb, cc, cd]) => {
                for ((((&a, &b), &c), &d), &k) in a.iter().zip(b.iter()).zip(c.iter()).zip(d.iter()).zip(y) {
                    cells[(((a as usize * cb + b as usize) * cc + c as usize) * cd + d as usize) * r + k as usize] += 1;
                }
            }
            _ => {
                for row in 0..n {
                    let mut code = 0usize;
                    for (column, &radix) in columns.iter().zip(&radices) {
                        code = code * radix + column[row] as usize;
                    }
                    cells[code * r + y[row] as usize] += 1;
                }
            }
        }
        return compress(cells, r, configs, n);
    }
    // Each row's code: key * r + child state, or u64::MAX when a cell of the family is missing.
    let mut codes: Vec<u64> = data.column(child).iter().map(|&x| if x == MISSING { u64::MAX } else { 0 }).collect();
    for &p in parents {
        let card = cards[p] as u64;
        for (code, &x) in codes.iter_mut().zip(data.column(p)) {
            if *code != u64::MAX {
                *code = if x == MISSING { u64::MAX } else { *code * card + x as u64 };
            }
        }
    }
    for (code, &x) in codes.iter_mut().zip(data.column(child)) {
        if *code != u64::MAX {
            *code = *code * r as u64 + x as u64;
        }
    }
    let mut keys = vec![];
    let mut counts = vec![];
    let mut total = 0;
    if space <= (n as u64).max(256) {
        // Dense: a counter per cell, no more cells than rows (scanning them costs no more
        // than the counting).
        let mut cells = vec![0u32; space as usize];
        for &code in &codes {
            if code != u64::MAX {
                cells[code as usize] += 1;
                total += 1;
            }
        }
        return compress(cells, r, configs, total);
    } else {
        // Sparse: sort the codes and count runs; memory is one code per row.
        codes.retain(|&c| c != u64::MAX);
        codes.sort_unstable();
        total = codes.len();
        for &code in &codes {
            let (key, state) = (code / r as u64, (code % r as u64) as usize);
            if keys.last() != Some(&key) {
                keys.push(key);
                counts.extend(std::iter::repeat_n(0, r));
            }
            let at = counts.len() - r + state;
            counts[at] += 1;
        }
    }
    FamilyCounts { child_card: r, configs, keys, counts, total }
}

/// Dense counters, `r` per configuration, as the configurations that occur.
fn compress(cells: Vec<u32>, r: usize, configs: f64, total: usize) -> FamilyCounts {
    let (mut keys, mut counts) = (vec![], vec![]);
    for (key, row) in cells.chunks(r).enumerate() {
        if row.iter().any(|&c| c > 0) {
            keys.push(key as u64);
            counts.extend_from_slice(row);
        }
    }
    FamilyCounts { child_card: r, configs, keys, counts, total }
}
