//! Discrete factors: non-negative tables over a few variables, with product, summing out,
//! evidence and normalisation; and exact inference on a set of factors.

use crate::{Error, Result};

/// A table over the variables `vars` (ascending ids) with `cards[k]` values each; `values` is
/// row-major with the last variable varying fastest.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub vars: Vec<usize>,
    pub cards: Vec<usize>,
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
        let project = |f: &Factor| -> Vec<usize> {
            // Stride in `f` of each variable of the union (0 where f does not use it).
            let s = strides(&f.cards);
            vars.iter().map(|v| f.vars.iter().position(|x| x == v).map_or(0, |k| s[k])).collect()
        };
        let (sa, sb) = (project(self), project(other));
        let size: usize = cards.iter().product();
        let mut values = Vec::with_capacity(size);
        let mut assignment = vec![0usize; vars.len()];
        for _ in 0..size {
            let ia: usize = assignment.iter().zip(&sa).map(|(a, s)| a * s).sum();
            let ib: usize = assignment.iter().zip(&sb).map(|(a, s)| a * s).sum();
            values.push(self.values[ia] * other.values[ib]);
            advance(&mut assignment, &cards);
        }
        Factor { vars, cards, values }
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

    /// Scales the values to sum to one; returns the sum before.
    /// Divides by the largest value when that is far from 1 (above 1e100 or below 1e-100) and
    /// returns the logarithm of the divisor (0 when nothing was done), so that products of many
    /// factors, or of factors with huge values, neither overflow nor underflow while ratios are
    /// kept; tables of ordinary size are left exactly as they are.
    pub fn rescale(&mut self) -> f64 {
        let m = self.values.iter().copied().fold(0.0f64, f64::max);
        if m > 0.0 && m.is_finite() && !(1e-100..=1e100).contains(&m) {
            self.values.iter_mut().for_each(|v| *v /= m);
            m.ln()
        } else {
            0.0
        }
    }

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

fn strides(cards: &[usize]) -> Vec<usize> {
    let mut s = vec![1; cards.len()];
    for k in (0..cards.len().saturating_sub(1)).rev() {
        s[k] = s[k + 1] * cards[k + 1];
    }
    s
}

/// The next assignment in row-major order (last variable fastest).
fn advance(assignment: &mut [usize], cards: &[usize]) {
    for k in (0..assignment.len()).rev() {
        assignment[k] += 1;
        if assignment[k] < cards[k] {
            return;
        }
        assignment[k] = 0;
    }
}

/// P(query | evidence) by variable elimination: evidence reduces every factor, the other
/// variables are summed out one at a time in a greedy min-degree order (the variable whose
/// elimination touches the fewest others; ties to the smaller id), and the rest is multiplied
/// and normalised. The result's variables are `query`, ascending.
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
    let mut work: Vec<Factor> =
        factors.iter().map(|f| evidence.iter().fold(f.clone(), |f, &(v, x)| f.reduce(v, x))).collect();
    let mut hidden: Vec<usize> =
        (0..cards.len()).filter(|v| !query.contains(v) && !evidence.iter().any(|e| e.0 == *v)).collect();
    while !hidden.is_empty() {
        let v = pop_min_degree(&mut hidden, &work.iter().map(|f| f.vars.as_slice()).collect::<Vec<_>>());
        let (with, without): (Vec<Factor>, Vec<Factor>) = work.into_iter().partition(|f| f.vars.contains(&v));
        work = without;
        if !with.is_empty() {
            // Scales cancel in the normalised answer; rescaling keeps every table finite.
            let mut summed = scaled_product(&with).0.sum_out(v);
            summed.rescale();
            work.push(summed);
        }
    }
    finish(work, evidence)
}

/// `v` and the variables that share a table with it, sorted: the scope of the table eliminating
/// `v` builds.
fn neighbourhood(scopes: &[&[usize]], v: usize) -> Vec<usize> {
    let mut n: Vec<usize> = scopes.iter().filter(|s| s.contains(&v)).flat_map(|s| s.iter().copied()).collect();
    n.sort_unstable();
    n.dedup();
    n
}

/// Removes from `hidden` and returns the variable to eliminate next: the greedy min-degree
/// choice (the one whose elimination touches the fewest variables of `scopes`; ties to the
/// smaller id). One rule for [`variable_elimination`] and its estimate.
fn pop_min_degree(hidden: &mut Vec<usize>, scopes: &[&[usize]]) -> usize {
    let (k, &v) = hidden
        .iter()
        .enumerate()
        .min_by_key(|&(_, &v)| (neighbourhood(scopes, v).len(), v))
        .expect("internal: a variable left to eliminate");
    hidden.remove(k);
    v
}

/// The entries of the largest table [`variable_elimination`] builds for this query, found by
/// running its elimination order on the factors' scopes alone (no table is built): what the
/// exact query costs in memory, and per entry in time, before it runs.
pub fn elimination_table_size(
    factors: &[Factor],
    cards: &[usize],
    query: &[usize],
    evidence: &[(usize, usize)],
) -> f64 {
    let size = |scope: &[usize]| scope.iter().map(|&v| cards.get(v).copied().unwrap_or(1) as f64).product::<f64>();
    let observed = |v: &usize| evidence.iter().any(|e| e.0 == *v);
    let mut work: Vec<Vec<usize>> =
        factors.iter().map(|f| f.vars.iter().copied().filter(|v| !observed(v)).collect()).collect();
    let mut hidden: Vec<usize> = (0..cards.len()).filter(|v| !query.contains(v) && !observed(v)).collect();
    let mut largest = work.iter().map(|s| size(s)).fold(1.0, f64::max);
    while !hidden.is_empty() {
        let scopes: Vec<&[usize]> = work.iter().map(Vec::as_slice).collect();
        let v = pop_min_degree(&mut hidden, &scopes);
        let scope = neighbourhood(&scopes, v);
        if scope.is_empty() {
            continue;
        }
        largest = largest.max(size(&scope));
        work.retain(|s| !s.contains(&v));
        work.push(scope.into_iter().filter(|&u| u != v).collect());
    }
    let rest: Vec<usize> = {
        let mut r: Vec<usize> = work.into_iter().flatten().collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    largest.max(size(&rest))
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

fn check_query(cards: &[usize], query: &[usize], evidence: &[(usize, usize)]) -> Result<()> {
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
