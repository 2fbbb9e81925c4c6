//! Discrete Markov networks: variables with named states and non-negative factors over them;
//! a Bayesian network is one too, with its conditional probability tables as the factors.

use cg_core::UnGraph;
use serde::Deserialize;

use crate::{markov_graph, state_id, variable_id, BayesianNetwork, Error, Factor, Result};

/// A variable of a Markov network as written in a config.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatesSpec {
    /// The variable's name.
    pub name: String,
    /// Its states' names, in order.
    pub states: Vec<String>,
}

/// A factor as written in a config: non-negative values over `variables`, row-major with the
/// last variable varying fastest.
#[derive(Clone, Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactorSpec {
    /// The factor's scope, by name.
    pub variables: Vec<String>,
    /// Non-negative values, row-major with the last variable varying fastest.
    pub values: Vec<f64>,
}

/// A checked Markov network: variables in the given order (ids 0, 1, ...), the factors, and the
/// undirected graph with an edge between every two variables that share a factor.
#[derive(Clone, Debug)]
pub struct MarkovNetwork {
    /// Variable names.
    pub names: Vec<String>,
    /// Each variable's state names.
    pub states: Vec<Vec<String>>,
    /// Each variable's number of states.
    pub cards: Vec<usize>,
    /// The factors.
    pub factors: Vec<Factor>,
    /// The undirected graph.
    pub graph: UnGraph,
}

/// The largest joint table [`MarkovNetwork::partition_function`] builds.
const JOINT_LIMIT: usize = 1 << 20;

/// The largest table (entries) variable elimination may build for the partition function.
pub const ELIMINATION_LIMIT: usize = 1 << 26;

impl MarkovNetwork {
    /// A network from named variables and factors over them.
    ///
    /// ```
    /// use cg_pgm::{FactorSpec, MarkovNetwork, StatesSpec};
    /// let v = |name: &str| StatesSpec { name: name.into(), states: vec!["0".into(), "1".into()] };
    /// let agree = FactorSpec { variables: vec!["a".into(), "b".into()], values: vec![2.0, 1.0, 1.0, 2.0] };
    /// let net = MarkovNetwork::new(&[v("a"), v("b")], &[agree]).unwrap();
    /// assert_eq!(net.partition_function(), Some(6.0));
    /// ```
    ///
    /// # Errors
    /// A variable with fewer than two states ([`Error::Variable`]), a factor over an unknown
    /// variable or with a table of the wrong size or a negative entry ([`Error::Factor`], which
    /// counts factors from 1), or a repeated variable name.
    pub fn new(variables: &[StatesSpec], factors: &[FactorSpec]) -> Result<MarkovNetwork> {
        if let Some(v) = variables.iter().find(|v| v.states.len() < 2) {
            return Err(Error::Variable { name: v.name.clone(), message: "needs two or more states".into() });
        }
        for v in variables {
            if let Some(dup) = crate::repeated(&v.states) {
                return Err(Error::Variable {
                    name: v.name.clone(),
                    message: format!("state `{dup}` is listed twice"),
                });
            }
        }
        let names: Vec<String> = variables.iter().map(|v| v.name.clone()).collect();
        let states: Vec<Vec<String>> = variables.iter().map(|v| v.states.clone()).collect();
        let cards: Vec<usize> = states.iter().map(Vec::len).collect();
        let index: std::collections::HashMap<&str, usize> =
            names.iter().enumerate().map(|(k, n)| (n.as_str(), k)).collect();
        let tables = factors
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let at = |message: String| Error::Factor { index: k + 1, message };
                let ids = f
                    .variables
                    .iter()
                    .map(|n| index.get(n.as_str()).copied().ok_or_else(|| at(format!("no variable `{n}`"))))
                    .collect::<Result<Vec<_>>>()?;
                let fc: Vec<usize> = ids.iter().map(|&v| cards[v]).collect();
                if f.values.iter().all(|&v| v == 0.0) {
                    return Err(at("every entry is zero: the network would give every state probability zero".into()));
                }
                Factor::new(&ids, &fc, f.values.clone()).map_err(|e| at(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let graph = markov_graph(&names, &cards, &tables)?;
        Ok(MarkovNetwork { names, states, cards, factors: tables, graph })
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

    /// Z = Σ over all assignments of the product of the factors: from the joint table while
    /// it has at most 2^20 entries (the plain sum), by variable elimination above that; `None`
    /// when elimination's largest table would exceed [`ELIMINATION_LIMIT`] entries. Infinite
    /// when Z is beyond f64 (see [`MarkovNetwork::log_partition_function`]).
    pub fn partition_function(&self) -> Option<f64> {
        self.partition_functions().map(|(z, _)| z)
    }

    /// log Z, computed with rescaling (so it is finite where Z itself would overflow); `None`
    /// as for [`MarkovNetwork::partition_function`].
    pub fn log_partition_function(&self) -> Option<f64> {
        self.partition_functions().map(|(_, log_z)| log_z)
    }

    /// (Z, log Z) from one computation, for a caller that wants both.
    pub fn partition_functions(&self) -> Option<(f64, f64)> {
        let (z, log_scale) = self.scaled_partition()?;
        // Exactly the sum of the joint table whenever no rescaling was needed.
        let plain = if log_scale == 0.0 { z } else { (log_scale + z.ln()).exp() };
        Some((plain, log_scale + z.ln()))
    }

    /// Z = exp(log_scale) × the returned sum.
    fn scaled_partition(&self) -> Option<(f64, f64)> {
        if self.cards.iter().try_fold(1usize, |n, &c| n.checked_mul(c)).is_some_and(|n| n <= JOINT_LIMIT) {
            let (mut joint, log_scale) = crate::factor::scaled_product(&self.factors);
            return Some((joint.normalize(), log_scale));
        }
        if crate::elimination_table_size(&self.factors, &self.cards, &[], &[]) > ELIMINATION_LIMIT as f64 {
            return None;
        }
        Some((1.0, crate::factor::log_partition_by_elimination(&self.factors, &self.cards)))
    }
}

impl From<BayesianNetwork> for MarkovNetwork {
    /// The conditional probability tables as factors (Z = 1) on the moral graph: each variable
    /// joined to its parents and the parents to each other.
    fn from(bn: BayesianNetwork) -> MarkovNetwork {
        let graph = markov_graph(&bn.names, &bn.cards, &bn.factors)
            .expect("internal: a Bayesian network has distinct names and factors over its variables");
        MarkovNetwork { names: bn.names, states: bn.states, cards: bn.cards, factors: bn.factors, graph }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VariableSpec;

    fn binary(name: &str) -> StatesSpec {
        StatesSpec { name: name.into(), states: vec!["0".into(), "1".into()] }
    }

    #[test]
    fn partition_function_of_a_small_chain_by_hand() {
        // φ(a, b) = [1, 2, 3, 4], φ(b, c) = [5, 6, 7, 8]:
        // Z = Σ_b (Σ_a φ(a, b)) (Σ_c φ(b, c)) = (1 + 3)(5 + 6) + (2 + 4)(7 + 8) = 44 + 90 = 134.
        let vars = [binary("a"), binary("b"), binary("c")];
        let factors = [
            FactorSpec { variables: vec!["a".into(), "b".into()], values: vec![1.0, 2.0, 3.0, 4.0] },
            FactorSpec { variables: vec!["b".into(), "c".into()], values: vec![5.0, 6.0, 7.0, 8.0] },
        ];
        let net = MarkovNetwork::new(&vars, &factors).unwrap();
        assert_eq!(net.partition_function(), Some(134.0));
        assert_eq!(net.graph.edge_count(), 2, "a-b and b-c, no a-c");
        assert_eq!((net.id("c").unwrap(), net.state(2, "1").unwrap()), (2, 1));
    }

    #[test]
    fn factors_beyond_f64_give_the_same_answers_as_their_ratios() {
        // The chain above with φ(b, c) scaled by 1e300 and φ(a, b) by 1e200: the distribution
        // is the same, log Z grows by the logarithms of the scales, and Z itself overflows.
        let vars = [binary("a"), binary("b"), binary("c")];
        let scaled = |k1: f64, k2: f64| {
            let factors = [
                FactorSpec { variables: vec!["a".into(), "b".into()], values: vec![k1, 2.0 * k1, 3.0 * k1, 4.0 * k1] },
                FactorSpec {
                    variables: vec!["b".into(), "c".into()],
                    values: vec![5.0 * k2, 6.0 * k2, 7.0 * k2, 8.0 * k2],
                },
            ];
            MarkovNetwork::new(&vars, &factors).unwrap()
        };
        let (plain, huge) = (scaled(1.0, 1.0), scaled(1e200, 1e300));
        let expected = 134f64.ln() + 1e200f64.ln() + 1e300f64.ln();
        let got = huge.log_partition_function().unwrap();
        assert!((got - expected).abs() < 1e-12 * expected, "{got} vs {expected}");
        assert_eq!(huge.partition_function(), Some(f64::INFINITY));
        for (query, evidence) in [(vec![0], vec![]), (vec![2], vec![(0, 1)]), (vec![0, 2], vec![])] {
            let a = crate::variable_elimination(&plain.factors, &plain.cards, &query, &evidence).unwrap();
            let b = crate::variable_elimination(&huge.factors, &huge.cards, &query, &evidence).unwrap();
            for (x, y) in a.values.iter().zip(&b.values) {
                assert!((x - y).abs() < 1e-15, "{query:?} | {evidence:?}: {x} vs {y}");
            }
        }
    }

    #[test]
    fn bad_networks_are_refused_with_the_place_named() {
        let f = |variables: &[&str], values: &[f64]| FactorSpec {
            variables: variables.iter().map(|s| s.to_string()).collect(),
            values: values.to_vec(),
        };
        let one_state = StatesSpec { name: "x".into(), states: vec!["only".into()] };
        assert_eq!(
            MarkovNetwork::new(&[one_state], &[]).unwrap_err().to_string(),
            "variable `x`: needs two or more states"
        );
        let vars = [binary("a")];
        assert_eq!(
            MarkovNetwork::new(&vars, &[f(&["a"], &[1.0, 1.0]), f(&["z"], &[1.0])]).unwrap_err().to_string(),
            "factor 2: no variable `z`"
        );
        assert!(matches!(
            MarkovNetwork::new(&vars, &[f(&["a"], &[1.0, 2.0, 3.0])]),
            Err(Error::Factor { index: 1, .. })
        ));
        assert!(MarkovNetwork::new(&[binary("a"), binary("a")], &[]).is_err(), "repeated name");
    }

    #[test]
    fn a_bayesian_network_becomes_its_moral_graph_with_z_one() {
        // a -> c <- b: moralising marries the parents a and b.
        let spec = |name: &str, parents: &[&str], cpt: Vec<Vec<f64>>| VariableSpec {
            name: name.into(),
            states: vec!["f".into(), "t".into()],
            parents: parents.iter().map(|s| s.to_string()).collect(),
            cpt,
        };
        let bn = BayesianNetwork::new(&[
            spec("a", &[], vec![vec![0.3, 0.7]]),
            spec("b", &[], vec![vec![0.6, 0.4]]),
            spec("c", &["a", "b"], vec![vec![0.9, 0.1], vec![0.5, 0.5], vec![0.2, 0.8], vec![0.1, 0.9]]),
        ])
        .unwrap();
        let net = MarkovNetwork::from(bn);
        assert_eq!(net.graph.edge_count(), 3);
        assert!((net.partition_function().unwrap() - 1.0).abs() < 1e-15);
    }
}
