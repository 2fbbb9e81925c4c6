//! Fitting the tables of a given structure: maximum likelihood, or the posterior mean under a
//! Dirichlet prior.

use super::counts::count;
use super::data::DiscreteData;
use crate::{BayesianNetwork, Error, Result, VariableSpec};

/// How a table is estimated from its counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// N_jk / N_j.
    MaximumLikelihood {
        /// What a parent configuration that never occurs gets.
        unseen: Unseen,
    },
    /// (N_jk + a_jk) / (N_j + Σ_k a_jk): the posterior mean under a Dirichlet prior.
    Bayesian(Prior),
}

/// What maximum likelihood gives a parent configuration the data never show (it has no
/// estimate: 0/0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unseen {
    /// The uniform distribution (pgmpy's rule).
    Uniform,
    /// An error naming the variable and the configuration.
    Refuse,
}

/// A Dirichlet prior's pseudo-counts a_jk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prior {
    /// `ess` imaginary rows spread evenly: a_jk = ess / (q r) for q parent configurations and r
    /// states.
    Bdeu {
        /// The equivalent sample size.
        ess: f64,
    },
    /// a_jk = 1 (Laplace's rule).
    K2,
    /// a_jk = the given number.
    PseudoCount(f64),
}

impl Prior {
    /// The pseudo-count of every cell of a table with `configs` rows of `r` states.
    pub fn pseudo_count(&self, configs: f64, r: usize) -> f64 {
        match *self {
            Prior::Bdeu { ess } => ess / (configs * r as f64),
            Prior::K2 => 1.0,
            Prior::PseudoCount(a) => a,
        }
    }
}

/// A network with the structure `parents` (each variable's parents, by column of `data`) and
/// each table estimated from the rows where its family is observed.
///
/// ```
/// use cg_pgm::learn::{fit, DiscreteData, Estimator, Prior, Unseen};
/// let data = DiscreteData::from_csv("rain,wet\nno,no\nno,no\nno,yes\nyes,yes\n").unwrap();
/// let ml = fit(&data, &[vec![], vec![0]], Estimator::MaximumLikelihood { unseen: Unseen::Uniform }).unwrap();
/// // P(wet = yes | rain = no) = 1/3 by counting.
/// assert!((ml.query("wet", &[("rain", "no")]).unwrap()[1].1 - 1.0 / 3.0).abs() < 1e-15);
/// let k2 = fit(&data, &[vec![], vec![0]], Estimator::Bayesian(Prior::K2)).unwrap();
/// // With a pseudo-count of 1 per cell: (1 + 1) / (3 + 2).
/// assert!((k2.query("wet", &[("rain", "no")]).unwrap()[1].1 - 0.4).abs() < 1e-15);
/// ```
///
/// # Errors
/// A structure that is not a DAG over the data's variables, a variable with fewer than two
/// states, a table of more than 2^28 entries, or (with
/// [`Unseen::Refuse`]) a parent configuration the data never show.
pub fn fit(data: &DiscreteData, parents: &[Vec<usize>], estimator: Estimator) -> Result<BayesianNetwork> {
    check_structure(data, parents)?;
    let cards = data.cards();
    let mut specs = Vec::with_capacity(parents.len());
    for (v, ps) in parents.iter().enumerate() {
        let c = count(data, v, ps);
        let r = cards[v];
        let rows = table_rows(data, v, ps)?;
        let mut cpt = vec![vec![]; rows];
        let mut seen = c.rows().peekable();
        for (key, row) in cpt.iter_mut().enumerate() {
            let counts: Vec<f64> = match seen.peek() {
                Some(&(k, counts)) if k == key as u64 => {
                    seen.next();
                    counts.iter().map(|&x| x as f64).collect()
                }
                _ => vec![0.0; r],
            };
            *row = estimate(&counts, c.configs, estimator).ok_or_else(|| Error::Variable {
                name: data.names[v].clone(),
                message: format!(
                    "the parent configuration ({}) never occurs in the data; maximum likelihood has no estimate for it (use a prior or `unseen = uniform`)",
                    configuration(data, ps, key)
                ),
            })?;
        }
        specs.push(VariableSpec {
            name: data.names[v].clone(),
            states: data.states[v].clone(),
            parents: ps.iter().map(|&p| data.names[p].clone()).collect(),
            cpt,
        });
    }
    BayesianNetwork::new(&specs)
}

/// One row of a table from its counts (expected counts too), or `None` for an unseen row that
/// maximum likelihood refuses.
pub(crate) fn estimate(counts: &[f64], configs: f64, estimator: Estimator) -> Option<Vec<f64>> {
    let r = counts.len();
    let a = match estimator {
        Estimator::MaximumLikelihood { .. } => 0.0,
        Estimator::Bayesian(prior) => prior.pseudo_count(configs, r),
    };
    let total: f64 = counts.iter().map(|x| x + a).sum();
    if total > 0.0 {
        Some(counts.iter().map(|x| (x + a) / total).collect())
    } else if estimator == (Estimator::MaximumLikelihood { unseen: Unseen::Refuse }) {
        None
    } else {
        Some(vec![1.0 / r as f64; r])
    }
}

/// The number of rows of `v`'s table, refused past 2^28 entries.
pub(crate) fn table_rows(data: &DiscreteData, v: usize, parents: &[usize]) -> Result<usize> {
    let cards = data.cards();
    let entries = parents.iter().try_fold(cards[v], |n, &p| n.checked_mul(cards[p]));
    match entries {
        Some(e) if e <= crate::bayes::MAX_TABLE_ENTRIES => Ok(e / cards[v]),
        _ => Err(Error::Variable {
            name: data.names[v].clone(),
            message: format!(
                "its table would have more than {} entries ({} parents); bound the in-degree",
                crate::bayes::MAX_TABLE_ENTRIES,
                parents.len()
            ),
        }),
    }
}

/// Parent configuration `key` as `a = x, b = y`.
pub(crate) fn configuration(data: &DiscreteData, parents: &[usize], mut key: usize) -> String {
    let cards = data.cards();
    let mut parts = vec![];
    for &p in parents.iter().rev() {
        parts.push(format!("{} = {}", data.names[p], data.states[p][key % cards[p]]));
        key /= cards[p];
    }
    parts.reverse();
    parts.join(", ")
}

/// A structure over `data`'s variables: one parent list each, ids in range, no repeats; a
/// variable with fewer than two states is refused (a network variable needs two).
pub(crate) fn check_structure(data: &DiscreteData, parents: &[Vec<usize>]) -> Result<()> {
    let n = data.variables();
    if parents.len() != n {
        return Err(Error::Learn(format!("{} parent lists for {n} variables", parents.len())));
    }
    for (v, ps) in parents.iter().enumerate() {
        if data.states[v].len() < 2 {
            return Err(Error::Variable {
                name: data.names[v].clone(),
                message: format!(
                    "takes one value in the data (`{}`); a network variable needs two states",
                    data.states[v][0]
                ),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for &p in ps {
            if p >= n || p == v || !seen.insert(p) {
                return Err(Error::Variable {
                    name: data.names[v].clone(),
                    message: "a parent out of range, repeated, or itself".into(),
                });
            }
        }
    }
    Ok(())
}
