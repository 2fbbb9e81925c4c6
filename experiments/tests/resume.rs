//! A run stopped after N epochs with `--stop-after` and continued with `--resume` writes the same
//! bytes as the run never stopped (every file but timing.json), for every kind with a resumable
//! training loop; a different config, a kind without such a loop, or a damaged state is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use experiments::config::Override;
use experiments::resume::{self, STATE_JSON, STATE_TENSORS};
use experiments::{run_with, RunOptions};

mod common;

use common::folder;

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
    // Early stopping keeps its best epoch and parameters across the stop: stopped before and
    // after the best epoch (6), the resumed run stops where the whole one did (14).
    resumes_exactly("model_early_stopping_digits.toml", &[], 3);
    resumes_exactly("model_early_stopping_digits.toml", &[], 9);
    // Batch normalisation's running statistics and dropout's stream carry over too.
    resumes_exactly("model_batchnorm_wine.toml", &["train.epochs=6", "train.gradient_check=false"], 3);
    resumes_exactly("model_residual_digits.toml", &["train.epochs=4", "train.gradient_check=false"], 2);
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
            "kind `ising` has no resumable training loop (kinds that do: mlp, model, rnn, som, rbm, boltzmann, bn_learn)"
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

fn steps_done(dir: &Path) -> usize {
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(STATE_JSON)).unwrap()).unwrap();
    state["steps"].as_u64().unwrap() as usize
}

/// Starts xor for a very long budget with periodic checkpoints, and waits for the first one (so
/// the signal handlers are in place); the test never depends on how fast the machine is.
#[cfg(unix)]
fn long_run(dir: &Path) -> std::process::Child {
    let xor = config("xor.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args([text(&xor), "-q", "train.epochs=10000000", "--checkpoint-every", "2000", "--max-memory", "1T"])
        .args(["--out", text(dir)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while !dir.join(STATE_JSON).exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("the run ended ({status}) before its first checkpoint: {err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// Resumes `dir` up to a budget a little past its steps, and compares it with a run made with
/// that budget from the start.
fn finishes_as_a_whole_run(dir: &Path, tmp: &Path) {
    let budget = format!("train.epochs={}", steps_done(dir) + 50);
    let xor = config("xor.toml");
    let (code, err) = binary(&[text(&xor), "-q", &budget, "--resume", text(dir)]);
    assert_eq!(code, Some(0), "{err}");
    let whole = tmp.join("whole");
    let (code, err) = binary(&[text(&xor), "-q", &budget, "--out", text(&whole)]);
    assert_eq!(code, Some(0), "{err}");
    let (a, b) = (folder(&whole), folder(dir));
    assert_eq!(a.iter().map(|f| &f.0).collect::<Vec<_>>(), b.iter().map(|f| &f.0).collect::<Vec<_>>());
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between the resumed run and the whole one");
    }
}

#[cfg(unix)]
#[test]
fn ctrl_c_keeps_the_results_so_far_and_a_checkpoint_to_continue() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let child = long_run(&dir);
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "the message gives the command to continue: {stderr}");
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["complete"], false);
    assert_eq!(metrics["stopped"]["by"], "interrupted");
    assert_eq!(metrics["epochs"].as_u64().unwrap() as usize, steps_done(&dir));
    let manifest = std::fs::read_to_string(dir.join(".cg-results.json")).unwrap();
    assert!(manifest.contains("\"complete\": false"), "{manifest}");
    finishes_as_a_whole_run(&dir, tmp.path());
}

#[cfg(unix)]
#[test]
fn a_killed_run_loses_at_most_checkpoint_every_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut child = long_run(&dir);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(steps_done(&dir) % 2000, 0, "checkpoints at multiples of 2000 epochs");
    finishes_as_a_whole_run(&dir, tmp.path());
}

#[test]
fn a_finished_run_continues_with_a_larger_budget_as_if_given_from_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let xor = config("xor.toml");
    let (code, err) =
        binary(&[text(&xor), "-q", "train.epochs=300", "--checkpoint-every", "1000", "--out", text(&dir)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(steps_done(&dir), 300, "the final state is kept");
    // The same budget again has nothing to do, and says how to continue.
    let (code, err) = binary(&[text(&xor), "-q", "train.epochs=300", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("give a larger train.epochs"), "{err}");
    // Another setting than the budget is another run.
    let (code, err) = binary(&[text(&xor), "-q", "train.epochs=400", "seed=5", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("only train.epochs may differ"), "{err}");
    finishes_as_a_whole_run(&dir, tmp.path());
}

#[test]
fn an_edited_or_mismatched_checkpoint_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("xor");
    let xor = config("xor.toml");
    let (code, err) = binary(&[text(&xor), "-q", "--stop-after", "3", "--out", text(&dir)]);
    assert_eq!(code, Some(0), "{err}");
    let state = std::fs::read_to_string(dir.join(STATE_JSON)).unwrap();
    std::fs::write(dir.join(STATE_JSON), state.replace("\"steps\": 3", "\"steps\": 5")).unwrap();
    let (code, err) = binary(&[text(&xor), "-q", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("do not belong together"), "{err}");
    // The tensors of another run beside this state.
    std::fs::write(dir.join(STATE_JSON), &state).unwrap();
    let other = tmp.path().join("other");
    let (code, _) = binary(&[text(&xor), "-q", "--stop-after", "4", "--out", text(&other)]);
    assert_eq!(code, Some(0));
    std::fs::copy(other.join(STATE_TENSORS), dir.join(STATE_TENSORS)).unwrap();
    let (code, err) = binary(&[text(&xor), "-q", "--resume", text(&dir)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("do not belong together"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_stops_at_once_and_leaves_a_whole_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let child = long_run(&dir);
    let pid = child.id().to_string();
    for _ in 0..2 {
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    // The folder is the last checkpoint or the results so far, each whole: its manifest lists
    // exactly what is there.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".cg-results.json")).unwrap()).unwrap();
    let mut listed: Vec<String> =
        manifest["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    listed.push(".cg-results.json".into());
    listed.sort();
    let mut present: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    present.sort();
    assert_eq!(listed, present);
    assert!(resume::load(&dir).is_ok(), "its checkpoint reads back");
}

#[cfg(unix)]
#[test]
fn an_interrupted_sweep_keeps_its_running_job_and_resumes_it_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let digits = config("digits_mlp.toml");
    let sweep_args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["sweep", text(&digits), "seed=0,1", "train.epochs=3000", "--out", "sw", "-q"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let child = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .current_dir(tmp.path())
        .args(sweep_args(&[]))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let multirun = tmp.path().join("sw/digits_mlp/multirun");
    while !multirun.join("multirun.json").exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let summary = std::fs::read_to_string(multirun.join("summary.csv")).unwrap();
    let job1 = summary.lines().nth(2).unwrap();
    assert!(job1.contains(",missing,"), "no new job starts after the interrupt: {job1}");
    let o = Command::new(env!("CARGO_BIN_EXE_experiments"))
        .current_dir(tmp.path())
        .args(sweep_args(&["--resume"]))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Job 0, interrupted and resumed, equals the same run made whole.
    let whole = tmp.path().join("whole");
    let (code, err) = binary(&[text(&digits), "-q", "seed=0", "train.epochs=3000", "--out", text(&whole)]);
    assert_eq!(code, Some(0), "{err}");
    let job = folder(&multirun.join("0"));
    for (name, bytes) in folder(&whole) {
        if name == ".cg-results.json" {
            continue;
        }
        let theirs = job.iter().find(|f| f.0 == name).unwrap_or_else(|| panic!("job 0 lacks {name}"));
        assert!(theirs.1 == bytes, "{name} differs between the resumed job and the whole run");
    }
}
