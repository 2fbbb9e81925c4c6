//! What the model language means, checked against computations written out in the test: a loss
//! that mixes the samples of a batch runs on whole batches; a per-sample loss written from
//! primitives is a batch mean on every split; constants get no gradient; the declared decision
//! rule gives the classes.

use cg_autodiff::vector::Mat;
use cg_core::Validate;
use cg_data::Dataset;
use cg_model::{build, Model, ModelConfig};
use cg_nn::{train, Decision, LossTerm, TrainParams};
use cg_optim::OptimizerConfig;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn model(text: &str, features: usize) -> Model<f64> {
    let config: ModelConfig = toml::from_str(text).unwrap();
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    build::<f64>(&config, &names).unwrap()
}

/// n samples of d features with a regression target, from a fixed seed.
fn regression(n: usize, d: usize) -> Dataset {
    let mut data = cg_data::linear_teacher(n, d, 1, 3);
    data.targets = data.features.column_iter().map(|c| c.sum() * 0.5 + c[0] * c[0]).collect();
    data
}

/// Sets x (all features) and y (the targets) to `data` and the batch scalars for one whole batch.
fn fill(m: &Model<f64>, tape: &mut cg_autodiff::vector::VectorTape<f64>, data: &Dataset) {
    let net = &m.network;
    let n = data.n_samples();
    tape.set(net.inputs[0].0, data.features.clone());
    tape.set(net.targets[0].node, DMatrix::from_row_slice(1, n, &data.targets));
    tape.set(net.batch_size, Mat::from_element(1, 1, n as f64));
    tape.set(net.fraction, Mat::from_element(1, 1, 1.0));
}

const COUPLED: &str = r#"
inputs  = { x = 4 }
targets = { y = 1 }
predict = "o"
loss    = "squared_error(o, y)"
[params]
W = { shape = [1, 4], normal = 0.3 }
[nodes]
c = "x - mean(x, 1)"
o = "W @ c / sqrt(1 + sum(c * c) / 1000)"
"#;

#[test]
fn a_loss_that_mixes_samples_is_not_cut_into_parts() {
    // The prediction centres each feature on the batch mean and scales by the batch's norm: it
    // mixes samples, so a 400-sample batch must not be cut into 64-sample parts.
    let m = model(COUPLED, 4);
    assert!(m.network.terms.is_none(), "a batch-coupled prediction made the loss splittable");
    let per_sample =
        model(&COUPLED.replace("x - mean(x, 1)", "x - mean(x, 0)").replace("sum(c * c)", "sum(c * c, 0)"), 4);
    assert!(per_sample.network.terms.is_some(), "reductions within a sample keep the loss splittable");
    // One full-batch SGD step equals the step from the whole batch's gradient, computed here.
    let data = regression(400, 4);
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(1));
    let w0 = tape.get(m.network.params[0]).unwrap().clone();
    let mut whole = tape.clone();
    fill(&m, &mut whole, &data);
    m.network.dag.forward(&mut whole).unwrap();
    let grads = m.network.dag.reverse(&whole, vec![(m.network.loss, Mat::from_element(1, 1, 1.0))], false).unwrap();
    let expected = &w0 - grads.get(m.network.params[0]).unwrap() * 0.1;
    let params = TrainParams::new(1, 400, OptimizerConfig::sgd(0.1).validate().unwrap());
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let out = train(&m.network, &mut tape, &data, None, &params, &mut rng, &mut []).unwrap();
    let w1 = tape.get(m.network.params[0]).unwrap();
    assert!((w1 - &expected).amax() < 1e-14, "{w1} vs {expected}");
    // The reported loss is the whole set's, not a mean of chunks: recomputed by hand.
    let x = &data.features;
    let mean = x.column_mean();
    let c = DMatrix::from_fn(4, 400, |i, j| x[(i, j)] - mean[i]);
    let scale = (1.0 + c.iter().map(|v| v * v).sum::<f64>() / 1000.0).sqrt();
    let o = (w1 * &c) / scale;
    let by_hand = o.iter().zip(&data.targets).map(|(o, t)| (o - t).powi(2)).sum::<f64>() / 400.0;
    let reported = out.records[0].train_loss;
    assert!((reported - by_hand).abs() < 1e-12 * by_hand, "{reported} vs {by_hand}");
}

const HUBER: &str = r#"
inputs  = { x = 4 }
targets = { y = 1 }
predict = "o"
loss    = { per_sample = "where(1 - abs(o - y), 0.5 * (o - y) ^ 2, abs(o - y) - 0.5)" }
[params]
W = { shape = [1, 4], normal = 0.3 }
b = { shape = [1], init = "zeros" }
[nodes]
o = "W @ x + b"
"#;

fn huber(r: f64) -> f64 {
    if r.abs() < 1.0 {
        0.5 * r * r
    } else {
        r.abs() - 0.5
    }
}

#[test]
fn a_per_sample_loss_is_a_batch_mean_on_every_split() {
    let m = model(HUBER, 4);
    assert!(
        matches!(m.network.terms.as_deref(), Some([LossTerm::Mean { coefficient, .. }]) if *coefficient == 1.0),
        "the per-sample loss is one batch-mean term"
    );
    let data = regression(300, 4);
    let test = regression(50, 4);
    // Mini-batches of 32 (several parts would be 64+): train and test loss are per-sample means.
    let params = TrainParams::new(3, 32, OptimizerConfig::adam(0.05).validate().unwrap());
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(1));
    let out =
        train(&m.network, &mut tape, &data, Some(&test), &params, &mut ChaCha8Rng::seed_from_u64(5), &mut []).unwrap();
    let (w, b) = (tape.get(m.network.params[0]).unwrap(), tape.get(m.network.params[1]).unwrap()[(0, 0)]);
    let mean_huber = |d: &Dataset| {
        let o = w * &d.features;
        o.iter().zip(&d.targets).map(|(o, t)| huber(o + b - t)).sum::<f64>() / d.n_samples() as f64
    };
    let last = out.records.last().unwrap();
    assert!((last.train_loss - mean_huber(&data)).abs() < 1e-13, "{} vs {}", last.train_loss, mean_huber(&data));
    assert!((last.test_loss.unwrap() - mean_huber(&test)).abs() < 1e-13);
    // A batch of 256 is cut into 4 parts; one SGD step equals the step from the whole batch's
    // mean gradient, written out: d/dW mean huber'(r) x.
    let params = TrainParams::new(1, 300, OptimizerConfig::sgd(0.2).validate().unwrap());
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(1));
    let (w0, b0) = (tape.get(m.network.params[0]).unwrap().clone(), tape.get(m.network.params[1]).unwrap()[(0, 0)]);
    train(&m.network, &mut tape, &data, None, &params, &mut ChaCha8Rng::seed_from_u64(5), &mut []).unwrap();
    let o = &w0 * &data.features;
    let slope: Vec<f64> = o.iter().zip(&data.targets).map(|(o, t)| (o + b0 - t).clamp(-1.0, 1.0)).collect();
    let gw = DMatrix::from_fn(1, 4, |_, i| (0..300).map(|j| slope[j] * data.features[(i, j)]).sum::<f64>() / 300.0);
    let gb = slope.iter().sum::<f64>() / 300.0;
    assert!((tape.get(m.network.params[0]).unwrap() - (&w0 - gw * 0.2)).amax() < 1e-14);
    assert!((tape.get(m.network.params[1]).unwrap()[(0, 0)] - (b0 - 0.2 * gb)).abs() < 1e-14);
}

#[test]
fn constants_take_no_gradient_and_are_not_parameters() {
    let text = r#"
inputs  = { x = 3 }
targets = { y = 2 }
predict = "o"
loss    = "squared_error(o, y)"
[params]
W = { shape = [2, 3], value = [[1, 2, 3], [4, 5, 6]] }
[constants]
M = [[1, 0, 0], [0, 0, 1]]
s = 2
I = { identity = 2 }
h = { fill = 0.5, shape = [2] }
[nodes]
o = "I @ (W * (M + 1)) @ x * s + h"
"#;
    let m = model(text, 3);
    assert_eq!(m.parameter_count(), 6);
    assert_eq!(m.network.params.len(), 1);
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(0));
    let net = &m.network;
    tape.set(net.inputs[0].0, DMatrix::from_column_slice(3, 1, &[1.0, -1.0, 2.0]));
    tape.set(net.targets[0].node, DMatrix::from_column_slice(2, 1, &[0.0, 0.0]));
    tape.set(net.batch_size, Mat::from_element(1, 1, 1.0));
    tape.set(net.fraction, Mat::from_element(1, 1, 1.0));
    net.dag.forward(&mut tape).unwrap();
    // W * (M + 1) = [[2, 2, 3], [4, 5, 12]]; times x = [6, 23]; * 2 + 0.5 = [12.5, 46.5].
    let o = tape.get(net.predict).unwrap();
    assert_eq!(o.as_slice(), &[12.5, 46.5]);
    let grads = net.dag.reverse(&tape, vec![(net.loss, Mat::from_element(1, 1, 1.0))], false).unwrap();
    assert!(grads.get(net.params[0]).is_some());
    assert!(net.dag.params().len() == 1, "constants are not parameter nodes");
}

#[test]
fn the_declared_decision_rule_gives_the_classes() {
    // A margin loss written from primitives (hinge on ±1 targets) classifies by sign when told.
    let text = r#"
inputs  = { x = 2 }
targets = { y = 1 }
predict = "o"
loss    = { per_sample = "max(0, 1 - (2 * y - 1) * o)" }
decision = "sign"
[params]
W = { shape = [1, 2] }
[nodes]
o = "W @ x"
"#;
    let m = model(text, 2);
    assert_eq!(m.network.decision, Decision::Above(0.0));
    let out = DMatrix::from_row_slice(1, 4, &[-0.7, 0.2, 0.0, 0.6]);
    assert_eq!(m.network.predict_classes(&out), vec![0.0, 1.0, 1.0, 1.0]);
    let m = model(&text.replace("decision = \"sign\"", "decision = \"threshold\"\nthreshold = 0.4"), 2);
    assert_eq!(m.network.predict_classes(&out), vec![0.0, 0.0, 0.0, 1.0]);
    // Unsaid, a one-output model without a built-in margin loss keeps 0.5.
    let m = model(&text.replace("decision = \"sign\"", ""), 2);
    assert_eq!(m.network.predict_classes(&out), vec![0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn frozen_parameters_keep_their_values_and_the_rest_train() {
    // A fixed random projection (frozen) under a trained read-out.
    let text = r#"
inputs  = { x = 4 }
targets = { y = 1 }
predict = "o"
loss    = "squared_error(o, y)"
[params]
R = { shape = [8, 4], normal = 1.0, trainable = false }
w = { shape = [1, 8], init = "zeros" }
[nodes]
o = "w @ tanh(R @ x)"
"#;
    let m = model(text, 4);
    assert_eq!(m.parameter_count(), 8);
    assert_eq!(m.frozen_count(), 32);
    let data = regression(200, 4);
    let params = TrainParams::new(3, 50, OptimizerConfig::adam(0.05).validate().unwrap());
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(4));
    let (r0, w0) = (tape.get(m.network.params[0]).unwrap().clone(), tape.get(m.network.params[1]).unwrap().clone());
    train(&m.network, &mut tape, &data, None, &params, &mut ChaCha8Rng::seed_from_u64(5), &mut []).unwrap();
    assert_eq!(tape.get(m.network.params[0]).unwrap(), &r0, "the frozen projection moved");
    assert_ne!(tape.get(m.network.params[1]).unwrap(), &w0, "the read-out did not train");
    // The same read-out trained with R written as a constant of the same values: equal steps.
    let rows: Vec<String> = r0
        .row_iter()
        .map(|r| format!("[{}]", r.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(", ")))
        .collect();
    let constant = text
        .replace("R = { shape = [8, 4], normal = 1.0, trainable = false }\n", "")
        .replace("[nodes]", &format!("[constants]\nR = [{}]\n[nodes]", rows.join(", ")));
    let c = model(&constant, 4);
    let mut tape_c = c.network.dag.tape();
    tape_c.set(c.network.params[0], w0);
    train(&c.network, &mut tape_c, &data, None, &params, &mut ChaCha8Rng::seed_from_u64(5), &mut []).unwrap();
    assert_eq!(tape_c.get(c.network.params[0]).unwrap(), tape.get(m.network.params[1]).unwrap());
}

#[test]
fn batch_norm_keeps_running_statistics_by_its_momentum() {
    let text = r#"
inputs  = { x = 4 }
targets = { y = 1 }
predict = "o"
loss    = "squared_error(o, y)"
[params]
W = { shape = [3, 4], normal = 0.5 }
v = { shape = [1, 3], normal = 0.5 }
[nodes]
o = "v @ batch_norm(W @ x, 0.25)"
"#;
    let m = model(text, 4);
    let net = &m.network;
    assert!(net.terms.is_none(), "batch normalisation mixes the batch's samples");
    assert_eq!(net.param_names, ["W", "v", "o_bn_mean", "o_bn_var"]);
    assert_eq!((m.parameter_count(), m.frozen_count()), (15, 6));
    let data = regression(40, 4);
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(2));
    let w0 = tape.get(net.params[0]).unwrap().clone();
    // One full-batch step: the statistics move a quarter of the way from (0, 1) to the batch's
    // mean and population variance of W x, taken at the parameters before the step.
    let params = TrainParams::new(1, 40, OptimizerConfig::sgd(0.1).validate().unwrap());
    train(net, &mut tape, &data, None, &params, &mut ChaCha8Rng::seed_from_u64(5), &mut []).unwrap();
    let z = &w0 * &data.features;
    for i in 0..3 {
        let row = z.row(i);
        let mean = row.mean();
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 40.0;
        let (rm, rv) = (tape.get(net.params[2]).unwrap()[(i, 0)], tape.get(net.params[3]).unwrap()[(i, 0)]);
        assert!((rm - 0.25 * mean).abs() < 1e-14, "{rm} vs {}", 0.25 * mean);
        assert!((rv - (0.75 + 0.25 * var)).abs() < 1e-14, "{rv} vs {}", 0.75 + 0.25 * var);
    }
}

#[test]
fn constants_from_files_are_read_with_their_places_named() {
    let dir = std::env::temp_dir().join(format!("cg-model-constants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let read = |csv: &str| {
        std::fs::write(dir.join("c.csv"), csv).unwrap();
        let text = "inputs = { x = 2 }\npredict = \"o\"\nloss = \"sum(o)\"\n[constants]\nC = { csv = \"c.csv\" }\n[nodes]\no = \"C @ x\"\n";
        let mut config: ModelConfig = toml::from_str(text).unwrap();
        config.read_constant_files(&dir).map(|r| (r, config)).map_err(|e| e.to_string())
    };
    let (read_rows, config) = read("1, 2\n3,4\n\n").unwrap();
    assert_eq!(read_rows["C"], vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
    let m = build::<f64>(&config, &["a".into(), "b".into()]).unwrap();
    assert_eq!(m.nodes.iter().find(|n| n.name == "C").unwrap().shape.to_string(), "2 x 2");
    assert_eq!(
        read("1,2\n3,x\n").unwrap_err(),
        "[model.constants] C: c.csv: line 2, column 2: `x` is not a finite number"
    );
    assert_eq!(read("1,2\n3\n").unwrap_err(), "[model.constants] C: c.csv: line 2: 1 numbers, but the first row has 2");
    assert_eq!(read("\n").unwrap_err(), "[model.constants] C: c.csv: holds no numbers");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_non_finite_loss_names_the_node_it_came_from() {
    let text = r#"
inputs  = { x = 4 }
targets = { y = 1 }
predict = "o"
loss    = "squared_error(o, y)"
[params]
w = { shape = [1, 4] }
[nodes]
h = "sqrt(x)"
o = "w @ h"
"#;
    let m = model(text, 4);
    let data = regression(20, 4);
    let params = TrainParams::new(1, 20, OptimizerConfig::sgd(0.1).validate().unwrap());
    let mut tape = m.init(&mut ChaCha8Rng::seed_from_u64(0));
    let err =
        train(&m.network, &mut tape, &data, None, &params, &mut ChaCha8Rng::seed_from_u64(0), &mut []).err().unwrap();
    assert!(err.to_string().ends_with("the squared_error loss is NaN, first at node `h` = sqrt(x)"), "{err}");
}
