//! Running a discrete model: every query exactly and by the sampler (and loopy belief
//! propagation on request), `[marginals]` by the junction tree, the picture and the files.

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Result};
use cg_pgm::report::{self, LbpAnswer, QueryAnswer};
use cg_pgm::sampling::{self, Method};
use cg_pgm::{variable_elimination, Error as PgmError};
use cg_plot::{GraphPicture, Legend, LineChart, NodeKind, NodeLabel, Series};
use serde_json::{json, Map, Value};

use super::super::{Experiment, F64};
use crate::{json_file, json_number, push_figure, push_graph, CheckScope, Cost, Outcome, RunOptions};

use super::*;

impl Experiment for DiscreteExperiment {
    /// Variable elimination's largest intermediate table per query (found on the scopes alone),
    /// the partition function's table (Markov networks: the joint up to 2^20 entries, else
    /// elimination's largest), the Gibbs starts (a greedy climb from 16 draws per chain) and
    /// sweeps.
    fn cost(&self) -> Cost {
        let net = &self.model.net;
        let widest = self
            .queries
            .iter()
            .map(|q| {
                cg_pgm::elimination_table_size(&self.model.relevant_factors(q), &net.cards, &[q.target], &q.evidence)
            })
            .fold(0.0, f64::max);
        let vars = net.cards.len() as f64;
        // The junction tree's clique tables, all of them (its potentials and beliefs, and a
        // product in the making).
        let tree = self.marginals.as_ref().map(|e| cg_pgm::junction_tree_size(&net.factors, &net.cards, e));
        let largest_factor = net.factors.iter().map(|f| f.values.len() as f64).fold(0.0, f64::max);
        let s = self.sampler.as_ref();
        let sweeps = s.map_or(0.0, |s| match s.method {
            Method::Gibbs => (s.burn_in as f64 + s.samples as f64 * s.thin as f64) * s.chains as f64,
            _ => s.samples as f64,
        });
        // Block updates enumerate families of up to 4096 joint states.
        let per_variable = largest_factor.clamp(1.0, 4096.0) * net.factors.len().min(64) as f64;
        let starts = match s {
            Some(s) if s.method == Method::Gibbs => (16.0 * s.chains as f64 + 3.0) * 10.0 * vars * per_variable,
            _ => 0.0,
        };
        let joint = net.cards.iter().map(|&c| c as f64).product::<f64>();
        let partition = match self.model.parents {
            Some(_) => 0.0,
            None if joint <= (1u64 << 20) as f64 => (1u64 << 20) as f64,
            None => Some(cg_pgm::elimination_table_size(&net.factors, &net.cards, &[], &[]))
                .filter(|&t| t <= cg_pgm::ELIMINATION_LIMIT as f64)
                .unwrap_or(0.0),
        };
        Cost::default()
            .memory("variable elimination's largest table", 2.0 * F64 * widest)
            .work("variable elimination", self.queries.len() as f64 * widest * vars)
            .memory("the partition function's table", 2.0 * F64 * partition)
            .work("the partition function", partition * vars)
            .work("sampling", self.queries.len() as f64 * (sweeps * vars * per_variable + starts))
            .memory("the samples", s.map_or(0.0, |s| F64 * s.samples as f64 * s.chains as f64))
            .memory("the junction tree's cliques ([marginals])", tree.map_or(0.0, |t| 3.0 * F64 * t))
            .work("the junction tree ([marginals])", tree.map_or(0.0, |t| 8.0 * t))
    }

    /// Answers every query exactly and by the sampler. What the sampler cannot vouch for (its
    /// [`sampling::Doubt`]s, or its failure) is written beside the exact answer as `doubts`,
    /// which the binary says on stderr; a query whose evidence is impossible is answered as
    /// such, and the others still are.
    ///
    /// # Errors
    /// Every query's evidence impossible (nothing to answer), or a drawing error.
    fn run(&self, title: &str, _options: &RunOptions) -> Result<Outcome> {
        let model = &self.model.net;
        let compiled = self.model.compiled()?;
        let sampler = self.sampler.as_ref();
        let mut answers = vec![];
        let mut speeds = vec![];
        let mut series = vec![];
        let (mut all_within, mut converged) = (true, true);
        let mut blocks: Vec<Vec<usize>> = vec![];
        let mut impossible = vec![];
        for (k, q) in self.queries.iter().enumerate() {
            let label = report::describe(model, q.target, &q.evidence);
            let clock = std::time::Instant::now();
            let relevant = self.model.relevant_factors(q);
            let exact = match variable_elimination(&relevant, &model.cards, &[q.target], &q.evidence) {
                Ok(exact) => exact,
                Err(PgmError::ZeroEvidence { .. }) => {
                    let why =
                        format!("the evidence {} has probability zero", report::evidence_text(model, &q.evidence));
                    impossible.push(format!("[[queries]] {}: {why}", k + 1));
                    answers.push(serde_json::to_value(QueryAnswer::impossible(model, q.target, &q.evidence))?);
                    continue;
                }
                Err(e) => bail!("[[queries]] {}: {e}", k + 1),
            };
            let exact_seconds = clock.elapsed().as_secs_f64();
            let mut answer = match sampler {
                // Exact answers only: no sampler was asked for.
                None => {
                    speeds.push(json!({ "query": label, "exact_seconds": exact_seconds }));
                    QueryAnswer::exact_only(model, q.target, &q.evidence, &exact.values)
                }
                Some(s) => {
                    let clock = std::time::Instant::now();
                    // Each query draws from its own streams of the seed.
                    let seed = self.seed.wrapping_add(k as u64);
                    let estimate = sampling::estimate(&compiled, q.target, &q.evidence, s, seed);
                    let seconds = clock.elapsed().as_secs_f64();
                    let answer = QueryAnswer::compare(model, q.target, &q.evidence, &exact.values, estimate.as_ref());
                    all_within &= answer.within();
                    converged &= answer.converged == Some(true);
                    if let Ok(m) = &estimate {
                        for b in &m.blocks {
                            if !blocks.contains(b) {
                                blocks.push(b.clone());
                            }
                        }
                        let min_ess = m.ess.iter().copied().fold(f64::INFINITY, f64::min);
                        speeds.push(json!({
                            "query": label,
                            "exact_seconds": exact_seconds,
                            "seconds": seconds,
                            "draws_per_second": m.draws as f64 / seconds,
                            "ess_per_second": min_ess / seconds,
                        }));
                        let last = model.states[q.target].len() - 1;
                        // The line follows the last state's probability: the legend names it.
                        series.push(Series::line(
                            &format!(
                                "{label}, {} = {}: exact {:.4}, estimate {:.4} ± {:.4}",
                                model.names[q.target],
                                model.states[q.target][last],
                                exact.values[last],
                                m.probabilities[last],
                                m.standard_errors[last]
                            ),
                            m.running[last].iter().map(|&(n, p)| (n as f64, p - exact.values[last])).collect(),
                        ));
                    }
                    answer
                }
            };
            if let Some(settings) = &self.lbp {
                let r = cg_pgm::loopy_belief_propagation(&model.factors, &model.cards, &q.evidence, settings)
                    .map_err(|e| anyhow!("[[queries]] {}: loopy belief propagation: {e}", k + 1))?;
                answer.lbp = Some(LbpAnswer::compare(model, q.target, &r, &exact.values));
            }
            answers.push(serde_json::to_value(&answer)?);
        }
        if impossible.len() == self.queries.len() && self.marginals.is_none() {
            bail!("{}", impossible.join("; "));
        }
        let mut metrics = json!({ "variables": model.names });
        if let Some(s) = sampler {
            let mut settings = json!({ "method": method_name(s.method), "chains": s.chains, "samples": s.samples });
            if s.method == Method::Gibbs {
                settings["burn_in"] = json!(s.burn_in);
                settings["thin"] = json!(s.thin);
                settings["blocks"] = json!(blocks
                    .iter()
                    .map(|b| b.iter().map(|&v| model.names[v].clone()).collect::<Vec<_>>())
                    .collect::<Vec<_>>());
            }
            metrics["sampler"] = settings;
            metrics["all_within_4_standard_errors"] = json!(all_within);
            metrics["converged"] = json!(converged);
        }
        metrics["queries"] = json!(answers);
        if self.model.parents.is_none() {
            // Bayesian networks have Z = 1.
            match model.partition_functions() {
                Some((z, log_z)) => {
                    // Z itself only while it is a finite number.
                    metrics["partition_function"] =
                        if z.is_finite() { json!(z) } else { json!("beyond f64: see log_partition_function") };
                    metrics["log_partition_function"] = json_number(log_z);
                }
                None => {
                    metrics["partition_function"] = json!(format!(
                        "not computed: variable elimination over every variable would build a table of more than {} entries",
                        cg_pgm::ELIMINATION_LIMIT
                    ));
                }
            }
        }
        let mut timing = json!({ "queries": speeds });
        if let Some(evidence) = &self.marginals {
            let (all, seconds) = self.all_marginals(evidence)?;
            metrics["marginals"] = all;
            timing["marginals"] = seconds;
        }
        if !self.map.is_empty() {
            metrics["map"] = self.most_probable()?;
        }
        let mut files = vec![json_file("metrics.json", &metrics)?, json_file("timing.json", &timing)?];
        match &self.model.file {
            Ok((name, text)) if name.ends_with(".bif") => {
                files.push(((*name).to_string(), super::super::bayes_net::named_after(text, title).into_bytes()));
            }
            Ok((name, text)) => files.push(((*name).to_string(), text.clone().into_bytes())),
            Err(why) => eprintln!("warning: {title}: the network file is not written: {why}"),
        }
        push_graph(&mut files, "network", &self.picture(title))?;
        // No estimate to draw without a sampler, or when it failed on every query.
        if let Some(s) = sampler.filter(|_| !series.is_empty()) {
            let per = if s.method == Method::Gibbs { "samples per chain" } else { "draws" };
            let chart = LineChart {
                title: format!(
                    "{title}: {} estimate minus exact probability of the state named",
                    method_name(s.method)
                ),
                x_label: per.into(),
                y_label: "error".into(),
                legend: Legend::UpperRight,
                y_range: None,
                equal_aspect: false,
                x_log: false,
                series,
            };
            push_figure(&mut files, "sampler", chart.render())?;
        }
        let mut summary = String::new();
        for a in &answers {
            let query = a["query"].as_str().unwrap_or("");
            let _ = if a["impossible"] == true {
                write!(summary, "{query}: impossible evidence; ")
            } else if sampler.is_none() {
                write!(summary, "{query}: exact {}; ", a["exact"])
            } else {
                write!(
                    summary,
                    "{query}: exact {} estimate {}; ",
                    a["exact"],
                    a.get("estimate").unwrap_or(&json!("none"))
                )
            };
        }
        if sampler.is_none() {
            summary.push_str("exact answers (no [sampler])");
        } else {
            summary.push_str(if all_within {
                "all within 4 standard errors"
            } else {
                "NOT all within 4 standard errors"
            });
            if !converged {
                summary.push_str("; NOT to be trusted as sampled (see the doubts)");
            }
        }
        Ok(Outcome { files, summary, check: CheckScope::Full, checkpoint: None })
    }
}

impl DiscreteExperiment {
    /// `[marginals]`: every free variable's posterior by the junction tree, and the largest
    /// difference from variable elimination run for each variable; their times.
    fn all_marginals(&self, evidence: &[(usize, usize)]) -> Result<(Value, Value)> {
        let model = &self.model.net;
        let impossible =
            || anyhow!("[marginals] the evidence {} has probability zero", report::evidence_text(model, evidence));
        let clock = std::time::Instant::now();
        let all = cg_pgm::all_marginals(&model.factors, &model.cards, evidence).map_err(|e| match e {
            PgmError::ZeroEvidence { .. } => impossible(),
            e => anyhow!("[marginals] {e}"),
        })?;
        let tree_seconds = clock.elapsed().as_secs_f64();
        let clock = std::time::Instant::now();
        let mut largest = 0.0f64;
        let mut posteriors = Map::new();
        for (v, m) in all.iter().enumerate() {
            let Some(m) = m else { continue };
            let q = Query { target: v, evidence: evidence.to_vec() };
            let ve = variable_elimination(&self.model.relevant_factors(&q), &model.cards, &[v], evidence)
                .map_err(|_| impossible())?;
            largest = m.values.iter().zip(&ve.values).map(|(a, b)| (a - b).abs()).fold(largest, f64::max);
            let by_state: Map<String, Value> =
                model.states[v].iter().zip(&m.values).map(|(s, p)| (s.clone(), json!(p))).collect();
            posteriors.insert(model.names[v].clone(), Value::Object(by_state));
        }
        let elimination_seconds = clock.elapsed().as_secs_f64();
        let evidence_names = report::evidence_map(model, evidence);
        Ok((
            json!({ "evidence": evidence_names, "posteriors": posteriors, "largest_difference_from_elimination": largest }),
            json!({ "junction_tree_seconds": tree_seconds, "elimination_per_variable_seconds": elimination_seconds }),
        ))
    }

    /// The drawing: one node per variable with its states, an arrow per parent (or a line per
    /// pair sharing a factor).
    fn picture(&self, title: &str) -> GraphPicture {
        let m = &self.model.net;
        let nodes = m
            .names
            .iter()
            .zip(&m.states)
            .map(|(name, states)| NodeLabel {
                id: name.clone(),
                lines: vec![name.clone(), format!("{{{}}}", states.join(", "))],
                kind: NodeKind::Inner,
            })
            .collect();
        let edges = match &self.model.arrows() {
            Some(arrows) => arrows.iter().map(|&(a, b)| (a, b, None)).collect(),
            None => m.graph.edges().map(|(a, b, _)| (a.index(), b.index(), None)).collect(),
        };
        GraphPicture { title: title.to_string(), nodes, edges, directed: self.model.parents.is_some() }
    }
}

impl DiscreteExperiment {
    /// `[[map]]`'s answers: each question's most probable joint state and its probability.
    fn most_probable(&self) -> Result<serde_json::Value> {
        let net = &self.model.net;
        let mut answers = vec![];
        for (k, q) in self.map.iter().enumerate() {
            let factors = match &self.model.parents {
                Some(ps) => {
                    let keep = cg_pgm::ancestral(ps, &q.variables, &q.evidence);
                    net.factors.iter().enumerate().filter(|&(v, _)| keep[v]).map(|(_, f)| f.clone()).collect()
                }
                None => net.factors.clone(),
            };
            let best = cg_pgm::most_probable(&factors, &net.cards, &q.variables, &q.evidence)
                .map_err(|e| anyhow!("[[map]] {}: {e}", k + 1))?;
            let states: serde_json::Map<String, serde_json::Value> = q
                .variables
                .iter()
                .zip(&best.states)
                .map(|(&v, &s)| (net.names[v].clone(), json!(net.states[v][s])))
                .collect();
            answers.push(json!({
                "evidence": cg_pgm::report::evidence_map(net, &q.evidence),
                "states": states,
                "probability": best.probability,
            }));
        }
        Ok(json!(answers))
    }
}
