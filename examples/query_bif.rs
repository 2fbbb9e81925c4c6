//! Reads a Bayesian network from a BIF file (the Asia network this repository's
//! `configs/asia.toml` writes) and asks it questions by variable and state names.

use anyhow::Result;
use cg_pgm::{files, BayesianNetwork};

fn main() -> Result<()> {
    let path = cg_examples::repository().join("results/asia/network.bif");
    let text = std::fs::read_to_string(&path)?;
    let specs = files::read_bif(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let net = BayesianNetwork::new(&specs)?;
    for (target, evidence) in [
        ("lung", vec![]),
        ("lung", vec![("smoke", "yes")]),
        ("lung", vec![("xray", "yes"), ("dysp", "yes")]),
        ("tub", vec![("asia", "yes"), ("xray", "yes")]),
    ] {
        let answer = net.query(target, &evidence)?;
        let given: Vec<String> = evidence.iter().map(|(v, s)| format!("{v} = {s}")).collect();
        let states: Vec<String> = answer.iter().map(|(s, p)| format!("{s}: {p:.4}")).collect();
        println!("P({target} | {}) = {{{}}}", given.join(", "), states.join(", "));
    }
    // Lauritzen and Spiegelhalter's table: P(lung = yes | smoke = yes) = 0.1.
    let lung = net.query("lung", &[("smoke", "yes")])?;
    assert!((lung.iter().find(|(s, _)| s == "yes").unwrap().1 - 0.1).abs() < 1e-12);
    Ok(())
}
