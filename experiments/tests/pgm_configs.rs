//! The stored graphical-model results against published and exact values (the golden test
//! separately checks that they are reproducible).

mod common;

use common::{numbers, stored};

#[test]
fn sprinkler_answers_are_the_textbooks_and_gibbs_agrees() {
    let m = stored("sprinkler");
    let q = m["queries"].as_array().unwrap();
    // Russell and Norvig: P(rain | wet) = 0.4581 / 0.6471, P(sprinkler | wet) = 0.2781 / 0.6471.
    assert!((q[0]["exact"]["true"].as_f64().unwrap() - 0.4581 / 0.6471).abs() < 1e-4);
    assert!((q[1]["exact"]["true"].as_f64().unwrap() - 0.2781 / 0.6471).abs() < 1e-4);
    assert!((q[3]["exact"]["true"].as_f64().unwrap() - 0.6471).abs() < 1e-12);
    within_four_standard_errors(&m);
}

/// Every sampled estimate within 4 of its standard errors of the exact answer, the chains
/// converged (R-hat at most 1.01), and the flags in metrics.json saying so.
fn within_four_standard_errors(m: &serde_json::Value) {
    for a in m["queries"].as_array().unwrap() {
        for (state, p) in a["estimate"].as_object().unwrap() {
            let (e, se) = (a["exact"][state].as_f64().unwrap(), a["standard_error"][state].as_f64().unwrap());
            assert!(se > 0.0 && (p.as_f64().unwrap() - e).abs() <= 4.0 * se, "{}: {state}", a["query"]);
            let r = a["r_hat"][state].as_f64().unwrap();
            assert!((0.99..=1.01).contains(&r), "{}: {state}: R-hat {r}", a["query"]);
        }
    }
    assert_eq!(m["all_within_4_standard_errors"], true);
    assert_eq!(m["converged"], true);
}

#[test]
fn asia_is_sampled_right_despite_its_deterministic_or() {
    let m = stored("asia");
    let q = m["queries"].as_array().unwrap();
    // P(lung = yes) = 0.5 x 0.1 + 0.5 x 0.01 (Lauritzen and Spiegelhalter's tables).
    assert!((q[0]["exact"]["yes"].as_f64().unwrap() - 0.055).abs() < 1e-15);
    within_four_standard_errors(&m);
    // Every posterior at once (junction tree) equals elimination's; P(lung | xray, dysp) as the
    // second query has it.
    let all = &m["marginals"];
    assert!(all["largest_difference_from_elimination"].as_f64().unwrap() < 1e-12);
    let lung = all["posteriors"]["lung"]["yes"].as_f64().unwrap();
    assert!((lung - q[1]["exact"]["yes"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(all["posteriors"].as_object().unwrap().len(), 6);
    // tub, lung and either are updated together.
    assert!(m["sampler"]["blocks"].as_array().unwrap().contains(&serde_json::json!(["tub", "lung", "either"])));
}

#[test]
fn ising_magnetisation_follows_onsager_and_vanishes_above_the_critical_temperature() {
    let m = stored("ising");
    let (t, mag, se, exact) = (
        numbers(&m["temperatures"]),
        numbers(&m["mean_abs_magnetisation"]),
        numbers(&m["standard_error"]),
        numbers(&m["onsager_magnetisation"]),
    );
    for k in 0..t.len() {
        if t[k] <= 2.1 {
            // Finite-size corrections on a 32 x 32 torus are below 0.01 this far from T_c.
            assert!((mag[k] - exact[k]).abs() < 3.0 * se[k] + 0.01, "T = {}: {} vs {}", t[k], mag[k], exact[k]);
        }
        if t[k] >= 3.0 {
            assert!(mag[k] < 0.15, "T = {}: |m| = {}", t[k], mag[k]);
        }
    }
    let peak = m["susceptibility_peak_temperature"].as_f64().unwrap();
    assert!((2.2..=2.45).contains(&peak), "susceptibility peaks at {peak}");
}

#[test]
fn the_misconception_network_has_koller_and_friedmans_partition_function() {
    let m = stored("misconception");
    // Figure 4.2 of Koller and Friedman: Z = 7,201,840 (a sum of integers, exact in f64).
    assert_eq!(m["partition_function"].as_f64(), Some(7_201_840.0));
    // Loopy belief propagation: converged everywhere; exact where evidence cuts the loop (queries
    // 2 and 3), visibly off where the loop is whole (query 1).
    let q = m["queries"].as_array().unwrap();
    assert!(q.iter().all(|a| a["lbp"]["converged"] == true));
    assert!(q[1]["lbp"]["largest_error"].as_f64().unwrap() < 1e-9);
    assert!(q[2]["lbp"]["largest_error"].as_f64().unwrap() < 1e-9);
    assert!(q[0]["lbp"]["largest_error"].as_f64().unwrap() > 0.05);
    within_four_standard_errors(&m);
}

/// Runs config `text` (written into a scratch folder beside `files`) through the library and
/// returns its metrics.
fn run_config(text: &str, files: &[(&str, &str)]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents).unwrap();
    }
    let path = dir.path().join("net.toml");
    std::fs::write(&path, text).unwrap();
    let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
    let metrics = outcome.files.iter().find(|(n, _)| n == "metrics.json").unwrap();
    serde_json::from_slice(&metrics.1).unwrap()
}

/// Runs the binary on config `text` (quietly, into a scratch folder): its exit status, stderr
/// and the metrics it wrote.
fn run_binary(text: &str) -> (std::process::ExitStatus, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("net.toml");
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args([config.to_str().unwrap(), "-q", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let metrics = std::fs::read(out.join("metrics.json"))
        .map_or(serde_json::Value::Null, |b| serde_json::from_slice(&b).unwrap());
    (o.status, stderr, metrics)
}

fn results_file(run: &str, name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results").join(run).join(name))
        .unwrap()
}

#[test]
fn the_written_bif_reads_back_to_the_same_answers() {
    // Asia's stored network.bif, queried as the config queries it: the same exact posteriors,
    // to the bit.
    let config =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/asia.toml")).unwrap();
    let queries = &config[config.find("[[queries]]").unwrap()..];
    let text = format!("kind = \"bayes_net\"\n[network]\nbif = \"asia.bif\"\n{queries}");
    let m = run_config(&text, &[("asia.bif", &results_file("asia", "network.bif"))]);
    let stored = stored("asia");
    for (a, b) in m["queries"].as_array().unwrap().iter().zip(stored["queries"].as_array().unwrap()) {
        assert_eq!(a["exact"], b["exact"], "{}", a["query"]);
    }
}

#[test]
fn the_written_uai_reads_back_to_the_same_partition_function() {
    let text =
        "kind = \"markov_net\"\n[network]\nuai = \"m.uai\"\n[[queries]]\ntarget = \"x1\"\n[sampler]\nsamples = 100\n";
    let m = run_config(text, &[("m.uai", &results_file("misconception", "network.uai"))]);
    assert_eq!(m["partition_function"].as_f64(), Some(7_201_840.0));
    // x1 is b: P(b1) as the named network gives it.
    assert_eq!(m["queries"][0]["exact"]["1"], stored("misconception")["queries"][0]["exact"]["b1"]);
}

/// A Markov network of two binary variables a, b: one factor over (a, b), one over a, the query
/// P(a), and a Gibbs sampler with `sampler` settings (TOML lines).
fn two_binary(seed: u64, pair: &str, single: &str, sampler: &str) -> String {
    format!(
        "kind = \"markov_net\"\nseed = {seed}\n\
         [[variables]]\nname = \"a\"\nstates = [\"a0\", \"a1\"]\n\
         [[variables]]\nname = \"b\"\nstates = [\"b0\", \"b1\"]\n\
         [[factors]]\nvariables = [\"a\", \"b\"]\nvalues = [{pair}]\n\
         [[factors]]\nvariables = [\"a\"]\nvalues = [{single}]\n\
         [[queries]]\ntarget = \"a\"\n[sampler]\nmethod = \"gibbs\"\n{sampler}\n"
    )
}

/// Factors at the ends of f64 (1e308, whose products overflow, and 1e-200, whose products
/// underflow): the exact answer is right, and so must Gibbs be, drawing in the same rescaled
/// domain (it answered 0/1 with R-hat 1 before).
#[test]
fn gibbs_draws_right_with_factors_that_overflow_or_underflow_a_product() {
    for scale in ["1e308", "1e-200"] {
        let s = scale;
        let text = two_binary(0, &format!("{s}, {s}, {s}, {s}"), &format!("{s}, {s}"), "burn_in = 100\nsamples = 4000");
        let m = run_config(&text, &[]);
        let q = &m["queries"][0];
        assert_eq!(q["exact"]["a0"].as_f64(), Some(0.5), "{scale}");
        let p = q["estimate"]["a0"].as_f64().unwrap();
        assert!((p - 0.5).abs() < 0.05, "{scale}: Gibbs gives {p}");
        within_four_standard_errors(&m);
    }
}

#[test]
fn estimates_beyond_four_standard_errors_are_warned_about_on_stderr() {
    // A chain far too short to leave its start on a strongly coupled pair.
    let (status, stderr, metrics) =
        run_binary(&two_binary(1, "1e9, 1.0, 1.0, 1e9", "1.0, 3.0", "chains = 2\nburn_in = 1\nsamples = 20"));
    assert!(status.success(), "{stderr}");
    let flagged = metrics["queries"][0]["within_4_standard_errors"] == false;
    assert_eq!(flagged, stderr.contains("more than 4 standard errors"), "{stderr}");
    // Each doubt of the sampler (here: too few effective draws, or chains that disagree or
    // never moved) is on stderr, and the answer is not marked converged.
    let doubts = metrics["queries"][0]["doubts"].as_array().unwrap();
    assert_eq!(metrics["queries"][0]["converged"] == false, !doubts.is_empty());
    for d in doubts {
        assert!(stderr.contains(&format!("P(a): {}", d.as_str().unwrap())), "{d} not in {stderr}");
    }
    assert!(flagged || !doubts.is_empty(), "this chain cannot pass its checks: {stderr}");
}

/// What the binary prints on stderr for numbers that cannot be trusted, from the metrics alone:
/// one line per query and reason, the run's summary flag only when its parts said nothing.
#[test]
fn warnings_name_each_untrustworthy_answer_once() {
    let outcome = |metrics: serde_json::Value| experiments::Outcome {
        files: vec![("metrics.json".into(), serde_json::to_vec(&metrics).unwrap())],
        summary: String::new(),
        check: experiments::CheckScope::Full,
        checkpoint: None,
    };
    let m = serde_json::json!({
        "converged": false,
        "queries": [
            { "query": "P(a)", "within_4_standard_errors": true, "converged": false, "r_hat": { "a0": 1.2, "a1": 1.3 },
              "lbp": { "converged": false, "residual": 0.25, "iterations": 3 } },
            { "query": "P(b)", "within_4_standard_errors": false, "largest_error_in_standard_errors": 9.0, "converged": true },
        ],
    });
    let w = outcome(m).warnings();
    assert_eq!(w.len(), 3, "{w:#?}");
    assert!(w[0].starts_with("P(a).lbp: did not converge (residual 2.50e-1)"), "{}", w[0]);
    assert!(w[1].starts_with("P(a): the Gibbs chains disagree (R-hat 1.300 > 1.01)"), "{}", w[1]);
    assert!(
        w[2].starts_with("P(b): the estimate is off the exact answer by more than 4 standard errors (9.0"),
        "{}",
        w[2]
    );
    // A kind's own doubts are said as they are, instead of the generic line.
    let doubted = serde_json::json!({
        "converged": false,
        "queries": [{ "query": "P(a)", "converged": false, "doubts": ["only 12 effective draws", "R-hat 1.3"], "r_hat": { "a0": "inf" } }],
    });
    assert_eq!(outcome(doubted).warnings(), vec!["P(a): only 12 effective draws", "P(a): R-hat 1.3"]);
    let fine =
        serde_json::json!({ "converged": true, "queries": [{ "query": "P(a)", "within_4_standard_errors": true }] });
    assert!(outcome(fine).warnings().is_empty());
    let alone = serde_json::json!({ "converged": false, "violation_curve": [0.5, 0.25] });
    let w = outcome(alone).warnings();
    assert_eq!(w.len(), 2, "{w:#?}");
    assert!(w[0].contains("the constraints do not hold at the end (largest violation 2.500e-1)"));
    assert!(w[1].starts_with("the run: did not converge"));
}

/// cause -> e with P(e = yes | cause = no) = 0 and 0.5 given yes (tests replace the table);
/// `queries` and `[sampler]` lines appended (TOML).
fn faint(queries: &str, sampler: &str) -> String {
    format!(
        "kind = \"bayes_net\"\nseed = 0\n\
         [[variables]]\nname = \"cause\"\nstates = [\"no\", \"yes\"]\ncpt = [[0.5, 0.5]]\n\
         [[variables]]\nname = \"e\"\nstates = [\"no\", \"yes\"]\nparents = [\"cause\"]\ncpt = [[1.0, 0.0], [0.5, 0.5]]\n\
         {queries}\n[sampler]\n{sampler}\n"
    )
}

#[test]
fn an_impossible_query_is_answered_as_such_and_the_others_still_are() {
    // e is always yes: observing e = no is impossible, the other two queries are not.
    let text = faint(
        "[[queries]]\ntarget = \"cause\"\nevidence = { e = \"yes\" }\n\
         [[queries]]\ntarget = \"cause\"\nevidence = { e = \"no\" }\n\
         [[queries]]\ntarget = \"e\"\n",
        "burn_in = 100\nsamples = 2000",
    )
    .replace("cpt = [[1.0, 0.0], [0.5, 0.5]]", "cpt = [[0.0, 1.0], [0.0, 1.0]]");
    let m = run_config(&text, &[]);
    let q = m["queries"].as_array().unwrap();
    assert_eq!(q.len(), 3);
    assert_eq!(q[0]["exact"]["yes"], 0.5);
    assert_eq!(q[1]["impossible"], true);
    assert!(q[1]["doubts"][0].as_str().unwrap().contains("the evidence e = no has probability zero"), "{}", q[1]);
    assert_eq!(q[2]["exact"]["yes"], 1.0);
}

#[test]
fn a_sampler_that_fails_leaves_the_exact_answer_standing() {
    // Forward sampling cannot meet evidence of probability 1e-12 in 1000 draws.
    let text =
        faint("[[queries]]\ntarget = \"cause\"\nevidence = { e = \"yes\" }\n", "method = \"forward\"\nsamples = 1000")
            .replace("cpt = [[1.0, 0.0], [0.5, 0.5]]", "cpt = [[1.0, 0.0], [1.0, 1e-12]]");
    let (status, stderr, m) = run_binary(&text);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("P(cause | e = yes): the sampler failed: query: none of the 1000 draws"), "{stderr}");
    assert_eq!(m["queries"][0]["exact"]["yes"], 1.0);
    assert_eq!(m["queries"][0]["converged"], false);
    assert_eq!(m["converged"], false);
}

#[test]
fn the_partition_function_of_a_long_chain_is_computed_by_elimination() {
    // 24 binary variables in an open chain (2^24 joint states): Z = 2 (2 cosh j)^23.
    let j: f64 = 0.4;
    let mut text = String::from("kind = \"markov_net\"\nseed = 0\n");
    for k in 0..24 {
        text += &format!("[[variables]]\nname = \"s{k}\"\nstates = [\"down\", \"up\"]\n");
    }
    for k in 1..24 {
        let (a, b) = (j.exp(), (-j).exp());
        text +=
            &format!("[[factors]]\nvariables = [\"s{}\", \"s{k}\"]\nvalues = [{a:?}, {b:?}, {b:?}, {a:?}]\n", k - 1);
    }
    text += "[[queries]]\ntarget = \"s23\"\nevidence = { s0 = \"up\" }\n[sampler]\nburn_in = 10\nsamples = 200\n";
    let m = run_config(&text, &[]);
    let log_z = 23.0 * (2.0 * j.cosh()).ln() + 2f64.ln();
    let got = m["log_partition_function"].as_f64().unwrap();
    assert!((got - log_z).abs() < 1e-12 * log_z, "{got} vs {log_z}");
    assert!((m["partition_function"].as_f64().unwrap() / log_z.exp() - 1.0).abs() < 1e-11);
    // P(s23 = up | s0 = up) = (1 + tanh(j)^23) / 2.
    let p = m["queries"][0]["exact"]["up"].as_f64().unwrap();
    assert!((p - (1.0 + j.tanh().powi(23)) / 2.0).abs() < 1e-14, "{p}");
}

#[test]
fn asias_most_probable_states_equal_enumeration_of_all_joint_states() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/networks/asia.bif")).unwrap();
    let net = cg_pgm::BayesianNetwork::new(&cg_pgm::files::read_bif(&text).unwrap()).unwrap();
    let id = |n: &str| net.names.iter().position(|x| x == n).unwrap();
    let yes = |v: usize| net.states[v].iter().position(|s| s == "yes").unwrap();
    let (xray, dysp) = (id("xray"), id("dysp"));
    // Every joint state with its probability, by the product of the tables.
    let n = net.names.len();
    let joint: Vec<(Vec<usize>, f64)> = (0..1usize << n)
        .map(|code| {
            let x: Vec<usize> = (0..n).map(|v| code >> v & 1).collect();
            let p = net.factors.iter().map(|f| f.value_at(&x)).product();
            (x, p)
        })
        .filter(|(x, _)| x[xray] == yes(xray) && x[dysp] == yes(dysp))
        .collect();
    let evidence: f64 = joint.iter().map(|(_, p)| p).sum();
    let m = stored("asia");
    let map = m["map"].as_array().unwrap();
    // The most probable explanation: the single likeliest joint state.
    let (best, p) = joint.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    for (name, state) in map[0]["states"].as_object().unwrap() {
        assert_eq!(net.states[id(name)][best[id(name)]], state.as_str().unwrap(), "{name}");
    }
    assert!((map[0]["probability"].as_f64().unwrap() - p / evidence).abs() < 1e-12);
    // (lung, tub): the other variables summed out first.
    let (lung, tub) = (id("lung"), id("tub"));
    let mut pairs = [[0.0; 2]; 2];
    for (x, p) in &joint {
        pairs[x[lung]][x[tub]] += p;
    }
    let (l, t) = [(0, 0), (0, 1), (1, 0), (1, 1)]
        .into_iter()
        .max_by(|a, b| pairs[a.0][a.1].total_cmp(&pairs[b.0][b.1]))
        .unwrap();
    assert_eq!(map[1]["states"]["lung"], net.states[lung][l].as_str());
    assert_eq!(map[1]["states"]["tub"], net.states[tub][t].as_str());
    assert!((map[1]["probability"].as_f64().unwrap() - pairs[l][t] / evidence).abs() < 1e-12);
}

#[test]
fn exact_queries_need_no_sampler_and_the_written_network_keeps_its_name() {
    // Two variables, no [sampler]: the answers are exact only (Bayes' rule by hand), nothing is
    // sampled or drawn as sampled, and network.bif is named after the config.
    let text = "kind = \"bayes_net\"\n\
        [[variables]]\nname = \"rain\"\nstates = [\"yes\", \"no\"]\ncpt = [[0.2, 0.8]]\n\
        [[variables]]\nname = \"wet\"\nstates = [\"yes\", \"no\"]\nparents = [\"rain\"]\ncpt = [[0.9, 0.1], [0.1, 0.9]]\n\
        [[queries]]\ntarget = \"rain\"\nevidence = { wet = \"yes\" }\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("puddle.toml");
    std::fs::write(&path, text).unwrap();
    let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
    let file = |name: &str| outcome.files.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone());
    let m: serde_json::Value = serde_json::from_slice(&file("metrics.json").unwrap()).unwrap();
    let p = m["queries"][0]["exact"]["yes"].as_f64().unwrap();
    assert!((p - 0.2 * 0.9 / (0.2 * 0.9 + 0.8 * 0.1)).abs() < 1e-15);
    assert!(m.get("sampler").is_none() && m["queries"][0].get("estimate").is_none());
    assert!(file("sampler.png").is_none());
    assert!(outcome.summary.contains("exact answers (no [sampler])"), "{}", outcome.summary);
    let bif = String::from_utf8(file("network.bif").unwrap()).unwrap();
    assert!(bif.starts_with("network puddle {"), "{bif}");
    // A BIF file's own name is kept.
    let named = bif.replacen("network puddle {", "network rainfall {", 1);
    std::fs::write(dir.path().join("rain.bif"), &named).unwrap();
    std::fs::write(&path, "kind = \"bayes_net\"\n[network]\nbif = \"rain.bif\"\n[[queries]]\ntarget = \"rain\"\n")
        .unwrap();
    let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
    let bif = outcome.files.iter().find(|(n, _)| n == "network.bif").unwrap();
    assert!(String::from_utf8_lossy(&bif.1).starts_with("network rainfall {"));
}
