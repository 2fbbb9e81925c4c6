//! Mutated configs through the real binary: every shipped config, with a key dropped or
//! duplicated, a value of another type, an extreme number (0, -1, 1e9, 1e300, NaN, inf), a long
//! string, deep nesting or cut text, run as a subprocess under a CPU-time and memory cap (the
//! wall clock only as a generous safety net, so a busy machine cannot fail it). Each must
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
        None => Some(format!("killed by a signal (abort, crash, or CPU cap: the estimate let through more work than --max-work), stderr {stderr:?}")),
    }
}

/// The cap that counts: CPU seconds per case (`ulimit -t`), which a busy machine does not
/// stretch as it stretches wall-clock time. Under `--max-work 1e8` (a millisecond at
/// 100 GFLOP/s) a case that needs this much CPU ran far more than its estimate said.
const CPU_CAP_SECONDS: u32 = 20;

/// Wall-clock time only as a safety net against a hang that burns no CPU.
const TIME_CAP: Duration = Duration::from_secs(600);

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
    let max_work = std::env::var("CG_FUZZ_MAX_WORK").unwrap_or_else(|_| "1e8".into());
    let args: Vec<String> = vec![
        config.to_string_lossy().into_owned(),
        "--out".into(),
        out.to_string_lossy().into_owned(),
        "-q".into(),
        "--max-memory".into(),
        "1G".into(),
        "--max-work".into(),
        max_work,
    ];
    run_args(bin, &args, None)
}

/// Runs the binary with `args` (in `cwd`) under the caps.
fn run_args(bin: &str, args: &[String], cwd: Option<&Path>) -> (Option<String>, bool) {
    let started = Instant::now();
    // A 4 GiB address-space cap: an allocation the estimates missed aborts instead of swapping.
    let mut command = Command::new("sh");
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = command
        .arg("-c")
        .arg(format!("ulimit -v 4194304; ulimit -t {CPU_CAP_SECONDS}; exec \"$@\""))
        .arg("sh")
        .arg(bin)
        .args(args)
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

/// A text mutation at the byte level: a span deleted, a line repeated, a number replaced by an
/// odd one, a stray character, a cut.
fn mutate_text(text: &str, rng: &mut ChaCha8Rng) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    let at = rng.random_range(0..chars.len());
    let odd = ["0", "-1", "1e308", "99999999999999999999", "NaN", "inf", "1e-320", "18446744073709551616", "1.5", ""];
    match rng.random_range(0..6) {
        0 => {
            let end = (at + rng.random_range(1..40)).min(chars.len());
            chars[..at].iter().chain(&chars[end..]).collect()
        }
        1 => {
            let lines: Vec<&str> = text.lines().collect();
            let k = rng.random_range(0..lines.len().max(1));
            let mut out: Vec<&str> = lines.clone();
            if let Some(line) = lines.get(k) {
                for _ in 0..rng.random_range(1..4) {
                    out.insert(k, line);
                }
            }
            out.join("\n")
        }
        2 => {
            // The number that covers `at`, if any, replaced.
            let is_num = |c: char| c.is_ascii_digit() || c == '.' || c == 'e' || c == '-';
            let (mut a, mut b) = (at, at);
            while a > 0 && is_num(chars[a - 1]) {
                a -= 1;
            }
            while b < chars.len() && is_num(chars[b]) {
                b += 1;
            }
            let with: String = odd.choose(rng).unwrap().to_string();
            chars[..a].iter().collect::<String>() + &with + &chars[b..].iter().collect::<String>()
        }
        3 => {
            let stray = ["{", "}", "(", ")", ";", ",", "\"", "\r\n", "\0", "é", "|", "=", "\n\n"];
            chars[..at].iter().collect::<String>()
                + stray.choose(rng).unwrap()
                + &chars[at..].iter().collect::<String>()
        }
        4 => chars[..at].iter().collect(),
        _ => text.replace('\n', "\r\n"),
    }
}

/// The other doors a user's files and words come in by: BIF and UAI files, CSV rows for
/// `predict`, checkpoint files for `--resume`, sweep grids and overrides, each mutated and run
/// through the binary under the same caps and rule (exit 0, or exit 2 with one line; never a
/// panic, abort, hang or a second line). `CG_FUZZ_SURFACE_CASES` per surface (default 150).
#[test]
fn mutated_files_grids_and_overrides_end_cleanly() {
    let cases = env_number("CG_FUZZ_SURFACE_CASES", 150) as usize;
    let seed = env_number("CG_FUZZ_SEED", 0);
    let bin = env!("CARGO_BIN_EXE_experiments");
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::os::unix::fs::symlink(root().join("data"), t.join("data")).unwrap();
    let s = |x: &str| x.to_string();
    // A saved model to predict with, and a stopped run to resume.
    let iris = root().join("configs/softmax_iris.toml");
    let xor = root().join("configs/xor.toml");
    for (config, extra) in [
        (&iris, vec!["train.epochs=3", "train.check_epochs=1", "--out", "model"]),
        (&xor, vec!["--stop-after", "3", "--out", "stopped"]),
    ] {
        let mut args = vec![config.to_string_lossy().into_owned(), s("-q")];
        args.extend(extra.iter().map(|a| a.to_string()));
        assert_eq!(run_args(bin, &args, Some(t)), (None, true));
    }
    let bif = std::fs::read_to_string(root().join("results/asia/network.bif")).unwrap();
    let uai = std::fs::read_to_string(root().join("results/misconception/network.uai")).unwrap();
    let rows = std::fs::read_to_string(root().join("data/iris.csv")).unwrap();
    let state = std::fs::read_to_string(t.join("stopped/state.json")).unwrap();
    let failures = Mutex::new(vec![]);
    let next = AtomicUsize::new(0);
    let surfaces = 5;
    std::thread::scope(|scope| {
        for worker in 0..2 {
            let (failures, next, bif, uai, rows, state, xor) = (&failures, &next, &bif, &uai, &rows, &state, &xor);
            scope.spawn(move || loop {
                let case = next.fetch_add(1, Ordering::Relaxed);
                if case >= cases * surfaces {
                    return;
                }
                let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(7_000_003).wrapping_add(case as u64));
                let w = t.join(format!("w{worker}"));
                let _ = std::fs::remove_dir_all(&w);
                std::fs::create_dir(&w).unwrap();
                let out = w.join("out").to_string_lossy().into_owned();
                let (what, args): (String, Vec<String>) = match case % surfaces {
                    0 => {
                        let text = mutate_text(bif, &mut rng);
                        std::fs::write(w.join("net.bif"), &text).unwrap();
                        let config = "kind = \"bayes_net\"\n[network]\nbif = \"net.bif\"\n[[queries]]\ntarget = \"lung\"\nevidence = { smoke = \"yes\" }\n[sampler]\nsamples = 100\n";
                        std::fs::write(w.join("c.toml"), config).unwrap();
                        (format!("BIF:\n{text}"), vec![w.join("c.toml").to_string_lossy().into_owned(), s("--out"), out, s("-q"), s("--max-work"), s("1e8")])
                    }
                    1 => {
                        let text = mutate_text(uai, &mut rng);
                        std::fs::write(w.join("net.uai"), &text).unwrap();
                        let config = "kind = \"markov_net\"\n[network]\nuai = \"net.uai\"\n[[queries]]\ntarget = \"x1\"\n[sampler]\nsamples = 100\n";
                        std::fs::write(w.join("c.toml"), config).unwrap();
                        (format!("UAI:\n{text}"), vec![w.join("c.toml").to_string_lossy().into_owned(), s("--out"), out, s("-q"), s("--max-work"), s("1e8")])
                    }
                    2 => {
                        let text = mutate_text(rows, &mut rng);
                        std::fs::write(w.join("rows.csv"), &text).unwrap();
                        let model = t.join("model").to_string_lossy().into_owned();
                        let csv = w.join("rows.csv").to_string_lossy().into_owned();
                        (format!("predict rows:\n{text}"), vec![s("predict"), model, s("--data"), csv, s("--out"), w.join("p.csv").to_string_lossy().into_owned()])
                    }
                    3 => {
                        let text = mutate_text(state, &mut rng);
                        let dir = w.join("stopped");
                        std::fs::create_dir(&dir).unwrap();
                        for f in std::fs::read_dir(t.join("stopped")).unwrap() {
                            let f = f.unwrap();
                            std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
                        }
                        std::fs::write(dir.join("state.json"), &text).unwrap();
                        (format!("state.json:\n{text}"), vec![xor.to_string_lossy().into_owned(), s("-q"), s("--resume"), dir.to_string_lossy().into_owned(), s("--max-work"), s("1e8")])
                    }
                    _ => {
                        // A sweep grid and overrides: odd keys, values and ranges.
                        let keys = ["seed", "train.epochs", "optimizer.learning_rate", "train.batch_size", "model.layers", "x", "train..epochs", ""];
                        let values = ["0,1", "range(0,3)", "range(-9223372036854775808,9223372036854775807)", "range(0,1,0)", "1e300", "[2,0,1]", "\"a b\"", "NaN", "range(0.1,0.3,0.1)", ",", "[", "{}"];
                        let arg = format!("{}={}", keys.choose(&mut rng).unwrap(), values.choose(&mut rng).unwrap());
                        let over = format!("{}={}", keys.choose(&mut rng).unwrap(), values.choose(&mut rng).unwrap());
                        let args = if rng.random() {
                            vec![s("sweep"), xor.to_string_lossy().into_owned(), arg.clone(), s("train.epochs=2"), s("--out"), out, s("-q")]
                        } else {
                            vec![xor.to_string_lossy().into_owned(), arg.clone(), over.clone(), s("--out"), out, s("-q"), s("--max-work"), s("1e8")]
                        };
                        (format!("arguments: {args:?}"), args)
                    }
                };
                if let (Some(why), _) = run_args(bin, &args, Some(&w)) {
                    failures.lock().unwrap().push(format!("case {case}: {why}\n--- {what}"));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let firsts: Vec<String> = failures.iter().map(|f| f.lines().take(3).collect::<Vec<_>>().join(" | ")).collect();
    assert!(
        failures.is_empty(),
        "{} cases broke the rule:\n{}\nthe first whole:\n{}",
        failures.len(),
        firsts.join("\n"),
        failures[0]
    );
}
