//! `[data] stream = true`: a SOM, an RBM (CD and PCD) and a network trained on an `.npy` file
//! read chunk by chunk give the bits of the same file loaded whole, and the memory estimate
//! counts a chunk, not the file: a file larger than `--max-memory` trains streamed where
//! loading it is refused.

use std::path::Path;
use std::process::Command;

use rand::{Rng, SeedableRng};
use serde_json::Value;

/// Writes an `.npy` file (little-endian f32, C order) as NumPy lays it out.
fn write_npy_f32(path: &Path, rows: usize, cols: usize, values: &[f32]) {
    let mut out = cg_data::npy::header("<f4", &[rows, cols]);
    out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, out).unwrap();
}

/// `rows` samples around 6 centres in `cols` dimensions, from `seed`.
fn clustered(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<f32> = (0..6 * cols).map(|_| rng.random_range(-5.0..5.0)).collect();
    (0..rows)
        .flat_map(|_| {
            let c = rng.random_range(0..6);
            (0..cols).map(|k| centres[c * cols + k] + rng.random_range(-1.0f32..1.0)).collect::<Vec<_>>()
        })
        .collect()
}

/// Writes `rows` constant labels (f64) as an `.npy` vector.
fn write_labels(path: &Path, rows: usize) {
    let mut out = cg_data::npy::header("<f8", &[rows]);
    out.extend((0..rows).flat_map(|_| 0.5f64.to_le_bytes()));
    std::fs::write(path, out).unwrap();
}

fn experiments(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_experiments")).current_dir(dir).args(args).output().unwrap()
}

fn config(training: &str, data: &str) -> String {
    let rate = if training == "online" { "learning_rate = { start = 0.5, end = 0.01 }\n" } else { "" };
    format!(
        "kind = \"som\"\nseed = 3\n[data]\n{data}\nstandardize = true\n[som]\nrows = 5\ncols = 6\n\
         training = \"{training}\"\nepochs = 3\ninit = \"random\"\nradius = {{ start = 2.5, end = 0.5 }}\n{rate}"
    )
}

/// What `predict` prints for the run in `run` on `dir`'s x.npy.
fn predictions(dir: &Path, run: &Path) -> String {
    let o = experiments(dir, &["predict", run.to_str().unwrap(), "--data", "x.npy"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn read(dir: &Path, file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap()
}

#[test]
fn a_streamed_map_is_the_map_of_the_data_loaded_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, cols) = (3001, 4);
    write_npy_f32(&tmp.path().join("x.npy"), rows, cols, &clustered(rows, cols, 1));
    // The in-memory run needs labels with npy; constant non-integer ones add no label map.
    write_labels(&tmp.path().join("y.npy"), rows);
    for training in ["batch", "online"] {
        let whole = config(training, "npy = \"x.npy\"\nlabels = \"y.npy\"");
        let streamed = config(training, "npy = \"x.npy\"\nstream = true\nchunk_rows = 250");
        std::fs::write(tmp.path().join("whole.toml"), whole).unwrap();
        std::fs::write(tmp.path().join("streamed.toml"), streamed).unwrap();
        for name in ["whole", "streamed"] {
            let o = experiments(tmp.path(), &[&format!("{name}.toml"), "--out", &format!("{training}_{name}")]);
            assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let (a, b) = (tmp.path().join(format!("{training}_whole")), tmp.path().join(format!("{training}_streamed")));
        assert_eq!(read(&a, "codebook.json"), read(&b, "codebook.json"), "{training}: the same codebook");
        let (ma, mb) = (read(&a, "metrics.json"), read(&b, "metrics.json"));
        for key in ["quantization_error_curve", "topographic_error_curve", "units_hit", "samples"] {
            assert_eq!(ma[key], mb[key], "{training}: {key}");
        }
        // predict standardises new rows with the streamed statistics: the same units.
        assert_eq!(predictions(tmp.path(), &a), predictions(tmp.path(), &b), "{training}: predictions");
    }
}

#[test]
fn a_file_larger_than_the_memory_limit_trains_streamed() {
    let tmp = tempfile::tempdir().unwrap();
    // 40,000 x 64 f32: 10 MB on disk, 20 MB as f64 in memory; the limit is 8 MB.
    let (rows, cols) = (40_000, 64);
    write_npy_f32(&tmp.path().join("x.npy"), rows, cols, &clustered(rows, cols, 2));
    let streamed =
        config("batch", "npy = \"x.npy\"\nstream = true\nchunk_rows = 4096").replace("epochs = 3", "epochs = 1");
    std::fs::write(tmp.path().join("streamed.toml"), &streamed).unwrap();
    let o = experiments(tmp.path(), &["streamed.toml", "--max-memory", "8M", "--out", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read(&tmp.path().join("out"), "metrics.json")["samples"], 40_000);
    // Loading it whole is refused by the same limit, naming the data.
    write_labels(&tmp.path().join("y.npy"), rows);
    let whole = streamed.replace("stream = true\nchunk_rows = 4096", "labels = \"y.npy\"");
    std::fs::write(tmp.path().join("whole.toml"), whole).unwrap();
    let o = experiments(tmp.path(), &["whole.toml", "--max-memory", "8M", "--out", "out2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.contains("mostly for the data") && err.contains("--max-memory"), "{err}");
    assert!(!tmp.path().join("out2").exists());
    // What needs the rows in memory is one line.
    let split = streamed.replace("stream = true", "stream = true\ntest_fraction = 0.2");
    std::fs::write(tmp.path().join("split.toml"), split).unwrap();
    let o = experiments(tmp.path(), &["split.toml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(2)
            && err.lines().count() == 1
            && err.contains("stream = true: a test or validation split"),
        "{err}"
    );
}

/// An RBM's run on an `.npy` file, loaded whole or streamed in chunks of 97 rows.
fn rbm_config(data: &str, rbm: &str, evaluation: &str) -> String {
    format!("kind = \"rbm\"\nseed = 4\n{data}\n[rbm]\n{rbm}\nepochs = 3\nbatch_size = 16\nlearning_rate = 0.05\n[evaluation]\nais_every = 2\nsample_chains = 2\n{evaluation}")
}

#[test]
fn a_streamed_rbm_is_the_rbm_of_the_data_loaded_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, cols) = (1001, 25);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let values: Vec<f32> =
        (0..rows * cols).map(|k| rng.random_range(0.0..1.0) * (1.0 + (k % cols) as f32 / 10.0)).collect();
    write_npy_f32(&tmp.path().join("x.npy"), rows, cols, &values);
    write_labels(&tmp.path().join("y.npy"), rows);
    let cases = [
        // Binary units from a threshold: CD with the exact likelihood (4 hidden units), PCD
        // with AIS (both sides above the exact limit), the pseudo-likelihood every epoch.
        ("binarize = 0.6", "hidden = 4\nmethod = \"cd\"", ""),
        ("binarize = 0.6", "hidden = 23\nmethod = \"pcd\"", "ais_chains = 8\nais_temperatures = 50"),
        // Gaussian units on standardised data (statistics from the streaming passes).
        ("[data]\nstandardize = true", "hidden = 3\nvisible = \"gaussian\"\nmethod = \"cd\"", ""),
    ];
    for (k, (extra, rbm, evaluation)) in cases.iter().enumerate() {
        let (top, data_extra) = match extra.strip_prefix("[data]\n") {
            Some(inside) => ("", inside),
            None => (*extra, ""),
        };
        let data = |source: &str| format!("{top}\n[data]\n{source}\n{data_extra}");
        let whole = rbm_config(&data("npy = \"x.npy\"\nlabels = \"y.npy\""), rbm, evaluation);
        let streamed = rbm_config(&data("npy = \"x.npy\"\nstream = true\nchunk_rows = 97"), rbm, evaluation);
        for (name, text) in [("whole", &whole), ("streamed", &streamed)] {
            std::fs::write(tmp.path().join(format!("{name}{k}.toml")), text).unwrap();
            let o = experiments(tmp.path(), &[&format!("{name}{k}.toml"), "--out", &format!("{name}{k}")]);
            assert!(o.status.success(), "case {k} {name}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let (a, b) = (tmp.path().join(format!("whole{k}")), tmp.path().join(format!("streamed{k}")));
        let (ma, mb) = (read(&a, "metrics.json"), read(&b, "metrics.json"));
        assert_eq!(ma, mb, "case {k}: the same metrics, bit for bit");
        let curve = ["pseudo_log_likelihood_curve", "exact_log_likelihood_points", "ais_log_likelihood_points"]
            .iter()
            .find(|c| ma.get(**c).is_some())
            .expect("a likelihood curve");
        assert!(ma[*curve].as_array().unwrap().iter().all(|x| x.as_f64().unwrap().is_finite()), "case {k}: {curve}");
        assert_eq!(predictions(tmp.path(), &a), predictions(tmp.path(), &b), "case {k}: predictions");
    }
    // Values Bernoulli units cannot take are found by the streaming pass, in one line.
    let bad = rbm_config("[data]\nnpy = \"x.npy\"\nstream = true", "hidden = 4", "");
    std::fs::write(tmp.path().join("bad.toml"), bad).unwrap();
    let o = experiments(tmp.path(), &["bad.toml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(2)
            && err.lines().count() == 1
            && err.contains("is outside [0, 1]: scale the data or set binarize"),
        "{err}"
    );
}

/// Class labels 0, 1, 2 (f64) as an `.npy` vector.
fn write_classes(path: &Path, rows: usize) {
    let mut out = cg_data::npy::header("<f8", &[rows]);
    out.extend((0..rows).flat_map(|k| ((k * 7 % 5 % 3) as f64).to_le_bytes()));
    std::fs::write(path, out).unwrap();
}

const STREAMED_MODEL: &str = "kind = \"model\"\nseed = 5\n[data]\nDATA\nstandardize = true\n[model]\ninputs = { x = 6 }\ntargets = { y = 3 }\npredict = \"o\"\nloss = \"softmax_cross_entropy(o, y)\"\n[model.params]\nW1 = { shape = [8, 6], init = \"he\" }\nb1 = { shape = [8], init = \"zeros\" }\ng = { shape = [8], init = \"ones\" }\nWo = { shape = [3, 8] }\nbo = { shape = [3], init = \"zeros\" }\n[model.nodes]\nh = \"g * layer_norm(relu(W1 @ x + b1))\"\no = \"Wo @ dropout(h, 0.3) + bo\"\n[optimizer]\nmethod = \"adam\"\nlearning_rate = 0.01\n[train]\nepochs = 3\nbatch_size = 150\ngradient_check = true\n";

const STREAMED_MLP: &str = "kind = \"mlp\"\nseed = 5\n[data]\nDATA\n[model]\nlayers = [6, 8, 3]\nhidden = \"relu\"\noutput = \"identity\"\nloss = \"softmax_cross_entropy\"\n[optimizer]\nmethod = \"momentum\"\nlearning_rate = 0.05\n[train]\nepochs = 3\nbatch_size = 40\n";

#[test]
fn a_streamed_network_is_the_network_of_the_data_loaded_whole() {
    let tmp = tempfile::tempdir().unwrap();
    // 2,100 samples: batches of 150 in two parts, evaluation blocks of 1024, chunks of 97 rows.
    let (rows, cols) = (2100, 6);
    write_npy_f32(&tmp.path().join("x.npy"), rows, cols, &clustered(rows, cols, 3));
    write_classes(&tmp.path().join("y.npy"), rows);
    for (kind, text) in [("model", STREAMED_MODEL), ("mlp", STREAMED_MLP)] {
        let whole = text.replace("DATA", "npy = \"x.npy\"\nlabels = \"y.npy\"");
        let streamed = text.replace("DATA", "npy = \"x.npy\"\nlabels = \"y.npy\"\nstream = true\nchunk_rows = 97");
        for (name, text) in [("whole", &whole), ("streamed", &streamed)] {
            std::fs::write(tmp.path().join(format!("{kind}_{name}.toml")), text).unwrap();
            let o = experiments(tmp.path(), &[&format!("{kind}_{name}.toml"), "--out", &format!("{kind}_{name}")]);
            assert!(o.status.success(), "{kind} {name}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let (a, b) = (tmp.path().join(format!("{kind}_whole")), tmp.path().join(format!("{kind}_streamed")));
        let (ma, mb) = (read(&a, "metrics.json"), read(&b, "metrics.json"));
        assert_eq!(ma, mb, "{kind}: the same metrics, bit for bit");
        assert_eq!(ma["samples"]["train"], 2100);
        assert!(ma["train_accuracy"].as_f64().unwrap() > 0.0, "{kind}: accuracy reported");
        assert_eq!(predictions(tmp.path(), &a), predictions(tmp.path(), &b), "{kind}: predictions");
    }
    // Labels of another length are one line, naming the file.
    write_classes(&tmp.path().join("short.npy"), rows - 1);
    let bad = STREAMED_MLP.replace("DATA", "npy = \"x.npy\"\nlabels = \"short.npy\"\nstream = true");
    std::fs::write(tmp.path().join("bad.toml"), bad).unwrap();
    let o = experiments(tmp.path(), &["bad.toml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.lines().count() == 1 && err.contains("expected 2100 targets"), "{err}");
}

#[test]
fn a_network_trains_streamed_on_a_file_larger_than_the_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // 40,000 x 64 f32: 10 MB on disk, 20 MB as f64 in memory; the limit is 8 MB.
    let (rows, cols) = (40_000, 64);
    write_npy_f32(&tmp.path().join("x.npy"), rows, cols, &clustered(rows, cols, 4));
    write_classes(&tmp.path().join("y.npy"), rows);
    let text = STREAMED_MLP.replace("[6, 8, 3]", "[64, 8, 3]").replace("epochs = 3", "epochs = 1");
    let streamed = text.replace("DATA", "npy = \"x.npy\"\nlabels = \"y.npy\"\nstream = true\nchunk_rows = 4096");
    std::fs::write(tmp.path().join("streamed.toml"), &streamed).unwrap();
    let o = experiments(tmp.path(), &["streamed.toml", "--max-memory", "8M", "--out", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read(&tmp.path().join("out"), "metrics.json")["samples"]["train"], 40_000);
    let whole = text.replace("DATA", "npy = \"x.npy\"\nlabels = \"y.npy\"");
    std::fs::write(tmp.path().join("whole.toml"), whole).unwrap();
    let o = experiments(tmp.path(), &["whole.toml", "--max-memory", "8M", "--out", "out2"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code() == Some(2) && err.contains("--max-memory"), "{err}");
    assert!(!tmp.path().join("out2").exists());
    // An RBM on the same file (binary units from a threshold), streamed under the same limit.
    let rbm = rbm_config("binarize = 0.0\n[data]\nnpy = \"x.npy\"\nstream = true\nchunk_rows = 4096", "hidden = 8", "")
        .replace("epochs = 3", "epochs = 1");
    std::fs::write(tmp.path().join("rbm.toml"), rbm).unwrap();
    let o = experiments(tmp.path(), &["rbm.toml", "--max-memory", "8M", "--out", "rbm"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(read(&tmp.path().join("rbm"), "metrics.json")["samples"], 40_000);
}
