#!/usr/bin/env bash
# Every speed workload of the README on this machine, in alternating rounds with the Python peers
# that are installed, into one Markdown file: benchmarks/<cpu-slug>.md (CPU model, cores, date,
# median and range per workload, the best peer's median and range beside ours). Usage, from the
# repository root:
#
#   bash scripts/bench_all.sh [ROUNDS]            # ours only (default 5 rounds)
#   PEERS_PY=/path/to/venv/bin/python bash scripts/bench_all.sh [ROUNDS]
#
# PEERS_PY is a Python with scripts/peers/requirements*.txt installed (see the README's Speed
# section); each peer script runs once per round, after our workloads of that round. A peer that
# does not run leaves its cells empty and a note under the table. The table is written by
# scripts/peers/bench_table.py (standard library only) from the raw outputs, which are kept in
# benchmarks/raw/<cpu-slug>/. When a table for this CPU is committed, each workload's change
# against it is printed and added to the new table (a change for the worse above 10% flagged).
# Nothing here is used by the build or the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
cargo build --release -q -p experiments
cargo build --release -q -p cg-autodiff --example gemm_peak
cargo bench -q -p cg-hopfield -p cg-autodiff --no-run 2> /dev/null
bin=target/release/experiments

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
family="$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
model="$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
cores="$(nproc)"
slug="$(echo "$cpu family $family model $model" | tr 'A-Z' 'a-z' | sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')"
raw="benchmarks/raw/$slug"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The table committed for this CPU, to print each workload's change against it.
git show "HEAD:benchmarks/$slug.md" > "$work/committed.md" 2> /dev/null || : > "$work/committed.md"
rm -rf "$raw"
mkdir -p "$raw"

# name | command line (after the binary) | timing.json key | threads
workloads=(
  "bench_mlp f32|configs/bench_mlp.toml train.precision=f32|seconds_per_epoch gflops_per_second|$cores"
  "bench_mlp f64|configs/bench_mlp.toml train.precision=f64|seconds_per_epoch gflops_per_second|$cores"
  "digits_mlp f64|configs/digits_mlp.toml|seconds_per_epoch|$cores"
  "som_digits_online|configs/som_digits_online.toml|seconds|1"
  "som_digits batch|configs/som_digits.toml|seconds|$cores"
  "rbm_digits|configs/rbm_digits.toml|seconds_per_epoch|$cores"
  "asia exact query|configs/asia.toml|exact_ms|$cores"
)

# Our workloads of one round, as "name<TAB>key<TAB>value" lines.
ours_round() {
  local w name args keys threads key
  for w in "${workloads[@]}"; do
    IFS='|' read -r name args keys threads <<< "$w"
    # shellcheck disable=SC2086
    RAYON_NUM_THREADS="$threads" "$bin" -q $args --out "$work/run" > /dev/null
    for key in $keys; do
      printf '%s\t%s\t%s\n' "$name" "$key" "$(python3 - "$work/run/timing.json" "$key" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
key = sys.argv[2]
if key == "exact_ms":
    qs = t["queries"]
    print(1e3 * sum(q["exact_seconds"] for q in qs) / len(qs))
else:
    print(t[key])
PY
)"
    done
  done
  # faer's matrix-multiply peak in the same round, for bench_mlp's share of it, and bench_mlp
  # reduced to its products (the bare training), for what the engine around them costs.
  ./target/release/examples/gemm_peak | sed -n \
    -e 's/^n = \([0-9]*\): f32 *\([0-9.]*\) (1 thread) *\([0-9.]*\) ([0-9]* threads) *f64 *\([0-9.]*\) (1 thread) *\([0-9.]*\).*/gemm peak n=\1\tf32\t\3\ngemm peak n=\1\tf64\t\5/p' \
    -e 's/^bare training: f32 *\([0-9.]*\) *f64 *\([0-9.]*\)$/bare training\tf32\t\1\nbare training\tf64\t\2/p'
}

# Criterion's medians of one round (shortened warm-up and measurement; criterion's own report
# stays in target/criterion).
criterion_round() {
  local quick=(--warm-up-time 1 --measurement-time 3 --noplot)
  cargo bench -q -p cg-hopfield --bench hopfield -- 'hopfield/sync/' "${quick[@]}" > /dev/null 2>&1
  cargo bench -q -p cg-autodiff --bench autodiff -- 'forward_reverse/nodes/(1000|10000|100000)$' "${quick[@]}" > /dev/null 2>&1
  for n in 1000 10000; do
    printf 'hopfield sync N=%s\tns_per_weight\t%s\n' "$n" \
      "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate'] / $n**2)" "target/criterion/hopfield/sync/units=$n/new/estimates.json")"
  done
  for n in 1000 10000 100000; do
    printf 'scalar DAG forward+reverse N=%s\tns_per_node\t%s\n' "$n" \
      "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['median']['point_estimate'] / $n)" "target/criterion/forward_reverse/nodes/$n/new/estimates.json")"
  done
}

peers_round() {
  local round="$1" script
  [ -n "${PEERS_PY:-}" ] || return 0
  for script in mlp_peers.py som_peers.py rbm_peer.py hopfield_peer.py micrograd_bench.py pgm_peers.py; do
    # pgm_peers.py alternates every side within its own round; the rounds here repeat it.
    local args=()
    [ "$script" != pgm_peers.py ] || args=(--rounds 1 --out "$work/pgm_peers")
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PEERS_PY" "scripts/peers/$script" "${args[@]}" \
      > "$raw/peer-$round-$script.txt" 2>&1 || echo "(exit status $?)" >> "$raw/peer-$round-$script.txt"
  done
}

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  ours_round > "$raw/ours-$round.tsv"
  criterion_round >> "$raw/ours-$round.tsv"
  peers_round "$round"
done

python3 scripts/peers/bench_table.py "$raw" "benchmarks/$slug.md" "$cpu" "$family" "$model" "$cores" "$rounds" "$work/committed.md"
