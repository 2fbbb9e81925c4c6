#!/usr/bin/env bash
# Every speed workload of the README on this machine, in alternating rounds with the Python peers
# that are installed, into one Markdown file: benchmarks/<cpu-slug>.md (CPU model, cores, date,
# median and range per workload). Usage, from the repository root:
#
#   bash scripts/bench_all.sh [ROUNDS]            # ours only (default 5 rounds)
#   PEERS_PY=/path/to/venv/bin/python bash scripts/bench_all.sh
#
# PEERS_PY is a Python with scripts/peers/requirements*.txt installed; each peer script that
# imports runs once per round, between our rounds, and its output is kept verbatim in the file.
# A peer that is missing leaves a note instead. Nothing here is used by the build or the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
cargo build --release -q -p experiments
bin=target/release/experiments
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
family="$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
model="$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
cores="$(nproc)"
slug="$(echo "$cpu family $family model $model" | tr 'A-Z' 'a-z' | sed 's/([^)]*)//g; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')"
out="benchmarks/$slug.md"
mkdir -p benchmarks

# name | command line (after the binary) | timing.json key | threads
workloads=(
  "bench_mlp f32 (s/epoch)|configs/bench_mlp.toml train.precision=f32|seconds_per_epoch|$cores"
  "bench_mlp f64 (s/epoch)|configs/bench_mlp.toml train.precision=f64|seconds_per_epoch|$cores"
  "digits_mlp (s/epoch)|configs/digits_mlp.toml|seconds_per_epoch|$cores"
  "som_digits_online, 10^4 updates (s)|configs/som_digits_online.toml|seconds|1"
  "som_digits, batch (s)|configs/som_digits.toml|seconds|$cores"
  "rbm_digits (s/epoch)|configs/rbm_digits.toml|seconds_per_epoch|$cores"
  "asia, exact query (ms)|configs/asia.toml|exact_ms|$cores"
)

peer_log="$work/peers.txt"
: > "$peer_log"
run_peers() {
  local round="$1"
  if [ -z "${PEERS_PY:-}" ]; then
    return
  fi
  for script in mlp_peers.py som_peers.py rbm_peer.py hopfield_peer.py pgm_peers.py; do
    if output="$("$PEERS_PY" "scripts/peers/$script" 2>&1)"; then
      { echo "### round $round: scripts/peers/$script"; echo '```'; echo "$output"; echo '```'; } >> "$peer_log"
    else
      { echo "### round $round: scripts/peers/$script did not run"; echo '```'; echo "$output" | tail -3; echo '```'; } >> "$peer_log"
    fi
  done
}

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds" >&2
  for w in "${workloads[@]}"; do
    IFS='|' read -r name args key threads <<< "$w"
    # shellcheck disable=SC2086
    RAYON_NUM_THREADS="$threads" "$bin" -q $args --out "$work/run" > /dev/null
    python3 - "$work/run/timing.json" "$key" "$name" >> "$work/ours.tsv" <<'PY'
import json, sys
path, key, name = sys.argv[1:]
t = json.load(open(path))
if key == "exact_ms":
    qs = t["queries"]
    value = 1e3 * sum(q["exact_seconds"] for q in qs) / len(qs)
else:
    value = t[key]
print(f"{name}\t{value}")
PY
  done
  run_peers "$round"
done

python3 - "$work/ours.tsv" "$peer_log" "$out" "$cpu" "$family" "$model" "$cores" "$rounds" <<'PY'
import datetime, statistics, sys
tsv, peers, out, cpu, family, model, cores, rounds = sys.argv[1:]
values = {}
for line in open(tsv):
    name, v = line.rstrip("\n").split("\t")
    values.setdefault(name, []).append(float(v))
lines = [
    f"# Benchmarks on {cpu} (family {family} model {model}), {cores} cores",
    "",
    f"{datetime.date.today().isoformat()}, `bash scripts/bench_all.sh {rounds}`: {rounds} rounds, ours first in each",
    "round, then the installed peers. Median and range over the rounds.",
    "",
    "| workload | median | range |",
    "|---|---:|---:|",
]
for name, vs in values.items():
    lines.append(f"| {name} | {statistics.median(vs):.4g} | {min(vs):.4g}-{max(vs):.4g} |")
peer_text = open(peers).read()
lines += ["", "## Peers", ""]
lines.append(peer_text if peer_text.strip() else "No peers ran (set PEERS_PY to a Python with scripts/peers/requirements*.txt).")
open(out, "w").write("\n".join(lines) + "\n")
print(f"-> {out}")
PY
