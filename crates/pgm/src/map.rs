//! The most probable joint state of some variables given evidence (MAP; MPE when they are all
//! the unobserved ones), by elimination: the other unobserved variables summed out first, then
//! the asked ones maximised out, and the maximising states read back in reverse order.

use crate::factor::{elimination_order, Factor};
use crate::{Error, Result};

/// A most probable state and its probability given the evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct MostProbable {
    /// The asked variables' states, in the order asked.
    pub states: Vec<usize>,
    /// P(those states | evidence).
    pub probability: f64,
}

/// argmax over the states of `query` of P(query | evidence), from the factors of a network
/// (ties: the first state in order).
///
/// ```
/// use cg_pgm::{most_probable, Factor};
/// // a -> b: P(a) = (0.6, 0.4), P(b | a) rows (0.5, 0.5) and (0.1, 0.9).
/// let pa = Factor::new(&[0], &[2], vec![0.6, 0.4]).unwrap();
/// let pb = Factor::new(&[0, 1], &[2, 2], vec![0.5, 0.5, 0.1, 0.9]).unwrap();
/// // Jointly (a, b) = (1, 1) is best (0.36); alone, a = 0 is (0.6): MAP depends on what is asked.
/// let both = most_probable(&[pa.clone(), pb.clone()], &[2, 2], &[0, 1], &[]).unwrap();
/// assert_eq!(both.states, [1, 1]);
/// assert!((both.probability - 0.36).abs() < 1e-15);
/// assert_eq!(most_probable(&[pa, pb], &[2, 2], &[0], &[]).unwrap().states, [0]);
/// ```
///
/// # Errors
/// No variable asked, one asked twice or also observed, an id or evidence value out of range,
/// or evidence of probability zero.
pub fn most_probable(
    factors: &[Factor],
    cards: &[usize],
    query: &[usize],
    evidence: &[(usize, usize)],
) -> Result<MostProbable> {
    let n = cards.len();
    if query.is_empty() {
        return Err(Error::Query("no variable to find the most probable state of".into()));
    }
    if let Some((k, &q)) = query.iter().enumerate().find(|&(k, q)| query[..k].contains(q)) {
        return Err(Error::Query(format!("variable {q} is asked twice (position {})", k + 1)));
    }
    crate::factor::check_query(cards, query, evidence)?;
    let mut pool: Vec<Factor> = factors.iter().map(|f| f.observe(evidence)).collect();
    let observed = |v: usize| evidence.iter().any(|e| e.0 == v);
    let hidden: Vec<usize> = (0..n).filter(|&v| !observed(v) && !query.contains(&v)).collect();
    let scopes = |pool: &[Factor]| pool.iter().map(|f| f.vars.clone()).collect::<Vec<_>>();
    for v in elimination_order(&scopes(&pool), cards, &hidden) {
        let table = take(&mut pool, v);
        pool.push(table.sum_out(v));
    }
    // P(e): the same tables with the asked variables summed out too.
    let mut evidence_pool = pool.clone();
    for v in elimination_order(&scopes(&evidence_pool), cards, query) {
        let table = take(&mut evidence_pool, v);
        evidence_pool.push(table.sum_out(v));
    }
    let p_evidence = product(&evidence_pool).values[0];
    if p_evidence.is_nan() || p_evidence <= 0.0 {
        return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
    }
    // Max out the asked variables, keeping each step's table to read the best state back.
    let mut steps: Vec<(usize, Factor)> = vec![];
    for v in elimination_order(&scopes(&pool), cards, query) {
        let table = take(&mut pool, v);
        pool.push(max_out(&table, v));
        steps.push((v, table));
    }
    let best = product(&pool).values[0];
    let mut x = vec![0usize; n];
    for &(v, x_v) in evidence {
        x[v] = x_v;
    }
    for (v, table) in steps.iter().rev() {
        let mut top = (0, f64::NEG_INFINITY);
        for s in 0..cards[*v] {
            x[*v] = s;
            let value = table.value_at(&x);
            if value > top.1 {
                top = (s, value);
            }
        }
        x[*v] = top.0;
    }
    Ok(MostProbable { states: query.iter().map(|&q| x[q]).collect(), probability: best / p_evidence })
}

/// The product of the tables in `pool` that hold `v`, taken out of it.
fn take(pool: &mut Vec<Factor>, v: usize) -> Factor {
    let (with, without): (Vec<Factor>, Vec<Factor>) =
        std::mem::take(pool).into_iter().partition(|f| f.vars.contains(&v));
    *pool = without;
    product(&with)
}

fn product(factors: &[Factor]) -> Factor {
    factors.iter().fold(Factor::constant(1.0), |acc, f| acc.product(f))
}

/// The largest value over `var`'s states, for each state of the rest.
fn max_out(f: &Factor, var: usize) -> Factor {
    let Some(k) = f.vars.iter().position(|&v| v == var) else { return f.clone() };
    let inner: usize = f.cards[k + 1..].iter().product();
    let outer: usize = f.cards[..k].iter().product();
    let c = f.cards[k];
    let mut values = vec![f64::NEG_INFINITY; outer * inner];
    for o in 0..outer {
        for x in 0..c {
            for i in 0..inner {
                let at = &mut values[o * inner + i];
                *at = at.max(f.values[(o * c + x) * inner + i]);
            }
        }
    }
    let mut vars = f.vars.clone();
    let mut cards = f.cards.clone();
    vars.remove(k);
    cards.remove(k);
    Factor { vars, cards, values }
}
