//! Trains a 6 x 6 self-organizing map on the iris CSV (standardised features) and prints its
//! quality and which units the three species win.

use anyhow::Result;
use cg_core::Validate;
use cg_som::{quality, Som, SomConfig};
use rand::SeedableRng;

fn main() -> Result<()> {
    let table = cg_data::read_table(&cg_examples::repository().join("data/iris.csv"))?;
    let species = table.column("target")?;
    let features: Vec<usize> = (0..table.columns.len()).filter(|&c| c != species).collect();
    // Standardise each feature (mean 0, standard deviation 1).
    let n = table.rows.len() as f64;
    let stats: Vec<(f64, f64)> = features
        .iter()
        .map(|&c| {
            let mean = table.rows.iter().map(|r| r[c]).sum::<f64>() / n;
            let sd = (table.rows.iter().map(|r| (r[c] - mean).powi(2)).sum::<f64>() / n).sqrt();
            (mean, sd)
        })
        .collect();
    let data: Vec<f64> =
        table.rows.iter().flat_map(|r| features.iter().zip(&stats).map(move |(&c, (m, s))| (r[c] - m) / s)).collect();

    let params = SomConfig::batch(6, 6, 30).validate()?;
    let mut som = Som::new(params, data, features.len())?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut state = som.init(&mut rng)?;
    let epochs = som.params().epochs;
    let outcome = cg_core::run(&mut som, &mut state, epochs, &mut rng, &mut [])?;
    let q = quality::quality(som.lattice(), &state.weights, features.len(), som.data().expect("in memory"));
    println!(
        "{} epochs ({}): quantization error {:.4}, topographic error {:.4}",
        outcome.steps, outcome.stop, q.quantization_error, q.topographic_error
    );
    for (k, name) in ["setosa", "versicolor", "virginica"].iter().enumerate() {
        let mut units: Vec<usize> = table
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r[species] == k as f64)
            .map(|(i, _)| state.bmu(&som.data().expect("in memory")[i * features.len()..(i + 1) * features.len()]))
            .collect();
        units.sort_unstable();
        units.dedup();
        println!("{name}: won by units {units:?}");
    }
    Ok(())
}
