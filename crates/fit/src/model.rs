//! The undirected graph of node constraints and the DAG that computes their summed squared
//! violation.

use std::collections::HashSet;
use std::sync::Arc;

use cg_autodiff::{NodeFunction, ScalarDag, Tape};
use cg_core::{EdgeWeight, LocalFunction, NodeId, Role, UnGraph, Variable};
use cg_expr::build_graph;

use crate::{Error, Result};

/// Names the violation DAG adds for its own nodes start with this; user names may not.
const RESERVED_PREFIX: &str = "__";

/// An undirected computational graph: computational nodes with functions of their neighbours,
/// fixed nodes with observed values.
pub struct UndirectedModel {
    /// Variables as nodes (computational ones first, in the given order, then fixed ones), one
    /// edge between a node and each name its function uses.
    pub graph: UnGraph,
    names: Vec<String>,
    expressions: Vec<Option<String>>,
    fixed: Vec<Option<f64>>,
    dag: ScalarDag,
    /// Violation-DAG ids of the variables, of each squared violation, and of the loss.
    var_ids: Vec<NodeId>,
    square_ids: Vec<Option<NodeId>>,
    loss_id: NodeId,
}

impl UndirectedModel {
    /// `functions`: (node, expression of its neighbours); `fixed`: (node, observed value).
    ///
    /// # Errors
    /// A syntax error, a name used but not defined, a node both fixed and computed, a function
    /// that uses its own node (an undirected graph has no self-loops), or a non-finite fixed value.
    pub fn new(functions: &[(String, String)], fixed: &[(String, f64)]) -> Result<UndirectedModel> {
        let node_err = |node: &str, message: String| Error::Node { node: node.to_string(), message };
        let mut names: Vec<String> = functions.iter().map(|(n, _)| n.clone()).collect();
        let computed: HashSet<&str> = functions.iter().map(|(n, _)| n.as_str()).collect();
        for (name, value) in fixed {
            if computed.contains(name.as_str()) {
                return Err(node_err(name, "is both fixed and computed; give it a value or a function".into()));
            }
            if !value.is_finite() {
                return Err(node_err(name, format!("fixed value {value} is not finite")));
            }
            names.push(name.clone());
        }
        if let Some(bad) = names.iter().find(|n| n.starts_with(RESERVED_PREFIX)) {
            return Err(node_err(bad, format!("names starting with `{RESERVED_PREFIX}` are reserved")));
        }
        let mut expressions = vec![None; names.len()];
        let mut fixed_values = vec![None; names.len()];
        for (k, (_, e)) in functions.iter().enumerate() {
            expressions[k] = Some(e.clone());
        }
        for (k, (_, v)) in fixed.iter().enumerate() {
            fixed_values[functions.len() + k] = Some(*v);
        }

        // The violation DAG: variables are sources; each computational node v adds
        // __fit_v = f_v(...) and __sq_v = (v - __fit_v)², and __loss sums the squares.
        let sources: Vec<(&str, Role)> = names
            .iter()
            .zip(&fixed_values)
            .map(|(n, f)| (n.as_str(), if f.is_some() { Role::Input } else { Role::Weight }))
            .collect();
        let fit: Vec<String> = functions.iter().map(|(n, _)| format!("__fit_{n}")).collect();
        let sq: Vec<String> = functions.iter().map(|(n, _)| format!("__sq_{n}")).collect();
        let sq_exprs: Vec<String> =
            functions.iter().zip(&fit).map(|((n, _), f)| format!("({n} - {f}) * ({n} - {f})")).collect();
        let loss_expr = if sq.is_empty() { "0".to_string() } else { sq.join(" + ") };
        let mut nodes: Vec<(&str, &str, Role)> = vec![];
        for (k, (_, e)) in functions.iter().enumerate() {
            nodes.push((&fit[k], e, Role::Hidden));
            nodes.push((&sq[k], &sq_exprs[k], Role::Hidden));
        }
        nodes.push(("__loss", &loss_expr, Role::Output));
        let eg = build_graph(&sources, &nodes).map_err(|e| match e {
            // Report a node's function by the node, not by the DAG node that evaluates it.
            cg_expr::GraphError::UnknownName { node, name } => node_err(
                node.trim_start_matches("__fit_"),
                format!("uses `{name}`, which is neither a computational nor a fixed node"),
            ),
            cg_expr::GraphError::Parse { node, error } => {
                node_err(node.trim_start_matches("__fit_"), error.to_string())
            }
            other => other.into(),
        })?;

        // A fixed node no function uses is most likely a misspelt name.
        for (name, _) in fixed {
            let used = functions.iter().enumerate().any(|(k, _)| {
                eg.graph
                    .id(&fit[k])
                    .ok()
                    .and_then(|id| eg.functions[id.index()].as_ref())
                    .is_some_and(|(e, _)| e.vars().iter().any(|v| v == name))
            });
            if !used {
                return Err(node_err(name, "is fixed but no function uses it (a misspelt name?)".into()));
            }
        }

        // The undirected graph of the model itself, and the no-self-loop rule.
        let mut graph = UnGraph::new();
        let ids: Vec<NodeId> =
            names.iter().map(|n| graph.add_node(n, Role::Hidden, Variable::SCALAR)).collect::<Result<_, _>>()?;
        for (k, (name, _)) in functions.iter().enumerate() {
            let fit_id = eg.graph.id(&fit[k])?;
            let (expr, _) = eg.functions[fit_id.index()].as_ref().expect("internal: computed node");
            for var in expr.vars() {
                if var == name {
                    return Err(node_err(
                        name,
                        "its function uses the node itself; an undirected graph has no self-loops".into(),
                    ));
                }
                let j = names.iter().position(|n| n == var).expect("internal: build_graph checked the name");
                if graph.edge(ids[k], ids[j]).is_none() {
                    graph.add_edge(ids[k], ids[j], EdgeWeight::None)?;
                }
            }
        }

        let var_ids = names.iter().map(|n| eg.graph.id(n)).collect::<Result<Vec<_>, _>>()?;
        let mut square_ids = vec![None; names.len()];
        for (k, s) in sq.iter().enumerate() {
            square_ids[k] = Some(eg.graph.id(s)?);
        }
        let loss_id = eg.graph.id("__loss")?;
        let funcs = eg
            .functions
            .into_iter()
            .map(|f| f.map(|(func, args)| NodeFunction { func: func as Arc<dyn LocalFunction>, args }))
            .collect();
        let dag = ScalarDag::new(&eg.graph, funcs)?;
        Ok(UndirectedModel { graph, names, expressions, fixed: fixed_values, dag, var_ids, square_ids, loss_id })
    }

    /// Variable names: computational nodes first, then fixed ones.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The function of node `k`, or `None` for a fixed node.
    pub fn expression(&self, k: usize) -> Option<&str> {
        self.expressions[k].as_deref()
    }

    /// The observed value of node `k`, or `None` for a computational node.
    pub fn fixed(&self, k: usize) -> Option<f64> {
        self.fixed[k]
    }

    /// Number of computational (free) nodes.
    pub fn free_count(&self) -> usize {
        self.fixed.iter().filter(|f| f.is_none()).count()
    }

    /// A tape of the violation DAG with `values` (one per variable; fixed ones are overwritten by
    /// their observed values) run forwards.
    fn evaluate(&self, values: &[f64]) -> Result<Tape> {
        let mut tape = self.dag.tape();
        for (k, &id) in self.var_ids.iter().enumerate() {
            tape.set(id, self.fixed[k].unwrap_or(values[k]));
        }
        self.dag.forward(&mut tape).map_err(|e| match e {
            // Name the user's node, not the DAG node that evaluates its function.
            cg_autodiff::Error::NonFiniteValue { node, expr, inputs, value } if node.starts_with("__") => Error::Node {
                node: node.trim_start_matches("__fit_").trim_start_matches("__sq_").to_string(),
                message: format!("its function {expr} is {value} at {inputs}"),
            },
            other => other.into(),
        })?;
        Ok(tape)
    }

    /// L at `values`.
    ///
    /// # Errors
    /// A function that is not finite at `values`, named with its node.
    pub fn loss(&self, values: &[f64]) -> Result<f64> {
        Ok(self.evaluate(values)?.value(self.loss_id))
    }

    /// L and dL/dx for every variable (0 for fixed ones), by reverse mode.
    ///
    /// # Errors
    /// As [`UndirectedModel::loss`], or a gradient that overflows.
    pub fn loss_and_gradient(&self, values: &[f64]) -> Result<(f64, Vec<f64>)> {
        let tape = self.evaluate(values)?;
        let delta = self.dag.reverse(&tape, &[(self.loss_id, 1.0)])?;
        let grad = self
            .var_ids
            .iter()
            .enumerate()
            .map(|(k, &id)| if self.fixed[k].is_some() { 0.0 } else { delta[id] })
            .collect();
        Ok((tape.value(self.loss_id), grad))
    }

    /// Each computational node's violation x_i - f_i(neighbours) at `values` (`None` for fixed
    /// nodes).
    ///
    /// # Errors
    /// As [`UndirectedModel::loss`].
    pub fn violations(&self, values: &[f64]) -> Result<Vec<Option<f64>>> {
        let tape = self.evaluate(values)?;
        Ok(self
            .square_ids
            .iter()
            .enumerate()
            .map(|(k, s)| {
                s.map(|_| {
                    let fit = self.dag_value(&tape, &format!("__fit_{}", self.names[k]));
                    values[k] - fit
                })
            })
            .collect())
    }

    fn dag_value(&self, tape: &Tape, name: &str) -> f64 {
        let id = (0..self.dag.node_count())
            .map(NodeId::from_index)
            .find(|&id| self.dag.name(id) == name)
            .expect("internal: the DAG names every fit node");
        tape.value(id)
    }
}
