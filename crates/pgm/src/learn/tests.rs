//! Checks of the learners against brute force and closed forms.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::function::gamma::ln_gamma;

use super::*;
use crate::BayesianNetwork;

/// Random data: `n` rows over variables with the given numbers of states, each column a noisy
/// copy of the one before (so there is structure to find).
fn random_data(cards: &[usize], n: usize, seed: u64) -> DiscreteData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut csv = (0..cards.len()).map(|v| format!("v{v}")).collect::<Vec<_>>().join(",") + "\n";
    for _ in 0..n {
        let mut prev = 0;
        let row: Vec<String> = cards
            .iter()
            .map(|&c| {
                let x = if rng.random::<f64>() < 0.6 { prev % c } else { rng.random_range(0..c) };
                prev = x;
                format!("s{x}")
            })
            .collect();
        csv += &(row.join(",") + "\n");
    }
    DiscreteData::from_csv(&csv).unwrap()
}

/// Counts of (parent states, child state) by a hash map of whole tuples, every parent
/// configuration visited (seen or not): independent of the sparse counting.
fn brute_score(data: &DiscreteData, v: usize, parents: &[usize], score: Score) -> f64 {
    let cards = data.cards();
    let r = cards[v];
    let mut counts: HashMap<(Vec<u16>, u16), f64> = HashMap::new();
    for row in 0..data.rows() {
        let key: Vec<u16> = parents.iter().map(|&p| data.column(p)[row]).collect();
        *counts.entry((key, data.column(v)[row])).or_default() += 1.0;
    }
    let q: usize = parents.iter().map(|&p| cards[p]).product();
    let mut total = 0.0;
    for j in 0..q {
        let mut rest = j;
        let key: Vec<u16> = parents
            .iter()
            .rev()
            .map(|&p| {
                let x = rest % cards[p];
                rest /= cards[p];
                x as u16
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let n_jk: Vec<f64> = (0..r).map(|k| counts.get(&(key.clone(), k as u16)).copied().unwrap_or(0.0)).collect();
        let n_j: f64 = n_jk.iter().sum();
        total += match score {
            Score::LogLikelihood | Score::Bic => {
                n_jk.iter().filter(|&&x| x > 0.0).map(|&x| x * (x / n_j).ln()).sum::<f64>()
            }
            Score::Bdeu { ess } => {
                let (a, b) = (ess / q as f64, ess / (q * r) as f64);
                ln_gamma(a) - ln_gamma(n_j + a) + n_jk.iter().map(|&x| ln_gamma(x + b) - ln_gamma(b)).sum::<f64>()
            }
            Score::K2 => {
                ln_gamma(r as f64) - ln_gamma(n_j + r as f64) + n_jk.iter().map(|&x| ln_gamma(x + 1.0)).sum::<f64>()
            }
        };
    }
    if score == Score::Bic {
        total -= 0.5 * (data.rows() as f64).ln() * (q * (r - 1)) as f64;
    }
    total
}

#[test]
fn scores_equal_brute_force_on_dense_and_sparse_counts() {
    // Many states with few rows: the last family (30 x 30 x 30 x 7) is counted sparsely.
    for (cards, n) in [(vec![2, 3, 4, 2], 500), (vec![30, 30, 30, 7], 300)] {
        let data = random_data(&cards, n, 7);
        for score in [Score::LogLikelihood, Score::Bic, Score::Bdeu { ess: 10.0 }, Score::Bdeu { ess: 1.5 }, Score::K2]
        {
            for parents in [vec![], vec![0], vec![2, 0], vec![0, 1, 2]] {
                let ours = score.local(&count(&data, 3, &parents));
                let brute = brute_score(&data, 3, &parents, score);
                assert!((ours - brute).abs() <= 1e-9 * brute.abs(), "{score:?} {parents:?}: {ours} vs {brute}");
            }
        }
    }
}

#[test]
fn sparse_and_dense_counts_agree() {
    let data = random_data(&[40, 40, 40, 3], 200, 3);
    let c = count(&data, 3, &[0, 1, 2]);
    assert!(c.keys.len() <= 200);
    let mut brute: HashMap<u64, Vec<u32>> = HashMap::new();
    let k = data.cards();
    for row in 0..data.rows() {
        let x = |v: usize| data.column(v)[row] as u64;
        let key = (x(0) * k[1] as u64 + x(1)) * k[2] as u64 + x(2);
        brute.entry(key).or_insert_with(|| vec![0; 3])[data.column(3)[row] as usize] += 1;
    }
    assert_eq!(c.keys.len(), brute.len());
    for (key, row) in c.rows() {
        assert_eq!(row, &brute[&key][..]);
    }
}

#[test]
fn maximum_likelihood_tables_are_the_frequencies() {
    let data = random_data(&[2, 3, 2], 400, 11);
    let net =
        fit(&data, &[vec![], vec![0], vec![0, 1]], Estimator::MaximumLikelihood { unseen: Unseen::Uniform }).unwrap();
    for a in 0..2u16 {
        for b in 0..3u16 {
            let rows: Vec<usize> =
                (0..data.rows()).filter(|&r| data.column(0)[r] == a && data.column(1)[r] == b).collect();
            let ones = rows.iter().filter(|&&r| data.column(2)[r] == 1).count();
            let p = net.factors[2].value_at(&[a as usize, b as usize, 1]);
            assert!((p - ones as f64 / rows.len() as f64).abs() < 1e-15);
        }
    }
    // A configuration never seen: uniform, or refused with its name.
    let data = DiscreteData::from_csv("a,b\nx,0\nx,1\ny,1\nz,0\n").unwrap();
    let mut csv = data.to_csv();
    csv.push_str("w,\n");
    let with_w = DiscreteData::from_csv(&csv).unwrap();
    let e = fit(&with_w, &[vec![], vec![0]], Estimator::MaximumLikelihood { unseen: Unseen::Refuse }).unwrap_err();
    assert!(e.to_string().contains("(a = w) never occurs"), "{e}");
}

#[test]
fn search_is_the_same_on_one_and_two_threads_and_after_a_resume() {
    let data = random_data(&[3, 2, 4, 2, 3, 2], 2000, 5);
    let settings = HillClimb { restarts: 2, perturbation: 3, ..HillClimb::default() };
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Search::new(&data, settings.clone(), None).unwrap().run())
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one, two);
    assert!(one.moves > 3);
    // Stopped after 3 steps, the state through JSON, resumed: the same end.
    let mut s = Search::new(&data, settings.clone(), None).unwrap();
    for _ in 0..3 {
        s.step();
    }
    let saved = serde_json::to_string(s.state()).unwrap();
    let resumed = Search::resume(&data, settings, serde_json::from_str(&saved).unwrap()).unwrap().run();
    assert_eq!((&resumed.parents, resumed.score, &resumed.curve), (&one.parents, one.score, &one.curve));
    // The reported score is the structure's.
    assert!((one.score - Score::Bic.total(&data, &one.parents)).abs() < 1e-9);
}

/// Every DAG over 3 variables, as parent lists.
fn all_dags3() -> Vec<Vec<Vec<usize>>> {
    let pairs = [(0, 1), (0, 2), (1, 2)];
    let mut out = vec![];
    for code in 0..27 {
        let mut parents = vec![vec![]; 3];
        let mut c = code;
        for &(a, b) in &pairs {
            match c % 3 {
                1 => parents[b].push(a),
                2 => parents[a].push(b),
                _ => {}
            }
            c /= 3;
        }
        if dag::parents_first(&parents).is_some() {
            out.push(parents);
        }
    }
    out
}

#[test]
fn hill_climbing_reaches_the_best_of_all_three_variable_dags() {
    let dags = all_dags3();
    assert_eq!(dags.len(), 25);
    for seed in 0..4 {
        let data = random_data(&[2, 3, 2], 300, seed);
        for score in [Score::Bic, Score::Bdeu { ess: 5.0 }, Score::K2] {
            let best = dags.iter().map(|d| score.total(&data, d)).fold(f64::NEG_INFINITY, f64::max);
            let settings = HillClimb { score, epsilon: 0.0, restarts: 3, ..HillClimb::default() };
            let found = Search::new(&data, settings, None).unwrap().run();
            assert!(found.score >= best - 1e-9, "{score:?} seed {seed}: {} < {best}", found.score);
        }
    }
}

#[test]
fn lists_and_in_degree_are_kept() {
    let data = random_data(&[2, 2, 2, 2, 2], 3000, 9);
    let settings = HillClimb { max_indegree: Some(1), black_list: vec![(0, 1), (1, 0)], ..HillClimb::default() };
    let found = Search::new(&data, settings, None).unwrap().run();
    assert!(found.parents.iter().all(|p| p.len() <= 1));
    assert!(!found.parents[1].contains(&0) && !found.parents[0].contains(&1));
    let white = HillClimb { white_list: Some(vec![(3, 4)]), ..HillClimb::default() };
    let found = Search::new(&data, white, None).unwrap().run();
    assert!(edges(&found.parents).iter().all(|&e| e == (3, 4)));
}

/// A variable as (name, parents, cpt rows), its states 0 and 1.
type Binary<'a> = (&'a str, &'a [&'a str], Vec<Vec<f64>>);

/// A network of binary variables.
fn net(spec: &[Binary<'_>]) -> BayesianNetwork {
    let specs: Vec<crate::VariableSpec> = spec
        .iter()
        .map(|(name, parents, cpt)| crate::VariableSpec {
            name: name.to_string(),
            states: vec!["0".into(), "1".into()],
            parents: parents.iter().map(|p| p.to_string()).collect(),
            cpt: cpt.clone(),
        })
        .collect();
    BayesianNetwork::new(&specs).unwrap()
}

fn sample(net: &BayesianNetwork, n: usize, seed: u64) -> DiscreteData {
    DiscreteData::from_draws(net, &net.sample(n, &mut ChaCha8Rng::seed_from_u64(seed)))
}

#[test]
fn pc_orients_a_collider_and_leaves_a_chain_undirected() {
    let collider = net(&[
        ("a", &[], vec![vec![0.5, 0.5]]),
        ("b", &[], vec![vec![0.4, 0.6]]),
        ("c", &["a", "b"], vec![vec![0.9, 0.1], vec![0.3, 0.7], vec![0.2, 0.8], vec![0.05, 0.95]]),
    ]);
    for test in [CiTest::ChiSquare, CiTest::G] {
        let found = pc(&sample(&collider, 5000, 1), Pc { test, ..Pc::default() }).unwrap();
        assert_eq!(found.cpdag, Pdag::of_dag(&collider.parents), "{test:?}");
        assert_eq!(found.cpdag.directed.len(), 2);
    }
    let chain = net(&[
        ("a", &[], vec![vec![0.5, 0.5]]),
        ("b", &["a"], vec![vec![0.9, 0.1], vec![0.2, 0.8]]),
        ("c", &["b"], vec![vec![0.85, 0.15], vec![0.25, 0.75]]),
    ]);
    let found = pc(&sample(&chain, 5000, 2), Pc::default()).unwrap();
    assert_eq!(found.cpdag.undirected.len(), 2);
    assert_eq!(found.separating, vec![((0, 2), vec![1])]);
    let dag = found.cpdag.to_dag().unwrap();
    assert_eq!(Pdag::of_dag(&dag), found.cpdag);
}

#[test]
fn a_cpdag_extends_to_a_dag_of_its_class() {
    // Random DAGs over 7 variables: of_dag, then to_dag, then of_dag again is the same class.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..200 {
        let parents: Vec<Vec<usize>> =
            (0..7).map(|v| (0..v).filter(|_| rng.random::<f64>() < 0.35).collect()).collect();
        let class = Pdag::of_dag(&parents);
        let back = class.to_dag().unwrap();
        assert_eq!(Pdag::of_dag(&back), class);
        assert_eq!(compare(&(0..7).map(|v| v.to_string()).collect::<Vec<_>>(), &back, &parents).cpdag_shd, 0);
    }
}

/// log P(observed cells of each row) by enumerating the missing ones over the whole joint.
fn brute_log_likelihood(net: &BayesianNetwork, data: &DiscreteData) -> f64 {
    let n = data.variables();
    let mut total = 0.0;
    for r in 0..data.rows() {
        let mut p = 0.0;
        for code in 0..(1usize << n) {
            let x: Vec<usize> = (0..n).map(|v| code >> v & 1).collect();
            if (0..n).any(|v| data.column(v)[r] != MISSING && data.column(v)[r] as usize != x[v]) {
                continue;
            }
            p += net.factors.iter().map(|f| f.value_at(&x)).product::<f64>();
        }
        total += p.ln();
    }
    total
}

#[test]
fn em_climbs_and_reports_the_true_log_likelihood() {
    let truth = net(&[
        ("a", &[], vec![vec![0.3, 0.7]]),
        ("b", &["a"], vec![vec![0.9, 0.1], vec![0.2, 0.8]]),
        ("c", &["a", "b"], vec![vec![0.7, 0.3], vec![0.4, 0.6], vec![0.25, 0.75], vec![0.1, 0.9]]),
    ]);
    let complete = sample(&truth, 1000, 3);
    // Complete data: EM ends at maximum likelihood.
    let fitted = em(&complete, &truth.parents, Em::default()).unwrap();
    let ml = fit(&complete, &truth.parents, Estimator::MaximumLikelihood { unseen: Unseen::Uniform }).unwrap();
    for (f, g) in fitted.net.factors.iter().zip(&ml.factors) {
        for (x, y) in f.values.iter().zip(&g.values) {
            assert!((x - y).abs() < 1e-12);
        }
    }
    let mut holes = complete.clone();
    holes.hide(0.3, &mut ChaCha8Rng::seed_from_u64(8));
    let fitted = em(&holes, &truth.parents, Em::default()).unwrap();
    assert!(fitted.converged);
    assert!(fitted.log_likelihood.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()));
    let last = *fitted.log_likelihood.last().unwrap();
    assert!((last - brute_log_likelihood(&fitted.net, &holes)).abs() < 1e-8 * last.abs());
    // A stationary point: nudging any row of any table lowers the likelihood.
    for v in 0..3 {
        for sign in [-1.0, 1.0] {
            let mut nudged = fitted.net.clone();
            let f = &mut nudged.factors[v];
            let (a, b) = (f.values[0], f.values[1]);
            f.values[0] = a + sign * 1e-3;
            f.values[1] = b - sign * 1e-3;
            assert!(brute_log_likelihood(&nudged, &holes) < last + 1e-9, "table {v}");
        }
    }
}

#[test]
fn most_probable_states_equal_enumeration() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for _ in 0..30 {
        let row = |rng: &mut ChaCha8Rng| {
            let p = rng.random::<f64>();
            vec![p, 1.0 - p]
        };
        let bn = net(&[
            ("a", &[], vec![row(&mut rng)]),
            ("b", &["a"], vec![row(&mut rng), row(&mut rng)]),
            ("c", &["a"], vec![row(&mut rng), row(&mut rng)]),
            ("d", &["b", "c"], (0..4).map(|_| row(&mut rng)).collect()),
        ]);
        let joint = |x: &[usize]| bn.factors.iter().map(|f| f.value_at(x)).product::<f64>();
        // MAP of (b, c) given d = 1: brute force over a, b, c.
        let mut best = (vec![], f64::NEG_INFINITY);
        let mut pe = 0.0;
        for b in 0..2 {
            for c in 0..2 {
                let p: f64 = (0..2).map(|a| joint(&[a, b, c, 1])).sum();
                pe += p;
                if p > best.1 {
                    best = (vec![b, c], p);
                }
            }
        }
        let found = crate::most_probable(&bn.factors, &bn.cards, &[1, 2], &[(3, 1)]).unwrap();
        assert_eq!(found.states, best.0);
        assert!((found.probability - best.1 / pe).abs() < 1e-12);
    }
}
