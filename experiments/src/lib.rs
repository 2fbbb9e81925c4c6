//! The experiments library behind the `experiments` binary: read a config, validate it, run it,
//! and write or check its results. The binary only parses arguments and prints.
//!
//! Results of `configs/NAME.toml` go to `results/NAME/` by default. Every file is rendered in memory
//! first and then written through a temporary file and a rename, so a failed run never leaves a
//! partial or overwritten result behind.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
mod cli;
pub mod config;
mod cost;
mod files;
pub mod kinds;
pub mod output;
pub mod predict;
mod progress;
pub mod report;
pub mod resume;
mod running;
pub mod schema;
pub mod sweep;

pub use cli::main_with;
pub use cost::*;
pub use files::*;
pub use progress::*;
pub use running::*;

use std::path::PathBuf;

/// What one run produced: named files (not yet written) and a short human summary.
pub struct Outcome {
    /// Files written, by name.
    pub files: Vec<(String, Vec<u8>)>,
    /// What the run printed.
    pub summary: String,
    /// How much of the stored results this run can be compared with.
    pub check: CheckScope,
    /// The state the run saved: stopped before its end (`--stop-after`, an interrupt), or kept
    /// at its end (`--checkpoint-every`); `run_with` adds its files.
    pub checkpoint: Option<resume::Saved>,
}

/// What a rerun is compared against in the stored results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckScope {
    /// Every JSON file, every number.
    Full,
    /// A shortened run of this many epochs: the first values of every `*_curve` array.
    CurvePrefix(usize),
    /// A shortened run whose JSON is part of the stored one: every key it has must be stored with
    /// the same value, and its arrays must begin the stored arrays.
    Subset,
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Run long configs on their `check_epochs` schedule (the regression check).
    pub shortened: bool,
    /// Show a progress bar.
    pub progress: bool,
    /// Stop training after this many epochs (or updates) and save the state to resume from.
    pub stop_after: Option<usize>,
    /// Continue this stopped run (its config must be the one given).
    pub resume: Option<std::sync::Arc<resume::SavedRun>>,
    /// Refuse runs estimated above these (the defaults when `None`).
    pub limits: Option<Limits>,
    /// Write a checkpoint (the state files) to `checkpoint_dir` every this many steps, and keep
    /// the final state, so a killed run loses at most this many and a finished one can be
    /// continued with a larger budget.
    pub checkpoint_every: Option<usize>,
    /// Where periodic checkpoints go: the run's results folder.
    pub checkpoint_dir: Option<PathBuf>,
    /// Set by [`run_with`] for resumable kinds: what their checkpoints are written with.
    pub identity: Option<resume::Identity>,
    /// Told of every step of a long run (the Python package's progress callback).
    pub on_progress: Option<ProgressHook>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_keep_three_significant_digits_in_a_fitting_unit() {
        for (s, text) in [
            (0.0, "0.00 ns"),
            (3.2e-6, "3.20 µs"),
            (0.000_812, "812 µs"),
            (0.003_414, "3.41 ms"),
            (1.25, "1.25 s"),
            (42.0, "42.0 s"),
            (600.0, "10.0 min"),
            (9000.0, "2.50 h"),
        ] {
            assert_eq!(super::duration(s), text);
        }
    }
}
