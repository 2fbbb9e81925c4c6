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

/// `m` plus the column `b` in every column.
fn plus_column(m: &DMatrix<f64>, b: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)] + b[(i, 0)])
}

/// Mean softmax cross-entropy and accuracy of logits (a column per sample) against labels.
fn cross_entropy_and_accuracy(o: &DMatrix<f64>, labels: &[f64]) -> (f64, f64) {
    let (mut ce, mut correct) = (0.0, 0);
    for (j, &label) in labels.iter().enumerate() {
        let col = o.column(j);
        let m = col.max();
        let lse = m + col.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        ce += lse - col[label as usize];
        correct += usize::from(col.argmax().0 == label as usize);
    }
    let n = labels.len() as f64;
    (ce / n, correct as f64 / n)
}

/// Asserts the stored test loss (and accuracy, when given) equal the recomputed ones.
#[track_caller]
fn assert_test_metrics(name: &str, loss: f64, accuracy: Option<f64>) {
    let m = stored(name);
    let reported = m["test_loss"].as_f64().unwrap();
    assert!((loss - reported).abs() <= 1e-10 * reported.abs().max(1e-3), "{name}: test loss {loss} vs {reported}");
    if let Some(a) = accuracy {
        assert_eq!(a, m["test_accuracy"].as_f64().unwrap(), "{name}: test accuracy");
    }
    let e = m["gradient_check"]["max_relative_error"].as_f64().unwrap();
    assert!(e < 1e-6, "{name}: reverse mode and central differences differ by {e}");
}

fn huber(r: f64) -> f64 {
    if r.abs() < 1.0 {
        0.5 * r * r
    } else {
        r.abs() - 0.5
    }
}

#[test]
fn a_huber_loss_written_per_sample_is_a_mean_on_every_set() {
    let (ps, s) = (parameters("model_huber_diabetes"), splits("model_huber_diabetes"));
    let (w, b) = (param(&ps, "w"), param(&ps, "b")[(0, 0)]);
    let mean_huber = |d: &cg_data::Dataset| {
        let o = &w * &d.features;
        (0..d.n_samples()).map(|j| huber(o[(0, j)] + b - d.targets[j])).sum::<f64>() / d.n_samples() as f64
    };
    assert_test_metrics("model_huber_diabetes", mean_huber(s.test.as_ref().unwrap()), None);
    let train = mean_huber(&s.train);
    let reported = stored("model_huber_diabetes")["final_loss"].as_f64().unwrap();
    assert!((train - reported).abs() < 1e-12, "train loss {train} vs {reported}");
    // Trained in mini-batches of 32 with a decaying step, the weights come within 1e-4 of the
    // minimum found here by iteratively reweighted least squares (weight 1 inside the quadratic
    // zone, 1/|r| outside), a solver that shares nothing with the run's.
    let d = s.train.n_features();
    let n = s.train.n_samples();
    let a = DMatrix::from_fn(n, d + 1, |j, i| if i < d { s.train.features[(i, j)] } else { 1.0 });
    let y = DVector::from_vec(s.train.targets.clone());
    let mut theta = DVector::zeros(d + 1);
    for _ in 0..200 {
        let r = &a * &theta - &y;
        let weights = r.map(|r| if r.abs() <= 1.0 { 1.0 } else { 1.0 / r.abs() });
        let aw = DMatrix::from_fn(n, d + 1, |j, i| a[(j, i)] * weights[j]);
        theta = (aw.transpose() * &a).lu().solve(&(aw.transpose() * &y)).unwrap();
    }
    let best = (0..n).map(|j| huber((a.row(j) * &theta)[(0, 0)] - y[j])).sum::<f64>() / n as f64;
    assert!(train >= best - 1e-12 && train - best < 1e-4, "train loss {train} vs the minimum {best}");
}

#[test]
fn a_kl_sparsity_penalty_on_batch_means_makes_the_code_sparse() {
    let (ps, s) = (parameters("model_sparse_autoencoder_digits"), splits("model_sparse_autoencoder_digits"));
    let (w, b, c) = (param(&ps, "W"), param(&ps, "b"), param(&ps, "c"));
    let (rho, beta) = (0.05, 0.5);
    let loss = |x: &DMatrix<f64>| {
        let h = plus_column(&(&w * x), &b).map(|v| 1.0 / (1.0 + (-v).exp()));
        let xhat = plus_column(&(w.transpose() * &h), &c);
        let n = x.ncols() as f64;
        let reconstruction = (&xhat - x).norm_squared() / n / 64.0;
        let rho_hat: Vec<f64> = h.row_iter().map(|r| r.sum() / n).collect();
        let kl: f64 =
            rho_hat.iter().map(|&q| rho * (rho / q).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - q)).ln()).sum();
        (reconstruction + beta * kl, rho_hat)
    };
    let x = &s.train.features;
    let (train, rho_hat) = loss(x);
    let m = stored("model_sparse_autoencoder_digits");
    // The penalty mixes samples, so the reported loss is the whole training set's.
    let reported = m["final_loss"].as_f64().unwrap();
    assert!((train - reported).abs() < 1e-10 * reported, "train loss {train} vs {reported}");
    assert_test_metrics("model_sparse_autoencoder_digits", loss(&s.test.unwrap().features).0, None);
    // Each unit's mean activation came down to about rho (from about 0.5 at the start).
    let mean = rho_hat.iter().sum::<f64>() / rho_hat.len() as f64;
    assert!(rho_hat.iter().all(|&q| q < 0.15) && (mean - rho).abs() < 0.03, "{rho_hat:?}");
}

#[test]
fn an_rbf_network_agrees_with_distances_taken_pair_by_pair() {
    let (ps, s) = (parameters("model_rbf_iris"), splits("model_rbf_iris"));
    let (centres, w, bo) = (param(&ps, "C"), param(&ps, "W"), param(&ps, "bo"));
    let test = s.test.unwrap();
    let x = &test.features;
    let phi = DMatrix::from_fn(centres.nrows(), x.ncols(), |k, j| {
        let d2: f64 = (0..4).map(|i| (x[(i, j)] - centres[(k, i)]).powi(2)).sum();
        (-0.5 * d2).exp()
    });
    let (ce, accuracy) = cross_entropy_and_accuracy(&plus_column(&(&w * &phi), &bo), &test.targets);
    assert_test_metrics("model_rbf_iris", ce, Some(accuracy));
    assert!(accuracy >= 0.9);
}

#[test]
fn a_factorisation_machine_agrees_with_its_pairwise_sum() {
    let (ps, s) = (parameters("model_fm_breast_cancer"), splits("model_fm_breast_cancer"));
    let (w0, w, v) = (param(&ps, "w0")[(0, 0)], param(&ps, "w"), param(&ps, "V"));
    let test = s.test.unwrap();
    let x = &test.features;
    let (mut loss, mut correct) = (0.0, 0);
    for j in 0..x.ncols() {
        let mut o = w0 + (0..30).map(|i| w[(0, i)] * x[(i, j)]).sum::<f64>();
        for a in 0..30 {
            for b in a + 1..30 {
                o += v.column(a).dot(&v.column(b)) * x[(a, j)] * x[(b, j)];
            }
        }
        let y = 2.0 * test.targets[j] - 1.0;
        loss += (1.0 + (-y * o).exp()).ln();
        correct += usize::from((o >= 0.0) == (y > 0.0));
    }
    let n = x.ncols() as f64;
    let penalty = 0.001 * v.norm_squared();
    assert_test_metrics("model_fm_breast_cancer", loss / n + penalty, Some(correct as f64 / n));
}

#[test]
fn a_mixture_of_experts_agrees_with_a_loop_over_experts() {
    let (ps, s) = (parameters("model_moe_diabetes"), splits("model_moe_diabetes"));
    let (g, gb, e, eb) = (param(&ps, "G"), param(&ps, "gb"), param(&ps, "E"), param(&ps, "eb"));
    let test = s.test.unwrap();
    let x = &test.features;
    let mut loss = 0.0;
    for j in 0..x.ncols() {
        let scores: Vec<f64> = (0..4).map(|k| g.row(k).dot(&x.column(j).transpose()) + gb[(k, 0)]).collect();
        let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scores.iter().map(|s| (s - m).exp()).sum();
        let o: f64 =
            (0..4).map(|k| (scores[k] - m).exp() / z * (e.row(k).dot(&x.column(j).transpose()) + eb[(k, 0)])).sum();
        loss += (o - test.targets[j]).powi(2);
    }
    assert_test_metrics("model_moe_diabetes", loss / x.ncols() as f64, None);
}

#[test]
fn attention_over_fixed_keys_agrees_sample_by_sample() {
    let (ps, s) = (parameters("model_attention_iris"), splits("model_attention_iris"));
    let (wq, wo, bo) = (param(&ps, "Wq"), param(&ps, "Wo"), param(&ps, "bo"));
    assert!(ps.iter().all(|(n, _)| n != "K"), "the keys are constants, not saved parameters");
    let keys: Vec<DVector<f64>> = (0..8)
        .map(|k| {
            DVector::from_fn(4, |i, _| {
                if i == k % 4 {
                    if k < 4 {
                        1.0
                    } else {
                        -1.0
                    }
                } else {
                    0.0
                }
            })
        })
        .collect();
    let test = s.test.unwrap();
    let x = &test.features;
    let o = DMatrix::from_fn(3, x.ncols(), |c, j| {
        let q = &wq * x.column(j);
        let scores: Vec<f64> = keys.iter().map(|k| k.dot(&q)).collect();
        let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scores.iter().map(|s| (s - m).exp()).sum();
        let r: DVector<f64> = keys.iter().zip(&scores).map(|(k, s)| k * ((s - m).exp() / z)).sum();
        let input: Vec<f64> = x.column(j).iter().chain(r.iter()).copied().collect();
        (0..8).map(|i| wo[(c, i)] * input[i]).sum::<f64>() + bo[(c, 0)]
    });
    let (ce, accuracy) = cross_entropy_and_accuracy(&o, &test.targets);
    assert_test_metrics("model_attention_iris", ce, Some(accuracy));
}

#[test]
fn a_gated_unit_agrees_with_its_formula() {
    let (ps, s) = (parameters("model_gated_wine"), splits("model_gated_wine"));
    let test = s.test.unwrap();
    let x = &test.features;
    let value = plus_column(&(param(&ps, "W") * x), &param(&ps, "b")).map(f64::tanh);
    let gate = plus_column(&(param(&ps, "V") * x), &param(&ps, "c")).map(|v| 1.0 / (1.0 + (-v).exp()));
    let h = value.component_mul(&gate);
    let o = plus_column(&(param(&ps, "Wo") * h), &param(&ps, "bo"));
    let (ce, accuracy) = cross_entropy_and_accuracy(&o, &test.targets);
    assert_test_metrics("model_gated_wine", ce, Some(accuracy));
    assert!(accuracy >= 0.9);
}

#[test]
fn early_stopping_saves_the_best_epoch_on_the_validation_split() {
    let (ps, s) = (parameters("model_early_stopping_digits"), splits("model_early_stopping_digits"));
    let m = stored("model_early_stopping_digits");
    let forward = |x: &DMatrix<f64>| {
        let h = plus_column(&(param(&ps, "W1") * x), &param(&ps, "b1")).map(|v| v.max(0.0));
        plus_column(&(param(&ps, "W2") * h), &param(&ps, "b2"))
    };
    // The validation split is held out of the training split, before standardising.
    let (validation, test) = (s.validation.as_ref().unwrap(), s.test.as_ref().unwrap());
    assert_eq!(s.train.n_samples() + validation.n_samples() + test.n_samples(), 1797);
    assert_eq!(m["samples"]["validation"], validation.n_samples());
    let (loss, accuracy) = cross_entropy_and_accuracy(&forward(&validation.features), &validation.targets);
    let curve: Vec<f64> = m["validation_loss_curve"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let (best, &lowest) = curve.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap();
    // The saved parameters are the best epoch's: their validation loss is the curve's minimum.
    assert!((loss - lowest).abs() < 1e-10 * lowest, "saved model's validation loss {loss} vs the minimum {lowest}");
    assert_eq!(accuracy, m["validation_accuracy"].as_f64().unwrap());
    assert_eq!(m["early_stopping"]["best_epoch"], best + 1);
    // Stopped 8 epochs (the patience) after the best, well before the 200 allowed.
    assert_eq!(curve.len(), best + 1 + 8);
    assert!(curve[best + 1..].iter().all(|&v| v >= lowest));
    let (test_loss, test_accuracy) = cross_entropy_and_accuracy(&forward(&test.features), &test.targets);
    assert_test_metrics_without_check("model_early_stopping_digits", test_loss, test_accuracy);
}

#[track_caller]
fn assert_test_metrics_without_check(name: &str, loss: f64, accuracy: f64) {
    let m = stored(name);
    let reported = m["test_loss"].as_f64().unwrap();
    assert!((loss - reported).abs() <= 1e-10 * reported, "{name}: test loss {loss} vs {reported}");
    assert_eq!(accuracy, m["test_accuracy"].as_f64().unwrap(), "{name}: test accuracy");
}

#[test]
fn matrix_factorisation_with_embeddings_agrees_rating_by_rating() {
    let (ps, s) = (parameters("model_mf_embeddings"), splits("model_mf_embeddings"));
    let m = stored("model_mf_embeddings");
    // Two integer-code inputs, no one-hot columns: the parameters are the tables themselves.
    assert_eq!(s.train.feature_names, ["user", "item"]);
    assert_eq!(m["parameters"], 3 * 300 + 3 * 100 + 300 + 100 + 1);
    let (u, v, bu, bi, mu) = (param(&ps, "U"), param(&ps, "V"), param(&ps, "bu"), param(&ps, "bi"), param(&ps, "mu"));
    let test = s.test.unwrap();
    let mut squared = 0.0;
    for j in 0..test.n_samples() {
        let (user, item) = (test.features[(0, j)] as usize, test.features[(1, j)] as usize);
        let o = u.column(user).dot(&v.column(item)) + bu[(0, user)] + bi[(0, item)] + mu[(0, 0)];
        squared += (o - test.targets[j]).powi(2);
    }
    let mse = squared / test.n_samples() as f64;
    let penalty = 0.00001 * (u.norm_squared() + v.norm_squared());
    assert_test_metrics("model_mf_embeddings", mse + penalty, None);
    // The ratings are rank 3 plus noise of standard deviation 0.1: held-out ratings come within
    // 0.15 (the rating's own spread is about 0.6).
    assert!(mse.sqrt() < 0.15, "held-out RMSE {}", mse.sqrt());
}

#[test]
fn a_residual_block_with_layer_norm_and_dropout_evaluates_without_dropout() {
    let (ps, s) = (parameters("model_residual_digits"), splits("model_residual_digits"));
    let test = s.test.unwrap();
    let relu = |m: DMatrix<f64>| m.map(|v| v.max(0.0));
    let h = relu(plus_column(&(param(&ps, "W1") * &test.features), &param(&ps, "b1")));
    // Layer normalisation of each sample (column), written out.
    let (g, shift) = (param(&ps, "g"), param(&ps, "s"));
    let n = DMatrix::from_fn(64, h.ncols(), |i, j| {
        let c = h.column(j);
        let mean = c.mean();
        let var = c.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 64.0;
        g[(i, 0)] * (h[(i, j)] - mean) / (var + 1e-5).sqrt() + shift[(i, 0)]
    });
    let r = &h + relu(plus_column(&(param(&ps, "W2") * n), &param(&ps, "b2")));
    let o = plus_column(&(param(&ps, "Wo") * r), &param(&ps, "bo"));
    let (ce, accuracy) = cross_entropy_and_accuracy(&o, &test.targets);
    assert_test_metrics("model_residual_digits", ce, Some(accuracy));
    assert!(accuracy >= 0.95, "{accuracy}");
    // Warm-up over 3 epochs, then a half cosine from 0.005 to 0.0001 at epoch 40.
    let rates: Vec<f64> = stored("model_residual_digits")["learning_rate_curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let expected = |e: usize| {
        if e < 3 {
            0.005 * (e + 1) as f64 / 3.0
        } else {
            0.0001 + 0.5 * (0.005 - 0.0001) * (1.0 + (std::f64::consts::PI * (e - 3) as f64 / 37.0).cos())
        }
    };
    assert!(rates.iter().enumerate().all(|(e, r)| (r - expected(e)).abs() < 1e-15), "{rates:?}");
}

/// Dropout's masks follow the run's seed and the samples, not the threads: the run on one
/// thread writes the bytes of the run on two; another seed trains differently.
#[test]
fn dropout_is_the_same_on_any_thread_count() {
    let run = |threads: &str, extra: &[&str]| {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_experiments"))
            .arg(root().join("configs/model_residual_digits.toml"))
            .args(["train.epochs=3", "train.gradient_check=false"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .arg("-q")
            .env("RAYON_NUM_THREADS", threads)
            .status()
            .unwrap();
        assert!(status.success());
        (std::fs::read(out.join("metrics.json")).unwrap(), std::fs::read(out.join("model.safetensors")).unwrap())
    };
    let one = run("1", &[]);
    assert!(one == run("2", &[]), "one thread and two threads differ");
    assert!(one.0 != run("2", &["seed=1"]).0, "the seed changes nothing");
}

#[test]
fn batch_norm_predicts_with_its_saved_running_statistics() {
    let (ps, s) = (parameters("model_batchnorm_wine"), splits("model_batchnorm_wine"));
    let (mean, var) = (param(&ps, "h_bn_mean"), param(&ps, "h_bn_var"));
    let test = s.test.unwrap();
    let z = param(&ps, "W1") * &test.features;
    let (g, shift) = (param(&ps, "g"), param(&ps, "s"));
    let h = DMatrix::from_fn(16, z.ncols(), |i, j| {
        (g[(i, 0)] * (z[(i, j)] - mean[(i, 0)]) / (var[(i, 0)] + 1e-5).sqrt() + shift[(i, 0)]).max(0.0)
    });
    let o = plus_column(&(param(&ps, "W2") * h), &param(&ps, "b2"));
    let (ce, accuracy) = cross_entropy_and_accuracy(&o, &test.targets);
    assert_test_metrics("model_batchnorm_wine", ce, Some(accuracy));
    assert_eq!(stored("model_batchnorm_wine")["frozen_parameters"], 32);
    // The running statistics moved from their start (0 and 1) towards the hidden units' own.
    let z_train = param(&ps, "W1") * &s.train.features;
    for i in 0..16 {
        let row = z_train.row(i);
        let (m, v) = (row.mean(), row.iter().map(|x| (x - row.mean()).powi(2)).sum::<f64>() / row.len() as f64);
        assert!((mean[(i, 0)] - m).abs() < 0.3 * v.sqrt().max(0.1), "unit {i}: running mean {} vs {m}", mean[(i, 0)]);
    }
}

/// A constant read from a CSV file gives the numbers of the same constant written inline, and
/// the saved model predicts without the file (its numbers travel in model.safetensors).
#[test]
fn a_constant_from_a_file_equals_the_inline_one_and_travels_with_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("configs/model_attention_iris.toml")).unwrap();
    let start = text.find("K = [[").unwrap();
    let end = start + text[start..].find("]]\n").unwrap() + 3;
    let keys: Vec<String> = (0..8)
        .map(|k| {
            (0..4)
                .map(|i| {
                    if i == k % 4 {
                        if k < 4 {
                            "1"
                        } else {
                            "-1"
                        }
                    } else {
                        "0"
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    std::fs::write(tmp.path().join("keys.csv"), keys.join("\n") + "\n").unwrap();
    let config = text[..start].to_string() + "K = { csv = \"keys.csv\" }\n" + &text[end..];
    let config = config.replace("../data/iris.csv", root().join("data/iris.csv").to_str().unwrap());
    std::fs::write(tmp.path().join("attention.toml"), config).unwrap();
    let run =
        experiments::run_with(&tmp.path().join("attention.toml"), &[], &experiments::RunOptions::default()).unwrap();
    let metrics: serde_json::Value =
        serde_json::from_slice(&run.files.iter().find(|f| f.0 == "metrics.json").unwrap().1).unwrap();
    let stored = stored("model_attention_iris");
    for key in ["final_loss", "test_loss", "test_accuracy", "loss_curve"] {
        assert_eq!(metrics[key], stored[key], "{key}");
    }
    // Saved elsewhere, with the file gone, the model still predicts.
    let out = tmp.path().join("elsewhere/result");
    experiments::write(&run, &out).unwrap();
    std::fs::remove_file(tmp.path().join("keys.csv")).unwrap();
    let predicted = std::process::Command::new(env!("CARGO_BIN_EXE_experiments"))
        .args(["predict", out.to_str().unwrap(), "--data", root().join("data/iris.csv").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(predicted.status.success(), "{}", String::from_utf8_lossy(&predicted.stderr));
    assert_eq!(String::from_utf8_lossy(&predicted.stdout).lines().count(), 151);
}
