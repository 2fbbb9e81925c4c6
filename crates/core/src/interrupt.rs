//! A request from outside a run to stop it at the next step boundary: Ctrl-C or SIGTERM in the
//! command-line tool, a `KeyboardInterrupt` in Python. Whoever catches the signal sets the flag;
//! [`run_steps`](crate::run_steps) ends the run after the step in progress with
//! [`Stop::Requested`](crate::Stop::Requested) `{ by: `[`BY`]` }`, so the caller can save what
//! the run did (a checkpoint, the results so far) instead of losing it.
//!
//! The flag is process-wide (a signal is), and stays set until [`clear`]: nested or later runs
//! stop at their first step too, so a caller that loops over runs ends quickly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

/// The reason [`run_steps`](crate::run_steps) gives for a run ended by the flag.
pub const BY: &str = "an interrupt";

static FLAG: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The flag itself, for a signal handler to set (`signal_hook::flag::register`).
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(&FLAG)
}

/// Asks every run in this process to stop at its next step boundary.
pub fn request() {
    FLAG.store(true, Ordering::SeqCst);
}

/// Whether a stop has been asked for.
pub fn requested() -> bool {
    FLAG.load(Ordering::SeqCst)
}

/// Withdraws the request (before the next run of a long-lived process, such as Python's).
pub fn clear() {
    FLAG.store(false, Ordering::SeqCst);
}
