//! `summary.csv`: one row per job with its values of the axes, final metrics and status.

use std::path::Path;

use anyhow::{anyhow, Result};
use serde_json::Value;

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
        csv.write_record(&fields)?;
    }
    let csv = csv.into_inner().map_err(|e| anyhow!("{SUMMARY}: {}", e.error()))?;
    let mut files = vec![(SUMMARY.to_string(), csv)];
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
