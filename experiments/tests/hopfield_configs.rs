//! The stored Hopfield results against what theory says (the golden test separately checks that
//! they are reproducible).

mod common;

use common::stored;

#[test]
fn hebbian_capacity_collapses_near_0_138_and_storkey_holds_more() {
    let m = stored("hopfield_capacity");
    let crossing = |rule: &str, n: usize| m["rules"][rule][format!("N{n}")]["alpha_below_half"].as_f64();
    // Amit, Gutfreund and Sompolinsky: alpha_c = 0.138 for N -> infinity; finite networks cross
    // later, and the crossing moves down towards 0.138 as N grows.
    let hebbian: Vec<f64> = [100, 200, 500, 1000].iter().map(|&n| crossing("hebbian", n).unwrap()).collect();
    assert!((0.12..0.17).contains(&hebbian[3]), "N = 1000 crosses at {}", hebbian[3]);
    assert!(hebbian.windows(2).all(|w| w[1] <= w[0] + 0.01), "crossings should fall with N: {hebbian:?}");
    for n in [100, 200, 500, 1000] {
        let storkey = crossing("storkey", n).unwrap_or(f64::INFINITY);
        assert!(storkey > crossing("hebbian", n).unwrap() + 0.1, "Storkey at N = {n}: {storkey}");
    }
}

#[test]
fn no_hopfield_tank_tour_beats_the_exact_optimum() {
    let m = stored("hopfield_tsp");
    let optimum = m["optimal_length"].as_f64().unwrap();
    let valid = m["run_valid"].as_array().unwrap();
    let lengths = m["run_length"].as_array().unwrap();
    assert_eq!(valid.len(), 100);
    let mut n_valid = 0;
    for (v, l) in valid.iter().zip(lengths) {
        if v.as_bool().unwrap() {
            n_valid += 1;
            assert!(l.as_f64().unwrap() >= optimum - 1e-12);
        }
    }
    assert_eq!(n_valid as f64 / 100.0, m["valid_fraction"].as_f64().unwrap());
}

#[test]
fn digit_recall_is_perfect_without_noise_only_for_stable_patterns() {
    // A pattern recalled exactly from a clean cue is a fixed point; the recall rate at noise 0
    // is therefore a multiple of 1/5 (5 stored digits, 50 identical trials each).
    let m = stored("hopfield_digits");
    for rule in ["hebbian", "storkey"] {
        let r0 = m["rules"][rule]["recall_rate"][0].as_f64().unwrap();
        assert!((r0 * 5.0 - (r0 * 5.0).round()).abs() < 1e-12, "{rule}: {r0}");
    }
}
