//! Running the jobs of a sweep here: the results folder's lock, one job at a time or N at once,
//! and which jobs are finished or still to run.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::{run_with, write, CheckScope, Outcome, RunOptions};

use super::*;

/// How one job ended (its `status.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// 0 for a finished run, 2 for an error (as the single-run command exits).
    pub exit_code: i32,
    /// The error's message, for a failed run.
    pub error: Option<String>,
    /// Wall-clock seconds the run took.
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
pub(super) fn first_difference(stored: &toml::Value, now: &toml::Value, at: &str) -> Option<String> {
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
    /// Jobs that finished.
    pub ok: usize,
    /// Jobs that failed.
    pub failed: usize,
    /// Finished before and skipped (`--resume`).
    pub skipped: usize,
}

/// The jobs a sweep still has to run: all of them, or with `resume` those that did not finish
/// with the config they would run now.
pub struct Pending {
    /// The jobs, by number.
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
