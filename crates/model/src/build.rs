//! From a `[model]` table to a trainable [`Network`]: parse every expression, order the named
//! nodes, check every shape before anything runs, and emit the vector graph's operations.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use cg_autodiff::vector::{
    Activation, Affine, Arith, BatchMean, BatchNorm, Broadcast, Constant, Dropout, Linear, Loss, LossNode, Mat, Max,
    Power, VectorDagBuilder, VectorOp, VectorTape,
};
use cg_core::NodeId;
use cg_nn::{Decision, Float, LossTerm, Network, Noise, RunningStats, TargetSource, TargetSpec};
use indexmap::IndexMap;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::config::{ConstantDecl, DecisionName, InitName, ModelConfig, ParamDecl, TargetDecl, ValueDecl};
use crate::functions::{self, Make, Rule};
use crate::parse::{parse, Ast, BinOp};
use crate::{Error, Result};

/// One dimension of a node's value: a number, or the batch (the samples' columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    N(usize),
    /// The batch's size, known only when data arrives.
    Batch,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::N(n) => write!(f, "{n}"),
            Dim::Batch => write!(f, "batch"),
        }
    }
}

/// A node's shape: rows x columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape(pub Dim, pub Dim);

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x {}", self.0, self.1)
    }
}

impl Shape {
    const SCALAR: Shape = Shape(Dim::N(1), Dim::N(1));
}

fn is_function(name: &str) -> bool {
    functions::find(name).is_some()
}

/// A parameter's declared shape and initialisation, checked.
#[derive(Clone, Debug)]
struct ParamInit {
    name: String,
    /// As declared (`[r, c]`, `[r]` or `[]`): the shape the saved tensor takes.
    shape: Vec<usize>,
    rows: usize,
    cols: usize,
    init: Init,
    frozen: bool,
}

#[derive(Clone, Debug)]
enum Init {
    He,
    Xavier,
    Zeros,
    Normal(f64),
    Uniform(f64),
    Value(Vec<f64>),
}

/// A named node as built: its expression (as written, or `input`, `target`, `parameter`), its
/// shape, and the names its expression uses.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    /// The node's name.
    pub name: String,
    /// Its expression, as written.
    pub expression: String,
    /// Its shape.
    pub shape: Shape,
    /// The nodes it reads.
    pub uses: Vec<String>,
}

/// A model ready to train: the network, the shapes of its named nodes, and how its parameters
/// start.
pub struct Model<T: Float> {
    /// The vector graph of the model.
    pub network: Network<T>,
    /// Inputs, targets, parameters, named nodes (in evaluation order) and the loss.
    pub nodes: Vec<NodeInfo>,
    params: Vec<ParamInit>,
}

impl<T: Float> Model<T> {
    /// A tape with every parameter initialised as declared, drawn from `rng` in declaration order.
    pub fn init(&self, rng: &mut ChaCha8Rng) -> VectorTape<T> {
        let mut tape = self.network.dag.tape();
        for (p, &id) in self.params.iter().zip(&self.network.params) {
            let (rows, cols) = (p.rows, p.cols);
            let m = match &p.init {
                Init::Xavier => cg_nn::Init::Xavier.matrix(rows, cols, rng),
                Init::He => cg_nn::Init::He.matrix(rows, cols, rng),
                Init::Zeros => Mat::zeros(rows, cols),
                Init::Normal(std) => {
                    let normal = Normal::new(0.0, *std).expect("internal: validated std");
                    Mat::from_fn(rows, cols, |_, _| T::cast(normal.sample(rng)))
                }
                Init::Uniform(a) => Mat::from_fn(rows, cols, |_, _| T::cast(rng.random_range(-*a..=*a))),
                Init::Value(v) => Mat::from_fn(rows, cols, |i, j| T::cast(v[i * cols + j])),
            };
            tape.set(id, m);
        }
        tape
    }

    /// Each parameter's name and shape (rows, columns), in declaration order.
    pub fn param_shapes(&self) -> Vec<(String, usize, usize)> {
        self.params.iter().map(|p| (p.name.clone(), p.rows, p.cols)).collect()
    }

    /// Each parameter's shape as declared (batch normalisation's running statistics last), the
    /// shapes `model.safetensors` stores.
    pub fn declared_shapes(&self) -> Vec<Vec<usize>> {
        self.params.iter().map(|p| p.shape.clone()).collect()
    }

    /// Number of learnable numbers (frozen parameters not counted).
    pub fn parameter_count(&self) -> usize {
        self.params.iter().filter(|p| !p.frozen).map(|p| p.rows * p.cols).sum()
    }

    /// Number of numbers in frozen parameters (`trainable = false`).
    pub fn frozen_count(&self) -> usize {
        self.params.iter().filter(|p| p.frozen).map(|p| p.rows * p.cols).sum()
    }
}

fn bad(at: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Invalid { at: at.into(), message: message.into() }
}

fn check_name(table: &str, name: &str) -> Result<()> {
    let ok = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !ok {
        return Err(bad(format!("[model.{table}] {name}:"), "not a name (letters, digits and _, not first a digit)"));
    }
    let trainer_nodes = ["loss", "batch_size", "fraction", "dropout_seed", "dropout_samples"];
    if is_function(name) || trainer_nodes.contains(&name) {
        return Err(bad(format!("[model.{table}] {name}:"), "is reserved (a function or the trainer's node)"));
    }
    Ok(())
}

fn param_init(name: &str, d: &ParamDecl) -> Result<ParamInit> {
    let at = format!("[model.params] {name}:");
    let (rows, cols) = match d.shape[..] {
        [] => (1, 1),
        [r] => (r, 1),
        [r, c] => (r, c),
        _ => return Err(bad(at, format!("shape {:?} has more than 2 dimensions", d.shape))),
    };
    if rows == 0 || cols == 0 || rows.checked_mul(cols).is_none_or(|n| n > 1 << 28) {
        return Err(bad(at, format!("shape {:?} must have sizes >= 1 and at most 2^28 entries", d.shape)));
    }
    let given = [d.init.is_some(), d.normal.is_some(), d.uniform.is_some(), d.value.is_some()];
    if given.iter().filter(|&&g| g).count() > 1 {
        return Err(bad(at, "give one of init, normal, uniform, value"));
    }
    let positive = |what: &str, v: f64| -> Result<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(bad(format!("[model.params] {name}:"), format!("{what} = {v} must be finite and > 0")))
        }
    };
    let init = if let Some(std) = d.normal {
        Init::Normal(positive("normal", std)?)
    } else if let Some(a) = d.uniform {
        Init::Uniform(positive("uniform", a)?)
    } else if let Some(v) = &d.value {
        let flat: Vec<f64> = match v {
            ValueDecl::Scalar(x) => vec![*x],
            ValueDecl::Vector(xs) => xs.clone(),
            ValueDecl::Matrix(rs) => {
                if rs.iter().any(|r| r.len() != cols) {
                    return Err(bad(at, format!("value: every row needs {cols} numbers")));
                }
                rs.concat()
            }
        };
        if flat.len() != rows * cols {
            return Err(bad(at, format!("value has {} numbers for shape {rows} x {cols}", flat.len())));
        }
        if let Some(x) = flat.iter().find(|x| !x.is_finite()) {
            return Err(bad(at, format!("value {x} is not finite")));
        }
        Init::Value(flat)
    } else {
        match d.init.unwrap_or(InitName::Xavier) {
            InitName::He => Init::He,
            InitName::Xavier => Init::Xavier,
            InitName::Zeros => Init::Zeros,
            InitName::Ones => Init::Value(vec![1.0; rows * cols]),
        }
    };
    Ok(ParamInit {
        name: name.to_string(),
        shape: d.shape.clone(),
        rows,
        cols,
        init,
        frozen: d.trainable == Some(false),
    })
}

/// Emits operations into the builder, tracking each value's node and shape.
struct Emitter<'a, T: Float> {
    b: VectorDagBuilder<T>,
    /// Every name's node and shape (inputs, targets, parameters, nodes built so far).
    known: HashMap<String, (NodeId, Shape)>,
    /// Nodes some data (an input or a target) reaches.
    data: HashSet<NodeId>,
    batch_size: NodeId,
    /// The named node being built, for names of intermediate operations and messages.
    node: &'a str,
    count: usize,
    /// (prediction, target) of every loss node.
    loss_args: HashMap<NodeId, (NodeId, NodeId)>,
    /// Every operation's arguments, to find what the loss depends on.
    args: HashMap<NodeId, Vec<NodeId>>,
    /// Every operation's name (`softmax`, `linear`, ...).
    ops: HashMap<NodeId, &'static str>,
    /// The shape of every node an expression produced.
    shapes: HashMap<NodeId, Shape>,
    /// The per-sample values of every `batch_mean` node.
    batch_means: HashMap<NodeId, NodeId>,
    /// The inputs of random operations, made with the first.
    noise: Option<Noise>,
    /// Parameters the emitter adds (batch normalisation's running statistics), with their nodes.
    extra_params: Vec<(ParamInit, NodeId)>,
    /// (normalised node, running mean, running variance, momentum) of each batch normalisation.
    running: Vec<(NodeId, NodeId, NodeId, f64)>,
    /// Operations whose value mixes the samples of a batch though its shape does not show it.
    mixing: HashSet<NodeId>,
}

impl<T: Float> Emitter<'_, T> {
    fn err(&self, ast: &Ast, message: impl fmt::Display) -> Error {
        bad(format!("{} = {ast}:", self.node), message.to_string())
    }

    fn op(&mut self, op: Arc<dyn VectorOp<T>>, args: &[NodeId], name: Option<&str>) -> Result<NodeId> {
        let op_name = op.name();
        // An operation may use a node once per argument slot: a repeat goes through an alias.
        let mut distinct = vec![];
        for &a in args {
            let a = if distinct.contains(&a) { self.alias(a)? } else { a };
            distinct.push(a);
        }
        let name = match name {
            Some(n) => n.to_string(),
            None => {
                self.count += 1;
                format!("{}.{}", self.node, self.count)
            }
        };
        let id = self.b.op(&name, op, &distinct, false)?;
        self.args.insert(id, distinct.clone());
        self.ops.insert(id, op_name);
        if distinct.iter().any(|a| self.data.contains(a)) {
            self.data.insert(id);
        }
        Ok(id)
    }

    /// For every node (by index): whether its value for one sample depends on other samples of
    /// the batch. A node some data reaches is coupled when its columns are not the batch's
    /// (`sum(x)`, `mean(h, 1)`, `transpose(x)`, `x @ transpose(x)`), and so is everything
    /// computed from a coupled node. Loss nodes are reductions by design; their arguments are
    /// what matters.
    fn batch_coupled(&self) -> Vec<bool> {
        let count = self.args.keys().chain(self.shapes.keys()).map(|id| id.index() + 1).max().unwrap_or(0);
        let mut coupled = vec![false; count];
        for i in 0..count {
            let id = NodeId::from_index(i);
            let from_args = self.args.get(&id).is_some_and(|a| a.iter().any(|a| coupled[a.index()]));
            let own = (self.data.contains(&id) && self.shapes.get(&id).is_some_and(|s| s.1 != Dim::Batch))
                || self.mixing.contains(&id);
            coupled[i] = from_args || own;
        }
        coupled
    }

    /// The random operations' inputs, made on first use.
    fn noise(&mut self) -> Result<Noise> {
        if let Some(n) = self.noise {
            return Ok(n);
        }
        let n = Noise { seed: self.b.input("dropout_seed")?, samples: self.b.input("dropout_samples")? };
        self.noise = Some(n);
        Ok(n)
    }

    fn alias(&mut self, a: NodeId) -> Result<NodeId> {
        self.op(Arc::new(Activation::Identity), &[a], None)
    }

    /// Builds `ast`; the outermost operation is named `name` when given.
    fn emit(&mut self, ast: &Ast, name: Option<&str>) -> Result<(NodeId, Shape)> {
        let (id, shape) = self.emit_unrecorded(ast, name)?;
        self.shapes.insert(id, shape);
        Ok((id, shape))
    }

    fn emit_unrecorded(&mut self, ast: &Ast, name: Option<&str>) -> Result<(NodeId, Shape)> {
        match ast {
            // A number where a node is needed (`max(0, x)`, `2 / x`): a 1 x 1 constant.
            Ast::Num(x) => Ok((self.op(Arc::new(Constant(Mat::from_element(1, 1, *x))), &[], name)?, Shape::SCALAR)),
            Ast::Name { name: n, .. } => {
                let (id, shape) = *self.known.get(n).ok_or_else(|| self.err(ast, format!("unknown name `{n}`")))?;
                match name {
                    Some(_) => Ok((self.op(Arc::new(Activation::Identity), &[id], name)?, shape)),
                    None => Ok((id, shape)),
                }
            }
            Ast::Neg(inner) => {
                let (a, s) = self.emit(inner, None)?;
                Ok((self.op(Arc::new(Affine { scale: -1.0, shift: 0.0 }), &[a], name)?, s))
            }
            Ast::Bin { op, left, right, .. } => self.binary(ast, *op, left, right, name),
            Ast::Call { func, args, .. } => self.call(ast, func, args, name),
        }
    }

    fn binary(&mut self, ast: &Ast, op: BinOp, left: &Ast, right: &Ast, name: Option<&str>) -> Result<(NodeId, Shape)> {
        // Numbers against matrices: scale and shift.
        match (op, left, right) {
            (BinOp::Times, Ast::Num(c), x) | (BinOp::Times, x, Ast::Num(c)) => {
                let (a, s) = self.emit(x, None)?;
                return Ok((self.op(Arc::new(Affine { scale: *c, shift: 0.0 }), &[a], name)?, s));
            }
            (BinOp::Plus, Ast::Num(c), x) | (BinOp::Plus, x, Ast::Num(c)) => {
                let (a, s) = self.emit(x, None)?;
                return Ok((self.op(Arc::new(Affine { scale: 1.0, shift: *c }), &[a], name)?, s));
            }
            (BinOp::Minus, x, Ast::Num(c)) => {
                let (a, s) = self.emit(x, None)?;
                return Ok((self.op(Arc::new(Affine { scale: 1.0, shift: -*c }), &[a], name)?, s));
            }
            (BinOp::Minus, Ast::Num(c), x) => {
                let (a, s) = self.emit(x, None)?;
                return Ok((self.op(Arc::new(Affine { scale: -1.0, shift: *c }), &[a], name)?, s));
            }
            (BinOp::MatMul, Ast::Num(_), _) | (BinOp::MatMul, _, Ast::Num(_)) => {
                return Err(self.err(ast, "`@` needs matrices on both sides; scale with `*`"));
            }
            (BinOp::Power, x, Ast::Num(p)) => {
                let (a, s) = self.emit(x, None)?;
                return Ok((self.op(Arc::new(Power(*p)), &[a], name)?, s));
            }
            (BinOp::Power, _, p) => {
                return Err(self.err(ast, format!("the exponent {p} must be a number (for e^x write exp(x))")));
            }
            _ => {}
        }
        // `A @ x + b` with a column b is one linear operation (as in a layer).
        if op == BinOp::Plus {
            for (prod, bias) in [(left, right), (right, left)] {
                if let Ast::Bin { op: BinOp::MatMul, left: a, right: x, .. } = prod {
                    let (w, ws) = self.emit(a, None)?;
                    let (h, hs) = self.emit(x, None)?;
                    let out = self.matmul_shape(prod, ws, hs, a, x)?;
                    let (c, cs) = self.emit(bias, None)?;
                    if cs == Shape(out.0, Dim::N(1)) && out.1 != Dim::N(1) {
                        return Ok((self.op(Arc::new(Linear), &[w, h, c], name)?, out));
                    }
                    let p = self.op(Arc::new(Linear), &[w, h], None)?;
                    let (pl, pr, ls, rs) = if std::ptr::eq(prod, left) { (p, c, out, cs) } else { (c, p, cs, out) };
                    let shape = self.broadcast_shape(ast, ls, rs, left, right)?;
                    return Ok((self.op(Arc::new(Broadcast(Arith::Plus)), &[pl, pr], name)?, shape));
                }
            }
        }
        let (a, sa) = self.emit(left, None)?;
        let (b, sb) = self.emit(right, None)?;
        match op {
            BinOp::MatMul => {
                let out = self.matmul_shape(ast, sa, sb, left, right)?;
                Ok((self.op(Arc::new(Linear), &[a, b], name)?, out))
            }
            BinOp::Plus | BinOp::Minus | BinOp::Times | BinOp::Divide | BinOp::Power => {
                let shape = self.broadcast_shape(ast, sa, sb, left, right)?;
                let arith = match op {
                    BinOp::Plus => Arith::Plus,
                    BinOp::Minus => Arith::Minus,
                    BinOp::Divide => Arith::Divide,
                    _ => Arith::Times,
                };
                Ok((self.op(Arc::new(Broadcast(arith)), &[a, b], name)?, shape))
            }
        }
    }

    fn matmul_shape(&self, ast: &Ast, a: Shape, b: Shape, left: &Ast, right: &Ast) -> Result<Shape> {
        if a.1 != b.0 {
            return Err(self.err(ast, format!("{left} is {a} but {right} has {} rows", b.0)));
        }
        Ok(Shape(a.0, b.1))
    }

    fn broadcast_shape(&self, ast: &Ast, a: Shape, b: Shape, left: &Ast, right: &Ast) -> Result<Shape> {
        let fits = |x: Shape, to: Shape| {
            x == to || x == Shape::SCALAR || (x.0 == to.0 && x.1 == Dim::N(1)) || (x.0 == Dim::N(1) && x.1 == to.1)
        };
        if fits(a, b) {
            Ok(b)
        } else if fits(b, a) {
            Ok(a)
        } else {
            Err(self.err(ast, format!("{left} is {a} but {right} is {b}; they do not broadcast")))
        }
    }

    fn call(&mut self, ast: &Ast, func: &str, args: &[Ast], name: Option<&str>) -> Result<(NodeId, Shape)> {
        let Some(f) = functions::find(func) else {
            let hint = functions::nearest(func).map_or(String::new(), |n| format!("; did you mean `{n}`?"));
            return Err(
                self.err(ast, format!("unknown function `{func}`{hint} (`experiments explain model` lists them)"))
            );
        };
        // Node arguments first, then the trailing numbers the function takes.
        let node_count = args.len().saturating_sub(f.numbers.0).min(f.nodes.1);
        let number_count = args.len() - node_count;
        if node_count < f.nodes.0 || number_count > f.numbers.1 {
            return Err(self.err(
                ast,
                format!(
                    "`{func}` is written {}, got {} argument{}",
                    f.signature,
                    args.len(),
                    if args.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let numbers: Vec<f64> = args[node_count..]
            .iter()
            .map(|a| match a {
                Ast::Num(x) => Ok(*x),
                other => Err(self.err(ast, format!("`{func}` is written {}: {other} must be a number", f.signature))),
            })
            .collect::<Result<_>>()?;
        let built: Vec<(NodeId, Shape)> =
            args[..node_count].iter().map(|a| self.emit(a, None)).collect::<Result<_>>()?;
        let shapes: Vec<Shape> = built.iter().map(|b| b.1).collect();
        let ids: Vec<NodeId> = built.iter().map(|b| b.0).collect();
        let shape = match f.rule {
            Rule::Same => shapes[0],
            Rule::Broadcast => {
                let mut out = shapes[0];
                for k in 1..shapes.len() {
                    out = self.broadcast_shape(ast, out, shapes[k], &args[0], &args[k])?;
                }
                out
            }
            Rule::Transpose => Shape(shapes[0].1, shapes[0].0),
            Rule::PerColumn => Shape(Dim::N(1), shapes[0].1),
            Rule::Reduce => match numbers.first() {
                None => Shape::SCALAR,
                Some(0.0) => Shape(Dim::N(1), shapes[0].1),
                Some(_) => Shape(shapes[0].0, Dim::N(1)),
            },
            Rule::Stack => {
                let first = shapes[0];
                if let Some(k) = shapes.iter().position(|s| s.1 != first.1) {
                    return Err(self
                        .err(ast, format!("{} has {} columns but {} has {}", args[0], first.1, args[k], shapes[k].1)));
                }
                let mut rows = 0;
                for (k, s) in shapes.iter().enumerate() {
                    match s.0 {
                        Dim::N(r) => rows += r,
                        Dim::Batch => return Err(self.err(ast, format!("{} has batch-many rows", args[k]))),
                    }
                }
                Shape(Dim::N(rows), first.1)
            }
            Rule::Loss => {
                let (so, sy) = (shapes[0], shapes[1]);
                if so != sy {
                    return Err(
                        self.err(ast, format!("the prediction {} is {so} but the target {} is {sy}", args[0], args[1]))
                    );
                }
                if so.1 != Dim::Batch {
                    return Err(self.err(ast, format!("a loss averages over the batch, but {} is {so}", args[0])));
                }
                Shape::SCALAR
            }
            Rule::Lookup => {
                let (table, ids) = (shapes[0], shapes[1]);
                if ids.0 != Dim::N(1) {
                    return Err(
                        self.err(ast, format!("the ids {} are {ids}, not one code per sample (1 x batch)", args[1]))
                    );
                }
                if table.0 == Dim::Batch || table.1 == Dim::Batch {
                    return Err(
                        self.err(ast, format!("the table {} is {table}; it needs fixed rows and columns", args[0]))
                    );
                }
                Shape(table.0, ids.1)
            }
            Rule::RowRange => {
                let end = numbers[1];
                match shapes[0].0 {
                    Dim::N(r) if end <= r as f64 => Shape(Dim::N((end - numbers[0]).max(0.0) as usize), shapes[0].1),
                    rows => {
                        return Err(
                            self.err(ast, format!("{} has {rows} rows, so rows up to {end} do not exist", args[0]))
                        )
                    }
                }
            }
            Rule::BatchMean => {
                if shapes[0].1 != Dim::Batch {
                    return Err(self
                        .err(ast, format!("batch_mean takes a column per sample, but {} is {}", args[0], shapes[0])));
                }
                Shape::SCALAR
            }
        };
        let id = match f.make {
            Make::Op(make) => {
                let op = make(&numbers).map_err(|m| self.err(ast, m))?;
                self.op(T::op(op), &ids, name)?
            }
            Make::Loss(loss) => {
                let (o, y) = (ids[0], ids[1]);
                if loss == Loss::SoftmaxCrossEntropy && self.ops.get(&o) == Some(&"softmax") {
                    return Err(self.err(
                        ast,
                        format!(
                            "{} is already a softmax, and the loss applies one itself: give it the logits",
                            args[0]
                        ),
                    ));
                }
                let id = self.op(Arc::new(LossNode(loss)), &[o, y, self.batch_size], name)?;
                self.loss_args.insert(id, (o, y));
                id
            }
            Make::Dropout => {
                let p = numbers[0];
                if !(0.0..1.0).contains(&p) {
                    return Err(self.err(ast, format!("the probability {p} is not in [0, 1)")));
                }
                let noise = self.noise()?;
                self.op(Arc::new(Dropout { p }), &[ids[0], noise.seed, noise.samples], name)?
            }
            Make::BatchNorm => {
                let momentum = numbers.first().copied().unwrap_or(0.1);
                if !(momentum > 0.0 && momentum <= 1.0) {
                    return Err(self.err(ast, format!("the momentum {momentum} is not in (0, 1]")));
                }
                let Shape(Dim::N(rows), Dim::Batch) = shapes[0] else {
                    return Err(
                        self.err(ast, format!("batch_norm takes features x batch, but {} is {}", args[0], shapes[0]))
                    );
                };
                let noise = self.noise()?;
                let k = self.running.len();
                let node = self.node.to_string();
                let stat = |what: &str, value: f64| ParamInit {
                    name: if k == 0 { format!("{node}_bn_{what}") } else { format!("{node}_bn{k}_{what}") },
                    shape: vec![rows],
                    rows,
                    cols: 1,
                    init: Init::Value(vec![value; rows]),
                    frozen: true,
                };
                let (mean, var) = (stat("mean", 0.0), stat("var", 1.0));
                let mean_id = self.b.param(&mean.name)?;
                let var_id = self.b.param(&var.name)?;
                self.extra_params.push((mean, mean_id));
                self.extra_params.push((var, var_id));
                let id = self.op(Arc::new(BatchNorm { eps: 1e-5 }), &[ids[0], mean_id, var_id, noise.seed], name)?;
                self.running.push((ids[0], mean_id, var_id, momentum));
                self.mixing.insert(id);
                id
            }
            Make::BatchMean => {
                let id = self.op(Arc::new(BatchMean), &[ids[0], self.batch_size], name)?;
                self.batch_means.insert(id, ids[0]);
                id
            }
            Make::Extremum { max } => {
                if max && shapes.iter().all(|s| *s == shapes[0]) {
                    // Same shapes: the max unit of Table 11.1 over all arguments at once.
                    self.op(Arc::new(Max), &ids, name)?
                } else {
                    let arith = if max { Arith::Max } else { Arith::Min };
                    let mut acc = ids[0];
                    for (k, &b) in ids.iter().enumerate().skip(1) {
                        let last = k + 1 == ids.len();
                        acc = self.op(Arc::new(Broadcast(arith)), &[acc, b], if last { name } else { None })?;
                    }
                    acc
                }
            }
        };
        Ok((id, shape))
    }
}

/// The decision rule: as declared, else argmax for several outputs, the sign for a margin loss's
/// prediction, 0.5 otherwise.
fn decision(config: &ModelConfig, predict: Shape, margin: bool) -> Result<Decision> {
    let at = "[model] decision:";
    let several = predict.0 != Dim::N(1);
    if config.threshold.is_some() && config.decision != Some(DecisionName::Threshold) {
        return Err(bad("[model] threshold:", "needs decision = \"threshold\""));
    }
    Ok(match config.decision {
        None if several => Decision::Argmax,
        None => Decision::Above(if margin { 0.0 } else { 0.5 }),
        Some(DecisionName::Argmax) if several => Decision::Argmax,
        Some(DecisionName::Argmax) => {
            return Err(bad(
                at,
                format!("argmax of `{}`'s one output is always class 0; use sign or threshold", config.predict),
            ))
        }
        Some(_) if several => {
            return Err(bad(
                at,
                format!(
                    "`{}` has {} outputs; sign and threshold classify one output (use argmax)",
                    config.predict, predict.0
                ),
            ))
        }
        Some(DecisionName::Sign) => Decision::Above(0.0),
        Some(DecisionName::Threshold) => {
            let t = config.threshold.unwrap_or(0.5);
            if !t.is_finite() {
                return Err(bad("[model] threshold:", format!("{t} is not a finite number")));
            }
            Decision::Above(t)
        }
    })
}

/// A constant's matrix, checked.
fn constant_value(name: &str, decl: &ConstantDecl) -> Result<Mat<f64>> {
    let at = format!("[model.constants] {name}:");
    let m = match decl {
        ConstantDecl::Value(ValueDecl::Scalar(x)) => Mat::from_element(1, 1, *x),
        ConstantDecl::Value(ValueDecl::Vector(xs)) => Mat::from_column_slice(xs.len(), 1, xs),
        ConstantDecl::Value(ValueDecl::Matrix(rows)) => {
            let cols = rows.first().map_or(0, Vec::len);
            if rows.iter().any(|r| r.len() != cols) {
                return Err(bad(at, format!("every row needs {cols} numbers, as the first")));
            }
            Mat::from_fn(rows.len(), cols, |i, j| rows[i][j])
        }
        ConstantDecl::Generated(g) if g.csv.is_some() => {
            return Err(bad(at, "a csv constant is read when the config loads (ModelConfig::read_constant_files)"));
        }
        ConstantDecl::Generated(g) => match (g.fill, &g.shape, g.identity) {
            (Some(x), Some(shape), None) => {
                let (r, c) = match shape[..] {
                    [] => (1, 1),
                    [r] => (r, 1),
                    [r, c] => (r, c),
                    _ => return Err(bad(at, format!("shape {shape:?} has more than 2 dimensions"))),
                };
                if r.checked_mul(c).is_none_or(|n| n > 1 << 28) {
                    return Err(bad(at, format!("shape {shape:?} has more than 2^28 entries")));
                }
                Mat::from_element(r, c, x)
            }
            (None, None, Some(n)) if n <= 1 << 14 => Mat::identity(n, n),
            (None, None, Some(n)) => return Err(bad(at, format!("identity = {n} is above 16384"))),
            _ => return Err(bad(at, "give fill with shape, or identity")),
        },
    };
    if m.is_empty() {
        return Err(bad(at, "has no entries"));
    }
    if let Some(x) = m.iter().find(|x| !x.is_finite()) {
        return Err(bad(at, format!("{x} is not finite")));
    }
    Ok(m)
}

/// The named nodes in an order where every node comes after the nodes it uses.
fn order_nodes(nodes: &IndexMap<String, Ast>) -> Result<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks: HashMap<&str, Mark> = nodes.keys().map(|k| (k.as_str(), Mark::New)).collect();
    let mut order = vec![];
    // Depth-first, iteratively (no recursion on user input), keeping the open path for the message.
    for start in nodes.keys() {
        if marks[start.as_str()] != Mark::New {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some(&(name, next)) = stack.last() {
            let deps: Vec<&str> = nodes[name].names().into_iter().filter(|n| nodes.contains_key(*n)).collect();
            if let Some(&dep) = deps.get(next) {
                stack.last_mut().expect("internal: non-empty").1 += 1;
                match marks[dep] {
                    Mark::New => {
                        marks.insert(dep, Mark::Open);
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|(n, _)| *n == dep).expect("internal: open node on the path");
                        let mut cycle: Vec<&str> = stack[from..].iter().map(|(n, _)| *n).collect();
                        cycle.push(dep);
                        return Err(bad("[model.nodes]", format!("cycle: {}", cycle.join(" -> "))));
                    }
                    Mark::Done => {}
                }
            } else {
                marks.insert(name, Mark::Done);
                order.push(name.to_string());
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// The terms of `loss` when it is a sum of `c * loss_function(p, y)` and data-free terms, with
/// their signed coefficients; `None` otherwise.
fn split_terms(ast: &Ast, sign: f64, out: &mut Vec<(f64, Ast)>) -> bool {
    match ast {
        Ast::Bin { op: BinOp::Plus, left, right, .. } => split_terms(left, sign, out) && split_terms(right, sign, out),
        Ast::Bin { op: BinOp::Minus, left, right, .. } => {
            split_terms(left, sign, out) && split_terms(right, -sign, out)
        }
        Ast::Neg(inner) => split_terms(inner, -sign, out),
        Ast::Bin { op: BinOp::Divide, left, right: divisor, .. } if matches!(**divisor, Ast::Num(c) if c != 0.0) => {
            let Ast::Num(c) = **divisor else { unreachable!("matched a number") };
            split_terms(left, sign / c, out)
        }
        Ast::Bin { op: BinOp::Times, left, right, .. } => match (&**left, &**right) {
            (Ast::Num(c), x) | (x, Ast::Num(c)) => split_terms(x, sign * c, out),
            _ => {
                out.push((sign, ast.clone()));
                true
            }
        },
        Ast::Num(_) => false,
        _ => {
            out.push((sign, ast.clone()));
            true
        }
    }
}

/// Builds the model of `config` for data whose features are named `features` (in order).
///
/// # Errors
/// One line naming the table, node or parameter: a syntax error (with column), an unknown name
/// or function, a cycle, a shape mismatch (both shapes), an unused parameter, a loss that is not
/// 1 x 1, inputs whose widths do not add up to the features, a target column that is not a
/// feature.
pub fn build<T: Float>(config: &ModelConfig, features: &[String]) -> Result<Model<T>> {
    let mut b = VectorDagBuilder::<T>::new();
    let mut known: HashMap<String, (NodeId, Shape)> = HashMap::new();
    let mut data = HashSet::new();
    let mut infos = vec![];
    let duplicate = |name: &str, known: &HashMap<String, (NodeId, Shape)>| -> Result<()> {
        if known.contains_key(name) {
            return Err(bad("[model]", format!("`{name}` is declared twice")));
        }
        Ok(())
    };
    // Targets taken from feature columns are moved after the inputs' columns by the caller;
    // here the inputs take the other features in order.
    let column_targets = config.column_targets();
    for c in &column_targets {
        if !features.iter().any(|f| f == c) {
            return Err(bad("[model.targets]", format!("no feature column `{c}` (features: {})", features.join(", "))));
        }
    }
    let input_features = features.len() - column_targets.len();
    let width: usize = config.inputs.values().sum();
    if config.inputs.is_empty() || width != input_features {
        return Err(bad(
            "[model.inputs]",
            format!("widths add up to {width} but the data has {input_features} input features"),
        ));
    }
    let mut inputs = vec![];
    let mut row = 0;
    for (name, &w) in &config.inputs {
        check_name("inputs", name)?;
        duplicate(name, &known)?;
        if w == 0 {
            return Err(bad(format!("[model.inputs] {name}:"), "width must be >= 1"));
        }
        let id = b.input(name)?;
        known.insert(name.clone(), (id, Shape(Dim::N(w), Dim::Batch)));
        data.insert(id);
        inputs.push((id, row..row + w));
        infos.push(NodeInfo {
            name: name.clone(),
            expression: "input".into(),
            shape: Shape(Dim::N(w), Dim::Batch),
            uses: vec![],
        });
        row += w;
    }
    let mut targets = vec![];
    let mut column_row = input_features;
    for (name, decl) in &config.targets {
        check_name("targets", name)?;
        duplicate(name, &known)?;
        let (width, source) = match decl {
            TargetDecl::Width(w) if *w >= 1 => (*w, TargetSource::Labels),
            TargetDecl::Width(_) => return Err(bad(format!("[model.targets] {name}:"), "width must be >= 1")),
            TargetDecl::Column(_) => {
                column_row += 1;
                (1, TargetSource::Features(column_row - 1..column_row))
            }
        };
        let id = b.input(name)?;
        known.insert(name.clone(), (id, Shape(Dim::N(width), Dim::Batch)));
        data.insert(id);
        targets.push(TargetSpec { node: id, width, source, plus_minus: false });
        infos.push(NodeInfo {
            name: name.clone(),
            expression: "target".into(),
            shape: Shape(Dim::N(width), Dim::Batch),
            uses: vec![],
        });
    }
    let mut params = vec![];
    let mut param_ids = vec![];
    for (name, decl) in &config.params {
        check_name("params", name)?;
        duplicate(name, &known)?;
        let p = param_init(name, decl)?;
        let id = b.param(name)?;
        let shape = Shape(Dim::N(p.rows), Dim::N(p.cols));
        known.insert(name.clone(), (id, shape));
        infos.push(NodeInfo { name: name.clone(), expression: "parameter".into(), shape, uses: vec![] });
        params.push(p);
        param_ids.push(id);
    }
    for (name, decl) in &config.constants {
        check_name("constants", name)?;
        duplicate(name, &known)?;
        let value = constant_value(name, decl)?;
        let shape = Shape(Dim::N(value.nrows()), Dim::N(value.ncols()));
        let id = b.op(name, Arc::new(Constant(value)), &[], false)?;
        known.insert(name.clone(), (id, shape));
        infos.push(NodeInfo { name: name.clone(), expression: "constant".into(), shape, uses: vec![] });
    }
    let batch_size = b.input("batch_size")?;
    let fraction = b.input("fraction")?;
    // Parse every node; check names before building anything.
    let mut asts: IndexMap<String, Ast> = IndexMap::new();
    for (name, src) in &config.nodes {
        check_name("nodes", name)?;
        duplicate(name, &known)?;
        let ast = parse(src).map_err(|e| bad(format!("[model.nodes] {name}:"), e.to_string()))?;
        asts.insert(name.clone(), ast);
    }
    let loss_text = config.loss.expression();
    let loss_ast = parse(&loss_text).map_err(|e| bad("[model] loss:", e.to_string()))?;
    let is_known = |n: &str| known.contains_key(n) || asts.contains_key(n);
    for (name, ast) in
        asts.iter().map(|(n, a)| (format!("[model.nodes] {n}:"), a)).chain([("[model] loss:".to_string(), &loss_ast)])
    {
        if let Some(unknown) = ast.names().into_iter().find(|n| !is_known(n)) {
            let what = if is_function(unknown) {
                "is a function; call it as name(...)"
            } else {
                "is not an input, target, parameter or node"
            };
            return Err(bad(name, format!("uses `{unknown}`, which {what}")));
        }
    }
    let used: HashSet<&str> = asts.values().chain([&loss_ast]).flat_map(|a| a.names()).collect();
    if let Some(p) = config.params.keys().find(|p| !used.contains(p.as_str())) {
        return Err(bad(format!("[model.params] {p}:"), "not used by any node or the loss"));
    }
    if !is_known(&config.predict) {
        return Err(bad("[model] predict:", format!("`{}` is not a node", config.predict)));
    }
    let order = order_nodes(&asts)?;
    let mut em = Emitter {
        b,
        known,
        data,
        batch_size,
        node: "",
        count: 0,
        loss_args: HashMap::new(),
        args: HashMap::new(),
        ops: HashMap::new(),
        shapes: HashMap::new(),
        batch_means: HashMap::new(),
        noise: None,
        extra_params: vec![],
        running: vec![],
        mixing: HashSet::new(),
    };
    for name in &order {
        em.node = name;
        em.count = 0;
        let (id, shape) = em.emit(&asts[name], Some(name))?;
        em.known.insert(name.clone(), (id, shape));
        let uses = asts[name].names().into_iter().map(String::from).collect();
        infos.push(NodeInfo { name: name.clone(), expression: config.nodes[name].clone(), shape, uses });
    }
    // The loss: a sum of per-sample losses and data-free terms may be cut into batch parts (the
    // data-free terms scaled by each part's fraction); anything else is evaluated whole.
    em.node = "loss";
    em.count = 0;
    let per_sample = |ast: &Ast| matches!(ast, Ast::Call { func, .. } if func == "batch_mean" || Loss::ALL.iter().any(|l| l.name() == func));
    let on_data = |em: &Emitter<T>, ast: &Ast| ast.names().iter().any(|n| em.data.contains(&em.known[*n].0));
    let mut split = vec![];
    let decomposable =
        split_terms(&loss_ast, 1.0, &mut split) && split.iter().all(|(_, a)| per_sample(a) || !on_data(&em, a));
    let scalar = |id: NodeId, shape: Shape, ast: &Ast| -> Result<NodeId> {
        if shape == Shape::SCALAR {
            Ok(id)
        } else {
            Err(bad(format!("loss = {ast}:"), format!("is {shape}, not 1 x 1; reduce it (sum(...))")))
        }
    };
    let (loss_id, terms) = if !decomposable {
        let (id, shape) = em.emit(&loss_ast, Some("loss"))?;
        (scalar(id, shape, &loss_ast)?, None)
    } else {
        let single = split.len() == 1 && split[0].0 == 1.0 && per_sample(&split[0].1);
        let mut terms = vec![];
        let mut pieces = vec![];
        for (coefficient, ast) in &split {
            let name = single.then_some("loss");
            let (id, shape) = em.emit(ast, name)?;
            let id = scalar(id, shape, ast)?;
            if let Some(&(prediction, target)) = em.loss_args.get(&id) {
                let Ast::Call { func, .. } = ast else { unreachable!("a loss node comes from a call") };
                let loss = *Loss::ALL.iter().find(|l| l.name() == func).expect("internal: a loss name");
                terms.push(LossTerm::Samples { coefficient: *coefficient, loss, prediction, target });
                pieces.push((*coefficient, id));
            } else if let Some(&values) = em.batch_means.get(&id) {
                terms.push(LossTerm::Mean { coefficient: *coefficient, values });
                pieces.push((*coefficient, id));
            } else {
                terms.push(LossTerm::Parameters { coefficient: *coefficient, node: id });
                pieces.push((*coefficient, em.op(Arc::new(Broadcast(Arith::Times)), &[fraction, id], None)?));
            }
        }
        let id = if single {
            pieces[0].1
        } else {
            let scaled: Vec<NodeId> = pieces
                .iter()
                .map(
                    |&(c, id)| {
                        if c == 1.0 {
                            Ok(id)
                        } else {
                            em.op(Arc::new(Affine { scale: c, shift: 0.0 }), &[id], None)
                        }
                    },
                )
                .collect::<Result<_>>()?;
            let mut total = scaled[0];
            for (k, &s) in scaled.iter().enumerate().skip(1) {
                let name = (k + 1 == scaled.len()).then_some("loss");
                total = em.op(Arc::new(Broadcast(Arith::Plus)), &[total, s], name)?;
            }
            if scaled.len() == 1 {
                total = em.op(Arc::new(Activation::Identity), &[total], Some("loss"))?;
            }
            total
        };
        // A per-sample term whose values mix the samples of a batch (a sum or mean over the
        // batch, a product through the batch axis) cannot be cut into parts: the graph, not the
        // syntax, decides, and such a loss runs on each whole batch and on a whole set.
        let coupled = em.batch_coupled();
        let splits = terms.iter().all(|t| match *t {
            LossTerm::Samples { prediction, target, .. } => !coupled[prediction.index()] && !coupled[target.index()],
            LossTerm::Mean { values, .. } => !coupled[values.index()],
            LossTerm::Parameters { .. } => true,
        });
        (id, splits.then_some(terms))
    };
    // Every parameter must reach the loss, or training could not move it.
    let mut reached = HashSet::from([loss_id]);
    let mut stack = vec![loss_id];
    while let Some(id) = stack.pop() {
        for &a in em.args.get(&id).into_iter().flatten() {
            if reached.insert(a) {
                stack.push(a);
            }
        }
    }
    if let Some(p) = params.iter().zip(&param_ids).find(|(p, id)| !p.frozen && !reached.contains(id)) {
        return Err(bad(
            format!("[model.params] {}:", p.0.name),
            "does not reach the loss (no gradient would move it)",
        ));
    }
    let uses = loss_ast.names().into_iter().map(String::from).collect();
    infos.push(NodeInfo { name: "loss".into(), expression: loss_text, shape: Shape::SCALAR, uses });
    let (predict, predict_shape) = em.known[&config.predict];
    if predict_shape.1 != Dim::Batch {
        return Err(bad(
            "[model] predict:",
            format!("`{}` is {predict_shape}, not one column per sample", config.predict),
        ));
    }
    // Targets of margin losses take ±1 for labels 0/1, and their predictions classify by sign.
    let margin_losses: Vec<(NodeId, NodeId)> = terms
        .as_ref()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| match *t {
                    LossTerm::Samples { loss, prediction, target, .. } if cg_nn::margin(loss) => {
                        Some((prediction, target))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    for t in &mut targets {
        t.plus_minus = margin_losses.iter().any(|&(_, y)| y == t.node);
    }
    let margin = margin_losses.iter().any(|&(o, _)| o == predict);
    let decision = decision(config, predict_shape, margin)?;
    let Emitter { b, noise, extra_params, running, .. } = em;
    for (p, id) in extra_params {
        params.push(p);
        param_ids.push(id);
    }
    let index = |id: NodeId| param_ids.iter().position(|&p| p == id).expect("internal: a running statistic");
    let running = running
        .into_iter()
        .map(|(input, mean, var, momentum)| RunningStats { input, mean: index(mean), var: index(var), momentum })
        .collect();
    let network = Network {
        dag: b.build()?,
        inputs,
        targets,
        batch_size,
        fraction,
        loss: loss_id,
        terms,
        predict,
        decision,
        noise,
        running,
        params: param_ids,
        param_names: params.iter().map(|p| p.name.clone()).collect(),
        frozen: params.iter().map(|p| p.frozen).collect(),
    };
    Ok(Model { network, nodes: infos, params })
}
