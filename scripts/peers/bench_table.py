"""Writes benchmarks/<cpu-slug>.md from the raw outputs of scripts/bench_all.sh: our timings
(ours-<round>.tsv: name, key, value) and each peer script's printed output per round
(peer-<round>-<script>.txt). Standard library only.

Usage: python3 scripts/peers/bench_table.py RAW_DIR OUT.md CPU FAMILY MODEL CORES ROUNDS [COMMITTED.md]

With COMMITTED.md (the table last committed for this CPU), it also prints and writes, per
workload, our median against the committed one: a change for the worse above 10% is flagged.
"""

import datetime
import glob
import os
import re
import statistics
import sys

raw, out, cpu, family, model, cores, rounds = sys.argv[1:8]
committed_path = sys.argv[8] if len(sys.argv) > 8 else None

ours = {}
for path in sorted(glob.glob(os.path.join(raw, "ours-*.tsv"))):
    for line in open(path):
        name, key, value = line.rstrip("\n").split("\t")
        ours.setdefault((name, key), []).append(float(value))

# Peer values by (our row name, peer label): one value per round in which the peer printed it.
peers = {}
# pgm_peers.py measures every side itself, in two tables: per exact query and every marginal
# at once. pgm[table][network] = {"nodes": n, column: [one value per round]}.
pgm = {"query": {}, "marginals": {}}
notes = []
# Its tables' columns, by header cell (older outputs have no pyAgrum column).
PGM_COLUMNS = {
    "pgmpy ms/query": ("query", "pgmpy"),
    "pyAgrum ms/query": ("query", "pyAgrum"),
    "ours ms/query": ("query", "ours"),
    "pyAgrum": ("marginals", "pyAgrum"),
    "ours": ("marginals", "ours"),
}


def read_pgm_tables(text):
    """Every row of pgm_peers.py's Markdown tables into `pgm`, columns found by their headers;
    a cell that is not a number (pyAgrum could not read or answer) is left out."""
    columns = None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[:2] == ["network", "nodes"]:
            columns = {k: PGM_COLUMNS[c] for k, c in enumerate(cells) if c in PGM_COLUMNS}
            continue
        if columns is None or cells[0].startswith("---"):
            continue
        for k, (table, side) in columns.items():
            net = pgm[table].setdefault(cells[0], {"nodes": cells[1]})
            try:
                net.setdefault(side, []).append(float(cells[k]))
            except (ValueError, IndexError):
                pass



def add(row, label, value):
    peers.setdefault(row, {}).setdefault(label, []).append(float(value.replace(",", "")))


for path in sorted(glob.glob(os.path.join(raw, "peer-*.txt"))):
    text = open(path).read()
    script = os.path.basename(path).split("-", 2)[2][: -len(".txt")]
    if "(exit status" in text:
        last = [l for l in text.strip().splitlines() if l.strip()][-2:]
        notes.append(f"{script} did not run: {' / '.join(last)}")
        continue
    for m in re.finditer(r"^(digits_mlp|bench_mlp)\s+(\S+)\s+float(32|64)\s+([\d.]+) s/epoch", text, re.M):
        bench, label, bits, value = m.groups()
        if bench == "digits_mlp" and bits == "32":
            continue  # the digits config trains in f64
        add(f"{bench} f{bits}", f"{label} float{bits}", value)
    for m in re.finditer(r"^MiniSom online.*?: ([\d.]+) s", text, re.M):
        add("som_digits_online", "MiniSom", m.group(1))
    for m in re.finditer(rf"^somoclu batch, 10 epochs, {cores} thread\(s\): ([\d.]+) s", text, re.M):
        add("som_digits batch", f"somoclu ({cores} threads)", m.group(1))
    for m in re.finditer(r"BernoulliRBM: ([\d.]+) s/epoch", text):
        add("rbm_digits", "scikit-learn BernoulliRBM", m.group(1))
    for m in re.finditer(r"^numpy sync sweep N=(\d+): [\d.]+ ms, ([\d.]+) ns/weight", text, re.M):
        add(f"hopfield sync N={m.group(1)}", "numpy (OpenBLAS gemv)", m.group(2))
    for m in re.finditer(r"nodes=(\d+): ([\d,]+) ns/node", text):
        add(f"scalar DAG forward+reverse N={m.group(1)}", "micrograd-style Python", m.group(2))
    if script == "pgm_peers.py":
        read_pgm_tables(text)

# Our rows in the order of the README, with their units.
rows = [
    ("bench_mlp f32", "seconds_per_epoch", "s/epoch"),
    ("bench_mlp f64", "seconds_per_epoch", "s/epoch"),
    ("digits_mlp f64", "seconds_per_epoch", "s/epoch"),
    ("som_digits_online", "seconds", "s, 10^4 updates, 1 thread"),
    ("som_digits batch", "seconds", f"s, {cores} threads"),
    ("rbm_digits", "seconds_per_epoch", "s/epoch"),
    ("asia exact query", "exact_ms", "ms/query"),
    ("hopfield sync N=1000", "ns_per_weight", "ns/weight"),
    ("hopfield sync N=10000", "ns_per_weight", "ns/weight"),
    ("scalar DAG forward+reverse N=1000", "ns_per_node", "ns/node"),
    ("scalar DAG forward+reverse N=10000", "ns_per_node", "ns/node"),
    ("scalar DAG forward+reverse N=100000", "ns_per_node", "ns/node"),
]


def fmt(vs):
    if not vs:
        return ""
    med = statistics.median(vs)
    return f"{med:.4g} ({min(vs):.4g}-{max(vs):.4g})"


today = datetime.date.today().isoformat()
have_peers = bool(peers or pgm["query"] or notes)
lines = [
    f"# Benchmarks on {cpu} (family {family} model {model}), {cores} cores",
    "",
    f"{today}, `bash scripts/bench_all.sh {rounds}`{' with PEERS_PY' if have_peers else ''}: {rounds} rounds,",
    "each round ours first, then every installed peer. Median (range) over the rounds; lower is",
    "better everywhere. The best peer is the one with the lowest median; the last column is its",
    "median over ours. Raw outputs: `benchmarks/raw/`.",
    "",
    "| workload | unit | ours | best peer | peer | peer / ours |",
    "|---|---|---:|---|---:|---:|",
]
for name, key, unit in rows:
    vs = ours.get((name, key), [])
    if not vs:
        continue
    best = min(peers.get(name, {}).items(), key=lambda kv: statistics.median(kv[1]), default=None)
    if best:
        label, pv = best
        ratio = f"{statistics.median(pv) / statistics.median(vs):.2f}x"
        lines.append(f"| {name} | {unit} | {fmt(vs)} | {label} | {fmt(pv)} | {ratio} |")
    else:
        lines.append(f"| {name} | {unit} | {fmt(vs)} | | | |")



def ratio(d, peer):
    """The peer's median over ours, or empty when either side has no value (or ours rounds to 0)."""
    if not d.get(peer) or not d.get("ours") or statistics.median(d["ours"]) <= 0:
        return ""
    return f"{statistics.median(d[peer]) / statistics.median(d['ours']):.1f}x"


if pgm["query"]:
    lines += [
        "",
        "## Exact queries on Bayesian networks (`scripts/peers/pgm_peers.py`)",
        "",
        "Every side measured by the peer script itself (20 queries per network with evidence on",
        "3 variables, ms per query; pyAgrum's LazyPropagation reused across a network's queries).",
        "",
        "| network | nodes | ours | pgmpy VariableElimination | pyAgrum LazyPropagation | pgmpy / ours | pyAgrum / ours |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for net, d in pgm["query"].items():
        cells = [fmt(d.get(k, [])) for k in ("ours", "pgmpy", "pyAgrum")]
        lines.append(f"| {net} | {d['nodes']} | {' | '.join(cells)} | {ratio(d, 'pgmpy')} | {ratio(d, 'pyAgrum')} |")
if pgm["marginals"]:
    lines += [
        "",
        "Every marginal without evidence (ms): our junction tree against pyAgrum's (a fresh",
        "engine per round); an empty pyAgrum cell: it could not read the network or ran out of",
        "the memory the script gives it.",
        "",
        "| network | nodes | ours | pyAgrum LazyPropagation | pyAgrum / ours |",
        "|---|---:|---:|---:|---:|",
    ]
    for net, d in pgm["marginals"].items():
        lines.append(f"| {net} | {d['nodes']} | {fmt(d.get('ours', []))} | {fmt(d.get('pyAgrum', []))} | {ratio(d, 'pyAgrum')} |")

# bench_mlp's share of the matrix-multiply peak, round by round (the peak is measured in the
# same round, right after the workloads, because this machine's speed drifts).
share_lines = []
for bits in ("f32", "f64"):
    gf = ours.get((f"bench_mlp {bits}", "gflops_per_second"), [])
    p1 = ours.get(("gemm peak n=1024", bits), [])
    p2 = ours.get(("gemm peak n=2048", bits), [])
    bare = ours.get(("bare training", bits), [])
    if gf and len(p1) == len(gf) and len(p2) == len(gf):
        peak = [max(a, b) for a, b in zip(p1, p2)]
        share = [100 * g / p for g, p in zip(gf, peak)]
        # Tables measured before gemm_peak printed its bare training leave those cells empty.
        of_bare = [100 * g / b for g, b in zip(gf, bare)] if len(bare) == len(gf) else []
        cells = f"{fmt(bare)} | {fmt(of_bare)}" if of_bare else " | "
        share_lines.append(f"| {bits} | {fmt(gf)} | {fmt(peak)} | {fmt(share)} | {cells} |")
if share_lines:
    lines += [
        "",
        "## bench_mlp's share of the matrix-multiply peak",
        "",
        "GFLOP/s of bench_mlp (6 x parameters x samples per epoch over the epoch's time) and faer's",
        f"best on square products of 1024 and 2048 on {cores} threads (`cargo run --release -p",
        "cg-autodiff --example gemm_peak`), each round's share from the same round. Higher is better.",
        "The bare training is bench_mlp reduced to its products, ReLUs and SGD update (gemm_peak's",
        "last line: no graph engine, loss, biases or checks), a trainer that does nothing but those",
        "products and passes; the last column is bench_mlp's GFLOP/s as a share of it.",
        "",
        "| precision | bench_mlp GFLOP/s | peak GFLOP/s | share, % | bare training GFLOP/s | share of bare, % |",
        "|---|---:|---:|---:|---:|---:|",
        *share_lines,
    ]



def committed_medians(path):
    """Our medians in a committed table: workload -> (value, lower is better)."""
    found = {}
    if not path or not os.path.exists(path) or os.path.getsize(path) == 0:
        return found, None
    text = open(path).read()
    date = re.search(r"^(\d{4}-\d{2}-\d{2})", text, re.M)
    for m in re.finditer(r"^\| ([^|]+?) \| [^|]+ \| ([\d.e+-]+) \(", text, re.M):
        found[m.group(1)] = (float(m.group(2)), True)
    # The share of the peak: higher is better.
    for m in re.finditer(r"^\| (f32|f64) \| [^|]+ \| [^|]+ \| ([\d.e+-]+) \(", text, re.M):
        found[f"bench_mlp {m.group(1)} share of the peak, %"] = (float(m.group(2)), False)
    return found, date.group(1) if date else None


before, before_date = committed_medians(committed_path)
if before:
    now = {name: statistics.median(ours[(name, key)]) for name, key, _ in rows if ours.get((name, key))}
    for line in share_lines:
        bits, share = line.split(" | ")[0].strip("| "), line.split(" | ")[3]
        now[f"bench_mlp {bits} share of the peak, %"] = float(share.split(" ")[0])
    change_lines = []
    print(f"change against the committed table ({before_date}):")
    for name, (old, lower_better) in before.items():
        if name not in now or old == 0:
            continue
        change = 100 * (now[name] - old) / old
        worse = change > 10 if lower_better else change < -10
        flag = " REGRESSION (more than 10% worse)" if worse else ""
        print(f"  {name}: {old:.4g} -> {now[name]:.4g} ({change:+.1f}%){flag}")
        change_lines.append(f"| {name} | {old:.4g} | {now[name]:.4g} | {change:+.1f}% | {'worse by over 10%' if worse else ''} |")
    lines += [
        "",
        f"## Against the committed table of {before_date}",
        "",
        "Our medians then and now (times: lower is better; the share of the peak: higher is better).",
        "",
        "| workload | committed | now | change | flag |",
        "|---|---:|---:|---:|---|",
        *change_lines,
    ]

if not have_peers:
    lines += ["", "No peers ran (set PEERS_PY to a Python with scripts/peers/requirements*.txt)."]
for note in sorted(set(notes)):
    lines.append(f"- {note}")

open(out, "w").write("\n".join(lines) + "\n")
print(f"-> {out}")
