//! `summary.csv`: one row per job with its values of the axes, final metrics and status.

use std::path::Path;

use anyhow::{anyhow, Result};
use serde_json::Value;

use super::figures::SEED;
use super::*;

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

/// The value of metric `key` in a job's row of scalars.
pub(super) fn value_in<'a>(row: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    row.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// What [`summarize`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Jobs in the plan.
    pub jobs: usize,
    /// Jobs that finished.
    pub ok: usize,
    /// Jobs that failed.
    pub failed: usize,
    /// Jobs with no status (not run, or killed).
    pub missing: usize,
    /// The files written.
    pub files: Vec<String>,
    /// The settings table (`settings.csv` in text: mean ± sd, min-max of the chosen metric per
    /// setting, the best marked), for the terminal; empty when no metric varies.
    pub table: String,
}

/// The metric a sweep is judged by when none is named: the first of these that varies.
const DEFAULT_METRICS: [&str; 12] = [
    "test_accuracy",
    "accuracy",
    "train_accuracy",
    "test_loss",
    "final_test_loss",
    "final_loss",
    "loss",
    "test_quantization_error",
    "quantization_error",
    "exact_log_likelihood",
    "ais_log_likelihood",
    "pseudo_log_likelihood",
];

/// Whether a larger value of `metric` is better (accuracies, likelihoods, R²).
fn larger_is_better(metric: &str) -> bool {
    ["accuracy", "likelihood", "r2", "r_squared", "purity", "recall"].iter().any(|w| metric.contains(w))
}

/// A metric over a setting's jobs: (mean, sd, min, max, count).
type Stats = (f64, Option<f64>, f64, f64, usize);

/// (mean, sample standard deviation (n - 1; `None` for one value), min, max) of `v`.
pub(crate) fn stats(v: &[f64]) -> (f64, Option<f64>, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.len() > 1).then(|| (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    (mean, sd, lo, hi)
}

/// Four significant digits, for the terminal.
fn shown(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    if v.abs() >= 1e6 || v.abs() < 1e-4 {
        format!("{v:.3e}")
    } else {
        format!("{v:.digits$}")
    }
}

/// Gathers the job folders under `root` into `summary.csv` (one row per job: its values of the
/// axes, every final scalar metric that varies, status, seconds, error; the others in
/// `constants.csv`), `settings.csv` (per setting, each metric's mean, sd, min and max over its
/// jobs, the best marked), `curves.png`/`.svg` (each curve's
/// mean and min-max band over seeds, per setting) and `summary.png`/`.svg` (each final metric
/// that varies against each swept key). Jobs not run yet are rows with status `missing`.
///
/// # Errors
/// No `multirun.json`, or a file that cannot be written.
pub fn summarize(root: &Path) -> Result<Summary> {
    summarize_by(root, None)
}

/// [`summarize`], the best setting judged by `metric` (a numeric metric that varies; by default
/// the first there is of test accuracy, accuracy, train accuracy, a loss, an error, a likelihood).
///
/// # Errors
/// As [`summarize`], or an unknown `metric`.
pub fn summarize_by(root: &Path, metric: Option<&str>) -> Result<Summary> {
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
    // Metrics with one value in every job that has them go to constants.csv, not to each row.
    let (columns, constants): (Vec<String>, Vec<String>) = columns.into_iter().partition(|c| {
        let values: Vec<&Value> = rows.iter().filter_map(|r| value_in(r, c)).collect();
        values.len() < 2 || values.iter().any(|v| *v != values[0])
    });
    let mut csv = csv::Writer::from_writer(vec![]);
    let header = std::iter::once("job".to_string())
        .chain(plan.axes.iter().map(|a| a.key.clone()))
        .chain(columns.iter().cloned())
        .chain(["status", "seconds", "error"].map(String::from));
    csv.write_record(header)?;
    for (k, row) in rows.iter().enumerate() {
        let mut fields = vec![k.to_string()];
        fields.extend(plan.jobs[k].iter().map(|o| o.split_once('=').map_or("", |(_, v)| v).to_string()));
        for c in &columns {
            fields.push(value_in(row, c).map_or(String::new(), |v| match v {
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
        csv.write_record(&fields)?;
    }
    let csv = csv.into_inner().map_err(|e| anyhow!("{SUMMARY}: {}", e.error()))?;
    let mut files = vec![(SUMMARY.to_string(), csv)];
    if !constants.is_empty() {
        let mut out = csv::Writer::from_writer(vec![]);
        out.write_record(["metric", "value"])?;
        for c in &constants {
            let v = rows.iter().find_map(|r| value_in(r, c)).cloned().unwrap_or(Value::Null);
            out.write_record([
                c.clone(),
                match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
            ])?;
        }
        files.push(("constants.csv".into(), out.into_inner().map_err(|e| anyhow!("constants.csv: {}", e.error()))?));
    }
    let settings = settings(&plan);
    let (table, settings_csv) = aggregate(&plan, &settings, &rows, &columns, metric)?;
    if let Some(bytes) = settings_csv {
        files.push(("settings.csv".into(), bytes));
    }
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
        table,
    })
}

/// `settings.csv`: one row per setting (the swept values other than the seed), its finished
/// jobs, and the mean, standard deviation, min and max of each numeric metric that varies; the
/// best setting for `metric` (or the first of [`DEFAULT_METRICS`] that varies) marked `*`. Also
/// the table for the terminal. `None` when no numeric metric varies.
///
/// # Errors
/// `metric` is not a numeric metric of the jobs (the message lists those there are).
fn aggregate(
    plan: &Plan,
    settings: &[(String, Vec<usize>)],
    rows: &[Vec<(String, Value)>],
    columns: &[String],
    metric: Option<&str>,
) -> Result<(String, Option<Vec<u8>>)> {
    let number = |row: &[(String, Value)], c: &str| value_in(row, c).and_then(Value::as_f64);
    let numeric: Vec<&String> = columns.iter().filter(|c| rows.iter().any(|r| number(r, c).is_some())).collect();
    if let Some(m) = metric {
        if !numeric.iter().any(|c| *c == m) {
            let known: Vec<&str> = numeric.iter().map(|c| c.as_str()).collect();
            anyhow::bail!("--metric {m}: not a metric that varies over the jobs (those that do: {})", known.join(", "));
        }
    }
    if numeric.is_empty() {
        return Ok((String::new(), None));
    }
    let chosen = metric
        .map(str::to_string)
        .or_else(|| DEFAULT_METRICS.iter().find(|m| numeric.iter().any(|c| c == *m)).map(|m| m.to_string()))
        .unwrap_or_else(|| numeric[0].clone());
    let swept: Vec<&Axis> = plan.swept().filter(|a| a.key != SEED).collect();
    let per_setting: Vec<Vec<Option<Stats>>> = settings
        .iter()
        .map(|(_, jobs)| {
            numeric
                .iter()
                .map(|c| {
                    let v: Vec<f64> = jobs.iter().filter_map(|&j| number(&rows[j], c)).collect();
                    (!v.is_empty()).then(|| {
                        let (mean, sd, lo, hi) = stats(&v);
                        (mean, sd, lo, hi, v.len())
                    })
                })
                .collect()
        })
        .collect();
    let at = numeric.iter().position(|c| **c == chosen).expect("internal: the chosen metric is numeric");
    let better = |a: f64, b: f64| if larger_is_better(&chosen) { a > b } else { a < b };
    let best = per_setting
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s[at].map(|(mean, ..)| (k, mean)))
        .fold(None, |acc: Option<(usize, f64)>, (k, m)| match acc {
            Some((_, b)) if !better(m, b) => acc,
            _ => Some((k, m)),
        })
        .map(|(k, _)| k);
    let mut out = csv::Writer::from_writer(vec![]);
    let mut header: Vec<String> = swept.iter().map(|a| a.key.clone()).collect();
    header.push("jobs".into());
    for c in &numeric {
        header.extend(["mean", "sd", "min", "max"].map(|s| format!("{c}.{s}")));
    }
    header.push(format!("best_{chosen}"));
    out.write_record(&header)?;
    let mut table = format!(
        "{} by setting ({} is better; mean ± sd over the jobs):\n",
        chosen,
        if larger_is_better(&chosen) { "larger" } else { "smaller" }
    );
    for (k, ((label, jobs), stats)) in settings.iter().zip(&per_setting).enumerate() {
        let job = &plan.jobs[jobs[0]];
        let mut record: Vec<String> = swept
            .iter()
            .map(|a| {
                job.iter()
                    .find_map(|o| o.split_once('=').filter(|(key, _)| *key == a.key).map(|(_, v)| v.to_string()))
                    .unwrap_or_default()
            })
            .collect();
        let finished = stats.iter().flatten().map(|s| s.4).max().unwrap_or(0);
        record.push(finished.to_string());
        for s in stats {
            match s {
                Some((mean, sd, lo, hi, _)) => {
                    record.extend([
                        format!("{mean:?}"),
                        sd.map_or(String::new(), |v| format!("{v:?}")),
                        format!("{lo:?}"),
                        format!("{hi:?}"),
                    ]);
                }
                None => record.extend(std::iter::repeat_n(String::new(), 4)),
            }
        }
        let mark = if best == Some(k) { "*" } else { "" };
        record.push(mark.to_string());
        out.write_record(&record)?;
        let star = if mark.is_empty() { "  " } else { "* " };
        let line = match stats[at] {
            Some((mean, Some(sd), lo, hi, n)) => format!(
                "{star}{label}: {} ± {} (min {}, max {}, {n} jobs)",
                shown(mean),
                shown(sd),
                shown(lo),
                shown(hi)
            ),
            Some((mean, None, ..)) => format!("{star}{label}: {} (1 job)", shown(mean)),
            None => format!("  {label}: no finished job"),
        };
        table.push_str(&line);
        table.push('\n');
    }
    let bytes = out.into_inner().map_err(|e| anyhow!("settings.csv: {}", e.error()))?;
    Ok((table, Some(bytes)))
}
