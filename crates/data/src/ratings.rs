//! Synthetic ratings with a known low-rank structure: `user,item,rating` rows whose ratings are
//! 3 + ⟨u_user, v_item⟩ + noise, for matrix factorisation with embeddings (a model that recovers
//! the structure predicts held-out ratings to about the noise level).

use std::collections::HashSet;
use std::fmt::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct RatingsSpec {
    /// Users, coded 0..users-1.
    pub users: usize,
    /// Items, coded 0..items-1.
    pub items: usize,
    /// The rank of the hidden factors.
    pub rank: usize,
    /// Distinct (user, item) pairs rated; every user rates at least one item.
    pub ratings: usize,
    /// Standard deviation of the noise added to each rating.
    pub noise: f64,
    /// Seeds the factors, the pairs and the noise.
    pub seed: u64,
}

/// A CSV text `user,item,rating` of `spec.ratings` rows (fewer when they would not fit).
pub fn low_rank_ratings(spec: &RatingsSpec) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let scale = 1.0 / (spec.rank.max(1) as f64).sqrt();
    let mut factors = |n: usize| -> Vec<f64> {
        (0..n * spec.rank).map(|_| scale * Distribution::<f64>::sample(&StandardNormal, &mut rng)).collect::<Vec<f64>>()
    };
    let (u, v) = (factors(spec.users), factors(spec.items));
    let wanted = spec.ratings.min(spec.users * spec.items);
    let mut seen = HashSet::with_capacity(wanted);
    let mut pairs = Vec::with_capacity(wanted);
    for user in 0..spec.users.min(wanted) {
        let item = rng.random_range(0..spec.items);
        seen.insert((user, item));
        pairs.push((user, item));
    }
    while pairs.len() < wanted {
        let pair = (rng.random_range(0..spec.users), rng.random_range(0..spec.items));
        if seen.insert(pair) {
            pairs.push(pair);
        }
    }
    let mut out = String::from("user,item,rating\n");
    for (user, item) in pairs {
        let dot: f64 = (0..spec.rank).map(|k| u[user * spec.rank + k] * v[item * spec.rank + k]).sum();
        let noise: f64 = StandardNormal.sample(&mut rng);
        let rating = 3.0 + dot + spec.noise * noise;
        writeln!(out, "{user},{item},{rating:.4}").expect("internal: writing to a String");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_rates_and_pairs_are_distinct() {
        let spec = RatingsSpec { users: 50, items: 20, rank: 2, ratings: 400, noise: 0.1, seed: 3 };
        let text = low_rank_ratings(&spec);
        let rows: Vec<(usize, usize)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].parse().unwrap(), f[1].parse().unwrap())
            })
            .collect();
        assert_eq!(rows.len(), 400);
        assert_eq!(rows.iter().collect::<HashSet<_>>().len(), 400);
        assert!((0..50).all(|u| rows.iter().any(|r| r.0 == u)));
        assert_eq!(text, low_rank_ratings(&spec), "seeded");
    }
}
