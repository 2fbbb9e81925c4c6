//! The worked examples and exercises of chapter 11, each checked against a closed form derived by
//! hand in the comment next to it (never against numbers the engine produced).

mod common;

use cg_core::Role::{Input, Weight};
use common::{build, close, Built};

const PATHS: u64 = 1_000_000;

/// Figure 11.1: f = ln(x1 x2) · exp(x1 x2 x3) · sqrt(w2 x2 + w3 x3).
fn figure_11_1(w3: f64) -> Built {
    build(
        &[("x1", Input, 2.0), ("x2", Input, 2.0), ("x3", Input, 1.0), ("w2", Weight, 1.0), ("w3", Weight, w3)],
        &[
            ("a", "x1 * x2"),
            ("b", "x1 * x2 * x3"),
            ("c", "w2 * x2 + w3 * x3"),
            ("p", "log(a)"),
            ("q", "exp(b)"),
            ("r", "sqrt(c)"),
            ("f", "p * q * r"),
        ],
    )
}

#[test]
fn figure_11_1_outputs_are_227_1_and_75_7() {
    // ln 4 · e^4 · sqrt(2 + 7) = 227.07, and with w3 = -1: ln 4 · e^4 · sqrt(1) = 75.69.
    let g = figure_11_1(7.0);
    assert_eq!((g.value("f") * 10.0).round() / 10.0, 227.1);
    let g2 = figure_11_1(-1.0);
    assert_eq!((g2.value("f") * 10.0).round() / 10.0, 75.7);
    // df/dw3 = ln(x1 x2) exp(x1 x2 x3) x3 / (2 sqrt(w2 x2 + w3 x3)) = ln 4 e^4 / 6 at w3 = 7.
    let want = 4f64.ln() * 4f64.exp() / 6.0;
    close(g.reverse("w3", "f"), want, 1e-14);
    // df/dw2 = ln 4 e^4 x2 / (2 · 3) = ln 4 e^4 / 3.
    close(g.reverse("w2", "f"), 2.0 * want, 1e-14);
}

#[test]
fn figure_11_4_chain_rule() {
    // o = cos(x^2): do/dx = -2x sin(x^2).
    let x = 0.7;
    let g = build(&[("x", Input, x)], &[("y", "x^2"), ("o", "cos(y)")]);
    close(g.reverse("x", "o"), -2.0 * x * (x * x).sin(), 1e-15);
}

#[test]
fn figure_11_6_two_paths_add() {
    // o = cos(x^2) + sin(x^2) through two separate x^2 nodes: do/dx = -2x sin(x^2) + 2x cos(x^2).
    let x = 1.3;
    let g = build(&[("x", Input, x)], &[("y", "x^2"), ("z", "x^2"), ("p", "cos(y)"), ("q", "sin(z)"), ("o", "p + q")]);
    let want = -2.0 * x * (x * x).sin() + 2.0 * x * (x * x).cos();
    close(g.reverse("x", "o"), want, 1e-14);
    let sum = g.dag.pathwise(&g.tape, g.id("x"), g.id("o"), PATHS).unwrap();
    assert_eq!(sum.paths, 2);
    close(sum.value, want, 1e-14);
}

/// Figure 11.7: five layers of two nodes, each the product of the previous layer's two nodes.
fn figure_11_7(x: f64) -> Built {
    let mut nodes: Vec<(String, String)> = vec![("h1_1".into(), "x".into()), ("h1_2".into(), "x".into())];
    for i in 2..=5 {
        for j in 1..=2 {
            nodes.push((format!("h{i}_{j}"), format!("h{}_1 * h{}_2", i - 1, i - 1)));
        }
    }
    nodes.push(("o".into(), "h5_1 * h5_2".into()));
    let refs: Vec<(&str, &str)> = nodes.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    build(&[("x", Input, x)], &refs)
}

#[test]
fn figure_11_7_has_32_paths_each_worth_x_to_the_31() {
    // o = x^32; each of the 2^5 paths multiplies x · x^2 · x^4 · x^8 · x^16 = x^31.
    let x = 1.1f64;
    let g = figure_11_7(x);
    close(g.value("o"), x.powi(32), 1e-14);
    let (xi, o) = (g.id("x"), g.id("o"));
    assert_eq!(g.dag.path_count(xi, o), 32);
    let sum = g.dag.pathwise(&g.tape, xi, o, PATHS).unwrap();
    assert_eq!(sum.paths, 32);
    close(sum.value, 32.0 * x.powi(31), 1e-14);
    close(g.reverse("x", "o"), 32.0 * x.powi(31), 1e-14);
    // With a limit below 32 the enumeration refuses, saying how many paths there are.
    let err = g.dag.pathwise(&g.tape, xi, o, 31).unwrap_err();
    assert_eq!(err.to_string(), "32 paths from `x` to `o` exceed the path limit of 31");
}

/// Figure 11.9 with the inputs of the foundation issue's example.
fn figure_11_9() -> Built {
    build(
        &[("y1", Input, 1.0), ("y2", Input, 2.0), ("y3", Input, 0.5), ("w2", Weight, 1.0), ("w3", Weight, 7.0)],
        &[
            ("y4", "y1 * y2"),
            ("y5", "y1 * y2 * y3"),
            ("y6", "w2 * y2 + w3 * y3"),
            ("y7", "sin(y4)"),
            ("y8", "cos(y5)"),
            ("y9", "sin(y6)"),
            ("y10", "y7 * y8 * y9"),
        ],
    )
}

#[test]
fn figure_11_9_node_to_node_derivatives_match_section_11_3_4_1() {
    let g = figure_11_9();
    let y = |k: usize| g.value(&format!("y{k}"));
    let w2 = 1.0;
    let w3 = 7.0;
    // The chapter's symbolic S(1,10), S(2,10), S(3,10), evaluated.
    let s1 = y(8) * y(9) * y(4).cos() * y(2) - y(7) * y(9) * y(5).sin() * y(2) * y(3);
    let s2 = y(8) * y(9) * y(4).cos() * y(1) - y(7) * y(9) * y(5).sin() * y(1) * y(3) + y(7) * y(8) * y(6).cos() * w2;
    let s3 = -y(7) * y(9) * y(5).sin() * y(1) * y(2) + y(7) * y(8) * y(6).cos() * w3;
    let all = g.dag.all_pairs(&g.tape);
    for (k, want) in [(1, s1), (2, s2), (3, s3)] {
        let name = format!("y{k}");
        close(g.reverse(&name, "y10"), want, 1e-14);
        close(all.get(g.id(&name), g.id("y10")).unwrap(), want, 1e-14);
        close(g.dag.tangents(&g.tape, g.id(&name))[g.id("y10")], want, 1e-14);
        close(g.dag.pathwise(&g.tape, g.id(&name), g.id("y10"), PATHS).unwrap().value, want, 1e-14);
    }
    // The intermediate S(4,10) = y8 y9 cos(y4), S(5,10) = -y7 y9 sin(y5), S(6,10) = y7 y8 cos(y6).
    close(g.reverse("y4", "y10"), y(8) * y(9) * y(4).cos(), 1e-15);
    close(g.reverse("y5", "y10"), -y(7) * y(9) * y(5).sin(), 1e-15);
    close(g.reverse("y6", "y10"), y(7) * y(8) * y(6).cos(), 1e-15);
}

#[test]
fn section_11_3_5_1_loss_to_weight_derivatives() {
    // L = log(y10^2): dL/dw2 = (2/y10) y7 y8 cos(y6) y2, dL/dw3 = (2/y10) y7 y8 cos(y6) y3.
    let g = figure_11_9();
    let y = |k: usize| g.value(&format!("y{k}"));
    let seed = 2.0 / y(10); // dL/dy10
    let delta = g.dag.reverse(&g.tape, &[(g.id("y10"), seed)]).unwrap();
    let common = seed * y(7) * y(8) * y(6).cos();
    close(delta[g.id("w2")], common * y(2), 1e-14);
    close(delta[g.id("w3")], common * y(3), 1e-14);
}

#[test]
fn exercise_4_nested_sin_plus_cos() {
    // f(x) = sin x + cos x; d/dx f(f(f(f(x)))) = Π_k f'(x_k), x_0 = π/3, x_{k+1} = f(x_k),
    // f'(x) = cos x - sin x.
    let x0 = std::f64::consts::FRAC_PI_3;
    let g = build(
        &[("x", Input, x0)],
        &[
            ("f1", "sin(x) + cos(x)"),
            ("f2", "sin(f1) + cos(f1)"),
            ("f3", "sin(f2) + cos(f2)"),
            ("f4", "sin(f3) + cos(f3)"),
        ],
    );
    let mut xk = x0;
    let mut want = 1.0;
    for _ in 0..4 {
        want *= xk.cos() - xk.sin();
        xk = xk.sin() + xk.cos();
    }
    close(g.value("f4"), xk, 1e-15);
    close(g.reverse("x", "f4"), want, 1e-14);
}

/// Figure 11.8's shape as read from exercises 17 and 18: input x (node 1), three hidden layers of
/// an upper and a lower node, and an output node joined to both nodes of the last layer.
fn figure_11_8(upper: &str, lower: &str, output: &str, x: f64) -> Built {
    let f = |t: &str, a: &str, b: &str| t.replace('a', a).replace('b', b);
    let nodes = [
        ("u1".to_string(), f(upper, "x", "0")),
        ("l1".to_string(), f(lower, "x", "0")),
        ("u2".to_string(), f(upper, "u1", "l1")),
        ("l2".to_string(), f(lower, "u1", "l1")),
        ("u3".to_string(), f(upper, "u2", "l2")),
        ("l3".to_string(), f(lower, "u2", "l2")),
        ("o".to_string(), f(output, "u3", "l3")),
    ];
    let refs: Vec<(&str, &str)> = nodes.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    build(&[("x", Input, x)], &refs)
}

#[test]
fn exercise_17_every_edge_worth_0_3() {
    // Linear nodes 0.3 a + 0.3 b give z = 0.3 on every edge. 2^3 = 8 paths of 4 edges:
    // do/dx = 8 · 0.3^4 = 0.0648.
    let g = figure_11_8("0.3 * a + 0.3 * b", "0.3 * a + 0.3 * b", "0.3 * a + 0.3 * b", 0.9);
    let sum = g.dag.pathwise(&g.tape, g.id("x"), g.id("o"), PATHS).unwrap();
    assert_eq!(sum.paths, 8);
    close(sum.value, 0.0648, 1e-15);
    close(g.reverse("x", "o"), 0.0648, 1e-15);
}

#[test]
fn exercise_18_sin_and_cos_layers() {
    // Upper nodes sin(a + b), lower cos(a + b), output the product; x = 1. With s_1 = sin x + cos x
    // and s_k = sin(s_{k-1}) + cos(s_{k-1}), the output is sin(s_2) cos(s_2) = sin(2 s_2)/2, so
    // do/dx = cos(2 s_2) · (cos s_1 - sin s_1) · (cos x - sin x).
    let g = figure_11_8("sin(a + b)", "cos(a + b)", "a * b", 1.0);
    let x = 1f64;
    let s1 = x.sin() + x.cos();
    let s2 = s1.sin() + s1.cos();
    let want = (2.0 * s2).cos() * (s1.cos() - s1.sin()) * (x.cos() - x.sin());
    close(g.reverse("x", "o"), want, 1e-14);
    let sum = g.dag.pathwise(&g.tape, g.id("x"), g.id("o"), PATHS).unwrap();
    close(sum.value, want, 1e-14);
}
