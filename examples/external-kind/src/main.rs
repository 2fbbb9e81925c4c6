//! The `experiments` command line with the `pagerank` kind added.

fn main() -> std::process::ExitCode {
    experiments::main_with(&[&pagerank_kind::KIND])
}
