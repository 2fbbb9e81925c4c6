//! `experiments predict` applies a saved model to CSV rows: on the training rows its predictions
//! give back what the run reported (accuracy, R², quantization error, exact log-likelihood),
//! computed here from the predictions alone.

use std::path::{Path, PathBuf};

use experiments::config::Override;
use experiments::predict::{predict, Predictions};
use experiments::{run_with, RunOptions};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a config (with overrides) into a temporary folder; returns the folder and its metrics.
fn trained(config: &str, overrides: &[&str]) -> (tempfile::TempDir, Value) {
    let o: Vec<Override> = overrides.iter().map(|s| Override::parse(s).unwrap()).collect();
    let outcome = run_with(&root().join("configs").join(config), &o, &RunOptions::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    experiments::write(&outcome, tmp.path()).unwrap();
    let metrics = serde_json::from_slice(&std::fs::read(tmp.path().join("metrics.json")).unwrap()).unwrap();
    (tmp, metrics)
}

fn predicted(dir: &Path, csv: &str) -> Predictions {
    predict(dir, &root().join("data").join(csv)).unwrap()
}

/// The source file's target column.
fn targets(csv: &str) -> Vec<f64> {
    let table = cg_data::read_table(&root().join("data").join(csv)).unwrap();
    let t = table.column("target").unwrap();
    table.rows.iter().map(|r| r[t]).collect()
}

fn column(p: &Predictions, name: &str) -> Vec<f64> {
    let k = p.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name} in {:?}", p.columns));
    p.rows.iter().map(|r| r[k]).collect()
}

/// (accuracy on the training rows, on the test rows) of the `class` column.
fn accuracies(p: &Predictions, csv: &str, metrics: &Value) -> (f64, Option<f64>) {
    let test: Vec<usize> =
        metrics["test_rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let (class, truth) = (column(p, "class"), targets(csv));
    let mut counts = [(0usize, 0usize); 2];
    for (k, (c, t)) in class.iter().zip(&truth).enumerate() {
        let split = usize::from(test.contains(&k));
        counts[split].0 += usize::from(c == t);
        counts[split].1 += 1;
    }
    let rate = |(right, all): (usize, usize)| right as f64 / all as f64;
    (rate(counts[0]), (counts[1].1 > 0).then(|| rate(counts[1])))
}

#[test]
fn a_classifier_reproduces_its_accuracies_and_gives_probabilities() {
    let (dir, metrics) = trained("softmax_iris.toml", &[]);
    let p = predicted(dir.path(), "iris.csv");
    assert_eq!(p.columns[..4], ["class", "p_0", "p_1", "p_2"]);
    let (train, test) = accuracies(&p, "iris.csv", &metrics);
    assert_eq!(train, metrics["train_accuracy"].as_f64().unwrap());
    assert_eq!(test, metrics["test_accuracy"].as_f64());
    for row in &p.rows {
        let probs = &row[1..4];
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let argmax = (0..3).max_by(|&a, &b| probs[a].total_cmp(&probs[b])).unwrap();
        assert_eq!(row[0], argmax as f64);
    }
}

#[test]
fn an_f32_network_and_a_general_model_reproduce_their_accuracies() {
    let f32_run = ["train.epochs=3", "train.check_epochs=1", "train.precision=f32"];
    for (config, csv, overrides) in [
        ("digits_mlp.toml", "digits.csv", &f32_run[..]),
        ("model_skip_wine.toml", "wine.csv", &["train.epochs=40"][..]),
        ("logreg_breast_cancer.toml", "breast_cancer.csv", &[][..]),
    ] {
        let (dir, metrics) = trained(config, overrides);
        let p = predicted(dir.path(), csv);
        let (train, test) = accuracies(&p, csv, &metrics);
        assert_eq!(train, metrics["train_accuracy"].as_f64().unwrap(), "{config}");
        assert_eq!(test, metrics["test_accuracy"].as_f64(), "{config}");
    }
}

#[test]
fn a_regression_predicts_in_the_targets_units() {
    let (dir, metrics) = trained("linreg_diabetes.toml", &[]);
    let p = predicted(dir.path(), "diabetes.csv");
    let test: Vec<u64> = metrics["test_rows"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let (y, o) = (targets("diabetes.csv"), column(&p, "output"));
    let train: Vec<(f64, f64)> = y
        .iter()
        .zip(&o)
        .enumerate()
        .filter(|(k, _)| !test.contains(&(*k as u64)))
        .map(|(_, (a, b))| (*a, *b))
        .collect();
    let n = train.len() as f64;
    let mean = train.iter().map(|t| t.0).sum::<f64>() / n;
    let sse: f64 = train.iter().map(|(t, p)| (t - p).powi(2)).sum();
    let sst: f64 = train.iter().map(|(t, _)| (t - mean).powi(2)).sum();
    // R² does not depend on the units, so it checks the undoing of the target's standardisation.
    let r2 = metrics["train_r2"].as_f64().unwrap();
    assert!((1.0 - sse / sst - r2).abs() < 1e-9, "{} vs {r2}", 1.0 - sse / sst);
}

#[test]
fn a_som_s_distances_average_to_its_quantization_error() {
    // On a rectangular lattice, so the U-matrix can be rebuilt below with 8 neighbours a unit.
    let (dir, metrics) = trained("som_iris.toml", &["som.topology=\"rectangular\""]);
    let p = predicted(dir.path(), "iris.csv");
    let d = column(&p, "distance");
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let qe = metrics["quantization_error"].as_f64().unwrap();
    assert!((mean - qe).abs() < 1e-12, "{mean} vs {qe}");
    let (rows, cols) = (column(&p, "row"), column(&p, "col"));
    assert!(rows.iter().all(|&r| r < 10.0) && cols.iter().all(|&c| c < 10.0));
    // hits.csv and labels.csv, rebuilt here from the predicted units: each unit's count, and the
    // most frequent true class among its samples (ties to the lower class), which `predict`
    // also gives as each row's class.
    let truth = targets("iris.csv");
    let mut counts = vec![[0usize; 3]; 100];
    for ((r, c), t) in rows.iter().zip(&cols).zip(&truth) {
        counts[*r as usize * 10 + *c as usize][*t as usize] += 1;
    }
    let text = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let hits: Vec<usize> =
        text("hits.csv").split([',', '\n']).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    assert_eq!(hits, counts.iter().map(|c| c.iter().sum::<usize>()).collect::<Vec<_>>());
    let names = ["setosa", "versicolor", "virginica"];
    let majority: Vec<Option<usize>> = counts
        .iter()
        .map(|c| (c.iter().sum::<usize>() > 0).then(|| (0..3).rev().max_by_key(|&k| c[k]).unwrap()))
        .collect();
    let labels: Vec<String> =
        text("labels.csv").lines().flat_map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>()).collect();
    let expected: Vec<String> = majority.iter().map(|m| m.map_or(String::new(), |k| names[k].to_string())).collect();
    assert_eq!(labels, expected);
    let class = column(&p, "class");
    for ((r, c), k) in rows.iter().zip(&cols).zip(&class) {
        assert_eq!(*k, majority[*r as usize * 10 + *c as usize].unwrap() as f64);
    }
    let csv = p.csv();
    assert!(csv.starts_with("row,col,distance,class,class_name\n"), "{}", &csv[..60]);
    // The U-matrix grid: each unit's mean distance to its (up to 8) neighbours on the
    // rectangular 10 x 10 lattice, from codebook.json, as MiniSom's distance_map averages them.
    let u: Vec<f64> =
        text("u_matrix.csv").split([',', '\n']).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    let codebook: serde_json::Value = serde_json::from_str(&text("codebook.json")).unwrap();
    let w: Vec<Vec<f64>> =
        codebook["weights"].as_array().unwrap().iter().map(|v| serde_json::from_value(v.clone()).unwrap()).collect();
    for r in 0..10i32 {
        for c in 0..10i32 {
            let mut near = vec![];
            for (dr, dc) in [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] {
                let (rr, cc) = (r + dr, c + dc);
                if (0..10).contains(&rr) && (0..10).contains(&cc) {
                    let (a, b) = (&w[(r * 10 + c) as usize], &w[(rr * 10 + cc) as usize]);
                    near.push(a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt());
                }
            }
            let mean = near.iter().sum::<f64>() / near.len() as f64;
            assert!((u[(r * 10 + c) as usize] - mean).abs() < 1e-12);
        }
    }
}

#[test]
fn an_rbm_s_free_energies_give_its_exact_likelihood() {
    let (dir, metrics) = trained("rbm_wine_gaussian.toml", &["rbm.epochs=5"]);
    let p = predicted(dir.path(), "wine.csv");
    let free: Vec<f64> = column(&p, "free_energy");
    // log Z of Gaussian visible units (unit variance), brute force over the hidden states:
    // Z = (2π)^(nv/2) Σ_h exp(c·h + b·Wh + |Wh|²/2).
    let model = experiments::predict::SavedModel::load(dir.path()).unwrap();
    let (shape, w) = model.tensor("W").unwrap();
    let (nv, nh) = (shape[0], shape[1]);
    let (b, c) = (model.tensor("visible_bias").unwrap().1, model.tensor("hidden_bias").unwrap().1);
    let terms: Vec<f64> = (0..1usize << nh)
        .map(|bits| {
            let h: Vec<f64> = (0..nh).map(|j| f64::from(u8::from(bits >> j & 1 == 1))).collect();
            let u: Vec<f64> = (0..nv).map(|i| (0..nh).map(|j| w[i * nh + j] * h[j]).sum()).collect();
            let ch: f64 = c.iter().zip(&h).map(|(x, y)| x * y).sum();
            let bu: f64 = b.iter().zip(&u).map(|(x, y)| x * y).sum();
            ch + bu + 0.5 * u.iter().map(|x| x * x).sum::<f64>()
        })
        .collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_z = 0.5 * nv as f64 * (2.0 * std::f64::consts::PI).ln()
        + top
        + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln();
    let mean_ll = free.iter().map(|f| -f - log_z).sum::<f64>() / free.len() as f64;
    let reported = metrics["exact_log_likelihood"].as_f64().unwrap();
    assert!((mean_ll - reported).abs() < 1e-9 * reported.abs(), "{mean_ll} vs {reported}");
}

#[test]
fn missing_columns_and_kinds_without_predictions_are_one_line_errors() {
    let (dir, _) = trained("softmax_iris.toml", &[]);
    let e = format!("{:#}", predict(dir.path(), &root().join("data/wine.csv")).unwrap_err());
    assert!(e.contains("no column named `sepal_length_cm`"), "{e}");
    assert!(!e.contains('\n'));
    let (dir, _) = trained("hopfield_digits.toml", &[]);
    let e = format!("{:#}", predict(dir.path(), &root().join("data/digits.csv")).unwrap_err());
    assert!(
        e.starts_with("kind `hopfield_digits` has no predictions for new rows (kinds that do: mlp, model, som, rbm)"),
        "{e}"
    );
}

#[test]
fn the_command_writes_csv_or_one_error_line() {
    let bin = env!("CARGO_BIN_EXE_experiments");
    let (dir, data) = (root().join("results/softmax_iris"), root().join("data/iris.csv"));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p.csv");
    let args = ["predict", dir.to_str().unwrap(), "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let o = std::process::Command::new(bin).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("class,p_0,p_1,p_2,output_0,output_1,output_2\n"), "{text}");
    assert_eq!(text.lines().count(), 151);
    let wine = root().join("data/wine.csv");
    let o = std::process::Command::new(bin)
        .args(["predict", dir.to_str().unwrap(), "--data", wine.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: predict ") && err.contains("no column named"), "{err}");
}

/// A model file whose metadata disagrees with its tensors (edited, damaged, written by another
/// tool) is refused with one line naming the file, never a panic.
#[test]
fn metadata_that_disagrees_with_the_tensors_is_refused() {
    let (dir, _) = trained("softmax_iris.toml", &["train.epochs=2", "train.check_epochs=1"]);
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let meta = cg_nn::artifact::metadata(&bytes).unwrap();
    let mut inputs: Value = serde_json::from_str(&meta["inputs"]).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v: &mut Value| v["features"].as_array_mut().unwrap().truncate(2)),
            "standardise 4 features but name 2",
        ),
        (
            Box::new(|v: &mut Value| {
                v["features"].as_array_mut().unwrap().truncate(2);
                v["standardize"] = Value::Null;
            }),
            "name 2 features for a model that reads 4",
        ),
        (
            Box::new(|v: &mut Value| v["standardize"].as_array_mut().unwrap().truncate(1)),
            "standardise 1 features but name 4",
        ),
        (Box::new(|v: &mut Value| v["standardize"][0][1] = 0.0.into()), "not a finite number above 0"),
    ];
    let original = inputs.clone();
    for (edit, says) in edits {
        inputs = original.clone();
        edit(&mut inputs);
        let edited = cg_nn::artifact::with_metadata(&bytes, &[("inputs", inputs.to_string())]).unwrap();
        std::fs::write(&path, &edited).unwrap();
        let err = predict(dir.path(), &root().join("data/iris.csv")).expect_err("refused");
        let text = format!("{err:#}");
        assert!(text.contains(says) && !text.contains('\n'), "{says}: {text}");
    }
    // A SOM codebook with an extent of 0.
    let (som, _) = trained("som_iris.toml", &["som.epochs=1"]);
    let bytes = std::fs::read(som.path().join("model.safetensors")).unwrap();
    let meta = cg_nn::artifact::metadata(&bytes).unwrap();
    let metadata: Vec<(&str, String)> = meta.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let empty = cg_nn::artifact::NamedTensor { name: "codebook".into(), shape: vec![5, 0, 4], values: vec![] };
    std::fs::write(
        som.path().join("model.safetensors"),
        cg_nn::artifact::save_tensors(&[empty], true, &metadata).unwrap(),
    )
    .unwrap();
    let err = predict(som.path(), &root().join("data/iris.csv")).expect_err("refused");
    assert!(format!("{err:#}").contains("an extent of 0"), "{err:#}");
}

#[test]
fn numpy_rows_predict_as_the_csv_rows_they_came_from() {
    // data/fixtures/iris.npz holds iris.csv's features as NumPy wrote them (float64, deflate).
    let (dir, _) = trained("softmax_iris.toml", &["train.epochs=200"]);
    let from_csv = predicted(dir.path(), "iris.csv");
    let from_npz = predict(dir.path(), &root().join("data/fixtures/iris.npz:X")).unwrap();
    assert_eq!((from_npz.columns.clone(), from_npz.rows.clone()), (from_csv.columns.clone(), from_csv.rows.clone()));
    // float32 in Fortran order: the same classes (the rounding moves no iris row across a boundary).
    let f32 = predict(dir.path(), &root().join("data/fixtures/iris_f32_fortran.npz:X")).unwrap();
    assert_eq!(column(&f32, "class"), column(&from_csv, "class"));
    let e = predict(dir.path(), &root().join("data/fixtures/iris.npz:y")).unwrap_err().to_string();
    assert!(e.contains("iris.npz:y: shape [150]: expected samples x features"), "{e}");
}
