//! UAI: the words of a file, its factors, and writing.

use std::fmt::Write as _;

use crate::bayes::{row_fault, RowFault};
use crate::{FactorSpec, MarkovNetwork, StatesSpec, VariableSpec};

use super::*;

/// A UAI file (`MARKOV` or `BAYES`): variables named x0, x1, ... with states 0, 1, ...; each
/// function table over its scope as listed, the last variable fastest.
///
/// # Errors
/// A file that does not follow the format, with what was expected ([`FileError::Uai`]).
pub fn read_uai(text: &str) -> Result<(Vec<StatesSpec>, Vec<FactorSpec>), FileError> {
    uai_specs(text).map_err(|m| {
        let (word, message) = place(m, "word ");
        FileError::Uai { word, message }
    })
}

pub(super) fn uai_specs(text: &str) -> Result<(Vec<StatesSpec>, Vec<FactorSpec>), String> {
    let mut w = Words { words: text.split_whitespace().collect(), at: 0 };
    let kind = w.word("MARKOV or BAYES")?;
    if kind != "MARKOV" && kind != "BAYES" {
        return Err(format!("the first word is `{kind}`, not MARKOV or BAYES"));
    }
    // Every declared size is checked against the words the file holds before anything of that
    // size is allocated: a tiny file cannot ask for a huge table or state list.
    let n = w.count("the number of variables")?;
    let cards: Vec<usize> = (0..n).map(|_| w.count("a cardinality")).collect::<Result<_, _>>()?;
    let m = w.count("the number of functions")?;
    let mut scopes = vec![];
    for f in 0..m {
        let k = w.count("a scope size")?;
        let scope: Vec<usize> = (0..k).map(|_| w.int("a variable index")).collect::<Result<_, _>>()?;
        if let Some(&v) = scope.iter().find(|&&v| v >= n) {
            return Err(format!("function {f}: variable {v} of {n}"));
        }
        scopes.push(scope);
    }
    let mut factors = vec![];
    for (f, scope) in scopes.into_iter().enumerate() {
        let size = w.count("a table size")?;
        let expected = scope.iter().try_fold(1usize, |n, &v| n.checked_mul(cards[v]));
        if expected != Some(size) {
            let states = expected.map_or_else(|| "more than 2^64".to_string(), |e| e.to_string());
            return Err(format!("function {f}: table of {size} entries for a scope of {states} states"));
        }
        let values: Vec<f64> = (0..size).map(|_| w.real("a table entry")).collect::<Result<_, _>>()?;
        if kind == "BAYES" {
            bayes_rows(f, &scope, &cards, &values)?;
        }
        factors.push(FactorSpec { variables: scope.iter().map(|v| format!("x{v}")).collect(), values });
    }
    if let Some(extra) = w.words.get(w.at) {
        return Err(format!("word {}: `{extra}` after the last table (the file should end there)", w.at + 1));
    }
    let variables = cards
        .iter()
        .enumerate()
        .map(|(v, &k)| StatesSpec { name: format!("x{v}"), states: (0..k).map(|s| s.to_string()).collect() })
        .collect();
    Ok((variables, factors))
}

/// A UAI `BAYES` file as a Bayesian network's variables: each function is P(child | parents)
/// with the child last in its scope, so the child's parents are the rest of the scope, in order;
/// every variable has exactly one function. Variables are named x0, x1, ... with states 0, 1, ...
///
/// # Errors
/// As [`read_uai`]; a `MARKOV` file; a variable with no table or with two.
pub fn read_uai_bayes(text: &str) -> Result<Vec<VariableSpec>, FileError> {
    let fault = |message: String| FileError::Uai { word: None, message };
    if text.split_whitespace().next() != Some("BAYES") {
        return Err(fault("a Bayesian network needs a BAYES file (a MARKOV file is a Markov network)".into()));
    }
    let (variables, factors) = read_uai(text)?;
    let mut specs: Vec<Option<VariableSpec>> = vec![None; variables.len()];
    for (f, factor) in factors.into_iter().enumerate() {
        let (child, parents) = factor.variables.split_last().expect("internal: BAYES tables have a child");
        let v: usize = child[1..].parse().expect("internal: variables are named x0, x1, ...");
        if specs[v].is_some() {
            return Err(fault(format!("function {f}: {child} already has a table (one per variable)")));
        }
        let states = variables[v].states.clone();
        let cpt = factor.values.chunks(states.len()).map(<[f64]>::to_vec).collect();
        specs[v] = Some(VariableSpec { name: child.clone(), states, parents: parents.to_vec(), cpt });
    }
    specs
        .into_iter()
        .enumerate()
        .map(|(v, spec)| spec.ok_or_else(|| fault(format!("x{v} has no table (a BAYES file gives one per variable)"))))
        .collect()
}

/// Checks a `BAYES` table: P(child | parents) with the child last in its scope (the fastest
/// index), so each run of `cards[child]` entries is one row, a distribution by the rule BIF and
/// TOML tables follow ([`row_fault`]).
pub(super) fn bayes_rows(f: usize, scope: &[usize], cards: &[usize], values: &[f64]) -> Result<(), String> {
    let Some(&child) = scope.last() else { return Err(format!("function {f}: a BAYES table needs a child")) };
    for (r, row) in values.chunks(cards[child].max(1)).enumerate() {
        match row_fault(row) {
            Some(RowFault::Entry(p)) => {
                return Err(format!("function {f} (child x{child}): row {}: the entry {p} is not a probability", r + 1))
            }
            Some(RowFault::Sum(sum)) => {
                return Err(format!(
                    "function {f} (child x{child}): row {} sums to {sum}, not 1: a BAYES table holds P(child | parents) (use MARKOV for unnormalised factors)",
                    r + 1
                ))
            }
            None => {}
        }
    }
    Ok(())
}

/// The words of a UAI file, read in order.
pub(super) struct Words<'a> {
    words: Vec<&'a str>,
    at: usize,
}

impl<'a> Words<'a> {
    fn word(&mut self, what: &str) -> Result<&'a str, String> {
        self.at += 1;
        self.words
            .get(self.at - 1)
            .copied()
            .ok_or_else(|| format!("the file ends where {what} was expected (word {})", self.at))
    }

    fn int(&mut self, what: &str) -> Result<usize, String> {
        let w = self.word(what)?;
        w.parse().map_err(|_| format!("word {}: `{w}` is not {what}", self.at))
    }

    /// A count of things the file must then list (variables, states, entries): at most the
    /// words the file holds, so no declared size can be larger than the file.
    fn count(&mut self, what: &str) -> Result<usize, String> {
        let n = self.int(what)?;
        if n > self.words.len() {
            return Err(format!(
                "word {}: {what} of {n}, more than the file's {} words could ever describe",
                self.at,
                self.words.len()
            ));
        }
        Ok(n)
    }

    fn real(&mut self, what: &str) -> Result<f64, String> {
        let w = self.word(what)?;
        w.parse().map_err(|_| format!("word {}: `{w}` is not {what}", self.at))
    }
}

/// The network as a UAI `MARKOV` file (names and state names are not part of the format).
pub fn write_uai(net: &MarkovNetwork) -> String {
    let mut out = format!("MARKOV\n{}\n", net.cards.len());
    out += &net.cards.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ");
    let _ = write!(out, "\n{}\n", net.factors.len());
    for f in &net.factors {
        let _ =
            writeln!(out, "{} {}", f.vars.len(), f.vars.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "));
    }
    for f in &net.factors {
        let _ = write!(
            out,
            "\n{}\n{}\n",
            f.values.len(),
            f.values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(" ")
        );
    }
    out
}
