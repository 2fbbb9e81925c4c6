//! Vector-centric computational graphs (section 11.3.6 and 11.4.2): every node holds a matrix
//! (features × batch), every computed node applies a [`VectorOp`], and backpropagation carries
//! Δ(i) = Σ_{j ∈ A(i)} Jacobian(y(j), y(i))ᵀ Δ(j), gradients from several children adding up, so
//! branches and skip connections (Figure 11.13b) need nothing special.
//!
//! Parameters (weight matrices and biases) are source nodes with role [`Role::Weight`], as in the
//! scalar engine; their Δ is the loss-to-weight derivative, the chapter's M = g zᵀ.

mod elementwise;
mod few_rows;
mod functions;
mod gemm;
mod loss;
mod ops;

use std::sync::Arc;

use cg_core::{DiGraph, EdgeWeight, NodeId, Role, Shape, Variable};

pub use elementwise::{Affine, Arith, Broadcast, LossNode, SumAll, Transpose, Unary};
pub use functions::{
    Axis, BatchMean, BatchNorm, Clip, Constant, Dropout, Elementwise, Embed, LayerNorm, LogSoftmax, LogSumExp, Power,
    Reduce, Rows, Sign, Sqrt, Step, StopGradient, Where,
};
pub use loss::Loss;
pub use ops::{Activation, Add, Concat, Dims, GradSlot, Linear, Max, Mul, OpError, ShapeRule, Softmax, VectorOp};

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
    /// `out = op(a) · op(b)`, where op transposes when asked (faer's GEMM, see `gemm`); `out`'s
    /// allocation is reused when its shape fits.
    fn product_into(out: &mut Mat<Self>, a: &Mat<Self>, transpose_a: bool, b: &Mat<Self>, transpose_b: bool);

    /// An operation of both scalar types as one of this type (an upcast): one registry of
    /// functions serves f64 and f32 graphs.
    fn op(op: Arc<dyn AnyOp>) -> Arc<dyn VectorOp<Self>>;

    /// op(a) · op(b) in a new matrix.
    fn product(a: &Mat<Self>, transpose_a: bool, b: &Mat<Self>, transpose_b: bool) -> Mat<Self> {
        let mut out = Mat::<Self>::zeros(0, 0);
        Self::product_into(&mut out, a, transpose_a, b, transpose_b);
        out
    }
}

impl Real for f64 {
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn product_into(out: &mut Mat<Self>, a: &Mat<Self>, ta: bool, b: &Mat<Self>, tb: bool) {
        gemm::product_into(out, a, ta, b, tb);
    }
    fn op(op: Arc<dyn AnyOp>) -> Arc<dyn VectorOp<Self>> {
        op
    }
}

impl Real for f32 {
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn product_into(out: &mut Mat<Self>, a: &Mat<Self>, ta: bool, b: &Mat<Self>, tb: bool) {
        gemm::product_into(out, a, ta, b, tb);
    }
    fn op(op: Arc<dyn AnyOp>) -> Arc<dyn VectorOp<Self>> {
        op
    }
}

/// An operation defined for both scalar types (every operation of this module is).
pub trait AnyOp: VectorOp<f64> + VectorOp<f32> {}

impl<O: VectorOp<f64> + VectorOp<f32>> AnyOp for O {}

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
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cg_autodiff::vector::{Activation, Linear, Mat, VectorDagBuilder};
    /// // h = tanh(W x) on a batch of two samples, and ∂(Σ h)/∂W by reverse mode.
    /// let mut b = VectorDagBuilder::<f64>::new();
    /// let (x, w) = (b.input("x").unwrap(), b.param("W").unwrap());
    /// let a = b.op("a", Arc::new(Linear), &[w, x], false).unwrap();
    /// let h = b.op("h", Arc::new(Activation::Tanh), &[a], true).unwrap();
    /// // Linear takes W, x and an optional bias: one argument is refused when the graph is built.
    /// let err = b.op("bad", Arc::new(Linear), &[x], false).unwrap_err();
    /// assert_eq!(err.to_string(), "node `bad`: linear takes 2 or 3 arguments (W, x[, b]), got 1");
    /// let dag = b.build().unwrap();
    /// let mut tape = dag.tape();
    /// tape.set(x, Mat::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]));
    /// tape.set(w, Mat::from_row_slice(1, 2, &[0.5, -0.5]));
    /// dag.forward(&mut tape).unwrap();
    /// let grads = dag.reverse(&tape, vec![(h, Mat::from_element(1, 2, 1.0))], false).unwrap();
    /// // ∂/∂W_j Σ_s tanh(W x_s) = Σ_s (1 - tanh²(W x_s)) x_js; here x_s is the s-th unit vector.
    /// let d = 1.0 - 0.5_f64.tanh().powi(2);
    /// assert!((grads.get(w).unwrap() - Mat::from_row_slice(1, 2, &[d, d])).amax() < 1e-15);
    /// ```
    pub fn op(&mut self, name: &str, op: Arc<dyn VectorOp<T>>, args: &[NodeId], output: bool) -> Result<NodeId> {
        op.check_arity(args.len()).map_err(|error| Error::Arity {
            node: name.to_string(),
            op: op.name(),
            error: Box::new(error),
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

    /// Sets a node's value to the given columns of `source` (a mini-batch), reusing the node's
    /// buffer when it already has the shape.
    ///
    /// # Panics
    /// If a column index is out of range.
    pub fn set_columns(&mut self, id: NodeId, source: &Mat<T>, columns: &[usize]) {
        gather_columns(self.values[id.index()].get_or_insert_with(|| Mat::<T>::zeros(0, 0)), source, columns);
    }
}

/// Sets `into` to the given columns of `source`, reusing its allocation when the shape fits.
///
/// # Panics
/// If a column index is out of range.
pub fn gather_columns<T: Real>(into: &mut Mat<T>, source: &Mat<T>, columns: &[usize]) {
    let rows = source.nrows();
    ops::reshape(into, rows, columns.len());
    if rows == 0 {
        return;
    }
    // Whole columns as slice copies (memcpy): nalgebra's element-wise column copy waited on
    // every cache line of a shuffled column in turn (5% of a bench_mlp epoch).
    let from = source.as_slice();
    for (to, &c) in into.as_mut_slice().chunks_exact_mut(rows).zip(columns) {
        to.copy_from_slice(&from[c * rows..(c + 1) * rows]);
    }
}

/// Loss derivatives with respect to node values, by node id (absent: no path from the seeds).
/// The buffers outlive a pass, so [`VectorDag::reverse_into`] reuses them on the next one.
pub struct VectorGrads<T: Real = f64> {
    buffers: Vec<Mat<T>>,
    /// Whether `buffers[i]` holds a gradient of the latest pass.
    live: Vec<bool>,
}

impl<T: Real> VectorGrads<T> {
    /// ∂L/∂y(id), if the node lies on a path to a seeded node.
    pub fn get(&self, id: NodeId) -> Option<&Mat<T>> {
        self.live[id.index()].then(|| &self.buffers[id.index()])
    }

    /// Takes node `i`'s buffer out, leaving an empty matrix (no allocation).
    fn take(&mut self, i: usize) -> Mat<T> {
        std::mem::replace(&mut self.buffers[i], Mat::<T>::zeros(0, 0))
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

    /// The arguments' values: from `tape`, or from `base` for sources `tape` leaves unset.
    fn args<'t>(&self, base: Option<&'t VectorTape<T>>, tape: &'t VectorTape<T>, args: &[NodeId]) -> Vec<&'t Mat<T>> {
        args.iter().map(|a| value(base, tape, *a).expect("internal: argument evaluated first")).collect()
    }

    /// The first node, in evaluation order, whose value in `tape` holds an infinity or a NaN,
    /// with its operation written out (`sqrt(x)`): where a non-finite loss came from.
    pub fn first_non_finite(&self, tape: &VectorTape<T>) -> Option<(String, String)> {
        self.order.iter().find_map(|&id| {
            let m = tape.values[id.index()].as_ref()?;
            if m.iter().all(|v| v.is_finite()) {
                return None;
            }
            let what = match &self.ops[id.index()] {
                Some((_, args)) => self.describe(id, args),
                None => self.role(id).to_string(),
            };
            Some((self.name(id).to_string(), what))
        })
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
        self.forward_layered(None, tape)
    }

    /// `forward` on a tape that leaves some sources unset (typically the parameters), reading
    /// those from `base`: the shards of a data-parallel mini-batch share one set of parameters.
    ///
    /// # Errors
    /// As for `forward`.
    pub fn forward_over(&self, base: &VectorTape<T>, tape: &mut VectorTape<T>) -> Result<()> {
        self.forward_layered(Some(base), tape)
    }

    fn forward_layered(&self, base: Option<&VectorTape<T>>, tape: &mut VectorTape<T>) -> Result<()> {
        for &id in &self.order {
            let Some((op, args)) = &self.ops[id.index()] else {
                if value(base, tape, id).is_none() {
                    return Err(Error::Structure {
                        node: self.name(id).to_string(),
                        message: format!("{} has no value", self.role(id)),
                    });
                }
                continue;
            };
            let mut out = tape.values[id.index()].take().unwrap_or_else(|| Mat::<T>::zeros(0, 0));
            let result = op.forward_into(&self.args(base, tape, args), &mut out);
            tape.values[id.index()] = Some(out);
            result.map_err(|error| Error::Op {
                node: self.name(id).to_string(),
                expression: self.describe(id, args),
                error: Box::new(error),
            })?;
        }
        let outputs_finite = self
            .order
            .iter()
            .filter(|&&id| self.role(id) == Role::Output)
            .all(|&id| tape.values[id.index()].as_ref().is_some_and(|v| all_finite(v.as_slice())));
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
        let mut grads = self.grads();
        self.reverse_layered(None, tape, seeds, input_grads, &mut grads)?;
        self.check_gradients(&grads)?;
        Ok(grads)
    }

    /// Empty gradient buffers for [`reverse_into`](Self::reverse_into).
    pub fn grads(&self) -> VectorGrads<T> {
        let n = self.graph.node_count();
        VectorGrads { buffers: (0..n).map(|_| Mat::<T>::zeros(0, 0)).collect(), live: vec![false; n] }
    }

    /// [`reverse`](Self::reverse) into buffers kept from an earlier pass: a training loop
    /// allocates its gradients once, and each backward rule writes its first contribution
    /// straight into the argument's buffer.
    ///
    /// # Errors
    /// As for `reverse`.
    pub fn reverse_into(
        &self,
        tape: &VectorTape<T>,
        seeds: Vec<(NodeId, Mat<T>)>,
        input_grads: bool,
        grads: &mut VectorGrads<T>,
    ) -> Result<()> {
        self.reverse_layered(None, tape, seeds, input_grads, grads)?;
        self.check_gradients(grads)
    }

    /// [`reverse_into`](Self::reverse_into) after [`forward_over`](Self::forward_over): sources
    /// unset in `tape` are read from `base`.
    ///
    /// # Errors
    /// As for `reverse`.
    pub fn reverse_over(
        &self,
        base: &VectorTape<T>,
        tape: &VectorTape<T>,
        seeds: Vec<(NodeId, Mat<T>)>,
        grads: &mut VectorGrads<T>,
    ) -> Result<()> {
        self.reverse_over_unchecked(base, tape, seeds, grads)?;
        self.check_gradients(grads)
    }

    /// [`reverse_over`](Self::reverse_over) without its pass over the sources' gradients, for a
    /// caller that checks what it computes from them in a pass it makes anyway (cg-nn's trainer
    /// checks the weights its update writes) and calls [`check_gradients`](Self::check_gradients)
    /// only when that finds a non-finite value.
    ///
    /// # Errors
    /// As `reverse_over`, apart from non-finite gradients.
    pub fn reverse_over_unchecked(
        &self,
        base: &VectorTape<T>,
        tape: &VectorTape<T>,
        seeds: Vec<(NodeId, Mat<T>)>,
        grads: &mut VectorGrads<T>,
    ) -> Result<()> {
        self.reverse_layered(Some(base), tape, seeds, false, grads)
    }

    fn reverse_layered(
        &self,
        base: Option<&VectorTape<T>>,
        tape: &VectorTape<T>,
        seeds: Vec<(NodeId, Mat<T>)>,
        input_grads: bool,
        grads: &mut VectorGrads<T>,
    ) -> Result<()> {
        let n = self.graph.node_count();
        // needs[i]: some parameter (or input) lies upstream of i, so i's gradient is wanted.
        let mut needs = vec![false; n];
        for &id in &self.order {
            needs[id.index()] = match &self.ops[id.index()] {
                None => self.role(id) == Role::Weight || input_grads,
                Some((_, args)) => args.iter().any(|a| needs[a.index()]),
            };
        }
        grads.live.iter_mut().for_each(|l| *l = false);
        for (id, g) in seeds {
            let i = id.index();
            if grads.live[i] {
                grads.buffers[i] += g;
            } else {
                grads.buffers[i] = g;
                grads.live[i] = true;
            }
        }
        for &id in self.order.iter().rev() {
            let Some((op, args)) = &self.ops[id.index()] else { continue };
            if !grads.live[id.index()] || !args.iter().any(|a| needs[a.index()]) {
                continue;
            }
            // The node's own gradient and its arguments' buffers are taken out for the call
            // (arguments are distinct nodes, none of them this one) and put back after.
            let g = grads.take(id.index());
            let mut bufs: Vec<Mat<T>> = args.iter().map(|a| grads.take(a.index())).collect();
            let mut slots: Vec<GradSlot<'_, T>> = bufs
                .iter_mut()
                .zip(args)
                .map(|(b, a)| match (needs[a.index()], grads.live[a.index()]) {
                    (false, _) => GradSlot::Skip,
                    (true, false) => GradSlot::Set(b),
                    (true, true) => GradSlot::Add(b),
                })
                .collect();
            let out = tape.values[id.index()].as_ref().expect("internal: forward ran");
            op.backward_into(&self.args(base, tape, args), out, &g, &mut slots);
            drop(slots);
            for (a, b) in args.iter().zip(bufs) {
                grads.buffers[a.index()] = b;
                grads.live[a.index()] |= needs[a.index()];
            }
            grads.buffers[id.index()] = g;
        }
        Ok(())
    }

    /// Fails, naming the node, when the gradient of any node in `grads` is infinite or NaN; fast
    /// (no early exit, vectorised) when none is. The reverse passes call it on the sources'
    /// gradients (a non-finite one inside the graph reaches them).
    ///
    /// # Errors
    /// [`Error::NonFiniteGradient`] for the last such node in topological order.
    pub fn check_gradients(&self, grads: &VectorGrads<T>) -> Result<()> {
        let sources_finite = self
            .order
            .iter()
            .filter(|&&id| self.ops[id.index()].is_none())
            .all(|&id| grads.get(id).is_none_or(|g| all_finite(g.as_slice())));
        if sources_finite {
            return Ok(());
        }
        for &id in self.order.iter().rev() {
            if let Some(bad) = grads.get(id).and_then(|g| g.iter().find(|v| !v.is_finite())) {
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
        Ok(())
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
            t[id.index()] = Some(op.jvp(&self.args(None, tape, args), out, &ts));
        }
        t
    }
}

/// No element is infinite or NaN, in one pass without early exit so the loop vectorises.
///
/// x - x is 0 for a finite x and NaN otherwise, and NaN survives addition: 64 independent sums
/// of x - x are all 0 exactly when every element is finite. (A short-circuiting `all` or a
/// boolean fold did not vectorise and cost 7% of a bench_mlp epoch; 16 lanes were two chains of
/// dependent additions in f32, half the speed of the cache the gradients come from.)
#[inline(always)]
fn all_finite_body<T: Real>(xs: &[T]) -> bool {
    const LANES: usize = 64;
    let mut lanes = [T::zero(); LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            #[allow(clippy::eq_op)] // on purpose: NaN exactly when x is not finite
            let zero_if_finite = x - x;
            *lane += zero_if_finite;
        }
    }
    lanes.iter().all(|l| *l == T::zero()) && chunks.remainder().iter().all(|x| x.is_finite())
}

cg_core::avx2_dispatch!(fn all_finite<T: Real>(xs: &[T]) -> bool => all_finite_body);

/// A node's value in `tape`, or in `base` when `tape` leaves it unset.
fn value<'t, T: Real>(base: Option<&'t VectorTape<T>>, tape: &'t VectorTape<T>, id: NodeId) -> Option<&'t Mat<T>> {
    tape.values[id.index()].as_ref().or_else(|| base.and_then(|b| b.values[id.index()].as_ref()))
}
