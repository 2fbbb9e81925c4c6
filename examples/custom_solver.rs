//! A solver of your own driven by `cg_core::run`: gradient descent with momentum on the
//! Rosenbrock function, an observer that keeps the objective and stops the run once it is
//! below 1e-10, and the driver's divergence guard watching the objective.

use cg_core::solver::Objective;
use cg_core::{Flow, Observer, Solver, StepInfo};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// f(x, y) = (1 - x)² + 100 (y - x²)², minimum 0 at (1, 1).
fn rosenbrock(p: [f64; 2]) -> (f64, [f64; 2]) {
    let [x, y] = p;
    let f = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
    (f, [-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])
}

struct Momentum {
    rate: f64,
    beta: f64,
}

/// The point and its velocity.
struct Point {
    p: [f64; 2],
    v: [f64; 2],
}

/// What a step reports: the objective before the step (the driver watches it for divergence).
struct Record {
    f: f64,
}

impl Objective for Record {
    fn objective(&self) -> Option<f64> {
        Some(self.f)
    }
}

impl Solver for Momentum {
    type State = Point;
    type Record = Record;
    type Error = std::convert::Infallible;

    fn name(&self) -> &'static str {
        "momentum"
    }

    fn step(&mut self, s: &mut Point, _rng: &mut ChaCha8Rng) -> Result<Record, Self::Error> {
        let (f, g) = rosenbrock(s.p);
        for k in 0..2 {
            s.v[k] = self.beta * s.v[k] - self.rate * g[k];
            s.p[k] += s.v[k];
        }
        Ok(Record { f })
    }
}

/// Keeps every objective; asks to stop below `target`.
struct Curve {
    values: Vec<f64>,
    target: f64,
}

impl Observer<Point, Record> for Curve {
    fn observe(&mut self, step: &StepInfo<'_, Point, Record>) -> Flow {
        self.values.push(step.record.f);
        if step.record.f < self.target {
            Flow::Stop(format!("objective below {}", self.target))
        } else {
            Flow::Continue
        }
    }
}

fn main() {
    let mut solver = Momentum { rate: 1e-3, beta: 0.9 };
    let mut point = Point { p: [-1.2, 1.0], v: [0.0; 2] };
    let mut curve = Curve { values: vec![], target: 1e-10 };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let outcome = match cg_core::run(&mut solver, &mut point, 100_000, &mut rng, &mut [&mut curve]) {
        Ok(outcome) => outcome,
        Err(never) => match never {},
    };
    println!(
        "{} steps ({}): (x, y) = ({:.6}, {:.6}), f from {:.3} to {:.3e}",
        outcome.steps,
        outcome.stop,
        point.p[0],
        point.p[1],
        curve.values[0],
        curve.values.last().copied().unwrap_or(f64::NAN)
    );
    assert!((point.p[0] - 1.0).abs() < 1e-4 && (point.p[1] - 1.0).abs() < 1e-4);
}
