//! The command line: `experiments CONFIG... [--out DIR] [--check] [--stop-after N] [--resume
//! DIR]` runs config files and writes their results; `experiments kinds` lists the kinds a config
//! can name; `experiments predict RESULT_DIR --data FILE.csv` applies a saved model to new rows;
//! `sweep`, `summarize`, `report`, `explain` and `schema` as `--help` says. [`main_with`] is all
//! of it, with kinds of another crate added, for that crate's own binary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Override;
use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Prints `error: ` and the message as one line: control characters (a line break inside a
/// quoted CSV cell, in a path, in a TOML string) shown escaped, and the middle of a very long
/// message cut, so every error is one line whatever the input held.
macro_rules! fail {
    ($($arg:tt)*) => {
        eprintln!("error: {}", one_line(&format!($($arg)*)))
    };
}

/// `text` on one line of at most [`LONGEST`] characters.
fn one_line(text: &str) -> String {
    let escaped: String = text
        .trim_end()
        .chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] })
        .collect();
    let chars: Vec<char> = escaped.chars().collect();
    if chars.len() <= LONGEST {
        return escaped;
    }
    let half = LONGEST / 2;
    format!(
        "{} [... {} characters ...] {}",
        chars[..half].iter().collect::<String>(),
        chars.len() - 2 * half,
        chars[chars.len() - half..].iter().collect::<String>()
    )
}

/// The longest error line printed.
const LONGEST: usize = 600;

/// Run computational-graph experiments from config files.
#[derive(Parser)]
#[command(version, about, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Config files (TOML), then any `key.path=value` overrides applied to each (for one run:
    /// `optimizer.learning_rate=0.05 seed=3 train.epochs=10`).
    #[arg(required = true, value_name = "CONFIGS|OVERRIDES")]
    configs: Vec<PathBuf>,
    /// Results folder (default results/<config stem>; with several configs, DIR/<config stem>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Rerun and compare with the stored results instead of writing; exit 1 on any drift. Configs
    /// with `check_epochs` run that many epochs and compare the start of every curve.
    #[arg(long)]
    check: bool,
    /// Train for N epochs (or updates) of the config's schedule, then stop and save the state
    /// (`state.json`, `state.safetensors`) beside the results; needs --out, so stored results
    /// stay whole.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    stop_after: Option<u64>,
    /// Continue the run stopped in DIR (with the same config and overrides) to its end; writes to
    /// DIR unless --out says otherwise.
    #[arg(long, value_name = "DIR")]
    resume: Option<PathBuf>,
    /// Write the run's state into its results folder every N epochs (or updates), and keep the
    /// final state: a killed run loses at most N, and a finished one can be continued with a
    /// larger budget (`--resume DIR train.epochs=200`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    checkpoint_every: Option<u64>,
    /// Refuse a run whose estimated memory is above SIZE (bytes, or with K, M, G, T: 512M, 8G);
    /// default: the memory available now.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<f64>,
    /// Refuse a run estimated at more than N arithmetic operations (default 1e15, about three
    /// hours at 100 GFLOP/s).
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    max_work: Option<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// `512M`, `8G`, `1.5T` or a number of bytes.
fn parse_size(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let scale = match unit {
        'B' => 1.0,
        'K' => 1024.0,
        'M' => 1024f64.powi(2),
        'G' => 1024f64.powi(3),
        'T' => 1024f64.powi(4),
        _ => return Err(format!("`{text}`: a size is bytes or a number with K, M, G or T")),
    };
    parse_positive(number)
        .map(|n| n * scale)
        .map_err(|_| format!("`{text}`: a size is bytes or a number with K, M, G or T"))
}

/// A finite positive number (`1e12`).
fn parse_positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

#[derive(Subcommand)]
enum Command {
    /// List every kind a config can name, with a one-line summary.
    Kinds,
    /// Every field a config of KIND takes: type, default (or required) and meaning, tables as
    /// headers. Generated from the types that read the config.
    Explain {
        /// A kind (`experiments kinds` lists them).
        kind: String,
    },
    /// The JSON Schema of configs of KIND, for editors that check TOML against one (a
    /// `#:schema` line at the top of the config points to it; schemas/ has them all).
    Schema {
        /// A kind (`experiments kinds` lists them).
        kind: String,
    },
    /// Apply the model a run saved (RESULT_DIR/model.safetensors) to the rows of a CSV file:
    /// columns are matched by name and transformed as the training data were. Writes CSV with a
    /// header to standard output or --out.
    Predict {
        /// A results folder with model.safetensors (mlp, model, som, rbm).
        result_dir: PathBuf,
        /// CSV file with a header naming the training features (other columns are ignored).
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run a config over a grid of overrides (`key=v1,v2`, `key=range(a,b[,step])`), leftmost
    /// key slowest, into DIR/<stem>/multirun/<n>/, then summarize it. TARGET is a config, or a
    /// sweep file (a `[sweep]` table with `config`, `overrides` and optionally `out`).
    Sweep(SweepArgs),
    /// Write RESULTS_DIR/index.html (default results/): every experiment with its kind, config,
    /// key metrics and pictures, and every sweep's summary, in one static page.
    Report {
        /// A folder of result folders.
        dir: Option<PathBuf>,
    },
    /// Rebuild summary.csv and the sweep's plots from the job folders of DIR/<stem>/multirun.
    Summarize {
        /// A sweep's multirun folder.
        dir: PathBuf,
    },
}

#[derive(clap::Args)]
struct SweepArgs {
    /// A config or a sweep file.
    target: PathBuf,
    /// Sweep arguments: `key=v1,v2,...` or `key=range(a,b[,step])`; a single value fixes a key.
    #[arg(value_name = "KEY=VALUES")]
    args: Vec<String>,
    /// Folder of sweeps (default: the sweep file's `out`, else `sweeps`); jobs go to
    /// DIR/<stem>/multirun/<n>/.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Jobs at once on this machine; each gets cores / N threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    jobs: u64,
    /// Skip jobs that finished before (their status.json says exit code 0).
    #[arg(long)]
    resume: bool,
    /// Run job N only (0-based); without it, SLURM_ARRAY_TASK_ID when set.
    #[arg(long, value_name = "N")]
    job: Option<usize>,
    /// Write multirun/submit.sh (a Slurm job array) and multirun/summarize.sh (after it), and
    /// submit both with sbatch.
    #[arg(long)]
    slurm: bool,
    /// Extra sbatch options for both scripts, as one string ("--time=00:10:00 --partition=x").
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    slurm_args: Option<String>,
    /// With --slurm: write the scripts, submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// `experiments sweep`: exit 0 when every job finished, 2 when any failed or the sweep could not
/// start.
fn sweep(a: &SweepArgs) -> ExitCode {
    match sweep_inner(a) {
        Ok(code) => code,
        Err(e) => {
            fail!("sweep {}: {e:#}", a.target.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn sweep_inner(a: &SweepArgs) -> Result<ExitCode> {
    use crate::sweep;
    let (plan, root) = sweep::plan(&a.target, &a.args, a.out.as_deref())?;
    // The first job's config is loaded now: a key the kind does not know stops the sweep before
    // anything runs (other values that do not fit fail their own jobs).
    let first: Vec<Override> = plan.jobs[0].iter().map(|o| Override::parse(o)).collect::<Result<_>>()?;
    crate::config::load_with(&plan.config, &first)?;
    if a.dry_run && !a.slurm {
        anyhow::bail!("--dry-run writes the Slurm scripts without submitting them: it needs --slurm");
    }
    let task = a.job.map(Ok).or_else(|| {
        (!a.slurm)
            .then(|| std::env::var("SLURM_ARRAY_TASK_ID").ok())
            .flatten()
            .map(|v| v.parse::<usize>().map_err(|_| anyhow::anyhow!("SLURM_ARRAY_TASK_ID = {v} is not a job number")))
    });
    let task = task.transpose()?;
    if let Some(n) = task.filter(|&n| n >= plan.jobs.len()) {
        anyhow::bail!("job {n}: the sweep has jobs 0 to {}", plan.jobs.len() - 1);
    }
    // Nothing is written before the folder is known to be new, empty or a sweep's, and locked.
    sweep::check_root(&root)?;
    let _lock = sweep::lock(&root, task.is_none() && !a.slurm)?;
    // Before the plan is written: once multirun.json exists, Ctrl-C is handled.
    catch_interrupts();
    // A job that finished with another config is refused before the plan is rewritten.
    let pending = match task {
        Some(n) if a.resume => sweep::finished(&plan, &root, n).map(|_| None)?,
        Some(_) => None,
        None => Some(sweep::pending(&plan, &root, a.resume)?),
    };
    sweep::write_plan(&plan, &root)?;
    if let Some(n) = task {
        let status = sweep::run_job(&plan, &root, n, a.resume)?;
        if let Some(e) = &status.error {
            fail!("job {n}: {e}");
        } else if !a.quiet {
            println!("job {n} -> {}", root.join(n.to_string()).display());
        }
        return Ok(ExitCode::from(u8::try_from(status.exit_code).unwrap_or(BAD_INPUT)));
    }
    if a.slurm {
        let exe = std::env::current_exe()?;
        let cwd = std::env::current_dir()?;
        let out = root.parent().and_then(|p| p.parent()).unwrap_or(std::path::Path::new("."));
        let mut args = vec![a.target.to_string_lossy().into_owned()];
        args.extend(a.args.iter().cloned());
        args.extend(["--out".to_string(), out.to_string_lossy().into_owned(), "--quiet".to_string()]);
        let scripts = sweep::slurm_scripts(&plan, &root, &exe, &cwd, &args);
        for (name, text) in [("submit.sh", &scripts.array), ("summarize.sh", &scripts.summarize)] {
            let path = root.join(name);
            crate::write_file(&path, text.as_bytes())?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        let slurm_args: Vec<String> =
            a.slurm_args.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect();
        if a.dry_run {
            println!(
                "{} jobs: wrote {} and {}",
                plan.jobs.len(),
                root.join("submit.sh").display(),
                root.join("summarize.sh").display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let (array, summary) = sweep::submit(&root, &slurm_args)?;
        println!(
            "submitted {} jobs as Slurm array {array}; summary job {summary} runs after it -> {}",
            plan.jobs.len(),
            root.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let total = plan.jobs.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let quiet = a.quiet;
    let report = |n: usize, s: &sweep::Status| {
        let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let what = plan.jobs[n].join(" ");
        match &s.error {
            Some(e) => eprintln!("[{k}/{total}] job {n} failed ({what}): {e}"),
            None if !quiet => println!("[{k}/{total}] job {n} ok ({what}, {})", crate::duration(s.seconds)),
            None => {}
        }
    };
    let jobs = usize::try_from(a.jobs).unwrap_or(usize::MAX);
    let pending = pending.expect("internal: decided for a sweep without --job");
    let ran = sweep::run_local(&plan, &root, jobs, &pending, &report)?;
    let summary = sweep::summarize(&root)?;
    if !quiet {
        println!(
            "{} jobs: {} ok, {} failed, {} skipped (finished before)\n  -> {} ({})",
            total,
            ran.ok,
            ran.failed,
            ran.skipped,
            root.display(),
            summary.files.join(", ")
        );
    }
    if cg_core::interrupt::requested() {
        eprintln!("interrupted: the jobs that ran kept what they did; `experiments sweep` with the same arguments and --resume continues");
        return Ok(ExitCode::from(INTERRUPTED));
    }
    Ok(if summary.failed + summary.missing > 0 { ExitCode::from(BAD_INPUT) } else { ExitCode::SUCCESS })
}

/// `experiments summarize DIR`.
fn summarize(dir: &std::path::Path) -> ExitCode {
    let summary = crate::sweep::read_plan(dir)
        .and_then(|_| crate::sweep::lock(dir, false))
        .and_then(|_lock| crate::sweep::summarize(dir));
    match summary {
        Ok(s) => {
            println!(
                "{} jobs: {} ok, {} failed, {} missing -> {} ({})",
                s.jobs,
                s.ok,
                s.failed,
                s.missing,
                dir.display(),
                s.files.join(", ")
            );
            if s.failed + s.missing > 0 {
                ExitCode::from(BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            fail!("summarize {}: {e:#}", dir.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// `experiments predict`: exit 0, or 2 with one line naming what is wrong.
fn predict(dir: &std::path::Path, data: &std::path::Path, out: Option<&std::path::Path>) -> ExitCode {
    let checked = out.map_or(Ok(false), crate::output::check_file);
    let written = checked.and_then(|_| crate::predict::predict(dir, data)).and_then(|p| {
        let csv = p.csv();
        match out {
            Some(file) => crate::output::replace_file(
                file,
                csv.as_bytes(),
                |old| old.starts_with(p.header().as_bytes()),
                "predict replaces only a predictions file of the same model; give a new file's name",
            ),
            None => {
                use std::io::Write;
                match std::io::stdout().lock().write_all(csv.as_bytes()) {
                    // A reader that stopped early (`| head`) is not an error.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                    other => other.map_err(anyhow::Error::from),
                }
            }
        }
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            fail!("predict {}: {e:#}", dir.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// The kinds with their summaries, one per line.
fn kinds_table() -> String {
    let all = crate::kinds::all();
    let width = all.iter().map(|k| k.name().len()).max().unwrap_or(0);
    all.iter().map(|k| format!("  {:width$}  {}\n", k.name(), k.summary())).collect()
}

/// Exit code for bad input (config errors, numeric failures): 2. Drift found by --check: 1.
const BAD_INPUT: u8 = 2;
const DRIFT: u8 = 1;
/// Exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

/// Ctrl-C and SIGTERM: the first asks the run to stop after the step in progress and keep what
/// it did (results so far and a checkpoint, for resumable kinds); a second ends the process at
/// once, leaving the results folder as it was.
fn catch_interrupts() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
        std::thread::spawn(move || {
            for _ in signals.forever() {
                if cg_core::interrupt::requested() {
                    eprintln!("\nstopped at once; the results folder is as it was");
                    std::process::exit(i32::from(INTERRUPTED));
                }
                cg_core::interrupt::request();
                eprintln!("\nstopping after this step and keeping what the run did (again to stop at once)");
            }
        });
    }
}

/// The whole command line with `extra` kinds beside the built-in ones: a crate that defines
/// its own kinds (a [`crate::kinds::KindConfig`] in a [`crate::kinds::Entry`]) has a binary
/// whose `main` is `experiments::main_with(&[&MY_KIND])`, and its kinds run, sweep, explain,
/// check and report as the built-in ones do. The exit code: 0 done, 1 drift under `--check`,
/// 2 bad input or a failed run, 130 interrupted.
#[must_use]
pub fn main_with(extra: &[&'static dyn crate::kinds::Kind]) -> ExitCode {
    if let Err(e) = crate::kinds::register(extra) {
        fail!("{e:#}");
        return ExitCode::from(BAD_INPUT);
    }
    let help = format!(
        "Kinds (`kind = \"...\"` in a config; `experiments explain KIND` lists its fields):\n{}",
        kinds_table()
    );
    let cli = match Cli::command().after_help(help).try_get_matches() {
        Ok(matches) => Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()),
        Err(e) => e.exit(),
    };
    match &cli.command {
        Some(Command::Kinds) => {
            print!("{}", kinds_table());
            return ExitCode::SUCCESS;
        }
        Some(Command::Explain { kind }) | Some(Command::Schema { kind }) => {
            let Some(k) = crate::kinds::find(kind) else {
                fail!("unknown kind `{kind}`; known kinds: {}", crate::kinds::names());
                return ExitCode::from(BAD_INPUT);
            };
            match &cli.command {
                Some(Command::Explain { .. }) => print!("{}", crate::schema::explain(k)),
                _ => println!("{}", serde_json::to_string_pretty(&k.schema()).expect("internal: a JSON value")),
            }
            return ExitCode::SUCCESS;
        }
        Some(Command::Predict { result_dir, data, out }) => return predict(result_dir, data, out.as_deref()),
        Some(Command::Sweep(args)) => return sweep(args),
        Some(Command::Summarize { dir }) => return summarize(dir),
        Some(Command::Report { dir }) => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from("results"));
            return match crate::report::write(&dir) {
                Ok(path) => {
                    println!("-> {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    fail!("report {}: {e:#}", dir.display());
                    ExitCode::from(BAD_INPUT)
                }
            };
        }
        None => {}
    }
    // Arguments with `=` that are not files are overrides.
    let (overrides, configs): (Vec<PathBuf>, Vec<PathBuf>) =
        cli.configs.iter().cloned().partition(|a| a.to_string_lossy().contains('=') && !a.is_file());
    let overrides = match overrides.iter().map(|o| Override::parse(&o.to_string_lossy())).collect::<Result<Vec<_>>>() {
        Ok(o) => o,
        Err(e) => {
            fail!("{e:#}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    if cli.check && !overrides.is_empty() {
        fail!("--check compares with the stored results of the configs as written: drop the overrides");
        return ExitCode::from(BAD_INPUT);
    }
    if (cli.stop_after.is_some() || cli.resume.is_some() || cli.checkpoint_every.is_some())
        && (cli.check || configs.len() != 1)
    {
        fail!("--stop-after, --checkpoint-every and --resume take one config, without --check");
        return ExitCode::from(BAD_INPUT);
    }
    if cli.stop_after.is_some() && cli.out.is_none() && cli.resume.is_none() {
        fail!("--stop-after writes an unfinished run: give --out DIR (the stored results stay as they are)");
        return ExitCode::from(BAD_INPUT);
    }
    let resume = match cli.resume.as_deref().map(crate::resume::load).transpose() {
        Ok(saved) => saved.map(std::sync::Arc::new),
        Err(e) => {
            fail!("--resume: {e:#}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    if configs.is_empty() {
        fail!("no config file given (only overrides)");
        return ExitCode::from(BAD_INPUT);
    }
    let cli = Cli { configs, ..cli };
    // Two configs with one stem would write the same folder: refuse before anything runs.
    let mut stems = std::collections::HashMap::new();
    for config in &cli.configs {
        let dir = crate::default_out_dir(config);
        if let Some(first) = stems.insert(dir.clone(), config) {
            if cli.configs.len() > 1 && first != config {
                eprintln!(
                    "error: {} and {} both write {}: give configs with different names",
                    first.display(),
                    config.display(),
                    dir.file_name().unwrap_or_default().to_string_lossy()
                );
                return ExitCode::from(BAD_INPUT);
            }
        }
    }
    let out_dir = |config: &std::path::Path| match (&cli.out, cli.configs.len()) {
        (None, _) if cli.resume.is_some() => cli.resume.clone().expect("internal: checked"),
        (Some(out), 1) => out.clone(),
        (Some(out), _) => out.join(crate::default_out_dir(config).file_name().unwrap_or_default()),
        (None, _) => crate::default_out_dir(config),
    };
    // Every results folder is checked before anything runs: only nothing, an empty folder or an
    // earlier run's folder is replaced.
    if !cli.check {
        for config in &cli.configs {
            if let Err(e) = crate::output::check_folder(&out_dir(config)) {
                fail!("{}: {e:#}", config.display());
                return ExitCode::from(BAD_INPUT);
            }
        }
    }
    catch_interrupts();
    let mut code = 0;
    for config in &cli.configs {
        if cg_core::interrupt::requested() {
            break;
        }
        let dir = out_dir(config);
        let options = crate::RunOptions {
            shortened: cli.check,
            progress: !cli.quiet && std::io::stdout().is_terminal(),
            stop_after: cli.stop_after.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            resume: resume.clone(),
            checkpoint_every: cli.checkpoint_every.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            checkpoint_dir: Some(dir.clone()),
            identity: None,
            limits: (cli.max_memory.is_some() || cli.max_work.is_some()).then(|| {
                let d = crate::Limits::default();
                crate::Limits {
                    max_memory: cli.max_memory.unwrap_or(d.max_memory),
                    max_work: cli.max_work.unwrap_or(d.max_work),
                }
            }),
        };
        let outcome = match crate::run_with(config, &overrides, &options) {
            Ok(o) => o,
            Err(e) => {
                fail!("{}: {e:#}", config.display());
                code = code.max(BAD_INPUT);
                continue;
            }
        };
        let result: Result<()> = if cli.check {
            crate::check::against_stored(&outcome, &dir).map(|()| {
                if !cli.quiet {
                    println!("{}: matches {}", config.display(), dir.display());
                }
            })
        } else {
            crate::write(&outcome, &dir).map(|()| {
                if !cli.quiet {
                    println!("{}\n  -> {}", outcome.summary, dir.display());
                }
                for w in outcome.warnings() {
                    eprintln!("warning: {}: {w}", config.display());
                }
                if outcome.checkpoint.as_ref().is_some_and(|s| s.interrupted) {
                    let mut words = vec!["experiments".to_string(), config.to_string_lossy().into_owned()];
                    words.extend(overrides.iter().map(|o| o.text.clone()));
                    words.extend(["--resume".to_string(), dir.to_string_lossy().into_owned()]);
                    let words: Vec<String> = words.iter().map(|w| crate::sweep::shell_quote(w)).collect();
                    eprintln!("interrupted: results so far in {}; continue with\n  {}", dir.display(), words.join(" "));
                }
            })
        };
        if let Err(e) = result {
            fail!("{}: {e:#}", config.display());
            code = code.max(if cli.check { DRIFT } else { BAD_INPUT });
        }
    }
    if cg_core::interrupt::requested() {
        return ExitCode::from(INTERRUPTED);
    }
    // Results written to the default folders: the report over them follows.
    let results = std::path::Path::new("results");
    if !cli.check && cli.out.is_none() && cli.resume.is_none() && results.is_dir() {
        if let Err(e) = crate::report::write(results) {
            fail!("results/index.html: {e:#}");
            code = code.max(BAD_INPUT);
        }
    }
    ExitCode::from(code)
}
