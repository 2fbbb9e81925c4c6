//! Writes a large clustered data set as a NumPy `.npy` file (float32, C order), row by row, so
//! the file can be far larger than memory: `rows` samples in `cols` dimensions around 20
//! centres, each centre drawn uniformly in [-5, 5]^cols and each sample that centre plus
//! N(0, 0.5²) noise, all from `seed`. A map has 20 blobs to find.
//!
//! ```text
//! cargo run --release -p cg-examples --example make_clusters_npy -- big.npy 10000000 64 7 [labels.npy]
//! ```
//!
//! With a fifth argument it also writes each sample's centre (0 to 19, float64) there: labels for
//! a classifier (`[data] labels`).
//!
//! With no arguments it writes 1,000 x 8 to a temporary folder and checks the file reads back
//! through `cg_data::npy` with its shape and numbers (what CI runs).

use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use cg_core::RowChunks as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CENTRES: usize = 20;

/// The rows, `chunk` at a time, to `out` (each chunk a row-major f32 block, and each row's centre).
fn generate(rows: usize, cols: usize, seed: u64, mut out: impl FnMut(&[f32], &[f64]) -> Result<()>) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<f32> = (0..CENTRES * cols).map(|_| rng.random_range(-5.0..5.0)).collect();
    let noise = rand_distr::Normal::new(0.0f32, 0.5).expect("a valid normal");
    let (mut block, mut classes) = (Vec::with_capacity(4096 * cols), Vec::with_capacity(4096));
    let mut done = 0;
    while done < rows {
        block.clear();
        classes.clear();
        for _ in 0..(rows - done).min(4096) {
            let c = rng.random_range(0..CENTRES);
            block.extend((0..cols).map(|k| centres[c * cols + k] + rng.sample(noise)));
            classes.push(c as f64);
        }
        out(&block, &classes)?;
        done += classes.len();
    }
    Ok(())
}

/// A new file, buffered.
fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    let file = std::fs::File::create_new(path).with_context(|| format!("{} (a new file)", path.display()))?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, file))
}

/// Writes the file: NumPy's format 1.0 header (padded to 64 bytes), then the rows; and each
/// row's centre to `labels` when given.
fn write(path: &Path, rows: usize, cols: usize, seed: u64, labels: Option<&Path>) -> Result<()> {
    let mut w = create(path)?;
    w.write_all(&cg_data::npy::header("<f4", &[rows, cols]))?;
    let mut l = labels.map(create).transpose()?;
    if let Some(l) = &mut l {
        l.write_all(&cg_data::npy::header("<f8", &[rows]))?;
    }
    generate(rows, cols, seed, |block, classes| {
        let bytes: Vec<u8> = block.iter().flat_map(|v| v.to_le_bytes()).collect();
        w.write_all(&bytes).context("writing")?;
        if let Some(l) = &mut l {
            let bytes: Vec<u8> = classes.iter().flat_map(|v| v.to_le_bytes()).collect();
            l.write_all(&bytes).context("writing the labels")?;
        }
        Ok(())
    })?;
    w.flush()?;
    if let Some(l) = &mut l {
        l.flush()?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [path, rows, cols, seed, labels @ ..] = &args[..] {
        if labels.len() > 1 {
            bail!("usage: make_clusters_npy FILE.npy ROWS COLS SEED [LABELS.npy]");
        }
        let (rows, cols, seed) = (rows.parse()?, cols.parse()?, seed.parse()?);
        write(Path::new(path), rows, cols, seed, labels.first().map(Path::new))?;
        println!("{path}: {rows} x {cols} float32, {} bytes of data", rows * cols * 4);
        return Ok(());
    }
    if !args.is_empty() {
        bail!("usage: make_clusters_npy FILE.npy ROWS COLS SEED [LABELS.npy] (no arguments: a self-check)");
    }
    let dir = std::env::temp_dir().join(format!("cg-make-clusters-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (path, labels) = (dir.join("small.npy"), dir.join("labels.npy"));
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&labels);
    write(&path, 1000, 8, 7, Some(&labels))?;
    let (mut expected, mut classes) = (vec![], vec![]);
    generate(1000, 8, 7, |b, c| {
        expected.extend(b.iter().map(|&v| f64::from(v)));
        classes.extend_from_slice(c);
        Ok(())
    })?;
    let read_classes = cg_data::npy::read_array(&labels).map_err(anyhow::Error::msg)?;
    let rows = cg_data::npy::NpyRows::open(&path, 300).map_err(anyhow::Error::msg)?;
    let mut seen = vec![];
    rows.for_each_chunk(&mut |_, c| {
        seen.extend_from_slice(c);
        Ok(())
    })
    .map_err(anyhow::Error::msg)?;
    std::fs::remove_dir_all(&dir)?;
    if (rows.rows(), rows.dim()) != (1000, 8) || seen != expected {
        bail!("the file did not read back as written");
    }
    if read_classes.shape != [1000] || read_classes.values != classes || classes.iter().any(|&c| c >= 20.0) {
        bail!("the labels did not read back as written");
    }
    println!("1000 x 8 and their labels written and read back in chunks of 300: the same numbers");
    Ok(())
}
