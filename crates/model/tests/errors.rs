//! Every mistake in a model is one line naming the node (or table) and, for shapes, both shapes,
//! found before anything runs.

use cg_model::{build, ModelConfig};

const BASE: &str = r#"
inputs  = { x = 4 }
targets = { y = 3 }
predict = "o"
loss    = "softmax_cross_entropy(o, y)"
[params]
W1 = { shape = [16, 4] }
b1 = { shape = [16] }
W2 = { shape = [3, 16] }
[nodes]
h = "relu(W1 @ x + b1)"
o = "W2 @ h"
"#;

fn error(text: &str) -> String {
    let config: ModelConfig = toml::from_str(text).unwrap();
    let features: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    match build::<f64>(&config, &features) {
        Ok(_) => panic!("built: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_base_model_builds() {
    let config: ModelConfig = toml::from_str(BASE).unwrap();
    let features: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    let m = build::<f64>(&config, &features).unwrap();
    assert_eq!(m.parameter_count(), 16 * 4 + 16 + 3 * 16);
}

#[test]
fn shape_mismatches_name_the_node_and_both_shapes() {
    assert_eq!(
        error(&BASE.replace("shape = [16, 4]", "shape = [16, 13]")),
        "h = W1 @ x: W1 is 16 x 13 but x has 4 rows"
    );
    assert_eq!(
        error(&BASE.replace("shape = [16] }", "shape = [15] }")),
        "h = W1 @ x + b1: W1 @ x is 16 x batch but b1 is 15 x 1; they do not broadcast"
    );
    assert_eq!(
        error(&BASE.replace("W2 = { shape = [3, 16] }", "W2 = { shape = [2, 16] }")),
        "loss = softmax_cross_entropy(o, y): the prediction o is 2 x batch but the target y is 3 x batch"
    );
    assert_eq!(
        error(&BASE.replace("softmax_cross_entropy(o, y)\"", "softmax_cross_entropy(o, y) + W1\"")),
        "loss = W1: is 16 x 4, not 1 x 1; reduce it (sum(...))"
    );
    assert_eq!(
        error(&BASE.replace("\"W2 @ h\"", "\"max(W2 @ h, h)\"")),
        "o = max(W2 @ h, h): W2 @ h is 3 x batch but h is 16 x batch; they do not broadcast"
    );
}

#[test]
fn names_cycles_and_syntax() {
    assert_eq!(
        error(&BASE.replace("\"W2 @ h\"", "\"W2 @ z\"")),
        "[model.nodes] o: uses `z`, which is not an input, target, parameter or node"
    );
    assert_eq!(
        error(&BASE.replace("relu(W1 @ x + b1)", "relu(W1 @ x + b1) + 0 * W2 @ o")),
        "[model.nodes] cycle: h -> o -> h"
    );
    assert_eq!(
        error(&BASE.replace("relu(", "relu((")),
        "[model.nodes] h: column 19: expected `,` or `)`, found end of expression"
    );
    assert_eq!(
        error(&BASE.replace("relu(", "rectify(")),
        "h = rectify(W1 @ x + b1): unknown function `rectify` (`experiments explain model` lists them)"
    );
    assert_eq!(
        error(&BASE.replace("relu(", "rellu(")),
        "h = rellu(W1 @ x + b1): unknown function `rellu`; did you mean `relu`? (`experiments explain model` lists them)"
    );
    assert_eq!(
        error(&BASE.replace("relu(W1 @ x + b1)", "relu(W1 @ x, b1)")),
        "h = relu(W1 @ x, b1): `relu` is written relu(x), got 2 arguments"
    );
    assert_eq!(
        error(&BASE.replace("[params]", "[params]\nS = { shape = [3, 4] }")),
        "[model.params] S: not used by any node or the loss"
    );
    assert_eq!(error(&BASE.replace("predict = \"o\"", "predict = \"p\"")), "[model] predict: `p` is not a node");
    assert_eq!(
        error(&BASE.replace("softmax_cross_entropy(o, y)\"", "sum(W2 * W2)\"")),
        "[model.params] W1: does not reach the loss (no gradient would move it)"
    );
    assert_eq!(
        error(&BASE.replace("x = 4", "x = 5")),
        "[model.inputs] widths add up to 5 but the data has 4 input features"
    );
    assert_eq!(
        error(&BASE.replace("[nodes]", "[nodes]\nrelu = \"x\"")),
        "[model.nodes] relu: is reserved (a function or the trainer's node)"
    );
    assert_eq!(
        error(&BASE.replace("b1 = { shape = [16] }", "b1 = { shape = [16], init = \"zeros\", normal = 0.1 }")),
        "[model.params] b1: give one of init, normal, uniform, value"
    );
}

#[test]
fn the_new_functions_check_their_arguments() {
    let node = |expr: &str| error(&BASE.replace("\"W2 @ h\"", &format!("\"{expr}\"")));
    assert_eq!(node("clip(W2 @ h, 1, -1)"), "o = clip(W2 @ h, 1, -1): the bounds 1 > -1");
    assert_eq!(
        node("clip(W2 @ h, h, 1)"),
        "o = clip(W2 @ h, h, 1): `clip` is written clip(x, lo, hi): h must be a number"
    );
    assert_eq!(node("sum(W2 @ h, 2)"), "o = sum(W2 @ h, 2): axis 2 is neither 0 (per sample) nor 1 (over the batch)");
    assert_eq!(node("(W2 @ h) ^ h"), "o = (W2 @ h) ^ h: the exponent h must be a number (for e^x write exp(x))");
    assert_eq!(node("(W2 @ h)[5]"), "o = rows(W2 @ h, 5, 6): W2 @ h has 3 rows, so rows up to 6 do not exist");
    assert_eq!(node("(W2 @ h)[2:1]"), "o = rows(W2 @ h, 2, 1): rows 2..1 are not whole numbers with start < end");
    assert_eq!(node("pow(W2 @ h)"), "o = pow(W2 @ h): `pow` is written pow(x, p), got 1 argument");
    // A per-sample quantity is 1 x batch and broadcasts against k x batch; a column does not fit a row.
    assert!(build_ok(&BASE.replace("\"W2 @ h\"", "\"W2 @ h / sum(h * h, 0)\"")));
    assert_eq!(
        node("W2 @ h + sum(h, 1)"),
        "o = W2 @ h + sum(h, 1): W2 @ h is 3 x batch but sum(h, 1) is 16 x 1; they do not broadcast"
    );
    assert_eq!(
        error(&BASE.replace("softmax_cross_entropy(o, y)\"", "batch_mean(sum(o, 1))\"")),
        "loss = batch_mean(sum(o, 1)): batch_mean takes a column per sample, but sum(o, 1) is 3 x 1"
    );
    assert_eq!(
        error(&BASE.replace("[params]", "[constants]\nI = { identity = 3, fill = 1 }\n[params]")),
        "[model.constants] I: give fill with shape, or identity"
    );
    assert_eq!(
        error(&BASE.replace("[params]", "[constants]\nC = [[1, 2], [3]]\n[params]")),
        "[model.constants] C: every row needs 2 numbers, as the first"
    );
    assert_eq!(
        error(&BASE.replace("predict = \"o\"", "predict = \"o\"\ndecision = \"sign\"")),
        "[model] decision: `o` has 3 outputs; sign and threshold classify one output (use argmax)"
    );
    assert_eq!(
        error(&BASE.replace("predict = \"o\"", "predict = \"o\"\nthreshold = 0.3")),
        "[model] threshold: needs decision = \"threshold\""
    );
}

fn build_ok(text: &str) -> bool {
    let config: ModelConfig = toml::from_str(text).unwrap();
    let features: Vec<String> = (0..4).map(|i| format!("f{i}")).collect();
    build::<f64>(&config, &features).is_ok()
}
