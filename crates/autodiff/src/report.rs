//! Every derivative algorithm of the crate on one evaluated graph, checked against each other:
//! the numbers a user compares by hand (Figure 11.8's values and gradients, the all-pairs table,
//! forward-mode tangents, the pathwise sums, central differences) and the largest relative
//! disagreement of each pair of algorithms.

use std::collections::BTreeMap;

use cg_core::NodeId;
use indexmap::IndexMap;
use serde::Serialize;

use crate::{Result, ScalarDag, Tape};

/// What [`ScalarDag::cross_check`] found; serialised, it is `graph.json` of a graph config (the
/// binary adds an optimisation's numbers after it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DerivativeReport {
    /// Nodes of the graph.
    pub nodes: usize,
    /// Edges of the graph.
    pub edges: usize,
    /// The nodes in topological order, by name.
    pub order: Vec<String>,
    /// Every node's value.
    pub values: IndexMap<String, f64>,
    /// The loss, when the graph has one (else the outputs are seeded with 1).
    pub loss: Option<f64>,
    /// Reverse mode: ∂L/∂y(i) for every node.
    pub gradient: IndexMap<String, f64>,
    /// S(i, j) = ∂y(j)/∂y(i) for every pair joined by a path, by row i.
    pub all_pairs: IndexMap<String, IndexMap<String, f64>>,
    /// Forward mode: from every source, ∂y(j)/∂y(source) for every computed node.
    pub forward: IndexMap<String, IndexMap<String, f64>>,
    /// Lemma 11.3.1's sums over paths, per (source, output) joined by a path; absent when a
    /// pair has more paths than the limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pathwise: Option<IndexMap<String, IndexMap<String, f64>>>,
    /// The number of paths from every source to every output.
    pub path_counts: IndexMap<String, IndexMap<String, u64>>,
    /// Why the pathwise sums are absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pathwise_note: Option<String>,
    /// Central differences (with Richardson extrapolation) of the objective, per node.
    pub finite_difference: IndexMap<String, f64>,
    /// The largest relative disagreement |a - b| / max(1, |a|, |b|) of each pair of algorithms.
    pub agreement: BTreeMap<&'static str, f64>,
}

impl DerivativeReport {
    fn note(&mut self, what: &'static str, a: f64, b: f64) {
        let d = (a - b).abs() / a.abs().max(b.abs()).max(1.0);
        let e = self.agreement.entry(what).or_insert(0.0);
        *e = e.max(d);
    }

    /// The disagreements as `name 1.2e-16, ...`.
    pub fn describe_agreement(&self) -> String {
        let parts: Vec<String> = self.agreement.iter().map(|(k, v)| format!("{k} {v:.1e}")).collect();
        parts.join(", ")
    }
}

impl ScalarDag {
    /// Runs every algorithm on `tape` (after a forward pass) and checks them against each other:
    /// reverse mode from `seeds` against all-pairs (Δ(i) = Σ_t seed(t) S(i, t)), against forward
    /// mode from each source and against central differences of `objective` (step `fd_step`);
    /// the pathwise sums against all-pairs when no (source, output) pair has more than
    /// `path_limit` paths. `ids` lists the nodes in the order the report names them; `loss` is
    /// the objective's value when the graph has a loss.
    ///
    /// ```
    /// use cg_autodiff::{NodeFunction, ScalarDag};
    /// use cg_core::Role;
    /// let built = cg_expr::build_graph(&[("x", Role::Input)], &[("y", "x * x", Role::Hidden), ("z", "sin(y) + y", Role::Output)]).unwrap();
    /// let functions = built.functions.into_iter().map(|f| f.map(|(func, args)| NodeFunction { func, args })).collect();
    /// let dag = ScalarDag::new(&built.graph, functions).unwrap();
    /// let [x, z] = ["x", "z"].map(|n| built.graph.id(n).unwrap());
    /// let mut tape = dag.tape();
    /// tape.set(x, 0.5);
    /// dag.forward(&mut tape).unwrap();
    /// let ids: Vec<_> = built.graph.node_ids().collect();
    /// let report = dag.cross_check(&tape, &ids, &[z], &[(z, 1.0)], None, |t| t.value(z), 1e-3, 1000).unwrap();
    /// // dz/dx = (cos(x²) + 1) 2x, and every pair of algorithms agrees to rounding.
    /// assert!((report.gradient["x"] - (0.25_f64.cos() + 1.0)).abs() < 1e-15);
    /// assert!(report.agreement.values().all(|&d| d < 1e-9), "{:?}", report.agreement);
    /// ```
    ///
    /// # Errors
    /// A non-finite gradient, or a non-finite value met by the pathwise sums or the finite
    /// differences.
    #[allow(clippy::too_many_arguments)]
    pub fn cross_check(
        &self,
        tape: &Tape,
        ids: &[NodeId],
        outputs: &[NodeId],
        seeds: &[(NodeId, f64)],
        loss: Option<f64>,
        objective: impl Fn(&Tape) -> f64,
        fd_step: f64,
        path_limit: u64,
    ) -> Result<DerivativeReport> {
        let name = |id: NodeId| self.name(id).to_string();
        let gradient = self.reverse(tape, seeds)?;
        let all_pairs = self.all_pairs(tape);
        let sources: Vec<NodeId> = self.sources().collect();
        let mut report = DerivativeReport {
            nodes: self.node_count(),
            edges: self.edge_count(),
            order: self.order().iter().map(|&id| name(id)).collect(),
            values: ids.iter().map(|&id| (name(id), tape.value(id))).collect(),
            loss,
            gradient: ids.iter().map(|&id| (name(id), gradient[id])).collect(),
            all_pairs: ids
                .iter()
                .map(|&i| (name(i), all_pairs.row(i).iter().map(|&(j, s)| (name(j), s)).collect::<IndexMap<_, _>>()))
                .filter(|(_, row)| !row.is_empty())
                .collect(),
            forward: IndexMap::new(),
            pathwise: None,
            path_counts: IndexMap::new(),
            pathwise_note: None,
            finite_difference: IndexMap::new(),
            agreement: BTreeMap::new(),
        };
        // Reverse mode and all-pairs must agree: Δ(i) = Σ_t (∂L/∂y(t)) S(i, t).
        for &i in ids {
            let via_pairs: f64 =
                seeds.iter().map(|&(t, c)| if t == i { c } else { c * all_pairs.get(i, t).unwrap_or(0.0) }).sum();
            report.note("reverse_vs_all_pairs", gradient[i], via_pairs);
        }
        for &s in &sources {
            let t = self.tangents(tape, s);
            let row = ids.iter().filter(|&&j| !self.role(j).is_source()).map(|&j| (name(j), t[j])).collect();
            let via_tangents: f64 = seeds.iter().map(|&(o, c)| c * t[o]).sum();
            report.note("reverse_vs_forward", gradient[s], via_tangents);
            report.forward.insert(name(s), row);
        }
        let mut over = vec![];
        for &s in &sources {
            let mut row = IndexMap::new();
            for &t in outputs {
                let c = self.path_count(s, t);
                if c > u128::from(path_limit) {
                    over.push(format!("{} -> {}: {c} paths", name(s), name(t)));
                }
                row.insert(name(t), u64::try_from(c).unwrap_or(u64::MAX));
            }
            report.path_counts.insert(name(s), row);
        }
        if over.is_empty() {
            let mut sums = IndexMap::new();
            for &s in &sources {
                let mut row = IndexMap::new();
                for &t in outputs {
                    let sum = self.pathwise(tape, s, t, path_limit)?;
                    if sum.paths > 0 {
                        report.note("pathwise_vs_all_pairs", sum.value, all_pairs.get(s, t).unwrap_or(0.0));
                        row.insert(name(t), sum.value);
                    }
                }
                if !row.is_empty() {
                    sums.insert(name(s), row);
                }
            }
            report.pathwise = Some(sums);
        } else {
            report.pathwise_note =
                Some(format!("pathwise omitted: over path_limit {path_limit} ({})", over.join("; ")));
        }
        for &id in ids {
            let fd = self.finite_difference(tape, id, fd_step, &objective)?;
            report.note("reverse_vs_finite_difference", gradient[id], fd);
            report.finite_difference.insert(name(id), fd);
        }
        Ok(report)
    }
}
