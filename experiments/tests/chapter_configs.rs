//! The shipped chapter configs produce the chapter's numbers. Expected values are closed forms
//! derived by hand in the comments, independent of the engine.

use std::path::PathBuf;

use serde_json::Value;

fn run(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../configs").join(format!("{name}.toml"));
    let outcome = experiments::run(&path, &experiments::RunOptions::default()).unwrap();
    let (_, bytes) = outcome.files.iter().find(|(f, _)| f == "graph.json").unwrap();
    serde_json::from_slice(bytes).unwrap()
}

#[track_caller]
fn close(got: &Value, want: f64, tol: f64) {
    let got = got.as_f64().unwrap_or_else(|| panic!("not a number: {got}"));
    assert!((got - want).abs() <= tol * want.abs().max(1.0), "{got} != {want}");
}

#[test]
fn figure_11_1_values_and_squared_error_gradient() {
    // f = ln 4 · e^4 · 3 = 227.07 (the chapter's 227.1); L = (f - 100)^2;
    // dL/dw3 = 2 (f - 100) · ln 4 · e^4 · x3 / (2 sqrt(9)).
    let r = run("fig11_1_w3_7");
    let f = 4f64.ln() * 4f64.exp() * 3.0;
    assert_eq!((r["values"]["f"].as_f64().unwrap() * 10.0).round() / 10.0, 227.1);
    close(&r["loss"], (f - 100.0).powi(2), 1e-14);
    close(&r["gradient"]["w3"], 2.0 * (f - 100.0) * 4f64.ln() * 4f64.exp() / 6.0, 1e-13);
    // w3 = -1: f = ln 4 · e^4 · 1 = 75.69 (the chapter's 75.7).
    let r = run("fig11_1_w3_minus1");
    assert_eq!((r["values"]["f"].as_f64().unwrap() * 10.0).round() / 10.0, 75.7);
}

#[test]
fn figure_11_1_trained_reaches_the_closed_form_minimum() {
    // f = ln 4 · e^4 · sqrt(2 w2 + w3) = 100 exactly when 2 w2 + w3 = (100 / (ln 4 · e^4))^2.
    let o = &run("fig11_1_optimize")["optimize"];
    let w = &o["final_weights"];
    let c = 2.0 * w["w2"].as_f64().unwrap() + w["w3"].as_f64().unwrap();
    close(&serde_json::json!(c), (100.0 / (4f64.ln() * 4f64.exp())).powi(2), 1e-12);
    assert!(o["final_loss"].as_f64().unwrap() < 1e-20);
    let curve = o["loss_curve"].as_array().unwrap();
    assert!(curve[0].as_f64().unwrap() > 16000.0 && curve.len() == 300);
}

#[test]
fn figures_11_4_and_11_6_chain_rule() {
    // d cos(x^2)/dx = -2x sin(x^2); d [cos(x^2) + sin(x^2)]/dx adds 2x cos(x^2); x = 1.
    close(&run("fig11_4")["gradient"]["x"], -2.0 * 1f64.sin(), 1e-15);
    let r = run("fig11_6");
    close(&r["gradient"]["x"], -2.0 * 1f64.sin() + 2.0 * 1f64.cos(), 1e-15);
    assert_eq!(r["path_counts"]["x"]["o"], 2);
}

#[test]
fn figure_11_7_thirty_two_paths() {
    // o = x^32 at x = 1.1; do/dx = 32 x^31 over 32 paths.
    let r = run("fig11_7");
    assert_eq!(r["path_counts"]["x"]["o"], 32);
    close(&r["pathwise"]["x"]["o"], 32.0 * 1.1f64.powi(31), 1e-13);
    close(&r["gradient"]["x"], 32.0 * 1.1f64.powi(31), 1e-13);
}

#[test]
fn figure_11_9_loss_to_weight_derivatives() {
    // y4 = 2, y5 = 1, y6 = 1·2 + 7·0.5 = 5.5; y7 = sin 2, y8 = cos 1, y9 = sin 5.5; L = log(y10^2):
    // dL/dw2 = (2/y10) y7 y8 cos(y6) y2 and dL/dw3 = (2/y10) y7 y8 cos(y6) y3 (section 11.3.5.1).
    let r = run("fig11_9");
    let (y7, y8, y9) = (2f64.sin(), 1f64.cos(), 5.5f64.sin());
    let y10 = y7 * y8 * y9;
    close(&r["loss"], (y10 * y10).ln(), 1e-14);
    let common = 2.0 / y10 * y7 * y8 * 5.5f64.cos();
    close(&r["gradient"]["w2"], common * 2.0, 1e-14);
    close(&r["gradient"]["w3"], common * 0.5, 1e-14);
    // S(3,10) of section 11.3.4.1: -y7 y9 sin(y5) y1 y2 + y7 y8 cos(y6) w3.
    let s3 = -y7 * y9 * 1f64.sin() * 2.0 + y7 * y8 * 5.5f64.cos() * 7.0;
    close(&r["all_pairs"]["y3"]["y10"], s3, 1e-14);
    close(&r["pathwise"]["y3"]["y10"], s3, 1e-14);
    close(&r["forward"]["y3"]["y10"], s3, 1e-14);
}

#[test]
fn exercises_4_17_18() {
    // Exercise 4: Π_k (cos x_k - sin x_k) along x_{k+1} = sin x_k + cos x_k from π/3.
    let mut x = std::f64::consts::FRAC_PI_3;
    let mut d = 1.0;
    for _ in 0..4 {
        d *= x.cos() - x.sin();
        x = x.sin() + x.cos();
    }
    close(&run("exercise_4")["gradient"]["x"], d, 1e-14);
    // Exercise 17: 8 paths of four edges worth 0.3 each.
    close(&run("exercise_17")["pathwise"]["x"]["o"], 8.0 * 0.3f64.powi(4), 1e-15);
    // Exercise 18: cos(2 s2) (cos s1 - sin s1)(cos 1 - sin 1), s1 = sin 1 + cos 1, s2 = sin s1 + cos s1.
    let s1 = 1f64.sin() + 1f64.cos();
    let s2 = s1.sin() + s1.cos();
    let want = (2.0 * s2).cos() * (s1.cos() - s1.sin()) * (1f64.cos() - 1f64.sin());
    let r = run("exercise_18");
    close(&r["gradient"]["x"], want, 1e-14);
    close(&r["pathwise"]["x"]["o"], want, 1e-14);
}

#[test]
fn deep_graph_skips_path_enumeration_and_says_why() {
    // 40 layers of two units: 2^40 paths.
    let r = run("paths_deep");
    assert!(r.get("pathwise").is_none());
    assert_eq!(r["path_counts"]["x"]["o"], 1u64 << 40);
    let note = r["pathwise_note"].as_str().unwrap();
    assert!(note.contains("1099511627776 paths"), "{note}");
    // The exact algorithms still agree with each other and with finite differences.
    for (k, v) in r["agreement"].as_object().unwrap() {
        let tol = if k == "reverse_vs_finite_difference" { 1e-8 } else { 1e-12 };
        assert!(v.as_f64().unwrap() <= tol, "{k} = {v}");
    }
}
