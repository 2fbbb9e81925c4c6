//! `[data] stream = true`: a SOM trained on an `.npy` file read chunk by chunk gives the bits of
//! the same file loaded whole, and the memory estimate counts a chunk, not the file: a file
//! larger than `--max-memory` trains streamed where loading it is refused.

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
        let units = |dir: &Path| {
            let o = experiments(tmp.path(), &["predict", dir.to_str().unwrap(), "--data", "x.npy"]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            String::from_utf8(o.stdout).unwrap()
        };
        assert_eq!(units(&a), units(&b), "{training}: predictions");
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
