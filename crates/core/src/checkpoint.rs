//! Stopping a run between two steps and continuing it later with the same numbers, bit for bit.
//!
//! Everything that carries over from one step to the next saves itself into a [`Snapshot`]: the
//! solver's state ([`Resumable`]), each observer's memory ([`Observer::save`]: recorded curves,
//! a monitor's own random stream) and the run's random stream ([`RngPosition`]). A
//! [`Checkpoint`] is those snapshots and the number of steps done; [`save`] takes one after a
//! run, [`restore`] puts one back before [`run_steps`](crate::run_steps) continues.
//!
//! What is rebuilt from the config (data, schedules, the network's shape) is not saved: the
//! caller builds the run again exactly as before, then restores.

use std::collections::BTreeMap;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::solver::{Observer, Solver};

/// A saved state that does not fit the run it is restored into.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("checkpoint: {0}")]
pub struct SnapshotError(pub String);

/// An array of a snapshot, row-major. Values are kept as f64, which holds every f32 exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The numbers, row-major.
    pub data: Vec<f64>,
}

/// The saved state of one part of a run: named arrays (parameters, moments, chains) and named
/// small values (counters, orders, records) as JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Named arrays of numbers (weights, states).
    pub tensors: BTreeMap<String, Tensor>,
    /// Everything else, as JSON.
    pub values: BTreeMap<String, serde_json::Value>,
}

impl Snapshot {
    /// Saves an array under `name`.
    pub fn put_tensor(&mut self, name: &str, shape: Vec<usize>, data: impl IntoIterator<Item = f64>) {
        self.tensors.insert(name.to_string(), Tensor { shape, data: data.into_iter().collect() });
    }

    /// The array saved as `name`, which must hold `len` values.
    ///
    /// # Errors
    /// No such array, or another length.
    pub fn tensor(&self, name: &str, len: usize) -> Result<&[f64], SnapshotError> {
        let t = self.tensors.get(name).ok_or_else(|| SnapshotError(format!("no array `{name}`")))?;
        if t.data.len() != len {
            return Err(SnapshotError(format!("array `{name}` has {} values where this run has {len}", t.data.len())));
        }
        Ok(&t.data)
    }

    /// Copies the array saved as `name` into `into` (of the same length).
    ///
    /// # Errors
    /// As [`Snapshot::tensor`].
    pub fn copy_into(&self, name: &str, into: &mut [f64]) -> Result<(), SnapshotError> {
        into.copy_from_slice(self.tensor(name, into.len())?);
        Ok(())
    }

    /// Saves a small value under `name`.
    ///
    /// # Panics
    /// If `value` cannot be written as JSON (a map with non-string keys): a programming error.
    pub fn put<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        let json = serde_json::to_value(value).expect("internal: snapshot values are plain data");
        self.values.insert(name.to_string(), json);
    }

    /// The value saved as `name`.
    ///
    /// # Errors
    /// No such value, or one of another type.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, SnapshotError> {
        let v = self.values.get(name).ok_or_else(|| SnapshotError(format!("no value `{name}`")))?;
        T::deserialize(v).map_err(|e| SnapshotError(format!("value `{name}`: {e}")))
    }
}

/// A solver whose state can be saved between two steps and restored into a freshly started
/// state of the same run.
pub trait Resumable: Solver {
    /// Everything in `state` that the next step reads and a fresh start would not rebuild.
    fn save(&self, state: &Self::State, into: &mut Snapshot);

    /// Puts a saved state into `state`, which the caller started exactly as the saved run was.
    ///
    /// # Errors
    /// A snapshot of another shape of run.
    fn restore(&self, state: &mut Self::State, from: &Snapshot) -> Result<(), SnapshotError>;
}

/// Where a ChaCha8 stream is: its key, stream number and word position. Restoring it continues
/// with the very numbers the saved stream would have drawn next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngPosition {
    /// The 32-byte key, hexadecimal.
    pub seed: String,
    /// The ChaCha stream number.
    pub stream: u64,
    /// The position in 32-bit words (a u128, written as decimal text: JSON numbers stop at 2^53).
    pub word_pos: String,
}

impl RngPosition {
    /// The position of `rng`.
    pub fn of(rng: &ChaCha8Rng) -> RngPosition {
        RngPosition {
            seed: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    /// The stream at this position.
    ///
    /// # Errors
    /// A malformed key or position.
    pub fn rng(&self) -> Result<ChaCha8Rng, SnapshotError> {
        let bad = || SnapshotError(format!("malformed random stream position {self:?}"));
        if self.seed.len() != 64 || !self.seed.is_ascii() {
            return Err(bad());
        }
        let mut seed = [0u8; 32];
        for (k, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&self.seed[2 * k..2 * k + 2], 16).map_err(|_| bad())?;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse().map_err(|_| bad())?);
        Ok(rng)
    }
}

/// A run stopped between two steps: the steps done, the run's random stream, the solver's state
/// and each observer's, in the order the observers were attached.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Steps completed.
    pub steps: usize,
    /// Where the random stream stands.
    pub rng: RngPosition,
    /// The solver's state.
    pub solver: Snapshot,
    /// Each observer's state, in order.
    pub observers: Vec<Snapshot>,
}

/// Saves a run after `steps` steps.
pub fn save<S: Resumable>(
    solver: &S,
    state: &S::State,
    steps: usize,
    rng: &ChaCha8Rng,
    observers: &[&mut dyn Observer<S::State, S::Record>],
) -> Checkpoint {
    let mut snapshot = Snapshot::default();
    solver.save(state, &mut snapshot);
    let observers = observers
        .iter()
        .map(|o| {
            let mut s = Snapshot::default();
            o.save(&mut s);
            s
        })
        .collect();
    Checkpoint { steps, rng: RngPosition::of(rng), solver: snapshot, observers }
}

/// Restores a saved run into a run started afresh the same way (same solver, state from the
/// solver's start, observers attached in the same order); returns the steps already done.
///
/// # Errors
/// A checkpoint of another run: another number of observers, or snapshots that do not fit.
pub fn restore<S: Resumable>(
    solver: &S,
    state: &mut S::State,
    rng: &mut ChaCha8Rng,
    observers: &mut [&mut dyn Observer<S::State, S::Record>],
    from: &Checkpoint,
) -> Result<usize, SnapshotError> {
    if from.observers.len() != observers.len() {
        return Err(SnapshotError(format!(
            "saved with {} observers, this run has {}",
            from.observers.len(),
            observers.len()
        )));
    }
    solver.restore(state, &from.solver)?;
    for (o, s) in observers.iter_mut().zip(&from.observers) {
        o.restore(s)?;
    }
    *rng = from.rng.rng()?;
    Ok(from.steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn a_restored_stream_draws_what_the_saved_one_would() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        rng.set_stream(3);
        for _ in 0..13 {
            let _: u32 = rng.random();
        }
        let position = RngPosition::of(&rng);
        let json = serde_json::to_string(&position).unwrap();
        let mut back = serde_json::from_str::<RngPosition>(&json).unwrap().rng().unwrap();
        let (a, b): (Vec<u64>, Vec<u64>) =
            ((0..50).map(|_| rng.random()).collect(), (0..50).map(|_| back.random()).collect());
        assert_eq!(a, b);
        let bad = RngPosition { seed: "zz".into(), ..position };
        assert!(bad.rng().is_err());
    }

    #[test]
    fn snapshot_values_and_arrays_come_back_or_say_what_is_wrong() {
        let mut s = Snapshot::default();
        s.put("order", &vec![2usize, 0, 1]);
        s.put_tensor("w", vec![2], [0.1, f64::from(0.3f32)]);
        assert_eq!(s.get::<Vec<usize>>("order").unwrap(), vec![2, 0, 1]);
        let mut w = [0.0; 2];
        s.copy_into("w", &mut w).unwrap();
        assert_eq!(w, [0.1, f64::from(0.3f32)]);
        assert_eq!(
            s.copy_into("w", &mut [0.0; 3]).unwrap_err().to_string(),
            "checkpoint: array `w` has 2 values where this run has 3"
        );
        assert!(s.get::<String>("order").unwrap_err().to_string().starts_with("checkpoint: value `order`"));
        assert_eq!(s.get::<u8>("none").unwrap_err().to_string(), "checkpoint: no value `none`");
    }
}
