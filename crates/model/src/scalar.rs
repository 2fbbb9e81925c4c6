//! Scalar computational graphs written as named expressions (the chapter's Figures 11.1 to
//! 11.10): compiled into a [`ScalarDag`] with its inputs, weights, outputs and loss, and, on
//! request, trained: the loss minimised over the weights by `cg_optim::Descent`.

use std::sync::Arc;

use cg_autodiff::{NodeFunction, ScalarDag, Tape};
use cg_core::{run, Differentiable, LocalFunction, NodeId, Recorder, Role, Stop};
use cg_expr::{build_graph, Expr, GraphError};
use cg_optim::{Descent, OptimizerParams};
use indexmap::IndexMap;
use rand::SeedableRng;
use serde::Deserialize;

use crate::{Error, Result};

/// `[graph]` as written in a config.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScalarGraphConfig {
    /// Input nodes and their fixed values.
    #[serde(default)]
    pub inputs: IndexMap<String, f64>,
    /// Weight nodes (learnable parameters) and their values.
    #[serde(default)]
    pub weights: IndexMap<String, f64>,
    /// Output nodes.
    pub outputs: Vec<String>,
    /// Loss as an expression over the outputs; without it, derivatives are of the single output.
    pub loss: Option<String>,
    /// Largest number of paths the pathwise algorithm may enumerate per (source, output) pair.
    #[serde(default = "default_path_limit")]
    pub path_limit: u64,
    /// Relative step of the finite-difference check (h = step · max(1, |y|)).
    #[serde(default = "default_fd_step")]
    pub finite_difference_step: f64,
    /// Computed nodes: name = expression of other names, in any order.
    pub nodes: IndexMap<String, String>,
}

fn default_path_limit() -> u64 {
    100_000
}

fn default_fd_step() -> f64 {
    1e-3
}

/// A compiled scalar graph.
pub struct ScalarModel {
    /// The compiled graph.
    pub dag: ScalarDag,
    /// Every node id in config order: inputs, weights, then nodes.
    pub ids: Vec<NodeId>,
    /// The inputs' and weights' configured values.
    pub source_values: Vec<(NodeId, f64)>,
    /// The output nodes.
    pub outputs: Vec<NodeId>,
    /// The loss expression and the output nodes it reads, in its variables' order.
    pub loss: Option<(Expr, Vec<NodeId>)>,
    /// The most paths the pathwise reference may sum.
    pub path_limit: u64,
    /// The finite-difference step of the derivative check.
    pub fd_step: f64,
}

fn message(text: String) -> Error {
    Error::Message(text)
}

impl ScalarGraphConfig {
    /// Checks every field and compiles the graph.
    ///
    /// # Errors
    /// One line naming the field or node: a non-finite value, a bad name, a syntax error (with
    /// column), an unknown name, a cycle, an output that is not a node, a loss over non-outputs.
    pub fn build(self) -> Result<ScalarModel> {
        for (table, values) in [("inputs", &self.inputs), ("weights", &self.weights)] {
            for (name, v) in values {
                if !v.is_finite() {
                    return Err(message(format!("[graph.{table}] {name}: {v} is not a finite number")));
                }
            }
        }
        if self.nodes.is_empty() {
            return Err(message("[graph.nodes]: no nodes; define at least one computed node".into()));
        }
        if self.outputs.is_empty() {
            return Err(message("[graph] outputs: empty; name at least one node".into()));
        }
        if !(self.finite_difference_step > 0.0 && self.finite_difference_step <= 0.1) {
            let step = self.finite_difference_step;
            return Err(message(format!("[graph] finite_difference_step = {step} is out of range (0, 0.1]")));
        }
        if let Some(out) = self.outputs.iter().find(|o| !self.nodes.contains_key(*o)) {
            return Err(message(format!("[graph] outputs: `{out}` is not a node of [graph.nodes]")));
        }
        let sources: Vec<(&str, Role)> = self
            .inputs
            .keys()
            .map(|n| (n.as_str(), Role::Input))
            .chain(self.weights.keys().map(|n| (n.as_str(), Role::Weight)))
            .collect();
        let nodes: Vec<(&str, &str, Role)> = self
            .nodes
            .iter()
            .map(|(n, e)| {
                let role = if self.outputs.contains(n) { Role::Output } else { Role::Hidden };
                (n.as_str(), e.as_str(), role)
            })
            .collect();
        let eg = build_graph(&sources, &nodes).map_err(|e| match e {
            GraphError::Parse { node, error } => message(format!("[graph.nodes] {node}: {error}")),
            GraphError::UnknownName { node, name } => {
                message(format!("[graph.nodes] {node}: uses `{name}`, which is not an input, weight or node"))
            }
            other => message(format!("[graph] {other}")),
        })?;
        let core = |e: cg_core::Error| message(e.to_string());
        let ids: Vec<NodeId> = eg.graph.node_ids().collect();
        let outputs = self.outputs.iter().map(|o| eg.graph.id(o)).collect::<Result<Vec<_>, _>>().map_err(core)?;
        let loss = match &self.loss {
            Some(src) => {
                let expr = Expr::parse(src).map_err(|e| message(format!("[graph] loss: {e}")))?;
                let mut args = vec![];
                for var in expr.vars() {
                    if !self.outputs.contains(var) {
                        return Err(message(format!("[graph] loss: uses `{var}`, which is not an output")));
                    }
                    args.push(eg.graph.id(var).map_err(core)?);
                }
                Some((expr, args))
            }
            None if outputs.len() > 1 => {
                return Err(message(
                    "[graph] loss: needed when there are several outputs (derivatives are of one number)".into(),
                ))
            }
            None => None,
        };
        let functions = eg
            .functions
            .into_iter()
            .map(|f| f.map(|(func, args)| NodeFunction { func: func as Arc<dyn LocalFunction>, args }))
            .collect();
        let dag = ScalarDag::new(&eg.graph, functions).map_err(|e| message(format!("[graph.nodes] {e}")))?;
        let source_values =
            self.inputs.values().chain(self.weights.values()).enumerate().map(|(k, &v)| (ids[k], v)).collect();
        Ok(ScalarModel {
            dag,
            ids,
            source_values,
            outputs,
            loss,
            path_limit: self.path_limit,
            fd_step: self.finite_difference_step,
        })
    }
}

/// The result of [`ScalarModel::minimise`].
#[derive(Clone, Debug, PartialEq)]
pub struct Minimised {
    /// Steps taken.
    pub steps: usize,
    /// Why the run ended.
    pub stop: Stop,
    /// The loss where each step started.
    pub loss_curve: Vec<f64>,
    /// The loss at the end.
    pub final_loss: f64,
    /// The gradient norm at the end.
    pub final_gradient_norm: f64,
    /// The weights at the end, by name.
    pub final_weights: Vec<(String, f64)>,
}

impl ScalarModel {
    /// The loss (or the single output) of an evaluated tape, with ∂L/∂y(t) for each output.
    pub fn objective(&self, tape: &Tape) -> (f64, Vec<(NodeId, f64)>) {
        match &self.loss {
            Some((expr, args)) => {
                let vals: Vec<f64> = args.iter().map(|&a| tape.value(a)).collect();
                let mut partials = vec![0.0; args.len()];
                let l = expr.eval_with_partials(&vals, &mut partials, &mut Vec::new());
                (l, args.iter().copied().zip(partials).collect())
            }
            None => (tape.value(self.outputs[0]), vec![(self.outputs[0], 1.0)]),
        }
    }

    /// A tape holding the configured input and weight values.
    pub fn tape(&self) -> Tape {
        let mut tape = self.dag.tape();
        for &(id, v) in &self.source_values {
            tape.set(id, v);
        }
        tape
    }

    /// Minimises the loss over the weights from their configured values: `steps` steps of
    /// `optimizer` (`cg_optim::Descent` driven by `cg_core::run`).
    ///
    /// # Errors
    /// A loss or derivative that cannot be evaluated, or a divergence, naming the step.
    pub fn minimise(&self, optimizer: OptimizerParams, steps: usize) -> Result<Minimised> {
        let (weights, start): (Vec<NodeId>, Vec<f64>) =
            self.source_values.iter().filter(|(id, _)| self.dag.role(*id) == Role::Weight).copied().unzip();
        let objective = WeightObjective { model: self, weights: weights.clone(), tape: self.tape() };
        let mut descent = Descent::new(objective, optimizer);
        let mut state = descent.start(start);
        let mut recorder = Recorder::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let out =
            run(&mut descent, &mut state, steps, &mut rng, &mut [&mut recorder]).map_err(|e| message(e.to_string()))?;
        if let Stop::Diverged { what } = &out.stop {
            return Err(message(format!("[optimize] diverged: {what}")));
        }
        let mut grad = vec![0.0; weights.len()];
        let final_loss =
            descent.f.value_and_gradient(&state.x, &mut grad).map_err(|e| message(format!("[optimize] {e}")))?;
        Ok(Minimised {
            steps: out.steps,
            stop: out.stop,
            loss_curve: recorder.records.iter().map(|r| r.value).collect(),
            final_loss,
            final_gradient_norm: grad.iter().map(|g| g * g).sum::<f64>().sqrt(),
            final_weights: weights.iter().zip(&state.x).map(|(&id, &v)| (self.dag.name(id).to_string(), v)).collect(),
        })
    }
}

/// The loss of a graph as a function of its weights, for the optimiser.
struct WeightObjective<'a> {
    model: &'a ScalarModel,
    weights: Vec<NodeId>,
    tape: Tape,
}

impl Differentiable for WeightObjective<'_> {
    type Error = cg_autodiff::Error;

    fn dimension(&self) -> usize {
        self.weights.len()
    }

    fn value_and_gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, cg_autodiff::Error> {
        for (&id, &v) in self.weights.iter().zip(x) {
            self.tape.set(id, v);
        }
        self.model.dag.forward(&mut self.tape)?;
        let (loss, seeds) = self.model.objective(&self.tape);
        let g = self.model.dag.reverse(&self.tape, &seeds)?;
        for (slot, &id) in grad.iter_mut().zip(&self.weights) {
            *slot = g[id];
        }
        Ok(loss)
    }
}
