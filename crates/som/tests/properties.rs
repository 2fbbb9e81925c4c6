//! Properties of maps and their training: BMU search against brute force, lattice symmetry,
//! ordering of a 1-D map on a curve, and batch results that do not depend on the thread count.

use cg_core::run;
use cg_core::Validate;
use cg_som::quality::{self, best_two, bmu};
use cg_som::{Lattice, Som, SomConfig, SomState, Topology};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn params(text: &str) -> cg_som::SomParams {
    toml::from_str::<SomConfig>(text).unwrap().validate().unwrap()
}

fn plain(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

proptest! {
    #[test]
    fn bmu_matches_brute_force(
        units in 2usize..40, dim in 1usize..20, seed in any::<u64>(),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w: Vec<f64> = (0..units * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x: Vec<f64> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut d: Vec<(f64, usize)> = w.chunks(dim).map(|u| plain(u, &x)).zip(0..).collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (b, db) = bmu(&w, dim, &x);
        prop_assert!((db - d[0].0).abs() <= 1e-12 * d[0].0.max(1.0));
        // Same unit, unless the brute-force order has a tie within rounding.
        prop_assert!(b == d[0].1 || (d[1].0 - d[0].0) < 1e-12);
        let (b1, b2, _) = best_two(&w, dim, &x);
        prop_assert_eq!(b1, b);
        prop_assert!(b2 == d[1].1 || (d[2.min(units - 1)].0 - d[1].0).abs() < 1e-12 || (d[1].0 - d[0].0) < 1e-12);
    }

    #[test]
    fn lattice_distances_are_symmetric_and_adjacency_matches_neighbours(
        rows in 1usize..7, cols in 1usize..7, hex in any::<bool>(), torus in any::<bool>(),
    ) {
        let rows = if hex && torus { rows * 2 } else { rows };
        let topology = if hex { Topology::Hexagonal } else { Topology::Rectangular };
        let l = Lattice::new(rows, cols, topology, torus).unwrap();
        for a in 0..l.units() {
            let n = l.neighbours(a);
            for b in 0..l.units() {
                prop_assert_eq!(l.dist2(a, b), l.dist2(b, a));
                prop_assert_eq!(l.adjacent(a, b), n.contains(&b), "units {} and {}", a, b);
            }
        }
    }
}

/// Points along a 1-D curve, drawn in random order; a 1 x 12 map trained online on them must map
/// the curve, in order, onto the line of units (BMU index monotone along the curve).
#[test]
fn one_dimensional_map_orders_itself_along_a_curve() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let curve = |t: f64| [t, (3.0 * t).sin()];
    let data: Vec<f64> = (0..400).flat_map(|_| curve(rng.random_range(0.0..3.0))).collect();
    let p = params(
        "rows = 1\ncols = 12\ntraining = \"online\"\nepochs = 20\ninit = \"random\"\n\
         learning_rate = { start = 0.5, end = 0.01 }\nradius = { start = 4.0, end = 0.5, decay = \"exponential\" }",
    );
    let mut som = Som::new(p, data, 2).unwrap();
    let mut state = som.init(&mut rng).unwrap();
    run(&mut som, &mut state, 20, &mut rng, &mut []).unwrap();
    let along: Vec<usize> = (0..=60).map(|k| state.bmu(&curve(f64::from(k) * 0.05))).collect();
    let rising = along.windows(2).all(|w| w[0] <= w[1]);
    let falling = along.windows(2).all(|w| w[0] >= w[1]);
    assert!(rising || falling, "BMUs along the curve: {along:?}");
    let used: std::collections::BTreeSet<_> = along.iter().collect();
    assert!(used.len() >= 10, "the curve should spread over the map: {along:?}");
}

fn batch_run(threads: usize, lattice: &str) -> (SomState, Vec<cg_som::SomRecord>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let data: Vec<f64> = (0..3000).map(|_| rng.random_range(0.0..1.0)).collect();
        let p = params(&format!(
            "{lattice}\ntraining = \"batch\"\nepochs = 5\ninit = \"random\"\nradius = {{ start = 3.0, end = 0.7 }}"
        ));
        let mut som = Som::new(p, data, 3).unwrap();
        let mut state = som.init(&mut rng).unwrap();
        let (_, records) = cg_core::run_recorded(&mut som, &mut state, 5, &mut rng).unwrap();
        (state, records)
    })
}

#[test]
fn batch_training_is_bit_identical_on_one_and_two_threads() {
    for lattice in ["rows = 8\ncols = 9", "rows = 8\ncols = 9\ntopology = \"hexagonal\"\ntoroidal = true"] {
        let (one, m1) = batch_run(1, lattice);
        let (two, m2) = batch_run(2, lattice);
        let bits = |s: &SomState| s.weights.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&two), "{lattice}");
        for (a, b) in m1.iter().zip(&m2) {
            let bits = |r: &cg_som::SomRecord| {
                [r.quantization_error.unwrap(), r.topographic_error.unwrap(), r.radius].map(f64::to_bits)
            };
            assert_eq!(bits(a), bits(b));
        }
    }
}

#[test]
fn batch_training_lowers_the_quantization_error() {
    let (_, m) = batch_run(2, "rows = 6\ncols = 6");
    let qe: Vec<f64> = m.iter().map(|r| r.quantization_error.unwrap()).collect();
    assert!(qe.last() < qe.first(), "{qe:?}");
}

#[test]
fn same_seed_same_online_map() {
    let train = || {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let data: Vec<f64> = (0..200).map(|_| rng.random_range(0.0..1.0)).collect();
        let p = params(
            "rows = 5\ncols = 4\ntopology = \"hexagonal\"\ntraining = \"online\"\nepochs = 3\n\
             learning_rate = { start = 0.5, end = 0.05, decay = \"inverse_time\" }\nradius = { start = 2.0, end = 0.5 }",
        );
        let mut som = Som::new(p, data, 2).unwrap();
        let mut state = som.init(&mut rng).unwrap();
        run(&mut som, &mut state, 3, &mut rng, &mut []).unwrap();
        state.weights
    };
    assert_eq!(train(), train());
}

#[test]
fn pca_init_spans_the_principal_plane() {
    // Data on a line along (1, 2)/√5 plus small noise: the first axis of the map follows it.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let data: Vec<f64> = (0..500)
        .flat_map(|_| {
            let (t, e): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-0.01..0.01));
            [t + 2.0 * e, 2.0 * t - e]
        })
        .collect();
    let p = params("rows = 2\ncols = 6\ntraining = \"batch\"\nepochs = 1\nradius = { start = 1.0, end = 1.0 }");
    let som = Som::new(p, data, 2).unwrap();
    let s = som.init(&mut rng).unwrap();
    let (a, b) = (s.unit(0), s.unit(5));
    let along = [b[0] - a[0], b[1] - a[1]];
    let cos = (along[0] + 2.0 * along[1]) / (plain(&along, &[0.0, 0.0]).sqrt() * 5f64.sqrt());
    assert!(cos.abs() > 0.999, "first lattice axis along the data's direction: cos {cos}");
    // End units at mean ± one standard deviation along the line: t is uniform on [-1, 1] (variance
    // 1/3) and the direction has length √5, so they are 2 √(5/3) apart.
    let spread = plain(&along, &[0.0, 0.0]).sqrt();
    assert!((spread / (2.0 * (5.0f64 / 3.0).sqrt()) - 1.0).abs() < 0.05, "spread {spread}");
    let q = quality::quality(som.lattice(), &s.weights, 2, som.data().unwrap());
    assert_eq!(q.topographic_error, 0.0, "a straight line of units is perfectly ordered");
}

#[test]
fn bad_data_is_refused() {
    let p = params("rows = 2\ncols = 2\ntraining = \"batch\"\nepochs = 1\nradius = { start = 1.0, end = 1.0 }");
    let e = Som::new(p.clone(), vec![1.0, f64::NAN, 0.0, 0.0], 2).err().unwrap();
    assert_eq!(e.to_string(), "data: sample 1, feature 2 is NaN");
    assert!(Som::new(p, vec![1.0, 2.0, 3.0], 2).is_err());
}

/// A map trained on `data` in memory, and the same rows streamed in chunks of `chunk_rows`:
/// (codebook, records without their timings) of each.
fn both_ways(settings: &str, data: &[f64], dim: usize, chunk_rows: usize) -> [(Vec<u64>, Vec<[u64; 4]>); 2] {
    let train = |mut som: Som| {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut state = som.init(&mut rng).unwrap();
        let (_, records) = cg_core::run_recorded(&mut som, &mut state, 4, &mut rng).unwrap();
        let records = records
            .iter()
            .map(|r| {
                [r.learning_rate.unwrap_or(-1.0), r.radius, r.quantization_error.unwrap(), r.topographic_error.unwrap()]
                    .map(f64::to_bits)
            })
            .collect();
        (state.weights.iter().map(|v| v.to_bits()).collect(), records)
    };
    let memory = train(Som::new(params(settings), data.to_vec(), dim).unwrap());
    let chunks = cg_core::SliceChunks { values: data, dim, chunk_rows };
    let streamed = train(Som::streamed(params(settings), Box::new(chunks)).unwrap());
    [memory, streamed]
}

#[test]
fn streamed_samples_train_to_the_bits_of_samples_in_memory() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let data: Vec<f64> = (0..997 * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
    let batch =
        "rows = 6\ncols = 7\ntraining = \"batch\"\nepochs = 4\ninit = \"random\"\nradius = { start = 3.0, end = 0.7 }";
    let online =
        "rows = 5\ncols = 4\ntopology = \"hexagonal\"\ntraining = \"online\"\nepochs = 4\ninit = \"uniform\"\n\
                  learning_rate = { start = 0.5, end = 0.05 }\nradius = { start = 2.0, end = 0.5 }";
    for settings in [batch, online] {
        // One row per chunk, a size that does not divide the rows, more than all of them.
        for chunk_rows in [1, 64, 5000] {
            let [memory, streamed] = both_ways(settings, &data, 3, chunk_rows);
            assert_eq!(memory, streamed, "{settings}, chunks of {chunk_rows}");
        }
    }
    // PCA needs the rows in memory; a bad value is found with its sample number.
    let chunks = || Box::new(cg_core::SliceChunks { values: &data, dim: 3, chunk_rows: 10 });
    let e = Som::streamed(
        params(
            "rows = 3\ncols = 3\ntraining = \"batch\"\nepochs = 2\nradius = { start = 1.0, end = 0.5 }\ninit = \"pca\"",
        ),
        chunks(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("init = \"pca\" needs the samples in memory"), "{e}");
    let mut bad = data.clone();
    bad[3 * 500 + 1] = f64::NAN;
    let chunks = Box::new(cg_core::SliceChunks { values: &bad, dim: 3, chunk_rows: 64 });
    let settings =
        "rows = 3\ncols = 3\ntraining = \"batch\"\nepochs = 2\ninit = \"random\"\nradius = { start = 1.0, end = 0.5 }";
    let e = Som::streamed(params(settings), chunks).err().unwrap().to_string();
    assert!(e.contains("sample 501, feature 2 is NaN"), "{e}");
}
