//! An interrupt asked for through the library (as the Python package and signal handlers do):
//! a resumable kind stops after its current step with a checkpoint and results marked
//! incomplete; a kind that keeps no partial results writes nothing and says so. In a test
//! binary of its own, because the request is process-wide.

use std::path::PathBuf;

use experiments::{run_with, RunOptions};

fn config(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs").join(name)
}

#[test]
fn an_interrupt_stops_resumable_runs_with_a_checkpoint_and_refuses_the_others() {
    cg_core::interrupt::request();
    let stopped = run_with(&config("xor.toml"), &[], &RunOptions::default()).unwrap();
    let saved = stopped.checkpoint.as_ref().expect("a checkpoint");
    assert!(saved.interrupted && !saved.finished);
    assert_eq!(saved.checkpoint.steps, 1, "stopped after the first step");
    assert!(!stopped.complete());
    let metrics = stopped.files.iter().find(|f| f.0 == "metrics.json").unwrap();
    let metrics: serde_json::Value = serde_json::from_slice(&metrics.1).unwrap();
    assert_eq!(metrics["complete"], false);
    let err = run_with(&config("hopfield_digits.toml"), &[], &RunOptions::default()).err().expect("refused");
    assert!(format!("{err:#}").contains("keeps no partial results, so nothing was written"), "{err:#}");
    cg_core::interrupt::clear();
    let whole = run_with(&config("xor.toml"), &[], &RunOptions::default()).unwrap();
    assert!(whole.complete() && whole.checkpoint.is_none());
}
