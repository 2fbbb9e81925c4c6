//! `kind = "graph"`: one scalar computational graph written as named expressions; computes its
//! values, the loss, and every derivative algorithm of `cg-autodiff`, and cross-checks them.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use cg_autodiff::Tape;
use cg_core::{NodeId, Role, Validate};
use cg_model::scalar::{ScalarGraphConfig, ScalarModel};
use cg_optim::{OptimizerConfig, OptimizerParams};
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Experiment, KindConfig};
use crate::{json_file, push_graph, Cost, Outcome, RunOptions};

/// `kind = "graph"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphFile {
    #[allow(dead_code)]
    kind: String,
    /// The scalar graph: inputs, weights, named expression nodes, outputs and loss.
    graph: ScalarGraphConfig,
    /// Minimise the loss over the weights.
    optimize: Option<OptimizeConfig>,
}

/// `[optimize]`: the method and its settings as in `[optimizer]`, and the number of steps.
#[derive(Debug, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct OptimizeConfig {
    steps: usize,
    optimizer: OptimizerConfig,
}

/// `[optimizer]`'s schema with `steps` added.
impl schemars::JsonSchema for OptimizeConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptimizeConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = OptimizerConfig::json_schema(generator);
        let object = schema.ensure_object();
        object.insert(
            "description".into(),
            json!("Minimise the loss over the weights: the optimiser's settings and the number of steps."),
        );
        if let Some(Value::Object(properties)) = object.get_mut("properties") {
            properties
                .insert("steps".into(), json!({"type": "integer", "minimum": 0, "description": "Optimiser steps."}));
        }
        if let Some(Value::Array(required)) = object.get_mut("required") {
            required.push(json!("steps"));
        }
        schema
    }
}

impl TryFrom<toml::Table> for OptimizeConfig {
    type Error = String;

    /// `steps`, then the rest as an `[optimizer]` table (so unknown fields are still refused).
    fn try_from(mut table: toml::Table) -> Result<OptimizeConfig, String> {
        let steps = match table.remove("steps") {
            Some(toml::Value::Integer(n)) if n >= 0 => n as usize,
            Some(other) => return Err(format!("steps: {other} is not a count")),
            None => return Err("missing field `steps`".into()),
        };
        let optimizer = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| e.message().to_string())?;
        Ok(OptimizeConfig { steps, optimizer })
    }
}

impl KindConfig for GraphFile {
    const NAME: &'static str = "graph";
    const SUMMARY: &'static str =
        "a scalar computational graph: values, loss and every derivative algorithm, cross-checked";
    type Experiment = GraphParams;

    fn validate(self, _base: &Path) -> Result<GraphParams> {
        let has_weights = !self.graph.weights.is_empty();
        let mut params = GraphParams { model: self.graph.build()?, optimize: None };
        if let Some(o) = self.optimize {
            if !has_weights {
                bail!("[optimize] needs weights to move: [graph] weights is empty");
            }
            if o.steps == 0 {
                bail!("[optimize] steps = 0 is out of range (>= 1)");
            }
            params.optimize = Some((o.optimizer.validate().map_err(|e| anyhow!("[optimize] {e}"))?, o.steps));
        }
        Ok(params)
    }
}

/// A validated graph experiment.
pub struct GraphParams {
    model: ScalarModel,
    /// `[optimize]`: the optimiser and the number of steps.
    optimize: Option<(OptimizerParams, usize)>,
}

impl GraphParams {
    fn name(&self, id: NodeId) -> String {
        self.model.dag.name(id).to_string()
    }
}

impl Experiment for GraphParams {
    /// graph.json's all-pairs table grows as nodes²; path enumeration is capped by `path_limit`
    /// per pair.
    fn cost(&self) -> Cost {
        let n = self.model.ids.len() as f64;
        let steps = self.optimize.as_ref().map_or(0.0, |o| o.1 as f64);
        Cost::default()
            .memory("the all-pairs derivatives in graph.json", 200.0 * n * n)
            .work("all-pairs derivatives", n * n * n)
            .work("path enumeration", n * n * self.model.path_limit as f64)
            .work("optimisation steps", steps * 10.0 * n)
            .steps("the optimisation steps", steps)
    }

    /// Runs every algorithm and renders `graph.json` and the drawing (`push_graph`).
    ///
    /// # Errors
    /// A non-finite value or derivative, naming the first node where it appeared.
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let dag = &self.model.dag;
        let mut tape = self.model.tape();
        dag.forward(&mut tape).map_err(|e| anyhow!("[graph] {e}"))?;
        let (loss, seeds) = self.model.objective(&tape);
        if let Some((expr, args)) = &self.model.loss {
            let bad = seeds.iter().find(|(_, d)| !d.is_finite());
            if !loss.is_finite() || bad.is_some() {
                let at: Vec<String> = args.iter().map(|&a| format!("{} = {}", self.name(a), tape.value(a))).collect();
                let what = match bad {
                    Some((id, d)) if loss.is_finite() => {
                        format!("has derivative {d} with respect to `{}`", self.name(*id))
                    }
                    _ => format!("is {loss}"),
                };
                bail!("[graph] loss: {expr} {what} at {}", at.join(", "));
            }
        }
        let gradient = dag.reverse(&tape, &seeds).map_err(|e| anyhow!("[graph] {e}"))?;
        let all_pairs = dag.all_pairs(&tape);
        let sources: Vec<NodeId> = dag.sources().collect();

        let mut checks = Agreement::default();
        let per_name = |f: &dyn Fn(NodeId) -> f64| -> Map<String, Value> {
            self.model.ids.iter().map(|&id| (self.name(id), json!(f(id)))).collect()
        };
        let values = per_name(&|id| tape.value(id));
        let gradient_json = per_name(&|id| gradient[id]);

        let mut all_pairs_json = Map::new();
        for &i in &self.model.ids {
            let row: Map<String, Value> = all_pairs.row(i).iter().map(|&(j, s)| (self.name(j), json!(s))).collect();
            if !row.is_empty() {
                all_pairs_json.insert(self.name(i), Value::Object(row));
            }
        }
        // Reverse mode and all-pairs must agree: Δ(i) = Σ_t (∂L/∂y(t)) S(i, t).
        for &i in &self.model.ids {
            let via_pairs: f64 =
                seeds.iter().map(|&(t, c)| if t == i { c } else { c * all_pairs.get(i, t).unwrap_or(0.0) }).sum();
            checks.note("reverse_vs_all_pairs", gradient[i], via_pairs);
        }

        let mut forward_json = Map::new();
        for &s in &sources {
            let t = dag.tangents(&tape, s);
            let row: Map<String, Value> = self
                .model
                .ids
                .iter()
                .filter(|&&j| !dag.role(j).is_source())
                .map(|&j| (self.name(j), json!(t[j])))
                .collect();
            let via_tangents: f64 = seeds.iter().map(|&(o, c)| c * t[o]).sum();
            checks.note("reverse_vs_forward", gradient[s], via_tangents);
            forward_json.insert(self.name(s), Value::Object(row));
        }

        let (pathwise_json, path_counts, pathwise_note) = self.pathwise(&tape, &sources, &all_pairs, &mut checks)?;

        let objective = |tp: &Tape| self.model.objective(tp).0;
        let mut fd_json = Map::new();
        for &id in &self.model.ids {
            let fd = dag
                .finite_difference(&tape, id, self.model.fd_step, objective)
                .map_err(|e| anyhow!("[graph] finite differences: {e}"))?;
            checks.note("reverse_vs_finite_difference", gradient[id], fd);
            fd_json.insert(self.name(id), json!(fd));
        }

        let mut report = Map::new();
        report.insert("nodes".into(), json!(dag.node_count()));
        report.insert("edges".into(), json!(dag.edge_count()));
        report.insert("order".into(), json!(dag.order().iter().map(|&id| self.name(id)).collect::<Vec<_>>()));
        report.insert("values".into(), Value::Object(values));
        report.insert("loss".into(), if self.model.loss.is_some() { json!(loss) } else { Value::Null });
        report.insert("gradient".into(), Value::Object(gradient_json));
        report.insert("all_pairs".into(), Value::Object(all_pairs_json));
        report.insert("forward".into(), Value::Object(forward_json));
        if let Some(p) = pathwise_json {
            report.insert("pathwise".into(), Value::Object(p));
        }
        report.insert("path_counts".into(), Value::Object(path_counts));
        if let Some(note) = &pathwise_note {
            report.insert("pathwise_note".into(), json!(note));
        }
        report.insert("finite_difference".into(), Value::Object(fd_json));
        report.insert("agreement".into(), checks.to_json());

        let summary = self.summary(
            title,
            &tape,
            loss,
            &seeds,
            &gradient,
            &checks,
            pathwise_note.as_deref(),
            all_pairs.pair_count(),
        );
        let mut charts = vec![];
        if let Some((optimizer, steps)) = self.optimize {
            let (json, chart) = self.minimise(optimizer, steps, title)?;
            report.insert("optimize".into(), json);
            charts.push(chart);
        }
        let mut files = vec![json_file("graph.json", &Value::Object(report))?];
        push_graph(&mut files, "graph", &self.picture(title, &tape))?;
        for chart in charts {
            crate::push_figure(&mut files, "loss", chart.render())?;
        }
        Ok(Outcome { files, summary, check: crate::CheckScope::Full, checkpoint: None })
    }
}

impl GraphParams {
    /// Minimises the loss over the weights (`ScalarModel::minimise`): its numbers for graph.json
    /// and the loss curve's chart.
    fn minimise(&self, optimizer: OptimizerParams, steps: usize, title: &str) -> Result<(Value, LineChart)> {
        let m = self.model.minimise(optimizer, steps)?;
        let final_weights: Map<String, Value> = m.final_weights.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
        let json = json!({
            "steps": m.steps,
            "stop": m.stop.to_string(),
            "final_loss": m.final_loss,
            "final_gradient_norm": m.final_gradient_norm,
            "final_weights": final_weights,
            "loss_curve": m.loss_curve,
        });
        let chart = LineChart {
            title: format!("{title}: loss while the weights descend"),
            x_label: "step".into(),
            y_label: "loss".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            series: vec![Series::line("loss", m.loss_curve.iter().enumerate().map(|(k, &l)| (k as f64, l)).collect())],
        };
        Ok((json, chart))
    }

    /// Pathwise sums for every (source, output) pair, if every pair is within the path limit.
    #[allow(clippy::type_complexity)]
    fn pathwise(
        &self,
        tape: &Tape,
        sources: &[NodeId],
        all_pairs: &cg_autodiff::AllPairs,
        checks: &mut Agreement,
    ) -> Result<(Option<Map<String, Value>>, Map<String, Value>, Option<String>)> {
        let dag = &self.model.dag;
        let mut counts = Map::new();
        let mut over = vec![];
        for &s in sources {
            let mut row = Map::new();
            for &t in &self.model.outputs {
                let c = dag.path_count(s, t);
                if c > u128::from(self.model.path_limit) {
                    over.push(format!("{} -> {}: {c} paths", self.name(s), self.name(t)));
                }
                row.insert(self.name(t), json!(u64::try_from(c).unwrap_or(u64::MAX)));
            }
            counts.insert(self.name(s), Value::Object(row));
        }
        if !over.is_empty() {
            let note = format!("pathwise omitted: over path_limit {} ({})", self.model.path_limit, over.join("; "));
            return Ok((None, counts, Some(note)));
        }
        let mut out = Map::new();
        for &s in sources {
            let mut row = Map::new();
            for &t in &self.model.outputs {
                let sum = dag.pathwise(tape, s, t, self.model.path_limit).map_err(|e| anyhow!("[graph] {e}"))?;
                if sum.paths > 0 {
                    checks.note("pathwise_vs_all_pairs", sum.value, all_pairs.get(s, t).unwrap_or(0.0));
                    row.insert(self.name(t), json!(sum.value));
                }
            }
            if !row.is_empty() {
                out.insert(self.name(s), Value::Object(row));
            }
        }
        Ok((Some(out), counts, None))
    }

    #[allow(clippy::too_many_arguments)]
    fn summary(
        &self,
        title: &str,
        tape: &Tape,
        loss: f64,
        seeds: &[(NodeId, f64)],
        gradient: &cg_autodiff::PerNode,
        checks: &Agreement,
        pathwise_note: Option<&str>,
        pairs: usize,
    ) -> String {
        let dag = &self.model.dag;
        let mut s = format!("{title}: {} nodes, {} edges\n", dag.node_count(), dag.edge_count());
        for &(t, _) in seeds {
            let _ = writeln!(s, "  {} = {}", self.name(t), fmt_num(tape.value(t)));
        }
        let wrt = if self.model.loss.is_some() { "L".to_string() } else { self.name(seeds[0].0) };
        if self.model.loss.is_some() {
            let _ = writeln!(s, "  loss L = {}", fmt_num(loss));
        }
        let grads: Vec<String> =
            dag.sources().map(|id| format!("d{wrt}/d{} = {}", self.name(id), fmt_num(gradient[id]))).collect();
        let _ = writeln!(s, "  {}", grads.join(", "));
        let _ = writeln!(
            s,
            "  all-pairs: {pairs} pairs; {}",
            pathwise_note.unwrap_or("pathwise: all (source, output) pairs enumerated")
        );
        let _ = write!(s, "  largest relative disagreement: {}", checks.describe());
        s
    }

    /// The drawing of Figure 11.8: nodes (in `ids` order) with expression and value, edges
    /// labelled with the local partial derivatives z(i, j).
    fn picture(&self, title: &str, tape: &Tape) -> GraphPicture {
        let dag = &self.model.dag;
        let index: HashMap<NodeId, usize> = self.model.ids.iter().enumerate().map(|(k, &id)| (id, k)).collect();
        let nodes = self
            .model
            .ids
            .iter()
            .map(|&id| {
                let name = self.name(id);
                let (label, kind) = match dag.function(id) {
                    Some(f) => (
                        format!("{name} = {}", f.describe()),
                        if dag.role(id) == Role::Output { NodeKind::Output } else { NodeKind::Inner },
                    ),
                    None => (format!("{name} ({})", dag.role(id)), NodeKind::Source),
                };
                NodeLabel { id: name, lines: vec![label, fmt_num(tape.value(id))], kind }
            })
            .collect();
        let mut edges = vec![];
        for &j in dag.order() {
            for (i, z) in dag.local_partials(tape, j) {
                edges.push((index[&i], index[&j], Some(fmt_num(z))));
            }
        }
        GraphPicture { title: title.to_string(), nodes, edges, directed: true }
    }
}

/// Four significant digits, for drawings and summaries (the JSON keeps full precision).
fn fmt_num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        let s = format!("{x:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{x:.3e}")
    }
}

/// Largest relative disagreement between pairs of algorithms: |a - b| / max(1, |a|, |b|).
#[derive(Default)]
struct Agreement(BTreeMap<&'static str, f64>);

impl Agreement {
    fn note(&mut self, what: &'static str, a: f64, b: f64) {
        let d = (a - b).abs() / a.abs().max(b.abs()).max(1.0);
        let e = self.0.entry(what).or_insert(0.0);
        *e = e.max(d);
    }

    fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k} {v:.1e}")).collect();
        parts.join(", ")
    }
}
