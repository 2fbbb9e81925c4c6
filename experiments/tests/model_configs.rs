//! The `model` kind's shipped configs against independent checks: model_xor against xor.toml's
//! stored numbers, the tied autoencoder's subspace against nalgebra's SVD, the multitask model's
//! reported test errors recomputed from its saved parameters by a forward pass written here.

mod common;

use std::path::PathBuf;

use common::stored;
use nalgebra::{DMatrix, DVector};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The saved parameters of a stored result, by name, as matrices (a vector is a column).
fn parameters(name: &str) -> Vec<(String, DMatrix<f64>)> {
    let bytes = std::fs::read(root().join("results").join(name).join("model.safetensors")).unwrap();
    cg_nn::artifact::load(&bytes)
        .unwrap()
        .into_iter()
        .map(|(n, shape, values)| {
            let (r, c) = cg_nn::artifact::matrix_shape(&shape);
            (n, DMatrix::from_row_slice(r, c, &values))
        })
        .collect()
}

fn param(ps: &[(String, DMatrix<f64>)], name: &str) -> DMatrix<f64> {
    ps.iter().find(|(n, _)| n == name).unwrap().1.clone()
}

/// The training and test splits a config loads.
fn splits(config: &str) -> cg_data::Splits {
    let path = root().join("configs").join(format!("{config}.toml"));
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let data: cg_data::DataConfig = table["data"].clone().try_into().unwrap();
    let seed = table.get("seed").and_then(toml::Value::as_integer).unwrap_or(0) as u64;
    data.load(path.parent().unwrap(), seed).unwrap()
}

#[test]
fn model_xor_equals_the_xor_network_number_for_number() {
    let (xor, model) = (stored("xor"), stored("model_xor"));
    for key in
        ["final_loss", "train_accuracy", "loss_curve", "train_accuracy_curve", "learning_rate_curve", "parameters"]
    {
        assert_eq!(xor[key], model[key], "{key}");
    }
    assert_eq!(parameters("xor"), parameters("model_xor"));
}

#[test]
fn every_model_config_passes_its_gradient_check() {
    for name in
        ["model_xor", "model_skip_wine", "model_tied_autoencoder_digits", "model_two_branch", "model_multitask_wine"]
    {
        let e = stored(name)["gradient_check"]["max_relative_error"].as_f64().unwrap();
        assert!(e < 1e-6, "{name}: reverse mode and central differences differ by {e}");
    }
}

#[test]
fn the_skip_connection_classifies_wine() {
    let m = stored("model_skip_wine");
    assert!(m["test_accuracy"].as_f64().unwrap() >= 0.95, "{}", m["test_accuracy"]);
    assert_eq!(m["node_shapes"]["o"], "3 x batch");
    assert!(stored("model_two_branch")["test_accuracy"].as_f64().unwrap() >= 0.9);
}

#[test]
fn tied_weights_learn_the_top_principal_subspace() {
    let w = param(&parameters("model_tied_autoencoder_digits"), "W"); // 5 x 64
    let x = splits("model_tied_autoencoder_digits").train.features.transpose(); // n x 64
    let svd = x.svd(false, true);
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
    let vt = svd.v_t.unwrap();
    let top = DMatrix::from_fn(64, 5, |i, j| vt[(order[j], i)]);
    let q = w.transpose().qr().q(); // 64 x 5, orthonormal basis of W's rows
    let cosines = (top.transpose() * q).singular_values();
    let angle = cosines.iter().fold(1.0f64, |a, &c| a.min(c)).clamp(-1.0, 1.0).acos();
    assert!(angle < 0.01, "largest principal angle {angle} rad");
}

#[test]
fn multitask_metrics_are_what_the_saved_model_gives() {
    let ps = parameters("model_multitask_wine");
    let s = splits("model_multitask_wine");
    let test = s.test.unwrap();
    let names = &test.feature_names;
    let alcohol = names.iter().position(|n| n == "alcohol").unwrap();
    let inputs: Vec<usize> = (0..names.len()).filter(|&k| k != alcohol).collect();
    let x = test.features.select_rows(&inputs);
    let z = test.features.row(alcohol).into_owned();
    let relu = |m: DMatrix<f64>| m.map(|v| v.max(0.0));
    let add = |m: DMatrix<f64>, b: &DMatrix<f64>| {
        let b = DVector::from_column_slice(b.as_slice());
        DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] + b[i])
    };
    let h = relu(add(param(&ps, "W1") * &x, &param(&ps, "b1")));
    let o = add(param(&ps, "W2") * &h, &param(&ps, "b2"));
    let r = add(param(&ps, "V") * &h, &param(&ps, "c"));
    let n = x.ncols() as f64;
    let (mut ce, mut correct) = (0.0, 0);
    for j in 0..x.ncols() {
        let col = o.column(j);
        let m = col.max();
        let lse = m + col.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        let label = test.targets[j] as usize;
        ce += lse - col[label];
        correct += usize::from(col.argmax().0 == label);
    }
    let mse = (0..x.ncols()).map(|j| (r[(0, j)] - z[j]).powi(2)).sum::<f64>() / n;
    let m = stored("model_multitask_wine");
    // The test loss is the two sample losses plus the penalties (which no data changes).
    let penalty = 0.01 * (param(&ps, "W1").norm_squared() + param(&ps, "V").norm_squared());
    let reported = m["test_loss"].as_f64().unwrap();
    assert!((ce / n + mse + penalty - reported).abs() < 1e-9 * reported, "{} vs {reported}", ce / n + mse + penalty);
    assert_eq!(correct as f64 / n, m["test_accuracy"].as_f64().unwrap());
    // The regression head explains most of the alcohol content's variance on held-out wines.
    let mean = z.mean();
    let variance = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    assert!(1.0 - mse / variance > 0.3, "R² {}", 1.0 - mse / variance);
    assert!(m["test_accuracy"].as_f64().unwrap() >= 0.9);
}
