"""Exact queries on published Bayesian networks: pgmpy's VariableElimination against ours, and
the BIF files both ways. Optional; never used by the build or the tests.

Setup (pgmpy 1.1.2 runs without torch):
    python3 -m venv /tmp/pgv && /tmp/pgv/bin/pip install pgmpy==1.1.2 --no-deps \
        && /tmp/pgv/bin/pip install -r scripts/peers/requirements-pgm.txt
Run from the repository root after `cargo build --release -p experiments`:
    /tmp/pgv/bin/python scripts/peers/pgm_peers.py [--out /tmp/pgm_peers] [--rounds 3]

For each network pgmpy bundles (Asia to Pigs): pgmpy writes it as BIF (our reader's input);
20 queries are drawn from a seed (a target, and evidence on 3 other variables with states from
one forward sample, so the evidence is possible); pgmpy (VariableElimination, its default
pruning and order), pyAgrum (LazyPropagation, one engine per network reused across queries) and
we (`[network] bif`, timing.json's exact_seconds) answer them, in alternating rounds. Then pgmpy
reads back the network.bif our run wrote. Then every variable's marginal without evidence:
pyAgrum (a fresh LazyPropagation, makeInference, every posterior) against our junction tree
(`[marginals]`, timing.json's junction_tree_seconds). Prints Markdown tables: milliseconds
(median over rounds; per query, the mean over queries), the largest difference between the
answers, and whether pgmpy's reading of our file equals its model. pyAgrum is pinned beside
pgmpy (`pip install pyagrum==3.3.1`). The network files stay in --out (their licences are the
bnlearn repository's, not ours).
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import time
import warnings

warnings.filterwarnings("ignore")

from pgmpy.inference import VariableElimination  # noqa: E402
from pgmpy.readwrite import BIFReader, BIFWriter  # noqa: E402
from pgmpy.sampling import BayesianModelSampling  # noqa: E402
from pgmpy.utils import get_example_model  # noqa: E402

# Every network pgmpy 1.1.2 bundles with more than a handful of nodes, by size, up to Link and
# Munin (--networks picks some).
NETWORKS = [
    "asia", "child", "insurance", "water", "mildew", "alarm", "barley", "hailfinder", "hepar2",
    "win95pts", "pathfinder", "munin1", "andes", "diabetes", "pigs", "link", "munin2", "munin4",
    "munin3", "munin",
]
BINARY = os.environ.get("CG_EXPERIMENTS", os.path.join("target", "release", "experiments"))


def queries(model, n, seed):
    """n (target, evidence) pairs; evidence states from a forward sample, so P(e) > 0."""
    rng = random.Random(seed)
    nodes = sorted(model.nodes())
    sample = BayesianModelSampling(model).forward_sample(size=n, seed=seed, show_progress=False)
    out = []
    for k in range(n):
        target = rng.choice(nodes)
        observed = rng.sample([v for v in nodes if v != target], 3)
        out.append((target, {v: str(sample.iloc[k][v]) for v in observed}))
    return out


def toml_string(s):
    return json.dumps(s)


def write_config(path, bif, qs):
    lines = ['kind = "bayes_net"', "[network]", f"bif = {toml_string(bif)}"]
    for target, evidence in qs:
        lines.append("[[queries]]")
        lines.append(f"target = {toml_string(target)}")
        pairs = ", ".join(f"{toml_string(k)} = {toml_string(v)}" for k, v in evidence.items())
        lines.append(f"evidence = {{ {pairs} }}")
    lines += ["[sampler]", 'method = "likelihood_weighting"', "samples = 100"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def pgmpy_round(model, qs):
    ve = VariableElimination(model)
    times, answers = [], []
    for target, evidence in qs:
        start = time.perf_counter()
        phi = ve.query([target], evidence=evidence, show_progress=False)
        times.append(time.perf_counter() - start)
        answers.append({s: float(p) for s, p in zip(phi.state_names[target], phi.values)})
    return statistics.mean(times), answers


def pyagrum_round(bif, qs):
    """pyAgrum's LazyPropagation, one engine per network reused across queries (the target and
    evidence set, the posterior read, the evidence erased), as its users run it."""
    import pyagrum as gum

    bn = gum.loadBN(bif)
    ie = gum.LazyPropagation(bn)
    times, answers = [], []
    for target, evidence in qs:
        start = time.perf_counter()
        # Only the asked variable as a target: LazyPropagation then computes what it needs.
        ie.eraseAllTargets()
        ie.addTarget(target)
        ie.setEvidence(evidence)
        post = ie.posterior(target)
        times.append(time.perf_counter() - start)
        ie.eraseAllEvidence()
        var = bn.variable(target)
        answers.append({var.label(i): float(post[i]) for i in range(var.domainSize())})
    return statistics.mean(times), answers


# pyAgrum's every-marginal run, in a child process with a memory limit (aGrUM's junction tree
# on Link took all 24 GB of the machine it was first tried on): prints the seconds and the
# posteriors as JSON.
AGRUM_MARGINALS = """
import json, sys, time
import pyagrum as gum
bn = gum.loadBN(sys.argv[1])
start = time.perf_counter()
ie = gum.LazyPropagation(bn)
ie.makeInference()
posts = {bn.variable(v).name(): ie.posterior(v) for v in bn.nodes()}
seconds = time.perf_counter() - start
out = {}
for name, post in posts.items():
    var = bn.variable(name)
    out[name] = {var.label(i): float(post[i]) for i in range(var.domainSize())}
print(json.dumps({"seconds": seconds, "posteriors": out}))
"""


def agrum_marginals(bif, memory_gb):
    """(seconds, posteriors) from pyAgrum, or (None, why) when it failed within the limit."""
    import resource
    import sys

    def limit():
        cap = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    run = subprocess.run(
        [sys.executable, "-c", AGRUM_MARGINALS, bif], capture_output=True, text=True, preexec_fn=limit
    )
    if run.returncode != 0:
        if "Syntax error" in run.stderr:
            return None, "cannot read pgmpy's BIF"
        return None, f"failed within {memory_gb:g} GB"
    out = json.loads(run.stdout)
    return out["seconds"], out["posteriors"]


def all_marginals_rounds(bif, out, rounds, memory_gb):
    """Every variable's marginal without evidence: ours (the junction tree, timing.json's
    junction_tree_seconds) and pyAgrum's (a fresh LazyPropagation, makeInference, every
    posterior read, in a child process limited to memory_gb), alternating; medians in ms (None
    for pyAgrum when it failed) and the largest difference."""
    config = os.path.join(out, os.path.basename(bif).replace(".bif", "_marginals.toml"))
    model_name = os.path.basename(bif)
    with open(bif) as f:
        first = next(line.split()[1] for line in f if line.startswith("variable "))
    with open(config, "w") as f:
        f.write(
            f'kind = "bayes_net"\n[network]\nbif = "{model_name}"\n[[queries]]\ntarget = "{first}"\n'
            '[sampler]\nmethod = "forward"\nsamples = 100\n[marginals]\nevidence = {}\n'
        )
    result = config.replace(".toml", "")
    ours, theirs = [], []
    posts = None
    for _ in range(rounds):
        subprocess.run(
            [BINARY, "-q", config, "--out", result, "--max-memory", f"{memory_gb:g}G"],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        with open(os.path.join(result, "timing.json")) as f:
            ours.append(json.load(f)["marginals"]["junction_tree_seconds"])
        seconds, posts = agrum_marginals(bif, memory_gb)
        if seconds is None:
            break
        theirs.append(seconds)
    with open(os.path.join(result, "metrics.json")) as f:
        mine = json.load(f)["marginals"]["posteriors"]
    if not theirs:
        return statistics.median(ours) * 1e3, None, posts
    diff = max(abs(mine[name][state] - p) for name, post in posts.items() for state, p in post.items())
    return statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3, diff


def ours_round(config, out):
    # Our sampler's doubts about its 100 draws go to stderr; only the exact answers matter here.
    subprocess.run([BINARY, "-q", config, "--out", out], check=True, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "timing.json")) as f:
        timing = json.load(f)
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    mean = statistics.mean(q["exact_seconds"] for q in timing["queries"])
    return mean, [q["exact"] for q in metrics["queries"]]


def same_model(a, b):
    for cpd in a.get_cpds():
        other = b.get_cpds(cpd.variable)
        other = other.copy()
        if len(cpd.variables) > 2:
            other.reorder_parents(cpd.variables[1:])
        if cpd.state_names != other.state_names or abs(cpd.values - other.values).max() > 0:
            return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/pgm_peers")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--networks", nargs="*", default=NETWORKS)
    parser.add_argument("--memory-gb", type=float, default=16.0, help="each side's memory for every marginal")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"CPU: {cpu}, {os.cpu_count()} cores; pgmpy VariableElimination vs ours, ms per exact query\n")
    print("| network | nodes | pgmpy ms/query | pyAgrum ms/query | ours ms/query | pgmpy / ours | pyAgrum / ours | largest difference | pgmpy reads our BIF |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    marginal_rows = []
    for name in args.networks:
        model = get_example_model(name)
        bif = os.path.join(args.out, f"{name}.bif")
        BIFWriter(model).write_bif(bif)
        qs = queries(model, args.queries, seed=0)
        config = os.path.join(args.out, f"{name}.toml")
        write_config(config, f"{name}.bif", qs)
        ours_out = os.path.join(args.out, f"ours_{name}")
        theirs, agrum, mine = [], [], []
        agrum_answers = []
        for _ in range(args.rounds):
            t, pgmpy_answers = pgmpy_round(model, qs)
            theirs.append(t)
            try:
                t, agrum_answers = pyagrum_round(bif, qs)
                agrum.append(t)
            except Exception:  # pyAgrum's BIF parser refuses some state names pgmpy writes
                pass
            t, our_answers = ours_round(config, ours_out)
            mine.append(t)
        diff = max(
            abs(p[s] - o[s]) for answers in (pgmpy_answers, agrum_answers) for p, o in zip(answers, our_answers) for s in p
        )
        ours_bif = BIFReader(os.path.join(ours_out, "network.bif")).get_model()
        reads = "yes, equal" if same_model(model, ours_bif) else "NO"
        a, b = (statistics.median(x) * 1e3 for x in (theirs, mine))
        if agrum:
            g = statistics.median(agrum) * 1e3
            agrum_cells = f"{g:.3f} | {b:.3f} | {a / b:.1f}x | {g / b:.1f}x"
        else:
            agrum_cells = f"cannot read pgmpy's BIF | {b:.3f} | {a / b:.1f}x |"
        print(f"| {name} | {len(model.nodes())} | {a:.3f} | {agrum_cells} | {diff:.1e} | {reads} |", flush=True)
        ours_ms, agrum_ms, mdiff = all_marginals_rounds(bif, args.out, args.rounds, args.memory_gb)
        if agrum_ms is None:
            marginal_rows.append(f"| {name} | {len(model.nodes())} | {mdiff} | {ours_ms:.1f} | | |")
        else:
            marginal_rows.append(
                f"| {name} | {len(model.nodes())} | {agrum_ms:.1f} | {ours_ms:.1f} | {agrum_ms / ours_ms:.1f}x | {mdiff:.1e} |"
            )
    print(
        f"\nEvery marginal without evidence: pyAgrum LazyPropagation (fresh engine, {args.memory_gb:g} GB) against our"
        " junction tree, ms"
    )
    print("| network | nodes | pyAgrum | ours | pyAgrum / ours | largest difference |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(marginal_rows))


if __name__ == "__main__":
    main()


def geyer_ess(x):
    """Effective sample size by Geyer's initial positive sequence (as cg_pgm's)."""
    n = len(x)
    mean = sum(x) / n
    d = [v - mean for v in x]
    g0 = sum(v * v for v in d) / n
    if g0 <= 0:
        return float(n)
    total, m = 0.0, 0
    while 2 * m + 1 < n:
        pair = sum(d[i] * d[i + 2 * m] for i in range(n - 2 * m)) / n + sum(
            d[i] * d[i + 2 * m + 1] for i in range(n - 2 * m - 1)
        ) / n
        if pair <= 0:
            break
        total += pair / g0
        m += 1
    return n / max(2 * total - 1, 1 / n)


def gibbs_comparison(out, samples_pgmpy=2000, samples_ours=20000):
    """ALARM without evidence, one variable's indicator: samples and effective samples per
    second, pgmpy's GibbsSampling against ours (4 chains, per chain)."""
    from pgmpy.sampling import GibbsSampling

    model = get_example_model("alarm")
    target, state = "HR", "HIGH"
    sampler = GibbsSampling(model)
    start = time.perf_counter()
    draws = sampler.sample(size=samples_pgmpy, seed=0)
    seconds = time.perf_counter() - start
    names = model.get_cpds(target).state_names[target]
    column = draws[target].tolist()
    x = [1.0 if (names[v] if isinstance(v, (int,)) else v) == state else 0.0 for v in column]
    pg = (samples_pgmpy / seconds, geyer_ess(x) / samples_pgmpy)
    config = os.path.join(out, "alarm_gibbs.toml")
    with open(config, "w") as f:
        f.write(
            'kind = "bayes_net"\n[network]\nbif = "alarm.bif"\n[[queries]]\n'
            f'target = "{target}"\n[sampler]\nmethod = "gibbs"\nchains = 4\nburn_in = 1000\n'
            f"samples = {samples_ours}\n"
        )
    result = os.path.join(out, "ours_alarm_gibbs")
    subprocess.run([BINARY, "-q", config, "--out", result], check=True)
    with open(os.path.join(result, "timing.json")) as f:
        t = json.load(f)["queries"][0]
    with open(os.path.join(result, "metrics.json")) as f:
        ess = json.load(f)["queries"][0]["effective_sample_size"][state]
    draws_ours = 4 * samples_ours
    ours = (t["draws_per_second"], ess / draws_ours)
    print("\n| ALARM, Gibbs, P(HR = HIGH) | samples/s | ESS per sample | ESS/s |")
    print("|---|---:|---:|---:|")
    print(f"| pgmpy GibbsSampling ({samples_pgmpy} samples) | {pg[0]:.0f} | {pg[1]:.3f} | {pg[0] * pg[1]:.0f} |")
    print(f"| ours, 4 chains x {samples_ours} (2 cores) | {ours[0]:.0f} | {ours[1]:.3f} | {ours[0] * ours[1]:.0f} |")


if __name__ == "__main__" and os.environ.get("PGM_PEERS_GIBBS"):
    gibbs_comparison(os.environ.get("PGM_PEERS_OUT", "/tmp/pgm_peers"))
