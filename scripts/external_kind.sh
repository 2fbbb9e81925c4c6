#!/usr/bin/env bash
# Builds and tests examples/external-kind as a user's own crate would be: copied outside the
# repository, its path dependencies pointed at this checkout, the checkout's Cargo.lock as its
# starting lock file (the same dependency versions), and this checkout's target folder so the
# workspace crates already built are reused. Usage: bash scripts/external_kind.sh
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
cargo clippy --all-targets -- -D warnings
cargo test --release
