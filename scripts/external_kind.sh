#!/usr/bin/env bash
# Builds and tests examples/external-kind as a user's own crate would be: copied outside the
# repository, its path dependencies pointed at this checkout, the checkout's Cargo.lock as its
# starting lock file (the same dependency versions), and this checkout's target folder so the
# third-party crates already built are reused (ours build again: about 1.5 min on 2 cores).
# Usage: bash scripts/external_kind.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/examples/external-kind" "$work/"
cd "$work/external-kind"
sed -i "s|path = \"../../|path = \"$repo/|" Cargo.toml
cp "$repo/Cargo.lock" .
export CARGO_TARGET_DIR="$repo/target"
cargo fmt --check
# No clippy here: it would check every dependency again in the dev profile (1.5 min of CI);
# `cargo clippy` in examples/external-kind lints it where it lives.
cargo test --release
