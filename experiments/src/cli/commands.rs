//! The subcommands that act on folders: sweep, summarize, predict, and the kinds table.

use std::process::ExitCode;

use crate::config::Override;
use anyhow::Result;

use super::*;

/// `experiments sweep`: exit 0 when every job finished, 2 when any failed or the sweep could not
/// start.
pub(super) fn sweep(a: &SweepArgs) -> ExitCode {
    match sweep_inner(a) {
        Ok(code) => code,
        Err(e) => {
            fail!("sweep {}: {e:#}", a.target.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

pub(super) fn sweep_inner(a: &SweepArgs) -> Result<ExitCode> {
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
        print!("{}", summary.table);
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
pub(super) fn summarize(dir: &std::path::Path, metric: Option<&str>) -> ExitCode {
    let summary = crate::sweep::read_plan(dir)
        .and_then(|_| crate::sweep::lock(dir, false))
        .and_then(|_lock| crate::sweep::summarize_by(dir, metric));
    match summary {
        Ok(s) => {
            print!("{}", s.table);
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
pub(super) fn predict(dir: &std::path::Path, data: &std::path::Path, out: Option<&std::path::Path>) -> ExitCode {
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

/// Refuses a file that exists (the sampled rows go only to a new file).
fn refuse_existing(file: &std::path::Path) -> Result<()> {
    if crate::output::check_file(file)? {
        anyhow::bail!("{} exists; give a new file's name (nothing was written)", file.display());
    }
    Ok(())
}

/// Writes `text` to `out` (a new file; nothing existing is replaced) or standard output.
fn emit(text: &str, out: Option<&std::path::Path>) -> Result<()> {
    use std::io::Write;
    match out {
        Some(file) => {
            refuse_existing(file)?;
            crate::output::write_file(file, text.as_bytes())
        }
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            // A reader that stopped early (`| head`) is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(anyhow::Error::from),
        },
    }
}

/// `experiments sample`: forward draws from a network, as CSV.
pub(super) fn sample(
    network: &std::path::Path,
    rows: usize,
    seed: u64,
    missing: f64,
    out: Option<&std::path::Path>,
) -> ExitCode {
    use rand::SeedableRng;
    // Refused before drawing, so a taken name costs no sampling.
    let done = out.map_or(Ok(()), refuse_existing).and_then(|()| {
        let net = crate::read_network(network)?;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut data = cg_pgm::learn::DiscreteData::from_draws(&net, &net.sample(rows, &mut rng));
        if missing > 0.0 {
            data.hide(missing, &mut rng);
        }
        emit(&data.to_csv(), out)
    });
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            fail!("sample {}: {e:#}", network.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// `experiments query`: one question, answered exactly (and by a sampler on request).
pub(super) fn query(
    network: &std::path::Path,
    question: &str,
    sampler: Option<&str>,
    samples: usize,
    seed: u64,
) -> ExitCode {
    let answered = crate::read_network(network).and_then(|net| {
        let q: cg_pgm::Question = question.parse()?;
        let exact = net.ask(&q)?;
        let mut text = format!("{}   exact\n{exact}", question.trim());
        if let Some(method) = sampler {
            text += &sampled(&net, &q, method, samples, seed)?;
        }
        emit(&text, None)
    });
    match answered {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            fail!("query {}: {e:#}", network.display());
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// A one-variable probability estimated by a sampler, with its error bars and doubts.
fn sampled(
    net: &cg_pgm::BayesianNetwork,
    q: &cg_pgm::Question,
    method: &str,
    samples: usize,
    seed: u64,
) -> Result<String> {
    use cg_pgm::sampling::{estimate, Compiled, Method, Settings};
    let method = match method {
        "gibbs" => Method::Gibbs,
        "likelihood_weighting" => Method::LikelihoodWeighting,
        "forward" => Method::Forward,
        other => anyhow::bail!("--sampler {other}: the samplers are gibbs, likelihood_weighting and forward"),
    };
    let [target] = &q.targets[..] else {
        anyhow::bail!("--sampler answers P(one variable | ...); ask the others exactly");
    };
    if q.form != cg_pgm::Form::Probability {
        anyhow::bail!("--sampler answers P(...), not MAP(...)");
    }
    let t = net.id(target)?;
    let evidence = q
        .evidence
        .iter()
        .map(|(v, x)| net.id(v).and_then(|v| Ok((v, net.state(v, x)?))))
        .collect::<Result<Vec<_>, _>>()?;
    let compiled = Compiled::bayesian(&net.factors, &net.cards, &net.parents)?;
    let gibbs = method == Method::Gibbs;
    let settings =
        Settings { method, chains: 4, burn_in: if gibbs { 1000 } else { 0 }, samples, thin: 1, blocks: true };
    let e = estimate(&compiled, t, &evidence, &settings, seed)?;
    let width = net.states[t].iter().map(|s| s.chars().count() + target.chars().count() + 3).max().unwrap_or(0);
    let mut text = format!("\nsampled ({}, {} draws)\n", method_name(method), e.draws);
    for (k, state) in net.states[t].iter().enumerate() {
        let cell = format!("{target} = {state}");
        text +=
            &format!("{cell:width$}  {:.6} ± {:.6}  (ESS {:.0})\n", e.probabilities[k], e.standard_errors[k], e.ess[k]);
    }
    for doubt in &e.doubts {
        text += &format!("doubt: {doubt}\n");
    }
    Ok(text)
}

fn method_name(m: cg_pgm::sampling::Method) -> &'static str {
    match m {
        cg_pgm::sampling::Method::Gibbs => "gibbs, 4 chains",
        cg_pgm::sampling::Method::LikelihoodWeighting => "likelihood weighting",
        cg_pgm::sampling::Method::Forward => "forward",
    }
}

/// The kinds with their summaries, one per line.
pub(super) fn kinds_table() -> String {
    let all = crate::kinds::all();
    let width = all.iter().map(|k| k.name().len()).max().unwrap_or(0);
    all.iter().map(|k| format!("  {:width$}  {}\n", k.name(), k.summary())).collect()
}
