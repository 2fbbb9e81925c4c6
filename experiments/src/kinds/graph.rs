//! `kind = "graph"`: one scalar computational graph written as named expressions; computes its
//! values, the loss, and every derivative algorithm of `cg-autodiff`, and cross-checks them.

use std::collections::HashMap;
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
        let objective = |tp: &Tape| self.model.objective(tp).0;
        let report = dag
            .cross_check(
                &tape,
                &self.model.ids,
                &self.model.outputs,
                &seeds,
                self.model.loss.as_ref().map(|_| loss),
                objective,
                self.model.fd_step,
                self.model.path_limit,
            )
            .map_err(|e| anyhow!("[graph] {e}"))?;
        let summary = self.summary(title, &tape, loss, &seeds, &report);
        let mut charts = vec![];
        let mut optimized = None;
        if let Some((optimizer, steps)) = self.optimize {
            let (json, chart) = self.minimise(optimizer, steps, title)?;
            optimized = Some(json);
            charts.push(chart);
        }
        let mut json = serde_json::to_value(&report)?;
        if let (Some(o), Value::Object(map)) = (optimized, &mut json) {
            map.insert("optimize".into(), o);
        }
        let mut files = vec![json_file("graph.json", &json)?];
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
            x_log: false,
            series: vec![Series::line("loss", m.loss_curve.iter().enumerate().map(|(k, &l)| (k as f64, l)).collect())],
        };
        Ok((json, chart))
    }

    fn summary(
        &self,
        title: &str,
        tape: &Tape,
        loss: f64,
        seeds: &[(NodeId, f64)],
        report: &cg_autodiff::DerivativeReport,
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
        let grads: Vec<String> = dag
            .sources()
            .map(|id| format!("d{wrt}/d{} = {}", self.name(id), fmt_num(report.gradient[dag.name(id)])))
            .collect();
        let _ = writeln!(s, "  {}", grads.join(", "));
        let _ = writeln!(
            s,
            "  all-pairs: {} pairs; {}",
            report.all_pairs.values().map(|row| row.len()).sum::<usize>(),
            report.pathwise_note.as_deref().unwrap_or("pathwise: all (source, output) pairs enumerated")
        );
        let _ = write!(s, "  largest relative disagreement: {}", report.describe_agreement());
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
