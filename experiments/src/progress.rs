//! Progress bars on long runs (indicatif), quiet when output is not a terminal.

use anyhow::Result;

use crate::*;

/// A progress bar over `len` steps named `unit` (epoch, temperature, ...), hidden unless
/// `options.progress`.
pub fn progress_bar(options: &RunOptions, len: usize, unit: &str, title: &str) -> indicatif::ProgressBar {
    let bar = if options.progress { indicatif::ProgressBar::new(len as u64) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {unit} {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("internal: valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(title.to_string());
    bar
}

/// The progress-bar observer of a solver run: one tick per step, with a message made from the
/// step's record. The bar is cleared when the observer is dropped, so an error printed after a
/// failed run is not drawn over.
pub struct Progress<F> {
    bar: indicatif::ProgressBar,
    message: F,
}

impl<F> Progress<F> {
    /// A bar over `len` steps, each step's message made by `message` from its record.
    pub fn new(options: &RunOptions, len: usize, unit: &str, title: &str, message: F) -> Progress<F> {
        Progress { bar: progress_bar(options, len, unit, title), message }
    }
}

impl<St, R, F: FnMut(&R) -> String> cg_core::Observer<St, R> for Progress<F> {
    fn observe(&mut self, step: &cg_core::StepInfo<'_, St, R>) -> cg_core::Flow {
        self.bar.set_message((self.message)(step.record));
        self.bar.set_position(step.step as u64);
        cg_core::Flow::Continue
    }
}

impl<F> Drop for Progress<F> {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A solver run's outcome as a result: divergence is an error naming what diverged; every
/// other end (converged, step limit, stalled, stopped by an observer) is a finished run.
///
/// # Errors
/// The run diverged, or a step failed (`result` is an error).
pub fn finished<E: std::fmt::Display>(
    result: Result<cg_core::RunOutcome, E>,
    what: &str,
) -> Result<cg_core::RunOutcome> {
    match result {
        Ok(cg_core::RunOutcome { stop: cg_core::Stop::Diverged { what: why }, steps }) => {
            anyhow::bail!("{what} diverged at step {steps}: {why}")
        }
        Ok(out) => Ok(out),
        Err(e) => anyhow::bail!("{what}: {e}"),
    }
}
