//! The arguments: the run command's flags and the subcommands, parsed by clap.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Run computational-graph experiments from config files.
#[derive(Parser)]
#[command(version, about, args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
    /// Config files (TOML), then any `key.path=value` overrides applied to each (for one run:
    /// `optimizer.learning_rate=0.05 seed=3 train.epochs=10`).
    #[arg(required = true, value_name = "CONFIGS|OVERRIDES")]
    pub(super) configs: Vec<PathBuf>,
    /// Results folder (default results/<config stem>; with several configs, DIR/<config stem>).
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Rerun and compare with the stored results instead of writing; exit 1 on any drift. Configs
    /// with `check_epochs` run that many epochs and compare the start of every curve.
    #[arg(long)]
    pub(super) check: bool,
    /// Train for N epochs (or updates) of the config's schedule, then stop and save the state
    /// (`state.json`, `state.safetensors`) beside the results; needs --out, so stored results
    /// stay whole.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) stop_after: Option<u64>,
    /// Continue the run stopped in DIR (with the same config and overrides) to its end; writes to
    /// DIR unless --out says otherwise.
    #[arg(long, value_name = "DIR")]
    pub(super) resume: Option<PathBuf>,
    /// Write the run's state into its results folder every N epochs (or updates), and keep the
    /// final state: a killed run loses at most N, and a finished one can be continued with a
    /// larger budget (`--resume DIR train.epochs=200`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) checkpoint_every: Option<u64>,
    /// Refuse a run whose estimated memory is above SIZE (bytes, or with K, M, G, T: 512M, 8G);
    /// default: the memory available now.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(super) max_memory: Option<f64>,
    /// Refuse a run estimated at more than N arithmetic operations (default 1e15, about three
    /// hours at 100 GFLOP/s).
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub(super) max_work: Option<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(super) quiet: bool,
}

/// `512M`, `8G`, `1.5T` or a number of bytes.
pub(super) fn parse_size(text: &str) -> Result<f64, String> {
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

/// A probability in [0, 1).
pub(super) fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a probability in [0, 1)")),
    }
}

/// A finite positive number (`1e12`).
pub(super) fn parse_positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a positive number")),
    }
}

#[derive(Subcommand)]
pub(super) enum Command {
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
        /// CSV file (or .csv.gz) with a header naming the training features (other columns are
        /// ignored; categories and empty cells handled as in training), or a NumPy .npy file (or
        /// one array of an .npz archive, FILE.npz:NAME) of samples x the model's features in order.
        #[arg(long, value_name = "FILE.csv|FILE.npy|FILE.npz:NAME")]
        data: PathBuf,
        /// Write here instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run a config over a grid of overrides (`key=v1,v2`, `key=range(a,b[,step])`), leftmost
    /// key slowest, into DIR/<stem>/multirun/<n>/, then summarize it. TARGET is a config, or a
    /// sweep file (a `[sweep]` table with `config`, `overrides` and optionally `out`).
    Sweep(SweepArgs),
    /// Write DIR/index.html (default results/): every experiment with its kind, config, key
    /// metrics and pictures, and every sweep's summary, in one static page; tick two or more
    /// experiments to compare their metrics and curves. Several folders go on one page, written
    /// to --out (default: the deepest folder holding them all).
    Report {
        /// Folders of result folders, or result folders themselves.
        dirs: Vec<PathBuf>,
        /// The folder for index.html (created if needed).
        #[arg(long, value_name = "FOLDER")]
        out: Option<PathBuf>,
    },
    /// Draw rows from a Bayesian network (BIF) by forward sampling: CSV with a header of the
    /// variables and each cell a state's name, to standard output or --out (a new file).
    Sample {
        /// A BIF file (bnlearn repository, pgmpy, GeNIe, or a results folder's network.bif).
        network: PathBuf,
        /// Rows to draw.
        #[arg(short = 'n', long, default_value_t = 1000)]
        rows: usize,
        /// Seeds the draws: the same seed gives the same rows.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Leave each cell empty with probability P (missing completely at random).
        #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
        missing: f64,
        /// Write here (a file that does not exist yet) instead of standard output.
        #[arg(long, value_name = "FILE.csv")]
        out: Option<PathBuf>,
    },
    /// Ask a Bayesian network (BIF) one question, answered exactly: `P(lung | smoke = yes)`,
    /// a joint `P(a, b | e = x)`, or the most probable joint state `MAP(a, b | e = x)`
    /// (`MAP(* | e = x)`: every unobserved variable).
    Query {
        /// A BIF file.
        network: PathBuf,
        /// The question, quoted.
        question: String,
        /// Also estimate a one-variable P(...) by a sampler: gibbs, likelihood_weighting or
        /// forward, with its standard errors and doubts.
        #[arg(long, value_name = "METHOD")]
        sampler: Option<String>,
        /// Sampler draws (Gibbs: per chain, four chains after 1000 sweeps of burn-in).
        #[arg(long, default_value_t = 20_000)]
        samples: usize,
        /// Seeds the sampler.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Rebuild summary.csv and the sweep's plots from the job folders of DIR/<stem>/multirun.
    Summarize {
        /// A sweep's multirun folder.
        dir: PathBuf,
        /// The metric the best setting is chosen by (default: test accuracy, else accuracy,
        /// else a loss or error, whichever the jobs report).
        #[arg(long)]
        metric: Option<String>,
    },
}

#[derive(clap::Args)]
pub(super) struct SweepArgs {
    /// A config or a sweep file.
    pub(super) target: PathBuf,
    /// Sweep arguments: `key=v1,v2,...` or `key=range(a,b[,step])`; a single value fixes a key.
    #[arg(value_name = "KEY=VALUES")]
    pub(super) args: Vec<String>,
    /// Folder of sweeps (default: the sweep file's `out`, else `sweeps`); jobs go to
    /// DIR/<stem>/multirun/<n>/.
    #[arg(long, value_name = "DIR")]
    pub(super) out: Option<PathBuf>,
    /// Jobs at once on this machine; each gets cores / N threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) jobs: u64,
    /// Skip jobs that finished before (their status.json says exit code 0).
    #[arg(long)]
    pub(super) resume: bool,
    /// Run job N only (0-based); without it, SLURM_ARRAY_TASK_ID when set.
    #[arg(long, value_name = "N")]
    pub(super) job: Option<usize>,
    /// Write multirun/submit.sh (a Slurm job array) and multirun/summarize.sh (after it), and
    /// submit both with sbatch.
    #[arg(long)]
    pub(super) slurm: bool,
    /// Extra sbatch options for both scripts, as one string ("--time=00:10:00 --partition=x").
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub(super) slurm_args: Option<String>,
    /// With --slurm: write the scripts, submit nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub(super) quiet: bool,
}
