//! Mutated configs through the real binary: every shipped config, with a key dropped or
//! duplicated, a value of another type, an extreme number (0, -1, 1e9, 1e300, NaN, inf), a long
//! string, deep nesting or cut text, run as a subprocess under a time and memory cap. Each must
//! end with exit 0, or exit 2 and one line on stderr: never a panic, an abort, a hang or a second
//! line. Runs are held to `--max-work 1e8` (by default) so that configs which would train for long are refused
//! by the estimate instead (which also tests that estimates bound the work).
//!
//! `CG_FUZZ_CASES` (default 5000), `CG_FUZZ_SEED` (default 0) and `CG_FUZZ_MAX_WORK` (default 1e8)
//! set a longer or another campaign, where more mutated configs run to the end:
//! `CG_FUZZ_CASES=100000 CG_FUZZ_SEED=7 CG_FUZZ_MAX_WORK=1e10 cargo test --release -p experiments --test fuzz`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Every path to a value of a table, as key lists.
fn paths(table: &toml::Table, prefix: &[String], out: &mut Vec<Vec<String>>) {
    for (k, v) in table {
        let mut path = prefix.to_vec();
        path.push(k.clone());
        if let toml::Value::Table(t) = v {
            paths(t, &path, out);
        }
        out.push(path);
    }
}

fn get_mut<'a>(table: &'a mut toml::Table, path: &[String]) -> Option<&'a mut toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut at = table;
    for p in parents {
        at = at.get_mut(p)?.as_table_mut()?;
    }
    at.get_mut(last)
}

/// A value that fits badly where it lands.
fn odd_value(rng: &mut ChaCha8Rng) -> toml::Value {
    use toml::Value::*;
    let numbers = [0.0, -1.0, 1e9, 1e300, -1e300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 1e-300];
    match rng.random_range(0..9) {
        0 => Integer(*[0i64, -1, 1, 2, 1_000_000_000, i64::MAX, i64::MIN].choose(rng).unwrap()),
        1 | 2 => Float(*numbers.choose(rng).unwrap()),
        3 => String("x".repeat(*[0usize, 1, 10_000].choose(rng).unwrap())),
        4 => Boolean(rng.random()),
        5 => Array(vec![]),
        6 => Array((0..rng.random_range(1..5)).map(|_| Float(*numbers.choose(rng).unwrap())).collect()),
        7 => Table(toml::Table::new()),
        _ => String(
            ["sigmoid", "softmax", "adam", "pcd", "bernoulli", "hexagonal", "mexican_hat", "../data/iris.csv"]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
    }
}

/// One mutation of a config's text.
fn mutate(text: &str, rng: &mut ChaCha8Rng) -> String {
    let Ok(mut table) = toml::from_str::<toml::Table>(text) else { return text.to_string() };
    let mut all = vec![];
    paths(&table, &[], &mut all);
    let path = all.choose(rng).cloned().unwrap_or_default();
    match rng.random_range(0..10) {
        // Drop a key.
        0 | 1 => {
            if let Some((last, parents)) = path.split_last() {
                let mut at = &mut table;
                for p in parents {
                    at = at.get_mut(p).and_then(toml::Value::as_table_mut).expect("a path of tables");
                }
                at.remove(last);
            }
        }
        // Another value, or an element of an array replaced.
        2..=5 => {
            if let Some(v) = get_mut(&mut table, &path) {
                match v {
                    toml::Value::Array(a) if !a.is_empty() && rng.random() => {
                        let k = rng.random_range(0..a.len());
                        a[k] = odd_value(rng);
                    }
                    _ => *v = odd_value(rng),
                }
            }
        }
        // A key no kind has.
        6 => {
            table.insert("unexpected_key".into(), odd_value(rng));
        }
        // Text-level: duplicate a line, cut the file, nest deeply, stray characters.
        7 => {
            let lines: Vec<&str> = text.lines().collect();
            let k = rng.random_range(0..lines.len().max(1));
            let mut out: Vec<&str> = lines.clone();
            if let Some(l) = lines.get(k) {
                out.insert(k, l);
            }
            return out.join("\n");
        }
        8 => {
            let cut = rng.random_range(0..text.len().max(1));
            let cut = (0..=cut).rev().find(|&c| text.is_char_boundary(c)).unwrap_or(0);
            return text[..cut].to_string();
        }
        _ => {
            let depth = *[10usize, 1000, 100_000].choose(rng).unwrap();
            return format!("{text}\nnested = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        }
    }
    // Several mutations now and then.
    let out = toml::to_string(&table).unwrap_or_default();
    if rng.random_range(0..4) == 0 {
        mutate(&out, rng)
    } else {
        out
    }
}

/// How a case ended when it broke the rule.
fn verdict(code: Option<i32>, stderr: &str, elapsed: Duration, timed_out: bool) -> Option<String> {
    if timed_out {
        return Some(format!("still running after {elapsed:?}"));
    }
    if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
        return Some(format!("panicked: {stderr}"));
    }
    match code {
        Some(0) => None,
        Some(2) if stderr.lines().count() == 1 && stderr.starts_with("error: ") => None,
        Some(c) => Some(format!("exit {c} with stderr {stderr:?}")),
        None => Some(format!("killed by a signal (abort or crash), stderr {stderr:?}")),
    }
}

/// Each case at most this long (the run is held to a small work budget).
const TIME_CAP: Duration = Duration::from_secs(20);

#[test]
fn mutated_configs_end_cleanly() {
    let cases = env_number("CG_FUZZ_CASES", 5000) as usize;
    let seed = env_number("CG_FUZZ_SEED", 0);
    let mut configs: Vec<(String, String)> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    configs.sort();
    let tmp = tempfile::tempdir().unwrap();
    // Configs name their data as ../data/...: the same layout beside the mutated files.
    std::os::unix::fs::symlink(root().join("data"), tmp.path().join("data")).unwrap();
    let dir = tmp.path().join("configs");
    std::fs::create_dir(&dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_experiments");
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(vec![]);
    let finished = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let (configs, dir, next, failures, finished) = (&configs, &dir, &next, &failures, &finished);
            scope.spawn(move || loop {
                let case = next.fetch_add(1, Ordering::Relaxed);
                if case >= cases {
                    return;
                }
                let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(case as u64));
                let (name, text) = configs.choose(&mut rng).unwrap();
                let mutated = mutate(text, &mut rng);
                let file = dir.join(format!("case{worker}.toml"));
                std::fs::write(&file, &mutated).unwrap();
                let (why, ran) = run_case(bin, &file, &dir.join(format!("out{worker}")));
                finished.fetch_add(usize::from(ran), Ordering::Relaxed);
                if let Some(why) = why {
                    let saved = dir.join(format!("failed-{case}-{name}"));
                    std::fs::write(&saved, &mutated).unwrap();
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("case {case} (from {name}): {why}\n--- config ---\n{mutated}"));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "fuzz: {cases} cases (seed {seed}) in {:.1} s: {} ran to the end, {} failed",
        start.elapsed().as_secs_f64(),
        finished.into_inner(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} of {cases} cases broke the rule; the first:\n{}", failures.len(), failures[0]);
}

/// Runs one config under the caps: `Some(reason)` when it broke the rule, and whether it ran to
/// the end (exit 0).
fn run_case(bin: &str, config: &Path, out: &Path) -> (Option<String>, bool) {
    let started = Instant::now();
    // A 4 GiB address-space cap: an allocation the estimates missed aborts instead of swapping.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304; exec \"$@\"")
        .arg("sh")
        .arg(bin)
        .arg(config)
        .args(["--out", &out.to_string_lossy(), "-q", "--max-memory", "1G", "--max-work"])
        .arg(std::env::var("CG_FUZZ_MAX_WORK").unwrap_or_else(|_| "1e8".into()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_CAP {
            let _ = child.kill();
            timed_out = true;
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (verdict(status.code(), &stderr, started.elapsed(), timed_out), status.code() == Some(0))
}
