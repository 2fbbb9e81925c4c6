//! Running a config: load, validate, run, mark stopped runs, and read the outcome's warnings.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::*;

/// The default results folder of a config: `results/<config stem>`.
pub fn default_out_dir(config: &Path) -> PathBuf {
    let stem = config.file_stem().map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    Path::new("results").join(stem)
}

/// Loads, validates and runs the config at `path`. Writes nothing.
///
/// ```
/// // Exercise 4: d/dx of f(f(f(f(x)))) with f = sin + cos, at x = π/3, against the chain rule.
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("chain.toml");
/// std::fs::write(&path, r#"
///     kind = "graph"
///     [graph]
///     inputs  = { x = 1.0471975511965976 }
///     outputs = ["f4"]
///     [graph.nodes]
///     f1 = "sin(x) + cos(x)"
///     f2 = "sin(f1) + cos(f1)"
///     f3 = "sin(f2) + cos(f2)"
///     f4 = "sin(f3) + cos(f3)"
/// "#).unwrap();
/// let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
/// let (_, json) = outcome.files.iter().find(|(name, _)| name == "graph.json").unwrap();
/// let graph: serde_json::Value = serde_json::from_slice(json).unwrap();
/// let (mut x, mut chain) = (std::f64::consts::PI / 3.0, 1.0);
/// for _ in 0..4 {
///     chain *= x.cos() - x.sin();
///     x = x.sin() + x.cos();
/// }
/// assert!((graph["gradient"]["x"].as_f64().unwrap() - chain).abs() < 1e-14);
/// assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "nothing written beside the config");
/// ```
///
/// # Errors
/// Any config or run error, as one line naming the place.
pub fn run(path: &Path, options: &RunOptions) -> Result<Outcome> {
    run_with(path, &[], options)
}

/// [`run`] with `key.path=value` overrides applied to the config first.
///
/// # Errors
/// As [`run`], or an override that does not fit the config.
pub fn run_with(path: &Path, overrides: &[config::Override], options: &RunOptions) -> Result<Outcome> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let title = path.file_stem().map_or_else(|| "experiment".into(), |s| s.to_string_lossy().into_owned());
    run_text(&text, path.parent().unwrap_or(Path::new(".")), &title, overrides, options)
}

/// [`run_with`] for config text: data paths are relative to `base`, and `title` names the run
/// in its figures (a config file's stem).
///
/// # Errors
/// A config that cannot be read or validated, or a run that exceeds its limits, as
/// [`InvalidConfig`] (the binary exits 2 for it; the Python package raises `ConfigError`);
/// anything that goes wrong while the run runs, as other errors.
pub fn run_text(
    text: &str,
    base: &Path,
    title: &str,
    overrides: &[config::Override],
    options: &RunOptions,
) -> Result<Outcome> {
    let invalid = |e: anyhow::Error| anyhow::Error::new(InvalidConfig(format!("{e:#}")));
    let experiment = config::load_text_with(text, base, overrides).map_err(invalid)?;
    experiment.cost().check(&options.limits.unwrap_or_default()).map_err(invalid)?;
    // The config with the overrides applied: the resume fingerprint and the model's provenance.
    let resolved = config::resolved_text(text, overrides)?;
    let kind = resolved.get("kind").and_then(toml::Value::as_str).and_then(kinds::find).expect("internal: loaded");
    let asked = options.stop_after.is_some() || options.resume.is_some() || options.checkpoint_every.is_some();
    let identity = if asked || kind.resumable() { Some(resumable_identity(kind, &resolved, options)?) } else { None };
    let options = &RunOptions { identity: identity.clone(), ..options.clone() };
    let mut outcome = experiment.run(title, options)?;
    let interrupted = outcome.checkpoint.as_ref().is_some_and(|s| s.interrupted);
    if cg_core::interrupt::requested() && !interrupted {
        anyhow::bail!(
            "interrupted before the end; kind `{}` keeps no partial results, so nothing was written",
            kind.name()
        );
    }
    record_skipped(&mut outcome)?;
    if let Some(model) = outcome.files.iter_mut().find(|(n, _)| n == "model.safetensors") {
        // The config (overrides applied) that made the model: provenance, and what `predict`
        // rebuilds the model from.
        let config = toml::to_string(&resolved)?;
        model.1 = cg_nn::artifact::with_metadata(&model.1, &[("config", config)])
            .map_err(|e| anyhow::anyhow!("model.safetensors: {e}"))?;
    }
    if let (Some(saved), Some(identity)) = (&outcome.checkpoint, &identity) {
        outcome.files.extend(resume::files(identity.kind, &identity.config, &saved.checkpoint)?);
        let steps = saved.checkpoint.steps;
        if !saved.finished {
            let by = if saved.interrupted { "interrupted" } else { "stopped" };
            outcome.summary += &format!("\n  {by} after {steps} of its steps (results so far): continue with --resume");
            mark_incomplete(&mut outcome, by, steps)?;
        }
    }
    Ok(outcome)
}

/// A config that cannot be run as written: malformed, invalid, or over its limits; the message
/// names the place. Distinguished (by downcasting) from errors of a run that started.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidConfig(pub String);

/// Says in the metrics file that the run stopped before its end (`"complete": false`, why, and
/// the steps done), so no reader takes its numbers for a finished run's.
pub(crate) fn mark_incomplete(outcome: &mut Outcome, by: &str, steps: usize) -> Result<()> {
    add_to_metrics(
        outcome,
        [("complete", false.into()), ("stopped", serde_json::json!({ "by": by, "steps_done": steps }))],
    )
}

/// The identity of a run to stop, checkpoint or resume; refuses kinds without a resumable loop,
/// and a checkpoint of another kind or config.
pub(crate) fn resumable_identity(
    kind: &'static dyn kinds::Kind,
    table: &toml::Table,
    options: &RunOptions,
) -> Result<resume::Identity> {
    if !kind.resumable() {
        let names: Vec<&str> = kinds::all().into_iter().filter(|k| k.resumable()).map(|k| k.name()).collect();
        anyhow::bail!(
            "--stop-after, --checkpoint-every and --resume: kind `{}` has no resumable training loop (kinds that do: {})",
            kind.name(),
            names.join(", ")
        );
    }
    let config = resume::fingerprint(table, kind.budget());
    if let Some(saved) = &options.resume {
        if saved.kind != kind.name() || saved.config != config {
            let budget = kind.budget().map_or(String::new(), |k| format!(" (only {k} may differ)"));
            anyhow::bail!(
                "--resume: {} was stopped in a run of another config (kind `{}`, {}; this one: kind `{}`, {}): give the config and overrides it was started with{budget}",
                saved.dir.display(),
                saved.kind,
                saved.config,
                kind.name(),
                config
            );
        }
    }
    Ok(resume::Identity { kind: kind.name(), config, budget: kind.budget() })
}

impl Outcome {
    /// Whether the run reached its end (not stopped early with a checkpoint).
    pub fn complete(&self) -> bool {
        self.checkpoint.as_ref().is_none_or(|s| s.finished)
    }

    /// What the run's own checks say cannot be trusted, one line each: every place in its
    /// metrics marked `"within_4_standard_errors": false` (an estimate beyond 4 standard errors
    /// of the exact answer) or `"converged": false`, and constraints violated by more than 1e-6
    /// at the end (`violation`, or the last of `violation_curve`). The binary prints them on stderr, whatever
    /// `--quiet` says, so no one reads such numbers as good ones.
    pub fn warnings(&self) -> Vec<String> {
        let Some((_, bytes)) = self.files.iter().find(|(n, _)| METRICS_FILES.contains(&n.as_str())) else {
            return vec![];
        };
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else { return vec![] };
        let mut out = vec![];
        distrust(&json, "", &mut out);
        out
    }
}

/// The largest constraint violation a finished run may keep without a warning.
pub(crate) const VIOLATION_TOLERANCE: f64 = 1e-6;

/// See [`Outcome::warnings`]; `at` is the JSON path, a query's own name when it has one.
pub(crate) fn distrust(value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let here = map.get("query").and_then(Value::as_str).map_or_else(|| at.to_string(), str::to_string);
            let place = if here.is_empty() { "the run".to_string() } else { here.clone() };
            if map.get("within_4_standard_errors") == Some(&Value::Bool(false)) {
                let z = map.get("largest_error_in_standard_errors").and_then(Value::as_f64);
                let z = z.map_or(String::new(), |z| format!(" ({z:.1} standard errors)"));
                out.push(format!(
                    "{place}: the estimate is off the exact answer by more than 4 standard errors{z}: do not trust it"
                ));
            }
            // Constraints still violated at the end: a box and an equality that no weights
            // satisfy together, or too few epochs to reach them.
            let last_violation = map
                .get("violation")
                .and_then(Value::as_f64)
                .or_else(|| map.get("violation_curve").and_then(Value::as_array).and_then(|c| c.last()?.as_f64()));
            if let Some(v) = last_violation.filter(|v| *v > VIOLATION_TOLERANCE) {
                out.push(format!(
                    "{place}: the constraints do not hold at the end (largest violation {v:.3e}): they may contradict each other"
                ));
            }
            // A kind's own reasons not to trust a part, each said once.
            let doubts: Vec<&str> = map
                .get("doubts")
                .and_then(Value::as_array)
                .map_or(vec![], |d| d.iter().filter_map(Value::as_str).collect());
            for d in &doubts {
                out.push(format!("{place}: {d}"));
            }
            let before = out.len();
            for (k, v) in map {
                if k == "doubts" {
                    continue;
                }
                let path = if here.is_empty() { k.clone() } else { format!("{here}.{k}") };
                distrust(v, &path, out);
            }
            // A summary flag (the run's `converged`) says nothing more once its parts have.
            let nested = out.len() > before;
            if map.get("converged") == Some(&Value::Bool(false)) && !(at.is_empty() && nested) && doubts.is_empty() {
                let worst = map.get("r_hat").and_then(Value::as_object).map(|r| {
                    r.values().filter_map(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok())).fold(0.0, f64::max)
                });
                out.push(match (worst, map.get("residual").and_then(Value::as_f64)) {
                    (Some(r), _) => format!(
                        "{place}: the Gibbs chains disagree (R-hat {r:.3} > {}): sample longer, or check the network for states the chains cannot leave",
                        cg_pgm::sampling::R_HAT_LIMIT
                    ),
                    (None, Some(res)) => format!(
                        "{place}: did not converge (residual {res:.2e}): the messages still move, do not read them as marginals"
                    ),
                    (None, None) => format!("{place}: did not converge: do not trust its numbers as a converged answer"),
                });
            }
        }
        Value::Array(items) => {
            for (k, v) in items.iter().enumerate() {
                distrust(v, &format!("{at}[{k}]"), out);
            }
        }
        _ => {}
    }
}
