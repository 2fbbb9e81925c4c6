//! A query answered exactly and by a sampler (or loopy belief propagation), side by side: the
//! typed record a program writes (serialised, one entry of a `bayes_net`/`markov_net` run's
//! `queries`) and reads doubts from. Non-finite numbers are written as the strings `"inf"`,
//! `"-inf"` and `"nan"`: JSON has no such numbers, and `null` would hide what happened.

use indexmap::IndexMap;
use serde::{Serialize, Serializer};

use crate::sampling::Estimate;
use crate::{LbpResult, MarkovNetwork};

/// The largest distance (in standard errors) between an estimate and the exact answer that
/// counts as agreement.
pub const WITHIN_STANDARD_ERRORS: f64 = 4.0;

/// One query: P(target | evidence) exactly, and what the sampler made of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryAnswer {
    /// `P(target | evidence)` written out.
    pub query: String,
    /// The target variable.
    pub target: String,
    /// The evidence, variable to state.
    pub evidence: IndexMap<String, String>,
    /// Whether the evidence has probability zero (then nothing else is answered).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub impossible: bool,
    /// The exact distribution of the target, state by state.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_by_state")]
    pub exact: Option<IndexMap<String, f64>>,
    /// The sampler's estimate beside it, when the sampler ran.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<Sampled>,
    /// Whether the sampler can vouch for its estimate (no doubt); absent when nothing was
    /// answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
    /// What the answer's reader should know: the sampler's doubts, its failure, impossible
    /// evidence.
    pub doubts: Vec<String>,
    /// Loopy belief propagation's answer, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lbp: Option<LbpAnswer>,
}

/// A sampler's estimate against the exact answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sampled {
    /// The estimated distribution, state by state.
    #[serde(serialize_with = "by_state")]
    pub estimate: IndexMap<String, f64>,
    /// Each state's standard error.
    #[serde(serialize_with = "by_state")]
    pub standard_error: IndexMap<String, f64>,
    /// Each state's 95% interval.
    #[serde(serialize_with = "intervals")]
    pub interval_95: IndexMap<String, (f64, f64)>,
    /// Each state's effective sample size.
    #[serde(serialize_with = "by_state")]
    pub effective_sample_size: IndexMap<String, f64>,
    /// max over states of |exact - estimate| / standard error (NaN when one cannot be compared).
    #[serde(serialize_with = "number")]
    pub largest_error_in_standard_errors: f64,
    /// Whether that is at most [`WITHIN_STANDARD_ERRORS`].
    pub within_4_standard_errors: bool,
    /// Each state's R-hat, for several chains.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "some_by_state")]
    pub r_hat: Option<IndexMap<String, f64>>,
}

/// Loopy belief propagation's belief against the exact answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LbpAnswer {
    /// The belief, state by state.
    #[serde(serialize_with = "by_state")]
    pub estimate: IndexMap<String, f64>,
    /// The largest |belief - exact| over states.
    pub largest_error: f64,
    /// Whether the messages converged.
    pub converged: bool,
    /// Whether the factor graph is a forest, so converged beliefs are exact.
    pub exact_on_this_graph: bool,
    /// Sweeps made.
    pub iterations: usize,
    /// The largest change of a message entry in the last sweep.
    #[serde(serialize_with = "number")]
    pub residual: f64,
    /// Not converged, or converged away from the exact answer.
    pub doubts: Vec<String>,
}

/// How far a converged loopy belief may sit from the exact answer before it is doubted.
pub const LBP_TOLERANCE: f64 = 1e-3;

impl QueryAnswer {
    /// A query whose evidence has probability zero: named so, with nothing to answer.
    pub fn impossible(net: &MarkovNetwork, target: usize, evidence: &[(usize, usize)]) -> QueryAnswer {
        let why = format!("the evidence {} has probability zero", evidence_text(net, evidence));
        QueryAnswer {
            query: describe(net, target, evidence),
            target: net.names[target].clone(),
            evidence: evidence_map(net, evidence),
            impossible: true,
            exact: None,
            sampled: None,
            converged: None,
            doubts: vec![format!("{why}: there is nothing to answer")],
            lbp: None,
        }
    }

    /// The exact answer `exact` (the target's distribution) beside the sampler's: its estimate,
    /// or why it failed (the exact answer stands, and the failure is a doubt).
    pub fn compare(
        net: &MarkovNetwork,
        target: usize,
        evidence: &[(usize, usize)],
        exact: &[f64],
        sampled: Result<&Estimate, &crate::Error>,
    ) -> QueryAnswer {
        let states = &net.states[target];
        let by = |xs: &[f64]| -> IndexMap<String, f64> { states.iter().cloned().zip(xs.iter().copied()).collect() };
        let mut answer =
            QueryAnswer { converged: Some(false), ..QueryAnswer::exact_only(net, target, evidence, exact) };
        match sampled {
            Ok(m) => {
                // NaN (an estimate that cannot be compared) is not within anything.
                let z = exact
                    .iter()
                    .zip(&m.probabilities)
                    .zip(&m.standard_errors)
                    .map(|((e, p), se)| (e - p).abs() / se)
                    .fold(0.0, |a: f64, b| if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) });
                answer.sampled = Some(Sampled {
                    estimate: by(&m.probabilities),
                    standard_error: by(&m.standard_errors),
                    interval_95: states.iter().cloned().zip(m.intervals.iter().copied()).collect(),
                    effective_sample_size: by(&m.ess),
                    largest_error_in_standard_errors: z,
                    within_4_standard_errors: z <= WITHIN_STANDARD_ERRORS,
                    r_hat: m.r_hat.as_deref().map(by),
                });
                answer.converged = Some(m.converged());
                answer.doubts = m.doubts.iter().map(ToString::to_string).collect();
            }
            Err(e) => answer.doubts = vec![format!("the sampler failed: {e}")],
        }
        answer
    }

    /// The exact answer alone (no sampler asked for).
    pub fn exact_only(net: &MarkovNetwork, target: usize, evidence: &[(usize, usize)], exact: &[f64]) -> QueryAnswer {
        QueryAnswer {
            query: describe(net, target, evidence),
            target: net.names[target].clone(),
            evidence: evidence_map(net, evidence),
            impossible: false,
            exact: Some(net.states[target].iter().cloned().zip(exact.iter().copied()).collect()),
            sampled: None,
            converged: None,
            doubts: vec![],
            lbp: None,
        }
    }

    /// Whether the sampler's estimate is within [`WITHIN_STANDARD_ERRORS`] of the exact answer
    /// (`false` without an estimate).
    pub fn within(&self) -> bool {
        self.sampled.as_ref().is_some_and(|s| s.within_4_standard_errors)
    }
}

impl LbpAnswer {
    /// The belief of `target` in `r` against the exact distribution `exact`.
    ///
    /// # Panics
    /// If `target` is observed (it has no belief).
    pub fn compare(net: &MarkovNetwork, target: usize, r: &LbpResult, exact: &[f64]) -> LbpAnswer {
        let belief = r.marginals[target].as_ref().expect("internal: the target is not observed");
        let error = belief.iter().zip(exact).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let mut doubts = vec![];
        if !r.converged {
            doubts.push(format!(
                "loopy belief propagation did not converge (residual {:.2e}): the messages still move, do not read them as marginals",
                r.residual
            ));
        } else if error > LBP_TOLERANCE {
            doubts.push(format!(
                "loopy belief propagation converged {error:.3} away from the exact answer: on a graph with loops it is an approximation, converged or not"
            ));
        }
        LbpAnswer {
            estimate: net.states[target].iter().cloned().zip(belief.iter().copied()).collect(),
            largest_error: error,
            converged: r.converged,
            exact_on_this_graph: r.tree,
            iterations: r.iterations,
            residual: r.residual,
            doubts,
        }
    }
}

/// `P(target)` or `P(target | a = x, b = y)`.
pub fn describe(net: &MarkovNetwork, target: usize, evidence: &[(usize, usize)]) -> String {
    if evidence.is_empty() {
        format!("P({})", net.names[target])
    } else {
        format!("P({} | {})", net.names[target], evidence_text(net, evidence))
    }
}

/// `either = no, lung = yes`: evidence by variable and state names.
pub fn evidence_text(net: &MarkovNetwork, evidence: &[(usize, usize)]) -> String {
    evidence.iter().map(|&(v, x)| format!("{} = {}", net.names[v], net.states[v][x])).collect::<Vec<_>>().join(", ")
}

/// The evidence as variable name -> state name.
pub fn evidence_map(net: &MarkovNetwork, evidence: &[(usize, usize)]) -> IndexMap<String, String> {
    evidence.iter().map(|&(v, x)| (net.names[v].clone(), net.states[v][x].clone())).collect()
}

/// A finite number as itself, the others as `"inf"`, `"-inf"`, `"nan"`.
fn number<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(*x)
    } else if x.is_nan() {
        s.serialize_str("nan")
    } else if *x > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// A number serialised by [`number`].
struct Number(f64);

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        number(&self.0, s)
    }
}

fn by_state<S: Serializer>(m: &IndexMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, &v)| (k, Number(v))))
}

fn some_by_state<S: Serializer>(m: &Option<IndexMap<String, f64>>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => by_state(m, s),
        None => s.serialize_none(),
    }
}

fn intervals<S: Serializer>(m: &IndexMap<String, (f64, f64)>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, &(a, b))| (k, [Number(a), Number(b)])))
}
