//! Score-based structure search: greedy hill climbing over single-edge moves, with a tabu list,
//! an in-degree bound, white and black lists, and restarts from random perturbations.
//!
//! Every legal move is scored (in parallel: the families not yet in the cache are counted on
//! all threads) and the best is taken, ties going to the first in a fixed order (adds, then
//! removals, then reversals, each by (parent, child) in the climb's variable order): the search
//! takes the same path on any number of threads, and from a saved [`SearchState`] it continues
//! as if never stopped.
//!
//! Ties are common: BIC and BDeu give Markov-equivalent graphs equal scores, so from the empty
//! graph a -> b and b -> a gain exactly as much, and which is taken steers the rest of the
//! climb (on Asia's data one order finds the true graph and another a local optimum 25 BIC
//! points below). The first climb orders the variables as the data do; each restart draws a
//! new order from the seed.

use std::collections::{HashMap, HashSet, VecDeque};

use foldhash::fast::FixedState;

use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::counts::count;
use super::dag::Reach;
use super::data::DiscreteData;
use super::score::Score;
use crate::{Error, Result};

/// One change to the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Move {
    /// Add the edge (parent, child).
    Add(usize, usize),
    /// Remove the edge (parent, child).
    Remove(usize, usize),
    /// Turn the edge (parent, child) around.
    Reverse(usize, usize),
}

impl Move {
    /// The move that undoes this one (what the tabu list holds).
    fn undo(self) -> Move {
        match self {
            Move::Add(a, b) => Move::Remove(a, b),
            Move::Remove(a, b) => Move::Add(a, b),
            Move::Reverse(a, b) => Move::Reverse(b, a),
        }
    }
}

/// The search's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct HillClimb {
    /// The score maximised.
    pub score: Score,
    /// The most parents a variable may have (`None`: no bound).
    pub max_indegree: Option<usize>,
    /// How many recent moves may not be undone (pgmpy's default: 100).
    pub tabu_length: usize,
    /// The search stops when no move improves the score by at least this (pgmpy: 1e-4).
    pub epsilon: f64,
    /// The most moves per climb.
    pub max_iter: usize,
    /// Climbs after the first, each with a new tie-breaking order of the variables, from the
    /// start graph (`perturbation` 0) or from the best graph so far changed by `perturbation`
    /// random legal moves.
    pub restarts: usize,
    /// Random moves before each restart (0: restart from the start graph).
    pub perturbation: usize,
    /// Seeds the perturbations.
    pub seed: u64,
    /// Edges (parent, child) that may be added; `None`: all.
    pub white_list: Option<Vec<(usize, usize)>>,
    /// Edges (parent, child) that may never be present.
    pub black_list: Vec<(usize, usize)>,
}

impl Default for HillClimb {
    /// BIC, no in-degree bound, tabu list 100, epsilon 1e-4 (pgmpy's defaults), at most 10^6
    /// moves, two restarts from the start graph (the best of three tie orders: one climb's
    /// result depends on its order, see the module's notes), seed 0, no lists.
    fn default() -> Self {
        HillClimb {
            score: Score::Bic,
            max_indegree: None,
            tabu_length: 100,
            epsilon: 1e-4,
            max_iter: 1_000_000,
            restarts: 2,
            perturbation: 0,
            seed: 0,
            white_list: None,
            black_list: vec![],
        }
    }
}

impl HillClimb {
    /// Checks the settings against `n` variables.
    ///
    /// # Errors
    /// A negative or non-finite epsilon, a bad score setting, a listed edge out of range or
    /// from a variable to itself.
    pub fn check(&self, n: usize) -> Result<()> {
        self.score.check()?;
        cg_core::OutOfRange::check("epsilon", self.epsilon, self.epsilon >= 0.0, "a number >= 0")?;
        for &(a, b) in self.white_list.iter().flatten().chain(&self.black_list) {
            if a >= n || b >= n || a == b {
                return Err(Error::Setting {
                    table: "learn",
                    message: format!("the listed edge ({a}, {b}) is out of range or a loop"),
                });
            }
        }
        Ok(())
    }
}

/// Where a search is: everything needed to continue it exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    /// The graph the search started from.
    pub start: Vec<Vec<usize>>,
    /// The current graph: each variable's parents.
    pub parents: Vec<Vec<usize>>,
    /// Its score.
    pub score: f64,
    /// Moves that may not be made now, oldest first.
    pub tabu: VecDeque<Move>,
    /// Moves made in this climb.
    pub moves: usize,
    /// The climb: 0 for the first, k for restart k.
    pub climb: usize,
    /// The best graph of the finished climbs, and its score.
    pub best: Option<(Vec<Vec<usize>>, f64)>,
    /// The score after each move, over all climbs.
    pub curve: Vec<f64>,
    /// Whether the search has ended.
    pub done: bool,
}

/// What a search found.
#[derive(Clone, Debug, PartialEq)]
pub struct Learned {
    /// Each variable's parents.
    pub parents: Vec<Vec<usize>>,
    /// The structure's score.
    pub score: f64,
    /// Moves made over all climbs.
    pub moves: usize,
    /// The score after each move, over all climbs.
    pub curve: Vec<f64>,
    /// Families scored (each counted once, then cached).
    pub families_scored: usize,
}

/// A hill-climbing search over `data`, one move at a time ([`Search::step`]).
///
/// ```
/// use cg_pgm::learn::{DiscreteData, HillClimb, Search};
/// // b copies a; c is a coin: the search joins a and b and leaves c alone.
/// let mut csv = String::from("a,b,c\n");
/// for k in 0..200 { csv += &format!("{},{},{}\n", k % 2, k % 2, k / 2 % 2); }
/// let data = DiscreteData::from_csv(&csv).unwrap();
/// let learned = Search::new(&data, HillClimb::default(), None).unwrap().run();
/// assert_eq!(cg_pgm::learn::edges(&learned.parents).len(), 1);
/// assert!(learned.parents[2].is_empty());
/// ```
pub struct Search<'a> {
    data: &'a DiscreteData,
    settings: HillClimb,
    /// Local scores by (child, sorted parents); a fast fixed hash (the keys are ours).
    cache: HashMap<(usize, Vec<usize>), f64, FixedState>,
    state: SearchState,
}

impl<'a> Search<'a> {
    /// A search from `start` (each variable's parents; `None`: no edges).
    ///
    /// # Errors
    /// Bad settings, or a start that is not a DAG over the data's variables, breaks the
    /// in-degree bound or holds a black-listed edge.
    pub fn new(data: &'a DiscreteData, settings: HillClimb, start: Option<&[Vec<usize>]>) -> Result<Search<'a>> {
        let n = data.variables();
        settings.check(n)?;
        let parents = start.map_or_else(|| vec![vec![]; n], <[_]>::to_vec);
        super::estimate::check_structure(data, &parents)?;
        if super::dag::parents_first(&parents).is_none() {
            return Err(Error::Learn("the start graph has a cycle".into()));
        }
        let mut search = Search {
            data,
            settings,
            cache: HashMap::with_hasher(FixedState::default()),
            state: SearchState {
                start: parents.clone(),
                parents: vec![],
                score: 0.0,
                tabu: VecDeque::new(),
                moves: 0,
                climb: 0,
                best: None,
                curve: vec![],
                done: false,
            },
        };
        search.state.score = search.total(&parents);
        search.state.parents = parents;
        Ok(search)
    }

    /// Continues a search from a saved state (with the settings it ran with).
    ///
    /// # Errors
    /// A state that does not fit the data.
    pub fn resume(data: &'a DiscreteData, settings: HillClimb, state: SearchState) -> Result<Search<'a>> {
        let mut search = Search::new(data, settings, Some(&state.parents))?;
        search.state = state;
        Ok(search)
    }

    /// The state now (save it to continue later with [`Search::resume`]).
    pub fn state(&self) -> &SearchState {
        &self.state
    }

    /// Makes one move, or ends a climb (restarting or finishing the search). Returns whether
    /// the search goes on.
    pub fn step(&mut self) -> bool {
        if self.state.done {
            return false;
        }
        let best = if self.state.moves < self.settings.max_iter { self.best_move() } else { None };
        match best {
            Some((m, delta)) if delta >= self.settings.epsilon => {
                apply(&mut self.state.parents, m);
                self.state.score = self.total(&self.state.parents.clone());
                self.state.tabu.push_back(m.undo());
                while self.state.tabu.len() > self.settings.tabu_length {
                    self.state.tabu.pop_front();
                }
                self.state.moves += 1;
                self.state.curve.push(self.state.score);
            }
            _ => self.end_climb(),
        }
        !self.state.done
    }

    /// [`Search::step`] on a state kept outside the search (a solver loop that saves and
    /// restores it): the search's own state is swapped for it and back.
    pub fn step_on(&mut self, state: &mut SearchState) -> bool {
        std::mem::swap(&mut self.state, state);
        let more = self.step();
        std::mem::swap(&mut self.state, state);
        more
    }

    /// What a search kept outside found so far: [`Search::finish`] of `state`.
    pub fn result(&self, state: &SearchState) -> Learned {
        let current = (state.parents.clone(), state.score);
        let (parents, score) = match &state.best {
            Some(best) if best.1 >= current.1 => best.clone(),
            _ => current,
        };
        Learned {
            parents,
            score,
            moves: state.curve.len(),
            curve: state.curve.clone(),
            families_scored: self.cache.len(),
        }
    }

    /// Steps to the end.
    pub fn run(mut self) -> Learned {
        while self.step() {}
        self.finish()
    }

    /// The best graph found (the current one if the search was stopped early and is better).
    pub fn finish(self) -> Learned {
        self.result(&self.state)
    }

    /// Keeps the climb's graph if best, then restarts (from the start graph, or from a
    /// perturbation of the best) or ends.
    fn end_climb(&mut self) {
        let s = &mut self.state;
        if s.best.as_ref().is_none_or(|(_, b)| s.score > *b) {
            s.best = Some((s.parents.clone(), s.score));
        }
        if s.climb >= self.settings.restarts {
            s.done = true;
            return;
        }
        s.climb += 1;
        let mut parents = match self.settings.perturbation {
            0 => s.start.clone(),
            _ => s.best.as_ref().expect("set above").0.clone(),
        };
        // Each restart's moves come from its own stream: the same on resume.
        let mut rng = self.climb_rng();
        rng.set_stream(1);
        for _ in 0..self.settings.perturbation {
            let legal = self.legal_moves(&parents, false);
            if legal.is_empty() {
                break;
            }
            apply(&mut parents, legal[rng.random_range(0..legal.len())]);
        }
        self.state.score = self.total(&parents);
        self.state.parents = parents;
        self.state.tabu.clear();
        self.state.moves = 0;
    }

    /// The random stream of the current climb (its variable order; stream 1: its perturbation).
    fn climb_rng(&self) -> rand_chacha::ChaCha8Rng {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.settings.seed.to_le_bytes());
        seed[8..16].copy_from_slice(&(self.state.climb as u64).to_le_bytes());
        rand_chacha::ChaCha8Rng::from_seed(seed)
    }

    /// The climb's variable order: the data's for the first climb, a shuffle for each restart.
    fn order(&self) -> Vec<usize> {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..self.state.parents.len()).collect();
        if self.state.climb > 0 {
            order.shuffle(&mut self.climb_rng());
        }
        order
    }

    /// The legal move that raises the score most, and by how much (ties: the first).
    fn best_move(&mut self) -> Option<(Move, f64)> {
        let parents = self.state.parents.clone();
        // The current families are cached (a state restored from outside may not have been).
        self.total(&parents);
        let moves = self.legal_moves(&parents, true);
        // Every family a move would need, then the new ones counted in parallel.
        let mut needed: Vec<(usize, Vec<usize>)> = vec![];
        let mut listed = HashSet::with_hasher(FixedState::default());
        for &m in &moves {
            for (v, ps) in changed(&parents, m) {
                let key = (v, sorted(ps));
                if !self.cache.contains_key(&key) && listed.insert(key.clone()) {
                    needed.push(key);
                }
            }
        }
        let (data, score) = (self.data, self.settings.score);
        let scored: Vec<f64> = needed.par_iter().map(|(v, ps)| score.local(&count(data, *v, ps))).collect();
        self.cache.extend(needed.into_iter().zip(scored));
        // Deltas within rounding of each other are ties (a -> b and b -> a gain the same in
        // exact arithmetic, not always in floating point): the first in the climb's order wins.
        let tie = 1e-9 * self.state.score.abs().max(1.0);
        let mut best: Option<(Move, f64)> = None;
        let now: Vec<f64> = parents.iter().enumerate().map(|(v, ps)| self.cache[&(v, sorted(ps.clone()))]).collect();
        for m in moves {
            let delta: f64 =
                changed(&parents, m).into_iter().map(|(v, ps)| self.cache[&(v, sorted(ps))] - now[v]).sum();
            if best.is_none_or(|(_, d)| delta > d + tie) {
                best = Some((m, delta));
            }
        }
        best
    }

    /// Every move that keeps the graph acyclic and within the lists and the in-degree bound
    /// (and, with `tabu`, off the tabu list), in a fixed order.
    fn legal_moves(&self, parents: &[Vec<usize>], tabu: bool) -> Vec<Move> {
        let n = parents.len();
        let reach = Reach::of(parents);
        let s = &self.settings;
        let is_tabu = |m: &Move| tabu && self.state.tabu.contains(m);
        let allowed = |a: usize, b: usize| {
            !s.black_list.contains(&(a, b)) && s.white_list.as_ref().is_none_or(|w| w.contains(&(a, b)))
        };
        let room = |v: usize| s.max_indegree.is_none_or(|k| parents[v].len() < k);
        let order = self.order();
        let mut rank = vec![0; n];
        for (k, &v) in order.iter().enumerate() {
            rank[v] = k;
        }
        let mut moves = vec![];
        for &a in &order {
            for &b in &order {
                let adjacent = parents[b].contains(&a) || parents[a].contains(&b);
                let m = Move::Add(a, b);
                if a != b && !adjacent && !reach.reaches(b, a) && allowed(a, b) && room(b) && !is_tabu(&m) {
                    moves.push(m);
                }
            }
        }
        let mut edges = super::dag::edges(parents);
        edges.sort_by_key(|&(a, b)| (rank[a], rank[b]));
        for &(a, b) in &edges {
            let m = Move::Remove(a, b);
            if !is_tabu(&m) {
                moves.push(m);
            }
        }
        for &(a, b) in &edges {
            // Reversing a -> b closes a cycle when another path leads from a to b.
            let other_path = (0..n).any(|c| c != b && parents[c].contains(&a) && reach.reaches(c, b));
            let m = Move::Reverse(a, b);
            if !other_path && allowed(b, a) && room(a) && !is_tabu(&m) {
                moves.push(m);
            }
        }
        moves
    }

    /// The structure's score from the cache (counting what is missing).
    fn total(&mut self, parents: &[Vec<usize>]) -> f64 {
        let mut sum = 0.0;
        for (v, ps) in parents.iter().enumerate() {
            let key = (v, sorted(ps.clone()));
            let (data, score) = (self.data, self.settings.score);
            sum += *self.cache.entry(key).or_insert_with(|| score.local(&count(data, v, ps)));
        }
        sum
    }
}

/// The families a move changes, with their new parents.
fn changed(parents: &[Vec<usize>], m: Move) -> Vec<(usize, Vec<usize>)> {
    let with = |v: usize, p: usize| {
        let mut ps = parents[v].clone();
        ps.push(p);
        ps
    };
    let without = |v: usize, p: usize| parents[v].iter().copied().filter(|&q| q != p).collect::<Vec<_>>();
    match m {
        Move::Add(a, b) => vec![(b, with(b, a))],
        Move::Remove(a, b) => vec![(b, without(b, a))],
        Move::Reverse(a, b) => vec![(b, without(b, a)), (a, with(a, b))],
    }
}

/// Applies a move.
fn apply(parents: &mut [Vec<usize>], m: Move) {
    match m {
        Move::Add(a, b) => parents[b].push(a),
        Move::Remove(a, b) => parents[b].retain(|&p| p != a),
        Move::Reverse(a, b) => {
            parents[b].retain(|&p| p != a);
            parents[a].push(b);
        }
    }
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}
