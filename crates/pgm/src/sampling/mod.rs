//! Sampling estimates of a posterior marginal that say how far they can be trusted: several
//! Gibbs chains started in different modes, with rank-normalised split-R-hat and bulk
//! effective sample sizes; runs of deterministic (or near-deterministic) tables sampled as
//! blocks; likelihood weighting and forward (rejection) sampling for Bayesian networks, their
//! weights in log space; standard errors that stay honest for states never seen.
//!
//! # What the diagnostics can and cannot say
//! Each estimate carries its [`Doubt`]s. No doubt is evidence, not proof: chains that all
//! start in one mode and never leave it, or weighted draws that never meet the cause that
//! explains the evidence, look converged from inside. The starts are spread over the modes a
//! greedy search finds from many draws, and likelihood weighting says when one unseen draw
//! could outweigh all of them, which catches the common cases; a mode that no start and no
//! draw reaches stays invisible. Where an exact answer exists, compare with it.
//!
//! Every chain or batch draws from its own ChaCha8 stream of the seed, so estimates do not
//! depend on the number of threads that run them.

pub mod diagnostics;
mod start;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::factor::{advance, strides};
use crate::{Error, Factor, Result};

/// How the sample is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Markov chains that resample each variable (or block) from its conditional given the rest.
    Gibbs,
    /// Bayesian networks: draws in topological order with the evidence clamped, each weighted by
    /// the probability of the evidence given its parents.
    LikelihoodWeighting,
    /// Bayesian networks: draws of the whole network, kept when they match the evidence.
    Forward,
}

/// What to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// The sampling method.
    pub method: Method,
    /// Gibbs: independent chains; the others: independent batches drawn in parallel.
    pub chains: usize,
    /// Gibbs: sweeps discarded by every chain.
    pub burn_in: usize,
    /// Gibbs: samples kept per chain; the others: draws in all.
    pub samples: usize,
    /// Gibbs: sweeps between kept samples.
    pub thin: usize,
    /// Gibbs: sample the unobserved variables of a table with zeros jointly (off only to show
    /// what single-site updates do).
    pub blocks: bool,
}

/// The sampler's answer for one variable.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The estimated probability of each state of the target.
    pub probabilities: Vec<f64>,
    /// sqrt(p̃ (1 - p̃) / ESS) with p̃ = (p ESS + 1) / (ESS + 2): never 0, so a state never
    /// sampled still gets an error bar of about 1 / ESS.
    pub standard_errors: Vec<f64>,
    /// Wilson's 95% score interval with the effective sample size as n.
    pub intervals: Vec<(f64, f64)>,
    /// Per state, at most [`Estimate::draws`]: Gibbs, the bulk ESS of the state's indicator
    /// over all chains (for an indicator the tail ESS is the same); a state never visited gets
    /// the smallest of the others, and every state 1 when the target never changed; weighted
    /// samples, (Σw)² / Σw².
    pub ess: Vec<f64>,
    /// Gibbs: rank-normalised split-R-hat of each state's indicator (1 for a state no chain
    /// visited while others were; `NaN` for all when the target never changed).
    pub r_hat: Option<Vec<f64>>,
    /// Per state, the running estimate after n samples (per chain for Gibbs), up to 200 points.
    pub running: Vec<Vec<(usize, f64)>>,
    /// Draws made in all (Gibbs: kept samples over all chains).
    pub draws: usize,
    /// Gibbs: the variables resampled jointly (blocks of two or more), by id.
    pub blocks: Vec<Vec<usize>>,
    /// Why the estimate should not be trusted; empty when nothing was seen to go wrong.
    pub doubts: Vec<Doubt>,
}

/// R-hat above this is not converged (Vehtari et al., 2021).
pub const R_HAT_LIMIT: f64 = 1.01;

/// Fewer effective draws than this and the standard error is itself too uncertain to quote
/// (Vehtari et al. 2021 ask for 100 per chain before trusting R-hat; this asks 100 in all).
pub const MIN_ESS: f64 = 100.0;

/// A weighted estimate that one draw of the largest possible weight could move by more than
/// this share is in doubt.
pub const WEIGHT_SHARE_LIMIT: f64 = 0.01;

/// A reason not to trust an estimate.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Doubt {
    /// Gibbs: the chains, or the halves of one chain, disagree (R-hat undefined when a state's
    /// halves are too short to compare).
    #[error(
        "the Gibbs chains disagree (R-hat {} > {R_HAT_LIMIT}): sample longer, or check the network for states the chains cannot leave",
        if r_hat.is_nan() { "undefined".to_string() } else { format!("{r_hat:.3}") }
    )]
    ChainsDisagree {
        /// The largest R-hat.
        r_hat: f64,
    },
    /// Gibbs: no chain ever changed the target's value: a certain answer and chains that
    /// cannot move look the same from inside.
    #[error("no Gibbs chain ever changed the target's value: a certain answer and stuck chains look the same; do not trust it without the exact answer")]
    NeverMoved,
    /// Fewer than [`MIN_ESS`] effective draws.
    #[error("only {ess:.0} effective draws (fewer than {MIN_ESS}): the standard errors themselves are unreliable; draw more")]
    FewEffectiveDraws {
        /// The smallest effective sample size.
        ess: f64,
    },
    /// Weighted draws: one more draw of the largest weight the evidence allows would carry
    /// `share` of the answer; events rarer than one in the number of draws may decide it.
    #[error("one draw of the largest weight the evidence allows would carry {:.1}% of the answer: causes rarer than 1 in the number of draws may decide it unseen; draw more or use gibbs", share * 100.0)]
    HeavyWeight {
        /// The share of the answer one more draw could carry.
        share: f64,
    },
}

impl Estimate {
    /// Whether nothing was seen to go wrong: no [`Doubt`].
    pub fn converged(&self) -> bool {
        self.doubts.is_empty()
    }
}

/// The factors compiled for sampling: each table with the stride of each of its variables, so a
/// value is an offset sum rather than a walk over the assignment.
pub struct Compiled<'a> {
    factors: &'a [Factor],
    strides: Vec<Vec<usize>>,
    cards: Vec<usize>,
    /// The factors that mention each variable.
    by_var: Vec<Vec<usize>>,
    /// Bayesian networks (where table v is P(v | parents)): a topological order.
    order: Option<Vec<usize>>,
}

impl<'a> Compiled<'a> {
    /// # Errors
    /// A factor over a variable out of range.
    pub fn new(factors: &'a [Factor], cards: &[usize]) -> Result<Compiled<'a>> {
        if let Some(f) = factors.iter().find(|f| f.vars.iter().any(|&v| v >= cards.len())) {
            return Err(Error::Table(format!("a factor over {:?} for {} variables", f.vars, cards.len())));
        }
        let strides = factors.iter().map(|f| strides(&f.cards)).collect();
        let by_var = (0..cards.len())
            .map(|v| factors.iter().enumerate().filter(|(_, f)| f.vars.contains(&v)).map(|(k, _)| k).collect())
            .collect();
        Ok(Compiled { factors, strides, cards: cards.to_vec(), by_var, order: None })
    }

    /// A Bayesian network's: `parents[v]` and `factors[v]` the table P(v | parents).
    ///
    /// # Errors
    /// Parents that do not match the tables, or a cycle.
    pub fn bayesian(factors: &'a [Factor], cards: &[usize], parents: &[Vec<usize>]) -> Result<Compiled<'a>> {
        let mut c = Compiled::new(factors, cards)?;
        if parents.len() != cards.len() || factors.len() != cards.len() {
            return Err(Error::Table("one table per variable expected".into()));
        }
        for (v, ps) in parents.iter().enumerate() {
            let mut scope = ps.clone();
            scope.push(v);
            scope.sort_unstable();
            if factors[v].vars != scope {
                return Err(Error::Table(format!("table {v} is not over variable {v} and its parents")));
            }
        }
        // Kahn's algorithm, smallest id first among the ready ones.
        let mut indegree: Vec<usize> = parents.iter().map(Vec::len).collect();
        let mut order = vec![];
        let mut ready: std::collections::BTreeSet<usize> = (0..cards.len()).filter(|&v| indegree[v] == 0).collect();
        while let Some(v) = ready.pop_first() {
            order.push(v);
            for (w, ps) in parents.iter().enumerate() {
                if ps.contains(&v) {
                    indegree[w] -= 1;
                    if indegree[w] == 0 {
                        ready.insert(w);
                    }
                }
            }
        }
        if order.len() != cards.len() {
            return Err(Error::Table("the parents form a cycle".into()));
        }
        c.order = Some(order);
        Ok(c)
    }

    fn value(&self, f: usize, state: &[usize]) -> f64 {
        let index: usize = self.factors[f].vars.iter().zip(&self.strides[f]).map(|(&v, &s)| state[v] * s).sum();
        self.factors[f].values[index]
    }

    /// Whether the model allows `state`: no factor is 0 there. (Not the product's sign: factors
    /// of 1e-200 multiply to 0 and of 1e308 to infinity, yet the state is possible.)
    fn possible(&self, state: &[usize]) -> bool {
        (0..self.factors.len()).all(|f| self.value(f, state) > 0.0)
    }

    /// Draws a value of `v` from P(v | parents) at `state`.
    fn draw_from_table(&self, v: usize, state: &mut [usize], rng: &mut ChaCha8Rng) {
        // Table v is P(v | parents).
        let f = v;
        let stride =
            self.strides[f][self.factors[f].vars.iter().position(|&u| u == v).expect("internal: v in its table")];
        state[v] = 0;
        let base: usize = self.factors[f].vars.iter().zip(&self.strides[f]).map(|(&u, &s)| state[u] * s).sum();
        let weights: Vec<f64> = (0..self.cards[v]).map(|x| self.factors[f].values[base + x * stride]).collect();
        state[v] = pick(&weights, rng);
    }

    /// One forward draw with the evidence clamped; returns the log of the likelihood weight
    /// Π P(e | parents), so that evidence of probability 1e-400 still weighs something.
    fn weighted_draw(&self, evidence: &[Option<usize>], state: &mut [usize], rng: &mut ChaCha8Rng) -> f64 {
        let order = self.order.as_ref().expect("internal: a Bayesian network");
        let mut log_weight = 0.0;
        for &v in order {
            match evidence[v] {
                Some(x) => {
                    state[v] = x;
                    log_weight += self.value(v, state).ln();
                }
                None => self.draw_from_table(v, state, rng),
            }
        }
        log_weight
    }

    /// The log of the largest likelihood weight the evidence allows: per observed variable, its
    /// table's largest value at its observed state over the parents' values that agree with
    /// the evidence.
    fn largest_log_weight(&self, evidence: &[Option<usize>]) -> f64 {
        let mut total = 0.0;
        for (v, e) in evidence.iter().enumerate() {
            if e.is_none() {
                continue;
            }
            let f = &self.factors[v];
            let mut joint = vec![0usize; f.vars.len()];
            let mut best = 0.0f64;
            let mut k = 0;
            loop {
                if f.vars.iter().zip(&joint).all(|(&u, &x)| evidence[u].is_none_or(|e| e == x)) {
                    best = best.max(f.values[k]);
                }
                k += 1;
                if !advance(&mut joint, &f.cards) {
                    break;
                }
            }
            total += best.ln();
        }
        total
    }
}

/// Whether products of nonzero factor values can be drawn from as they are: each a normal
/// number (not a product that underflowed or overflowed) and summing to a finite total.
/// Ordinary models always are; the others go through log space.
fn representable(weights: &[f64]) -> bool {
    let total: f64 = weights.iter().sum();
    total.is_finite() && weights.iter().all(|&w| w.is_normal())
}

/// An index drawn with probability proportional to `weights` (uniform when they are all 0).
fn pick(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * if total > 0.0 { total } else { weights.len() as f64 };
    for (x, &w) in weights.iter().enumerate() {
        let w = if total > 0.0 { w } else { 1.0 };
        if u < w {
            return x;
        }
        u -= w;
    }
    // Rounding left u at the top: the last state of positive weight.
    weights.iter().rposition(|&w| w > 0.0 || total <= 0.0).unwrap_or(0)
}

/// Variables resampled together, with the factors that mention any of them.
#[derive(Clone, Debug)]
struct Block {
    vars: Vec<usize>,
    factors: Vec<usize>,
    /// Per position in `vars`, the factors whose last variable in the block is there: each is
    /// checked as soon as that variable is set, so a zero prunes every joint value below it
    /// (a block of deterministic links enumerates its few possible values, not its product).
    complete_at: Vec<Vec<usize>>,
}

/// A block update's scratch: the weight of each possible joint value and its index (last
/// variable fastest).
#[derive(Default)]
struct Joint {
    weights: Vec<f64>,
    index: Vec<usize>,
}

/// The largest joint a block of one table may enumerate.
const BLOCK_LIMIT: usize = 4096;

/// The largest joint of blocks merged from several tables: each sweep enumerates it (what no
/// factor rules out of it), so merging stops where that would cost more than it frees.
const MERGED_LIMIT: usize = 256;

/// A table constrains its variables when one of its values is 0 or below this share of its
/// largest: single-site updates then (almost) never leave a configuration it favours.
const CONSTRAINING: f64 = 1e-3;

/// The Gibbs blocks: the unobserved variables of each constraining table (a deterministic or
/// near-deterministic family) with at most [`BLOCK_LIMIT`] joint states, and blocks that share
/// a variable merged while their joint has at most [`MERGED_LIMIT`] states, so that a run of
/// copies A -> B -> C -> D moves as one; every other unobserved variable alone.
fn blocks(c: &Compiled<'_>, evidence: &[Option<usize>], joint: bool) -> Vec<Block> {
    let size = |vars: &[usize]| vars.iter().try_fold(1usize, |acc, &v| acc.checked_mul(c.cards[v]));
    let fits = |vars: &[usize]| size(vars).is_some_and(|s| s <= BLOCK_LIMIT);
    let mut groups: Vec<Vec<usize>> = vec![];
    if joint {
        for f in c.factors {
            let free: Vec<usize> = f.vars.iter().copied().filter(|&v| evidence[v].is_none()).collect();
            let top = f.values.iter().copied().fold(0.0, f64::max);
            let constraining = f.values.iter().any(|&x| x <= CONSTRAINING * top);
            if free.len() >= 2 && constraining && fits(&free) {
                groups.retain(|g| !g.iter().all(|v| free.contains(v)));
                if !groups.iter().any(|g| free.iter().all(|v| g.contains(v))) {
                    groups.push(free);
                }
            }
        }
        // Merge blocks that share a variable while the union fits.
        // Merge blocks that share a variable while the union fits: each time the first such
        // pair (i, j) in order. Only blocks sharing a variable can merge, so each i looks at
        // those alone (through `holders`), not at every later block: linear per merge, where
        // trying every pair again after each merge was cubic in the blocks (1.6 s for a
        // 3000-variable network).
        loop {
            let mut holders: Vec<Vec<usize>> = vec![vec![]; c.cards.len()];
            for (k, g) in groups.iter().enumerate() {
                for &v in g {
                    holders[v].push(k);
                }
            }
            let merge = (0..groups.len()).find_map(|i| {
                let mut later: Vec<usize> =
                    groups[i].iter().flat_map(|&v| holders[v].iter().copied()).filter(|&j| j > i).collect();
                later.sort_unstable();
                later.dedup();
                later.into_iter().find_map(|j| {
                    let mut union = groups[i].clone();
                    union.extend(&groups[j]);
                    union.sort_unstable();
                    union.dedup();
                    size(&union).is_some_and(|s| s <= MERGED_LIMIT).then_some((i, j, union))
                })
            });
            let Some((i, j, union)) = merge else { break };
            groups[i] = union;
            groups.remove(j);
        }
        let whole = groups.clone();
        groups.retain(|g| !whole.iter().any(|h| h != g && g.iter().all(|v| h.contains(v))));
    }
    for v in 0..c.cards.len() {
        if evidence[v].is_none() && !groups.iter().any(|g| g.contains(&v)) {
            groups.push(vec![v]);
        }
    }
    groups.sort();
    groups
        .into_iter()
        .map(|vars| {
            let mut factors: Vec<usize> = vars.iter().flat_map(|&v| c.by_var[v].iter().copied()).collect();
            factors.sort_unstable();
            factors.dedup();
            let mut complete_at = vec![vec![]; vars.len()];
            for &f in &factors {
                let last =
                    vars.iter().rposition(|v| c.factors[f].vars.contains(v)).expect("internal: f has a block variable");
                complete_at[last].push(f);
            }
            Block { vars, factors, complete_at }
        })
        .collect()
}

/// One block update: every possible joint value of the block weighted by the product of its
/// factors.
fn update_block(c: &Compiled<'_>, block: &Block, state: &mut [usize], joint: &mut Joint, rng: &mut ChaCha8Rng) {
    let cards: Vec<usize> = block.vars.iter().map(|&v| c.cards[v]).collect();
    joint_weights(c, block, &cards, state, joint, false);
    if !representable(&joint.weights) {
        // Products that overflowed or underflowed: the same weights in log space, scaled by the
        // largest (the exact path rescales the same way), so 1e308 x 1e308 is not infinity.
        joint_weights(c, block, &cards, state, joint, true);
        let top = joint.weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for w in &mut joint.weights {
            *w = (*w - top).exp();
        }
    }
    let mut k = joint.index[pick(&joint.weights, rng)];
    for (j, &v) in block.vars.iter().enumerate().rev() {
        state[v] = k % cards[j];
        k /= cards[j];
    }
}

/// The block's possible joint values (no factor 0) in order, last variable fastest, with the
/// product of the factors' values (with `log`, the sum of their logs). The chain's current
/// value is always among them.
fn joint_weights(c: &Compiled<'_>, block: &Block, cards: &[usize], state: &mut [usize], out: &mut Joint, log: bool) {
    out.weights.clear();
    out.index.clear();
    descend(c, block, cards, state, 0, 0, if log { 0.0 } else { 1.0 }, log, out);
}

/// Sets the block's variable at `depth` to each of its values, multiplies in the factors that
/// are complete there, and goes on below the values no factor rules out.
#[allow(clippy::too_many_arguments)]
fn descend(
    c: &Compiled<'_>,
    block: &Block,
    cards: &[usize],
    state: &mut [usize],
    depth: usize,
    index: usize,
    partial: f64,
    log: bool,
    out: &mut Joint,
) {
    if depth == block.vars.len() {
        out.weights.push(partial);
        out.index.push(index);
        return;
    }
    let v = block.vars[depth];
    'values: for x in 0..cards[depth] {
        state[v] = x;
        let mut w = partial;
        for &f in &block.complete_at[depth] {
            let value = c.value(f, state);
            if value == 0.0 {
                continue 'values;
            }
            w = if log { w + value.ln() } else { w * value };
        }
        descend(c, block, cards, state, depth + 1, index * cards[depth] + x, w, log, out);
    }
}

fn evidence_vector(n: usize, evidence: &[(usize, usize)]) -> Vec<Option<usize>> {
    let mut ev = vec![None; n];
    for &(v, x) in evidence {
        ev[v] = Some(x);
    }
    ev
}

/// Estimates the posterior of `target` given `evidence` with `settings`, from `seed`.
///
/// ```
/// use cg_pgm::sampling::{estimate, Compiled, Method, Settings};
/// use cg_pgm::Factor;
/// // Two variables that must be equal, the second favouring state 1 three to one.
/// let factors = [
///     Factor::new(&[0, 1], &[2, 2], vec![1.0, 0.0, 0.0, 1.0]).unwrap(),
///     Factor::new(&[1], &[2], vec![1.0, 3.0]).unwrap(),
/// ];
/// let c = Compiled::new(&factors, &[2, 2]).unwrap();
/// let s = Settings { method: Method::Gibbs, chains: 4, burn_in: 100, samples: 5000, thin: 1, blocks: true };
/// let m = estimate(&c, 0, &[], &s, 1).unwrap();
/// // The equal pair is one block, so the chains mix; P(x0 = 1) = 3/4.
/// assert!(m.converged(), "{:?}", m.doubts);
/// assert!((m.probabilities[1] - 0.75).abs() < 4.0 * m.standard_errors[1]);
/// ```
///
/// # Errors
/// Evidence or a target out of range, a target that is observed, zero samples or chains,
/// likelihood weighting or forward sampling without a Bayesian network, evidence of
/// probability zero (Gibbs: [`Error::ZeroEvidence`]), or no weighted draw of positive weight.
pub fn estimate(
    c: &Compiled<'_>,
    target: usize,
    evidence: &[(usize, usize)],
    settings: &Settings,
    seed: u64,
) -> Result<Estimate> {
    let n = c.cards.len();
    if let Some(&(v, x)) = evidence.iter().find(|&&(v, x)| v >= n || x >= c.cards[v]) {
        return Err(Error::Query(format!("evidence value {x} for variable {v} is out of range")));
    }
    if target >= n || evidence.iter().any(|e| e.0 == target) {
        return Err(Error::Query(format!("variable {target} cannot be queried (observed or out of range)")));
    }
    if settings.samples == 0 || settings.chains == 0 || settings.thin == 0 {
        return Err(Error::Query("samples, chains and thin must be at least 1".into()));
    }
    let sweeps = settings.samples.checked_mul(settings.thin).and_then(|n| n.checked_add(settings.burn_in));
    if sweeps.and_then(|n| n.checked_mul(settings.chains)).is_none() {
        return Err(Error::Query("burn_in + samples x thin, times chains, is beyond counting".into()));
    }
    if settings.method != Method::Gibbs && c.order.is_none() {
        return Err(Error::Query(
            "likelihood weighting and forward sampling need a Bayesian network; use gibbs".into(),
        ));
    }
    let ev = evidence_vector(n, evidence);
    let stream = |k: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Batch or chain k on stream k + 1; START_STREAM wraps to stream 0.
        rng.set_stream((k as u64).wrapping_add(1));
        rng
    };
    match settings.method {
        Method::Gibbs => gibbs(c, target, &ev, settings, &stream),
        Method::LikelihoodWeighting | Method::Forward => weighted(c, target, &ev, settings, &stream),
    }
}

/// The random stream that finds the Gibbs starts, apart from every chain's.
const START_STREAM: usize = usize::MAX;

fn gibbs(
    c: &Compiled<'_>,
    target: usize,
    ev: &[Option<usize>],
    s: &Settings,
    stream: &(dyn Fn(usize) -> ChaCha8Rng + Sync),
) -> Result<Estimate> {
    let blocks = blocks(c, ev, s.blocks);
    let starts = start::starts(c, target, ev, &blocks, s.chains, &mut stream(START_STREAM))?;
    let chains: Vec<Vec<usize>> = starts
        .into_par_iter()
        .enumerate()
        .map(|(k, mut state)| {
            let mut rng = stream(k);
            let mut joint = Joint::default();
            let mut series = Vec::with_capacity(s.samples);
            for sweep in 0..s.burn_in + s.samples * s.thin {
                for b in &blocks {
                    update_block(c, b, &mut state, &mut joint, &mut rng);
                }
                if sweep >= s.burn_in && (sweep - s.burn_in + 1).is_multiple_of(s.thin) {
                    series.push(state[target]);
                }
            }
            series
        })
        .collect();
    let card = c.cards[target];
    let mut e = empty(card, s.samples * s.chains);
    let indicators: Vec<Vec<Vec<f64>>> = (0..card)
        .map(|x| chains.iter().map(|ch| ch.iter().map(|&v| f64::from(u8::from(v == x))).collect()).collect())
        .collect();
    let moved = chains.iter().flatten().any(|&v| v != chains[0][0]);
    let (r_hat, ess): (Vec<f64>, Vec<f64>) = if moved {
        let visited: Vec<bool> = (0..card).map(|x| chains.iter().flatten().any(|&v| v == x)).collect();
        // A state seen too few times for an ESS counts one draw per chain.
        let own: Vec<f64> = indicators
            .iter()
            .zip(&visited)
            .map(|(i, &seen)| if seen { diagnostics::bulk_ess(i) } else { f64::NAN })
            .map(|x| if x.is_nan() { s.chains as f64 } else { x })
            .collect();
        let smallest = own.iter().zip(&visited).filter(|p| *p.1).map(|p| *p.0).fold(f64::INFINITY, f64::min);
        let ess = own.iter().zip(&visited).map(|(&x, &seen)| if seen { x } else { smallest }).collect();
        let r =
            indicators.iter().zip(&visited).map(|(i, &seen)| if seen { diagnostics::r_hat(i) } else { 1.0 }).collect();
        (r, ess)
    } else {
        e.doubts.push(Doubt::NeverMoved);
        (vec![f64::NAN; card], vec![1.0; card])
    };
    for x in 0..card {
        let p = indicators[x].iter().flatten().sum::<f64>() / e.draws as f64;
        push_state(&mut e, p, ess[x]);
        let every = (s.samples / 200).max(1);
        let mut hits = vec![0.0; indicators[x].len()];
        let mut running = vec![];
        for k in 0..s.samples {
            for (h, i) in hits.iter_mut().zip(&indicators[x]) {
                *h += i[k];
            }
            if (k + 1) % every == 0 || k + 1 == s.samples {
                running.push((k + 1, hits.iter().sum::<f64>() / ((k + 1) * indicators[x].len()) as f64));
            }
        }
        e.running.push(running);
    }
    if moved {
        let worst =
            r_hat.iter().copied().fold(1.0, |a: f64, b| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) });
        if worst.is_nan() || worst > R_HAT_LIMIT {
            e.doubts.push(Doubt::ChainsDisagree { r_hat: worst });
        }
        let fewest = ess.iter().copied().fold(f64::INFINITY, f64::min);
        if fewest < MIN_ESS {
            e.doubts.push(Doubt::FewEffectiveDraws { ess: fewest });
        }
    }
    e.r_hat = Some(r_hat);
    e.blocks = blocks.into_iter().map(|b| b.vars).filter(|v| v.len() > 1).collect();
    Ok(e)
}

fn weighted(
    c: &Compiled<'_>,
    target: usize,
    ev: &[Option<usize>],
    s: &Settings,
    stream: &(dyn Fn(usize) -> ChaCha8Rng + Sync),
) -> Result<Estimate> {
    let card = c.cards[target];
    let per = s.samples.div_ceil(s.chains);
    let free: Vec<Option<usize>> = vec![None; ev.len()];
    let forward = s.method == Method::Forward;
    // Per batch: the (value of the target, log weight) of each draw.
    let batches: Vec<Vec<(usize, f64)>> = (0..s.chains)
        .into_par_iter()
        .map(|k| {
            let mut rng = stream(k);
            let mut state = vec![0; ev.len()];
            let count = per.min(s.samples.saturating_sub(k * per));
            (0..count)
                .map(|_| {
                    let log_w = if forward {
                        c.weighted_draw(&free, &mut state, &mut rng);
                        let matches = ev.iter().zip(&state).all(|(e, &x)| e.is_none_or(|e| e == x));
                        if matches {
                            0.0
                        } else {
                            f64::NEG_INFINITY
                        }
                    } else {
                        c.weighted_draw(ev, &mut state, &mut rng)
                    };
                    (state[target], log_w)
                })
                .collect()
        })
        .collect();
    let log_draws: Vec<(usize, f64)> = batches.into_iter().flatten().collect();
    let top = log_draws.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return Err(Error::Query(format!(
            "none of the {} draws has positive weight (the evidence is too unlikely for {}); use gibbs",
            log_draws.len(),
            if forward { "forward sampling" } else { "likelihood weighting" }
        )));
    }
    // Weights relative to the largest drawn: ratios are all the estimate needs.
    let draws: Vec<(usize, f64)> = log_draws.iter().map(|&(v, lw)| (v, (lw - top).exp())).collect();
    let total: f64 = draws.iter().map(|d| d.1).sum();
    let ess = total * total / draws.iter().map(|d| d.1 * d.1).sum::<f64>();
    let mut e = empty(card, draws.len());
    let every = (draws.len() / 200).max(1);
    for x in 0..card {
        let p = draws.iter().filter(|d| d.0 == x).map(|d| d.1).sum::<f64>() / total + 0.0;
        push_state(&mut e, p, ess);
        let (mut hit, mut sum, mut running) = (0.0, 0.0, vec![]);
        for (k, &(v, w)) in draws.iter().enumerate() {
            sum += w;
            hit += if v == x { w } else { 0.0 };
            if ((k + 1) % every == 0 || k + 1 == draws.len()) && sum > 0.0 {
                running.push((k + 1, hit / sum));
            }
        }
        e.running.push(running);
    }
    // One more draw of the largest possible weight, against all the weight drawn.
    let largest = if forward { 0.0 } else { c.largest_log_weight(ev) };
    let share = 1.0 / (1.0 + total * (top - largest).exp());
    if share > WEIGHT_SHARE_LIMIT {
        e.doubts.push(Doubt::HeavyWeight { share });
    }
    if ess < MIN_ESS {
        e.doubts.push(Doubt::FewEffectiveDraws { ess });
    }
    Ok(e)
}

fn empty(card: usize, draws: usize) -> Estimate {
    Estimate {
        probabilities: Vec::with_capacity(card),
        standard_errors: vec![],
        intervals: vec![],
        ess: vec![],
        r_hat: None,
        running: vec![],
        draws,
        blocks: vec![],
        doubts: vec![],
    }
}

/// Adds a state's estimate `p` from an effective sample size `ess`.
fn push_state(e: &mut Estimate, p: f64, ess: f64) {
    let smoothed = (p * ess + 1.0) / (ess + 2.0);
    e.probabilities.push(p);
    e.standard_errors.push((smoothed * (1.0 - smoothed) / ess).sqrt());
    e.intervals.push(wilson(p, ess));
    e.ess.push(ess);
}

/// Wilson's 95% score interval for a proportion `p` of `n` trials.
fn wilson(p: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959_963_984_540_054;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Effective sample size of a correlated series: n / τ with the integrated autocorrelation time
/// τ = -1 + 2 Σ_m Γ_m, Γ_m = ρ(2m) + ρ(2m + 1) summed while positive (Geyer's initial positive
/// sequence, 1992). A constant series counts as n independent samples.
pub fn effective_sample_size(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 4 {
        return n as f64;
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let gamma = |k: usize| d[..n - k].iter().zip(&d[k..]).map(|(a, b)| a * b).sum::<f64>() / n as f64;
    let g0 = gamma(0);
    if g0 <= 0.0 {
        return n as f64;
    }
    let mut sum = 0.0;
    let mut m = 0;
    while 2 * m + 1 < n {
        let pair = (gamma(2 * m) + gamma(2 * m + 1)) / g0;
        if pair <= 0.0 {
            break;
        }
        sum += pair;
        m += 1;
    }
    let tau = (2.0 * sum - 1.0).max(1.0 / n as f64);
    n as f64 / tau
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_of_nothing_seen_is_not_a_point() {
        let (lo, hi) = wilson(0.0, 1000.0);
        assert!(lo.abs() < 1e-15, "{lo}");
        assert!(hi > 0.003 && hi < 0.005, "{hi}");
    }
}
