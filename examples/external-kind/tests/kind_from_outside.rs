//! The `pagerank` kind, added from outside the repository, works as the built-in kinds do:
//! listed, explained, run (against a direct linear solve), refused with one line for a bad
//! setting, and swept.

use std::process::Command;

fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pagerank-kind")).args(args).output().unwrap()
}

fn config() -> String {
    format!("{}/configs/pagerank.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn listed_and_explained_beside_the_built_in_kinds() {
    let kinds = String::from_utf8(binary(&["kinds"]).stdout).unwrap();
    assert!(kinds.contains("pagerank") && kinds.contains("bayes_net"), "{kinds}");
    let explain = String::from_utf8(binary(&["explain", "pagerank"]).stdout).unwrap();
    assert!(explain.contains("damping") && explain.contains("edges"), "{explain}");
}

/// The ranks solve r = (1 - d) / n + d P r: solved here by Gaussian elimination.
#[test]
fn ranks_agree_with_a_direct_solve() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = binary(&[&config(), "--out", out.to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["converged"], true);
    let names = ["a", "b", "c", "d"];
    let edges = [(0, 1), (1, 0), (0, 2), (1, 2), (2, 0), (3, 2)];
    let d = 0.85;
    let n = 4;
    let mut out_degree = [0.0; 4];
    for &(a, _) in &edges {
        out_degree[a] += 1.0;
    }
    // (I - d P) r = (1 - d) / n, P[i][j] = 1 / out(j) for a link j -> i.
    let mut a = vec![vec![0.0; n + 1]; n];
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = 1.0;
        row[n] = (1.0 - d) / n as f64;
    }
    for &(j, i) in &edges {
        a[i][j] -= d / out_degree[j];
    }
    for c in 0..n {
        let p = (c..n).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs())).unwrap();
        a.swap(c, p);
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                row.iter_mut().zip(&pivot).skip(c).for_each(|(x, p)| *x -= f * p);
            }
        }
    }
    for (i, name) in names.iter().enumerate() {
        let exact = a[i][n] / a[i][i];
        let got = m["ranks"][name].as_f64().unwrap();
        assert!((got - exact).abs() < 1e-11, "{name}: {got} vs {exact}");
    }
    assert!(out.join("residual.png").exists() && out.join("graph.svg").exists());
}

#[test]
fn a_bad_setting_is_one_line_and_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = binary(&[&config(), "damping=1.5", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("damping: 1.5 is not between 0 and 1"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn a_sweep_of_it_runs_and_summarises() {
    let tmp = tempfile::tempdir().unwrap();
    let o = binary(&["sweep", &config(), "damping=0.5,0.85", "--out", tmp.path().to_str().unwrap(), "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let multirun = tmp.path().join("pagerank/multirun");
    for job in ["0", "1"] {
        assert!(multirun.join(job).join("metrics.json").exists(), "job {job}");
    }
    let summary = std::fs::read_to_string(multirun.join("summary.csv")).unwrap();
    assert!(summary.lines().count() >= 3 && summary.contains("damping"), "{summary}");
}
