//! Reading a config file: TOML syntax, then the `kind`, then the kind's own fields. Reading never
//! runs anything; every error is one line that says where the problem is.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;

use crate::best_fit::{BestFitExperiment, BestFitFile};
use crate::boltzmann::{BoltzmannExperiment, BoltzmannFile, RbmExperiment, RbmFile};
use crate::graph::{GraphConfig, GraphParams};
use crate::hopfield::{CapacityExperiment, CapacityFile, DigitsExperiment, DigitsFile, TspExperiment, TspFile};
use crate::mlp::{MlpExperiment, MlpFile};
use crate::pgm::{BayesNetFile, DiscreteExperiment, IsingExperiment, IsingFile, MarkovNetFile};
use crate::rnn::{RnnExperiment, RnnFile};
use crate::som::{SomExperiment, SomFile};
use crate::svd::{SvdExperiment, SvdFile};

/// A validated experiment, ready to run.
pub enum Experiment {
    Graph(Box<GraphParams>),
    Mlp(Box<MlpExperiment>),
    HopfieldDigits(Box<DigitsExperiment>),
    HopfieldCapacity(Box<CapacityExperiment>),
    HopfieldTsp(Box<TspExperiment>),
    Rnn(Box<RnnExperiment>),
    Svd(Box<SvdExperiment>),
    Som(Box<SomExperiment>),
    BestFit(Box<BestFitExperiment>),
    Rbm(Box<RbmExperiment>),
    Boltzmann(Box<BoltzmannExperiment>),
    Discrete(Box<DiscreteExperiment>),
    Ising(Box<IsingExperiment>),
}

/// The kinds this binary knows, for the error on an unknown one.
const KINDS: &[&str] = &[
    "graph",
    "mlp",
    "rnn",
    "svd",
    "hopfield_digits",
    "hopfield_capacity",
    "hopfield_tsp",
    "som",
    "best_fit",
    "rbm",
    "boltzmann",
    "bayes_net",
    "markov_net",
    "ising",
];

/// Reads and validates the config at `path`.
///
/// # Errors
/// A missing or unreadable file, malformed TOML (with line and column), an unknown kind or field,
/// or a value that fails validation (naming the field).
pub fn load(path: &Path) -> Result<Experiment> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
}

/// Parses and validates config text; data paths are relative to `base`.
///
/// # Errors
/// As [`load`], without the file part.
pub fn parse(text: &str, base: &Path) -> Result<Experiment> {
    let table: toml::Table = toml::from_str(text).map_err(|e| located(text, &e))?;
    let kind = match table.get("kind") {
        Some(toml::Value::String(kind)) => kind.as_str(),
        Some(_) => bail!("kind: must be a string, one of {}", KINDS.join(", ")),
        None => bail!("kind: missing; one of {}", KINDS.join(", ")),
    };
    match kind {
        "graph" => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct File {
                #[allow(dead_code)]
                kind: String,
                graph: GraphConfig,
            }
            let file: File = typed(text)?;
            Ok(Experiment::Graph(Box::new(file.graph.validate()?)))
        }
        "mlp" => {
            let file: MlpFile = typed(text)?;
            Ok(Experiment::Mlp(Box::new(file.validate(base)?)))
        }
        "hopfield_digits" => Ok(Experiment::HopfieldDigits(Box::new(typed::<DigitsFile>(text)?.validate(base)?))),
        "hopfield_capacity" => Ok(Experiment::HopfieldCapacity(Box::new(typed::<CapacityFile>(text)?.validate()?))),
        "rnn" => Ok(Experiment::Rnn(Box::new(typed::<RnnFile>(text)?.validate()?))),
        "svd" => Ok(Experiment::Svd(Box::new(typed::<SvdFile>(text)?.validate(base)?))),
        "hopfield_tsp" => Ok(Experiment::HopfieldTsp(Box::new(typed::<TspFile>(text)?.validate()?))),
        "som" => Ok(Experiment::Som(Box::new(typed::<SomFile>(text)?.validate(base)?))),
        "best_fit" => Ok(Experiment::BestFit(Box::new(typed::<BestFitFile>(text)?.validate()?))),
        "rbm" => Ok(Experiment::Rbm(Box::new(typed::<RbmFile>(text)?.validate(base)?))),
        "boltzmann" => Ok(Experiment::Boltzmann(Box::new(typed::<BoltzmannFile>(text)?.validate()?))),
        "bayes_net" => Ok(Experiment::Discrete(Box::new(typed::<BayesNetFile>(text)?.validate()?))),
        "markov_net" => Ok(Experiment::Discrete(Box::new(typed::<MarkovNetFile>(text)?.validate()?))),
        "ising" => Ok(Experiment::Ising(Box::new(typed::<IsingFile>(text)?.validate()?))),
        other => bail!("kind: unknown kind `{other}`; known kinds: {}", KINDS.join(", ")),
    }
}

fn typed<T: DeserializeOwned>(text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| located(text, &e))
}

/// `line L, column C: message` on one line.
fn located(text: &str, e: &toml::de::Error) -> anyhow::Error {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            anyhow!("line {line}, column {column}: {message}")
        }
        None => anyhow!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        format!("{:#}", parse(text, Path::new(".")).err().unwrap())
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = err("kind = \"graph\"\n[graph\n");
        assert!(e.starts_with("line 2, column"), "{e}");
    }

    #[test]
    fn unknown_kind_lists_the_known_ones() {
        assert_eq!(
            err("kind = \"hopfeld\""),
            "kind: unknown kind `hopfeld`; known kinds: graph, mlp, rnn, svd, hopfield_digits, hopfield_capacity, hopfield_tsp, som, best_fit, rbm, boltzmann, bayes_net, markov_net, ising"
        );
        assert_eq!(
            err("x = 1"),
            "kind: missing; one of graph, mlp, rnn, svd, hopfield_digits, hopfield_capacity, hopfield_tsp, som, best_fit, rbm, boltzmann, bayes_net, markov_net, ising"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_place() {
        let e = err("kind = \"graph\"\n[graph]\noutputs = [\"y\"]\nnodez = 3\n[graph.nodes]\ny = \"1\"\n");
        assert!(e.starts_with("line 4, column 1: unknown field `nodez`"), "{e}");
    }
}
