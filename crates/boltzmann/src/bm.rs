//! The general Boltzmann machine: binary units on any undirected graph, Gibbs sampling one unit
//! at a time, learning by the difference of data and model correlations (Ackley, Hinton and
//! Sejnowski, 1985), the model side sampled by persistent chains.

use cg_core::numeric::sigmoid;
use cg_core::{
    Domain, EdgeWeight, OutOfRange, Resumable, Role, Snapshot, SnapshotError, Solver, Stop, UnGraph, Validate, Variable,
};
use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::{Error, Result};

/// Units 0..n_visible are visible, the rest hidden. Weights are symmetric with a zero diagonal
/// and nonzero only on the graph's edges. E(s) = -½ sᵀWs - bᵀs, p(s) ∝ e^{-E(s)}.
#[derive(Clone, Debug, PartialEq)]
pub struct BoltzmannMachine {
    /// Symmetric weights with a zero diagonal, units × units.
    pub w: DMatrix<f64>,
    /// Biases, one per unit.
    pub b: DVector<f64>,
    n_visible: usize,
    /// Edges (i < j), the only weights learning touches.
    edges: Vec<(usize, usize)>,
    /// Neighbours of each unit, for the Gibbs update's local field.
    neighbours: Vec<Vec<usize>>,
}

impl BoltzmannMachine {
    /// A machine with zero weights on `edges` (pairs of distinct units, either order).
    ///
    /// # Errors
    /// An edge that names a unit out of range or joins a unit to itself.
    pub fn new(n_visible: usize, n_hidden: usize, edges: &[(usize, usize)]) -> Result<BoltzmannMachine> {
        let n = n_visible + n_hidden;
        let mut list: Vec<(usize, usize)> = vec![];
        for &(a, b) in edges {
            if a >= n || b >= n || a == b {
                return Err(Error::Data(format!("edge ({a}, {b}) does not join two distinct units of {n}")));
            }
            list.push((a.min(b), a.max(b)));
        }
        list.sort_unstable();
        list.dedup();
        let mut neighbours = vec![vec![]; n];
        for &(a, b) in &list {
            neighbours[a].push(b);
            neighbours[b].push(a);
        }
        Ok(BoltzmannMachine { w: DMatrix::zeros(n, n), b: DVector::zeros(n), n_visible, edges: list, neighbours })
    }

    /// Every pair of units joined.
    pub fn fully_connected(n_visible: usize, n_hidden: usize) -> BoltzmannMachine {
        let n = n_visible + n_hidden;
        let edges: Vec<(usize, usize)> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).collect();
        BoltzmannMachine::new(n_visible, n_hidden, &edges).expect("internal: valid edges")
    }

    /// The number of units, visible and hidden.
    pub fn units(&self) -> usize {
        self.b.len()
    }

    /// The number of visible units (the first ones).
    pub fn n_visible(&self) -> usize {
        self.n_visible
    }

    /// The connected pairs (i < j).
    pub fn edges(&self) -> &[(usize, usize)] {
        &self.edges
    }

    /// Sets the weight of edge (i, j) on both sides.
    pub fn set_weight(&mut self, i: usize, j: usize, w: f64) {
        self.w[(i, j)] = w;
        self.w[(j, i)] = w;
    }

    /// E(s) = -½ sᵀWs - bᵀs.
    pub fn energy(&self, s: &[f64]) -> f64 {
        let s = DVector::from_column_slice(s);
        -0.5 * s.dot(&(&self.w * &s)) - self.b.dot(&s)
    }

    /// One Gibbs sweep over the units in index order (visible units skipped when `clamped`):
    /// s_i ← 1 with probability σ(b_i + Σ_j W_ij s_j).
    pub fn gibbs_sweep(&self, s: &mut [f64], clamped: bool, rng: &mut ChaCha8Rng) {
        let first = if clamped { self.n_visible } else { 0 };
        for i in first..self.units() {
            let field = self.b[i] + self.neighbours[i].iter().map(|&j| self.w[(i, j)] * s[j]).sum::<f64>();
            s[i] = f64::from(u8::from(rng.random::<f64>() < sigmoid(field)));
        }
    }

    /// The exact distribution of the visible units (hidden ones summed out), indexed by the
    /// visible state read as a binary number with unit 0 as the lowest bit.
    ///
    /// # Errors
    /// More than 22 units in all.
    pub fn visible_distribution(&self) -> Result<Vec<f64>> {
        let n = self.units();
        if n > crate::rbm::EXACT_LIMIT {
            return Err(Error::TooLarge { units: n, limit: crate::rbm::EXACT_LIMIT });
        }
        let mut log_p = vec![f64::NEG_INFINITY; 1 << self.n_visible];
        let mut s = vec![0.0; n];
        for state in 0u64..(1u64 << n) {
            for (k, x) in s.iter_mut().enumerate() {
                *x = f64::from(u8::from(state >> k & 1 == 1));
            }
            let v = (state & ((1u64 << self.n_visible) - 1)) as usize;
            let e = -self.energy(&s);
            let m = log_p[v].max(e);
            log_p[v] = if m == f64::NEG_INFINITY { m } else { m + ((log_p[v] - m).exp() + (e - m).exp()).ln() };
        }
        let z = cg_core::numeric::log_sum_exp(&log_p);
        Ok(log_p.iter().map(|l| (l - z).exp()).collect())
    }

    /// The machine as an undirected graph of the core model: binary nodes (visible ones as
    /// inputs), one learnable-weight edge per coupling.
    pub fn to_graph(&self) -> UnGraph {
        let mut g = UnGraph::new();
        let ids: Vec<_> = (0..self.units())
            .map(|i| {
                let (name, role) = if i < self.n_visible {
                    (format!("v{i}"), Role::Input)
                } else {
                    (format!("h{}", i - self.n_visible), Role::Hidden)
                };
                g.add_node(&name, role, Variable::Discrete(Domain::Binary)).expect("internal: distinct names")
            })
            .collect();
        for &(a, b) in &self.edges {
            g.add_edge(ids[a], ids[b], EdgeWeight::Learnable(self.w[(a, b)])).expect("internal: one edge per pair");
        }
        g
    }
}

/// Index of a binary visible row in [`BoltzmannMachine::visible_distribution`].
pub fn state_index(v: &[f64]) -> usize {
    v.iter().enumerate().map(|(k, &x)| usize::from(x != 0.0) << k).sum()
}

/// KL(p ‖ q) = Σ p log(p / q), in nats (terms with p = 0 contribute nothing).
pub fn kl_divergence(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).filter(|(p, _)| **p > 0.0).map(|(p, q)| p * (p / q).ln()).sum()
}

/// `[bm]` of a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BmConfig {
    /// Hidden units of the learner (0: visible units only).
    pub hidden: usize,
    /// Step size of each update.
    pub learning_rate: f64,
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per update.
    pub batch_size: usize,
    /// Persistent free-running chains of the negative phase.
    pub chains: usize,
    /// Gibbs sweeps of every chain per update.
    #[serde(default = "one")]
    pub sweeps: usize,
    /// Gibbs sweeps over the hidden units with the visible ones clamped to a sample (positive phase).
    #[serde(default = "five")]
    pub positive_sweeps: usize,
    /// L2 penalty on the weights.
    #[serde(default)]
    pub weight_decay: f64,
}

impl BmConfig {
    /// A learner with `hidden` hidden units, trained with the settings of `configs/bm_small.toml`
    /// (learning rate 0.05, 50 epochs, batches and persistent chains of 100, one sweep per
    /// update, five clamped sweeps); change any field before [`Validate::validate`].
    ///
    /// ```
    /// use cg_core::Validate;
    /// let config = cg_boltzmann::BmConfig { epochs: 10, ..cg_boltzmann::BmConfig::new(2) };
    /// assert_eq!(config.validate().unwrap().chains, 100);
    /// assert!(cg_boltzmann::BmConfig { chains: 0, ..config }.validate().is_err());
    /// ```
    pub fn new(hidden: usize) -> BmConfig {
        BmConfig {
            hidden,
            learning_rate: 0.05,
            epochs: 50,
            batch_size: 100,
            chains: 100,
            sweeps: one(),
            positive_sweeps: five(),
            weight_decay: 0.0,
        }
    }
}

fn one() -> usize {
    1
}
fn five() -> usize {
    5
}

impl Validate for BmConfig {
    type Params = BmConfig;
    type Error = Error;

    /// # Errors
    /// The first setting out of range, named.
    fn validate(&self) -> Result<BmConfig> {
        OutOfRange::check("learning_rate", self.learning_rate, self.learning_rate > 0.0, "> 0")?;
        OutOfRange::check("epochs", self.epochs as f64, self.epochs >= 1, ">= 1")?;
        OutOfRange::check("batch_size", self.batch_size as f64, self.batch_size >= 1, ">= 1")?;
        OutOfRange::check("chains", self.chains as f64, self.chains >= 1, ">= 1")?;
        OutOfRange::check("sweeps", self.sweeps as f64, self.sweeps >= 1, ">= 1")?;
        OutOfRange::check("weight_decay", self.weight_decay, self.weight_decay >= 0.0, ">= 0")?;
        Ok(self.clone())
    }
}

/// What learning changes: the machine, the persistent chains, the epochs done.
#[derive(Clone, Debug)]
pub struct BmState {
    /// The machine being trained.
    pub machine: BoltzmannMachine,
    chains: Vec<Vec<f64>>,
    /// Epochs completed.
    pub epochs_done: usize,
}

/// Learning a Boltzmann machine from binary visible rows.
pub struct BmTrainer {
    params: BmConfig,
    data: Vec<Vec<f64>>,
}

impl BmTrainer {
    /// # Errors
    /// No data, or a value that is not 0 or 1.
    pub fn new(params: BmConfig, data: Vec<Vec<f64>>) -> Result<BmTrainer> {
        if data.is_empty() {
            return Err(Error::Data("no samples".into()));
        }
        if let Some(&x) = data.iter().flatten().find(|&&x| x != 0.0 && x != 1.0) {
            return Err(Error::NotBinary { value: x });
        }
        Ok(BmTrainer { params, data })
    }

    /// Starts from `machine` with random chain states.
    pub fn start(&self, machine: BoltzmannMachine, rng: &mut ChaCha8Rng) -> BmState {
        let chains = (0..self.params.chains)
            .map(|_| (0..machine.units()).map(|_| f64::from(u8::from(rng.random::<bool>()))).collect())
            .collect();
        BmState { machine, chains, epochs_done: 0 }
    }
}

/// A stopped run needs the machine's weights and biases, the persistent chains and the epoch
/// count.
impl Resumable for BmTrainer {
    fn save(&self, state: &BmState, into: &mut Snapshot) {
        let m = &state.machine;
        into.put_tensor("W", vec![m.w.nrows(), m.w.ncols()], m.w.iter().copied());
        into.put_tensor("b", vec![m.b.len()], m.b.iter().copied());
        into.put_tensor("chains", vec![state.chains.len(), m.units()], state.chains.iter().flatten().copied());
        into.put("epochs_done", &state.epochs_done);
    }

    fn restore(&self, state: &mut BmState, from: &Snapshot) -> std::result::Result<(), SnapshotError> {
        let m = &mut state.machine;
        from.copy_into("W", m.w.as_mut_slice())?;
        from.copy_into("b", m.b.as_mut_slice())?;
        let chains = from.tensor("chains", state.chains.len() * m.units())?;
        for (chain, saved) in state.chains.iter_mut().zip(chains.chunks_exact(m.units().max(1))) {
            chain.copy_from_slice(saved);
        }
        state.epochs_done = from.get("epochs_done")?;
        Ok(())
    }
}

impl Solver for BmTrainer {
    type State = BmState;
    /// Nothing beyond the machine itself (the driver times each epoch).
    type Record = ();
    type Error = Error;

    fn name(&self) -> &'static str {
        "boltzmann-gibbs"
    }

    /// One epoch of mini-batches: data correlations (hidden units sampled with the visible ones
    /// clamped) minus model correlations (the persistent chains after `sweeps` sweeps), on every
    /// edge and bias.
    fn step(&mut self, state: &mut BmState, rng: &mut ChaCha8Rng) -> Result<()> {
        let p = &self.params;
        let n = state.machine.units();
        let nv = state.machine.n_visible();
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        order.shuffle(rng);
        let mut s = vec![0.0; n];
        for batch in order.chunks(p.batch_size) {
            let (mut pos_w, mut pos_b) = (DMatrix::<f64>::zeros(n, n), DVector::<f64>::zeros(n));
            for &row in batch {
                s[..nv].copy_from_slice(&self.data[row]);
                for x in &mut s[nv..] {
                    *x = f64::from(u8::from(rng.random::<bool>()));
                }
                if nv < n {
                    for _ in 0..p.positive_sweeps {
                        state.machine.gibbs_sweep(&mut s, true, rng);
                    }
                }
                let sv = DVector::from_column_slice(&s);
                pos_w.ger(1.0, &sv, &sv, 1.0);
                pos_b += &sv;
            }
            let (mut neg_w, mut neg_b) = (DMatrix::<f64>::zeros(n, n), DVector::<f64>::zeros(n));
            for chain in &mut state.chains {
                for _ in 0..p.sweeps {
                    state.machine.gibbs_sweep(chain, false, rng);
                }
                let sv = DVector::from_column_slice(chain);
                neg_w.ger(1.0, &sv, &sv, 1.0);
                neg_b += &sv;
            }
            let (bp, bn) = (batch.len() as f64, state.chains.len() as f64);
            let m = &mut state.machine;
            for k in 0..m.edges.len() {
                let (i, j) = m.edges[k];
                let g = pos_w[(i, j)] / bp - neg_w[(i, j)] / bn - p.weight_decay * m.w[(i, j)];
                let w = m.w[(i, j)] + p.learning_rate * g;
                m.set_weight(i, j, w);
            }
            m.b += (pos_b / bp - neg_b / bn) * p.learning_rate;
        }
        state.epochs_done += 1;
        Ok(())
    }

    fn stop(&self, state: &BmState, _record: &()) -> Option<Stop> {
        crate::train::diverged(state.epochs_done, state.machine.w.iter().chain(state.machine.b.iter()))
    }
}
