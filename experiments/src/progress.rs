//! Progress bars on long runs (indicatif), quiet when output is not a terminal.

use anyhow::Result;

use crate::*;

/// One step of a long run as a progress hook sees it.
#[derive(Clone, Copy, Debug)]
pub struct Tick<'a> {
    /// What a step is: epoch, temperature, ...
    pub unit: &'a str,
    /// Steps done.
    pub step: u64,
    /// Steps in all.
    pub total: u64,
    /// The latest message (a loss, a KL divergence), possibly empty.
    pub message: &'a str,
}

/// Called at every step of a long run (beside or instead of the terminal's bar): how a caller
/// of the library, such as the Python package's progress callback, follows a run.
#[derive(Clone)]
pub struct ProgressHook(pub std::sync::Arc<dyn Fn(&Tick<'_>) + Send + Sync>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHook")
    }
}

/// A progress bar (indicatif's, drawn only when `options.progress`) that also tells
/// `options.on_progress` of every step.
pub struct Bar {
    bar: indicatif::ProgressBar,
    hook: Option<ProgressHook>,
    unit: String,
    message: String,
}

impl Bar {
    /// Moves to step `position`.
    pub fn set_position(&self, position: u64) {
        self.bar.set_position(position);
        self.tell();
    }

    /// Moves `delta` steps on.
    pub fn inc(&self, delta: u64) {
        self.bar.inc(delta);
        self.tell();
    }

    /// The text shown beside the bar, and given to the hook at the next step.
    pub fn set_message(&mut self, message: String) {
        self.message.clone_from(&message);
        self.bar.set_message(message);
    }

    /// Removes the bar from the terminal.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    fn tell(&self) {
        if let Some(hook) = &self.hook {
            let tick = Tick {
                unit: &self.unit,
                step: self.bar.position(),
                total: self.bar.length().unwrap_or(0),
                message: &self.message,
            };
            (hook.0)(&tick);
        }
    }
}

/// A progress bar over `len` steps named `unit` (epoch, temperature, ...), hidden unless
/// `options.progress`; every step also goes to `options.on_progress`.
pub fn progress_bar(options: &RunOptions, len: usize, unit: &str, title: &str) -> Bar {
    let bar = if options.progress { indicatif::ProgressBar::new(len as u64) } else { indicatif::ProgressBar::hidden() };
    bar.set_length(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{prefix}} [{{bar:30}}] {unit} {{pos}}/{{len}} {{msg}} ({{elapsed}}, eta {{eta}})"
        ))
        .expect("internal: valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(title.to_string());
    Bar { bar, hook: options.on_progress.clone(), unit: unit.to_string(), message: String::new() }
}

/// The progress-bar observer of a solver run: one tick per step, with a message made from the
/// step's record. The bar is cleared when the observer is dropped, so an error printed after a
/// failed run is not drawn over.
pub struct Progress<F> {
    bar: Bar,
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
