//! The registry of model kinds. Each module reads one kind's config (a serde `*File`), validates
//! it into an experiment, calls its library and renders the results; [`KINDS`] lists them all,
//! and the config loader, `--help`, `experiments kinds` and the tests read that list.
//!
//! Adding a kind here: its library crate, one module implementing [`KindConfig`], one line in
//! [`KINDS`], a config under `configs/` and its stored results under `results/`. Adding one
//! from another crate: implement [`KindConfig`] there, and give its binary
//! `experiments::main_with(&[&Entry::<MyConfig>::NEW])` (`examples/external-kind` does).

use std::marker::PhantomData;
use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;

use cg_data::Table;

use crate::predict::{Predictions, SavedModel};
use crate::{Cost, Outcome, RunOptions};

pub mod bayes_net;
pub mod best_fit;
pub mod bn_learn;
pub mod boltzmann;
mod discrete;
pub mod graph;
pub mod hopfield_capacity;
pub mod hopfield_digits;
pub mod hopfield_tsp;
pub mod ising;
pub mod markov_net;
pub mod mlp;
pub mod model;
pub mod rbm;
pub mod rnn;
pub mod som;
pub mod svd;
mod training;

/// Every kind, in the order `--help` and `experiments kinds` list them.
pub static KINDS: &[&dyn Kind] = &[
    &Entry::<graph::GraphFile>::NEW,
    &Entry::<mlp::MlpFile>::NEW,
    &Entry::<model::ModelFile>::NEW,
    &Entry::<rnn::RnnFile>::NEW,
    &Entry::<svd::SvdFile>::NEW,
    &Entry::<hopfield_digits::DigitsFile>::NEW,
    &Entry::<hopfield_capacity::CapacityFile>::NEW,
    &Entry::<hopfield_tsp::TspFile>::NEW,
    &Entry::<som::SomFile>::NEW,
    &Entry::<best_fit::BestFitFile>::NEW,
    &Entry::<rbm::RbmFile>::NEW,
    &Entry::<boltzmann::BoltzmannFile>::NEW,
    &Entry::<bayes_net::BayesNetFile>::NEW,
    &Entry::<bn_learn::BnLearnFile>::NEW,
    &Entry::<markov_net::MarkovNetFile>::NEW,
    &Entry::<ising::IsingFile>::NEW,
];

/// Bytes of an f64, for the cost estimates.
pub(crate) const F64: f64 = 8.0;

/// A validated experiment, ready to run.
pub trait Experiment {
    /// Runs and renders every result file in memory; writes nothing.
    ///
    /// # Errors
    /// A failure while running (a non-finite number, data that does not fit), naming the place.
    fn run(&self, title: &str, options: &RunOptions) -> Result<Outcome>;

    /// The memory and work the run will need, from its settings alone (checked against
    /// `--max-memory` and `--max-work` before it starts).
    fn cost(&self) -> Cost;
}

/// What a kind's module provides: the whole config file as a serde type, and its validation.
pub trait KindConfig: DeserializeOwned + schemars::JsonSchema + 'static {
    /// The config's `kind = "..."`.
    const NAME: &'static str;
    /// One line for `--help` and `experiments kinds`.
    const SUMMARY: &'static str;
    /// Whether its training loop can stop after N steps and resume (`--stop-after`, `--resume`):
    /// the experiment drives it through `resume::drive`.
    const RESUMABLE: bool = false;
    /// The config key (dotted) that only says when the training loop stops, not how it runs:
    /// a finished run that kept its state may be resumed with a larger value, and ends as the
    /// run made with that value from the start. `None` when the budget shapes the run (a
    /// schedule that shrinks over the epochs).
    const BUDGET: Option<&'static str> = None;
    /// Whether a saved model of this kind can be applied to new rows (`experiments predict`).
    const PREDICTS: bool = false;
    /// A reference printed after the fields by `explain` (the model language's functions).
    const REFERENCE: Option<fn() -> String> = None;
    /// The experiment a config builds.
    type Experiment: Experiment + 'static;

    /// Checks every field and loads what the run needs (data paths relative to `base`).
    ///
    /// # Errors
    /// The first bad setting, naming its table and field, or a data file problem.
    fn validate(self, base: &Path) -> Result<Self::Experiment>;

    /// Applies a saved model of this kind to the rows of `data` (for kinds with `PREDICTS`).
    ///
    /// # Errors
    /// A model or data that do not fit.
    fn predict(_model: &SavedModel, _data: &Table) -> Result<Predictions> {
        anyhow::bail!("kind `{}` has no predictions for new rows", Self::NAME)
    }
}

/// A kind as the registry sees it.
pub trait Kind: Sync {
    /// The name written as `kind = "..."`.
    fn name(&self) -> &'static str;
    /// One line saying what the kind does.
    fn summary(&self) -> &'static str;
    /// Whether `--stop-after` and `--resume` work.
    fn resumable(&self) -> bool;
    /// [`KindConfig::BUDGET`].
    fn budget(&self) -> Option<&'static str>;
    /// Whether `predict` works on its results.
    fn predicts(&self) -> bool;
    /// The JSON Schema of the kind's config ([`crate::schema::of`]).
    fn schema(&self) -> serde_json::Value;
    /// [`KindConfig::predict`].
    ///
    /// # Errors
    /// As the kind's `predict`.
    fn predict(&self, model: &SavedModel, data: &Table) -> Result<Predictions>;
    /// Parses and validates config text (data paths relative to `base`).
    ///
    /// # Errors
    /// Malformed TOML or an unknown field (with line and column), or a validation error.
    fn load(&self, text: &str, base: &Path) -> Result<Box<dyn Experiment>>;
    /// [`KindConfig::REFERENCE`], written out.
    fn reference(&self) -> Option<String> {
        None
    }
}

/// The registry entry of a [`KindConfig`].
pub struct Entry<C>(PhantomData<fn() -> C>);

impl<C> Entry<C> {
    /// The entry.
    pub const NEW: Entry<C> = Entry(PhantomData);
}

impl<C: KindConfig> Kind for Entry<C> {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn summary(&self) -> &'static str {
        C::SUMMARY
    }

    fn resumable(&self) -> bool {
        C::RESUMABLE
    }

    fn budget(&self) -> Option<&'static str> {
        C::BUDGET
    }

    fn predicts(&self) -> bool {
        C::PREDICTS
    }

    fn predict(&self, model: &SavedModel, data: &Table) -> Result<Predictions> {
        C::predict(model, data)
    }

    fn schema(&self) -> serde_json::Value {
        crate::schema::of::<C>()
    }

    fn load(&self, text: &str, base: &Path) -> Result<Box<dyn Experiment>> {
        let file: C = crate::config::typed(text)?;
        Ok(Box::new(file.validate(base)?))
    }

    fn reference(&self) -> Option<String> {
        C::REFERENCE.map(|r| r())
    }
}

/// Kinds added from outside the crate ([`register`]).
static EXTERNAL: std::sync::OnceLock<Vec<&'static dyn Kind>> = std::sync::OnceLock::new();

/// Adds kinds defined outside this crate, after the built-in ones; once per process, before any
/// config is read ([`crate::main_with`] does it). Registering nothing is always allowed.
///
/// # Errors
/// A name that is already a kind (built-in or given twice), or a second registration of
/// different kinds.
pub fn register(extra: &[&'static dyn Kind]) -> Result<()> {
    if extra.is_empty() {
        return Ok(());
    }
    let mut seen: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
    for k in extra {
        if seen.contains(&k.name()) {
            anyhow::bail!(
                "kind `{}` is registered twice (a built-in kind has that name, or it is given twice)",
                k.name()
            );
        }
        seen.push(k.name());
    }
    let set = EXTERNAL.get_or_init(|| extra.to_vec());
    let same = set.len() == extra.len() && set.iter().zip(extra).all(|(a, b)| a.name() == b.name());
    if !same {
        anyhow::bail!("kinds from outside are registered once per process");
    }
    Ok(())
}

/// Every kind: the built-in ones ([`KINDS`]), then those [`register`]ed.
pub fn all() -> Vec<&'static dyn Kind> {
    KINDS.iter().copied().chain(EXTERNAL.get().into_iter().flatten().copied()).collect()
}

/// The kind named `name`.
pub fn find(name: &str) -> Option<&'static dyn Kind> {
    all().into_iter().find(|k| k.name() == name)
}

/// Every kind's name, comma-separated, for error messages.
pub fn names() -> String {
    all().iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_summaries_one_line() {
        let mut seen = std::collections::HashSet::new();
        for k in KINDS {
            assert!(seen.insert(k.name()), "{} listed twice", k.name());
            assert!(!k.summary().is_empty() && !k.summary().contains('\n'), "{}", k.name());
        }
    }

    #[test]
    fn a_kind_from_outside_may_not_take_a_built_in_name() {
        static AGAIN: Entry<svd::SvdFile> = Entry::NEW;
        let e = register(&[&AGAIN]).unwrap_err().to_string();
        assert!(e.contains("kind `svd` is registered twice"), "{e}");
        assert!(register(&[]).is_ok());
        assert_eq!(all().len(), KINDS.len());
    }
}
