//! One-line questions to a Bayesian network: `P(lung | smoke = yes, xray = yes)`, a joint
//! `P(a, b | e = x)`, or the most probable states `MAP(a, b | e = x)` (`MAP(* | ...)`: every
//! unobserved variable, the MPE).

use std::fmt;

use crate::{BayesianNetwork, Error, Result};

/// A parsed question, by names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// Probabilities or the most probable states.
    pub form: Form,
    /// The variables asked about; empty for `MAP(* | ...)` (all unobserved ones).
    pub targets: Vec<String>,
    /// The observed (variable, state) pairs.
    pub evidence: Vec<(String, String)>,
}

/// What is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `P(...)`: the (joint) distribution of the targets.
    Probability,
    /// `MAP(...)`: their most probable joint state.
    Map,
}

impl std::str::FromStr for Question {
    type Err = Error;

    /// ```
    /// use cg_pgm::Question;
    /// let q: Question = "P(lung | smoke = yes, xray=yes)".parse().unwrap();
    /// assert_eq!(q.targets, ["lung"]);
    /// assert_eq!(q.evidence[1], ("xray".to_string(), "yes".to_string()));
    /// assert!("P(lung | smoke)".parse::<Question>().unwrap_err().to_string().contains("`smoke`"));
    /// ```
    fn from_str(text: &str) -> Result<Question> {
        let bad = |why: String| Error::Query(format!("`{text}`: {why}"));
        let t = text.trim();
        let (form, inner) = if let Some(rest) = t.strip_prefix("MAP(").or_else(|| t.strip_prefix("map(")) {
            (Form::Map, rest)
        } else if let Some(rest) = t.strip_prefix("P(").or_else(|| t.strip_prefix("p(")) {
            (Form::Probability, rest)
        } else {
            return Err(bad("a question is P(target, ... | variable = state, ...) or MAP(target, ... | ...)".into()));
        };
        let inner = inner.strip_suffix(')').ok_or_else(|| bad("no closing `)`".into()))?;
        let (asked, given) = inner.split_once('|').unwrap_or((inner, ""));
        let mut targets: Vec<String> =
            asked.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if targets == ["*"] && form == Form::Map {
            targets.clear();
        } else if targets.is_empty() || targets.iter().any(|s| s == "*") {
            return Err(bad("name the variables asked about (`*` only as MAP(* | ...))".into()));
        }
        let evidence = given
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (v, s) = pair.split_once('=').ok_or_else(|| bad(format!("`{pair}` is not `variable = state`")))?;
                Ok((v.trim().to_string(), s.trim().to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Question { form, targets, evidence })
    }
}

/// The answer to a [`Question`].
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Each joint state of the targets (their states' names) with its probability.
    Distribution {
        /// The targets, as asked.
        variables: Vec<String>,
        /// (states, probability), the last target varying fastest.
        rows: Vec<(Vec<String>, f64)>,
    },
    /// The most probable joint state.
    Map {
        /// (variable, state) for each target.
        states: Vec<(String, String)>,
        /// Its probability given the evidence.
        probability: f64,
    },
}

impl fmt::Display for Answer {
    /// One line per state: `lung = yes  0.6387...` (the shortest decimal that reads back
    /// exactly).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Distribution { variables, rows } => {
                let cells: Vec<String> = rows
                    .iter()
                    .map(|(states, _)| {
                        variables.iter().zip(states).map(|(v, s)| format!("{v} = {s}")).collect::<Vec<_>>().join(", ")
                    })
                    .collect();
                let width = cells.iter().map(|c| c.chars().count()).max().unwrap_or(0);
                for (cell, (_, p)) in cells.iter().zip(rows) {
                    writeln!(f, "{cell:width$}  {p}")?;
                }
                Ok(())
            }
            Answer::Map { states, probability } => {
                let cell = states.iter().map(|(v, s)| format!("{v} = {s}")).collect::<Vec<_>>().join(", ");
                writeln!(f, "{cell}  {probability}")
            }
        }
    }
}

impl BayesianNetwork {
    /// Answers a question exactly: variable elimination (barren variables left out) for
    /// probabilities, sum-then-max elimination for MAP.
    ///
    /// ```
    /// use cg_pgm::{files, Answer, BayesianNetwork};
    /// let net = BayesianNetwork::new(&files::read_bif(
    ///     "variable rain { type discrete [ 2 ] { no, yes }; }\n\
    ///      variable wet { type discrete [ 2 ] { no, yes }; }\n\
    ///      probability ( rain ) { table 0.8, 0.2; }\n\
    ///      probability ( wet | rain ) { (no) 0.9, 0.1; (yes) 0.1, 0.9; }").unwrap()).unwrap();
    /// let Answer::Map { states, probability } = net.ask(&"MAP(rain | wet = yes)".parse().unwrap()).unwrap() else { panic!() };
    /// // P(rain = yes | wet) = 0.18 / 0.26 by Bayes' rule.
    /// assert_eq!(states[0].1, "yes");
    /// assert!((probability - 0.18 / 0.26).abs() < 1e-15);
    /// ```
    ///
    /// # Errors
    /// An unknown variable or state, a target also observed or named twice, or evidence of
    /// probability zero.
    pub fn ask(&self, q: &Question) -> Result<Answer> {
        let evidence = q
            .evidence
            .iter()
            .map(|(v, x)| self.id(v).and_then(|v| Ok((v, self.state(v, x)?))))
            .collect::<Result<Vec<_>>>()?;
        let mut targets = q.targets.iter().map(|t| self.id(t)).collect::<Result<Vec<_>>>()?;
        if targets.is_empty() {
            targets = (0..self.names.len()).filter(|v| !evidence.iter().any(|e| e.0 == *v)).collect();
        }
        for (k, &t) in targets.iter().enumerate() {
            if targets[..k].contains(&t) || evidence.iter().any(|e| e.0 == t) {
                return Err(Error::Query(format!("`{}` is asked twice or also observed", self.names[t])));
            }
        }
        let keep = crate::ancestral(&self.parents, &targets, &evidence);
        let factors: Vec<crate::Factor> =
            self.factors.iter().enumerate().filter(|&(v, _)| keep[v]).map(|(_, f)| f.clone()).collect();
        let names = |vs: &[usize]| vs.iter().map(|&v| self.names[v].clone()).collect::<Vec<_>>();
        match q.form {
            Form::Map => {
                let best = crate::most_probable(&factors, &self.cards, &targets, &evidence)?;
                let states = targets
                    .iter()
                    .zip(&best.states)
                    .map(|(&v, &s)| (self.names[v].clone(), self.states[v][s].clone()))
                    .collect();
                Ok(Answer::Map { states, probability: best.probability })
            }
            Form::Probability => {
                let joint = crate::variable_elimination(&factors, &self.cards, &targets, &evidence)?;
                // The factor's variables are ascending; read it in the order asked.
                let mut rows = vec![];
                let mut x = vec![0usize; self.names.len()];
                let size: usize = targets.iter().map(|&t| self.cards[t]).product();
                for code in 0..size {
                    let mut rest = code;
                    for &t in targets.iter().rev() {
                        x[t] = rest % self.cards[t];
                        rest /= self.cards[t];
                    }
                    let states = targets.iter().map(|&t| self.states[t][x[t]].clone()).collect();
                    rows.push((states, joint.value_at(&x)));
                }
                Ok(Answer::Distribution { variables: names(&targets), rows })
            }
        }
    }
}
