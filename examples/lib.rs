//! Runnable examples of the library crates, one file each beside this one (`cargo run --release
//! -p cg-examples --example NAME`): `som_csv`, `query_bif`, `scalar_graph`, `custom_solver`,
//! `model_from_toml`. `external-kind/` is a crate of its own that adds a kind to the experiments.

/// The repository's root, for the data and results files the examples read.
pub fn repository() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The README's programs ("Using the crates"), compiled and run as doc tests; the README's
/// other blocks (shell, TOML, text) are tagged and skipped.
#[doc = include_str!("../README.md")]
#[allow(rustdoc::all)]
mod readme {}
