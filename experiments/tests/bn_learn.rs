//! Learning Bayesian networks from the command line: the stored `bn_learn` results checked
//! against closed forms, and `experiments sample` / `experiments query` on Asia.

use std::process::{Command, Output};

mod common;

use common::{folder, numbers, stored};

fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_experiments")).args(args).output().unwrap()
}

const ASIA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/networks/asia.bif");

#[test]
fn hill_climbing_finds_asias_equivalence_class_and_its_scores_agree() {
    let m = stored("asia_learn");
    let c = &m["reference"]["comparison"];
    assert_eq!(c["cpdag_shd"], 0, "{c}");
    let s = &m["structure"]["scores"];
    // The learnt structure scores at least as well as the true one (it is the same class).
    assert!(s["bic"].as_f64().unwrap() >= m["reference"]["scores"]["bic"].as_f64().unwrap() - 1e-6);
    // Two computations of the log-likelihood: from the counts (the score) and by summing
    // ln P(row) under the fitted network, row by row.
    let (from_counts, by_rows) =
        (s["log_likelihood"].as_f64().unwrap(), m["parameters"]["log_likelihood"].as_f64().unwrap());
    assert!((from_counts - by_rows).abs() < 1e-9 * from_counts.abs());
    // BIC = log-likelihood - ln(N)/2 x free parameters.
    let n = m["data"]["rows"].as_f64().unwrap();
    let k = m["parameters"]["free_parameters"].as_f64().unwrap();
    assert!((s["bic"].as_f64().unwrap() - (from_counts - 0.5 * n.ln() * k)).abs() < 1e-6);
    // Every move improves the score; it falls only where a restart begins again.
    let curve = numbers(&m["structure"]["score_curve"]);
    let falls = curve.windows(2).filter(|w| w[1] <= w[0]).count();
    assert!(falls <= m["structure"]["restarts"].as_u64().unwrap() as usize, "{curve:?}");
    let best = curve.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!((best - s["bic"].as_f64().unwrap()).abs() < 1e-6);
}

#[test]
fn pc_gives_a_pattern_and_a_dag_of_it() {
    let m = stored("asia_learn_pc");
    let st = &m["structure"];
    let pairs = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_array().unwrap().iter().map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into())).collect()
    };
    let (directed, undirected, edges) =
        (pairs(&st["cpdag_directed"]), pairs(&st["cpdag_undirected"]), pairs(&st["edges"]));
    assert_eq!(edges.len(), directed.len() + undirected.len());
    for d in &directed {
        assert!(edges.contains(d), "{d:?} kept as directed");
    }
    for (a, b) in &undirected {
        assert!(edges.contains(&(a.clone(), b.clone())) ^ edges.contains(&(b.clone(), a.clone())));
    }
}

#[test]
fn em_never_lowers_the_likelihood_and_converges() {
    let m = stored("asia_learn_em");
    let em = &m["parameters"]["em"];
    let curve = numbers(&em["log_likelihood_curve"]);
    assert!(curve.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()), "EM went down");
    assert_eq!(em["converged"], true);
    // About a fifth of 5000 x 8 cells hidden: 8000 on average, sd sqrt(40000 x 0.16) = 80.
    let hidden = m["data"]["missing_cells"].as_f64().unwrap();
    assert!((hidden - 8000.0).abs() < 400.0, "{hidden}");
}

#[test]
fn sampled_csv_learns_what_the_sampling_config_learns() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("asia.csv");
    let o = binary(&["sample", ASIA, "-n", "10000", "--seed", "0", "--out", csv.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The same seed gives the same rows, to standard output too.
    let again = binary(&["sample", ASIA, "-n", "10000", "--seed", "0"]);
    assert_eq!(again.stdout, std::fs::read(&csv).unwrap());
    // An existing file is never replaced.
    let o = binary(&["sample", ASIA, "-n", "5", "--out", csv.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists"));
    assert_eq!(again.stdout, std::fs::read(&csv).unwrap());
    // Learnt from the CSV (states read against the network), the same network as from
    // `[data.sample]` with the same seed.
    let config = tmp.path().join("from_csv.toml");
    std::fs::write(
        &config,
        format!(
            "kind = \"bn_learn\"\n[data]\ncsv = \"asia.csv\"\nstates_from_reference = true\n[reference]\nbif = {ASIA:?}\n[learn]\nmethod = \"hill_climb\"\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stored_bif =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../results/asia_learn/network.bif")).unwrap();
    let learnt = std::fs::read_to_string(out.join("network.bif")).unwrap();
    // The same network; each file named after its own config.
    assert!(learnt.starts_with("network from_csv {") && stored_bif.starts_with("network asia_learn {"));
    let body = |t: &str| t.split_once('\n').unwrap().1.to_string();
    assert_eq!(body(&learnt), body(&stored_bif));
}

#[test]
fn one_line_queries_are_exact() {
    // P(lung = yes | smoke = yes) is the table's 0.1; P(lung = yes) = 0.5 x 0.1 + 0.5 x 0.01.
    let o = binary(&["query", ASIA, "P(lung | smoke = yes)"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("lung = yes  0.1\n"), "{text}");
    let o = binary(&["query", ASIA, "P(lung)"]);
    let p: f64 = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap();
    assert!((p - 0.055).abs() < 1e-15);
    // MAP of smoke alone given nothing: the two states tie at 0.5; the first wins.
    let o = binary(&["query", ASIA, "MAP(smoke)"]);
    assert!(String::from_utf8(o.stdout).unwrap().contains("smoke = yes  0.5\n"));
    // Bad questions: one line, exit 2.
    for bad in ["P(lung | smoke = maybe)", "P(nothing)", "Q(lung)", "P(lung | smoke)"] {
        let o = binary(&["query", ASIA, bad]);
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
    // A sampler on request: its answer within four standard errors of the exact one.
    let o = binary(&["query", ASIA, "P(lung | xray = yes)", "--sampler", "gibbs", "--samples", "5000"]);
    let text = String::from_utf8(o.stdout).unwrap();
    let exact: f64 = text.lines().nth(1).unwrap().split_whitespace().last().unwrap().parse().unwrap();
    let sampled = text.lines().find(|l| l.starts_with("lung = yes") && l.contains('±')).unwrap();
    let words: Vec<&str> = sampled.split_whitespace().collect();
    let (p, se): (f64, f64) = (words[3].parse().unwrap(), words[5].parse().unwrap());
    assert!((p - exact).abs() < 4.0 * se, "{text}");
}

#[test]
fn bad_learning_configs_name_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |text: &str| {
        let config = tmp.path().join("bad.toml");
        std::fs::write(&config, text).unwrap();
        let out = tmp.path().join("never");
        let o = binary(&[config.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2));
        assert!(!out.exists());
        let e = String::from_utf8(o.stderr).unwrap();
        assert_eq!(e.lines().count(), 1, "{e}");
        e
    };
    let head = format!("kind = \"bn_learn\"\n[data.sample]\nbif = {ASIA:?}\nrows = 100\n");
    assert!(run(&format!("{head}[learn]\nmethod = \"hill_climb\"\nblack_list = [[\"asia\", \"nope\"]]\n"))
        .contains("[learn] black_list: no variable `nope`"));
    assert!(run(&format!("{head}missing = 0.1\n[learn]\nmethod = \"pc\"\n")).contains("needs complete data"));
    assert!(run(&format!("{head}[learn]\nmethod = \"pc\"\nalpha = 2\n")).contains("alpha"));
    assert!(run(&format!("{head}[learn]\nmethod = \"annealing\"\n")).contains("annealing"));
    std::fs::write(tmp.path().join("ragged.csv"), "a,b\nx,y\nx,y,z\n").unwrap();
    let e = run("kind = \"bn_learn\"\n[data]\ncsv = \"ragged.csv\"\n[learn]\nmethod = \"hill_climb\"\n");
    assert!(e.contains("ragged.csv: line 3"), "{e}");
}

#[test]
fn a_search_stopped_and_resumed_ends_as_one_never_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/asia_learn.toml");
    let path = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let o = binary(&[config, "-q", "--out", &path("whole")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Stopped in the first climb, and in a restart (the first climb takes 9 steps).
    for stop in ["3", "13"] {
        let (stopped, resumed) = (path(&format!("stopped{stop}")), path(&format!("resumed{stop}")));
        let o = binary(&[config, "-q", "--stop-after", stop, "--out", &stopped]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(std::path::Path::new(&stopped).join("state.json").exists());
        let o = binary(&[config, "-q", "--resume", &stopped, "--out", &resumed]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(folder(std::path::Path::new(&resumed)), folder(&tmp.path().join("whole")), "stopped after {stop}");
    }
}
