#!/usr/bin/env bash
# Batch SOM (20 x 20, rectangular, Gaussian) on clustered 64-dimensional float32 data larger than
# memory: 10^5, 10^6 and 10^7 samples (the last is a 2.56 GB file), streamed from an .npy file in
# chunks of 65,536 rows under --max-memory 1G. Prints, per size, the training seconds per epoch
# (timing.json, quality passes excluded) and the peak resident memory of the whole run
# (/usr/bin/time's maximum RSS). The files are written once into DIR by the make_clusters_npy
# example and reused.
#
#   [EPOCHS=2] bash scripts/som_large_bench.sh [DIR] [SIZES...]   (default /tmp/cg-large, 100000 1000000 10000000)
#
# With MiniSom and somoclu installed (scripts/peers/requirements-som.txt), the peers run on the
# sizes that fit in memory: scripts/peers/som_large_peers.py DIR SIZE.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-/tmp/cg-large}"
shift || true
sizes=("${@:-100000 1000000 10000000}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
mkdir -p "$dir"
cargo build -q --release -p experiments -p cg-examples --example make_clusters_npy
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) threads"
printf '%-10s %-10s %-16s %-14s\n' samples file_MB s_per_epoch peak_RSS_MB
for n in "${sizes[@]}"; do
    data="$dir/clusters_${n}x64.npy"
    [ -f "$data" ] || ./target/release/examples/make_clusters_npy "$data" "$n" 64 7 >/dev/null
    config="$dir/som_${n}.toml"
    cat > "$config" <<TOML
kind = "som"
seed = 0
[data]
npy = "clusters_${n}x64.npy"
stream = true
chunk_rows = 65536
[som]
rows = 20
cols = 20
training = "batch"
epochs = ${EPOCHS:-2}
init = "random"
radius = { start = 10.0, end = 1.0 }
TOML
    out="$dir/out_${n}"
    rm -rf "$out"
    /usr/bin/time -f "%M" -o "$dir/rss_${n}" ./target/release/experiments "$config" --out "$out" --max-memory 1G -q
    per_epoch=$(tr -d ' \n' < "$out/timing.json" | grep -o '"seconds_per_epoch":[^,}]*' | cut -d: -f2 | awk '{printf "%.3g", $1}')
    printf '%-10s %-10s %-16s %-14s\n' "$n" "$(( $(stat -c %s "$data") / 1000000 ))" "$per_epoch" "$(( $(cat "$dir/rss_${n}") / 1024 ))"
done
