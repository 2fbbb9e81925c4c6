//! The stored graphical-model results against published and exact values (the golden test
//! separately checks that they are reproducible).

mod common;

use common::{numbers, stored};

#[test]
fn sprinkler_answers_are_the_textbooks_and_gibbs_agrees() {
    let m = stored("sprinkler");
    let q = m["queries"].as_array().unwrap();
    // Russell and Norvig: P(rain | wet) = 0.4581 / 0.6471, P(sprinkler | wet) = 0.2781 / 0.6471.
    assert!((q[0]["exact"]["true"].as_f64().unwrap() - 0.4581 / 0.6471).abs() < 1e-4);
    assert!((q[1]["exact"]["true"].as_f64().unwrap() - 0.2781 / 0.6471).abs() < 1e-4);
    assert!((q[3]["exact"]["true"].as_f64().unwrap() - 0.6471).abs() < 1e-12);
    for a in q {
        for (state, p) in a["gibbs"].as_object().unwrap() {
            let (e, se) = (a["exact"][state].as_f64().unwrap(), a["standard_error"][state].as_f64().unwrap());
            assert!((p.as_f64().unwrap() - e).abs() <= 3.0 * se, "{}: {state}", a["query"]);
        }
    }
}

#[test]
fn ising_magnetisation_follows_onsager_and_vanishes_above_the_critical_temperature() {
    let m = stored("ising");
    let (t, mag, se, exact) = (
        numbers(&m["temperatures"]),
        numbers(&m["mean_abs_magnetisation"]),
        numbers(&m["standard_error"]),
        numbers(&m["onsager_magnetisation"]),
    );
    for k in 0..t.len() {
        if t[k] <= 2.1 {
            // Finite-size corrections on a 32 x 32 torus are below 0.01 this far from T_c.
            assert!((mag[k] - exact[k]).abs() < 3.0 * se[k] + 0.01, "T = {}: {} vs {}", t[k], mag[k], exact[k]);
        }
        if t[k] >= 3.0 {
            assert!(mag[k] < 0.15, "T = {}: |m| = {}", t[k], mag[k]);
        }
    }
    let peak = m["susceptibility_peak_temperature"].as_f64().unwrap();
    assert!((2.2..=2.45).contains(&peak), "susceptibility peaks at {peak}");
}

#[test]
fn the_misconception_network_has_koller_and_friedmans_partition_function() {
    let m = stored("misconception");
    // Figure 4.2 of Koller and Friedman: Z = 7,201,840 (a sum of integers, exact in f64).
    assert_eq!(m["partition_function"].as_f64(), Some(7_201_840.0));
    assert_eq!(m["all_within_3_standard_errors"], true);
}
