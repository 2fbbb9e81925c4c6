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
use clap::{CommandFactory, FromArgMatches};

/// Prints `error: ` and the message as one line: control characters (a line break inside a
/// quoted CSV cell, in a path, in a TOML string) shown escaped, and the middle of a very long
/// message cut, so every error is one line whatever the input held.
macro_rules! fail {
    ($($arg:tt)*) => {
        eprintln!("error: {}", one_line(&format!($($arg)*)))
    };
}

mod args;
mod commands;

use args::*;
use commands::*;

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
/// 2 bad input or a failed run, 130 interrupted. The calling thread becomes worker 0 of
/// rayon's global pool first ([`cg_core::join_global_pool`]): call it from `main`.
#[must_use]
pub fn main_with(extra: &[&'static dyn crate::kinds::Kind]) -> ExitCode {
    // Parallel loops started here run partly on this thread instead of waiting for a woken one.
    cg_core::join_global_pool();
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
        Some(Command::Sample { network, rows, seed, missing, out }) => {
            return commands::sample(network, *rows, *seed, *missing, out.as_deref())
        }
        Some(Command::Query { network, question, sampler, samples, seed }) => {
            return commands::query(network, question, sampler.as_deref(), *samples, *seed)
        }
        Some(Command::Summarize { dir, metric }) => return summarize(dir, metric.as_deref()),
        Some(Command::Report { dirs, out }) => {
            let dirs = if dirs.is_empty() { vec![PathBuf::from("results")] } else { dirs.clone() };
            let written = match (&dirs[..], out) {
                ([one], None) => crate::report::write(one),
                (_, out) => {
                    let page = out.clone().unwrap_or_else(|| crate::report::common_folder(&dirs));
                    crate::report::write_many(&dirs, &page)
                }
            };
            return match written {
                Ok(path) => {
                    println!("-> {}", path.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    fail!("report {}: {e:#}", names.join(" "));
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
            on_progress: None,
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
