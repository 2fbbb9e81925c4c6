//! The `experiments` binary: the command line of [`experiments::main_with`] with the built-in
//! kinds only.

fn main() -> std::process::ExitCode {
    experiments::main_with(&[])
}
