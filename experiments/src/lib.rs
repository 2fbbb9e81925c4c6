//! The experiments library behind the `experiments` binary: read a config, validate it, run it,
//! and write or check its results. The binary only parses arguments and prints.
//!
//! Results of `configs/NAME.toml` go to `results/NAME/` by default. Every file is rendered in memory
//! first and then written through a temporary file and a rename, so a failed run never leaves a
//! partial or overwritten result behind.

#![forbid(unsafe_code)]

pub mod check;
mod cli;
pub mod config;
pub mod kinds;
pub mod output;
pub mod predict;
pub mod report;
pub mod resume;
pub mod schema;
pub mod sweep;

pub use cli::main_with;

use std::path::{Path, PathBuf};

use anyhow::Result;

/// What one run produced: named files (not yet written) and a short human summary.
pub struct Outcome {
    pub files: Vec<(String, Vec<u8>)>,
    pub summary: String,
    /// How much of the stored results this run can be compared with.
    pub check: CheckScope,
    /// The state the run saved: stopped before its end (`--stop-after`, an interrupt), or kept
    /// at its end (`--checkpoint-every`); `run_with` adds its files.
    pub checkpoint: Option<resume::Saved>,
}

/// What a rerun is compared against in the stored results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckScope {
    /// Every JSON file, every number.
    Full,
    /// A shortened run of this many epochs: the first values of every `*_curve` array.
    CurvePrefix(usize),
    /// A shortened run whose JSON is part of the stored one: every key it has must be stored with
    /// the same value, and its arrays must begin the stored arrays.
    Subset,
}

/// The file a run's numbers are in: `metrics.json`, or `graph.json` for a graph config.
pub(crate) const METRICS_FILES: [&str; 2] = ["metrics.json", "graph.json"];

/// The numbers of the result folder `dir` (its [`METRICS_FILES`] file), parsed.
pub(crate) fn read_metrics(dir: &Path) -> Option<serde_json::Value> {
    METRICS_FILES.iter().find_map(|f| std::fs::read(dir.join(f)).ok()).and_then(|b| serde_json::from_slice(&b).ok())
}

/// A run's JSON file: pretty-printed, with a final newline.
pub fn json_file(name: &str, value: &serde_json::Value) -> Result<(String, Vec<u8>)> {
    let mut value = value.clone();
    positive_zeros(&mut value);
    Ok((name.to_string(), (serde_json::to_string_pretty(&value)? + "\n").into_bytes()))
}

/// Every -0.0 in `value` written as 0.0: a sum of nothing or a product with a negative zero
/// carries no sign a reader should see.
fn positive_zeros(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.as_f64() == Some(0.0) && n.as_f64().is_some_and(f64::is_sign_negative) => {
            *value = serde_json::json!(0.0);
        }
        Value::Array(items) => items.iter_mut().for_each(positive_zeros),
        Value::Object(map) => map.values_mut().for_each(positive_zeros),
        _ => {}
    }
}

/// A number for metrics: finite ones as JSON numbers, the others as the strings `"inf"`,
/// `"-inf"` and `"nan"` (JSON has no such numbers, and `null` would hide what happened).
pub fn json_number(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else if x.is_nan() {
        serde_json::json!("nan")
    } else if x > 0.0 {
        serde_json::json!("inf")
    } else {
        serde_json::json!("-inf")
    }
}

/// The epochs to train and what the run can be checked against: a config's `check_epochs` on a
/// shortened run (its curves begin the stored ones), all `epochs` otherwise.
pub(crate) fn epoch_scope(options: &RunOptions, epochs: usize, check_epochs: Option<usize>) -> (usize, CheckScope) {
    match (options.shortened, check_epochs) {
        (true, Some(n)) => (n, CheckScope::CurvePrefix(n)),
        _ => (epochs, CheckScope::Full),
    }
}

/// `model.safetensors`: a trained model's tensors (F64, row-major) with metadata for a reader.
pub(crate) fn tensors_file(
    tensors: &[cg_nn::artifact::NamedTensor],
    metadata: &[(&str, String)],
) -> Result<(String, Vec<u8>)> {
    let bytes = cg_nn::artifact::save_tensors(tensors, true, metadata)
        .map_err(|e| anyhow::anyhow!("model.safetensors: {e}"))?;
    Ok(("model.safetensors".to_string(), bytes))
}

/// The suffix of a run's note that a figure was skipped (`run_with` moves the notes into the
/// metrics file).
const SKIPPED: &str = ".skipped";

/// Adds a figure's PNG and SVG to a run's files; a figure refused for its size is skipped with a
/// note instead.
///
/// # Errors
/// Any other drawing error.
pub fn push_figure(
    files: &mut Vec<(String, Vec<u8>)>,
    name: &str,
    figure: Result<cg_plot::Figure, cg_plot::PlotError>,
) -> Result<(), cg_plot::PlotError> {
    match figure {
        Ok(figure) => {
            files.push((format!("{name}.png"), figure.png));
            files.push((format!("{name}.svg"), figure.svg.into_bytes()));
            Ok(())
        }
        Err(e) if e.is_too_large() => {
            files.push((format!("{name}{SKIPPED}"), e.message.into_bytes()));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Moves the notes of skipped figures into the run's metrics file (`metrics.json`, or
/// `graph.json`) as `skipped_figures`, and into the summary.
fn record_skipped(outcome: &mut Outcome) -> Result<()> {
    let (notes, files): (Vec<_>, Vec<_>) =
        std::mem::take(&mut outcome.files).into_iter().partition(|(n, _)| n.ends_with(SKIPPED));
    outcome.files = files;
    if notes.is_empty() {
        return Ok(());
    }
    let skipped: serde_json::Map<String, serde_json::Value> = notes
        .iter()
        .map(|(n, m)| {
            let reason = serde_json::Value::String(String::from_utf8_lossy(m).into_owned());
            (n.trim_end_matches(SKIPPED).to_string(), reason)
        })
        .collect();
    let names: Vec<String> = skipped.keys().cloned().collect();
    outcome.summary += &format!("\n  figures skipped (too large to draw): {}", names.join(", "));
    add_to_metrics(outcome, [("skipped_figures", serde_json::Value::Object(skipped))])
}

/// Adds top-level keys to the run's metrics file (`metrics.json`, or `graph.json`), rewritten
/// as every run's JSON is.
fn add_to_metrics<const N: usize>(outcome: &mut Outcome, entries: [(&str, serde_json::Value); N]) -> Result<()> {
    if let Some(file) = outcome.files.iter_mut().find(|(n, _)| METRICS_FILES.contains(&n.as_str())) {
        let mut json: serde_json::Value = serde_json::from_slice(&file.1)?;
        if let Some(object) = json.as_object_mut() {
            for (key, value) in entries {
                object.insert(key.into(), value);
            }
        }
        *file = json_file(&file.0, &json)?;
    }
    Ok(())
}

/// A graph's drawing: `NAME.dot` (Graphviz text) always, and `NAME.png` / `NAME.svg` when it has
/// at most [`cg_plot::MAX_NODES`] nodes.
pub fn push_graph(
    files: &mut Vec<(String, Vec<u8>)>,
    name: &str,
    picture: &cg_plot::GraphPicture,
) -> Result<(), cg_plot::PlotError> {
    files.push((format!("{name}.dot"), picture.dot().into_bytes()));
    if picture.nodes.len() <= cg_plot::MAX_NODES {
        push_figure(files, name, picture.render())?;
    }
    Ok(())
}

/// A progress bar over `len` steps named `unit` (epoch, temperature, ...), hidden unless
/// `options.progress`.
pub(crate) fn progress_bar(options: &RunOptions, len: usize, unit: &str, title: &str) -> indicatif::ProgressBar {
    let bar = if options.progress { indicatif::ProgressBar::new(len as u64) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {unit} {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("internal: valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(title.to_string());
    bar
}

/// The progress-bar observer of a solver run: one tick per step, with a message made from the
/// step's record. The bar is cleared when the observer is dropped, so an error printed after a
/// failed run is not drawn over.
pub(crate) struct Progress<F> {
    bar: indicatif::ProgressBar,
    message: F,
}

impl<F> Progress<F> {
    pub(crate) fn new(options: &RunOptions, len: usize, unit: &str, title: &str, message: F) -> Progress<F> {
        Progress { bar: progress_bar(options, len, unit, title), message }
    }
}

impl<St, R, F: FnMut(&R) -> String> cg_core::Observer<St, R> for Progress<F> {
    fn observe(&mut self, step: &cg_core::StepInfo<'_, St, R>) -> cg_core::Flow {
        self.bar.set_message((self.message)(step.record));
        self.bar.set_position(step.step as u64);
        cg_core::Flow::Continue
    }
}

impl<F> Drop for Progress<F> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A solver run's outcome as a result: divergence is an error naming what diverged; every
/// other end (converged, step limit, stalled, stopped by an observer) is a finished run.
///
/// # Errors
/// The run diverged, or a step failed (`result` is an error).
pub(crate) fn finished<E: std::fmt::Display>(
    result: Result<cg_core::RunOutcome, E>,
    what: &str,
) -> Result<cg_core::RunOutcome> {
    match result {
        Ok(cg_core::RunOutcome { stop: cg_core::Stop::Diverged { what: why }, steps }) => {
            anyhow::bail!("{what} diverged at step {steps}: {why}")
        }
        Ok(out) => Ok(out),
        Err(e) => anyhow::bail!("{what}: {e}"),
    }
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run long configs on their `check_epochs` schedule (the regression check).
    pub shortened: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Stop training after this many epochs (or updates) and save the state to resume from.
    pub stop_after: Option<usize>,
    /// Continue this stopped run (its config must be the one given).
    pub resume: Option<std::sync::Arc<resume::SavedRun>>,
    /// Refuse runs estimated above these (the defaults when `None`).
    pub limits: Option<Limits>,
    /// Write a checkpoint (the state files) to `checkpoint_dir` every this many steps, and keep
    /// the final state, so a killed run loses at most this many and a finished one can be
    /// continued with a larger budget.
    pub checkpoint_every: Option<usize>,
    /// Where periodic checkpoints go: the run's results folder.
    pub checkpoint_dir: Option<PathBuf>,
    /// Set by [`run_with`] for resumable kinds: what their checkpoints are written with.
    pub identity: Option<resume::Identity>,
}

/// What a run will need, estimated from its validated config before anything large is
/// allocated: memory in bytes and work in arithmetic operations, each with the terms that make it
/// up (the largest is named when the run is refused).
#[derive(Clone, Debug, Default)]
pub struct Cost {
    memory: Vec<(String, f64)>,
    work: Vec<(String, f64)>,
}

impl Cost {
    /// Adds `bytes` of buffers for `what`.
    pub fn memory(mut self, what: impl Into<String>, bytes: f64) -> Cost {
        self.memory.push((what.into(), bytes));
        self
    }

    /// Adds `operations` (multiply-adds, draws, visits) for `what`.
    pub fn work(mut self, what: impl Into<String>, operations: f64) -> Cost {
        self.work.push((what.into(), operations));
        self
    }

    /// Adds what every recorded step of a loop costs whatever its arithmetic: its record, curve
    /// points and timing ([`STEP_BYTES`]) and its fixed overhead ([`STEP_OPERATIONS`]: observers,
    /// shuffles, the record), so a config of 10^12 tiny epochs is refused for what it would
    /// really take, not passed for its few multiply-adds.
    pub fn steps(self, what: &str, steps: f64) -> Cost {
        self.memory(format!("the records and curves of {what}"), steps * STEP_BYTES)
            .work(format!("the fixed cost of each of {what}"), steps * STEP_OPERATIONS)
    }

    pub fn bytes(&self) -> f64 {
        self.memory.iter().map(|t| t.1).sum()
    }

    pub fn operations(&self) -> f64 {
        self.work.iter().map(|t| t.1).sum()
    }

    /// Refuses a run over `limits`, naming the largest term.
    ///
    /// # Errors
    /// The estimate is over a limit (or not a finite number: a size beyond any machine).
    pub fn check(&self, limits: &Limits) -> Result<()> {
        let largest = |terms: &[(String, f64)]| {
            terms.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(String::new(), |t| t.0.clone())
        };
        let (bytes, ops) = (self.bytes(), self.operations());
        // A NaN estimate (a size beyond any machine) is refused too.
        if bytes.is_nan() || bytes > limits.max_memory {
            anyhow::bail!(
                "this run needs about {} of memory, mostly for {}: more than the {} allowed (--max-memory, default the memory available)",
                human_bytes(bytes),
                largest(&self.memory),
                human_bytes(limits.max_memory)
            );
        }
        if ops.is_nan() || ops > limits.max_work {
            anyhow::bail!(
                "this run needs about {ops:.1e} operations, mostly for {}: more than the {:.1e} allowed (--max-work; 1e15 is about three hours at 100 GFLOP/s)",
                largest(&self.work),
                limits.max_work
            );
        }
        Ok(())
    }
}

/// Memory a recorded step keeps: its record in the recorder (a few numbers and a timing) and
/// its points in every curve of the metrics file, as numbers and as JSON text.
pub const STEP_BYTES: f64 = 512.0;

/// The fixed work of one step of a training loop in operation-equivalents: about a
/// microsecond at the 100 GFLOP/s the work limit assumes (a 17-weight XOR epoch takes 3 µs).
pub const STEP_OPERATIONS: f64 = 1e5;

/// A time with three significant digits in a unit that suits it (`1.25 s`, `3.41 ms`, `812 µs`,
/// `2.5 h`): XOR's epochs are microseconds, and `0.0000 s/epoch` said nothing.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format!("{seconds} s");
    }
    let (value, unit) = match seconds {
        s if s >= 7200.0 => (s / 3600.0, "h"),
        s if s >= 120.0 => (s / 60.0, "min"),
        s if s >= 1.0 => (s, "s"),
        s if s >= 1e-3 => (s * 1e3, "ms"),
        s if s >= 1e-6 => (s * 1e6, "µs"),
        s => (s * 1e9, "ns"),
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

/// `1.5 GiB`.
fn human_bytes(b: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if !b.is_finite() {
        return "more than any machine has".into();
    }
    let k = if b < 1.0 { 0 } else { ((b.log2() / 10.0).floor() as usize).min(UNITS.len() - 1) };
    format!("{:.1} {}", b / 1024f64.powi(k as i32), UNITS[k])
}

/// The most a run may use: bytes of memory and arithmetic operations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub max_memory: f64,
    pub max_work: f64,
}

impl Default for Limits {
    /// The memory available now (`MemAvailable` on Linux, else 16 GiB), and 1e15 operations.
    fn default() -> Limits {
        let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024.0)
        });
        Limits { max_memory: available.unwrap_or(16.0 * 1024f64.powi(3)), max_work: 1e15 }
    }
}

/// The default results folder of a config: `results/<config stem>`.
pub fn default_out_dir(config: &Path) -> PathBuf {
    let stem = config.file_stem().map_or_else(|| "results".into(), |s| s.to_string_lossy().into_owned());
    Path::new("results").join(stem)
}

/// Loads, validates and runs the config at `path`. Writes nothing.
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
    let experiment = config::load_with(path, overrides)?;
    experiment.cost().check(&options.limits.unwrap_or_default())?;
    // The config with the overrides applied: the resume fingerprint and the model's provenance.
    let resolved = config::resolved(path, overrides)?;
    let kind = resolved.get("kind").and_then(toml::Value::as_str).and_then(kinds::find).expect("internal: loaded");
    let asked = options.stop_after.is_some() || options.resume.is_some() || options.checkpoint_every.is_some();
    let identity = if asked || kind.resumable() { Some(resumable_identity(kind, &resolved, options)?) } else { None };
    let options = &RunOptions { identity: identity.clone(), ..options.clone() };
    let title = path.file_stem().map_or_else(|| "experiment".into(), |s| s.to_string_lossy().into_owned());
    let mut outcome = experiment.run(&title, options)?;
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

/// Says in the metrics file that the run stopped before its end (`"complete": false`, why, and
/// the steps done), so no reader takes its numbers for a finished run's.
fn mark_incomplete(outcome: &mut Outcome, by: &str, steps: usize) -> Result<()> {
    add_to_metrics(
        outcome,
        [("complete", false.into()), ("stopped", serde_json::json!({ "by": by, "steps_done": steps }))],
    )
}

/// The identity of a run to stop, checkpoint or resume; refuses kinds without a resumable loop,
/// and a checkpoint of another kind or config.
fn resumable_identity(
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
const VIOLATION_TOLERANCE: f64 = 1e-6;

/// See [`Outcome::warnings`]; `at` is the JSON path, a query's own name when it has one.
fn distrust(value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
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

/// Writes the files of `outcome` as the whole content of the results folder `dir`
/// ([`output::write_folder`]: atomically, with a manifest, and only over nothing, an empty
/// folder or an earlier run's folder).
///
/// # Errors
/// The folder is refused or cannot be written; the old results are then untouched.
pub fn write(outcome: &Outcome, dir: &Path) -> Result<()> {
    output::write_folder(&outcome.files, outcome.complete(), dir)
}

/// Writes one file of a folder the toolkit owns ([`output::write_file`]).
///
/// # Errors
/// The path holds something other than a regular file, or cannot be written.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    output::write_file(path, bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_keep_three_significant_digits_in_a_fitting_unit() {
        for (s, text) in [
            (0.0, "0.00 ns"),
            (3.2e-6, "3.20 µs"),
            (0.000_812, "812 µs"),
            (0.003_414, "3.41 ms"),
            (1.25, "1.25 s"),
            (42.0, "42.0 s"),
            (600.0, "10.0 min"),
            (9000.0, "2.50 h"),
        ] {
            assert_eq!(super::duration(s), text);
        }
    }
}
