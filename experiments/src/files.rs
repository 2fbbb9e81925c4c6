//! The files of a run, rendered in memory: metrics as JSON, figures as PNG and SVG, graphs,
//! tensors; and writing them into the results folder.

use std::path::Path;

use anyhow::Result;

use crate::*;

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
pub(crate) fn positive_zeros(value: &mut serde_json::Value) {
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
pub(crate) const SKIPPED: &str = ".skipped";

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
pub(crate) fn record_skipped(outcome: &mut Outcome) -> Result<()> {
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
pub(crate) fn add_to_metrics<const N: usize>(
    outcome: &mut Outcome,
    entries: [(&str, serde_json::Value); N],
) -> Result<()> {
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

/// A Bayesian network from a BIF file; the error names the file.
///
/// # Errors
/// A file that cannot be read, is not BIF, or holds no valid network.
pub fn read_network(path: &Path) -> Result<cg_pgm::BayesianNetwork> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let specs = cg_pgm::files::read_bif(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    cg_pgm::BayesianNetwork::new(&specs).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
