//! On random model graphs (random DAGs of the expression language's operations, parameters
//! shared between several uses, losses that split into terms and losses that do not), reverse
//! mode, forward mode (Jacobian-vector products) and central differences give the same
//! derivative of the loss.

use cg_autodiff::vector::{Mat, VectorTape};
use cg_model::{build, Model, ModelConfig};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random model as config text: input x (3 wide), nodes n1..nk over earlier values, target y
/// as wide as the last node.
fn random_model(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values: Vec<(String, usize)> = vec![("x".into(), 3)];
    let mut params: Vec<(String, usize, usize)> = vec![];
    let mut nodes = vec![];
    let mut constants: Vec<String> = vec![];
    let weight = |rng: &mut ChaCha8Rng, rows: usize, cols: usize, params: &mut Vec<(String, usize, usize)>| {
        // Reuse a parameter of this shape half the time: tied weights.
        if let Some(p) = params.iter().find(|p| p.1 == rows && p.2 == cols).filter(|_| rng.random_bool(0.5)) {
            return p.0.clone();
        }
        let name = format!("P{}", params.len() + 1);
        params.push((name.clone(), rows, cols));
        name
    };
    let count = rng.random_range(2..6);
    for k in 1..=count {
        // Each node uses the one before (so every parameter reaches the loss) and any other.
        let (a, ra) = values.last().unwrap().clone();
        let (b, rb) = values[rng.random_range(0..values.len())].clone();
        let width = [2usize, 3, 4][rng.random_range(0..3)];
        let (expr, rows) = match rng.random_range(0..23) {
            0 => {
                let (w, bias) = (weight(&mut rng, width, ra, &mut params), weight(&mut rng, width, 1, &mut params));
                (format!("tanh({w} @ {a} + {bias})"), width)
            }
            1 => (format!("sigmoid({} @ {a})", weight(&mut rng, width, ra, &mut params)), width),
            2 if ra == rb => (format!("{a} * {b}"), ra),
            3 if ra == rb => (format!("{a} - 0.5 * {b}"), ra),
            4 => (format!("softplus({a}) + {}", weight(&mut rng, ra, 1, &mut params)), ra),
            5 => (format!("concat({a}, {b})"), ra + rb),
            6 => (format!("softmax({a})"), ra),
            7 => (format!("exp(0.3 * {a}) * {}", weight(&mut rng, 1, 1, &mut params)), ra),
            8 => {
                // transpose(W) @ tanh(W @ a): one W used twice.
                let w = weight(&mut rng, width, ra, &mut params);
                (format!("transpose({w}) @ tanh({w} @ transpose(transpose({a})))"), ra)
            }
            10 if ra == rb => (format!("{a} / (1 + {b} * {b})"), ra),
            11 => (format!("sqrt(1 + {a} ^ 2) - 0.5 * {a} ^ 3"), ra),
            12 => (format!("max(0, {a}) + 0.3 * min({a}, 0.2)"), ra),
            13 => (format!("clip({a}, -0.7, 0.7) + pow(softplus({a}), 1.5)"), ra),
            14 => (format!("log_softmax({a})"), ra),
            // A row (one number per sample) against ra x batch.
            15 => (format!("{a} - logsumexp({a}) + {a} / sum({a} * {a} + 1, 0)"), ra),
            16 if ra == rb => (format!("where({b}, {a}, 0.5 * {a})"), ra),
            17 => {
                constants.push(format!("C{k} = [{}]", vec!["0.25"; ra].join(", ")));
                (format!("{a} * {a} + C{k} * {a}"), ra)
            }
            // Mixes the samples of the batch: such a loss may not be cut into parts.
            18 => (format!("{a} - mean({a}, 1)"), ra),
            19 => (format!("{} @ {a} + mean({a}, 0)", weight(&mut rng, width, ra, &mut params)), width),
            20 => (format!("{} * layer_norm(2 * {a}) + {a}", weight(&mut rng, ra, 1, &mut params)), ra),
            // Row selection: a gate's first row against the rest.
            21 => (format!("concat({a}[0] * {a}, sigmoid({a}[0:1]))"), ra + 1),
            22 => (format!("sin({a}) * cos({a}) + silu({a}) - softsign({a}) + elu({a}, 0.5) + leaky_relu({a})"), ra),
            _ => (format!("tanh({a}) + {a}"), ra),
        };
        let name = format!("n{k}");
        nodes.push(format!("{name} = \"{expr}\""));
        values.push((name, rows));
    }
    let (last, rows) = values.last().unwrap().clone();
    let loss = match rng.random_range(0..5) {
        0 => format!("\"squared_error({last}, y)\""),
        1 => format!("\"0.5 * squared_error({last}, y) + 0.01 * sum(P1 * P1)\""),
        // Per-sample losses written from primitives.
        2 => format!("{{ per_sample = \"sum(({last} - y) ^ 2, 0)\" }}"),
        3 => format!("\"batch_mean(sqrt(1 + ({last} - y) ^ 2)) / 2 + 0.01 * sum(P1 ^ 2)\""),
        // Not a sum of per-sample terms: evaluated whole.
        _ => format!("\"log(1 + sum({last} * {last}))\""),
    };
    let params_text: Vec<String> =
        params.iter().map(|(n, r, c)| format!("{n} = {{ shape = [{r}, {c}], normal = 0.5 }}")).collect();
    format!(
        "inputs = {{ x = 3 }}\ntargets = {{ y = {rows} }}\npredict = \"{last}\"\nloss = {loss}\n[params]\n{}\n[constants]\n{}\n[nodes]\n{}\n",
        params_text.join("\n"),
        constants.join("\n"),
        nodes.join("\n")
    )
}

/// The loss at the parameters in `tape` (inputs already set).
fn loss(model: &Model<f64>, tape: &mut VectorTape<f64>) -> f64 {
    model.network.dag.forward(tape).unwrap();
    tape.get(model.network.loss).unwrap()[(0, 0)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reverse_forward_and_central_differences_agree(seed in any::<u64>()) {
        let text = random_model(seed);
        let config: ModelConfig = toml::from_str(&text).unwrap();
        // Parameters that happen to be drawn but never used make the model invalid: skip those.
        let Ok(model) = build::<f64>(&config, &["a".into(), "b".into(), "c".into()]) else { return Ok(()) };
        let net = &model.network;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 1);
        let mut tape = model.init(&mut rng);
        let cols = 3;
        tape.set(net.inputs[0].0, Mat::from_fn(3, cols, |_, _| rng.random_range(-1.0..1.0)));
        let t = &net.targets[0];
        tape.set(t.node, Mat::from_fn(t.width, cols, |_, _| rng.random_range(-1.0..1.0)));
        tape.set(net.batch_size, Mat::from_element(1, 1, cols as f64));
        tape.set(net.fraction, Mat::from_element(1, 1, 1.0));
        let l0 = loss(&model, &mut tape);
        prop_assume!(l0.is_finite());
        let grads = net.dag.reverse(&tape, vec![(net.loss, Mat::from_element(1, 1, 1.0))], false).unwrap();
        // Forward mode along a random direction of every parameter at once.
        let directions: Vec<Mat> = net
            .params
            .iter()
            .map(|&p| { let m = tape.get(p).unwrap(); Mat::from_fn(m.nrows(), m.ncols(), |_, _| rng.random_range(-1.0..1.0)) })
            .collect();
        let tangents = net.dag.jvp(&tape, net.params.iter().copied().zip(directions.iter().cloned()).collect());
        let jvp = tangents[net.loss.index()].as_ref().map_or(0.0, |m| m[(0, 0)]);
        let via_reverse: f64 = net
            .params
            .iter()
            .zip(&directions)
            .map(|(&p, d)| grads.get(p).map_or(0.0, |g| g.component_mul(d).sum()))
            .sum();
        prop_assert!((jvp - via_reverse).abs() <= 1e-9 * (1.0 + jvp.abs()), "{text}\nJVP {jvp} vs reverse {via_reverse}");
        // Central differences along the same direction.
        let h = 1e-6;
        let shifted = |s: f64| {
            let mut probe = tape.clone();
            for (&p, d) in net.params.iter().zip(&directions) {
                let m = probe.get_mut(p).unwrap();
                *m += d * s;
            }
            loss(&model, &mut probe)
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        prop_assert!((fd - via_reverse).abs() <= 1e-5 * (1.0 + fd.abs()), "{text}\nfd {fd} vs reverse {via_reverse}");
    }
}

#[test]
fn most_random_models_build() {
    let mut built = 0;
    for seed in 0..200 {
        let config: ModelConfig = toml::from_str(&random_model(seed)).unwrap();
        match build::<f64>(&config, &["a".into(), "b".into(), "c".into()]) {
            Ok(_) => built += 1,
            Err(e) => eprintln!("{seed}: {e}"),
        }
    }
    assert!(built >= 150, "only {built} of 200 random models built");
}
