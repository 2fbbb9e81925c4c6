#!/usr/bin/env bash
# The Python package `cg` (python/: PyO3 bindings built by maturin): installed into a fresh
# virtual environment the way the README says (`pip install ./python`), then its tests
# (python/tests, pytest). Cargo builds into the main target folder, so the engines' crates
# compiled by `cargo test --release` are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
# The bindings are formatted and lint-free like the rest (a workspace of their own, so checked here).
(cd python && cargo fmt --check && CARGO_TARGET_DIR="$PWD/../target" cargo clippy -q --locked -- -D warnings)
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "pytest>=8,<9" "numpy>=1.24,<3" "scikit-learn>=1.3,<2"
CARGO_TARGET_DIR="$PWD/target" "$venv/bin/pip" install -q ./python
"$venv/bin/python" -m pytest -q python/tests
"$venv/bin/python" docs/python_example.py >/dev/null
