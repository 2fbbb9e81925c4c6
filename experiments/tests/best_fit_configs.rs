//! The stored best fits of undirected graphs against their closed forms.

mod common;

use common::stored;

#[test]
fn two_nodes_each_the_other_plus_one_have_no_exact_solution() {
    let m = stored("best_fit_two_nodes");
    // (d - 1)² + (d + 1)² with d = x - y is least, 2, at d = 0.
    assert!((m["residual"].as_f64().unwrap() - 2.0).abs() < 1e-12, "{}", m["residual"]);
    assert_eq!(m["exact_solution"], false);
    let (x, y) = (m["values"]["x"].as_f64().unwrap(), m["values"]["y"].as_f64().unwrap());
    assert!((x - y).abs() < 1e-9);
    assert_eq!(m["edges"].as_array().unwrap().len(), 1);
}

#[test]
fn the_consistent_cycle_is_solved() {
    let m = stored("best_fit_consistent");
    assert_eq!(m["exact_solution"], true);
    for (name, exact) in [("x", 3.0), ("y", 17.0 / 6.0), ("z", 7.0 / 6.0), ("a", 2.0)] {
        let v = m["values"][name].as_f64().unwrap();
        assert!((v - exact).abs() < 1e-9, "{name} = {v}, exactly {exact}");
    }
}
