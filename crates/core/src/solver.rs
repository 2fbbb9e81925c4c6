//! One trait for iterative solvers (Hopfield recall, Gibbs sampling, SOM, RBM and network
//! training, ...) and the driver that owns their loop, so that step limits, stopping, recording,
//! progress and timing behave the same everywhere.
//!
//! The shape follows argmin's executor: a [`Solver`] makes one step at a time and returns a typed
//! record of it; [`run`] loops, asks the solver whether to stop, hands every step to the
//! [`Observer`]s the caller attached (curves, progress bars, early stopping), and ends with a
//! [`Stop`] reason.

use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::checkpoint::{Snapshot, SnapshotError};

/// An iterative solver. What changes while it runs lives in `State`, apart from the solver's
/// settings, so a run can be inspected or resumed.
///
/// Solvers and their states are `Send` because [`run`] runs each step on rayon's pool.
pub trait Solver: Send {
    /// Everything that changes during a run.
    type State: Send;
    /// What one step reports (energy, errors, a learning rate, ...).
    /// What a step reports; its [`Objective`] (if any) is watched for divergence by [`run`].
    type Record: Send + Objective;
    /// Why a step could not be taken.
    type Error: Send;

    /// The algorithm's name, for records.
    fn name(&self) -> &'static str;

    /// One sweep, epoch or step.
    ///
    /// # Errors
    /// Whatever the solver finds wrong that is not a reason to stop (bad input found late).
    fn step(&mut self, state: &mut Self::State, rng: &mut ChaCha8Rng) -> Result<Self::Record, Self::Error>;

    /// Whether the run ends after a step that reported `record`, and why: converged, stalled,
    /// or diverged (a non-finite or exploding state, named). `None` continues.
    fn stop(&self, _state: &Self::State, _record: &Self::Record) -> Option<Stop> {
        None
    }
}

/// A function of a flat parameter vector with its gradient: what a first-order optimiser needs
/// from a model, whoever computes it (the scalar graph engine, a network).
pub trait Differentiable {
    /// Why a value or gradient could not be computed (the model's own error type).
    type Error;

    /// The number of parameters.
    fn dimension(&self) -> usize;

    /// The value at `x`, with the gradient written into `grad` (as long as `x`).
    ///
    /// # Errors
    /// A value or derivative that cannot be computed at `x` (not finite, out of the domain).
    fn value_and_gradient(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, Self::Error>;
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The solver's convergence test passed.
    Converged,
    /// The step limit was reached.
    StepLimit,
    /// The solver can make no more progress (a cycle, a step too small to change anything).
    Stalled,
    /// A value stopped being finite or exploded; says which.
    Diverged {
        /// What diverged, and where.
        what: String,
    },
    /// An observer asked to stop (early stopping, an interrupt).
    Requested {
        /// The observer that asked.
        by: String,
    },
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Converged => write!(f, "converged"),
            Stop::StepLimit => write!(f, "step limit"),
            Stop::Stalled => write!(f, "stalled"),
            Stop::Diverged { what } => write!(f, "diverged: {what}"),
            Stop::Requested { by } => write!(f, "stopped by {by}"),
        }
    }
}

/// What an observer tells the driver after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next step.
    Continue,
    /// End the run now, giving the reason.
    Stop(String),
}

/// One finished step as observers see it.
pub struct StepInfo<'a, St, R> {
    /// 1-based, counted from the start of this [`run`].
    pub step: usize,
    /// Wall-clock seconds of the solver's step (observers not included).
    pub seconds: f64,
    /// The state after the step.
    pub state: &'a St,
    /// What the step reported.
    pub record: &'a R,
}

/// Watches a run step by step: records curves, draws progress, decides to stop early.
pub trait Observer<St, R> {
    /// Sees a step; may ask to stop.
    fn observe(&mut self, step: &StepInfo<'_, St, R>) -> Flow;

    /// Saves what this observer remembers of the steps so far (curves, its own random stream),
    /// for a run stopped here and continued later; observers that only look (progress bars)
    /// save nothing.
    fn save(&self, _into: &mut Snapshot) {}

    /// Takes back what [`Observer::save`] saved.
    ///
    /// # Errors
    /// A snapshot of another observer.
    fn restore(&mut self, _from: &Snapshot) -> Result<(), SnapshotError> {
        Ok(())
    }
}

/// Any closure over a step is an observer.
impl<St, R, F: FnMut(&StepInfo<'_, St, R>) -> Flow> Observer<St, R> for F {
    fn observe(&mut self, step: &StepInfo<'_, St, R>) -> Flow {
        self(step)
    }
}

/// The observer that keeps every record (and the seconds of each step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recorder<R> {
    /// Every step's record.
    pub records: Vec<R>,
    /// Wall-clock seconds of each step.
    pub seconds: Vec<f64>,
}

impl<R> Recorder<R> {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder { records: Vec::new(), seconds: Vec::new() }
    }

    /// Total seconds of the recorded steps.
    pub fn total_seconds(&self) -> f64 {
        self.seconds.iter().sum()
    }
}

impl<St, R: Clone + Serialize + DeserializeOwned> Observer<St, R> for Recorder<R> {
    fn observe(&mut self, step: &StepInfo<'_, St, R>) -> Flow {
        self.records.push(step.record.clone());
        self.seconds.push(step.seconds);
        Flow::Continue
    }

    fn save(&self, into: &mut Snapshot) {
        into.put("records", &self.records);
        into.put("seconds", &self.seconds);
    }

    fn restore(&mut self, from: &Snapshot) -> Result<(), SnapshotError> {
        (self.records, self.seconds) = (from.get("records")?, from.get("seconds")?);
        Ok(())
    }
}

/// The number a step's record says the run is minimising (a training loss, a reconstruction
/// or quantization error), if any: what [`DivergenceGuard`] watches.
pub trait Objective {
    /// The number watched for divergence, if any.
    fn objective(&self) -> Option<f64> {
        None
    }
}

impl Objective for () {}

/// How many times its first value an objective may grow before the run counts as diverged.
/// Training that works lowers its loss; one that grows a millionfold (a learning rate of 1e6
/// "training" to 5.9e14) is not a result. The first value counts as at least 1, so a loss that
/// starts near zero may still wander.
pub const DIVERGENCE_FACTOR: f64 = 1e6;

/// An observer that stops a run whose objective is not finite or has grown past
/// [`DIVERGENCE_FACTOR`] times its first value, and says why ([`DivergenceGuard::tripped`]);
/// the driver then reports [`Stop::Diverged`].
#[derive(Debug, Default)]
pub struct DivergenceGuard {
    first: Option<f64>,
    /// Why the run diverged, once it has.
    pub tripped: Option<String>,
}

impl DivergenceGuard {
    /// The guard for a run that starts (or resumes) now: its first value is the next step's.
    pub fn new() -> DivergenceGuard {
        DivergenceGuard::default()
    }

    /// `out` with a tripped guard's reason as [`Stop::Diverged`].
    pub fn verdict(&self, out: RunOutcome) -> RunOutcome {
        match &self.tripped {
            Some(why) => RunOutcome { steps: out.steps, stop: Stop::Diverged { what: why.clone() } },
            None => out,
        }
    }
}

impl<St, R: Objective> Observer<St, R> for DivergenceGuard {
    fn observe(&mut self, step: &StepInfo<'_, St, R>) -> Flow {
        if let Some(why) = &self.tripped {
            return Flow::Stop(why.clone());
        }
        let Some(value) = step.record.objective() else { return Flow::Continue };
        let first = *self.first.get_or_insert(value);
        if !value.is_finite() {
            // One more step: a solver that checks its own numbers names the place (a node, a
            // batch); if it does not, or this was the last step, the verdict says it diverged.
            self.tripped = Some(format!("the objective is {value}"));
            return Flow::Continue;
        }
        if value <= DIVERGENCE_FACTOR * first.abs().max(1.0) {
            return Flow::Continue;
        }
        let why = format!(
            "the objective grew from {first:.6e} to {value:.6e}, more than {DIVERGENCE_FACTOR:e} times its first value: lower the learning rate"
        );
        self.tripped = Some(why.clone());
        Flow::Stop(why)
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Steps taken.
    pub steps: usize,
    /// Why the run ended.
    pub stop: Stop,
}

impl RunOutcome {
    /// Whether the solver's own test ended the run.
    pub fn converged(&self) -> bool {
        self.stop == Stop::Converged
    }
}

/// Runs `solver` from `state` for at most `max_steps` steps; after each step the solver may stop
/// the run ([`Solver::stop`]), then every observer sees the step, in order, and may stop it too;
/// a stop asked for from outside ([`crate::interrupt`]) ends it after the step as well. The
/// record's objective is watched by a [`DivergenceGuard`]: a run that diverges ends with
/// [`Stop::Diverged`]. ([`run_steps`] alone adds no guard; [`run_guarded`] takes one.)
///
/// ```
/// use cg_core::{run, Solver, Stop};
/// use rand_chacha::ChaCha8Rng;
///
/// /// Halves a number until it is below 1e-3.
/// struct Halve;
///
/// impl Solver for Halve {
///     type State = f64;
///     type Record = ();
///     type Error = std::convert::Infallible;
///     fn name(&self) -> &'static str {
///         "halve"
///     }
///     fn step(&mut self, x: &mut f64, _rng: &mut ChaCha8Rng) -> Result<(), Self::Error> {
///         *x /= 2.0;
///         Ok(())
///     }
///     fn stop(&self, x: &f64, _record: &()) -> Option<Stop> {
///         (*x < 1e-3).then_some(Stop::Converged)
///     }
/// }
///
/// let mut x = 1.0;
/// let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
/// let outcome = run(&mut Halve, &mut x, 100, &mut rng, &mut []).unwrap();
/// assert_eq!((outcome.steps, outcome.stop), (10, Stop::Converged));
/// ```
///
/// # Errors
/// The first error a step returns.
pub fn run<S: Solver>(
    solver: &mut S,
    state: &mut S::State,
    max_steps: usize,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
) -> Result<RunOutcome, S::Error> {
    run_guarded(solver, state, 0, max_steps, rng, observers, &mut DivergenceGuard::new())
}

/// [`run_steps`] with `guard` watching after the other observers, its verdict applied: a
/// driver that cuts one run into parts (checkpoints) passes the same guard to every part.
///
/// # Errors
/// As [`run_steps`].
pub fn run_guarded<S: Solver>(
    solver: &mut S,
    state: &mut S::State,
    done: usize,
    last: usize,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
    guard: &mut DivergenceGuard,
) -> Result<RunOutcome, S::Error> {
    let mut all: Vec<&mut dyn Observer<S::State, S::Record>> = Vec::with_capacity(observers.len() + 1);
    all.extend(observers.iter_mut().map(|o| &mut **o as &mut dyn Observer<S::State, S::Record>));
    all.push(&mut *guard);
    let out = run_steps(solver, state, done, last, rng, &mut all);
    drop(all);
    out.map(|o| guard.verdict(o))
}

/// [`run`] for a run that has done `done` steps already (restored from a
/// [`Checkpoint`](crate::checkpoint::Checkpoint)): steps `done + 1` to `last`, numbered so. A run
/// that reaches `last` ends with [`Stop::StepLimit`] and [`RunOutcome::steps`] = `last`. The
/// pool's other workers are kept awake through the run ([`crate::with_workers_awake`]), so the
/// steps' parallel loops do not wait for them to wake.
///
/// # Errors
/// The first error a step returns.
pub fn run_steps<S: Solver>(
    solver: &mut S,
    state: &mut S::State,
    done: usize,
    last: usize,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
) -> Result<RunOutcome, S::Error> {
    crate::with_workers_awake(|| {
        for step in done + 1..=last {
            let start = Instant::now();
            let record = on_pool(|| solver.step(state, rng))?;
            let seconds = start.elapsed().as_secs_f64();
            let stop = solver.stop(state, &record);
            let info = StepInfo { step, seconds, state: &*state, record: &record };
            let mut requested = None;
            for o in observers.iter_mut() {
                if let Flow::Stop(by) = o.observe(&info) {
                    requested.get_or_insert(by);
                }
            }
            // An outside request (Ctrl-C) ends the run after this step, once everyone has seen it.
            if requested.is_none() && crate::interrupt::requested() {
                requested = Some(crate::interrupt::BY.to_string());
            }
            if let Some(stop) = stop.or(requested.map(|by| Stop::Requested { by })) {
                return Ok(RunOutcome { steps: step, stop });
            }
        }
        Ok(RunOutcome { steps: last.max(done), stop: Stop::StepLimit })
    })
}

/// The records of a run with no other observer: [`run`] with a [`Recorder`].
///
/// # Errors
/// As [`run`].
pub fn run_recorded<S: Solver>(
    solver: &mut S,
    state: &mut S::State,
    max_steps: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(RunOutcome, Vec<S::Record>), S::Error>
where
    S::Record: Clone + Serialize + DeserializeOwned,
{
    let mut recorder = Recorder::new();
    let out = run(solver, state, max_steps, rng, &mut [&mut recorder])?;
    Ok((out, recorder.records))
}

/// A finite-check for [`Solver::stop`]: `Some(Diverged)` naming `what` when `value` is not
/// finite.
pub fn diverged_if_not_finite(what: &str, value: f64) -> Option<Stop> {
    (!value.is_finite()).then(|| Stop::Diverged { what: format!("{what} = {value}") })
}

/// Runs `step` on one of rayon's threads (it is one already when called from one, as the main
/// thread is after [`crate::join_global_pool`]): the parallel loops inside a step are then joins
/// within the pool, not jobs sent to it from outside, each of which woke a sleeping thread
/// through the kernel and waited for it (15% of a one-thread bench_mlp epoch).
fn on_pool<R: Send>(step: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| step())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Halves a number until it is below a tolerance; grows without bound when `factor` > 1.
    struct Halver {
        tolerance: f64,
        factor: f64,
    }

    impl Objective for f64 {}

    impl Solver for Halver {
        type State = f64;
        type Record = f64;
        type Error = String;
        fn name(&self) -> &'static str {
            "halver"
        }
        fn step(&mut self, x: &mut f64, _rng: &mut ChaCha8Rng) -> Result<f64, String> {
            *x *= self.factor;
            Ok(*x)
        }
        fn stop(&self, x: &f64, _r: &f64) -> Option<Stop> {
            diverged_if_not_finite("x", *x).or((*x < self.tolerance).then_some(Stop::Converged))
        }
    }

    #[test]
    fn the_driver_stops_at_convergence_or_the_limit() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // 1 -> 0.5 -> 0.25 -> 0.125 < 0.2: three steps.
        let (out, records) = run_recorded(&mut Halver { tolerance: 0.2, factor: 0.5 }, &mut 1.0, 10, &mut rng).unwrap();
        assert_eq!((out.steps, out.stop), (3, Stop::Converged));
        assert_eq!(records, vec![0.5, 0.25, 0.125]);
        let (out, _) = run_recorded(&mut Halver { tolerance: 1e-9, factor: 0.5 }, &mut 1.0, 5, &mut rng).unwrap();
        assert_eq!((out.steps, out.stop), (5, Stop::StepLimit));
    }

    #[test]
    fn divergence_is_a_reason_naming_the_value() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let (out, _) = run_recorded(&mut Halver { tolerance: 0.0, factor: 1e200 }, &mut 1.0, 10, &mut rng).unwrap();
        assert_eq!((out.steps, out.stop), (2, Stop::Diverged { what: "x = inf".into() }));
    }

    #[test]
    fn observers_see_every_step_and_can_stop_the_run() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut seen = vec![];
        let mut watch = |s: &StepInfo<'_, f64, f64>| {
            seen.push((s.step, *s.record));
            if s.step == 2 {
                Flow::Stop("a test".into())
            } else {
                Flow::Continue
            }
        };
        let mut recorder = Recorder::new();
        let out =
            run(&mut Halver { tolerance: 0.0, factor: 0.5 }, &mut 1.0, 10, &mut rng, &mut [&mut watch, &mut recorder])
                .unwrap();
        assert_eq!((out.steps, out.stop), (2, Stop::Requested { by: "a test".into() }));
        assert_eq!(seen, vec![(1, 0.5), (2, 0.25)]);
        // Every observer sees the step that stopped the run.
        assert_eq!(recorder.records, vec![0.5, 0.25]);
    }

    #[test]
    fn the_divergence_guard_trips_on_growth_and_non_finite_values_only() {
        struct Loss(f64);
        impl Objective for Loss {
            fn objective(&self) -> Option<f64> {
                Some(self.0)
            }
        }
        let watch = |values: &[f64]| -> Option<String> {
            let mut guard = DivergenceGuard::new();
            for (k, v) in values.iter().enumerate() {
                let record = Loss(*v);
                let info = StepInfo { step: k + 1, seconds: 0.0, state: &(), record: &record };
                if let Flow::Stop(_) = Observer::<(), Loss>::observe(&mut guard, &info) {
                    break;
                }
            }
            guard.tripped
        };
        assert_eq!(watch(&[0.7, 0.5, 0.1, 1e-9]), None, "a falling loss");
        assert_eq!(watch(&[1e-8, 1e-2, 0.9e6]), None, "below 1e6 times max(first, 1)");
        assert!(watch(&[0.7, 3.0, 5.9e14]).unwrap().contains("grew from 7.000000e-1 to 5.900000e14"));
        assert!(watch(&[2e3, 2.1e9]).is_some(), "1e6 times a first value above 1");
        assert!(watch(&[0.5, f64::NAN]).unwrap().contains("NaN"));
        assert!(watch(&[0.5, f64::INFINITY, 0.4]).unwrap().contains("inf"), "stops one step later");
        let out = RunOutcome { steps: 3, stop: Stop::Requested { by: "x".into() } };
        let mut guard = DivergenceGuard::new();
        assert_eq!(guard.verdict(out.clone()), out);
        guard.tripped = Some("why".into());
        assert_eq!(guard.verdict(out).stop, Stop::Diverged { what: "why".into() });
    }
}
