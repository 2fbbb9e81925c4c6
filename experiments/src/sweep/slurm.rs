//! Slurm job arrays: the batch scripts of a sweep, shell quoting, and submission.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use super::*;

/// `text` as one shell word: as is when it holds only safe characters, else in single quotes
/// (a quote inside as '\''), so that spaces, `;`, `$(...)`, quotes and newlines stay literal.
pub fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.,/=:+@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What `--slurm` writes and submits.
pub struct SlurmScripts {
    /// `submit.sh`: the job array, one task per job.
    pub array: String,
    /// `summarize.sh`: runs `summarize` after the array (an `afterany` dependency).
    pub summarize: String,
}

/// The two batch scripts of a sweep: every task runs `exe sweep ARGS --job $SLURM_ARRAY_TASK_ID`
/// in `cwd`, with every argument quoted (a value with spaces, quotes, `;`, `$(...)` or a newline
/// reaches the job as written).
pub fn slurm_scripts(plan: &Plan, root: &Path, exe: &Path, cwd: &Path, args: &[String]) -> SlurmScripts {
    let q = |p: &Path| shell_quote(&p.to_string_lossy());
    let name = shell_quote(&format!("cg-{}", stem(plan)));
    let command: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    let array = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}\n#SBATCH --array=0-{last}\n#SBATCH --output={out}\n\
         # Written by `experiments sweep --slurm`: one task per job of {plan}.\n\
         cd {cwd} || exit 2\n\
         exec {exe} sweep {command} --job \"$SLURM_ARRAY_TASK_ID\"\n",
        last = plan.jobs.len() - 1,
        out = q(&root.join("slurm-%A_%a.out")),
        plan = root.join(PLAN).display(),
        cwd = q(cwd),
        exe = q(exe),
        command = command.join(" "),
    );
    let summarize = format!(
        "#!/bin/bash\n#SBATCH --job-name={name}-summary\n#SBATCH --output={out}\n\
         # Written by `experiments sweep --slurm`: gathers the jobs once the array has ended.\n\
         cd {cwd} || exit 2\n\
         exec {exe} summarize {root}\n",
        out = q(&root.join("slurm-summary-%j.out")),
        cwd = q(cwd),
        exe = q(exe),
        root = q(root),
    );
    SlurmScripts { array, summarize }
}

/// Submits the scripts in `root` with `sbatch`: the array, then the summary after it
/// (`--dependency=afterany:ID`); returns both job ids.
///
/// # Errors
/// `sbatch` missing or refusing.
pub fn submit(root: &Path, slurm_args: &[String]) -> Result<(String, String)> {
    let sbatch = |extra: &[String], script: &str| -> Result<String> {
        let out = std::process::Command::new("sbatch")
            .arg("--parsable")
            .args(slurm_args)
            .args(extra)
            .arg(root.join(script))
            .output()
            .map_err(|e| anyhow!("cannot run sbatch ({e}): is Slurm installed? --dry-run writes the scripts only"))?;
        if !out.status.success() {
            bail!("sbatch {script}: {}", String::from_utf8_lossy(&out.stderr).trim());
        }
        let id = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() {
            bail!("sbatch {script}: no job id in its answer");
        }
        Ok(id)
    };
    let array = sbatch(&[], "submit.sh")?;
    let summary = sbatch(&[format!("--dependency=afterany:{array}")], "summarize.sh")?;
    Ok((array, summary))
}
