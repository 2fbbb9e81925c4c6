//! The compiled DAG and the forward phase (section 11.3.2, step 1).

use std::ops::Index;
use std::sync::Arc;

use cg_core::{DiGraph, LocalFunction, NodeId, Role};

use crate::{Error, Result};

/// The local function of a computed node and the nodes it reads, in argument order.
#[derive(Clone)]
pub struct NodeFunction {
    /// The node's function of its arguments.
    pub func: Arc<dyn LocalFunction>,
    /// The arguments, in the order the function takes them.
    pub args: Vec<NodeId>,
}

/// A number per node, indexed by [`NodeId`].
#[derive(Clone, Debug, PartialEq)]
pub struct PerNode(pub(crate) Vec<f64>);

impl PerNode {
    /// The numbers in node-id order.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }
}

impl Index<NodeId> for PerNode {
    type Output = f64;
    fn index(&self, id: NodeId) -> &f64 {
        &self.0[id.index()]
    }
}

/// A DAG compiled for differentiation: nodes in topological order, each computed node's argument
/// list in compressed rows (`args[arg_start[k]..arg_start[k + 1]]` for the k-th node in order), and
/// the reverse lists (children) for path enumeration. Edge `e` of the argument lists is also the
/// index of its local derivative in [`Tape`].
pub struct ScalarDag {
    order: Vec<NodeId>,
    /// Topological position of each node, by id.
    position: Vec<u32>,
    names: Vec<String>,
    roles: Vec<Role>,
    funcs: Vec<Option<Arc<dyn LocalFunction>>>,
    arg_start: Vec<u32>,
    /// Node-id indices of the arguments.
    args: Vec<u32>,
    /// Children by id: `children[child_start[i]..child_start[i + 1]]` holds `(child id, edge)`.
    child_start: Vec<u32>,
    children: Vec<(u32, u32)>,
}

/// One evaluation of a [`ScalarDag`]: a value per node (by id) and a local derivative z(i, j) per
/// edge. Set the sources with [`Tape::set`], then run [`ScalarDag::forward`].
#[derive(Clone, Debug)]
pub struct Tape {
    pub(crate) values: Vec<f64>,
    pub(crate) partials: Vec<f64>,
}

impl Tape {
    /// Sets the value of a node (meant for inputs and weights; computed nodes are overwritten by
    /// the next forward pass).
    pub fn set(&mut self, id: NodeId, value: f64) {
        self.values[id.index()] = value;
    }

    /// The value of a node.
    pub fn value(&self, id: NodeId) -> f64 {
        self.values[id.index()]
    }

    /// All values, by node id.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

impl ScalarDag {
    /// Compiles `graph`, whose computed nodes (roles hidden and output) get their functions from
    /// `functions[id.index()]`; inputs and weights must have `None` there.
    ///
    /// # Errors
    /// [`Error::Graph`] with the named cycle if the graph has one; [`Error::Structure`] if a
    /// computed node lacks a function, a source has one, or a function's arguments differ from
    /// the node's incoming edges.
    pub fn new(graph: &DiGraph, mut functions: Vec<Option<NodeFunction>>) -> Result<ScalarDag> {
        let n = graph.node_count();
        functions.resize(n, None);
        let order = graph.topological_order()?;
        let mut position = vec![0u32; n];
        for (k, id) in order.iter().enumerate() {
            position[id.index()] = k as u32;
        }
        let structure = |id: NodeId, message: String| Error::Structure { node: graph.node(id).name.clone(), message };
        let mut funcs = Vec::with_capacity(n);
        let mut arg_start = Vec::with_capacity(n + 1);
        let mut args = Vec::with_capacity(graph.edge_count());
        arg_start.push(0);
        for &id in &order {
            let node = graph.node(id);
            match (node.role.is_source(), functions[id.index()].take()) {
                (true, None) => {
                    if !graph.parents(id).is_empty() {
                        return Err(structure(id, format!("an {} has no incoming edges", node.role)));
                    }
                    funcs.push(None);
                }
                (true, Some(_)) => return Err(structure(id, format!("an {} cannot have a function", node.role))),
                (false, None) => return Err(structure(id, "a computed node needs a function".into())),
                (false, Some(nf)) => {
                    if nf.func.arity() != nf.args.len() {
                        return Err(structure(
                            id,
                            format!("function of arity {} given {} arguments", nf.func.arity(), nf.args.len()),
                        ));
                    }
                    let mut sorted = nf.args.clone();
                    sorted.sort_unstable();
                    sorted.dedup();
                    if sorted != graph.parents(id) {
                        return Err(structure(id, "function arguments differ from the incoming edges".into()));
                    }
                    args.extend(nf.args.iter().map(|a| a.index() as u32));
                    funcs.push(Some(nf.func));
                }
            }
            arg_start.push(args.len() as u32);
        }
        let (child_start, children) = child_lists(n, &order, &arg_start, &args);
        Ok(ScalarDag {
            names: graph.node_ids().map(|id| graph.node(id).name.clone()).collect(),
            roles: graph.node_ids().map(|id| graph.node(id).role).collect(),
            order,
            position,
            funcs,
            arg_start,
            args,
            child_start,
            children,
        })
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.order.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.args.len()
    }

    /// Node ids in topological order.
    pub fn order(&self) -> &[NodeId] {
        &self.order
    }

    /// The name of a node.
    pub fn name(&self, id: NodeId) -> &str {
        &self.names[id.index()]
    }

    /// The role of a node.
    pub fn role(&self, id: NodeId) -> Role {
        self.roles[id.index()]
    }

    /// The local function of a computed node (`None` for inputs and weights).
    pub fn function(&self, id: NodeId) -> Option<&dyn LocalFunction> {
        self.funcs[self.pos(id)].as_deref()
    }

    /// Inputs and weights, in topological order.
    pub fn sources(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.order.iter().copied().filter(|&id| self.role(id).is_source())
    }

    /// The nodes with role output, in topological order.
    pub fn outputs(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.order.iter().copied().filter(|&id| self.role(id) == Role::Output)
    }

    /// The arguments of a node with their local derivatives z(arg, node) from `tape`, in
    /// argument order. Empty for sources.
    pub fn local_partials<'a>(&'a self, tape: &'a Tape, id: NodeId) -> impl Iterator<Item = (NodeId, f64)> + 'a {
        self.edge_range(self.pos(id)).map(move |e| (self.id_at(self.args[e]), tape.partials[e]))
    }

    /// A tape with every value zero, sized for this DAG.
    pub fn tape(&self) -> Tape {
        Tape { values: vec![0.0; self.node_count()], partials: vec![0.0; self.edge_count()] }
    }

    /// The forward phase: computes every node in topological order from the sources set in
    /// `tape`, storing each value and each local derivative z(i, j).
    ///
    /// # Errors
    /// The first source, value or local derivative (in topological order) that is not finite:
    /// [`Error::NonFiniteSource`], [`Error::NonFiniteValue`] or [`Error::NonFinitePartial`], each
    /// naming the node, its expression and its input values.
    pub fn forward(&self, tape: &mut Tape) -> Result<()> {
        self.run_forward(tape, None, true)
    }

    /// Recomputes values only (no derivatives), keeping `fixed` (if any) at its value in `tape`
    /// as if it were a source: the evaluation behind finite differences of intermediate nodes.
    pub(crate) fn run_forward(&self, tape: &mut Tape, fixed: Option<NodeId>, with_partials: bool) -> Result<()> {
        let mut buf = Vec::new();
        let mut scratch = Vec::new();
        let Tape { values, partials } = tape;
        for (k, &id) in self.order.iter().enumerate() {
            let i = id.index();
            let Some(f) = &self.funcs[k] else {
                if !values[i].is_finite() {
                    return Err(Error::NonFiniteSource {
                        node: self.names[i].clone(),
                        role: self.roles[i],
                        value: values[i],
                    });
                }
                continue;
            };
            if fixed == Some(id) {
                continue;
            }
            let edges = self.edge_range(k);
            buf.clear();
            buf.extend(self.args[edges.clone()].iter().map(|&a| values[a as usize]));
            let v = if with_partials {
                f.eval_with_partials(&buf, &mut partials[edges.clone()], &mut scratch)
            } else {
                f.eval(&buf, &mut scratch)
            };
            values[i] = v;
            if !v.is_finite() {
                return Err(Error::NonFiniteValue {
                    node: self.names[i].clone(),
                    expr: f.describe(),
                    inputs: self.describe_inputs(values, k),
                    value: v,
                });
            }
            if with_partials {
                if let Some(e) = edges.clone().find(|&e| !partials[e].is_finite()) {
                    return Err(Error::NonFinitePartial {
                        node: self.names[i].clone(),
                        expr: f.describe(),
                        arg: self.names[self.args[e] as usize].clone(),
                        inputs: self.describe_inputs(values, k),
                        value: partials[e],
                    });
                }
            }
        }
        Ok(())
    }

    /// `a = 1, b = 2` for the arguments of the k-th node in order.
    pub(crate) fn describe_inputs(&self, values: &[f64], k: usize) -> String {
        let parts: Vec<String> = self.args[self.edge_range(k)]
            .iter()
            .map(|&a| format!("{} = {}", self.names[a as usize], values[a as usize]))
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    }

    pub(crate) fn pos(&self, id: NodeId) -> usize {
        self.position[id.index()] as usize
    }

    pub(crate) fn edge_range(&self, k: usize) -> std::ops::Range<usize> {
        self.arg_start[k] as usize..self.arg_start[k + 1] as usize
    }

    pub(crate) fn args(&self) -> &[u32] {
        &self.args
    }

    pub(crate) fn is_computed_at(&self, k: usize) -> bool {
        self.funcs[k].is_some()
    }

    /// `= expression` for a computed node, the role for a source.
    pub(crate) fn describe_at(&self, k: usize) -> String {
        self.funcs[k]
            .as_ref()
            .map_or_else(|| self.roles[self.order[k].index()].to_string(), |f| format!("= {}", f.describe()))
    }

    /// `(child id, edge)` pairs of a node.
    pub(crate) fn children_of(&self, id: NodeId) -> &[(u32, u32)] {
        &self.children[self.child_start[id.index()] as usize..self.child_start[id.index() + 1] as usize]
    }

    pub(crate) fn id_at(&self, index: u32) -> NodeId {
        NodeId::from_index(index as usize)
    }
}

/// Inverts the argument lists: for each node, the edges that leave it, in topological order of
/// their heads (counting sort, O(n + m)).
fn child_lists(n: usize, order: &[NodeId], arg_start: &[u32], args: &[u32]) -> (Vec<u32>, Vec<(u32, u32)>) {
    let mut start = vec![0u32; n + 1];
    for &a in args {
        start[a as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut children = vec![(0, 0); args.len()];
    for (k, id) in order.iter().enumerate() {
        for e in arg_start[k] as usize..arg_start[k + 1] as usize {
            let a = args[e] as usize;
            children[fill[a] as usize] = (id.index() as u32, e as u32);
            fill[a] += 1;
        }
    }
    (start, children)
}
