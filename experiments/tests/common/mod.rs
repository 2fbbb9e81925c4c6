//! Reading stored results in the tests that check them against theory and references, and
//! configs several tests share.

use std::path::PathBuf;

use serde_json::Value;

/// A small graph config that runs: one input, one weight, sin(w x).
#[allow(dead_code)]
pub const GOOD_GRAPH: &str = r#"
kind = "graph"
[graph]
inputs = { x = 1.0 }
weights = { w = 2.0 }
outputs = ["o"]
[graph.nodes]
h = "w * x"
o = "sin(h)"
"#;

/// `results/<name>/metrics.json`.
#[allow(dead_code)]
pub fn stored(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../results").join(name).join("metrics.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers.
#[allow(dead_code)]
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// Every file of a result folder but timing.json (wall-clock seconds differ between runs), by
/// name.
#[allow(dead_code)]
pub fn folder(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .filter(|(n, _)| n != "timing.json")
        .collect();
    files.sort();
    files
}
