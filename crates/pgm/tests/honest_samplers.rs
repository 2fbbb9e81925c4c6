//! Samplers on networks that are hard for them (deterministic runs, strong couplings,
//! evidence of tiny probability, rare dominant causes): each answer is right within its error
//! bars or carries a doubt, checked against exact elimination.

use cg_pgm::sampling::{self, Compiled, Doubt, Estimate, Method, Settings};
use cg_pgm::{variable_elimination, BayesianNetwork, Error, Factor, VariableSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn spec(name: &str, parents: &[&str], cpt: Vec<Vec<f64>>) -> VariableSpec {
    VariableSpec {
        name: name.into(),
        states: (0..cpt[0].len()).map(|s| format!("s{s}")).collect(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        cpt,
    }
}

fn gibbs(samples: usize, blocks: bool) -> Settings {
    Settings { method: Method::Gibbs, chains: 4, burn_in: 200, samples, thin: 1, blocks }
}

fn weighting(samples: usize) -> Settings {
    Settings { method: Method::LikelihoodWeighting, chains: 4, burn_in: 0, samples, thin: 1, blocks: true }
}

/// The largest distance from the exact answer in the estimate's standard errors.
fn z(m: &Estimate, exact: &[f64]) -> f64 {
    exact
        .iter()
        .zip(&m.probabilities)
        .zip(&m.standard_errors)
        .map(|((e, p), se)| (e - p).abs() / se)
        .fold(0.0, f64::max)
}

/// A -> B -> C -> D, each a copy of its parent; P(A = s1) = 0.3.
fn copies() -> BayesianNetwork {
    let copy = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
    BayesianNetwork::new(&[
        spec("a", &[], vec![vec![0.7, 0.3]]),
        spec("b", &["a"], copy.clone()),
        spec("c", &["b"], copy.clone()),
        spec("d", &["c"], copy),
    ])
    .unwrap()
}

#[test]
fn a_run_of_copies_is_one_block_and_right_and_single_site_chains_say_they_are_stuck() {
    let bn = copies();
    let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
    for seed in 0..32 {
        let m = sampling::estimate(&c, 3, &[], &gibbs(2000, true), seed).unwrap();
        assert_eq!(m.blocks, vec![vec![0, 1, 2, 3]]);
        assert!(m.converged(), "seed {seed}: {:?}", m.doubts);
        assert!(z(&m, &[0.7, 0.3]) <= 6.0, "seed {seed}: {:?}", m.probabilities);
        let stuck = sampling::estimate(&c, 3, &[], &gibbs(2000, false), seed).unwrap();
        assert!(!stuck.converged(), "seed {seed}: single-site chains {:?} look converged", stuck.probabilities);
    }
}

/// A side x side grid with couplings `j` (same states favoured by e^j) and a field on the
/// first variable favouring state 1 by e^h.
fn grid(side: usize, j: f64, h: f64) -> (Vec<usize>, Vec<Factor>) {
    let n = side * side;
    let mut factors = vec![];
    for r in 0..side {
        for col in 0..side {
            let v = r * side + col;
            let pair = |w| Factor::new(&[v, w], &[2, 2], vec![j.exp(), (-j).exp(), (-j).exp(), j.exp()]).unwrap();
            if col + 1 < side {
                factors.push(pair(v + 1));
            }
            if r + 1 < side {
                factors.push(pair(v + side));
            }
        }
    }
    factors.push(Factor::new(&[0], &[2], vec![1.0, h.exp()]).unwrap());
    (vec![2; n], factors)
}

#[test]
fn chains_on_a_strong_ferromagnetic_grid_are_right_or_say_they_disagree() {
    let (cards, factors) = grid(4, 2.0, 0.8);
    let exact = variable_elimination(&factors, &cards, &[14], &[]).unwrap();
    let c = Compiled::new(&factors, &cards).unwrap();
    let mut flagged = 0;
    for seed in 0..8 {
        let m = sampling::estimate(&c, 14, &[], &gibbs(4000, true), seed).unwrap();
        if m.converged() {
            assert!(z(&m, &exact.values) <= 6.0, "seed {seed}: {:?} vs exact {:?}", m.probabilities, exact.values);
        } else {
            flagged += 1;
        }
    }
    // The two modes are far apart: chains started in both cannot agree in 4000 sweeps.
    assert_eq!(flagged, 8, "exact {:?}", exact.values);
}

/// A cause with children that each see the evidence with probability `p` given the cause's
/// state 0 and 0.5 given state 1.
fn faint_evidence(children: usize, p: f64) -> BayesianNetwork {
    let mut specs = vec![spec("cause", &[], vec![vec![0.5, 0.5]])];
    for k in 0..children {
        specs.push(spec(&format!("e{k}"), &["cause"], vec![vec![1.0 - p, p], vec![0.5, 0.5]]));
    }
    BayesianNetwork::new(&specs).unwrap()
}

#[test]
fn evidence_of_probability_1e_minus_360_is_weighed_in_log_space() {
    // 40 children at 1e-9 each: P(evidence | cause = 0) = 1e-360, below the smallest double.
    for (children, p) in [(20, 1e-9), (40, 1e-9), (40, 0.3)] {
        let bn = faint_evidence(children, p);
        let evidence: Vec<(usize, usize)> = (1..=children).map(|v| (v, 1)).collect();
        let exact = variable_elimination(&bn.factors, &bn.cards, &[0], &evidence).unwrap();
        let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
        for s in [weighting(20_000), gibbs(2000, true)] {
            let m = sampling::estimate(&c, 0, &evidence, &s, 3).unwrap();
            assert!(m.standard_errors.iter().chain(&m.ess).all(|x| x.is_finite() && *x > 0.0), "{m:?}");
            assert!(z(&m, &exact.values) <= 6.0 || !m.converged(), "{children} x {p}: {m:?} vs {:?}", exact.values);
        }
    }
}

#[test]
fn a_rare_dominant_cause_that_no_draw_meets_is_a_doubt() {
    // P(cause) = 1e-5; the evidence is almost impossible without it: P(cause | e) = 0.99.
    let bn = BayesianNetwork::new(&[
        spec("cause", &[], vec![vec![1.0 - 1e-5, 1e-5]]),
        spec("e", &["cause"], vec![vec![1.0 - 1e-7, 1e-7], vec![0.01, 0.99]]),
    ])
    .unwrap();
    let exact = variable_elimination(&bn.factors, &bn.cards, &[0], &[(1, 1)]).unwrap();
    assert!((exact.values[1] - 0.99).abs() < 1e-3);
    let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
    for seed in 0..8 {
        let m = sampling::estimate(&c, 0, &[(1, 1)], &weighting(20_000), seed).unwrap();
        assert!(m.doubts.iter().any(|d| matches!(d, Doubt::HeavyWeight { .. })), "seed {seed}: {m:?}");
    }
}

#[test]
fn gibbs_starts_wherever_the_evidence_is_possible() {
    // Eight roots of three states; `key` is 1 only when every root i is at state i mod 3:
    // no corner, random draw or greedy single-site climb finds that state, exact draws do.
    let mut specs: Vec<VariableSpec> = (0..8).map(|k| spec(&format!("r{k}"), &[], vec![vec![0.3, 0.3, 0.4]])).collect();
    let roots: Vec<String> = (0..8).map(|k| format!("r{k}")).collect();
    let parents: Vec<&str> = roots.iter().map(String::as_str).collect();
    let rows: Vec<Vec<f64>> = (0..3usize.pow(8))
        .map(|row| {
            // The last parent varies fastest.
            let key = (0..8).all(|i| (row / 3usize.pow(7 - i)) % 3 == i as usize % 3);
            if key {
                vec![0.0, 1.0]
            } else {
                vec![1.0, 0.0]
            }
        })
        .collect();
    specs.push(spec("key", &parents, rows));
    let bn = BayesianNetwork::new(&specs).unwrap();
    let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
    let m = sampling::estimate(&c, 2, &[(8, 1)], &gibbs(200, true), 1).unwrap();
    assert_eq!(m.probabilities, vec![0.0, 0.0, 1.0]);
    // Single-site chains cannot leave the only possible state, and say they cannot tell.
    assert_eq!(m.doubts, vec![Doubt::NeverMoved]);
    // Impossible evidence is named as such.
    let impossible = [(8, 1), (0, 1)];
    let e = sampling::estimate(&c, 2, &impossible, &gibbs(200, true), 1).unwrap_err();
    assert!(matches!(e, Error::ZeroEvidence { .. }), "{e}");
}

/// A random Bayesian network over `n` variables with 2 or 3 states: each table row is
/// one-hot (deterministic) with probability 0.3, has a 1e-6 entry with probability 0.2, and is
/// random otherwise; parents drawn from the earlier variables, the previous one most often,
/// so that deterministic runs form.
fn hard_network(n: usize, rng: &mut ChaCha8Rng) -> BayesianNetwork {
    let cards: Vec<usize> = (0..n).map(|_| rng.random_range(2..=3)).collect();
    let specs: Vec<VariableSpec> = (0..n)
        .map(|k| {
            let mut parents: Vec<usize> = (0..k).filter(|&p| p + 1 == k || rng.random::<f64>() < 0.2).collect();
            parents.truncate(3);
            let rows: usize = parents.iter().map(|&p| cards[p]).product();
            let cpt = (0..rows)
                .map(|_| {
                    let kind = rng.random::<f64>();
                    let mut row: Vec<f64> = if kind < 0.3 {
                        let hot = rng.random_range(0..cards[k]);
                        (0..cards[k]).map(|x| if x == hot { 1.0 } else { 0.0 }).collect()
                    } else if kind < 0.5 {
                        let rare = rng.random_range(0..cards[k]);
                        (0..cards[k]).map(|x| if x == rare { 1e-6 } else { 1.0 }).collect()
                    } else {
                        (0..cards[k]).map(|_| rng.random_range(0.05..1.0)).collect()
                    };
                    let s: f64 = row.iter().sum();
                    row.iter_mut().for_each(|x| *x /= s);
                    let rest: f64 = row[..row.len() - 1].iter().sum();
                    *row.last_mut().unwrap() = 1.0 - rest;
                    row
                })
                .collect();
            VariableSpec {
                name: format!("x{k}"),
                states: (0..cards[k]).map(|s| s.to_string()).collect(),
                parents: parents.iter().map(|p| format!("x{p}")).collect(),
                cpt,
            }
        })
        .collect();
    BayesianNetwork::new(&specs).unwrap()
}

/// No answer marked converged is beyond 6 standard errors of the exact one, on 200 random
/// networks (seeds fixed, so the test says the same every run).
#[test]
fn no_converged_answer_is_far_from_the_exact_one() {
    let (mut trusted, mut asked) = (0, 0);
    for seed in 0..200u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(4..9);
        let bn = hard_network(n, &mut rng);
        let target = rng.random_range(0..n);
        let mut evidence = vec![];
        for _ in 0..rng.random_range(0..3) {
            let v = rng.random_range(0..n);
            if v != target && !evidence.iter().any(|e: &(usize, usize)| e.0 == v) {
                evidence.push((v, rng.random_range(0..bn.cards[v])));
            }
        }
        let Ok(exact) = variable_elimination(&bn.factors, &bn.cards, &[target], &evidence) else {
            continue; // impossible evidence
        };
        let c = Compiled::bayesian(&bn.factors, &bn.cards, &bn.parents).unwrap();
        for s in [gibbs(1000, true), weighting(4000)] {
            asked += 1;
            match sampling::estimate(&c, target, &evidence, &s, seed) {
                Ok(m) if m.converged() => {
                    trusted += 1;
                    assert!(
                        z(&m, &exact.values) <= 6.0,
                        "seed {seed} {:?}: {:?} ± {:?} vs exact {:?}",
                        s.method,
                        m.probabilities,
                        m.standard_errors,
                        exact.values
                    );
                }
                Ok(_) => {}
                // Likelihood weighting may find no draw of positive weight, and says so.
                Err(e) => assert!(s.method == Method::LikelihoodWeighting, "seed {seed}: {e}"),
            }
        }
    }
    // Not vacuous: most answers are trusted.
    eprintln!("hard networks: {trusted} of {asked} trusted");
    assert!(trusted * 2 > asked, "{trusted} of {asked} trusted");
}

/// The same on 3 x 3 Markov grids with strong couplings of either sign and fields.
#[test]
fn no_converged_answer_on_strong_grids_is_far_from_the_exact_one() {
    let (mut trusted, mut asked) = (0, 0);
    for seed in 0..200u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let side = 3;
        let (cards, mut factors) = grid(side, 0.0, 0.0);
        for f in factors.iter_mut() {
            let j: f64 = rng.random_range(-3.0..3.0);
            f.values =
                if f.vars.len() == 2 { vec![j.exp(), (-j).exp(), (-j).exp(), j.exp()] } else { vec![1.0, j.exp()] };
        }
        let target = rng.random_range(0..side * side);
        let exact = variable_elimination(&factors, &cards, &[target], &[]).unwrap();
        let c = Compiled::new(&factors, &cards).unwrap();
        let m = sampling::estimate(&c, target, &[], &gibbs(1000, true), seed).unwrap();
        asked += 1;
        if m.converged() {
            trusted += 1;
            assert!(z(&m, &exact.values) <= 6.0, "seed {seed}: {:?} vs exact {:?}", m.probabilities, exact.values);
        }
    }
    // Not vacuous, though most chains on such grids honestly say they cannot cross between modes.
    eprintln!("strong grids: {trusted} of {asked} trusted");
    assert!(trusted >= 10, "{trusted} of {asked} trusted");
}

/// An open chain of `n` binary variables with couplings e^{±j}: Z = 2 (2 cosh j)^(n-1).
fn chain_network(n: usize, j: f64) -> cg_pgm::MarkovNetwork {
    let variables: Vec<cg_pgm::StatesSpec> = (0..n)
        .map(|k| cg_pgm::StatesSpec { name: format!("s{k}"), states: vec!["down".into(), "up".into()] })
        .collect();
    let factors: Vec<cg_pgm::FactorSpec> = (1..n)
        .map(|k| cg_pgm::FactorSpec {
            variables: vec![format!("s{}", k - 1), format!("s{k}")],
            values: vec![j.exp(), (-j).exp(), (-j).exp(), j.exp()],
        })
        .collect();
    cg_pgm::MarkovNetwork::new(&variables, &factors).unwrap()
}

#[test]
fn the_partition_function_above_2_to_the_20_comes_from_elimination() {
    for (n, j) in [(18, 0.7), (30, 0.7), (40, 30.0)] {
        let net = chain_network(n, j);
        let log_z = (n as f64 - 1.0) * (2.0 * j.cosh()).ln() + 2f64.ln();
        let got = net.log_partition_function().expect("a chain eliminates in tables of 4 entries");
        assert!((got - log_z).abs() < 1e-12 * log_z.abs(), "n {n}: log Z {got} vs {log_z}");
        let z = net.partition_function().unwrap();
        assert!((z / log_z.exp() - 1.0).abs() < 1e-10 || !log_z.exp().is_finite(), "n {n}: Z {z} vs {}", log_z.exp());
    }
}

#[test]
fn a_grid_of_tiny_factors_is_sampled_in_log_space() {
    // 10 x 10, every entry times 1e-7: the product of the 181 factors is about 1e-1267.
    // Couplings of 0.3, below the critical 0.44: the chains mix.
    let (cards, mut factors) = grid(10, 0.3, 0.3);
    for f in factors.iter_mut() {
        f.values.iter_mut().for_each(|x| *x *= 1e-7);
    }
    let exact = variable_elimination(&factors, &cards, &[55], &[]).unwrap();
    let c = Compiled::new(&factors, &cards).unwrap();
    let m = sampling::estimate(&c, 55, &[], &gibbs(2000, true), 2).unwrap();
    assert!(m.converged(), "{:?}", m.doubts);
    assert!(z(&m, &exact.values) <= 6.0, "{:?} vs exact {:?}", m.probabilities, exact.values);
}
