//! Every posterior marginal at once: a junction tree built from the cliques of the weighted
//! min-fill elimination, calibrated by one pass of messages towards the roots (Shafer-Shenoy)
//! and one back (Hugin: a clique's belief on the separator divided by the child's message).

use crate::factor::{elimination_cliques, scaled_product};
use crate::{Error, Factor, Result};

/// P(v | evidence) for every variable: `None` for the observed ones.
///
/// # Errors
/// Evidence out of range, or of probability zero.
pub fn all_marginals(factors: &[Factor], cards: &[usize], evidence: &[(usize, usize)]) -> Result<Vec<Option<Factor>>> {
    let n = cards.len();
    let mut observed = vec![None; n];
    for &(v, x) in evidence {
        if v >= n || x >= cards[v] {
            return Err(Error::Query(format!("evidence value {x} for variable {v} is out of range")));
        }
        observed[v] = Some(x);
    }
    let reduced: Vec<Factor> =
        factors.iter().map(|f| evidence.iter().fold(f.clone(), |f, &(v, x)| f.reduce(v, x))).collect();
    // Tables with no variable left scale everything; zero makes the evidence impossible.
    if reduced.iter().any(|f| f.vars.is_empty() && f.values[0] <= 0.0) {
        return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
    }
    let free: Vec<usize> = (0..n).filter(|&v| observed[v].is_none()).collect();
    let scopes: Vec<Vec<usize>> = reduced.iter().map(|f| f.vars.clone()).filter(|s| !s.is_empty()).collect();
    let (order, cliques): (Vec<usize>, Vec<Vec<usize>>) =
        elimination_cliques(&scopes, cards, &free).into_iter().unzip();
    let position: Vec<usize> = {
        let mut p = vec![usize::MAX; n];
        for (k, &v) in order.iter().enumerate() {
            p[v] = k;
        }
        p
    };
    // Clique k (of order[k]) hangs below the clique of its first-eliminated other variable.
    let parent: Vec<Option<usize>> = cliques
        .iter()
        .enumerate()
        .map(|(k, c)| c.iter().filter(|&&u| u != order[k]).map(|&u| position[u]).min())
        .collect();
    // Each table goes to the clique of its first-eliminated variable, which holds its scope.
    let mut potentials: Vec<Vec<Factor>> = vec![vec![]; cliques.len()];
    for f in reduced.iter().filter(|f| !f.vars.is_empty()) {
        let k = f.vars.iter().map(|&v| position[v]).min().expect("internal: a non-empty scope");
        potentials[k].push(f.clone());
    }
    let psi: Vec<Factor> = potentials
        .iter()
        .zip(&cliques)
        .map(|(fs, c)| {
            let ones = Factor {
                vars: c.clone(),
                cards: c.iter().map(|&v| cards[v]).collect(),
                values: vec![1.0; extent(c, cards)],
            };
            scaled_product(std::iter::once(&ones).chain(fs)).0
        })
        .collect();
    let children: Vec<Vec<usize>> = {
        let mut ch = vec![vec![]; cliques.len()];
        for (k, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                ch[*p].push(k);
            }
        }
        ch
    };
    // Upward pass: cliques in elimination order have their children before them.
    let mut up: Vec<Option<Factor>> = vec![None; cliques.len()];
    for k in 0..cliques.len() {
        if let Some(p) = parent[k] {
            let mut belief = psi[k].clone();
            for &c in &children[k] {
                belief = belief.product(up[c].as_ref().expect("internal: children first"));
            }
            up[k] = Some(marginalise(&belief, &separator(&cliques[k], &cliques[p])));
        }
    }
    // Downward pass: roots first (reverse elimination order).
    let mut down: Vec<Option<Factor>> = vec![None; cliques.len()];
    let mut beliefs: Vec<Option<Factor>> = vec![None; cliques.len()];
    for k in (0..cliques.len()).rev() {
        let mut belief = psi[k].clone();
        if let Some(m) = &down[k] {
            belief = belief.product(m);
        }
        for &c in &children[k] {
            belief = belief.product(up[c].as_ref().expect("internal: computed"));
        }
        belief.rescale();
        for &c in &children[k] {
            // The message to c: this clique's belief without c's own message, that is the
            // belief summed to the separator divided by c's message (Hugin; 0/0 = 0, since a
            // zero in c's message zeroes the belief there too).
            let up_c = up[c].as_ref().expect("internal: computed");
            let mut m = marginalise(&belief, &up_c.vars);
            debug_assert_eq!(m.vars, up_c.vars);
            for (a, &b) in m.values.iter_mut().zip(&up_c.values) {
                *a = if b > 0.0 { *a / b } else { 0.0 };
            }
            m.rescale();
            down[c] = Some(m);
        }
        beliefs[k] = Some(belief);
    }
    let mut out = vec![None; n];
    for &v in &free {
        // The smallest clique holding v.
        let k = (0..cliques.len())
            .filter(|&k| cliques[k].contains(&v))
            .min_by_key(|&k| extent(&cliques[k], cards))
            .expect("internal: every free variable has its elimination clique");
        let mut m = marginalise(beliefs[k].as_ref().expect("internal: computed"), &[v]);
        if m.normalize() <= 0.0 {
            return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
        }
        out[v] = Some(m);
    }
    Ok(out)
}

fn extent(vars: &[usize], cards: &[usize]) -> usize {
    vars.iter().map(|&v| cards[v]).product()
}

/// The variables two cliques share.
fn separator(a: &[usize], b: &[usize]) -> Vec<usize> {
    a.iter().copied().filter(|v| b.contains(v)).collect()
}

/// `f` summed down to `keep`, rescaled (messages only matter up to a constant).
fn marginalise(f: &Factor, keep: &[usize]) -> Factor {
    let mut m = f.clone();
    for &v in &f.vars {
        if !keep.contains(&v) {
            m = m.sum_out(v);
        }
    }
    m.rescale();
    m
}
