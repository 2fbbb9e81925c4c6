//! The sweep's pictures: each curve's mean and band over seeds, and final metrics against each
//! swept key.

use serde_json::Value;

use super::*;

/// The key that repeats a setting for error bars.
pub(super) const SEED: &str = "seed";

/// Jobs grouped by setting (their overrides of swept keys other than the seed), in first-seen
/// order: (label, job indices).
pub(super) fn settings(plan: &Plan) -> Vec<(String, Vec<usize>)> {
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
pub(super) fn mean_band(curves: &[Vec<f64>]) -> Vec<(f64, f64, f64)> {
    let len = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let v: Vec<f64> = curves.iter().map(|c| c[i]).collect();
            let (mean, _, lo, hi) = super::summary::stats(&v);
            (mean, lo, hi)
        })
        .collect()
}

/// Most panels in one figure.
pub(super) const MAX_PANELS: usize = 12;

/// One panel per `*_curve` metric: per setting, the mean over its finished jobs and the min-max
/// band.
pub(super) fn curves(
    plan: &Plan,
    settings: &[(String, Vec<usize>)],
    metrics: &[Option<Value>],
) -> Option<cg_plot::ChartGrid> {
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
                x_log: false,
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
pub(super) fn finals(plan: &Plan, rows: &[Vec<(String, Value)>], columns: &[String]) -> Option<cg_plot::ChartGrid> {
    let mut axes: Vec<&Axis> = plan.swept().filter(|a| a.key != SEED).collect();
    if axes.is_empty() {
        axes = plan.swept().collect();
    }
    if axes.is_empty() {
        // Nothing swept (every key has one value): no metric varies against anything.
        return None;
    }
    let value = |row: &[(String, Value)], c: &str| super::summary::value_in(row, c).and_then(Value::as_f64);
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
                    let (mean, _, lo, hi) = super::summary::stats(&v);
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
            // Settings spaced by factors (learning rates 0.01, 0.03, 0.1) spread out on a log
            // axis: positive values spanning a decade or more.
            let x_log = numeric.as_ref().is_some_and(|v| {
                let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                lo > 0.0 && hi / lo >= 10.0
            });
            let chart = cg_plot::LineChart {
                y_range: None,
                equal_aspect: false,
                x_log,
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
pub(super) fn legend_for(series: &[cg_plot::Series]) -> cg_plot::Legend {
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

pub(super) fn stem(plan: &Plan) -> String {
    plan.config.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned())
}
