//! Training an RBM with its likelihood monitor and checkpoints, and the files of the run:
//! metrics, curves, filters and samples.

use anyhow::{bail, Result};
use cg_boltzmann::{LikelihoodMonitor, RbmRecord, RbmTrainer, Visible};
use cg_core::Recorder;
use cg_nn::artifact::NamedTensor;
use cg_plot::{ImageGrid, Legend, LineChart, Series};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::kinds::{Experiment, F64};
use crate::resume::drive;
use crate::{epoch_scope, finished, json_file, push_figure, CheckScope, Cost, Outcome, Progress, RunOptions};

use super::*;

impl Experiment for RbmExperiment {
    /// CD-k: 2(k + 1) products of a batch with W per batch; the likelihood every `ais_every`
    /// epochs (exact: 2^min(visible, hidden) states; AIS: chains × temperatures × 2 products);
    /// the pseudo-likelihood every epoch; the sample chains.
    fn cost(&self) -> Cost {
        let view = RbmExperiment::view(&self.data, self.binarize);
        let (nv, nh) = (view.dim() as f64, self.params.hidden as f64);
        let (n, epochs) = (view.rows() as f64, self.params.epochs as f64);
        let data = match &self.data {
            Samples::Memory(_) => ("the data", F64 * n * nv),
            // The read buffer, its numbers, standardised and binarized copies.
            Samples::Streamed(rows) => ("a chunk of the streamed data", rows.chunk_bytes() as f64 * 2.0),
        };
        let e = &self.evaluation;
        let evaluations = (epochs / e.ais_every as f64).ceil() + 1.0;
        let small = nv.min(nh);
        let likelihood = if small <= cg_boltzmann::EXACT_LIMIT as f64 {
            2f64.powf(small) * nv.max(nh)
        } else {
            e.ais_chains as f64 * e.ais_temperatures as f64 * 2.0 * nv * nh
        };
        let sample_steps = e.sample_steps.iter().copied().max().unwrap_or(0) as f64;
        Cost::default()
            .memory(
                "the weights, momenta and batches",
                F64 * (3.0 * nv * nh + 6.0 * self.params.batch_size as f64 * (nv + nh)),
            )
            .memory(data.0, data.1)
            .memory("the AIS chains", 4.0 * F64 * e.ais_chains as f64 * (nv + nh))
            .work("contrastive divergence", epochs * n * nv * nh * 2.0 * (self.params.k as f64 + 1.0))
            .work("the likelihood", evaluations * likelihood)
            .work("the pseudo-likelihood", epochs * n * nv * nh)
            .work("the sample chains", sample_steps * e.sample_chains as f64 * 2.0 * nv * nh)
            .work("the updates after every batch", epochs * (n / self.params.batch_size as f64).ceil() * 6.0 * nv * nh)
            .steps("the epochs", epochs)
    }

    /// Trains and renders metrics, filters, samples and the likelihood curves.
    ///
    /// # Errors
    /// A non-finite parameter during training, or a drawing error.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome> {
        let (epochs, scope) = epoch_scope(options, self.params.epochs, self.check_epochs);
        let mut trainer = match &self.data {
            Samples::Memory(data) => RbmTrainer::new(self.params.clone(), data.clone())?,
            Samples::Streamed(_) => RbmTrainer::streamed(self.params.clone(), Self::view(&self.data, self.binarize))?,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut state = trainer.init(&mut rng);
        let e = &self.evaluation;
        let eval_rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x05ee_da15);
        let mut monitor = LikelihoodMonitor::new(
            Self::view(&self.data, self.binarize),
            self.params.visible,
            e.ais_every,
            epochs,
            e.ais_chains,
            e.ais_temperatures,
            eval_rng,
        )?;
        let mut recorder = Recorder::new();
        let mut progress = Progress::new(options, epochs, "epoch", title, |_: &RbmRecord| String::new());
        let clock = std::time::Instant::now();
        let (out, checkpoint) = drive(
            &mut trainer,
            &mut state,
            epochs,
            &mut rng,
            &mut [&mut recorder, &mut monitor, &mut progress],
            options,
        )?;
        let wall = clock.elapsed().as_secs_f64();
        drop(progress);
        finished(out, "training")?;
        if let Some(e) = monitor.error.take() {
            bail!("evaluation: {e}");
        }
        let mut outcome = self.render(title, &state.rbm, &recorder, &mut monitor, scope)?;
        // Where the time went: the solver's steps, and the rest (the likelihood evaluations,
        // which can cost far more than training).
        let training = recorder.total_seconds();
        let evaluation = (wall - training).max(0.0);
        if let Some((_, bytes)) = outcome.files.iter_mut().find(|(n, _)| n == "timing.json") {
            let mut timing: serde_json::Value = serde_json::from_slice(bytes)?;
            timing["evaluation_seconds"] = json!(evaluation);
            *bytes = json_file("timing.json", &timing)?.1;
        }
        outcome.summary += &format!(
            "; {} training, {} evaluating (the likelihood every {} epochs: [evaluation] ais_every)",
            crate::duration(training),
            crate::duration(evaluation),
            e.ais_every
        );
        Ok(Outcome { checkpoint, ..outcome })
    }
}

impl RbmExperiment {
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        title: &str,
        rbm: &cg_boltzmann::Rbm,
        recorder: &Recorder<RbmRecord>,
        monitor: &mut LikelihoodMonitor,
        scope: CheckScope,
    ) -> Result<Outcome> {
        let (pl_curve, ais, exact) = (&monitor.pseudo_log_likelihood, &monitor.ais, &monitor.exact);
        let (records, seconds) = (&recorder.records, recorder.total_seconds());
        let mut metrics = json!({
            "epochs": records.len(),
            "samples": Self::view(&self.data, self.binarize).rows(),
            "visible": rbm.n_visible(),
            "hidden": rbm.n_hidden(),
            "reconstruction_error_curve": records.iter().filter_map(|r| r.reconstruction_error).collect::<Vec<_>>(),
        });
        if !pl_curve.is_empty() {
            metrics["pseudo_log_likelihood"] = json!(pl_curve.last());
            metrics["pseudo_log_likelihood_curve"] = json!(pl_curve);
        }
        if let Some(last) = ais.last() {
            metrics["ais_log_likelihood"] = json!(last.log_likelihood);
            metrics["ais_log_likelihood_band"] = json!([last.low, last.high]);
            metrics["ais_log_partition"] = json!(last.log_partition);
            metrics["ais_epochs"] = json!(ais.iter().map(|a| a.epoch).collect::<Vec<_>>());
            metrics["ais_log_likelihood_points"] = json!(ais.iter().map(|a| a.log_likelihood).collect::<Vec<_>>());
        }
        if let Some(&(_, ll)) = exact.last() {
            metrics["exact_log_likelihood"] = json!(ll);
            metrics["exact_epochs"] = json!(exact.iter().map(|a| a.0).collect::<Vec<_>>());
            metrics["exact_log_likelihood_points"] = json!(exact.iter().map(|a| a.1).collect::<Vec<_>>());
        }
        let timing = json!({ "seconds": seconds, "seconds_per_epoch": seconds / records.len().max(1) as f64 });
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
        let tensors = [
            cg_nn::artifact::row_major("W", vec![nv, nh], &rbm.w),
            NamedTensor { name: "visible_bias".into(), shape: vec![nv], values: rbm.b.iter().copied().collect() },
            NamedTensor { name: "hidden_bias".into(), shape: vec![nh], values: rbm.c.iter().copied().collect() },
        ];
        let units = if self.params.visible == Visible::Bernoulli { "bernoulli" } else { "gaussian" };
        let mut meta = vec![
            ("kind", "rbm".to_string()),
            ("visible_units", units.to_string()),
            ("layout", "row-major".into()),
            ("inputs", serde_json::to_string(&self.inputs)?),
        ];
        if let Some(t) = self.binarize {
            meta.push(("binarize", t.to_string()));
        }
        files.push(crate::tensors_file(&tensors, &meta)?);
        let epochs = |n: usize| -> Vec<f64> { (1..=n).map(|e| e as f64).collect() };
        let mut series = vec![];
        if !pl_curve.is_empty() {
            series.push(Series::line(
                "pseudo-log-likelihood",
                epochs(pl_curve.len()).into_iter().zip(pl_curve.iter().copied()).collect(),
            ));
        }
        if !ais.is_empty() {
            series.push(Series {
                name: "log-likelihood (AIS)".into(),
                points: ais.iter().map(|a| (a.epoch as f64, a.log_likelihood)).collect(),
                markers: true,
                dashed: false,
            });
        }
        if !exact.is_empty() {
            series.push(Series {
                name: "log-likelihood (exact)".into(),
                points: exact.iter().map(|a| (a.0 as f64, a.1)).collect(),
                markers: true,
                dashed: false,
            });
        }
        if !series.is_empty() {
            let chart = LineChart {
                title: format!("{title}: mean log-likelihood per sample"),
                x_label: "epoch".into(),
                y_label: "nats".into(),
                legend: Legend::LowerRight,
                y_range: None,
                equal_aspect: false,
                x_log: false,
                series,
            };
            push_figure(&mut files, "likelihood", chart.render())?;
        }
        let side = (rbm.n_visible() as f64).sqrt().round() as usize;
        if side * side == rbm.n_visible() {
            push_figure(&mut files, "filters", self.filters(title, rbm, side).render())?;
            push_figure(&mut files, "samples", self.samples(title, rbm, side, &mut monitor.rng).render())?;
        }
        let mut summary = format!("{title}: {nv} {units} visible x {nh} hidden units, {} epochs", records.len());
        if let Some(e) = records.iter().rev().find_map(|r| r.reconstruction_error) {
            summary += &format!(", reconstruction error {e:.4}");
        }
        if let Some(&(_, ll)) = exact.last() {
            summary += &format!(", exact log-likelihood {ll:.3}");
        }
        if let Some(pl) = pl_curve.last() {
            summary += &format!(", pseudo-log-likelihood {pl:.3}");
        }
        if let Some(a) = ais.last() {
            summary += &format!(", AIS log-likelihood {:.3}", a.log_likelihood);
        }
        Ok(Outcome { files, summary, check: scope, checkpoint: None })
    }

    /// Each hidden unit's weights as a picture, scaled to its own largest magnitude.
    fn filters(&self, title: &str, rbm: &cg_boltzmann::Rbm, side: usize) -> ImageGrid {
        let per_row = (rbm.n_hidden() as f64).sqrt().ceil() as usize;
        let cells: Vec<(String, Vec<f64>)> = (0..rbm.n_hidden())
            .map(|j| {
                let col: Vec<f64> = rbm.w.column(j).iter().copied().collect();
                let m = col.iter().fold(0.0f64, |a, x| a.max(x.abs())).max(1e-12);
                (format!("h{j}"), col.iter().map(|x| x / m).collect())
            })
            .collect();
        ImageGrid {
            title: format!("{title}: filters (weights of each hidden unit, white positive)"),
            width: side,
            height: side,
            cells: cells.chunks(per_row).map(<[_]>::to_vec).collect(),
            low: -1.0,
            high: 1.0,
            scale: Some("weight / largest |weight| of the unit".into()),
        }
    }

    /// Chains started from uniform noise, shown as E[v | h] after each number of Gibbs steps.
    fn samples(&self, title: &str, rbm: &cg_boltzmann::Rbm, side: usize, rng: &mut ChaCha8Rng) -> ImageGrid {
        let mut steps = self.evaluation.sample_steps.clone();
        steps.sort_unstable();
        let rows = rbm
            .chains_from_noise(self.evaluation.sample_chains, &steps, rng)
            .iter()
            .zip(steps)
            .map(|(mean, k)| mean.row_iter().map(|row| (format!("k = {k}"), row.iter().copied().collect())).collect())
            .collect();
        ImageGrid {
            title: format!("{title}: E[v | h] after k Gibbs steps from noise"),
            width: side,
            height: side,
            cells: rows,
            low: 0.0,
            high: 1.0,
            scale: Some("E[v | h]".into()),
        }
    }
}
