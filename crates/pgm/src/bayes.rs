//! Discrete Bayesian networks.

use cg_core::{DiGraph, Domain, EdgeWeight, Role, Variable};
use serde::Deserialize;

use crate::{Error, Factor, Result};

/// How far a conditional-probability row may sum from 1 and still be a distribution: published
/// networks round their rows (ALARM's sum to 0.9999999). One rule for every format (TOML, BIF,
/// UAI `BAYES`); rows are kept as written, never renormalised.
pub const ROW_TOLERANCE: f64 = 1e-6;

/// Why a row of P(child | parents) is not a distribution.
pub(crate) enum RowFault {
    /// An entry that is negative or not finite.
    Entry(f64),
    /// Entries that sum farther than [`ROW_TOLERANCE`] from 1.
    Sum(f64),
}

/// The one rule every format's rows follow (TOML, BIF, UAI `BAYES`): each entry a finite
/// number >= 0, summing to 1 within [`ROW_TOLERANCE`]. Each reader words the fault with its
/// own place (a row number, a line, a function).
pub(crate) fn row_fault(row: &[f64]) -> Option<RowFault> {
    if let Some(&p) = row.iter().find(|p| !(p.is_finite() && **p >= 0.0)) {
        return Some(RowFault::Entry(p));
    }
    let sum: f64 = row.iter().sum();
    ((sum - 1.0).abs() > ROW_TOLERANCE).then_some(RowFault::Sum(sum))
}

/// The most entries one conditional table may expand to (2^28, 2 GiB of f64): far beyond any
/// published network (Munin's largest table has about 10^5), and refused before allocation, so a
/// small file with a `default` row over 10^12 parent configurations is an error, not an abort.
pub const MAX_TABLE_ENTRIES: usize = 1 << 28;

/// One variable as written in a config: its states, its parents, and P(variable | parents) as
/// one row per parent configuration (the last parent varying fastest), one column per state.
#[derive(Clone, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    /// The variable's name.
    pub name: String,
    /// Its states' names, in order.
    pub states: Vec<String>,
    /// Parent variables (listed earlier or later; the graph must be acyclic).
    #[serde(default)]
    pub parents: Vec<String>,
    /// P(variable | parents): one row per parent configuration (the last parent varying fastest),
    /// one entry per state; rows sum to 1.
    pub cpt: Vec<Vec<f64>>,
}

/// A checked Bayesian network: variables in the given order (ids 0, 1, ...), their DAG, and one
/// factor per conditional probability table.
#[derive(Clone, Debug)]
pub struct BayesianNetwork {
    /// Variable names.
    pub names: Vec<String>,
    /// Each variable's state names.
    pub states: Vec<Vec<String>>,
    /// Each variable's number of states.
    pub cards: Vec<usize>,
    /// Each variable's parents.
    pub parents: Vec<Vec<usize>>,
    /// Each variable's table P(x | parents).
    pub factors: Vec<Factor>,
    /// The directed graph.
    pub graph: DiGraph,
}

impl BayesianNetwork {
    /// `n` joint draws by ancestral (forward) sampling: parents first, each variable from its
    /// table given its parents' draws. Row r holds every variable's state index.
    ///
    /// ```
    /// use cg_pgm::{files, BayesianNetwork};
    /// use rand::SeedableRng;
    /// let bif = "variable a { type discrete [ 2 ] { yes, no }; }\n\
    ///            variable b { type discrete [ 2 ] { yes, no }; }\n\
    ///            probability ( a ) { table 0.3, 0.7; }\n\
    ///            probability ( b | a ) { (yes) 0.9, 0.1; (no) 0.2, 0.8; }";
    /// let net = BayesianNetwork::new(&files::read_bif(bif).unwrap()).unwrap();
    /// let draws = net.sample(100_000, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// // P(b = yes) = 0.3 · 0.9 + 0.7 · 0.2 = 0.41; the standard error of 10^5 draws is 0.0016.
    /// let share = draws.iter().filter(|row| row[1] == 0).count() as f64 / 1e5;
    /// assert!((share - 0.41).abs() < 4.0 * 0.0016, "{share}");
    /// ```
    pub fn sample(&self, n: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Vec<usize>> {
        use rand::Rng;
        let order = self.parents_first();
        let mut rows = Vec::with_capacity(n);
        let mut x = vec![0usize; self.cards.len()];
        for _ in 0..n {
            for &v in &order {
                let f = &self.factors[v];
                // The table's entries for x[v] = 0, 1, ... with the parents as drawn.
                let at = |state: usize| -> f64 {
                    let mut index = 0;
                    for (&var, &card) in f.vars.iter().zip(&f.cards) {
                        index = index * card + if var == v { state } else { x[var] };
                    }
                    f.values[index]
                };
                let total: f64 = (0..self.cards[v]).map(at).sum();
                let mut u = rng.random::<f64>() * total;
                let mut pick = self.cards[v] - 1;
                for s in 0..self.cards[v] {
                    u -= at(s);
                    if u < 0.0 {
                        pick = s;
                        break;
                    }
                }
                x[v] = pick;
            }
            rows.push(x.clone());
        }
        rows
    }

    /// The variables with every parent before its children (the DAG is checked when built).
    fn parents_first(&self) -> Vec<usize> {
        let n = self.cards.len();
        let mut placed = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            for v in 0..n {
                if !placed[v] && self.parents[v].iter().all(|&p| placed[p]) {
                    placed[v] = true;
                    order.push(v);
                }
            }
        }
        order
    }

    /// # Errors
    /// A repeated or unknown name, fewer than two states, a table of the wrong shape, a row that
    /// is not a distribution, or a cycle (named).
    pub fn new(specs: &[VariableSpec]) -> Result<BayesianNetwork> {
        let err = |name: &str, message: String| Error::Variable { name: name.to_string(), message };
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let mut graph = DiGraph::new();
        let mut ids = vec![];
        for s in specs {
            if s.states.len() < 2 {
                return Err(err(&s.name, format!("{} states; a variable needs two or more", s.states.len())));
            }
            if let Some(dup) = crate::repeated(&s.states) {
                return Err(err(&s.name, format!("state `{dup}` is listed twice")));
            }
            let domain = Domain::Categorical(s.states.len() as u32);
            ids.push(graph.add_node(&s.name, Role::Hidden, Variable::Discrete(domain))?);
        }
        let cards: Vec<usize> = specs.iter().map(|s| s.states.len()).collect();
        let index: std::collections::HashMap<&str, usize> =
            names.iter().enumerate().map(|(k, n)| (n.as_str(), k)).collect();
        let mut parents = vec![];
        let mut factors = vec![];
        for (k, s) in specs.iter().enumerate() {
            let ps: Vec<usize> = s
                .parents
                .iter()
                .map(|p| index.get(p.as_str()).copied().ok_or_else(|| err(&s.name, format!("unknown parent `{p}`"))))
                .collect::<Result<_>>()?;
            for &p in &ps {
                graph.add_edge(ids[p], ids[k], EdgeWeight::None)?;
            }
            let rows = ps.iter().try_fold(1usize, |n, &p| n.checked_mul(cards[p])).unwrap_or(usize::MAX);
            if s.cpt.len() != rows {
                return Err(err(
                    &s.name,
                    format!("cpt has {} rows; its parents have {rows} configurations", s.cpt.len()),
                ));
            }
            for (r, row) in s.cpt.iter().enumerate() {
                if row.len() != cards[k] {
                    return Err(err(
                        &s.name,
                        format!("cpt row {} has {} entries for {} states", r + 1, row.len(), cards[k]),
                    ));
                }
                match row_fault(row) {
                    Some(RowFault::Entry(p)) => {
                        return Err(err(
                            &s.name,
                            format!("cpt row {}: the entry {p} is not a probability (negative or not finite)", r + 1),
                        ))
                    }
                    Some(RowFault::Sum(sum)) => {
                        return Err(err(&s.name, format!("cpt row {} is not a distribution (sums to {sum})", r + 1)))
                    }
                    None => {}
                }
            }
            let mut vars = ps.clone();
            vars.push(k);
            let vcards: Vec<usize> = vars.iter().map(|&v| cards[v]).collect();
            // Rows are kept as written (an ALARM row summing to 0.9999999 too), as pgmpy keeps
            // them: answers agree with its to rounding, and a BIF written back has the same
            // numbers.
            let values = s.cpt.iter().flatten().copied().collect();
            factors.push(Factor::new(&vars, &vcards, values)?);
            parents.push(ps);
        }
        graph.topological_order()?;
        Ok(BayesianNetwork {
            names,
            states: specs.iter().map(|s| s.states.clone()).collect(),
            cards,
            parents,
            factors,
            graph,
        })
    }

    /// The id of variable `name`.
    ///
    /// # Errors
    /// No such variable.
    pub fn id(&self, name: &str) -> Result<usize> {
        variable_id(&self.names, name)
    }

    /// The index of state `state` of variable `var`.
    ///
    /// # Errors
    /// No such state.
    pub fn state(&self, var: usize, state: &str) -> Result<usize> {
        state_id(&self.names, &self.states, var, state)
    }

    /// P(`target` | `evidence`) by names: each state of `target` with its exact probability, by
    /// variable elimination with the barren variables left out.
    ///
    /// ```
    /// use cg_pgm::{BayesianNetwork, VariableSpec};
    /// let spec = |name: &str, parents: &[&str], cpt: Vec<Vec<f64>>| VariableSpec {
    ///     name: name.into(),
    ///     states: vec!["no".into(), "yes".into()],
    ///     parents: parents.iter().map(|p| p.to_string()).collect(),
    ///     cpt,
    /// };
    /// let net = BayesianNetwork::new(&[
    ///     spec("rain", &[], vec![vec![0.8, 0.2]]),
    ///     spec("wet", &["rain"], vec![vec![0.9, 0.1], vec![0.1, 0.9]]),
    /// ])
    /// .unwrap();
    /// let p = net.query("rain", &[("wet", "yes")]).unwrap();
    /// // P(rain | wet) = 0.2 x 0.9 / (0.2 x 0.9 + 0.8 x 0.1)
    /// assert!((p[1].1 - 0.18 / 0.26).abs() < 1e-15 && p[1].0 == "yes");
    /// ```
    ///
    /// # Errors
    /// An unknown variable or state, a target that is also evidence, or evidence of
    /// probability zero ([`Error::ZeroEvidence`]).
    pub fn query(&self, target: &str, evidence: &[(&str, &str)]) -> Result<Vec<(String, f64)>> {
        let t = self.id(target)?;
        let evidence = evidence
            .iter()
            .map(|&(v, x)| self.id(v).and_then(|v| Ok((v, self.state(v, x)?))))
            .collect::<Result<Vec<_>>>()?;
        let keep = crate::ancestral(&self.parents, &[t], &evidence);
        let factors: Vec<crate::Factor> =
            self.factors.iter().enumerate().filter(|&(v, _)| keep[v]).map(|(_, f)| f.clone()).collect();
        let answer = crate::variable_elimination(&factors, &self.cards, &[t], &evidence)?;
        Ok(self.states[t].iter().cloned().zip(answer.values).collect())
    }
}

/// The position of variable `name` among `names`.
///
/// # Errors
/// [`Error::UnknownVariable`].
pub fn variable_id(names: &[String], name: &str) -> Result<usize> {
    names.iter().position(|n| n == name).ok_or_else(|| Error::UnknownVariable { name: name.to_string() })
}

/// The index of state `state` of variable `var` (`states[var]` lists them).
///
/// # Errors
/// [`Error::UnknownState`], listing the states there are.
pub fn state_id(names: &[String], states: &[Vec<String>], var: usize, state: &str) -> Result<usize> {
    states[var].iter().position(|s| s == state).ok_or_else(|| Error::UnknownState {
        variable: names[var].clone(),
        state: state.to_string(),
        states: states[var].join(", "),
    })
}
