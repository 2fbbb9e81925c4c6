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

/// `model_xor` started from given parameters for one full-batch SGD epoch, and the same step
/// written out by hand: forward, the chain rule layer by layer, w ⇐ w - α g.
#[test]
fn one_sgd_epoch_from_init_from_equals_a_hand_written_step() {
    let start = root().join("results/model_xor/model.safetensors");
    let text = std::fs::read_to_string(root().join("configs/model_xor.toml"))
        .unwrap()
        .replace("epochs     = 1000", "epochs     = 1")
        .replace("gradient_check = true", &format!("init_from = {:?}", start.to_str().unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("step.toml");
    std::fs::write(&config, text).unwrap();
    let outcome = experiments::run(&config, &experiments::RunOptions::default()).unwrap();
    let (_, bytes) = outcome.files.iter().find(|(f, _)| f == "model.safetensors").unwrap();
    let trained: Vec<(String, DMatrix<f64>)> = cg_nn::artifact::load(bytes)
        .unwrap()
        .into_iter()
        .map(|(n, s, v)| {
            let (r, c) = cg_nn::artifact::matrix_shape(&s);
            (n, DMatrix::from_row_slice(r, c, &v))
        })
        .collect();
    let p = parameters("model_xor");
    let (w1, b1, w2, b2) = (param(&p, "W1"), param(&p, "b1"), param(&p, "W2"), param(&p, "b2"));
    let x = DMatrix::from_row_slice(2, 4, &[0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let y = DMatrix::from_row_slice(1, 4, &[0.0, 1.0, 1.0, 0.0]);
    let n = 4.0;
    let h = (&w1 * &x).map_with_location(|i, _, v| (v + b1[(i, 0)]).tanh());
    let o = (&w2 * &h).map_with_location(|i, _, v| 1.0 / (1.0 + (-(v + b2[(i, 0)])).exp()));
    // L = mean over samples of (o - y)^2; δ2 = dL/da2 = 2 (o - y) / n · o (1 - o).
    let d2 = (&o - &y).zip_map(&o, |e, o| 2.0 * e / n * o * (1.0 - o));
    let d1 = (w2.transpose() * &d2).zip_map(&h, |g, h| g * (1.0 - h * h));
    let lr = 2.0;
    let want = [
        ("W1", &w1 - (&d1 * x.transpose()) * lr),
        ("W2", &w2 - (&d2 * h.transpose()) * lr),
        ("b1", &b1 - DMatrix::from_column_slice(4, 1, d1.column_sum().as_slice()) * lr),
        ("b2", &b2 - DMatrix::from_column_slice(1, 1, d2.column_sum().as_slice()) * lr),
    ];
    for (name, w) in want {
        let got = param(&trained, name);
        assert!((&got - &w).amax() <= 1e-12 * w.amax().max(1.0), "{name}: {got} vs {w}");
    }
}

#[test]
fn init_from_checks_names_and_shapes() {
    let start = root().join("results/xor/model.safetensors");
    let text = std::fs::read_to_string(root().join("configs/model_xor.toml"))
        .unwrap()
        .replace("W2 = { shape = [1, 4] }", "W2 = { shape = [1, 4] }\nW3 = { shape = [1, 1] }")
        .replace("sigmoid(W2 @ h + b2)", "sigmoid(W3 * (W2 @ h + b2))")
        .replace("gradient_check = true", &format!("init_from = {:?}", start.to_str().unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("init.toml");
    std::fs::write(&config, text.replace("epochs     = 1000", "epochs     = 1")).unwrap();
    // W3 is not in the file: it starts as declared; the others are read.
    assert!(experiments::run(&config, &experiments::RunOptions::default()).is_ok());
    std::fs::write(&config, text.replace("shape = [4, 2]", "shape = [2, 4]").replace("W1 @ x", "transpose(W1) @ x"))
        .unwrap();
    let e = format!("{:#}", experiments::run(&config, &experiments::RunOptions::default()).err().unwrap());
    assert_eq!(e, "[train] init_from: `W1` has shape [4, 2] but the model declares [2, 4]");
}

/// `[[constraints]]` name a model's parameters as they name an mlp's: every W1 entry stays in
/// the box after every update.
#[test]
fn model_constraints_hold_by_parameter_name() {
    let text = std::fs::read_to_string(root().join("configs/model_xor.toml"))
        .unwrap()
        .replace("epochs     = 1000", "epochs     = 50")
        .replace("../data", root().join("data").to_str().unwrap())
        + "\n[[constraints]]\nparams = [\"W1\"]\nkind = \"box\"\nlower = -0.5\nupper = 0.5\n";
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("boxed.toml");
    std::fs::write(&config, text).unwrap();
    let outcome = experiments::run(&config, &experiments::RunOptions::default()).unwrap();
    let (_, bytes) = outcome.files.iter().find(|(f, _)| f == "model.safetensors").unwrap();
    let w1 = cg_nn::artifact::load(bytes).unwrap().into_iter().find(|t| t.0 == "W1").unwrap().2;
    assert!(w1.iter().all(|w| w.abs() <= 0.5 + 1e-15), "{w1:?}");
    assert!(w1.iter().any(|w| w.abs() == 0.5), "the bound is active: {w1:?}");
    let (_, m) = outcome.files.iter().find(|(f, _)| f == "metrics.json").unwrap();
    let m: serde_json::Value = serde_json::from_slice(m).unwrap();
    assert!(m["violation_curve"].as_array().unwrap().iter().all(|v| v.as_f64().unwrap() <= 1e-12));
}
