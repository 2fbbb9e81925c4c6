//! The grid of a sweep: axes parsed from `key=v1,v2` and `key=range(a,b[,step])`, the jobs
//! they make, and the plan file that records them.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::config::Override;

use super::*;

/// One swept key and its values, as written (`key=v1,v2` or `key=range(a,b[,step])`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The setting varied.
    pub key: String,
    /// Its values.
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
pub(super) fn range(inside: &str) -> Result<Vec<String>, String> {
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
pub(super) fn split_values(raw: &str) -> Vec<String> {
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
    /// The axes of the grid.
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
    pub(super) fn overrides(&self, n: usize) -> Vec<Override> {
        self.jobs[n].iter().map(|o| Override::parse(o).expect("internal: checked in Plan::new")).collect()
    }

    /// The axes with more than one value (the swept ones), in order.
    pub(super) fn swept(&self) -> impl Iterator<Item = &Axis> {
        self.axes.iter().filter(|a| a.values.len() > 1)
    }
}

/// A sweep's arguments: a config with `key=values` arguments, or a sweep file (a TOML file with
/// a `[sweep]` table: `config`, `overrides`, optionally `out`, paths relative to the file).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SweepFile {
    sweep: SweepTable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SweepTable {
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
