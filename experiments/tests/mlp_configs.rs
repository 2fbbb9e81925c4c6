//! The shipped network configs reach the accuracy their issue demands, checked on a full run.

use std::path::PathBuf;

use serde_json::Value;

fn metrics(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs").join(format!("{name}.toml"));
    let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
    let (_, bytes) = outcome.files.iter().find(|(f, _)| f == "metrics.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn xor_is_learned_exactly() {
    let m = metrics("xor");
    assert_eq!(m["train_accuracy"], 1.0);
    assert!(m["final_loss"].as_f64().unwrap() < 0.01, "{}", m["final_loss"]);
    assert_eq!(m["loss_curve"].as_array().unwrap().len(), m["epochs"].as_u64().unwrap() as usize);
}

#[test]
fn digits_mlp_reaches_95_percent_on_the_test_split() {
    let m = metrics("digits_mlp");
    assert!(m["test_accuracy"].as_f64().unwrap() >= 0.95, "{}", m["test_accuracy"]);
    assert_eq!(m["samples"]["test"], 359); // 20% of 1797, rounded
}

#[test]
fn projected_gradient_descent_reaches_the_independent_constrained_optimum() {
    // The references are computed by active-set and support enumeration (cg_optim::reference).
    for name in ["constrained_nnls_diabetes", "constrained_simplex_diabetes"] {
        let m = metrics(name);
        let gap = m["reference"]["gap"].as_f64().unwrap();
        assert!(gap.abs() < 1e-9, "{name}: objective {} above the optimum", gap);
        let worst = m["violation_curve"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).fold(0.0, f64::max);
        assert!(worst <= 1e-9, "{name}: violation {worst}");
    }
}

#[test]
fn the_stored_rnn_run_reaches_its_stated_loss() {
    // The full 150-epoch run is stored; the golden test reruns its first epochs.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../results/rnn_sine/metrics.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(m["test_loss"].as_f64().unwrap() < 0.02, "{}", m["test_loss"]);
    assert_eq!(m["loss_curve"].as_array().unwrap().len(), 150);
}

#[test]
fn the_box_constrained_rnn_keeps_its_bound_and_still_learns() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../results/rnn_sine_box/metrics.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(m["violation"].as_f64().unwrap() <= 1e-12);
    assert!(m["W_max_abs"].as_f64().unwrap() <= 0.2);
    assert!(m["test_loss"].as_f64().unwrap() < 0.02, "{}", m["test_loss"]);
}
