//! `kind = "model"`: any vector computational graph written in the config (`cg-model`): named
//! nodes as expressions over inputs, targets and parameters, a loss, and the optimiser beside
//! it; trained by the same trainer as `mlp`. Writes the metrics and curves of every network, the
//! shape of every node, `model.safetensors` and the graph's drawing.

use std::path::Path;

use anyhow::{bail, Result};
use cg_data::{DataConfig, Splits, Table};
use cg_model::{build, Dim, Model, ModelConfig};
use cg_nn::{Float, Precision, TrainConfig};
use cg_optim::{ConstraintConfig, OptimizerConfig};
use cg_plot::{GraphPicture, NodeKind, NodeLabel};
use serde::Deserialize;
use serde_json::json;

use super::training::{self, NetData, Trained, Training};
use super::{Experiment, KindConfig};
use crate::predict::{Predictions, SavedModel};
use crate::{json_file, push_figure, push_graph, Cost, Outcome, RunOptions};

/// `kind = "model"`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    #[allow(dead_code)]
    kind: String,
    /// Seeds every random choice of the run: the same seed gives the same numbers.
    #[serde(default)]
    seed: u64,
    /// The data: exactly one of `csv`, `parquet`, `npy` with `labels`, `inline_x` with
    /// `inline_y`, or `[data.synthetic]`; the split and the feature transforms. `stream = true`
    /// reads an `.npy` file batch by batch (data larger than memory) with the same numbers.
    data: DataConfig,
    /// The graph: parameters, inputs, targets and named expression nodes, with its loss.
    model: ModelConfig,
    optimizer: OptimizerConfig,
    /// The training loop.
    train: TrainConfig,
    /// Projected gradient descent on named parameters.
    #[serde(default)]
    constraints: Vec<ConstraintConfig>,
}

/// A validated model experiment: its graph checked, its data loaded.
pub struct ModelExperiment {
    data: NetData,
    config: ModelConfig,
    training: Training,
    /// Built when the config loads (every check runs then); trained as is in f64, rebuilt in f32.
    model: Model<f64>,
    /// The constants read from files, by name (saved with the model for `predict`).
    constant_files: indexmap::IndexMap<String, Vec<Vec<f64>>>,
}

/// Moves the feature columns that targets take to the end, in the targets' order, so the inputs
/// take the other features in order.
fn columns_to_end(splits: &mut Splits, config: &ModelConfig) {
    let wanted = config.column_targets();
    let names = splits.train.feature_names.clone();
    let mut order: Vec<usize> = (0..names.len()).filter(|&k| !wanted.contains(&names[k].as_str())).collect();
    order.extend(wanted.iter().filter_map(|w| names.iter().position(|n| n == w)));
    for d in std::iter::once(&mut splits.train).chain(splits.test.as_mut()).chain(splits.validation.as_mut()) {
        d.features = d.features.select_rows(&order);
        d.feature_names = order.iter().map(|&k| names[k].clone()).collect();
    }
    splits.transform.select(&order);
}

impl KindConfig for ModelFile {
    const NAME: &'static str = "model";
    const SUMMARY: &'static str =
        "any vector computational graph written as named expressions, with its loss, trained by a chosen optimiser";
    const RESUMABLE: bool = true;
    const BUDGET: Option<&'static str> = Some("train.epochs");
    const PREDICTS: bool = true;
    const REFERENCE: Option<fn() -> String> = Some(cg_model::functions::reference);
    type Experiment = ModelExperiment;

    /// Loads the data and builds the graph once, so every name and shape is checked before
    /// anything runs.
    ///
    /// # Errors
    /// A bad setting, a data problem, or a graph error naming the node (syntax, unknown name,
    /// cycle, shape mismatch, unused parameter, a loss that is not 1 x 1).
    fn validate(self, base: &Path) -> Result<ModelExperiment> {
        let mut training = Training::new(self.seed, self.train, &self.optimizer, base)?;
        let mut config = self.model;
        let constant_files = config.read_constant_files(base)?;
        let mut data = NetData::open(&self.data, base, self.seed)?;
        match &mut data {
            NetData::Loaded(splits) => columns_to_end(splits, &config),
            NetData::Streamed { .. } if !config.column_targets().is_empty() => {
                bail!("[data] stream = true: targets taken from feature columns are not streamed yet; give the targets as labels")
            }
            NetData::Streamed { .. } => {}
        }
        training.check_data(&data)?;
        let model = build::<f64>(&config, data.feature_names())?;
        let sizes: Vec<(String, usize)> = model.param_shapes().into_iter().map(|(n, r, c)| (n, r * c)).collect();
        training.constrain(&self.constraints, &sizes)?;
        Ok(ModelExperiment { data, config, training, model, constant_files })
    }

    /// Builds the graph from the saved config over the saved feature order, in the precision it
    /// was trained in.
    fn predict(saved: &SavedModel, data: &Table) -> Result<Predictions> {
        let mut config = saved.config::<ModelFile>()?.model;
        // Constants read from files at training time were saved with the model.
        if let Ok(text) = saved.meta("constants") {
            let read: indexmap::IndexMap<String, Vec<Vec<f64>>> = serde_json::from_str(text)?;
            for (name, rows) in read {
                config.constants.insert(name, cg_model::ConstantDecl::Value(cg_model::ValueDecl::Matrix(rows)));
            }
        }
        let features = saved.inputs()?.features;
        match saved.meta("precision")? {
            "f32" => {
                let model = build::<f32>(&config, &features)?;
                training::predictions(&model.network, &model.declared_shapes(), saved, data)
            }
            _ => {
                let model = build::<f64>(&config, &features)?;
                training::predictions(&model.network, &model.declared_shapes(), saved, data)
            }
        }
    }
}

impl Experiment for ModelExperiment {
    /// As for `mlp`: from the parameter count and the nodes' widths.
    fn cost(&self) -> Cost {
        // Per sample: the rows of every node with a column per sample.
        let per_sample = |d: &Dim| if let Dim::N(r) = d { *r } else { 1 };
        let widths: usize = self
            .model
            .nodes
            .iter()
            .map(|n| match (&n.shape.0, &n.shape.1) {
                (rows, Dim::Batch) => per_sample(rows),
                (Dim::Batch, cols) => per_sample(cols),
                _ => 0,
            })
            .sum();
        training::network_cost(&self.training, self.model.parameter_count() as f64, widths as f64, &self.data)
    }

    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        match self.training.params.precision {
            Precision::F64 => self.run_in(&self.model, title, options),
            Precision::F32 => self.run_in(&build::<f32>(&self.config, self.data.feature_names())?, title, options),
        }
    }
}

impl ModelExperiment {
    /// Each parameter's declared shape.
    fn shapes(&self) -> Vec<Vec<usize>> {
        self.model.declared_shapes()
    }

    fn run_in<T: Float>(&self, model: &Model<T>, title: &str, options: &RunOptions) -> Result<Outcome> {
        let net = &model.network;
        let Trained { tape, outcome, epochs, scope, gradient_check: check, checkpoint, best } =
            self.training.run(net, |rng| model.init(rng), &self.shapes(), &self.data, options, title)?;
        let records = &outcome.records;
        let last = training::reported(records, best);
        let mut metrics = training::curves(records, &self.data, best);
        let shapes: serde_json::Map<String, serde_json::Value> =
            model.nodes.iter().map(|n| (n.name.clone(), json!(n.shape.to_string()))).collect();
        let extra = json!({
            "parameters": model.parameter_count(),
            "parameter_shapes": model.param_shapes().iter().map(|(n, r, c)| (n.clone(), json!([r, c]))).collect::<serde_json::Map<_, _>>(),
            "node_shapes": shapes,
            "grad_evals": outcome.grad_evals,
        });
        let object = metrics.as_object_mut().expect("internal: an object");
        object.extend(extra.as_object().expect("internal: an object").clone());
        if let Some(check) = check {
            object.insert("gradient_check".into(), check);
        }
        if model.frozen_count() > 0 {
            object.insert("frozen_parameters".into(), json!(model.frozen_count()));
        }
        let seconds = outcome.train_seconds;
        let timing = json!({ "seconds": seconds, "seconds_per_epoch": seconds / epochs as f64 });
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        let (name, mut bytes) = training::safetensors_file(net, &tape, &self.shapes(), "model", &self.data)?;
        if !self.constant_files.is_empty() {
            let constants = serde_json::to_string(&self.constant_files)?;
            bytes = cg_nn::artifact::with_metadata(&bytes, &[("constants", constants)])
                .map_err(|e| anyhow::anyhow!("model.safetensors: {e}"))?;
        }
        files.push((name, bytes));
        for (name, chart) in training::charts(records, title, net.loss_name()) {
            push_figure(&mut files, name, chart.render())?;
        }
        push_graph(&mut files, "graph", &self.picture(title, model))?;
        let summary = format!(
            "{title}: model of {} nodes, {} parameters, {} epochs on {} samples\n  final loss {:.6}, train accuracy {}, test accuracy {}",
            self.config.nodes.len(),
            model.parameter_count(),
            records.len(),
            self.data.train_samples(),
            last.train_loss,
            training::percent(last.train_accuracy),
            training::percent(last.test_accuracy),
        );
        let summary = summary + &self.training.early_stopping_line(best, records.len());
        Ok(Outcome { files, summary, check: scope, checkpoint })
    }

    /// The named nodes with their expressions and shapes, an arrow from every name a node uses.
    fn picture<T: Float>(&self, title: &str, model: &Model<T>) -> GraphPicture {
        let index = |name: &str| model.nodes.iter().position(|n| n.name == name);
        let nodes = model
            .nodes
            .iter()
            .map(|n| {
                let kind = match n.expression.as_str() {
                    "input" | "target" | "parameter" | "constant" => NodeKind::Source,
                    _ if n.name == "loss" || n.name == self.config.predict => NodeKind::Output,
                    _ => NodeKind::Inner,
                };
                let lines = match kind {
                    NodeKind::Source if n.expression == "constant" => {
                        vec![format!("{} (constant)", n.name), n.shape.to_string()]
                    }
                    NodeKind::Source => vec![n.name.clone(), n.shape.to_string()],
                    _ => vec![format!("{} = {}", n.name, n.expression), n.shape.to_string()],
                };
                NodeLabel { id: n.name.clone(), lines, kind }
            })
            .collect();
        let edges = model
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(k, n)| n.uses.iter().filter_map(move |used| index(used).map(|from| (from, k, None))))
            .collect();
        GraphPicture { title: title.to_string(), nodes, edges, directed: true }
    }
}
