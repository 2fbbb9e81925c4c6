//! Vector-centric computational graphs (section 11.3.6 and 11.4.2): every node holds a matrix
//! (features × batch), every computed node applies a [`VectorOp`], and backpropagation carries
//! Δ(i) = Σ_{j ∈ A(i)} Jacobian(y(j), y(i))ᵀ Δ(j), gradients from several children adding up, so
//! branches and skip connections (Figure 11.13b) need nothing special.
//!
//! Parameters (weight matrices and biases) are source nodes with role [`Role::Weight`], as in the
//! scalar engine; their Δ is the loss-to-weight derivative, the chapter's M = g zᵀ.

mod gemm;
mod loss;
mod ops;

use std::sync::Arc;

use cg_core::{DiGraph, EdgeWeight, NodeId, Role, Shape, Variable};

pub use loss::Loss;
pub use ops::{Activation, Add, Concat, Linear, Max, Mul, Softmax, VectorOp};

use nalgebra::DMatrix;

/// A node value: features × batch.
pub type Mat<T = f64> = DMatrix<T>;

/// The scalar of a vector graph: f64 (default, for exactness) or f32 (half the memory traffic and
/// twice the SIMD width, for speed).
pub trait Real: nalgebra::RealField + Copy {
    /// Rounds from f64.
    fn cast(x: f64) -> Self;
    /// Widens to f64.
    fn as_f64(self) -> f64;
    /// op(a) · op(b), where op transposes when asked (faer's GEMM, see `gemm`).
    fn product(a: &Mat<Self>, transpose_a: bool, b: &Mat<Self>, transpose_b: bool) -> Mat<Self>;
}

impl Real for f64 {
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn product(a: &Mat<Self>, ta: bool, b: &Mat<Self>, tb: bool) -> Mat<Self> {
        gemm::product(a, ta, b, tb)
    }
}

impl Real for f32 {
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn product(a: &Mat<Self>, ta: bool, b: &Mat<Self>, tb: bool) -> Mat<Self> {
        gemm::product(a, ta, b, tb)
    }
}

use crate::{Error, Result};

/// The operation of a computed node and its arguments, in order.
type NodeOp<T> = (Arc<dyn VectorOp<T>>, Vec<NodeId>);

/// Builds a [`VectorDag`] node by node; arguments must exist before the node that uses them.
pub struct VectorDagBuilder<T: Real = f64> {
    graph: DiGraph,
    ops: Vec<Option<NodeOp<T>>>,
}

impl<T: Real> Default for VectorDagBuilder<T> {
    fn default() -> Self {
        Self { graph: DiGraph::new(), ops: vec![] }
    }
}

impl<T: Real> VectorDagBuilder<T> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    fn add(&mut self, name: &str, role: Role) -> Result<NodeId> {
        let id = self.graph.add_node(name, role, Variable::Continuous(Shape::Matrix(0, 0)))?;
        self.ops.push(None);
        Ok(id)
    }

    /// A data node (inputs or targets), set on the tape before each forward pass.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn input(&mut self, name: &str) -> Result<NodeId> {
        self.add(name, Role::Input)
    }

    /// A learnable parameter node.
    ///
    /// # Errors
    /// A duplicate name.
    pub fn param(&mut self, name: &str) -> Result<NodeId> {
        self.add(name, Role::Weight)
    }

    /// A computed node applying `op` to `args` (in order; a node may appear once per call).
    ///
    /// # Errors
    /// A duplicate name, a wrong number of arguments, or an argument used twice.
    pub fn op(&mut self, name: &str, op: Arc<dyn VectorOp<T>>, args: &[NodeId], output: bool) -> Result<NodeId> {
        op.check_arity(args.len()).map_err(|message| Error::Structure {
            node: name.to_string(),
            message: format!("{} {message}", op.name()),
        })?;
        let id = self.add(name, if output { Role::Output } else { Role::Hidden })?;
        for &a in args {
            self.graph.add_edge(a, id, EdgeWeight::None).map_err(|_| Error::Structure {
                node: name.to_string(),
                message: format!("uses `{}` twice", self.graph.node(a).name),
            })?;
        }
        self.ops[id.index()] = Some((op, args.to_vec()));
        Ok(id)
    }

    /// Orders the graph for evaluation.
    ///
    /// # Errors
    /// A cycle (impossible through this builder, checked all the same).
    pub fn build(self) -> Result<VectorDag<T>> {
        let order = self.graph.topological_order()?;
        Ok(VectorDag { graph: self.graph, order, ops: self.ops })
    }
}

/// A vector DAG ready to evaluate and differentiate.
pub struct VectorDag<T: Real = f64> {
    graph: DiGraph,
    order: Vec<NodeId>,
    ops: Vec<Option<NodeOp<T>>>,
}

/// Node values of one evaluation, by node id.
#[derive(Clone, Debug)]
pub struct VectorTape<T: Real = f64> {
    values: Vec<Option<Mat<T>>>,
}

impl<T: Real> VectorTape<T> {
    /// Sets a node's value (inputs and parameters; computed nodes are overwritten by `forward`).
    pub fn set(&mut self, id: NodeId, value: Mat<T>) {
        self.values[id.index()] = Some(value);
    }

    /// A node's value, if set or computed.
    pub fn get(&self, id: NodeId) -> Option<&Mat<T>> {
        self.values[id.index()].as_ref()
    }

    /// Mutable access to a node's value (the optimiser updates parameters in place).
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut Mat<T>> {
        self.values[id.index()].as_mut()
    }
}

/// Loss derivatives with respect to node values, by node id (`None`: no path from the seeds).
pub struct VectorGrads<T: Real = f64>(Vec<Option<Mat<T>>>);

impl<T: Real> VectorGrads<T> {
    /// ∂L/∂y(id), if the node lies on a path to a seeded node.
    pub fn get(&self, id: NodeId) -> Option<&Mat<T>> {
        self.0[id.index()].as_ref()
    }
}

impl<T: Real> VectorDag<T> {
    /// A tape with no values.
    pub fn tape(&self) -> VectorTape<T> {
        VectorTape { values: vec![None; self.graph.node_count()] }
    }

    /// The node's name.
    pub fn name(&self, id: NodeId) -> &str {
        &self.graph.node(id).name
    }

    /// The node's role.
    pub fn role(&self, id: NodeId) -> Role {
        self.graph.node(id).role
    }

    /// Nodes in topological order.
    pub fn order(&self) -> &[NodeId] {
        &self.order
    }

    /// Parameter nodes, in creation order.
    pub fn params(&self) -> Vec<NodeId> {
        self.graph.node_ids().filter(|&id| self.role(id) == Role::Weight).collect()
    }

    fn args<'t>(&self, tape: &'t VectorTape<T>, args: &[NodeId]) -> Vec<&'t Mat<T>> {
        args.iter().map(|a| tape.values[a.index()].as_ref().expect("internal: argument evaluated first")).collect()
    }

    fn describe(&self, id: NodeId, args: &[NodeId]) -> String {
        let (op, _) = self.ops[id.index()].as_ref().expect("internal: computed node");
        let names: Vec<&str> = args.iter().map(|&a| self.name(a)).collect();
        format!("{}({})", op.name(), names.join(", "))
    }

    /// The forward phase.
    ///
    /// # Errors
    /// An unset source ([`Error::Structure`]), a shape mismatch, or the first node whose value
    /// is not finite, each naming the node and its operation.
    ///
    /// Finiteness is checked once, on the output nodes, after the sweep (a NaN born anywhere
    /// reaches them, or was cancelled by a ReLU or max and did no harm); only when an output is bad
    /// are the nodes searched, in order, for the first bad one. Checking every node on every pass
    /// cost a tenth of the training time.
    pub fn forward(&self, tape: &mut VectorTape<T>) -> Result<()> {
        for &id in &self.order {
            let Some((op, args)) = &self.ops[id.index()] else {
                if tape.values[id.index()].is_none() {
                    return Err(Error::Structure {
                        node: self.name(id).to_string(),
                        message: format!("{} has no value", self.role(id)),
                    });
                }
                continue;
            };
            let out = op.forward(&self.args(tape, args)).map_err(|message| Error::Structure {
                node: self.name(id).to_string(),
                message: format!("{}: {message}", self.describe(id, args)),
            })?;
            tape.values[id.index()] = Some(out);
        }
        let outputs_finite = self
            .order
            .iter()
            .filter(|&&id| self.role(id) == Role::Output)
            .all(|&id| tape.values[id.index()].as_ref().is_some_and(|v| v.iter().all(|x| x.is_finite())));
        if outputs_finite {
            return Ok(());
        }
        for &id in &self.order {
            let Some((_, args)) = &self.ops[id.index()] else { continue };
            let value = tape.values[id.index()].as_ref().expect("internal: computed above");
            if let Some(bad) = value.iter().find(|v| !v.is_finite()) {
                return Err(Error::NonFiniteValue {
                    node: self.name(id).to_string(),
                    expr: self.describe(id, args),
                    inputs: "a value of this node".into(),
                    value: bad.as_f64(),
                });
            }
        }
        Ok(())
    }

    /// Reverse mode from `seeds` (∂L/∂y(t) at output nodes). Gradients are computed for every
    /// node on a path from a parameter or (with `input_grads`) an input to a seed.
    ///
    /// # Errors
    /// The first node (in backward order) whose gradient is not finite. As in `forward`, the
    /// check runs once at the end, on the gradients of the sources, and searches only on failure.
    pub fn reverse(
        &self,
        tape: &VectorTape<T>,
        seeds: Vec<(NodeId, Mat<T>)>,
        input_grads: bool,
    ) -> Result<VectorGrads<T>> {
        let n = self.graph.node_count();
        // needs[i]: some parameter (or input) lies upstream of i, so i's gradient is wanted.
        let mut needs = vec![false; n];
        for &id in &self.order {
            needs[id.index()] = match &self.ops[id.index()] {
                None => self.role(id) == Role::Weight || input_grads,
                Some((_, args)) => args.iter().any(|a| needs[a.index()]),
            };
        }
        let mut grads: Vec<Option<Mat<T>>> = vec![None; n];
        for (id, g) in seeds {
            accumulate(&mut grads[id.index()], g);
        }
        for &id in self.order.iter().rev() {
            let (Some((op, args)), Some(g)) = (&self.ops[id.index()], &grads[id.index()]) else { continue };
            let wants: Vec<bool> = args.iter().map(|a| needs[a.index()]).collect();
            let out = tape.values[id.index()].as_ref().expect("internal: forward ran");
            let contributions = op.backward(&self.args(tape, args), out, g, &wants);
            for (a, c) in args.iter().zip(contributions) {
                if let Some(c) = c {
                    accumulate(&mut grads[a.index()], c);
                }
            }
        }
        let finite = |g: &Option<Mat<T>>| g.as_ref().is_none_or(|g| g.iter().all(|x| x.is_finite()));
        let sources_finite =
            self.order.iter().filter(|&&id| self.ops[id.index()].is_none()).all(|&id| finite(&grads[id.index()]));
        if !sources_finite {
            for &id in self.order.iter().rev() {
                if let Some(bad) = grads[id.index()].as_ref().and_then(|g| g.iter().find(|v| !v.is_finite())) {
                    return Err(Error::NonFiniteGradient {
                        node: self.name(id).to_string(),
                        what: match &self.ops[id.index()] {
                            Some((_, args)) => self.describe(id, args),
                            None => self.role(id).to_string(),
                        },
                        inputs: "the gradient of this node".into(),
                        value: bad.as_f64(),
                    });
                }
            }
        }
        Ok(VectorGrads(grads))
    }

    /// Forward mode: the directional derivative of every node when the sources move along
    /// `tangents` (sources not listed stay fixed). `None` for nodes that do not depend on them.
    pub fn jvp(&self, tape: &VectorTape<T>, tangents: Vec<(NodeId, Mat<T>)>) -> Vec<Option<Mat<T>>> {
        let mut t: Vec<Option<Mat<T>>> = vec![None; self.graph.node_count()];
        for (id, d) in tangents {
            t[id.index()] = Some(d);
        }
        for &id in &self.order {
            let Some((op, args)) = &self.ops[id.index()] else { continue };
            let ts: Vec<Option<&Mat<T>>> = args.iter().map(|a| t[a.index()].as_ref()).collect();
            if ts.iter().all(Option::is_none) {
                continue;
            }
            let out = tape.values[id.index()].as_ref().expect("internal: forward ran");
            t[id.index()] = Some(op.jvp(&self.args(tape, args), out, &ts));
        }
        t
    }
}

/// Adds `g` into `slot`, moving it in when the slot is empty (no copy for single-child nodes).
fn accumulate<T: Real>(slot: &mut Option<Mat<T>>, g: Mat<T>) {
    match slot {
        Some(s) => *s += g,
        None => *slot = Some(g),
    }
}
