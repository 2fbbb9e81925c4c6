//! One trait for iterative solvers (Hopfield recall, Gibbs sampling, SOM training, ...) and the
//! driver that owns their loop, so that iteration limits, seeding, recording and stopping behave
//! the same everywhere.

use rand_chacha::ChaCha8Rng;

/// The numbers a step reports, by name, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics(pub Vec<(&'static str, f64)>);

impl Metrics {
    /// The value recorded under `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| *n == name).map(|&(_, v)| v)
    }
}

/// An iterative solver. What changes while it runs lives in `State`, apart from the solver's
/// settings, so a run can be inspected or resumed.
pub trait Solver {
    type State;
    type Error;

    /// The algorithm's name, for records.
    fn name(&self) -> &'static str;

    /// One sweep, epoch or step; returns the numbers worth recording (energy, changes, ...).
    ///
    /// # Errors
    /// Whatever the solver finds wrong (a non-finite number, for instance).
    fn step(&mut self, state: &mut Self::State, rng: &mut ChaCha8Rng) -> Result<Metrics, Self::Error>;

    /// Whether the run may stop after a step that reported `metrics`.
    fn converged(&self, _state: &Self::State, _metrics: &Metrics) -> bool {
        false
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// Steps taken.
    pub steps: usize,
    /// Whether [`Solver::converged`] stopped the run (rather than the step limit).
    pub converged: bool,
    /// The metrics of every step, in order.
    pub records: Vec<Metrics>,
}

/// Runs `solver` from `state` for at most `max_steps` steps, stopping early when it converges.
///
/// # Errors
/// The first error a step returns.
pub fn run<S: Solver>(
    solver: &mut S,
    state: &mut S::State,
    max_steps: usize,
    rng: &mut ChaCha8Rng,
) -> Result<RunOutcome, S::Error> {
    let mut records = Vec::new();
    for step in 1..=max_steps {
        let metrics = solver.step(state, rng)?;
        let done = solver.converged(state, &metrics);
        records.push(metrics);
        if done {
            return Ok(RunOutcome { steps: step, converged: true, records });
        }
    }
    Ok(RunOutcome { steps: max_steps, converged: false, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Halves a number until it is below a tolerance.
    struct Halver(f64);

    impl Solver for Halver {
        type State = f64;
        type Error = String;
        fn name(&self) -> &'static str {
            "halver"
        }
        fn step(&mut self, x: &mut f64, _rng: &mut ChaCha8Rng) -> Result<Metrics, String> {
            *x /= 2.0;
            Ok(Metrics(vec![("x", *x)]))
        }
        fn converged(&self, x: &f64, _m: &Metrics) -> bool {
            *x < self.0
        }
    }

    #[test]
    fn the_driver_stops_at_convergence_or_the_limit() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // 1 -> 0.5 -> 0.25 -> 0.125 < 0.2: three steps.
        let out = run(&mut Halver(0.2), &mut 1.0, 10, &mut rng).unwrap();
        assert_eq!((out.steps, out.converged), (3, true));
        assert_eq!(out.records[2].get("x"), Some(0.125));
        let out = run(&mut Halver(1e-9), &mut 1.0, 5, &mut rng).unwrap();
        assert_eq!((out.steps, out.converged), (5, false));
    }
}
