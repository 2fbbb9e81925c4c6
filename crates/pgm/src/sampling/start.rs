//! Where Gibbs chains start: in modes as far apart as can be found, so that chains which cannot
//! cross between modes disagree (and R-hat says so) instead of agreeing on one of them.
//!
//! Candidates are the "corner" states (every free variable at its k-th state: the modes of
//! ferromagnetic grids and of runs of copies) and forward draws of the prior with the evidence
//! clamped (uniform draws for a Markov network), each climbed to a local mode by greedy block
//! moves that first remove zeros and then raise the probability. The first chain starts in the
//! most probable mode found, each next one in the candidate farthest (in Hamming distance) from
//! those chosen. When no candidate is possible, exact posterior draws by variable elimination
//! (one variable at a time) always succeed where the evidence is possible.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{pick, Block, Compiled};
use crate::factor::advance;
use crate::{variable_elimination, Error, Result};

/// Random draws climbed to a mode, per chain.
const CANDIDATES_PER_CHAIN: usize = 16;

/// The largest joint a climb enumerates at once; larger blocks climb a variable at a time.
const CLIMB_JOINT_LIMIT: usize = 256;

/// Greedy passes over the blocks at most when climbing to a mode.
const CLIMB_PASSES: usize = 100;

/// One start per chain.
///
/// # Errors
/// Evidence of probability zero ([`Error::ZeroEvidence`]).
pub(super) fn starts(
    c: &Compiled<'_>,
    target: usize,
    evidence: &[Option<usize>],
    blocks: &[Block],
    chains: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Vec<usize>>> {
    let n = c.cards.len();
    let mut candidates: Vec<Vec<usize>> = vec![];
    let widest = (0..n).filter(|&v| evidence[v].is_none()).map(|v| c.cards[v]).max().unwrap_or(1);
    for k in 0..widest {
        candidates.push((0..n).map(|v| evidence[v].unwrap_or(k.min(c.cards[v] - 1))).collect());
    }
    for _ in 0..CANDIDATES_PER_CHAIN * chains {
        let mut state: Vec<usize> = evidence.iter().map(|e| e.unwrap_or(0)).collect();
        if c.order.is_some() {
            c.weighted_draw(evidence, &mut state, rng);
        } else {
            for (v, s) in state.iter_mut().enumerate() {
                *s = evidence[v].unwrap_or_else(|| rng.random_range(0..c.cards[v]));
            }
        }
        candidates.push(state);
    }
    let mut modes: Vec<(Vec<usize>, f64)> = vec![];
    for mut state in candidates {
        climb(c, blocks, &mut state);
        if c.possible(&state) && !modes.iter().any(|m| m.0 == state) {
            let log_p = (0..c.factors.len()).map(|f| c.value(f, &state).ln()).sum();
            modes.push((state, log_p));
        }
    }
    if modes.is_empty() {
        return (0..chains).map(|_| exact_draw(c, evidence, rng)).collect();
    }
    Ok(spread(modes, chains, target))
}

/// `chains` states from `modes`: the most probable first; then, for each value of the target
/// some mode has and no chosen one does, the most probable such mode (so a target value
/// that only another mode holds has a chain that starts there); then each the farthest from
/// those chosen (ties to the earlier candidate); starting over when every mode is taken.
fn spread(modes: Vec<(Vec<usize>, f64)>, chains: usize, target: usize) -> Vec<Vec<usize>> {
    let most_probable = |keep: &dyn Fn(&Vec<usize>) -> bool| {
        (0..modes.len()).filter(|&k| keep(&modes[k].0)).fold(None, |b: Option<usize>, k| match b {
            Some(b) if modes[b].1 >= modes[k].1 => Some(b),
            _ => Some(k),
        })
    };
    let mut taken = vec![most_probable(&|_| true).expect("internal: modes are not empty")];
    while taken.len() < chains {
        let covered: Vec<usize> = taken.iter().map(|&t| modes[t].0[target]).collect();
        match most_probable(&|m| !covered.contains(&m[target])) {
            Some(k) => taken.push(k),
            None => break,
        }
    }
    while taken.len() < modes.len().min(chains) {
        let distance =
            |k: usize| taken.iter().map(|&t| modes[t].0.iter().zip(&modes[k].0).filter(|(a, b)| a != b).count()).min();
        let next = (0..modes.len())
            .filter(|k| !taken.contains(k))
            .fold(None, |b: Option<usize>, k| match b {
                Some(b) if distance(b) >= distance(k) => Some(b),
                _ => Some(k),
            })
            .expect("internal: a mode is left");
        taken.push(next);
    }
    (0..chains).map(|k| modes[taken[k % taken.len()]].0.clone()).collect()
}

/// Greedy block moves from `state`: each block (its variables one by one when its joint has
/// more than [`CLIMB_JOINT_LIMIT`] values) set to the joint value with the fewest zero factors
/// and then the highest product (the current value kept on ties), until a pass changes
/// nothing.
fn climb(c: &Compiled<'_>, blocks: &[Block], state: &mut [usize]) {
    let mut moves: Vec<(Vec<usize>, &[usize])> = vec![];
    for b in blocks {
        let joint = b.vars.iter().try_fold(1usize, |n, &v| n.checked_mul(c.cards[v]));
        if joint.is_some_and(|n| n <= CLIMB_JOINT_LIMIT) {
            moves.push((b.vars.clone(), &b.factors));
        } else {
            moves.extend(b.vars.iter().map(|&v| (vec![v], c.by_var[v].as_slice())));
        }
    }
    for _ in 0..CLIMB_PASSES {
        let mut changed = false;
        for (vars, factors) in &moves {
            let cards: Vec<usize> = vars.iter().map(|&v| c.cards[v]).collect();
            let current: Vec<usize> = vars.iter().map(|&v| state[v]).collect();
            let score = |state: &[usize]| {
                let values = factors.iter().map(|&f| c.value(f, state));
                let zeros = values.clone().filter(|&x| x <= 0.0).count();
                (zeros, values.filter(|&x| x > 0.0).map(f64::ln).sum::<f64>())
            };
            let mut best = (current.clone(), score(state));
            let mut joint = vec![0usize; vars.len()];
            loop {
                for (&v, &x) in vars.iter().zip(&joint) {
                    state[v] = x;
                }
                let s = score(state);
                if s.0 < best.1 .0 || (s.0 == best.1 .0 && s.1 > best.1 .1) {
                    best = (joint.clone(), s);
                }
                if !advance(&mut joint, &cards) {
                    break;
                }
            }
            for (&v, &x) in vars.iter().zip(&best.0) {
                state[v] = x;
            }
            changed |= best.0 != current;
        }
        if !changed {
            break;
        }
    }
}

/// An exact draw from the posterior, one free variable at a time from its marginal given the
/// evidence and the values drawn so far (variable elimination each time).
fn exact_draw(c: &Compiled<'_>, evidence: &[Option<usize>], rng: &mut ChaCha8Rng) -> Result<Vec<usize>> {
    let mut known: Vec<(usize, usize)> = evidence.iter().enumerate().filter_map(|(v, e)| e.map(|x| (v, x))).collect();
    let observed = known.clone();
    for v in 0..c.cards.len() {
        if evidence[v].is_some() {
            continue;
        }
        let marginal = variable_elimination(c.factors, &c.cards, &[v], &known).map_err(|e| match e {
            Error::ZeroEvidence { .. } => Error::ZeroEvidence { evidence: observed.clone() },
            e => e,
        })?;
        known.push((v, pick(&marginal.values, rng)));
    }
    known.sort_unstable();
    Ok(known.into_iter().map(|(_, x)| x).collect())
}
