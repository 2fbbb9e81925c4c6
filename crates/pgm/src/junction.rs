//! Every posterior marginal at once: a junction tree built from the cliques of the weighted
//! min-fill elimination, calibrated by one pass of messages towards the roots (Shafer-Shenoy)
//! and one back (Hugin: a clique's belief on the separator divided by the child's message).

use crate::factor::lightest_elimination;
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
    let reduced: Vec<Factor> = factors.iter().map(|f| f.observe(evidence)).collect();
    // Tables with no variable left scale everything; zero makes the evidence impossible.
    if reduced.iter().any(|f| f.vars.is_empty() && f.values[0] <= 0.0) {
        return Err(Error::ZeroEvidence { evidence: evidence.to_vec() });
    }
    let free: Vec<usize> = (0..n).filter(|&v| observed[v].is_none()).collect();
    let scopes: Vec<Vec<usize>> = reduced.iter().map(|f| f.vars.clone()).filter(|s| !s.is_empty()).collect();
    let shape = Shape::of(&scopes, cards, &free);
    // Each table goes to the clique of its first-eliminated variable, which holds its scope
    // (or to the clique that clique was merged into).
    let mut potentials: Vec<Vec<Factor>> = vec![vec![]; shape.cliques.len()];
    for f in reduced.iter().filter(|f| !f.vars.is_empty()) {
        let k = f.vars.iter().map(|&v| shape.position[v]).min().expect("internal: a non-empty scope");
        potentials[settle(&shape.into, k)].push(f.clone());
    }
    let Shape { cliques, kept, parent, .. } = shape;
    let mut psi: Vec<Factor> = potentials
        .iter()
        .zip(&cliques)
        .zip(&kept)
        .map(|((fs, c), &kept)| {
            if !kept {
                return Factor::constant(1.0);
            }
            // As scaled_product(ones, fs...) computes it, each table multiplied in place.
            let mut table = Factor {
                vars: c.clone(),
                cards: c.iter().map(|&v| cards[v]).collect(),
                values: vec![1.0; extent(c, cards)],
            };
            for f in fs {
                let mut g = f.clone();
                g.rescale();
                table.multiply_in_place(&g);
                table.rescale();
            }
            table
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
    for k in (0..cliques.len()).filter(|&k| kept[k]) {
        if let Some(p) = parent[k] {
            // The clique's belief summed to the separator, without the belief's table.
            let messages: Vec<&Factor> =
                children[k].iter().map(|&c| up[c].as_ref().expect("internal: children first")).collect();
            let mut m = psi[k].times_summed_to(&messages, &separator(&cliques[k], &cliques[p]));
            m.rescale();
            up[k] = Some(m);
        }
    }
    // Downward pass: roots first (reverse elimination order).
    let mut down: Vec<Option<Factor>> = vec![None; cliques.len()];
    let mut beliefs: Vec<Option<Factor>> = vec![None; cliques.len()];
    for k in (0..cliques.len()).rev().filter(|&k| kept[k]) {
        // The potential is not needed after this (roots come last in the upward pass).
        let mut belief = std::mem::replace(&mut psi[k], Factor::constant(1.0));
        if let Some(m) = &down[k] {
            belief.multiply_in_place(m);
        }
        for &c in &children[k] {
            belief.multiply_in_place(up[c].as_ref().expect("internal: computed"));
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
            .filter(|&k| kept[k] && cliques[k].contains(&v))
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

/// The junction tree over tables of `scopes`: the elimination of `free` whose cliques weigh
/// least ([`lightest_elimination`]), each clique hung below the clique of its first-eliminated
/// other variable, and a clique inside its parent merged into it (its tables and children go
/// there), so only maximal cliques are kept and no message is passed for nothing.
struct Shape {
    /// Clique k is the k-th eliminated variable's.
    cliques: Vec<Vec<usize>>,
    /// Each variable's place in the elimination order (usize::MAX for those not in it).
    position: Vec<usize>,
    kept: Vec<bool>,
    parent: Vec<Option<usize>>,
    /// Where clique k ended up (itself when kept), one step at a time.
    into: Vec<usize>,
}

impl Shape {
    fn of(scopes: &[Vec<usize>], cards: &[usize], free: &[usize]) -> Shape {
        let (order, cliques): (Vec<usize>, Vec<Vec<usize>>) =
            lightest_elimination(scopes, cards, free).into_iter().unzip();
        let mut position = vec![usize::MAX; cards.len()];
        for (k, &v) in order.iter().enumerate() {
            position[v] = k;
        }
        let first_parent: Vec<Option<usize>> = cliques
            .iter()
            .enumerate()
            .map(|(k, c)| c.iter().filter(|&&u| u != order[k]).map(|&u| position[u]).min())
            .collect();
        // A parent comes later in the order, so `into[k]` (where k ended up) is settled before
        // it is read.
        let mut into: Vec<usize> = (0..cliques.len()).collect();
        for k in 0..cliques.len() {
            if let Some(p) = first_parent[k] {
                if cliques[k].iter().all(|v| cliques[p].contains(v)) {
                    into[k] = p;
                }
            }
        }
        let kept: Vec<bool> = (0..cliques.len()).map(|k| into[k] == k).collect();
        let parent = (0..cliques.len())
            .map(|k| if kept[k] { first_parent[k].map(|p| settle(&into, p)) } else { None })
            .collect();
        Shape { cliques, position, kept, parent, into }
    }
}

/// The clique that clique `k` ended up in, following `into` one merge at a time.
fn settle(into: &[usize], mut k: usize) -> usize {
    while into[k] != k {
        k = into[k];
    }
    k
}

/// The entries of every clique table [`all_marginals`] builds for this evidence (the maximal
/// cliques of its triangulation, found from the scopes alone): what the junction tree holds in
/// memory, and about what each pass over it costs, before it runs.
pub fn junction_tree_size(factors: &[Factor], cards: &[usize], evidence: &[(usize, usize)]) -> f64 {
    let observed = |v: &usize| evidence.iter().any(|e| e.0 == *v);
    if factors.iter().flat_map(|f| f.vars.iter()).any(|&v| v >= cards.len()) {
        return 0.0;
    }
    let scopes: Vec<Vec<usize>> = factors
        .iter()
        .map(|f| f.vars.iter().copied().filter(|v| !observed(v)).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let free: Vec<usize> = (0..cards.len()).filter(|v| !observed(v)).collect();
    let shape = Shape::of(&scopes, cards, &free);
    let size = |c: &[usize]| c.iter().map(|&v| cards[v] as f64).product::<f64>();
    shape.cliques.iter().zip(&shape.kept).filter(|(_, &k)| k).map(|(c, _)| size(c)).sum()
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
    let mut m = f.sum_to(keep);
    m.rescale();
    m
}
