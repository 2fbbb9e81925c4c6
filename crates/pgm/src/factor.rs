//! Discrete factors: non-negative tables over a few variables, with product, summing out,
//! evidence and normalisation; and exact inference on a set of factors.

use crate::{Error, Result};

/// A table over the variables `vars` (ascending ids) with `cards[k]` values each; `values` is
/// row-major with the last variable varying fastest.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// The variables, by id.
    pub vars: Vec<usize>,
    /// Their numbers of states.
    pub cards: Vec<usize>,
    /// The values, the last variable fastest.
    pub values: Vec<f64>,
}

impl Factor {
    /// A factor from a table whose variables come in any (distinct) order, last one fastest.
    ///
    /// # Errors
    /// A repeated variable, a zero cardinality, a table of the wrong size, or a negative or
    /// non-finite entry.
    pub fn new(vars: &[usize], cards: &[usize], values: Vec<f64>) -> Result<Factor> {
        let Some(size) = cg_core::numeric::extent(cards) else {
            return Err(Error::Table(format!(
                "a table over cardinalities {cards:?} has more entries than memory holds"
            )));
        };
        if vars.len() != cards.len() || values.len() != size || cards.contains(&0) {
            return Err(Error::Table(format!("{} values for cardinalities {cards:?}", values.len())));
        }
        let mut sorted = vars.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != vars.len() {
            return Err(Error::Table(format!("variables {vars:?} repeat")));
        }
        if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(Error::Table(format!("entry {v} is not a finite non-negative number")));
        }
        // Reorder into ascending variable order.
        let order: Vec<usize> = {
            let mut o: Vec<usize> = (0..vars.len()).collect();
            o.sort_by_key(|&k| vars[k]);
            o
        };
        let out_cards: Vec<usize> = order.iter().map(|&k| cards[k]).collect();
        let in_strides = strides(cards);
        let mut out = vec![0.0; size];
        let mut assignment = vec![0usize; vars.len()];
        for slot in &mut out {
            let src: usize = order.iter().zip(&assignment).map(|(&k, &a)| a * in_strides[k]).sum();
            *slot = values[src];
            advance(&mut assignment, &out_cards);
        }
        Ok(Factor { vars: sorted, cards: out_cards, values: out })
    }

    /// The factor with no variables and value `v`.
    pub fn constant(v: f64) -> Factor {
        Factor { vars: vec![], cards: vec![], values: vec![v] }
    }

    /// The value at a full assignment (indexed by variable id).
    pub fn value_at(&self, assignment: &[usize]) -> f64 {
        let mut index = 0;
        for (&v, &c) in self.vars.iter().zip(&self.cards) {
            index = index * c + assignment[v];
        }
        self.values[index]
    }

    /// How far apart consecutive values of each of `vars` sit in this table (0 for a variable
    /// it does not use): the steps that walk it in another table's order.
    fn strides_of(&self, vars: &[usize]) -> Vec<usize> {
        let s = strides(&self.cards);
        vars.iter().map(|v| self.vars.iter().position(|x| x == v).map_or(0, |k| s[k])).collect()
    }

    /// The pointwise product over the union of both variable sets.
    pub fn product(&self, other: &Factor) -> Factor {
        let mut vars: Vec<usize> = self.vars.iter().chain(&other.vars).copied().collect();
        vars.sort_unstable();
        vars.dedup();
        let card_of = |v: usize| {
            self.vars.iter().position(|&x| x == v).map_or_else(
                || other.cards[other.vars.iter().position(|&x| x == v).expect("internal: in the union")],
                |k| self.cards[k],
            )
        };
        let cards: Vec<usize> = vars.iter().map(|&v| card_of(v)).collect();
        let (sa, sb) = (self.strides_of(&vars), other.strides_of(&vars));
        let size: usize = cards.iter().product();
        let mut values = Vec::with_capacity(size);
        // The last variable in an inner loop, the others by an odometer that moves both
        // tables' offsets by their strides (no index recomputed from scratch per entry).
        let Some(last) = vars.len().checked_sub(1) else {
            values.push(self.values[0] * other.values[0]);
            return Factor { vars, cards, values };
        };
        let (c, da, db) = (cards[last], sa[last], sb[last]);
        let (mut ia, mut ib) = (0usize, 0usize);
        let mut assignment = vec![0usize; last];
        loop {
            values.extend((0..c).map(|x| self.values[ia + x * da] * other.values[ib + x * db]));
            let mut d = last;
            loop {
                if d == 0 {
                    return Factor { vars, cards, values };
                }
                d -= 1;
                assignment[d] += 1;
                ia += sa[d];
                ib += sb[d];
                if assignment[d] < cards[d] {
                    break;
                }
                ia -= sa[d] * cards[d];
                ib -= sb[d] * cards[d];
                assignment[d] = 0;
            }
        }
    }

    /// `self.product(other)` written over `self` when `other`'s variables are all `self`'s:
    /// the same products entry by entry, without a new table (a junction tree's clique times
    /// a message on its separator).
    ///
    /// # Panics
    /// A variable of `other` that `self` does not have.
    pub fn multiply_in_place(&mut self, other: &Factor) {
        let step = other.strides_of(&self.vars);
        assert!(
            other.vars.iter().all(|v| self.vars.contains(v)),
            "multiply_in_place: {:?} is not within {:?}",
            other.vars,
            self.vars
        );
        let Some(last) = self.vars.len().checked_sub(1) else {
            self.values[0] *= other.values[0];
            return;
        };
        let (c, d_last) = (self.cards[last], step[last]);
        let mut at = 0usize;
        let mut assignment = vec![0usize; last];
        for row in self.values.chunks_exact_mut(c) {
            for (x, v) in row.iter_mut().enumerate() {
                *v *= other.values[at + x * d_last];
            }
            next_offset(&mut assignment, &self.cards, &step, &mut at);
        }
    }

    /// Sums `var` out (the factor itself when it does not use `var`).
    pub fn sum_out(&self, var: usize) -> Factor {
        let Some(k) = self.vars.iter().position(|&v| v == var) else { return self.clone() };
        let inner: usize = self.cards[k + 1..].iter().product();
        let outer: usize = self.cards[..k].iter().product();
        let c = self.cards[k];
        let mut values = vec![0.0; outer * inner];
        for o in 0..outer {
            for x in 0..c {
                for i in 0..inner {
                    values[o * inner + i] += self.values[(o * c + x) * inner + i];
                }
            }
        }
        let mut vars = self.vars.clone();
        let mut cards = self.cards.clone();
        vars.remove(k);
        cards.remove(k);
        Factor { vars, cards, values }
    }

    /// The factor summed down to the variables of `keep` it has, in one pass over its table
    /// (each entry added once to its place in the result).
    pub fn sum_to(&self, keep: &[usize]) -> Factor {
        let kept: Vec<usize> = (0..self.vars.len()).filter(|&k| keep.contains(&self.vars[k])).collect();
        if kept.len() == self.vars.len() {
            return self.clone();
        }
        let out_cards: Vec<usize> = kept.iter().map(|&k| self.cards[k]).collect();
        let out_strides = strides(&out_cards);
        // Each variable's stride in the result (0 for those summed out).
        let mut step = vec![0usize; self.vars.len()];
        for (j, &k) in kept.iter().enumerate() {
            step[k] = out_strides[j];
        }
        let mut values = vec![0.0; out_cards.iter().product()];
        // Row by row over the last variable (each entry still added in table order): a row
        // adds into one place when the last variable is summed out, else into a contiguous run.
        let last = self.vars.len() - 1;
        let (c, d_last) = (self.cards[last], step[last]);
        let mut assignment = vec![0usize; last];
        let mut at = 0usize;
        // (A table built with a zero cardinality, through the public fields, has no rows.)
        for row in self.values.chunks_exact(c.max(1)) {
            add_row(&mut values, at, d_last, row);
            next_offset(&mut assignment, &self.cards, &step, &mut at);
        }
        Factor { vars: kept.iter().map(|&k| self.vars[k]).collect(), cards: out_cards, values }
    }

    /// `self` times each of `others` (tables over some of self's variables), summed down to the
    /// variables of `keep`: `multiply_in_place` by each then [`Factor::sum_to`], entry for entry
    /// (the same products in the same order, the same sums), in one pass over `self` without
    /// the product's table (a junction tree's message to its parent).
    ///
    /// # Panics
    /// A variable of one of `others` that `self` does not have.
    pub fn times_summed_to(&self, others: &[&Factor], keep: &[usize]) -> Factor {
        assert!(
            others.iter().all(|o| o.vars.iter().all(|v| self.vars.contains(v))),
            "times_summed_to: a table over variables outside {:?}",
            self.vars
        );
        let Some(last) = self.vars.len().checked_sub(1) else {
            let product = others.iter().fold(self.values[0], |p, o| p * o.values[0]);
            return Factor::constant(product);
        };
        let kept: Vec<usize> = (0..self.vars.len()).filter(|&k| keep.contains(&self.vars[k])).collect();
        let out_cards: Vec<usize> = kept.iter().map(|&k| self.cards[k]).collect();
        let out_strides = strides(&out_cards);
        // Each variable's stride in the result (0 for those summed out), then in each other table.
        let mut steps = vec![vec![0usize; self.vars.len()]; 1 + others.len()];
        for (j, &k) in kept.iter().enumerate() {
            steps[0][k] = out_strides[j];
        }
        for (o, step) in others.iter().zip(&mut steps[1..]) {
            *step = o.strides_of(&self.vars);
        }
        let mut values = vec![0.0; out_cards.iter().product()];
        let c = self.cards[last];
        let mut term = vec![0.0; c];
        let mut at = vec![0usize; 1 + others.len()];
        let mut assignment = vec![0usize; last];
        for row in self.values.chunks_exact(c.max(1)) {
            term.copy_from_slice(row);
            for (o, (step, &from)) in others.iter().zip(steps[1..].iter().zip(&at[1..])) {
                times_run(&mut term, &o.values, from, step[last], false);
            }
            add_row(&mut values, at[0], steps[0][last], &term);
            next_offsets(&mut assignment, &self.cards, &steps, &mut at);
        }
        Factor { vars: kept.iter().map(|&k| self.vars[k]).collect(), cards: out_cards, values }
    }

    /// Fixes `var` to `value` (evidence), dropping it from the factor.
    pub fn reduce(&self, var: usize, value: usize) -> Factor {
        let Some(k) = self.vars.iter().position(|&v| v == var) else { return self.clone() };
        let inner: usize = self.cards[k + 1..].iter().product();
        let outer: usize = self.cards[..k].iter().product();
        let c = self.cards[k];
        let values = (0..outer)
            .flat_map(|o| (0..inner).map(move |i| (o, i)))
            .map(|(o, i)| self.values[(o * c + value) * inner + i])
            .collect();
        let mut vars = self.vars.clone();
        let mut cards = self.cards.clone();
        vars.remove(k);
        cards.remove(k);
        Factor { vars, cards, values }
    }

    /// The factor with every piece of `evidence` on its variables fixed ([`Factor::reduce`] for
    /// each), copied once.
    pub fn observe(&self, evidence: &[(usize, usize)]) -> Factor {
        let mut seen = evidence.iter().filter(|e| self.vars.contains(&e.0));
        let Some(&(v, x)) = seen.next() else { return self.clone() };
        seen.fold(self.reduce(v, x), |f, &(v, x)| f.reduce(v, x))
    }

    /// Scales the values to sum to one; returns the sum before.
    /// Divides by the largest value when that is far from 1 (above 1e100 or below 1e-100) and
    /// returns the logarithm of the divisor (0 when nothing was done), so that products of many
    /// factors, or of factors with huge values, neither overflow nor underflow while ratios are
    /// kept; tables of ordinary size are left exactly as they are.
    pub fn rescale(&mut self) -> f64 {
        let m = largest(&self.values);
        if m > 0.0 && m.is_finite() && !(1e-100..=1e100).contains(&m) {
            self.values.iter_mut().for_each(|v| *v /= m);
            m.ln()
        } else {
            0.0
        }
    }

    /// Divides by the sum and returns the sum.
    pub fn normalize(&mut self) -> f64 {
        let z: f64 = self.values.iter().sum();
        if z > 0.0 {
            self.values.iter_mut().for_each(|v| *v /= z);
        }
        z
    }
}

/// The product of `factors`, rescaled after every multiplication, and the logarithm of the
/// scale taken out: the true product is `exp(log_scale)` times the table.
pub fn scaled_product<'a>(factors: impl IntoIterator<Item = &'a Factor>) -> (Factor, f64) {
    let mut log_scale = 0.0;
    let mut out = Factor::constant(1.0);
    for f in factors {
        let mut g = f.clone();
        log_scale += g.rescale();
        out = out.product(&g);
        log_scale += out.rescale();
    }
    (out, log_scale)
}

/// The Markov network of a set of factors as an undirected graph of the core model: one
/// categorical node per variable, an edge between every two variables that share a factor.
///
/// # Errors
/// A repeated name, or fewer names than the factors' variables.
pub fn markov_graph(names: &[String], cards: &[usize], factors: &[Factor]) -> Result<cg_core::UnGraph> {
    use cg_core::{Domain, EdgeWeight, Role, UnGraph, Variable};
    let mut g = UnGraph::new();
    let ids = names
        .iter()
        .zip(cards)
        .map(|(n, &c)| g.add_node(n, Role::Hidden, Variable::Discrete(Domain::Categorical(c as u32))))
        .collect::<Result<Vec<_>, _>>()?;
    for f in factors {
        if let Some(&v) = f.vars.iter().find(|&&v| v >= ids.len()) {
            return Err(Error::Query(format!("a factor uses variable {v}, but only {} are named", ids.len())));
        }
        for (k, &a) in f.vars.iter().enumerate() {
            for &b in &f.vars[k + 1..] {
                if g.edge(ids[a], ids[b]).is_none() {
                    g.add_edge(ids[a], ids[b], EdgeWeight::None)?;
                }
            }
        }
    }
    Ok(g)
}

/// The largest of `values` and 0 (NaNs ignored), as `fold(0.0, f64::max)` finds it, in eight
/// lanes that vectorise (a maximum does not depend on the order it is taken in).
fn largest(values: &[f64]) -> f64 {
    let pick = |m: f64, v: f64| if v > m { v } else { m };
    let mut lanes = [0.0f64; 8];
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = pick(*m, v);
        }
    }
    chunks.remainder().iter().copied().chain(lanes).fold(0.0, pick)
}

/// Moves `assignment` (over the first `assignment.len()` of `cards`, last fastest) to the next
/// one and `at`, an offset into another table, by each moved variable's `step` there: an
/// odometer walking two tables at once, no index recomputed from scratch.
#[inline(always)]
fn next_offset(assignment: &mut [usize], cards: &[usize], step: &[usize], at: &mut usize) {
    for d in (0..assignment.len()).rev() {
        assignment[d] += 1;
        *at += step[d];
        if assignment[d] < cards[d] {
            return;
        }
        *at -= step[d] * cards[d];
        assignment[d] = 0;
    }
}

/// [`next_offset`] for several tables at once: `at[t]` moves by `steps[t]`.
#[inline(always)]
fn next_offsets(assignment: &mut [usize], cards: &[usize], steps: &[Vec<usize>], at: &mut [usize]) {
    for d in (0..assignment.len()).rev() {
        assignment[d] += 1;
        at.iter_mut().zip(steps).for_each(|(a, s)| *a += s[d]);
        if assignment[d] < cards[d] {
            return;
        }
        at.iter_mut().zip(steps).for_each(|(a, s)| *a -= s[d] * cards[d]);
        assignment[d] = 0;
    }
}

/// Adds `row`, in order, into `values`: all into `values[at]` when `step` is 0 (the row's
/// variable summed out), else into the run from `at` (`step` 1).
#[inline(always)]
fn add_row(values: &mut [f64], at: usize, step: usize, row: &[f64]) {
    if step == 0 {
        values[at] = row.iter().fold(values[at], |a, &v| a + v);
    } else {
        values[at..at + row.len()].iter_mut().zip(row).for_each(|(o, &v)| *o += v);
    }
}

/// How far apart consecutive values of each variable sit in a row-major table (last fastest).
pub(crate) fn strides(cards: &[usize]) -> Vec<usize> {
    let mut s = vec![1; cards.len()];
    for k in (0..cards.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * cards[k + 1];
    }
    s
}

/// The root of `v`'s set in a union-find forest (`parent[r] == r` at roots), halving paths.
pub(crate) fn root(parent: &mut [usize], mut v: usize) -> usize {
    while parent[v] != v {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    v
}

/// The next assignment in row-major order (last variable fastest); false when it wrapped
/// around after the last.
pub(crate) fn advance(assignment: &mut [usize], cards: &[usize]) -> bool {
    for k in (0..assignment.len()).rev() {
        assignment[k] += 1;
        if assignment[k] < cards[k] {
            return true;
        }
        assignment[k] = 0;
    }
    false
}

/// P(query | evidence) by variable elimination. Evidence reduces every factor; the factors
/// whose remaining variables are not connected to the query (d-separated from it, once the
/// evidence is fixed) only scale the answer and are left out, after a check that their evidence
/// is possible; the rest are eliminated in a greedy weighted min-fill order
/// ([`elimination_order`]), and what remains is multiplied and normalised. The result's
/// variables are `query`, ascending. For a Bayesian network, leave out barren variables first
/// ([`ancestral`]).
///
/// ```
/// use cg_pgm::{variable_elimination, Factor};
/// // a -> b: P(a) = (0.3, 0.7), P(b | a) rows (0.9, 0.1) and (0.2, 0.8); observe b = 1.
/// let pa = Factor::new(&[0], &[2], vec![0.3, 0.7]).unwrap();
/// let pb = Factor::new(&[0, 1], &[2, 2], vec![0.9, 0.1, 0.2, 0.8]).unwrap();
/// let posterior = variable_elimination(&[pa, pb], &[2, 2], &[0], &[(1, 1)]).unwrap();
/// let p1 = 0.7 * 0.8 / (0.3 * 0.1 + 0.7 * 0.8);
/// assert!((posterior.values[1] - p1).abs() < 1e-15);
/// ```
///
/// # Errors
/// A query variable that is also evidence, or evidence of probability zero.
pub fn variable_elimination(
    factors: &[Factor],
    cards: &[usize],
    query: &[usize],
    evidence: &[(usize, usize)],
) -> Result<Factor> {
    check_query(cards, query, evidence)?;
    let reduced: Vec<Factor> = factors.iter().map(|f| f.observe(evidence)).collect();
    let (relevant, others) = split_by_query(&reduced, cards.len(), query);
    // Each table goes to one part: moved there, not copied.
    let mut reduced: Vec<Option<Factor>> = reduced.into_iter().map(Some).collect();
    let mut take = |k: usize| reduced[k].take().expect("internal: a table in one part");
    // The left-out parts scale the answer; a part whose evidence is impossible makes the whole
    // evidence impossible. Tables with no zero cannot sum to zero, so only the others are summed.
    for part in others {
        let tables: Vec<Factor> = part.into_iter().map(&mut take).collect();
        if tables.iter().any(|f| f.values.contains(&0.0))
            && eliminate(tables, cards, &[]).values.iter().all(|&v| v <= 0.0)
        {
            return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
        }
    }
    let mut work = eliminate(relevant.into_iter().map(take).collect(), cards, query);
    // A query variable no table mentions is uniform.
    for &q in query {
        if !work.vars.contains(&q) {
            work = work.product(&Factor { vars: vec![q], cards: vec![cards[q]], values: vec![1.0; cards[q]] });
        }
    }
    finish(vec![work], evidence)
}

/// Sums every variable of `tables` but `keep` out, in [`elimination_order`], rescaling as it
/// goes (the scale cancels in normalised answers); returns the product of what is left.
fn eliminate(tables: Vec<Factor>, cards: &[usize], keep: &[usize]) -> Factor {
    eliminate_scaled(tables, cards, keep).0
}

/// [`eliminate`] with the logarithm of the scale it took out: the true table is
/// `exp(log_scale)` times the returned one.
fn eliminate_scaled(tables: Vec<Factor>, cards: &[usize], keep: &[usize]) -> (Factor, f64) {
    let scopes: Vec<Vec<usize>> = tables.iter().map(|f| f.vars.clone()).collect();
    let mut work = tables;
    let mut log_scale = 0.0;
    for v in elimination_order(&scopes, cards, &hidden(&scopes, keep)) {
        let (with, without): (Vec<Factor>, Vec<Factor>) = work.into_iter().partition(|f| f.vars.contains(&v));
        work = without;
        if !with.is_empty() {
            let (mut summed, scale) = match summed_product(&with, v) {
                Some(summed) => (summed, 0.0),
                None => {
                    let (product, scale) = scaled_product(&with);
                    (product.sum_out(v), scale)
                }
            };
            log_scale += scale + summed.rescale();
            work.push(summed);
        }
    }
    let (product, scale) = scaled_product(&work);
    (product, log_scale + scale)
}

/// Σ over `v` of the product of `tables` (each using `v`) in one pass, without the product's
/// table: entry for entry what [`scaled_product`] then [`Factor::sum_out`] compute (the same
/// products in the same order, the same sums), whenever no rescaling would happen on the way;
/// `None` when one might (the caller takes the long way, which rescales). Each output row runs
/// over the longest block of trailing variables every table walks with one stride, so the
/// inner loops are contiguous copies, products and sums, or one value broadcast.
fn summed_product(tables: &[Factor], v: usize) -> Option<Factor> {
    // Each table's largest entry: scaled_product rescales a table outside [1e-100, 1e100].
    let maxes: Vec<f64> = tables.iter().map(|f| largest(&f.values)).collect();
    if maxes.iter().any(|&m| !(1e-100..=1e100).contains(&m)) {
        return None;
    }
    let mut union: Vec<usize> = tables.iter().flat_map(|f| f.vars.iter().copied()).collect();
    union.sort_unstable();
    union.dedup();
    let card_of = |u: usize| {
        tables
            .iter()
            .find_map(|f| f.vars.iter().position(|&x| x == u).map(|k| f.cards[k]))
            .expect("internal: in a table")
    };
    let cv = card_of(v);
    let vars: Vec<usize> = union.iter().copied().filter(|&u| u != v).collect();
    let cards: Vec<usize> = vars.iter().map(|&u| card_of(u)).collect();
    // Each table's stride for every output variable (0 where it lacks it), and for v.
    let steps: Vec<Vec<usize>> = tables.iter().map(|f| f.strides_of(&vars)).collect();
    let along_v: Vec<usize> = tables.iter().map(|f| f.strides_of(&[v])[0]).collect();
    // The row: trailing output variables that every table walks as one (as numpy's nditer
    // coalesces dimensions).
    let (mut outer, mut row) = (vars.len(), 1usize);
    let mut row_step = vec![0usize; tables.len()];
    if let Some(last) = vars.len().checked_sub(1) {
        (outer, row) = (last, cards[last]);
        row_step = steps.iter().map(|s| s[last]).collect();
        while outer > 0 && steps.iter().zip(&row_step).all(|(s, &r)| s[outer - 1] == r * row) {
            outer -= 1;
            row *= cards[outer];
        }
    }
    let size = cg_core::numeric::extent(&cards)?;
    if size == 0 || cv == 0 {
        return None;
    }
    let mut values = vec![0.0; size];
    // The terms of a piece of a row for every value of v (v's value slowest), at most TERMS.
    const TERMS: usize = 1 << 13;
    let piece = row.min((TERMS / cv).max(1));
    let mut term = vec![0.0; piece * cv];
    let mut at = vec![0usize; tables.len()];
    let mut assignment = vec![0usize; outer];
    for out in values.chunks_exact_mut(row) {
        for (start, out) in (0..row).step_by(piece).zip(out.chunks_mut(piece)) {
            let len = out.len();
            let term = &mut term[..len * cv];
            let mut summed = false;
            for (k, f) in tables.iter().enumerate() {
                let (from, along, step, first) = (at[k] + start * row_step[k], along_v[k], row_step[k], k == 0);
                if along == step * len || len == 1 {
                    // The whole block is one run of this table.
                    times_run(term, &f.values, from, if len == 1 { along } else { step }, first);
                } else if k + 1 == tables.len() && !first {
                    // The last table's products go straight into the sums.
                    for (x, run) in term.chunks_exact(len).enumerate() {
                        add_products(out, run, &f.values, from + x * along, step);
                    }
                    summed = true;
                } else {
                    for (x, run) in term.chunks_exact_mut(len).enumerate() {
                        times_run(run, &f.values, from + x * along, step, first);
                    }
                }
            }
            if !summed {
                for run in term.chunks_exact(len) {
                    add_row(out, 0, 1, run);
                }
            }
        }
        next_offsets(&mut assignment, &cards, &steps, &mut at);
    }
    if might_rescale(&maxes, largest(&values), cv) {
        return None;
    }
    Some(Factor { vars, cards, values })
}

/// Whether [`scaled_product`] might have rescaled a partial product of tables whose largest
/// entries are `maxes`, given the largest sum over v's `cv` values of the full product. A
/// partial product's largest entry is at most the product of its tables' largest entries, and
/// at least the full product's largest entry (at least `largest_sum / cv`) over what the later
/// tables can multiply by; a tenfold margin covers the rounding of these bounds.
fn might_rescale(maxes: &[f64], largest_sum: f64, cv: usize) -> bool {
    const LOW: f64 = 1e-100;
    const HIGH: f64 = 1e100;
    let mut later = vec![1.0f64; maxes.len()];
    for k in (1..maxes.len()).rev() {
        later[k - 1] = later[k] * maxes[k];
    }
    let mut upto = 1.0f64;
    maxes.iter().zip(&later).any(|(&m, &later)| {
        upto *= m;
        !(upto <= HIGH / 10.0 && largest_sum / cv as f64 / later >= LOW * 10.0)
    })
}

/// `run` becomes (`first`) or is multiplied entry by entry by the values of `values` from
/// `from` on, `step` apart: the inner loop of [`summed_product`], one loop per kind of step so
/// that each vectorises (a broadcast value, a contiguous slice, a strided walk).
#[inline(always)]
fn times_run(run: &mut [f64], values: &[f64], from: usize, step: usize, first: bool) {
    let n = run.len();
    match (step, first) {
        (0, true) => run.fill(values[from]),
        (0, false) => {
            let c = values[from];
            run.iter_mut().for_each(|t| *t *= c);
        }
        (1, true) => run.copy_from_slice(&values[from..from + n]),
        (1, false) => run.iter_mut().zip(&values[from..from + n]).for_each(|(t, v)| *t *= v),
        (s, true) => run.iter_mut().zip(values[from..].iter().step_by(s)).for_each(|(t, v)| *t = *v),
        (s, false) => run.iter_mut().zip(values[from..].iter().step_by(s)).for_each(|(t, v)| *t *= v),
    }
}

/// `out += run × values[from], values[from + step], ...` entry by entry: the last table's
/// products added straight into the sums (one pass less than [`times_run`] then a sum).
#[inline(always)]
fn add_products(out: &mut [f64], run: &[f64], values: &[f64], from: usize, step: usize) {
    let n = run.len();
    match step {
        0 => {
            let c = values[from];
            out.iter_mut().zip(run).for_each(|(o, t)| *o += t * c);
        }
        1 => out.iter_mut().zip(run).zip(&values[from..from + n]).for_each(|((o, t), v)| *o += t * v),
        s => out.iter_mut().zip(run).zip(values[from..].iter().step_by(s)).for_each(|((o, t), v)| *o += t * v),
    }
}

/// log Z, Z = Σ over the assignments of the variables the factors mention of the product of
/// the factors, by elimination in weighted min-fill order (rescaled as it goes, so that it is
/// finite where Z overflows); minus infinity when every assignment has a zero.
pub(crate) fn log_partition_by_elimination(factors: &[Factor], cards: &[usize]) -> f64 {
    let (table, log_scale) = eliminate_scaled(factors.to_vec(), cards, &[]);
    log_scale + table.values.iter().sum::<f64>().ln()
}

/// The variables of `scopes` that are not in `keep`, ascending: those to sum out.
fn hidden(scopes: &[Vec<usize>], keep: &[usize]) -> Vec<usize> {
    let mut hidden: Vec<usize> = scopes.iter().flatten().copied().filter(|v| !keep.contains(v)).collect();
    hidden.sort_unstable();
    hidden.dedup();
    hidden
}

/// The indices of the factors connected to the query through shared unobserved variables, and
/// the other factors grouped by connected part (a part of scalars included).
fn split_by_query(reduced: &[Factor], n: usize, query: &[usize]) -> (Vec<usize>, Vec<Vec<usize>>) {
    // Union-find over variables, joined by every table.
    let mut parent: Vec<usize> = (0..n).collect();
    for f in reduced {
        if let Some(&first) = f.vars.first() {
            for &v in &f.vars[1..] {
                let (a, b) = (root(&mut parent, first), root(&mut parent, v));
                parent[a] = b;
            }
        }
    }
    let query_roots: Vec<usize> = query.iter().map(|&q| root(&mut parent, q)).collect();
    let (mut relevant, mut others): (Vec<usize>, Vec<(usize, Vec<usize>)>) = (vec![], vec![]);
    for (k, f) in reduced.iter().enumerate() {
        let r = f.vars.first().map_or(usize::MAX, |&v| root(&mut parent, v));
        if query_roots.contains(&r) {
            relevant.push(k);
        } else if let Some(part) = others.iter_mut().find(|p| p.0 == r) {
            part.1.push(k);
        } else {
            others.push((r, vec![k]));
        }
    }
    (relevant, others.into_iter().map(|p| p.1).collect())
}

/// For a Bayesian network (`parents[v]` of each variable): the variables that are ancestors of
/// the query or the evidence (themselves included). The others are barren: their tables sum to
/// one whatever their parents, so leaving them out changes no answer.
pub fn ancestral(parents: &[Vec<usize>], query: &[usize], evidence: &[(usize, usize)]) -> Vec<bool> {
    let mut keep = vec![false; parents.len()];
    let mut stack: Vec<usize> = query.iter().copied().chain(evidence.iter().map(|e| e.0)).collect();
    while let Some(v) = stack.pop() {
        if v < keep.len() && !keep[v] {
            keep[v] = true;
            stack.extend(parents[v].iter().copied());
        }
    }
    keep
}

/// The order in which to sum out `hidden` from tables over `scopes`: greedy weighted min-fill
/// on the interaction graph (next, the variable whose elimination adds the least weight of new
/// edges, an edge weighing the product of its two cardinalities; ties to the smaller table,
/// then the smaller id). One rule for [`variable_elimination`] and [`elimination_table_size`].
pub fn elimination_order(scopes: &[Vec<usize>], cards: &[usize], hidden: &[usize]) -> Vec<usize> {
    lightest_elimination(scopes, cards, hidden).into_iter().map(|(v, _)| v).collect()
}

/// The greedy rules an elimination order can follow; each step eliminates the variable with
/// the smallest score (ties to the smaller id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Greedy {
    /// The weight of the fill edges (an edge weighing the product of its two cardinalities),
    /// then the table size.
    WeightedMinFill,
    /// The number of fill edges, then the table size.
    MinFill,
    /// Simplicial variables first (no fill), then the smallest table (min-weight, the rule
    /// aGrUM's default triangulation follows).
    MinWeight,
}

/// The elimination of `hidden` whose cliques (the tables it builds) add up to the fewest
/// entries, over the [`Greedy`] rules: what a junction tree costs in memory and time depends on
/// that sum, and no one rule is best on every network (weighted min-fill builds a 10^10-entry
/// clique on Link where min-weight stays small).
pub(crate) fn lightest_elimination(
    scopes: &[Vec<usize>],
    cards: &[usize],
    hidden: &[usize],
) -> Vec<(usize, Vec<usize>)> {
    let weight = |cliques: &[(usize, Vec<usize>)]| -> f64 {
        cliques.iter().map(|(_, c)| c.iter().map(|&v| cards[v] as f64).product::<f64>()).sum()
    };
    let first = elimination_cliques(scopes, cards, hidden, Greedy::WeightedMinFill);
    let mut best = (weight(&first), first);
    // Below this many entries the elimination costs less than finding other orders would.
    if best.0 <= LIGHT_ENOUGH {
        return best.1;
    }
    for rule in [Greedy::MinFill, Greedy::MinWeight] {
        let cliques = elimination_cliques(scopes, cards, hidden, rule);
        let w = weight(&cliques);
        if w < best.0 {
            best = (w, cliques);
        }
    }
    best.1
}

/// Total table entries of an elimination cheap enough to keep without looking for a lighter
/// one (a few tens of microseconds of products).
const LIGHT_ENOUGH: f64 = 2e4;

/// [`elimination_order`] under a [`Greedy`] rule, with the clique each step forms: the variable
/// and its neighbours still in the interaction graph when it goes (ascending), the scope of the
/// table it builds.
pub(crate) fn elimination_cliques(
    scopes: &[Vec<usize>],
    cards: &[usize],
    hidden: &[usize],
    rule: Greedy,
) -> Vec<(usize, Vec<usize>)> {
    // The variables involved, numbered 0..m in ascending id (so local order is id order).
    let mut ids: Vec<usize> = scopes.iter().flatten().chain(hidden).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut local = vec![usize::MAX; ids.last().map_or(0, |&v| v + 1)];
    for (k, &v) in ids.iter().enumerate() {
        local[v] = k;
    }
    let m = ids.len();
    let card: Vec<f64> = ids.iter().map(|&v| cards[v] as f64).collect();
    let mut adjacent: Vec<Vec<usize>> = vec![vec![]; m];
    let mut linked = Links::new(m);
    let link = |a: usize, b: usize, adjacent: &mut [Vec<usize>], linked: &mut Links| {
        if a != b && linked.insert(a, b) {
            adjacent[a].push(b);
            adjacent[b].push(a);
        }
    };
    for s in scopes {
        for (i, &a) in s.iter().enumerate() {
            for &b in &s[i + 1..] {
                link(local[a], local[b], &mut adjacent, &mut linked);
            }
        }
    }
    let mut left: Vec<usize> = hidden.iter().map(|&v| local[v]).collect();
    let mut gone = vec![false; m];
    let mut order = Vec::with_capacity(left.len());
    // Each variable's (fill weight, table size), recomputed only when it may have changed.
    let mut near: Vec<usize> = vec![];
    let mut score = |v: usize, adjacent: &[Vec<usize>], linked: &Links, gone: &[bool]| -> (f64, f64) {
        near.clear();
        near.extend(adjacent[v].iter().copied().filter(|&u| !gone[u]));
        let (mut fill, mut edges) = (0.0, 0.0);
        for (i, &a) in near.iter().enumerate() {
            for &b in &near[i + 1..] {
                if !linked.contains(a, b) {
                    fill += card[a] * card[b];
                    edges += 1.0;
                }
            }
        }
        let table = near.iter().map(|&u| card[u]).product::<f64>() * card[v];
        match rule {
            Greedy::WeightedMinFill => (fill, table),
            Greedy::MinFill => (edges, table),
            Greedy::MinWeight => (f64::from(u8::from(edges > 0.0)), table),
        }
    };
    let mut scores: Vec<(f64, f64)> = vec![(0.0, 0.0); m];
    for &v in &left {
        scores[v] = score(v, &adjacent, &linked, &gone);
    }
    let mut dirty = vec![false; m];
    while !left.is_empty() {
        let (k, _) = left
            .iter()
            .enumerate()
            .map(|(k, &v)| (k, (scores[v].0, scores[v].1, v)))
            .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(a.1 .1.total_cmp(&b.1 .1)).then(a.1 .2.cmp(&b.1 .2)))
            .expect("internal: a variable left");
        let v = left.swap_remove(k);
        let mut clique: Vec<usize> = adjacent[v].iter().copied().filter(|&u| !gone[u]).collect();
        gone[v] = true;
        // A score changes when the variable's neighbours change (v's neighbours: v goes, fill
        // edges come) or an edge appears between two of its neighbours (the common neighbours
        // of each fill edge); no other.
        for &u in &clique {
            dirty[u] = true;
        }
        for (i, &a) in clique.iter().enumerate() {
            for &b in &clique[i + 1..] {
                if !linked.contains(a, b) {
                    for &w in &adjacent[a] {
                        if !gone[w] && !dirty[w] && linked.contains(w, b) {
                            dirty[w] = true;
                        }
                    }
                    link(a, b, &mut adjacent, &mut linked);
                }
            }
        }
        for &u in &left {
            if dirty[u] {
                scores[u] = score(u, &adjacent, &linked, &gone);
            }
        }
        dirty.iter_mut().for_each(|d| *d = false);
        clique.push(v);
        clique.sort_unstable();
        order.push((ids[v], clique.into_iter().map(|u| ids[u]).collect()));
    }
    order
}

/// Which pairs of variables an interaction graph joins: a bit matrix while that is small (one
/// bit test a pair), a hash set of pairs beyond.
enum Links {
    Bits { m: usize, bits: Vec<u64> },
    Set(std::collections::HashSet<(usize, usize), foldhash::fast::FixedState>),
}

impl Links {
    /// Variables up to which the bit matrix is used (8 MB).
    const BITS_UP_TO: usize = 8192;

    fn new(m: usize) -> Links {
        if m <= Self::BITS_UP_TO {
            Links::Bits { m, bits: vec![0; (m * m).div_ceil(64)] }
        } else {
            Links::Set(std::collections::HashSet::with_hasher(foldhash::fast::FixedState::default()))
        }
    }

    fn contains(&self, a: usize, b: usize) -> bool {
        match self {
            Links::Bits { m, bits } => {
                let k = a * m + b;
                bits[k / 64] >> (k % 64) & 1 == 1
            }
            Links::Set(set) => set.contains(&(a.min(b), a.max(b))),
        }
    }

    /// Joins a and b; false when they already were.
    fn insert(&mut self, a: usize, b: usize) -> bool {
        match self {
            Links::Bits { m, bits } => {
                let (k, j) = (a * *m + b, b * *m + a);
                let new = bits[k / 64] >> (k % 64) & 1 == 0;
                bits[k / 64] |= 1 << (k % 64);
                bits[j / 64] |= 1 << (j % 64);
                new
            }
            Links::Set(set) => set.insert((a.min(b), a.max(b))),
        }
    }
}

/// The entries of the largest table [`variable_elimination`] builds for this query, found by
/// running its pruning and elimination order on the factors' scopes alone (no table is built):
/// what the exact query costs in memory, and per entry in time, before it runs.
pub fn elimination_table_size(
    factors: &[Factor],
    cards: &[usize],
    query: &[usize],
    evidence: &[(usize, usize)],
) -> f64 {
    let size = |scope: &[usize]| scope.iter().map(|&v| cards.get(v).copied().unwrap_or(1) as f64).product::<f64>();
    let observed = |v: &usize| evidence.iter().any(|e| e.0 == *v);
    if let Some(&v) = factors.iter().flat_map(|f| f.vars.iter()).find(|&&v| v >= cards.len()) {
        return size(&[v]);
    }
    // The scopes as evidence leaves them (the values do not matter here).
    let reduced: Vec<Factor> = factors
        .iter()
        .map(|f| {
            let vars: Vec<usize> = f.vars.iter().copied().filter(|v| !observed(v)).collect();
            Factor { cards: vars.iter().map(|&v| cards[v]).collect(), vars, values: vec![] }
        })
        .collect();
    let (relevant, others) = split_by_query(&reduced, cards.len(), query);
    let mut largest: f64 = 1.0;
    for (part, keep) in std::iter::once((relevant, query)).chain(others.into_iter().map(|p| (p, &[][..]))) {
        let mut work: Vec<Vec<usize>> = part.iter().map(|&k| reduced[k].vars.clone()).collect();
        largest = work.iter().map(|s| size(s)).fold(largest, f64::max);
        for v in elimination_order(&work, cards, &hidden(&work, keep)) {
            let mut scope: Vec<usize> = work.iter().filter(|s| s.contains(&v)).flatten().copied().collect();
            scope.sort_unstable();
            scope.dedup();
            if scope.is_empty() {
                continue;
            }
            largest = largest.max(size(&scope));
            work.retain(|s| !s.contains(&v));
            work.push(scope.into_iter().filter(|&u| u != v).collect());
        }
        let mut rest: Vec<usize> = work.into_iter().flatten().collect();
        rest.sort_unstable();
        rest.dedup();
        largest = largest.max(size(&rest));
    }
    largest
}

/// P(query | evidence) by multiplying every factor into the joint table: exponential, for
/// checking [`variable_elimination`] on small models.
///
/// # Errors
/// As [`variable_elimination`].
pub fn enumerate(factors: &[Factor], cards: &[usize], query: &[usize], evidence: &[(usize, usize)]) -> Result<Factor> {
    check_query(cards, query, evidence)?;
    let joint = factors.iter().fold(Factor::constant(1.0), |a, f| a.product(f));
    let mut f = evidence.iter().fold(joint, |f, &(v, x)| f.reduce(v, x));
    for v in 0..cards.len() {
        if !query.contains(&v) {
            f = f.sum_out(v);
        }
    }
    finish(vec![f], evidence)
}

pub(crate) fn check_query(cards: &[usize], query: &[usize], evidence: &[(usize, usize)]) -> Result<()> {
    for &(v, x) in evidence {
        if v >= cards.len() || x >= cards[v] {
            return Err(Error::Query(format!("evidence value {x} for variable {v} is out of range")));
        }
        if query.contains(&v) {
            return Err(Error::Query(format!("variable {v} is both queried and observed")));
        }
    }
    if let Some(&v) = query.iter().find(|&&v| v >= cards.len()) {
        return Err(Error::Query(format!("no variable {v}")));
    }
    Ok(())
}

fn finish(work: Vec<Factor>, evidence: &[(usize, usize)]) -> Result<Factor> {
    let mut f = scaled_product(&work).0;
    if f.normalize() <= 0.0 {
        return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_variable_without_tables_is_uniform() {
        let f = Factor::new(&[0], &[2], vec![1.0, 3.0]).unwrap();
        let p = variable_elimination(&[f], &[2, 3], &[1], &[]).unwrap();
        assert_eq!((p.vars.clone(), p.values.len()), (vec![1], 3));
        assert!(p.values.iter().all(|v| (v - 1.0 / 3.0).abs() < 1e-15));
    }

    #[test]
    fn reordering_products_and_sums() {
        // f(b, a) given with b first: f(b=1, a=0) = 3.
        let f = Factor::new(&[1, 0], &[2, 3], vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]).unwrap();
        assert_eq!(f.vars, vec![0, 1]);
        assert_eq!(f.value_at(&[0, 1]), 3.0);
        assert_eq!(f.value_at(&[2, 1]), 6.0);
        let g = Factor::new(&[1], &[2], vec![10.0, 100.0]).unwrap();
        let p = f.product(&g);
        assert_eq!(p.value_at(&[1, 1]), 400.0);
        assert_eq!(f.sum_out(0).values, vec![8.0, 13.0]);
        assert_eq!(f.reduce(1, 0).values, vec![1.0, 2.0, 5.0]);
        assert!(Factor::new(&[0, 0], &[2, 2], vec![1.0; 4]).is_err());
        assert!(Factor::new(&[0], &[2], vec![1.0, -1.0]).is_err());
    }

    #[test]
    fn multiplying_in_place_is_the_product() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let cards = [2, 3, 4, 2];
        let big = Factor::new(&[0, 1, 2, 3], &cards, (0..48).map(|_| rng.random_range(0.0..2.0)).collect()).unwrap();
        for vars in [vec![], vec![0], vec![2], vec![3], vec![1, 3], vec![0, 2, 3], vec![0, 1, 2, 3]] {
            let c: Vec<usize> = vars.iter().map(|&v| cards[v]).collect();
            let size = c.iter().product();
            let small = Factor::new(&vars, &c, (0..size).map(|_| rng.random_range(0.0..2.0)).collect()).unwrap();
            let mut in_place = big.clone();
            in_place.multiply_in_place(&small);
            assert_eq!(in_place, big.product(&small), "times a table over {vars:?}");
        }
    }

    /// The long way [`summed_product`] stands for: the product rescaled as it grows, then v
    /// summed out; with the scale taken out.
    fn long_way(tables: &[Factor], v: usize) -> (Factor, f64) {
        let (product, scale) = scaled_product(tables);
        (product.sum_out(v), scale)
    }

    #[test]
    fn summing_while_multiplying_is_the_long_way_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut fused, mut fallen_back) = (0, 0);
        for case in 0..3000 {
            // Up to six variables with 1 to 5 states, or 20 and 2000 states (a row longer than
            // the term buffer holds for all of v's values).
            let n = rng.random_range(1..=6);
            let cards: Vec<usize> = (0..n).map(|_| rng.random_range(1..=5)).collect();
            let cards: Vec<usize> = if case % 200 == 0 { vec![20, 2000] } else { cards };
            let n = cards.len();
            let v = rng.random_range(0..n);
            // Entries spread over many magnitudes, some tables far from 1, a few zeros.
            let scale = [1.0, 1.0, 1.0, 1e-60, 1e-30, 1e45][rng.random_range(0..6)];
            let tables: Vec<Factor> = (0..rng.random_range(1..=4))
                .map(|_| {
                    let mut vars: Vec<usize> = (0..n).filter(|&u| u == v || rng.random_bool(0.5)).collect();
                    vars.sort_unstable();
                    let c: Vec<usize> = vars.iter().map(|&u| cards[u]).collect();
                    let size = c.iter().product();
                    let values = (0..size)
                        .map(|_| if rng.random_bool(0.1) { 0.0 } else { scale * rng.random_range(0.0..3.0) })
                        .collect();
                    Factor::new(&vars, &c, values).unwrap()
                })
                .collect();
            let long = long_way(&tables, v);
            match summed_product(&tables, v) {
                Some(summed) => {
                    assert_eq!((summed, 0.0), long, "case {case}: {tables:?} summing out {v}");
                    fused += 1;
                }
                None => fallen_back += 1,
            }
        }
        // Both ways were taken.
        assert!(fused > 2000 && fallen_back > 50, "{fused} fused, {fallen_back} the long way");
    }

    #[test]
    fn multiplying_and_summing_in_one_pass_is_both_in_turn() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for case in 0..500 {
            let n = rng.random_range(1..=5);
            let cards: Vec<usize> = (0..n).map(|_| rng.random_range(1..=4)).collect();
            let all: Vec<usize> = (0..n).collect();
            let table = |vars: &[usize], rng: &mut rand_chacha::ChaCha8Rng| {
                let c: Vec<usize> = vars.iter().map(|&v| cards[v]).collect();
                let size = c.iter().product();
                Factor::new(vars, &c, (0..size).map(|_| rng.random_range(0.0..2.0)).collect()).unwrap()
            };
            let big = table(&all, &mut rng);
            let others: Vec<Factor> = (0..rng.random_range(0..=3))
                .map(|_| {
                    let vars: Vec<usize> = all.iter().copied().filter(|_| rng.random_bool(0.5)).collect();
                    table(&vars, &mut rng)
                })
                .collect();
            let keep: Vec<usize> = all.iter().copied().filter(|_| rng.random_bool(0.5)).collect();
            let mut product = big.clone();
            for o in &others {
                product.multiply_in_place(o);
            }
            let refs: Vec<&Factor> = others.iter().collect();
            assert_eq!(big.times_summed_to(&refs, &keep), product.sum_to(&keep), "case {case}");
        }
    }

    #[test]
    fn a_junction_tree_weighs_its_cliques() {
        // A chain 0 - 1 - ... - 5 of binary and ternary variables: eliminating from either end
        // forms the five links (2 x 3 = 6 entries each), and the last variable left is a clique
        // of its own at the root (3 entries).
        let cards = [2, 3, 2, 3, 2, 3];
        let chain: Vec<Factor> =
            (0..5).map(|k| Factor::new(&[k, k + 1], &[cards[k], cards[k + 1]], vec![1.0; 6]).unwrap()).collect();
        assert_eq!(crate::junction_tree_size(&chain, &cards, &[]), 5.0 * 6.0 + 3.0);
        // Evidence on every variable leaves nothing to hold.
        let all: Vec<(usize, usize)> = (0..6).map(|v| (v, 0)).collect();
        assert_eq!(crate::junction_tree_size(&chain, &cards, &all), 0.0);
    }

    #[test]
    fn the_largest_elimination_table_is_known_on_scopes_alone() {
        let pair = |a: usize, b: usize| Factor::new(&[a, b], &[2, 2], vec![1.0; 4]).unwrap();
        // A chain: every elimination joins two neighbours at most, tables of 2 x 2.
        let chain: Vec<Factor> = (0..9).map(|k| pair(k, k + 1)).collect();
        assert_eq!(elimination_table_size(&chain, &[2; 10], &[0], &[]), 4.0);
        // Five variables all joined pairwise: the first elimination touches all five.
        let clique: Vec<Factor> =
            (0..5).flat_map(|a| (a + 1..5).map(move |b| (a, b))).map(|(a, b)| pair(a, b)).collect();
        assert_eq!(elimination_table_size(&clique, &[2; 5], &[0], &[]), 32.0);
        // Evidence removes its variable from every scope.
        assert_eq!(elimination_table_size(&clique, &[2; 5], &[0], &[(1, 0), (2, 1)]), 8.0);
    }
}
