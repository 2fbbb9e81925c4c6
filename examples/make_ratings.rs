//! Writes synthetic ratings with a known low-rank structure (`user,item,rating`), for matrix
//! factorisation with embeddings: `cargo run --release -p cg-examples --example make_ratings --
//! USERS ITEMS RANK RATINGS NOISE SEED OUT.csv` (a `.gz` name is compressed).
//! `data/ratings_synthetic.csv.gz` is `300 100 3 12000 0.1 7`; without arguments the example
//! checks that the shipped file is exactly what these settings generate.

use std::io::Write;

use anyhow::{bail, Context, Result};
use cg_data::ratings::{low_rank_ratings, RatingsSpec};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return check_shipped();
    }
    let [users, items, rank, ratings, noise, seed, out] = &args[..] else {
        bail!("usage: make_ratings USERS ITEMS RANK RATINGS NOISE SEED OUT.csv[.gz]");
    };
    let spec = RatingsSpec {
        users: users.parse().context("USERS")?,
        items: items.parse().context("ITEMS")?,
        rank: rank.parse().context("RANK")?,
        ratings: ratings.parse().context("RATINGS")?,
        noise: noise.parse().context("NOISE")?,
        seed: seed.parse().context("SEED")?,
    };
    let text = low_rank_ratings(&spec);
    let path = std::path::Path::new(out);
    if path.exists() {
        bail!("{out} exists; give a new name");
    }
    let file = std::fs::File::create(path).with_context(|| format!("creating {out}"))?;
    if out.ends_with(".gz") {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::best());
        gz.write_all(text.as_bytes())?;
        gz.finish()?;
    } else {
        let mut file = file;
        file.write_all(text.as_bytes())?;
    }
    println!("{} ratings -> {out}", text.lines().count() - 1);
    Ok(())
}

/// The shipped `data/ratings_synthetic.csv.gz` is what its settings generate.
fn check_shipped() -> Result<()> {
    let path = cg_examples::repository().join("data/ratings_synthetic.csv.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(&path)?), &mut text)?;
    let spec = RatingsSpec { users: 300, items: 100, rank: 3, ratings: 12000, noise: 0.1, seed: 7 };
    if text != low_rank_ratings(&spec) {
        bail!("{} is not what make_ratings 300 100 3 12000 0.1 7 generates", path.display());
    }
    println!("{} is reproduced by its settings", path.display());
    Ok(())
}
