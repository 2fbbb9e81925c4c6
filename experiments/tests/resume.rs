//! A run stopped after N epochs with `--stop-after` and continued with `--resume` writes the same
//! bytes as the run never stopped (every file but timing.json), for every kind with a resumable
//! training loop; a different config, a kind without such a loop, or a damaged state is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use experiments::config::Override;
use experiments::resume::{self, STATE_JSON, STATE_TENSORS};
use experiments::{run_with, RunOptions};

fn config(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs").join(name)
}

fn overrides(list: &[&str]) -> Vec<Override> {
    list.iter().map(|o| Override::parse(o).unwrap()).collect()
}

/// The files of a run, timing.json left out (wall-clock seconds differ between runs).
fn compared(files: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = files.iter().filter(|(n, _)| n != "timing.json").cloned().collect();
    files.sort();
    files
}

/// Runs `name` with `list` whole, then stopped after `stop` steps (written to a folder and read
/// back) and resumed: the two must give the same bytes.
fn resumes_exactly(name: &str, list: &[&str], stop: usize) {
    let (path, o) = (config(name), overrides(list));
    let whole = run_with(&path, &o, &RunOptions::default()).unwrap();
    assert!(whole.checkpoint.is_none());
    let stopped = run_with(&path, &o, &RunOptions { stop_after: Some(stop), ..RunOptions::default() }).unwrap();
    let names: Vec<&str> = stopped.files.iter().map(|f| f.0.as_str()).collect();
    assert!(names.contains(&STATE_JSON) && names.contains(&STATE_TENSORS), "{name}: {names:?}");
    assert!(names.contains(&"model.safetensors"), "{name}: the model so far is saved too");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("stopped");
    experiments::write(&stopped, &dir).unwrap();
    let saved = Arc::new(resume::load(&dir).unwrap());
    assert_eq!(saved.checkpoint.steps, stop);
    let resumed = run_with(&path, &o, &RunOptions { resume: Some(saved), ..RunOptions::default() }).unwrap();
    let (a, b) = (compared(&whole.files), compared(&resumed.files));
    assert_eq!(a.iter().map(|f| &f.0).collect::<Vec<_>>(), b.iter().map(|f| &f.0).collect::<Vec<_>>(), "{name}");
    for ((file, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name}: {file} differs after stopping at {stop} and resuming");
    }
    // The stopped run's curves are the start of the whole run's.
    let metrics = |files: &[(String, Vec<u8>)]| -> serde_json::Value {
        serde_json::from_slice(&files.iter().find(|f| f.0 == "metrics.json").unwrap().1).unwrap()
    };
    assert_ne!(metrics(&stopped.files), metrics(&whole.files), "{name}: stopping changed nothing");
}

#[test]
fn mlp_in_f64_and_f32() {
    resumes_exactly("xor.toml", &[], 7);
    resumes_exactly("softmax_wine.toml", &["train.epochs=6", "train.check_epochs=1", "optimizer.method=adam"], 4);
    let f32_parts = ["train.epochs=3", "train.check_epochs=1", "train.precision=f32", "train.batch_size=256"];
    resumes_exactly("digits_mlp.toml", &f32_parts, 2);
}

#[test]
fn general_model() {
    resumes_exactly("model_multitask_wine.toml", &["train.epochs=5"], 2);
}

#[test]
fn rnn() {
    resumes_exactly("rnn_sine_box.toml", &["epochs=3", "check_epochs=1", "task.train_sequences=64"], 2);
}

#[test]
fn rbm_cd_and_pcd_with_likelihood_monitors() {
    resumes_exactly("rbm_wine_gaussian_ais.toml", &["rbm.epochs=6", "check_epochs=1", "evaluation.ais_every=2"], 3);
    let small = ["rbm.epochs=3", "check_epochs=1", "rbm.hidden=8", "rbm.method=pcd"];
    resumes_exactly("rbm_digits.toml", &small, 1);
}

#[test]
fn boltzmann() {
    resumes_exactly("bm_small.toml", &["bm.epochs=6"], 4);
}

#[test]
fn som_online_and_batch() {
    resumes_exactly("som_digits_online.toml", &["som.epochs=3", "check_epochs=1", "som.rows=5", "som.cols=5"], 2);
    resumes_exactly("som_iris.toml", &["som.epochs=6"], 5);
}

fn binary(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_experiments")).args(args).output().unwrap();
    (o.status.code(), String::from_utf8(o.stderr).unwrap())
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn resuming_refuses_another_config_another_kind_and_damaged_state() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("xor");
    let xor = config("xor.toml");
    let (code, err) = binary(&[text(&xor), "-q", "--stop-after", "5", "--out", text(&dir)]);
    assert_eq!(code, Some(0), "{err}");
    let before = std::fs::read(dir.join(STATE_JSON)).unwrap();

    let (code, err) = binary(&[text(&xor), "-q", "seed=1", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("was stopped in a run of another config"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(std::fs::read(dir.join(STATE_JSON)).unwrap(), before, "a refused resume leaves the folder alone");

    let (code, err) =
        binary(&[text(&config("ising.toml")), "-q", "--stop-after", "2", "--out", text(&tmp.path().join("i"))]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "kind `ising` has no resumable training loop (kinds that do: mlp, model, rnn, som, rbm, boltzmann)"
        ),
        "{err}"
    );

    let (code, err) = binary(&[text(&xor), "--stop-after", "5"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("give --out DIR"), "{err}");

    std::fs::write(dir.join(STATE_TENSORS), b"not tensors").unwrap();
    let (code, err) = binary(&[text(&xor), "-q", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("state.safetensors") && !err.contains("panicked"), "{err}");
}
