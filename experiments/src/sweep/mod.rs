//! `experiments sweep`: many runs of one config over a grid of overrides, in the folder layout of
//! Hydra's multirun. `DIR/<stem>/multirun/` holds `multirun.json` (the grid and every job's
//! overrides), one folder per job (`<n>/`: the kind's usual outputs, `config.toml` resolved,
//! `overrides.txt`, `status.json`), and after [`summarize`] `summary.csv` and the plots.
//!
//! A job is a plain run of the config with its overrides, so its outputs are those of
//! `experiments CONFIG OVERRIDES...`, byte for byte. Jobs run here (N at a time, each on its
//! share of the cores), one at a time by number (`--job N`, or `SLURM_ARRAY_TASK_ID`), or as a
//! Slurm job array (`slurm`).

mod figures;
mod local;
mod plan;
mod slurm;
mod summary;

pub use local::*;
pub use plan::*;
pub use slurm::*;
pub use summary::*;

use figures::{curves, finals, settings, stem};

/// The sweep's plan.
pub const PLAN: &str = "multirun.json";
/// Each run's status.
pub const STATUS: &str = "status.json";
/// The summary table.
pub const SUMMARY: &str = "summary.csv";
