//! Best fits against closed forms and brute force.

use cg_core::run;
use cg_fit::{BestFit, FitParams, UndirectedModel};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn model(functions: &[(&str, &str)], fixed: &[(&str, f64)]) -> UndirectedModel {
    let f: Vec<(String, String)> = functions.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    let x: Vec<(String, f64)> = fixed.iter().map(|(a, v)| (a.to_string(), *v)).collect();
    UndirectedModel::new(&f, &x).unwrap()
}

fn fit(m: &UndirectedModel, seed: u64) -> (Vec<f64>, f64, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut solver = BestFit::new(m, FitParams::new(1e-10, 1.0).unwrap());
    let mut state = solver.start(&mut rng).unwrap();
    let out = run(&mut solver, &mut state, 100_000, &mut rng, &mut []).unwrap();
    assert!(
        matches!(out.stop, cg_core::Stop::Converged | cg_core::Stop::Stalled),
        "no stationary point in {} steps",
        out.steps
    );
    (state.values, state.loss, out.steps)
}

#[test]
fn the_chapters_two_nodes_have_best_fit_residual_two() {
    // x = y + 1 and y = x + 1: with d = x - y the loss is (d - 1)² + (d + 1)² = 2 + 2d², least at
    // d = 0 with residual 2 > 0: no exact solution.
    let m = model(&[("x", "y + 1"), ("y", "x + 1")], &[]);
    assert_eq!(m.graph.edge_count(), 1, "one undirected edge between x and y");
    let (v, loss, _) = fit(&m, 1);
    assert!((loss - 2.0).abs() < 1e-12, "{loss}");
    assert!((v[0] - v[1]).abs() < 1e-9, "{v:?}");
    let viol = m.violations(&v).unwrap();
    assert!((viol[0].unwrap() + 1.0).abs() < 1e-9 && (viol[1].unwrap() + 1.0).abs() < 1e-9);
}

#[test]
fn a_consistent_graph_is_solved_exactly() {
    // x = y + 1, y = 2 z, z observed 3: x = 7, y = 6.
    let m = model(&[("x", "y + 1"), ("y", "2 * z")], &[("z", 3.0)]);
    let (v, loss, _) = fit(&m, 2);
    assert!(loss < 1e-18, "{loss}");
    assert!((v[0] - 7.0).abs() < 1e-9 && (v[1] - 6.0).abs() < 1e-9, "{v:?}");
    assert_eq!(v[2], 3.0, "fixed nodes keep their value");
}

#[test]
fn a_nonlinear_inconsistent_graph_matches_brute_force() {
    // x = y², y = x + 1 has no real solution (y = y² + 1). Brute force on a grid, refined.
    let m = model(&[("x", "y^2"), ("y", "x + 1")], &[]);
    let (_, loss, _) = fit(&m, 3);
    let f = |x: f64, y: f64| (x - y * y).powi(2) + (y - x - 1.0).powi(2);
    let (mut best, mut at) = (f64::INFINITY, (0.0, 0.0));
    let (mut cx, mut cy, mut span) = (0.0, 0.0, 4.0);
    for _ in 0..12 {
        for i in -50..=50 {
            for j in -50..=50 {
                let (x, y) = (cx + span * f64::from(i) / 50.0, cy + span * f64::from(j) / 50.0);
                if f(x, y) < best {
                    (best, at) = (f(x, y), (x, y));
                }
            }
        }
        (cx, cy, span) = (at.0, at.1, span / 10.0);
    }
    assert!(best > 0.1, "no exact solution: {best}");
    assert!((loss - best).abs() < 1e-9 * best.max(1.0), "descent {loss}, brute force {best}");
}

#[test]
fn bad_graphs_are_refused_with_the_node_named() {
    let f = |fs: &[(&str, &str)], x: &[(&str, f64)]| {
        let f: Vec<(String, String)> = fs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let x: Vec<(String, f64)> = x.iter().map(|(a, v)| (a.to_string(), *v)).collect();
        UndirectedModel::new(&f, &x).err().unwrap().to_string()
    };
    assert_eq!(
        f(&[("x", "x + 1")], &[]),
        "node `x`: its function uses the node itself; an undirected graph has no self-loops"
    );
    assert_eq!(f(&[("x", "q + 1")], &[]), "node `x`: uses `q`, which is neither a computational nor a fixed node");
    assert!(f(&[("x", "y")], &[("x", 1.0), ("y", 2.0)]).contains("both fixed and computed"));
}

proptest! {
    /// Linear constraints x_i = a_i x_{i+1} + b_i around a ring (an inconsistent system, as a
    /// rule): the descent reaches the least-squares optimum, checked against the normal equations.
    #[test]
    fn linear_rings_reach_the_least_squares_optimum(
        n in 3usize..6, coef in proptest::collection::vec((-0.9f64..0.9, -2.0f64..2.0), 6)
    ) {
        let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let functions: Vec<(String, String)> = (0..n)
            .map(|i| (names[i].clone(), format!("{} * {} + {}", coef[i].0, names[(i + 1) % n], coef[i].1)))
            .collect();
        let m = UndirectedModel::new(&functions, &[]).unwrap();
        let (_, loss, _) = fit(&m, 4);
        // Rows r_i(x) = x_i - a_i x_{i+1} - b_i: minimise |A x - b|² by the normal equations.
        let mut ata = vec![vec![0.0; n]; n];
        let mut atb = vec![0.0; n];
        for i in 0..n {
            let mut row = vec![0.0; n];
            row[i] += 1.0;
            row[(i + 1) % n] -= coef[i].0;
            for p in 0..n {
                atb[p] += row[p] * coef[i].1;
                for q in 0..n {
                    ata[p][q] += row[p] * row[q];
                }
            }
        }
        // Gaussian elimination with partial pivoting.
        for c in 0..n {
            let p = (c..n).max_by(|&a, &b| ata[a][c].abs().total_cmp(&ata[b][c].abs())).unwrap();
            ata.swap(c, p);
            atb.swap(c, p);
            for r in c + 1..n {
                let k = ata[r][c] / ata[c][c];
                for q in c..n {
                    ata[r][q] -= k * ata[c][q];
                }
                atb[r] -= k * atb[c];
            }
        }
        let mut x = vec![0.0; n];
        for c in (0..n).rev() {
            x[c] = (atb[c] - (c + 1..n).map(|q| ata[c][q] * x[q]).sum::<f64>()) / ata[c][c];
        }
        let best: f64 = (0..n).map(|i| (x[i] - coef[i].0 * x[(i + 1) % n] - coef[i].1).powi(2)).sum();
        prop_assert!((loss - best).abs() < 1e-8 * (1.0 + best), "descent {}, normal equations {}", loss, best);
    }
}
