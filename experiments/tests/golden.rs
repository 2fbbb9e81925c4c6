//! Every shipped config reruns to its stored results under `results/<stem>/` (numbers within
//! 1e-12 relative, see `experiments::check`). Regenerating is deliberate:
//! `cargo run --release -p experiments -- configs/*.toml`, and the diff is reviewed in the commit.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shipped_configs() -> Vec<PathBuf> {
    let mut configs: Vec<PathBuf> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    configs.sort();
    configs
}

#[test]
fn every_shipped_config_reproduces_its_stored_results() {
    let configs = shipped_configs();
    assert!(configs.len() >= 10, "expected the chapter's configs, found {}", configs.len());
    let mut failures = vec![];
    for config in &configs {
        let stored = root().join(experiments::default_out_dir(config));
        let result = experiments::run(config, &experiments::RunOptions { shortened: true, ..Default::default() })
            .and_then(|o| experiments::check::against_stored(&o, &stored));
        if let Err(e) = result {
            failures.push(format!("{}: {e:#}", config.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn runs_are_deterministic_byte_for_byte() {
    for config in shipped_configs() {
        let a = experiments::run(&config, &experiments::RunOptions { shortened: true, ..Default::default() }).unwrap();
        let b = experiments::run(&config, &experiments::RunOptions { shortened: true, ..Default::default() }).unwrap();
        // Timings are the one thing allowed to change (and are not committed).
        let stable = |o: &experiments::Outcome| -> Vec<(String, Vec<u8>)> {
            o.files.iter().filter(|(n, _)| n != "timing.json").cloned().collect()
        };
        assert!(stable(&a) == stable(&b), "{} differs between two runs", config.display());
    }
}

#[test]
fn every_registered_kind_has_a_shipped_config_with_stored_results() {
    let configs = shipped_configs();
    for k in experiments::kinds::KINDS {
        let line = format!("kind = \"{}\"", k.name());
        let shipped = configs.iter().find(|c| std::fs::read_to_string(c).unwrap().lines().any(|l| l.trim() == line));
        let config = shipped.unwrap_or_else(|| panic!("no config under configs/ has {line}"));
        let stored = root().join(experiments::default_out_dir(config));
        assert!(stored.join("metrics.json").exists() || stored.join("graph.json").exists(), "{}", stored.display());
    }
}
