//! `experiments sweep`: many runs of one config over a grid of overrides, in the folder layout of
//! Hydra's multirun. `DIR/<stem>/multirun/` holds `multirun.json` (the grid and every job's
//! overrides), one folder per job (`<n>/`: the kind's usual outputs, `config.toml` resolved,
//! `overrides.txt`, `status.json`), and after [`summarize`] `summary.csv` and the plots.
//!
//! A job is a plain run of the config with its overrides, so its outputs are those of
//! `experiments CONFIG OVERRIDES...`, byte for byte. Jobs run here (N at a time, each on its
//! share of the cores), one at a time by number (`--job N`, or `SLURM_ARRAY_TASK_ID`), or as a
//! Slurm job array (`slurm`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Override;
use crate::{run_with, write, CheckScope, Outcome, RunOptions};

pub const PLAN: &str = "multirun.json";
pub const STATUS: &str = "status.json";
pub const SUMMARY: &str = "summary.csv";

/// One swept key and its values, as written (`key=v1,v2` or `key=range(a,b[,step])`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// Parses `key=v1,v2,...` (commas inside brackets, braces or quotes do not split) or
    /// `key=range(a,b[,step])` (a, a + step, ... below b; integers, or decimals).
    ///
    /// # Errors
    /// No `=`, an empty key or value, or a malformed range.
    pub fn parse(arg: &str) -> Result<Axis> {
        let Some((key, raw)) = arg.split_once('=') else {
            bail!("{arg}: a sweep argument is key=v1,v2 or key=range(a,b)")
        };
        let key = key.trim();
        if key.is_empty() || key.split('.').any(|k| k.trim().is_empty()) {
            bail!("{arg}: an empty key");
        }
        let values = match raw.trim().strip_prefix("range(").and_then(|r| r.strip_suffix(')')) {
            Some(inside) => range(inside).map_err(|e| anyhow!("{arg}: {e}"))?,
            None => split_values(raw),
        };
        if values.is_empty() || values.iter().any(String::is_empty) {
            bail!("{arg}: an empty value");
        }
        Ok(Axis { key: key.to_string(), values })
    }
}

/// `a,b[,step]` of a range: integers when all three are, decimals otherwise.
fn range(inside: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = inside.split(',').map(str::trim).collect();
    let bad = || "range(a, b[, step]) takes two or three numbers".to_string();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    if let Ok(ints) = parts.iter().map(|p| p.parse::<i64>()).collect::<Result<Vec<i64>, _>>() {
        let step = ints.get(2).copied().unwrap_or(1);
        if step <= 0 {
            return Err("range: the step must be positive".into());
        }
        // In i128: the span of two i64 (range(i64::MIN, i64::MAX)) does not fit an i64.
        let span = (i128::from(ints[1]) - i128::from(ints[0])).max(0);
        let n = (span + i128::from(step) - 1) / i128::from(step);
        if n > MAX_JOBS as i128 {
            return Err(format!("range: {n} values; a sweep has at most {MAX_JOBS} jobs"));
        }
        return Ok((0..n as i64).map(|k| (ints[0] + k * step).to_string()).collect());
    }
    let nums = parts.iter().map(|p| p.parse::<f64>()).collect::<Result<Vec<f64>, _>>().map_err(|_| bad())?;
    let step = nums.get(2).copied().unwrap_or(1.0);
    if !(step > 0.0 && nums.iter().all(|v| v.is_finite())) {
        return Err("range: finite numbers and a positive step".into());
    }
    let n = ((nums[1] - nums[0]) / step).ceil().max(0.0);
    if n > MAX_JOBS as f64 {
        return Err(format!("range: {n} values; a sweep has at most {MAX_JOBS} jobs"));
    }
    // a + k * step, not a running sum, so 0.1 steps do not drift.
    Ok((0..n as usize).map(|k| format!("{:?}", nums[0] + k as f64 * step)).collect())
}

/// Splits at commas that are not inside brackets, braces or quotes.
fn split_values(raw: &str) -> Vec<String> {
    let (mut out, mut current, mut depth, mut quote) = (vec![], String::new(), 0i32, None);
    for c in raw.chars() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('[' | '{', None) => depth += 1,
            (']' | '}', None) => depth -= 1,
            (',', None) if depth == 0 => {
                out.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current.trim().to_string());
    out
}

/// The most jobs one sweep makes.
pub const MAX_JOBS: usize = 100_000;

/// A sweep: the config, the axes, and the folder it writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The config every job runs (as given, relative to the folder the sweep was started in).
    pub config: PathBuf,
    pub axes: Vec<Axis>,
    /// Every job's overrides (`key=value`), leftmost axis slowest.
    pub jobs: Vec<Vec<String>>,
}

impl Plan {
    /// The Cartesian product of `axes`, leftmost slowest (Hydra's order).
    ///
    /// # Errors
    /// More than [`MAX_JOBS`] jobs, or an override that does not parse.
    pub fn new(config: PathBuf, axes: Vec<Axis>) -> Result<Plan> {
        let count = axes.iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len())).unwrap_or(usize::MAX);
        if count > MAX_JOBS {
            bail!("the grid has {count} jobs; a sweep has at most {MAX_JOBS}");
        }
        let mut jobs: Vec<Vec<String>> = vec![vec![]];
        for axis in &axes {
            jobs = jobs
                .iter()
                .flat_map(|job| {
                    axis.values.iter().map(move |v| {
                        let mut next = job.clone();
                        next.push(format!("{}={v}", axis.key));
                        next
                    })
                })
                .collect();
        }
        for o in jobs.iter().flatten() {
            Override::parse(o)?;
        }
        Ok(Plan { config, axes, jobs })
    }

    /// Job `n`'s overrides, parsed.
    fn overrides(&self, n: usize) -> Vec<Override> {
        self.jobs[n].iter().map(|o| Override::parse(o).expect("internal: checked in Plan::new")).collect()
    }

    /// The axes with more than one value (the swept ones), in order.
    fn swept(&self) -> impl Iterator<Item = &Axis> {
        self.axes.iter().filter(|a| a.values.len() > 1)
    }
}

/// A sweep's arguments: a config with `key=values` arguments, or a sweep file (a TOML file with
/// a `[sweep]` table: `config`, `overrides`, optionally `out`, paths relative to the file).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    sweep: SweepTable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepTable {
    config: PathBuf,
    overrides: Vec<String>,
    out: Option<PathBuf>,
}

/// Where a sweep writes: `out/<stem>/multirun`.
pub fn root_of(out: &Path, target: &Path) -> PathBuf {
    let stem = target.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned());
    out.join(stem).join("multirun")
}

/// Reads the sweep the command line describes: `target` is a config (with `args` its sweep
/// arguments) or a sweep file (with `args` added to its overrides). Returns the plan and its
/// folder (`out`, else the sweep file's `out`, else `sweeps/`).
///
/// # Errors
/// An unreadable file, a malformed argument or range, too many jobs.
pub fn plan(target: &Path, args: &[String], out: Option<&Path>) -> Result<(Plan, PathBuf)> {
    let text = std::fs::read_to_string(target).with_context(|| format!("cannot read {}", target.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow!("{}: {}", target.display(), e.message().trim()))?;
    let base = target.parent().unwrap_or(Path::new(""));
    let (config, mut overrides, file_out) = if table.contains_key("sweep") {
        let file: SweepFile = crate::config::typed(&text).map_err(|e| anyhow!("{}: {e}", target.display()))?;
        let t = file.sweep;
        (base.join(t.config), t.overrides, t.out.map(|o| base.join(o)))
    } else {
        (target.to_path_buf(), vec![], None)
    };
    overrides.extend(args.iter().cloned());
    let axes = overrides.iter().map(|a| Axis::parse(a)).collect::<Result<Vec<_>>>()?;
    let out = out.map(Path::to_path_buf).or(file_out).unwrap_or_else(|| PathBuf::from("sweeps"));
    Ok((Plan::new(config, axes)?, root_of(&out, target)))
}

/// How one job ended (its `status.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// 0 for a finished run, 2 for an error (as the single-run command exits).
    pub exit_code: i32,
    pub error: Option<String>,
    pub seconds: f64,
}

/// Checks that a sweep may write in `root`: nothing there yet, an empty folder, or a sweep's
/// folder (its `multirun.json` reads as a plan). Anything else is refused, naming the path.
///
/// # Errors
/// A file, link or device at `root`, or a folder with files no sweep wrote.
pub fn check_root(root: &Path) -> Result<()> {
    crate::output::refuse_special(root)?;
    if !std::fs::symlink_metadata(root).is_ok_and(|m| m.is_dir()) {
        // Absent (fine), or a file, link or device (refused with its own message).
        return crate::output::check_folder(root).map(|_| ());
    }
    let others = std::fs::read_dir(root)
        .with_context(|| format!("{}: cannot be read", root.display()))?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name() != LOCK);
    if others && read_plan(root).is_err() {
        bail!(
            "{} holds files but no sweep's {PLAN}: a sweep writes only in a new or empty folder, or its own; choose another --out",
            root.display()
        );
    }
    Ok(())
}

/// An advisory lock on a sweep's folder (`flock` on its lock file), held while it lives: a local
/// sweep holds it alone, jobs run by number and `summarize` share it, so two sweeps cannot
/// write one folder at once. Elsewhere than Linux it locks nothing.
pub struct Lock {
    #[cfg(target_os = "linux")]
    _file: std::fs::File,
}

/// The lock file in a sweep's folder.
pub const LOCK: &str = ".cg-sweep.lock";

/// Takes the lock of the sweep folder `root` (created if absent) without waiting.
///
/// # Errors
/// Another sweep holds it (naming the folder), or the file cannot be made.
pub fn lock(root: &Path, exclusive: bool) -> Result<Lock> {
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{flock, FlockOperation};
        let path = root.join(LOCK);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let op =
            if exclusive { FlockOperation::NonBlockingLockExclusive } else { FlockOperation::NonBlockingLockShared };
        if flock(&file, op).is_err() {
            bail!(
                "{} is in use by another sweep (or its jobs): wait for it to end, or choose another --out",
                root.display()
            );
        }
        Ok(Lock { _file: file })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = exclusive;
        Ok(Lock {})
    }
}

/// Writes `multirun.json` (atomically: jobs started by a scheduler may write it at once).
///
/// # Errors
/// The folder cannot be written.
pub fn write_plan(plan: &Plan, root: &Path) -> Result<()> {
    check_root(root)?;
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let text = serde_json::to_string_pretty(plan)? + "\n";
    crate::write_file(&root.join(PLAN), text.as_bytes())
}

/// Reads `multirun.json`.
///
/// # Errors
/// A missing or malformed file.
pub fn read_plan(root: &Path) -> Result<Plan> {
    let path = root.join(PLAN);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}: not a sweep folder (DIR/<stem>/multirun)", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Runs job `n` and writes its folder; a failed run still writes `status.json` (with the error),
/// `config.toml` and `overrides.txt`.
///
/// # Errors
/// Only when the folder cannot be written (a run's own failure is its status).
pub fn run_job(plan: &Plan, root: &Path, n: usize, resume: bool) -> Result<Status> {
    let start = Instant::now();
    let overrides = plan.overrides(n);
    let dir = root.join(n.to_string());
    // Resumed, a job an interrupt stopped continues from its checkpoint.
    let resume = match status_of(root, n) {
        Some(s) if resume && s.exit_code == INTERRUPTED && dir.join(crate::resume::STATE_JSON).exists() => {
            Some(std::sync::Arc::new(crate::resume::load(&dir)?))
        }
        _ => None,
    };
    let result = run_with(&plan.config, &overrides, &RunOptions { resume, ..RunOptions::default() });
    let seconds = start.elapsed().as_secs_f64();
    let (mut files, status) = match result {
        Ok(outcome) if !outcome.complete() => {
            let steps = outcome.checkpoint.as_ref().map_or(0, |s| s.checkpoint.steps);
            let error = format!("interrupted after {steps} steps: `sweep --resume` continues it");
            (outcome.files, Status { exit_code: INTERRUPTED, error: Some(error), seconds })
        }
        Ok(outcome) => (outcome.files, Status { exit_code: 0, error: None, seconds }),
        Err(e) if cg_core::interrupt::requested() => {
            (vec![], Status { exit_code: INTERRUPTED, error: Some(format!("interrupted: {e:#}")), seconds })
        }
        Err(e) => (vec![], Status { exit_code: 2, error: Some(format!("{e:#}")), seconds }),
    };
    let config = crate::config::resolved(&plan.config, &overrides).and_then(|t| Ok(toml::to_string(&t)?));
    files.push(("config.toml".into(), config.unwrap_or_default().into_bytes()));
    let line: Vec<String> = plan.jobs[n].iter().map(|o| shell_quote(o)).collect();
    files.push(("overrides.txt".into(), (line.join(" ") + "\n").into_bytes()));
    files.push(crate::json_file(STATUS, &serde_json::to_value(&status)?)?);
    let outcome = Outcome { files, summary: String::new(), check: CheckScope::Full, checkpoint: None };
    write(&outcome, &dir)?;
    Ok(status)
}

/// Whether job `n` finished before with the config it would run now (`--resume` skips it).
///
/// # Errors
/// The job finished with another config (another grid, or an edited config file): the first
/// difference is named, since its results would be labelled with this sweep's values.
pub fn finished(plan: &Plan, root: &Path, n: usize) -> Result<bool> {
    if status_of(root, n).is_none_or(|s| s.exit_code != 0) {
        return Ok(false);
    }
    let path = root.join(n.to_string()).join("config.toml");
    let stored: toml::Table =
        std::fs::read_to_string(&path).ok().and_then(|t| toml::from_str(&t).ok()).ok_or_else(|| {
            anyhow!("--resume: {} is missing or unreadable: rerun the sweep without --resume", path.display())
        })?;
    let now = crate::config::resolved(&plan.config, &plan.overrides(n))?;
    if let Some(diff) = first_difference(&toml::Value::Table(stored), &toml::Value::Table(now), "") {
        bail!(
            "--resume: job {n} in {} ran another config ({diff}): resume a sweep with the grid and config it was started with, or give another --out",
            root.display()
        );
    }
    Ok(true)
}

/// The first place two TOML values differ, as `key: stored A, now B`.
fn first_difference(stored: &toml::Value, now: &toml::Value, at: &str) -> Option<String> {
    let key = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
    match (stored, now) {
        (toml::Value::Table(a), toml::Value::Table(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &key(k)) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{}: stored {v}, now absent", key(k))),
                }
            }
            b.iter().find(|(k, _)| !a.contains_key(*k)).map(|(k, w)| format!("{}: stored absent, now {w}", key(k)))
        }
        _ if stored == now => None,
        _ => Some(format!("{}: stored {stored}, now {now}", if at.is_empty() { "the config" } else { at })),
    }
}

/// The status of a job stopped by an interrupt (as the single-run command exits).
pub const INTERRUPTED: i32 = 130;

/// A finished job's status, if its folder has one.
pub fn status_of(root: &Path, n: usize) -> Option<Status> {
    serde_json::from_slice(&std::fs::read(root.join(n.to_string()).join(STATUS)).ok()?).ok()
}

/// What a local sweep did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ran {
    pub ok: usize,
    pub failed: usize,
    /// Finished before and skipped (`--resume`).
    pub skipped: usize,
}

/// The jobs a sweep still has to run: all of them, or with `resume` those that did not finish
/// with the config they would run now.
pub struct Pending {
    pub jobs: Vec<usize>,
    /// Resuming: jobs an interrupt stopped continue from their checkpoints.
    pub resume: bool,
}

/// What is left to run in `root`, decided once, before the plan is rewritten.
///
/// # Errors
/// With `resume`, a job that finished with another config ([`finished`]).
pub fn pending(plan: &Plan, root: &Path, resume: bool) -> Result<Pending> {
    let mut jobs = vec![];
    for n in 0..plan.jobs.len() {
        if !(resume && finished(plan, root, n)?) {
            jobs.push(n);
        }
    }
    Ok(Pending { jobs, resume })
}

/// Runs the pending jobs here, `jobs` at a time, each in a pool of cores / `jobs` threads (so
/// the machine is not oversubscribed). `report` sees each job as it ends.
///
/// # Errors
/// A job folder that cannot be written, or a thread pool that cannot start.
pub fn run_local(
    plan: &Plan,
    root: &Path,
    jobs: usize,
    pending: &Pending,
    report: &(dyn Fn(usize, &Status) + Sync),
) -> Result<Ran> {
    let (todo, resume) = (&pending.jobs, pending.resume);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let workers = jobs.clamp(1, todo.len().max(1));
    let threads = (cores / workers).max(1);
    let next = AtomicUsize::new(0);
    let ran = Mutex::new(Ran { skipped: plan.jobs.len() - todo.len(), ..Ran::default() });
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                    Ok(pool) => pool,
                    Err(e) => {
                        first_error.lock().expect("internal: not poisoned").get_or_insert(anyhow!("threads: {e}"));
                        return;
                    }
                };
                // After an interrupt no new job starts; the running ones keep what they did.
                while let Some(&n) =
                    todo.get(next.fetch_add(1, Ordering::Relaxed)).filter(|_| !cg_core::interrupt::requested())
                {
                    match pool.install(|| run_job(plan, root, n, resume)) {
                        Ok(status) => {
                            let mut r = ran.lock().expect("internal: not poisoned");
                            if status.exit_code == 0 {
                                r.ok += 1;
                            } else {
                                r.failed += 1;
                            }
                            drop(r);
                            report(n, &status);
                        }
                        Err(e) => {
                            first_error.lock().expect("internal: not poisoned").get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("internal: not poisoned") {
        return Err(e);
    }
    Ok(ran.into_inner().expect("internal: not poisoned"))
}

/// `text` as one shell word: as is when it holds only safe characters, else in single quotes
/// (a quote inside as '\''), so that spaces, `;`, `$(...)`, quotes and newlines stay literal.
pub fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.,/=:+@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The scalar values of a metrics object, nested objects flattened with dots (arrays left out).
pub(crate) fn scalars(value: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    scalars_or_null(value, prefix, false, out);
}

/// As [`scalars`]; with `nulls`, a metric that has no value (a test accuracy without a test
/// split; curves, `*_curve`, aside) is listed too, as null.
pub(crate) fn scalars_or_null(value: &Value, prefix: &str, nulls: bool, out: &mut Vec<(String, Value)>) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                Value::Object(_) => scalars_or_null(v, &key, nulls, out),
                Value::Number(_) | Value::Bool(_) | Value::String(_) => out.push((key, v.clone())),
                Value::Null if nulls && !k.ends_with("_curve") => out.push((key, Value::Null)),
                _ => {}
            }
        }
    }
}

/// What [`summarize`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub jobs: usize,
    pub ok: usize,
    pub failed: usize,
    pub missing: usize,
    pub files: Vec<String>,
}

/// Gathers the job folders under `root` into `summary.csv` (one row per job: its values of the
/// axes, every final scalar metric, status, seconds, error), `curves.png`/`.svg` (each curve's
/// mean and min-max band over seeds, per setting) and `summary.png`/`.svg` (each final metric
/// that varies against each swept key). Jobs not run yet are rows with status `missing`.
///
/// # Errors
/// No `multirun.json`, or a file that cannot be written.
pub fn summarize(root: &Path) -> Result<Summary> {
    let plan = read_plan(root)?;
    let n = plan.jobs.len();
    let statuses: Vec<Option<Status>> = (0..n).map(|k| status_of(root, k)).collect();
    let mut statuses = statuses;
    let metrics: Vec<Option<Value>> = (0..n)
        .map(|k| {
            let status = statuses[k].as_mut().filter(|s| s.exit_code == 0)?;
            let metrics = crate::read_metrics(&root.join(k.to_string()));
            if metrics.is_none() {
                // A finished job whose numbers cannot be read is not a result.
                status.exit_code = 2;
                status.error = Some("its metrics file is missing or damaged: rerun the job".into());
            }
            metrics
        })
        .collect();
    let mut columns: Vec<String> = vec![];
    let rows: Vec<Vec<(String, Value)>> = metrics
        .iter()
        .map(|m| {
            let mut row = vec![];
            if let Some(m) = m {
                scalars(m, "", &mut row);
            }
            for (k, _) in &row {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
            row
        })
        .collect();
    let mut csv = std::iter::once("job".to_string())
        .chain(plan.axes.iter().map(|a| a.key.clone()))
        .chain(columns.iter().cloned())
        .chain(["status", "seconds", "error"].map(String::from))
        .map(|c| csv_field(&c))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for (k, row) in rows.iter().enumerate() {
        let mut fields = vec![k.to_string()];
        fields.extend(plan.jobs[k].iter().map(|o| o.split_once('=').map_or("", |(_, v)| v).to_string()));
        for c in &columns {
            fields.push(row.iter().find(|(key, _)| key == c).map_or(String::new(), |(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
        }
        let (status, seconds, error) = match &statuses[k] {
            Some(s) if s.exit_code == 0 => ("ok", format!("{:.3}", s.seconds), String::new()),
            Some(s) if s.exit_code == INTERRUPTED => {
                ("interrupted", format!("{:.3}", s.seconds), s.error.clone().unwrap_or_default())
            }
            Some(s) => ("failed", format!("{:.3}", s.seconds), s.error.clone().unwrap_or_default()),
            None => ("missing", String::new(), String::new()),
        };
        fields.extend([status.to_string(), seconds, error]);
        csv += &(fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",") + "\n");
    }
    let mut files = vec![(SUMMARY.to_string(), csv.into_bytes())];
    let settings = settings(&plan);
    if let Some(grid) = curves(&plan, &settings, &metrics) {
        crate::push_figure(&mut files, "curves", grid.render())?;
    }
    if let Some(grid) = finals(&plan, &rows, &columns) {
        crate::push_figure(&mut files, "summary", grid.render())?;
    }
    for (name, bytes) in &files {
        crate::write_file(&root.join(name), bytes)?;
    }
    let count = |f: &dyn Fn(&Option<Status>) -> bool| statuses.iter().filter(|s| f(s)).count();
    Ok(Summary {
        jobs: n,
        ok: count(&|s| s.as_ref().is_some_and(|s| s.exit_code == 0)),
        failed: count(&|s| s.as_ref().is_some_and(|s| s.exit_code != 0)),
        missing: count(&|s| s.is_none()),
        files: files.into_iter().map(|f| f.0).collect(),
    })
}

/// The key that repeats a setting for error bars.
const SEED: &str = "seed";

/// Jobs grouped by setting (their overrides of swept keys other than the seed), in first-seen
/// order: (label, job indices).
fn settings(plan: &Plan) -> Vec<(String, Vec<usize>)> {
    let swept: Vec<&str> = plan.swept().map(|a| a.key.as_str()).filter(|&k| k != SEED).collect();
    let mut out: Vec<(String, Vec<usize>)> = vec![];
    for (k, job) in plan.jobs.iter().enumerate() {
        let label: Vec<&str> = job
            .iter()
            .filter(|o| swept.iter().any(|s| o.split_once('=').is_some_and(|(key, _)| key == *s)))
            .map(String::as_str)
            .collect();
        let label = if label.is_empty() { "all runs".to_string() } else { label.join(" ") };
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, jobs)) => jobs.push(k),
            None => out.push((label, vec![k])),
        }
    }
    out
}

/// Mean, min and max at each index over curves (cut to the shortest).
fn mean_band(curves: &[Vec<f64>]) -> Vec<(f64, f64, f64)> {
    let len = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let v: Vec<f64> = curves.iter().map(|c| c[i]).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            (mean, v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        })
        .collect()
}

/// Most panels in one figure.
const MAX_PANELS: usize = 12;

/// One panel per `*_curve` metric: per setting, the mean over its finished jobs and the min-max
/// band.
fn curves(plan: &Plan, settings: &[(String, Vec<usize>)], metrics: &[Option<Value>]) -> Option<cg_plot::ChartGrid> {
    let curve =
        |m: &Value, key: &str| -> Option<Vec<f64>> { m.get(key)?.as_array()?.iter().map(Value::as_f64).collect() };
    let mut keys: Vec<String> = vec![];
    for m in metrics.iter().flatten() {
        for (k, _) in m
            .as_object()?
            .iter()
            .filter(|(k, v)| k.ends_with("_curve") && curve(m, k).is_some_and(|c| c.len() > 1) && !v.is_null())
        {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let charts: Vec<(cg_plot::LineChart, Vec<cg_plot::Band>)> = keys
        .iter()
        .take(MAX_PANELS)
        .map(|key| {
            let (mut series, mut bands) = (vec![], vec![]);
            for (label, jobs) in settings {
                let cs: Vec<Vec<f64>> =
                    jobs.iter().filter_map(|&j| metrics[j].as_ref().and_then(|m| curve(m, key))).collect();
                if cs.is_empty() {
                    continue;
                }
                let mb = mean_band(&cs);
                let name =
                    if cs.len() > 1 { format!("{label} (mean of {}, min-max)", cs.len()) } else { label.clone() };
                bands.push(cg_plot::Band {
                    series: series.len(),
                    points: mb.iter().enumerate().map(|(i, &(_, lo, hi))| ((i + 1) as f64, lo, hi)).collect(),
                });
                series.push(cg_plot::Series::line(
                    &name,
                    mb.iter().enumerate().map(|(i, m)| ((i + 1) as f64, m.0)).collect(),
                ));
            }
            let legend = legend_for(&series);
            let chart = cg_plot::LineChart {
                y_range: None,
                equal_aspect: false,
                title: key.trim_end_matches("_curve").replace('_', " "),
                x_label: "epoch (or step)".into(),
                y_label: String::new(),
                series,
                legend,
            };
            (chart, bands)
        })
        .filter(|(c, _)| !c.series.is_empty())
        .collect();
    (!charts.is_empty()).then(|| cg_plot::ChartGrid {
        title: format!("{}: curves over the sweep", stem(plan)),
        charts,
        columns: 2,
    })
}

/// One panel per (final metric that varies, swept key): the metric's mean over the jobs at each
/// value of the key and the min-max band. Keys with text values are placed at their index.
fn finals(plan: &Plan, rows: &[Vec<(String, Value)>], columns: &[String]) -> Option<cg_plot::ChartGrid> {
    let mut axes: Vec<&Axis> = plan.swept().filter(|a| a.key != SEED).collect();
    if axes.is_empty() {
        axes = plan.swept().collect();
    }
    if axes.is_empty() {
        // Nothing swept (every key has one value): no metric varies against anything.
        return None;
    }
    let value = |row: &[(String, Value)], c: &str| row.iter().find(|(k, _)| k == c).and_then(|(_, v)| v.as_f64());
    // Metrics that vary across the jobs and are not a swept value echoed back (lattice.rows for
    // som.rows), top-level ones first.
    let echo = |c: &str| {
        plan.jobs.iter().zip(rows).all(|(job, row)| {
            value(row, c).is_none_or(|m| {
                job.iter().any(|o| o.split_once('=').and_then(|(_, v)| v.parse::<f64>().ok()) == Some(m))
            })
        })
    };
    let mut varying: Vec<&String> = columns
        .iter()
        .filter(|c| {
            let v: Vec<f64> = rows.iter().filter_map(|r| value(r, c)).collect();
            v.len() > 1 && v.iter().any(|x| *x != v[0]) && !echo(c)
        })
        .collect();
    varying.sort_by_key(|c| c.contains('.'));
    varying.truncate((MAX_PANELS / axes.len()).max(1));
    let per_row = axes.len().clamp(1, 3);
    let mut charts = vec![];
    for metric in &varying {
        for axis in &axes {
            let numeric: Option<Vec<f64>> = axis.values.iter().map(|v| v.parse::<f64>().ok()).collect();
            let xs: Vec<f64> = numeric.clone().unwrap_or_else(|| (0..axis.values.len()).map(|i| i as f64).collect());
            let (mut means, mut band) = (vec![], vec![]);
            for (value_text, &x) in axis.values.iter().zip(&xs) {
                let at = format!("{}={value_text}", axis.key);
                let v: Vec<f64> = plan
                    .jobs
                    .iter()
                    .zip(rows)
                    .filter(|(job, _)| job.contains(&at))
                    .filter_map(|(_, row)| value(row, metric))
                    .collect();
                if !v.is_empty() {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                    means.push((x, mean));
                    band.push((x, lo, hi));
                }
            }
            if means.is_empty() {
                continue;
            }
            let x_label = match numeric {
                Some(_) => axis.key.clone(),
                None => format!(
                    "{} ({})",
                    axis.key,
                    axis.values.iter().enumerate().map(|(i, v)| format!("{i} = {v}")).collect::<Vec<_>>().join(", ")
                ),
            };
            let series = vec![cg_plot::Series {
                name: "mean (min-max band)".into(),
                points: means,
                markers: true,
                dashed: false,
            }];
            let chart = cg_plot::LineChart {
                y_range: None,
                equal_aspect: false,
                title: metric.replace('_', " "),
                x_label,
                y_label: String::new(),
                legend: legend_for(&series),
                series,
            };
            charts.push((chart, vec![cg_plot::Band { series: 0, points: band }]));
        }
    }
    charts.truncate(MAX_PANELS);
    (!charts.is_empty()).then(|| cg_plot::ChartGrid {
        title: format!("{}: final metrics", stem(plan)),
        charts,
        columns: per_row,
    })
}

/// The legend in the corner the curves leave free: lower right when they mostly rise.
fn legend_for(series: &[cg_plot::Series]) -> cg_plot::Legend {
    let rising = series
        .iter()
        .filter(|s| s.points.len() > 1)
        .filter(|s| s.points.last().map(|p| p.1) > s.points.first().map(|p| p.1))
        .count();
    if 2 * rising > series.len() {
        cg_plot::Legend::LowerRight
    } else {
        cg_plot::Legend::UpperRight
    }
}

fn stem(plan: &Plan) -> String {
    plan.config.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned())
}

/// What `--slurm` writes and submits.
pub struct SlurmScripts {
    /// `submit.sh`: the job array, one task per job.
    pub array: String,
    /// `summarize.sh`: runs `summarize` after the array (an `afterany` dependency).
    pub summarize: String,
}

/// The two batch scripts of a sweep: every task runs `exe sweep ARGS --job $SLURM_ARRAY_TASK_ID`
/// in `cwd`, with every argument quoted (a value with spaces, quotes, `;`, `$(...)` or a newline
/// reaches the job as written).
pub fn slurm_scripts(plan: &Plan, root: &Path, exe: &Path, cwd: &Path, args: &[String]) -> SlurmScripts {
    let q = |p: &Path| shell_quote(&p.to_string_lossy());
    let name = shell_quote(&format!("cg-{}", stem(plan)));
    let command: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    let array = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --array=0-{last}\n#SBATCH --output={out}\n\
         # Written by `experiments sweep --slurm`: one task per job of {plan}.\n\
         cd {cwd} || exit 2\n\
         exec {exe} sweep {command} --job \"$SLURM_ARRAY_TASK_ID\"\n",
        last = plan.jobs.len() - 1,
        out = q(&root.join("slurm-%A_%a.out")),
        plan = root.join(PLAN).display(),
        cwd = q(cwd),
        exe = q(exe),
        command = command.join(" "),
    );
    let summarize = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}-summary\n#SBATCH --output={out}\n\
         # Written by `experiments sweep --slurm`: gathers the jobs once the array has ended.\n\
         cd {cwd} || exit 2\n\
         exec {exe} summarize {root}\n",
        out = q(&root.join("slurm-summary-%j.out")),
        cwd = q(cwd),
        exe = q(exe),
        root = q(root),
    );
    SlurmScripts { array, summarize }
}

/// Submits the scripts in `root` with `sbatch`: the array, then the summary after it
/// (`--dependency=afterany:ID`); returns both job ids.
///
/// # Errors
/// `sbatch` missing or refusing.
pub fn submit(root: &Path, slurm_args: &[String]) -> Result<(String, String)> {
    let sbatch = |extra: &[String], script: &str| -> Result<String> {
        let out = std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(slurm_args)
            .args(extra)
            .arg(root.join(script))
            .output()
            .map_err(|e| anyhow!("cannot run sbatch ({e}): is Slurm installed? --dry-run writes the scripts only"))?;
        if !out.status.success() {
            bail!("sbatch {script}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() {
            bail!("sbatch {script}: no job id in its answer");
        }
        Ok(id)
    };
    let array = sbatch(&[], "submit.sh")?;
    let summary = sbatch(&[format!("--dependency=afterany:{array}")], "summarize.sh")?;
    Ok((array, summary))
}
