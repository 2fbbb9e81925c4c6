//! `experiments sweep`: the grid, jobs equal to single runs byte for byte, failed jobs in the
//! summary, `--resume`, quoting in the generated Slurm scripts, and (where Slurm is installed and
//! running, as `.ci/run` arranges) a real job array whose summary equals the local one.

use std::path::{Path, PathBuf};
use std::process::Command;

use experiments::config::Override;
use experiments::sweep::{self, Axis, Plan};
use experiments::{run_with, RunOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn axes(args: &[&str]) -> Vec<Axis> {
    args.iter().map(|a| Axis::parse(a).unwrap()).collect()
}

#[test]
fn values_ranges_and_the_grid_order() {
    let a = Axis::parse("model.layers=[4,8],[2, 3],'a,b'").unwrap();
    assert_eq!(a.values, ["[4,8]", "[2, 3]", "'a,b'"]);
    assert_eq!(Axis::parse("seed=range(0,5)").unwrap().values, ["0", "1", "2", "3", "4"]);
    assert_eq!(Axis::parse("seed=range(2, 9, 3)").unwrap().values, ["2", "5", "8"]);
    assert_eq!(Axis::parse("x=range(0,0.35,0.1)").unwrap().values, ["0.0", "0.1", "0.2", "0.30000000000000004"]);
    for bad in ["seed", "=1", "x=range(0)", "x=range(0,5,0)", "x=1,,2", "x=range(0,1e9)"] {
        assert!(Axis::parse(bad).is_err(), "{bad}");
    }
    // Leftmost slowest, as Hydra.
    let plan = Plan::new("c.toml".into(), axes(&["a=1,2", "b=x,y,z"])).unwrap();
    let jobs: Vec<String> = plan.jobs.iter().map(|j| j.join(" ")).collect();
    assert_eq!(jobs, ["a=1 b=x", "a=1 b=y", "a=1 b=z", "a=2 b=x", "a=2 b=y", "a=2 b=z"]);
    assert!(Plan::new("c.toml".into(), axes(&["a=range(0,1000)", "b=range(0,1000)"])).is_err());
    // Ranges at the ends of i64 are refused for their size, without overflowing.
    let err = Axis::parse(&format!("seed=range({},{})", i64::MIN, i64::MAX)).unwrap_err();
    assert!(err.to_string().contains("values; a sweep has at most"), "{err}");
    assert_eq!(Axis::parse(&format!("seed=range({},{})", i64::MAX - 2, i64::MAX)).unwrap().values.len(), 2);
}

/// The files of a run a sweep job must reproduce (the sweep's own files and timings aside).
fn kind_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !["timing.json", "status.json", "config.toml", "overrides.txt", ".cg-results.json"].contains(&n.as_ref())
        })
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn jobs_equal_single_runs_and_failures_are_summarized_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let config = root().join("configs/xor.toml");
    // batch_size = 0 is refused by the config: that job fails, the others run.
    let plan =
        Plan::new(config.clone(), axes(&["train.epochs=20", "train.batch_size=4,0", "seed=range(0,2)"])).unwrap();
    let dir = tmp.path().join("xor/multirun");
    sweep::write_plan(&plan, &dir).unwrap();
    let ran = sweep::run_local(&plan, &dir, 2, &sweep::pending(&plan, &dir, false).unwrap(), &|_, _| {}).unwrap();
    assert_eq!((ran.ok, ran.failed, ran.skipped), (2, 2, 0));
    for (n, job) in plan.jobs.iter().enumerate().filter(|(_, j)| j.contains(&"train.batch_size=4".to_string())) {
        let overrides: Vec<Override> = job.iter().map(|o| Override::parse(o).unwrap()).collect();
        let single = run_with(&config, &overrides, &RunOptions::default()).unwrap();
        let one = tmp.path().join(format!("single{n}"));
        experiments::write(&single, &one).unwrap();
        assert_eq!(kind_files(&dir.join(n.to_string())), kind_files(&one), "job {n}");
        assert_eq!(
            std::fs::read_to_string(dir.join(n.to_string()).join("overrides.txt")).unwrap(),
            job.join(" ") + "\n"
        );
    }
    let summary = sweep::summarize(&dir).unwrap();
    assert_eq!((summary.ok, summary.failed, summary.missing), (2, 2, 0));
    let csv = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // Metrics equal in every job (epochs here) are in constants.csv instead.
    assert!(lines[0].starts_with("job,train.epochs,train.batch_size,seed,final_loss,"), "{}", lines[0]);
    assert!(lines[0].ends_with(",status,seconds,error"));
    assert_eq!(lines.len(), 5);
    assert!(
        lines[3].starts_with("2,20,0,0,") && lines[3].contains(",failed,") && lines[3].contains("batch_size"),
        "{}",
        lines[3]
    );
    assert!(dir.join("curves.png").exists() && dir.join("summary.svg").exists());
    // --resume runs the failed jobs again and skips the finished ones.
    let again = sweep::run_local(&plan, &dir, 1, &sweep::pending(&plan, &dir, true).unwrap(), &|_, _| {}).unwrap();
    assert_eq!((again.ok, again.failed, again.skipped), (0, 2, 2));
}

#[test]
fn the_command_exits_2_when_a_job_fails_and_summarize_gathers_again() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_experiments");
    let config = root().join("configs/xor.toml");
    let out = tmp.path().join("s");
    let run = |extra: &[&str]| {
        let mut args = vec!["sweep", config.to_str().unwrap(), "train.epochs=5", "--out", out.to_str().unwrap(), "-q"];
        args.extend(extra);
        Command::new(bin).args(&args).output().unwrap()
    };
    let o = run(&["seed=0,1", "--jobs", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["train.batch_size=4,0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("job 1 failed"));
    // A key no kind knows stops the sweep before any job runs.
    let o = run(&["train.epoch=3"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.starts_with("error: sweep ") && err.contains("epoch") && err.lines().count() == 1, "{err}");
    let multirun = out.join("xor/multirun");
    let o = Command::new(bin).args(["summarize", multirun.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "the last sweep's job 1 failed");
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 jobs: 1 ok, 1 failed"));
}

/// Values that would run as shell commands if a script did not quote them.
const NASTY: [&str; 5] = ["a b", "it's \"q\"", "x; touch pwned", "$(touch pwned)", "two\nlines"];

#[test]
fn generated_scripts_pass_every_value_literally() {
    let tmp = tempfile::tempdir().unwrap();
    // A stand-in for the binary that records its arguments, NUL-separated.
    let recorder = tmp.path().join("record.sh");
    std::fs::write(&recorder, "#!/bin/sh\nprintf '%s\\0' \"$@\" > \"$RECORD\"\n").unwrap();
    Command::new("chmod").arg("+x").arg(&recorder).status().unwrap();
    let mut args = vec!["configs/x.toml".to_string()];
    args.extend(NASTY.iter().map(|v| format!("data.target={v}")));
    let plan = Plan::new("x.toml".into(), axes(&["seed=0,1"])).unwrap();
    let scripts = sweep::slurm_scripts(&plan, &tmp.path().join("m u l"), &recorder, tmp.path(), &args);
    let script = tmp.path().join("submit.sh");
    std::fs::write(&script, &scripts.array).unwrap();
    let record = tmp.path().join("args");
    let status = Command::new("bash")
        .arg(&script)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("RECORD", &record)
        .current_dir(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    let got = std::fs::read(&record).unwrap();
    let got: Vec<String> =
        got.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8(s.to_vec()).unwrap()).collect();
    let mut expected = vec!["sweep".to_string()];
    expected.extend(args);
    expected.extend(["--job".to_string(), "1".to_string()]);
    assert_eq!(got, expected);
    assert!(!tmp.path().join("pwned").exists());
    assert!(scripts.array.contains("#SBATCH --array=0-1"));
    assert!(scripts.summarize.contains("summarize"));
    for v in NASTY {
        let o = Command::new("sh").arg("-c").arg(format!("printf %s {}", sweep::shell_quote(v))).output().unwrap();
        assert_eq!(String::from_utf8(o.stdout).unwrap(), v);
    }
}

/// Whether a Slurm controller answers here.
fn slurm_running() -> bool {
    Command::new("sinfo").arg("-h").output().is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

#[test]
fn a_slurm_job_array_gives_the_local_summary() {
    if !slurm_running() {
        eprintln!(
            "SKIPPED a_slurm_job_array_gives_the_local_summary: no Slurm cluster answers (`scripts/slurm_local.sh start` runs one; .ci/run does)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_experiments");
    let config = root().join("configs/xor.toml");
    let sweep_args = ["train.epochs=10", "seed=range(0,4)"];
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec!["sweep", config.to_str().unwrap()];
        args.extend(sweep_args);
        args.extend(["--out", out.to_str().unwrap(), "-q"]);
        args.extend(extra);
        let o = Command::new(bin).args(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let (local, cluster) = (tmp.path().join("local"), tmp.path().join("cluster"));
    run(&local, &["--jobs", "2"]);
    let said = run(&cluster, &["--slurm", "--slurm-args", "--time=00:05:00"]);
    assert!(said.contains("submitted 4 jobs as Slurm array"), "{said}");
    let summary = cluster.join("xor/multirun/summary.csv");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(900);
    while !summary.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the Slurm jobs did not finish in 900 s (a safety net: they take seconds)"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    // summarize.sh writes summary.csv by a rename: once it exists it is whole.
    let without_seconds = |path: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap();
        let header: Vec<String> = text.lines().next().unwrap().split(',').map(str::to_string).collect();
        let s = header.iter().position(|c| c == "seconds").unwrap();
        text.lines()
            .map(|l| l.split(',').enumerate().filter(|(k, _)| *k != s).map(|(_, f)| f).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(without_seconds(&summary), without_seconds(&local.join("xor/multirun/summary.csv")));
    for n in 0..4 {
        assert_eq!(
            kind_files(&cluster.join(format!("xor/multirun/{n}"))),
            kind_files(&local.join(format!("xor/multirun/{n}"))),
            "job {n}"
        );
    }
}

#[test]
fn shipped_sweeps_load_and_their_stored_plans_are_theirs() {
    let dir = root().join("configs/sweeps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let (plan, out) = sweep::plan(&file, &[], None).unwrap();
        let first: Vec<Override> = plan.jobs[0].iter().map(|o| Override::parse(o).unwrap()).collect();
        experiments::config::load_with(&plan.config, &first).unwrap();
        let stored = sweep::read_plan(&out).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(stored.jobs, plan.jobs, "{}: rerun the sweep", file.display());
        let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
        assert_eq!(csv.lines().count(), plan.jobs.len() + 1);
        assert!(csv.lines().skip(1).all(|l| l.contains(",ok,")), "{}: every shipped job finished", file.display());
    }
}

#[test]
fn arguments_that_cannot_run_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_experiments");
    let config = root().join("configs/xor.toml");
    let out = tmp.path().join("s");
    let run = |extra: &[&str], task: Option<&str>| {
        let mut args = vec!["sweep", config.to_str().unwrap(), "seed=0,1", "--out", out.to_str().unwrap(), "-q"];
        args.extend(extra);
        let mut c = Command::new(bin);
        c.args(&args);
        if let Some(t) = task {
            c.env("SLURM_ARRAY_TASK_ID", t);
        }
        c.output().unwrap()
    };
    for (extra, task, says) in [
        (&["--job", "99"][..], None, "job 99: the sweep has jobs 0 to 1"),
        (&[][..], Some("x"), "SLURM_ARRAY_TASK_ID = x is not a job number"),
        (&[][..], Some("7"), "job 7: the sweep has jobs 0 to 1"),
        (&["--dry-run"][..], None, "--dry-run writes the Slurm scripts without submitting them: it needs --slurm"),
    ] {
        let o = run(extra, task);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(says) && err.lines().count() == 1, "{extra:?}: {err}");
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
    }
}

#[test]
fn settings_csv_aggregates_each_setting_over_its_seeds_as_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_experiments");
    let config = root().join("configs/xor.toml");
    let out = tmp.path().join("s");
    let args = ["sweep", config.to_str().unwrap(), "train.epochs=20,60", "seed=0,1,2", "--out", out.to_str().unwrap()];
    let o = Command::new(bin).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let multirun = out.join("xor/multirun");
    let read = |name: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(multirun.join(name)).unwrap();
        text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
    };
    let (summary, settings, constants) = (read("summary.csv"), read("settings.csv"), read("constants.csv"));
    // Constant metrics (xor's 4 samples) are listed once, not in every row.
    assert!(constants.iter().any(|r| r[0] == "samples.train" && r[1] == "4"), "{constants:?}");
    assert!(!summary[0].contains(&"samples.train".to_string()));
    // By hand from summary.csv: per epochs setting, each metric's mean, sd (n - 1), min, max.
    let col = |name: &str| summary[0].iter().position(|c| c == name).unwrap();
    let epochs = col("train.epochs");
    let by_hand = |metric: &str, setting: &str| -> Vec<f64> {
        summary[1..].iter().filter(|r| r[epochs] == setting).map(|r| r[col(metric)].parse().unwrap()).collect()
    };
    let at =
        |row: &[String], name: &str| row[settings[0].iter().position(|c| c == name).unwrap()].parse::<f64>().unwrap();
    for (row, setting) in settings[1..].iter().zip(["20", "60"]) {
        assert_eq!(row[0], setting);
        assert_eq!(at(row, "jobs"), 3.0);
        let v = by_hand("final_loss", setting);
        let mean = v.iter().sum::<f64>() / 3.0;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((at(row, "final_loss.mean") - mean).abs() <= 1e-15 * mean.abs());
        assert!((at(row, "final_loss.sd") - sd).abs() <= 1e-12 * sd.abs());
        assert_eq!(at(row, "final_loss.min"), v.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(at(row, "final_loss.max"), v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    // The best setting for the default metric (an accuracy: larger is better; a loss: smaller).
    let metric = settings[0].last().unwrap().strip_prefix("best_").unwrap().to_string();
    let larger = metric.contains("accuracy");
    let means: Vec<f64> = ["20", "60"].iter().map(|s| by_hand(&metric, s).iter().sum::<f64>() / 3.0).collect();
    let first_best = if larger { means[0] >= means[1] } else { means[0] <= means[1] };
    let marked: Vec<bool> = settings[1..].iter().map(|r| r.last().unwrap() == "*").collect();
    assert_eq!(marked, [first_best, !first_best]);
    let direction = if larger { "larger" } else { "smaller" };
    assert!(stdout.contains(&format!("{metric} by setting ({direction} is better")), "{stdout}");
    // summarize prints the same table, by another metric when asked, and refuses an unknown one.
    let o =
        Command::new(bin).args(["summarize", multirun.to_str().unwrap(), "--metric", "final_loss"]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success() && text.starts_with("final_loss by setting (smaller"), "{text}");
    let o = Command::new(bin).args(["summarize", multirun.to_str().unwrap(), "--metric", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("--metric nope: not a metric that varies") && err.lines().count() == 1, "{err}");
}
