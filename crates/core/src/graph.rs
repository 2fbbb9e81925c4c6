//! Nodes, edges and the [`Graph`] container.

use std::collections::HashMap;
use std::fmt;

use petgraph::visit::EdgeRef;
use petgraph::{Directed, EdgeType, Undirected};

use crate::{Error, Result};

/// A node of a [`Graph`]. Ids are dense and follow insertion order, which makes them usable as
/// indices into per-node arrays and makes every ordering derived from them deterministic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    /// Position of the node in insertion order (0-based).
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The id at position `index` of insertion order, for code that keeps per-node arrays. An id
    /// only means something for the graph it was made for.
    pub fn from_index(index: usize) -> NodeId {
        NodeId(index as u32)
    }

    fn graph_index(self) -> petgraph::graph::NodeIndex<u32> {
        petgraph::graph::NodeIndex::new(self.index())
    }
}

/// What a node is for (section 11.2): inputs are fixed from data, weights are learnable parameters
/// turned into nodes (Figure 11.10), hidden and output nodes are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Data fed in from outside.
    Input,
    /// A parameter learned by training.
    Weight,
    /// A computed node that is not an output.
    Hidden,
    /// A computed node whose value is a result (a loss, a prediction).
    Output,
}

impl Role {
    /// Inputs and weights get their values from outside; the rest are computed.
    pub fn is_source(self) -> bool {
        matches!(self, Role::Input | Role::Weight)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Input => "input",
            Role::Weight => "weight",
            Role::Hidden => "hidden",
            Role::Output => "output",
        })
    }
}

/// Shape of a continuous variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// One number.
    Scalar,
    /// A column of this many numbers.
    Vector(usize),
    /// A matrix of (rows, columns).
    Matrix(usize, usize),
}

/// The set of values a discrete variable may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// {0, 1}, as in Boltzmann machines.
    Binary,
    /// {-1, +1}, as in Hopfield networks and Ising models.
    Spin,
    /// {0, 1, ..., k-1}, as in Bayesian networks.
    Categorical(u32),
}

impl Domain {
    /// Whether `value` is one of the domain's values (exact comparison: these are small integers).
    pub fn contains(self, value: f64) -> bool {
        match self {
            Domain::Binary => value == 0.0 || value == 1.0,
            Domain::Spin => value == -1.0 || value == 1.0,
            Domain::Categorical(k) => value >= 0.0 && value < f64::from(k) && value.fract() == 0.0,
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Domain::Binary => f.write_str("binary {0, 1}"),
            Domain::Spin => f.write_str("spin {-1, +1}"),
            Domain::Categorical(k) => write!(f, "categorical {{0..{}}}", k.saturating_sub(1)),
        }
    }
}

/// The variable a node holds (section 11.1: continuous, discrete or probabilistic; a probabilistic
/// node is a discrete or continuous variable whose value is sampled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variable {
    /// A real value of this shape.
    Continuous(Shape),
    /// A value from a finite set.
    Discrete(Domain),
}

impl Variable {
    /// A continuous scalar, the variable of the scalar DAGs of section 11.3.
    pub const SCALAR: Variable = Variable::Continuous(Shape::Scalar);

    /// Checks that `value` can be held by this variable (discrete domains only; continuous
    /// variables take any number).
    pub fn check(self, name: &str, value: f64) -> Result<()> {
        match self {
            Variable::Discrete(domain) if !domain.contains(value) => {
                Err(Error::OutOfDomain { name: name.to_string(), value, domain: domain.to_string() })
            }
            _ => Ok(()),
        }
    }
}

/// A named node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The node's name, unique in its graph.
    pub name: String,
    /// Its role in training.
    pub role: Role,
    /// The kind of value it holds.
    pub variable: Variable,
}

/// The weight an edge carries, if any.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum EdgeWeight {
    /// The edge only says "depends on" (its derivative comes from the node's local function).
    #[default]
    None,
    /// A weight that training does not change.
    Fixed(f64),
    /// A weight that training changes (Hopfield and Boltzmann weights, for instance).
    Learnable(f64),
}

impl EdgeWeight {
    /// The numeric weight, if the edge has one.
    pub fn value(self) -> Option<f64> {
        match self {
            EdgeWeight::None => None,
            EdgeWeight::Fixed(w) | EdgeWeight::Learnable(w) => Some(w),
        }
    }
}

/// An edge's payload.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Edge {
    /// The edge's weight, if it has one.
    pub weight: EdgeWeight,
}

/// A computational graph: named nodes and at most one edge per ordered pair (directed) or per
/// unordered pair (undirected). `Ty` is [`Directed`] or [`Undirected`].
#[derive(Clone, Debug)]
pub struct Graph<Ty: EdgeType = Directed> {
    inner: petgraph::Graph<Node, Edge, Ty, u32>,
    by_name: HashMap<String, NodeId>,
}

/// A directed graph (the DAGs of section 11.3, once checked acyclic).
pub type DiGraph = Graph<Directed>;
/// An undirected graph (Hopfield networks, Boltzmann machines, Markov networks).
pub type UnGraph = Graph<Undirected>;

impl<Ty: EdgeType> Default for Graph<Ty> {
    fn default() -> Self {
        Self { inner: petgraph::Graph::default(), by_name: HashMap::new() }
    }
}

impl<Ty: EdgeType> Graph<Ty> {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node.
    ///
    /// # Errors
    /// [`Error::DuplicateNode`] if a node of that name exists.
    pub fn add_node(&mut self, name: &str, role: Role, variable: Variable) -> Result<NodeId> {
        if self.by_name.contains_key(name) {
            return Err(Error::DuplicateNode { name: name.to_string() });
        }
        let idx = self.inner.add_node(Node { name: name.to_string(), role, variable });
        let id = NodeId(idx.index() as u32);
        self.by_name.insert(name.to_string(), id);
        Ok(id)
    }

    /// Adds an edge `from -> to` (for undirected graphs, between `from` and `to`).
    ///
    /// # Errors
    /// [`Error::DuplicateEdge`] if the two nodes are already joined (in either direction, for
    /// undirected graphs).
    ///
    /// # Panics
    /// If an id does not belong to this graph (ids only come from [`Graph::add_node`]).
    pub fn add_edge(&mut self, from: NodeId, to: NodeId, weight: EdgeWeight) -> Result<()> {
        let (a, b) = (from.graph_index(), to.graph_index());
        if self.inner.find_edge(a, b).is_some() {
            return Err(Error::DuplicateEdge { from: self.node(from).name.clone(), to: self.node(to).name.clone() });
        }
        self.inner.add_edge(a, b, Edge { weight });
        Ok(())
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.inner[id.graph_index()]
    }

    /// The id of the node with this name.
    ///
    /// # Errors
    /// [`Error::UnknownNode`] if there is none.
    pub fn id(&self, name: &str) -> Result<NodeId> {
        self.by_name.get(name).copied().ok_or_else(|| Error::UnknownNode { name: name.to_string() })
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.inner.node_count()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.inner.edge_count()
    }

    /// All node ids in insertion order.
    pub fn node_ids(&self) -> impl ExactSizeIterator<Item = NodeId> + '_ {
        (0..self.node_count() as u32).map(NodeId)
    }

    /// All edges as `(from, to, edge)`, in insertion order.
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId, &Edge)> + '_ {
        self.inner
            .edge_references()
            .map(|e| (NodeId(e.source().index() as u32), NodeId(e.target().index() as u32), e.weight()))
    }

    /// The edge between two nodes (`from -> to` when directed), if any.
    pub fn edge(&self, from: NodeId, to: NodeId) -> Option<&Edge> {
        self.inner.find_edge(from.graph_index(), to.graph_index()).map(|e| &self.inner[e])
    }

    /// Whether the graph is directed.
    pub fn is_directed(&self) -> bool {
        Ty::is_directed()
    }

    /// The underlying petgraph graph, for algorithms this crate does not wrap. Node and edge
    /// indices there equal [`NodeId::index`] and insertion order.
    pub fn as_petgraph(&self) -> &petgraph::Graph<Node, Edge, Ty, u32> {
        &self.inner
    }

    /// Ids sorted ascending: petgraph lists neighbours newest first, callers want insertion order.
    fn sorted(&self, it: impl Iterator<Item = petgraph::graph::NodeIndex<u32>>) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = it.map(|i| NodeId(i.index() as u32)).collect();
        ids.sort_unstable();
        ids
    }
}

impl Graph<Directed> {
    /// Tails of the edges into `id` (the arguments of its local function), in insertion order.
    pub fn parents(&self, id: NodeId) -> Vec<NodeId> {
        self.sorted(self.inner.neighbors_directed(id.graph_index(), petgraph::Incoming))
    }

    /// Heads of the edges out of `id` (the set A(i) of the chapter), in insertion order.
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        self.sorted(self.inner.neighbors_directed(id.graph_index(), petgraph::Outgoing))
    }
}

impl Graph<Undirected> {
    /// The nodes joined to `id`, in insertion order.
    pub fn neighbors(&self, id: NodeId) -> Vec<NodeId> {
        self.sorted(self.inner.neighbors(id.graph_index()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_dense_ids_in_insertion_order() {
        let mut g = DiGraph::new();
        let a = g.add_node("a", Role::Input, Variable::SCALAR).unwrap();
        let b = g.add_node("b", Role::Hidden, Variable::SCALAR).unwrap();
        assert_eq!((a.index(), b.index()), (0, 1));
        assert_eq!(g.id("b").unwrap(), b);
        assert_eq!(g.id("zz"), Err(Error::UnknownNode { name: "zz".into() }));
        assert_eq!(g.add_node("a", Role::Input, Variable::SCALAR), Err(Error::DuplicateNode { name: "a".into() }));
    }

    #[test]
    fn directed_edges_have_parents_and_children() {
        let mut g = DiGraph::new();
        let ids: Vec<_> =
            ["x", "y", "z"].iter().map(|n| g.add_node(n, Role::Hidden, Variable::SCALAR).unwrap()).collect();
        g.add_edge(ids[1], ids[2], EdgeWeight::None).unwrap();
        g.add_edge(ids[0], ids[2], EdgeWeight::Fixed(2.0)).unwrap();
        assert_eq!(g.parents(ids[2]), vec![ids[0], ids[1]]);
        assert_eq!(g.children(ids[0]), vec![ids[2]]);
        assert_eq!(g.edge(ids[0], ids[2]).unwrap().weight.value(), Some(2.0));
        assert!(g.edge(ids[2], ids[0]).is_none(), "directed edges have a direction");
        assert!(matches!(g.add_edge(ids[1], ids[2], EdgeWeight::None), Err(Error::DuplicateEdge { .. })));
    }

    #[test]
    fn undirected_edges_join_both_ways() {
        let mut g = UnGraph::new();
        let spin = Variable::Discrete(Domain::Spin);
        let a = g.add_node("a", Role::Hidden, spin).unwrap();
        let b = g.add_node("b", Role::Hidden, spin).unwrap();
        g.add_edge(a, b, EdgeWeight::Learnable(0.5)).unwrap();
        assert_eq!(g.neighbors(b), vec![a]);
        assert_eq!(g.edge(b, a).unwrap().weight, EdgeWeight::Learnable(0.5));
        assert!(g.add_edge(b, a, EdgeWeight::None).is_err(), "b-a is the same edge as a-b");
        assert!(!g.is_directed());
    }

    #[test]
    fn discrete_domains_reject_foreign_values() {
        assert!(Domain::Spin.contains(-1.0) && !Domain::Spin.contains(0.0));
        assert!(Domain::Binary.contains(0.0) && !Domain::Binary.contains(-1.0));
        assert!(Domain::Categorical(3).contains(2.0) && !Domain::Categorical(3).contains(3.0));
        assert!(!Domain::Categorical(3).contains(0.5));
        let err = Variable::Discrete(Domain::Spin).check("s1", 0.3).unwrap_err();
        assert_eq!(err.to_string(), "value 0.3 of node `s1` is not in its domain (spin {-1, +1})");
        assert!(Variable::SCALAR.check("x", 0.3).is_ok());
    }
}
