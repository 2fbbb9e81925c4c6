//! Building a directed computational graph from named expressions: each named node is one node of
//! the graph, and each distinct name its expression uses is one incoming edge.

use std::sync::Arc;

use cg_core::{DiGraph, EdgeWeight, NodeId, Role, Variable};

use crate::{Expr, ParseError};

/// A graph whose computed nodes carry expressions: `functions[id.index()]` is the expression of
/// the node and the ids of its arguments (in the order of [`Expr::vars`]), `None` for sources.
pub struct ExprGraph {
    /// The nodes and edges.
    pub graph: DiGraph,
    /// For each node, its expression and the nodes its variables name (`None` for a source).
    pub functions: Vec<Option<(Arc<Expr>, Vec<NodeId>)>>,
}

/// Why a set of named expressions does not make a graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// A node's expression does not parse.
    #[error("node `{node}`: {error}")]
    Parse {
        /// The node.
        node: String,
        /// The parser's error.
        error: ParseError,
    },
    /// An expression names a node that does not exist.
    #[error("node `{node}` uses `{name}`, which is not an input, weight or node")]
    UnknownName {
        /// The node.
        node: String,
        /// The name.
        name: String,
    },
    /// A node named like a function.
    #[error("`{name}` is a function or constant of the expression language and cannot name a node")]
    ReservedName {
        /// The name.
        name: String,
    },
    /// A node name that is not an identifier.
    #[error("`{name}` is not a valid node name (letters, digits and `_`, not starting with a digit)")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The graph itself is wrong (a cycle, a name used twice).
    #[error(transparent)]
    Graph(#[from] cg_core::Error),
}

/// Builds the graph: `sources` are inputs and weights, `nodes` are `(name, expression, role)` for
/// computed nodes, in any order (a node may use one defined later). Ids follow the order sources
/// first, then nodes.
///
/// # Errors
/// The first problem found: a bad or reserved name, a duplicate name, a syntax error (with the
/// node and column) or a name that is used but not defined. Cycles are not checked here; they are
/// found when the graph is ordered.
///
/// ```
/// use cg_core::Role;
/// let g = cg_expr::build_graph(&[("x", Role::Input), ("w", Role::Weight)], &[("y", "tanh(w * x)", Role::Output)]).unwrap();
/// assert_eq!((g.graph.node_count(), g.graph.edge_count()), (3, 2));
/// // A name no node has is named with its node.
/// let err = cg_expr::build_graph(&[("x", Role::Input)], &[("y", "v * x", Role::Output)]).err().unwrap();
/// assert_eq!(err.to_string(), "node `y` uses `v`, which is not an input, weight or node");
/// ```
pub fn build_graph(sources: &[(&str, Role)], nodes: &[(&str, &str, Role)]) -> Result<ExprGraph, GraphError> {
    let mut graph = DiGraph::new();
    let names = sources.iter().map(|&(name, role)| (name, role)).chain(nodes.iter().map(|&(n, _, r)| (n, r)));
    for (name, role) in names {
        check_name(name)?;
        graph.add_node(name, role, Variable::SCALAR)?;
    }
    let mut functions = vec![None; graph.node_count()];
    for &(name, source, _) in nodes {
        let expr = Expr::parse(source).map_err(|error| GraphError::Parse { node: name.to_string(), error })?;
        let id = graph.id(name)?;
        let mut args = Vec::with_capacity(expr.vars().len());
        for var in expr.vars() {
            let arg =
                graph.id(var).map_err(|_| GraphError::UnknownName { node: name.to_string(), name: var.clone() })?;
            graph.add_edge(arg, id, EdgeWeight::None)?;
            args.push(arg);
        }
        functions[id.index()] = Some((Arc::new(expr), args));
    }
    Ok(ExprGraph { graph, functions })
}

fn check_name(name: &str) -> Result<(), GraphError> {
    let mut chars = name.chars();
    let valid =
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(GraphError::InvalidName { name: name.to_string() });
    }
    if crate::is_reserved(name) {
        return Err(GraphError::ReservedName { name: name.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edge_per_distinct_name() {
        let g = build_graph(&[("x", Role::Input)], &[("y", "x * x + sin(x)", Role::Output)]).unwrap();
        assert_eq!((g.graph.node_count(), g.graph.edge_count()), (2, 1));
        let (_, args) = g.functions[1].as_ref().unwrap();
        assert_eq!(args, &[g.graph.id("x").unwrap()]);
    }

    #[test]
    fn problems_name_the_node() {
        let src = [("x", Role::Input)];
        let err = |nodes: &[(&str, &str, Role)]| build_graph(&src, nodes).err().unwrap().to_string();
        assert_eq!(
            err(&[("y", "x +", Role::Output)]),
            "node `y`: column 4: expected a number, a name, `-` or `(`, found end of expression"
        );
        assert_eq!(err(&[("y", "x + z", Role::Output)]), "node `y` uses `z`, which is not an input, weight or node");
        assert_eq!(
            err(&[("sin", "x", Role::Output)]),
            "`sin` is a function or constant of the expression language and cannot name a node"
        );
        assert_eq!(err(&[("x", "1", Role::Output)]), "node `x` is defined twice");
        assert_eq!(
            err(&[("2y", "x", Role::Output)]),
            "`2y` is not a valid node name (letters, digits and `_`, not starting with a digit)"
        );
    }
}
