//! Training a map and the files of the run: quality curves, the U-matrix, component planes,
//! hits and labels.

use anyhow::Result;
use cg_core::Recorder;
use cg_plot::{class_color, viridis, ColorBar, LatticeMap, Legend, LineChart, Panel, Series};
use cg_som::quality::{self, hits, label_regions, majority_labels, u_matrix};
use cg_som::{Som, SomRecord, SomState, Topology, Training};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::kinds::{Experiment, F64};
use crate::resume::drive;
use crate::{epoch_scope, finished, json_file, push_figure, CheckScope, Cost, Outcome, Progress, RunOptions};

use super::*;

impl Experiment for SomExperiment {
    /// Every sample is compared with every unit each epoch (and again for the quality); a batch
    /// epoch sets each unit from every unit that won a sample.
    fn cost(&self) -> Cost {
        let units = self.params.lattice.units() as f64;
        let (d, n) = (self.dim as f64, self.samples() as f64);
        let per_epoch = self.params.iterations_per_epoch.map_or(n, |i| i as f64);
        let data = match &self.train {
            Train::Memory(_) => ("the data", F64 * n * d),
            // One chunk at a time, and the winners of a chunk; the online pass order.
            Train::Streamed(rows) => ("a chunk of the streamed data", rows.chunk_bytes() as f64 * 1.25),
        };
        let order = if self.params.training == Training::Online { 8.0 * n } else { 0.0 };
        Cost::default()
            .memory("the codebook", 3.0 * F64 * units * d)
            .memory(data.0, data.1)
            .memory("the online pass order", order)
            .work("best-matching units", self.params.epochs as f64 * (per_epoch + n) * units * d * 3.0)
            .work("batch updates (each unit from every winner)", self.params.epochs as f64 * units * units.min(n) * d)
            .steps("the epochs", self.params.epochs as f64)
    }

    /// Trains and renders the results. With `options.shortened`, trains `check_epochs` epochs.
    ///
    /// # Errors
    /// A non-finite codebook value during training, or a drawing error.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.params.epochs, self.check_epochs);
        let mut som = match &self.train {
            Train::Memory(data) => Som::new(self.params.clone(), data.clone(), self.dim)?,
            Train::Streamed(rows) => Som::streamed(self.params.clone(), Box::new(rows))?,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut state = som.init(&mut rng)?;
        let mut progress = Progress::new(options, epochs, "epoch", title, |r: &SomRecord| {
            format!("QE {:.4}", r.quantization_error.unwrap_or(f64::NAN))
        });
        let mut recorder = Recorder::new();
        let (out, checkpoint) =
            drive(&mut som, &mut state, epochs, &mut rng, &mut [&mut progress, &mut recorder], options)?;
        drop(progress);
        finished(out, "training")?;
        Ok(Outcome { checkpoint, ..self.render(title, &som, &state, &recorder.records, scope)? })
    }
}

impl SomExperiment {
    fn samples(&self) -> usize {
        match &self.train {
            Train::Memory(data) => data.len() / self.dim.max(1),
            Train::Streamed(rows) => cg_core::RowChunks::rows(rows),
        }
    }

    fn render(
        &self,
        title: &str,
        som: &Som,
        state: &SomState,
        records: &[SomRecord],
        scope: CheckScope,
    ) -> Result<Outcome> {
        let lattice = som.lattice();
        let curve = |field: fn(&SomRecord) -> Option<f64>| -> Vec<f64> { records.iter().filter_map(field).collect() };
        let (qe, te) = (curve(|r| r.quantization_error), curve(|r| r.topographic_error));
        let last = |c: &[f64]| c.last().copied().unwrap_or(f64::NAN);
        // Each sample's unit only where labels need it: a streamed map counts hits in one pass.
        let winners = match &self.labels {
            Some(_) => som.training_bmus(&state.weights)?,
            None => vec![],
        };
        let hit =
            if self.labels.is_some() { hits(&winners, lattice.units()) } else { som.training_hits(&state.weights)? };
        let p = &self.params;
        let mut metrics = json!({
            "epochs": records.len(),
            "training": match p.training { Training::Online => "online", Training::Batch => "batch" },
            "lattice": {
                "rows": lattice.rows(), "cols": lattice.cols(),
                "topology": match lattice.topology() { Topology::Rectangular => "rectangular", Topology::Hexagonal => "hexagonal" },
                "toroidal": lattice.toroidal(),
            },
            "samples": self.samples(),
            "features": self.dim,
            "quantization_error": last(&qe),
            "topographic_error": last(&te),
            "units_hit": hit.iter().filter(|&&h| h > 0).count(),
            "quantization_error_curve": qe,
            "topographic_error_curve": te,
            "radius_curve": curve(|r| Some(r.radius)),
        });
        if p.training == Training::Online {
            metrics["learning_rate_curve"] = json!(curve(|r| r.learning_rate));
            metrics["iterations"] = json!(records.len() * som.iterations_per_epoch());
        }
        if let Some(test) = &self.test {
            let q = quality::quality(lattice, &state.weights, self.dim, test);
            metrics["test_quantization_error"] = json!(q.quantization_error);
            metrics["test_topographic_error"] = json!(q.topographic_error);
        }
        let majority = self.labels.as_ref().map(|labels| majority_labels(&winners, labels, lattice.units()));
        if let (Some(labels), Some(majority)) = (&self.labels, &majority) {
            metrics["label_regions"] = self.label_regions(labels, &winners, majority);
        }
        let seconds: f64 = records.iter().map(|r| r.train_seconds).sum();
        let timing = json!({
            "seconds": seconds,
            "seconds_per_epoch": seconds / records.len().max(1) as f64,
            "threads": rayon::current_num_threads(),
        });
        let codebook = json!({
            "rows": lattice.rows(),
            "cols": lattice.cols(),
            "feature_names": self.feature_names,
            "weights": state.weights.chunks(self.dim).collect::<Vec<_>>(),
        });
        let mut files = vec![
            json_file("metrics.json", &metrics)?,
            ("codebook.json".to_string(), (serde_json::to_string(&codebook)? + "\n").into_bytes()),
            json_file("timing.json", &timing)?,
        ];
        let codebook = cg_nn::artifact::NamedTensor {
            name: "codebook".into(),
            shape: vec![lattice.rows(), lattice.cols(), self.dim],
            values: state.weights.clone(),
        };
        let mut meta = vec![
            ("kind", "som".to_string()),
            ("topology", metrics["lattice"]["topology"].as_str().unwrap_or("").to_string()),
            ("toroidal", lattice.toroidal().to_string()),
            ("layout", "row-major: units row by row".into()),
            ("inputs", serde_json::to_string(&self.inputs)?),
        ];
        // The maps as numbers (MiniSom's distance_map and activation_response), grids of rows x
        // cols; and each unit's majority class, which `predict` gives for new rows.
        files.push((
            "u_matrix.csv".into(),
            grid(lattice.cols(), &u_matrix(lattice, &state.weights, self.dim), |v| format!("{v:?}")),
        ));
        files.push(("hits.csv".into(), grid(lattice.cols(), &hit, ToString::to_string)));
        if let Some(majority) = &majority {
            let names: Vec<String> =
                majority.iter().map(|m| m.map(|k| self.class_name(k)).unwrap_or_default()).collect();
            files.push(("labels.csv".into(), grid(lattice.cols(), &names, |n| csv_cell(n))));
            let classes = majority.iter().flatten().max().map_or(0, |m| m + 1);
            meta.push(("unit_labels", serde_json::to_string(majority)?));
            meta.push((
                "class_names",
                serde_json::to_string(&(0..classes).map(|k| self.class_name(k)).collect::<Vec<_>>())?,
            ));
        }
        files.push(crate::tensors_file(&[codebook], &meta)?);
        let epochs: Vec<f64> = (1..=records.len()).map(|e| e as f64).collect();
        let quality_chart = LineChart {
            title: format!("{title}: map quality on the training data"),
            x_label: "epoch".into(),
            y_label: "error".into(),
            legend: Legend::UpperRight,
            y_range: None,
            equal_aspect: false,
            x_log: false,
            series: vec![
                Series::line("quantization error", epochs.iter().copied().zip(qe.iter().copied()).collect()),
                Series::line("topographic error", epochs.iter().copied().zip(te.iter().copied()).collect()),
            ],
        };
        push_figure(&mut files, "quality", quality_chart.render())?;
        for (name, figure) in self.maps(title, som, state, &hit, majority.as_deref()) {
            push_figure(&mut files, name, figure.render())?;
        }
        let summary = format!(
            "{} x {} {} map, {} epochs: quantization error {:.4}, topographic error {:.4}, {} of {} units hit",
            lattice.rows(),
            lattice.cols(),
            metrics["training"].as_str().unwrap_or(""),
            records.len(),
            last(&qe),
            last(&te),
            metrics["units_hit"],
            lattice.units(),
        );
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }

    fn class_name(&self, k: usize) -> String {
        self.class_names.get(k).cloned().unwrap_or_else(|| format!("class {k}"))
    }

    /// Each class's region (`cg_som::quality::label_regions`), by class name.
    fn label_regions(&self, labels: &[usize], winners: &[usize], majority: &[Option<usize>]) -> Value {
        let regions = label_regions(labels, winners, majority);
        let by_name = regions
            .iter()
            .enumerate()
            .map(|(c, r)| (self.class_name(c), json!({ "units": r.units, "purity": r.purity, "recall": r.recall })));
        Value::Object(by_name.collect())
    }

    fn maps(
        &self,
        title: &str,
        som: &Som,
        state: &SomState,
        hit: &[usize],
        majority: Option<&[Option<usize>]>,
    ) -> Vec<(&'static str, LatticeMap)> {
        let lattice = som.lattice();
        let base = |name: &str, panels: Vec<Panel>| LatticeMap {
            title: format!("{title}: {name}"),
            rows: lattice.rows(),
            cols: lattice.cols(),
            hexagonal: lattice.topology() == Topology::Hexagonal,
            panels,
            legend: vec![],
            colorbar: None,
        };
        let scaled = |values: &[f64]| -> (Vec<[u8; 3]>, f64, f64) {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let span = if hi > lo { hi - lo } else { 1.0 };
            (values.iter().map(|v| viridis((v - lo) / span)).collect(), lo, hi)
        };
        let panel = |caption: &str, colors: Vec<[u8; 3]>| Panel { caption: caption.into(), colors, texts: vec![] };
        let mut maps = vec![];

        let (colors, lo, hi) = scaled(&u_matrix(lattice, &state.weights, self.dim));
        let mut u = base("U-matrix", vec![panel("mean distance to adjacent units (light: cluster borders)", colors)]);
        u.colorbar = Some(ColorBar { low: lo, high: hi, label: "distance".into() });
        maps.push(("u_matrix", u));

        let planes: Vec<Panel> = (0..self.dim)
            .map(|k| {
                let values: Vec<f64> = (0..lattice.units()).map(|u| state.unit(u)[k]).collect();
                let (colors, lo, hi) = scaled(&values);
                let name = self.feature_names.get(k).cloned().unwrap_or_else(|| format!("feature {k}"));
                // The range in the data's own units: standardisation and scale undone.
                let original = |v: f64| {
                    let v = self.inputs.standardize.as_ref().and_then(|s| s.get(k)).map_or(v, |&(m, sd)| v * sd + m);
                    v * self.inputs.scale
                };
                panel(&format!("{name} [{}, {}]", short(original(lo)), short(original(hi))), colors)
            })
            .collect();
        let mut c = base("component planes (ranges in the data's units)", planes);
        c.colorbar = Some(ColorBar { low: 0.0, high: 1.0, label: "share of range".into() });
        maps.push(("components", c));

        let counts: Vec<f64> = hit.iter().map(|&h| h as f64).collect();
        let (colors, lo, hi) = scaled(&counts);
        let texts = hit.iter().map(|&h| if h > 0 { h.to_string() } else { String::new() }).collect();
        let mut h = base("hit map", vec![Panel { caption: "samples won by each unit".into(), colors, texts }]);
        h.colorbar = Some(ColorBar { low: lo, high: hi, label: "samples".into() });
        maps.push(("hits", h));

        if let Some(majority) = majority {
            let colors = majority.iter().map(|m| m.map_or([235, 235, 235], class_color)).collect();
            let classes = majority.iter().flatten().max().map_or(0, |m| m + 1);
            let mut l = base(
                "majority label",
                vec![panel("most frequent class among each unit's samples (grey: none)", colors)],
            );
            l.legend = (0..classes).map(|k| (self.class_name(k), class_color(k))).collect();
            maps.push(("labels", l));
        }
        if self.as_colors {
            let colors = (0..lattice.units())
                .map(|u| {
                    let w = state.unit(u);
                    [0, 1, 2].map(|k| (w[k].clamp(0.0, 1.0) * 255.0).round() as u8)
                })
                .collect();
            maps.push((
                "colors",
                base("the codebook as colours", vec![panel("each unit's (red, green, blue)", colors)]),
            ));
        }
        maps
    }
}

/// Values unit by unit (row-major) as CSV lines of `cols` cells.
fn grid<T>(cols: usize, values: &[T], cell: impl Fn(&T) -> String) -> Vec<u8> {
    let mut out = String::new();
    for row in values.chunks(cols.max(1)) {
        out += &row.iter().map(&cell).collect::<Vec<_>>().join(",");
        out.push('\n');
    }
    out.into_bytes()
}

/// A text cell of a CSV file, quoted when it holds a comma, quote or line end.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A number for a caption: three significant digits.
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
