"""Learning Bayesian networks: pgmpy and pyAgrum against `experiments` (kind bn_learn) on data
sampled from published networks. Optional; never used by the build or the tests.

Setup (pgmpy 1.1.2 runs without torch; pyAgrum from PyPI):
    python3 -m venv /tmp/pgv && /tmp/pgv/bin/pip install pgmpy==1.1.2 --no-deps \
        && /tmp/pgv/bin/pip install -r scripts/peers/requirements-pgm.txt
Run from the repository root after `cargo build --release -p experiments`:
    /tmp/pgv/bin/python scripts/peers/bn_learn_peers.py [--out /tmp/bn_learn_peers] [--rounds 3]

For each network (pgmpy's copies of the bnlearn repository's Asia and ALARM, written as BIF into
--out) and each size: `experiments sample` draws the rows (seed 0) into a CSV that all three
tools read, with the states the network declares. Then:
- scores of the true structure: pgmpy's BIC, BDeu (ess 10) and K2 against ours (relative
  difference; pgmpy's K2 adds (q - q_seen) ln Gamma(r) for every parent configuration q the
  data never show, see its TODO in StructureScore.K2: that term is shown separately);
- tables of the true structure: pgmpy's DiscreteMLE and DiscreteBayesianEstimator
  (BDeu, ess 10) against ours (largest difference of any entry);
- hill climbing on BIC from the empty graph (tabu 100, epsilon 1e-4 for pgmpy and us, ours as one
  climb and with its default two restarts; pyAgrum's
  greedy hill climbing with its BIC): the BIC of each learnt structure (all scored by pgmpy, one
  yardstick), its SHD against the truth, and seconds;
- fitting the true structure's tables: seconds.
Timings alternate rounds (ours, pgmpy, pyAgrum; then the next round) and report the median;
ours is timing.json's learn_seconds / fit_seconds (inside the process; the whole process,
reading the CSV included, is shown too). Prints Markdown tables with the CPU named.
"""

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import time
import tracemalloc
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyagrum as gum  # noqa: E402
from pgmpy.estimators import HillClimbSearch  # noqa: E402
from pgmpy.parameter_estimator import DiscreteBayesianEstimator, DiscreteMLE  # noqa: E402
from pgmpy.estimators import BIC, BDeu, K2  # noqa: E402
from pgmpy.models import DiscreteBayesianNetwork  # noqa: E402
from pgmpy.readwrite import BIFReader, BIFWriter  # noqa: E402
from pgmpy.utils import get_example_model  # noqa: E402
from scipy.special import gammaln  # noqa: E402

BINARY = os.environ.get("CG_EXPERIMENTS", os.path.join("target", "release", "experiments"))


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def run_ours(config_path, out):
    """Runs a config; its metrics, timing.json, wall seconds and peak memory (MiB, by GNU time's
    maximum resident set size when /usr/bin/time is there, else None)."""
    start = time.perf_counter()
    gnu_time = os.path.exists("/usr/bin/time")
    prefix = ["/usr/bin/time", "-f", "%M", "-o", out + ".rss"] if gnu_time else []
    subprocess.run(prefix + [BINARY, config_path, "--out", out, "-q"], check=True)
    wall = time.perf_counter() - start
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    timing = json.load(open(os.path.join(out, "timing.json")))
    timing["peak_mib"] = int(open(out + ".rss").read().split()[-1]) / 1024 if gnu_time else None
    return metrics, timing, wall


def write_config(path, csv, bif, learn, parameters=""):
    with open(path, "w") as f:
        f.write(
            f'kind = "bn_learn"\n[data]\ncsv = {json.dumps(os.path.abspath(csv))}\nstates_from_reference = true\n'
            f"[reference]\nbif = {json.dumps(os.path.abspath(bif))}\n[learn]\n{learn}\n{parameters}"
        )


def shd(true_edges, learnt_edges):
    t, l_ = set(true_edges), set(learnt_edges)
    missing = sum(1 for (a, b) in t if (a, b) not in l_ and (b, a) not in l_)
    added = sum(1 for (a, b) in l_ if (a, b) not in t and (b, a) not in t)
    reversed_ = sum(1 for (a, b) in t if (b, a) in l_)
    return missing + added + reversed_


def k2_gap(data, model, state_names):
    """pgmpy's K2 minus the textbook K2: (q - q_seen) ln Gamma(r) summed over the families."""
    gap = 0.0
    for v in model.nodes():
        parents = list(model.get_parents(v))
        q = int(np.prod([len(state_names[p]) for p in parents])) if parents else 1
        seen = len(data[parents].drop_duplicates()) if parents else 1
        gap += (q - seen) * gammaln(len(state_names[v]))
    return gap


def cpd_difference(ours_bif, pgmpy_model):
    ours = BIFReader(ours_bif).get_model()
    worst = 0.0
    for cpd in pgmpy_model.get_cpds():
        mine = ours.get_cpds(cpd.variable).copy()
        if len(cpd.variables) > 1:
            mine.reorder_parents(cpd.variables[1:], inplace=True)
        a, b = np.asarray(cpd.get_values()), np.asarray(mine.get_values())
        # State orders agree: both come from the same BIF's declarations.
        worst = max(worst, float(np.max(np.abs(a - b))))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/bn_learn_peers")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", default="asia:10000,alarm:10000,alarm:100000")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print(f"CPU: {cpu()}; {os.cpu_count()} logical cores; rounds: {args.rounds}\n")
    score_rows, table_rows, climb_rows, speed_rows, memory_rows = [], [], [], [], []
    for case in args.cases.split(","):
        name, rows = case.split(":")
        rows = int(rows)
        model = get_example_model(name)
        bif = os.path.join(args.out, f"{name}.bif")
        BIFWriter(model).write_bif(bif)
        csv = os.path.join(args.out, f"{name}_{rows}.csv")
        if not os.path.exists(csv):
            subprocess.run([BINARY, "sample", bif, "-n", str(rows), "--seed", "0", "--out", csv], check=True)
        data = pd.read_csv(csv, dtype=str, keep_default_na=False)
        truth = BIFReader(bif).get_model()
        state_names = {v: list(truth.states[v]) for v in truth.nodes()}
        true_edges = list(truth.edges())

        # Scores and tables of the true structure.
        cfg = os.path.join(args.out, f"{name}_{rows}_given.toml")
        write_config(cfg, csv, bif, 'method = "given"')
        mine, _, _ = run_ours(cfg, os.path.join(args.out, f"{name}_{rows}_given"))
        ours = mine["structure"]["scores"]
        structure = DiscreteBayesianNetwork(true_edges)
        structure.add_nodes_from(truth.nodes())
        theirs = {
            "bic": BIC(data, state_names=state_names).score(structure),
            "bdeu": BDeu(data, equivalent_sample_size=10, state_names=state_names).score(structure),
            "k2": K2(data, state_names=state_names).score(structure),
        }
        gap = k2_gap(data, structure, state_names)
        rel = lambda a, b: abs(a - b) / abs(b)  # noqa: E731
        score_rows.append(
            f"| {name} | {rows} | {rel(ours['bic'], theirs['bic']):.1e} | {rel(ours['bdeu'], theirs['bdeu']):.1e} "
            f"| {rel(ours['k2'], theirs['k2']):.1e} | {gap:.6g} | {rel(ours['k2'] + gap, theirs['k2']):.1e} |"
        )
        ml = DiscreteBayesianNetwork(true_edges)
        ml.add_nodes_from(truth.nodes())
        ml.fit(data, estimator=DiscreteMLE(state_names=state_names))
        by = DiscreteBayesianNetwork(true_edges)
        by.add_nodes_from(truth.nodes())
        by.fit(data, estimator=DiscreteBayesianEstimator(state_names=state_names, prior_type="BDeu", equivalent_sample_size=10))
        cfg_b = os.path.join(args.out, f"{name}_{rows}_given_bayes.toml")
        write_config(cfg_b, csv, bif, 'method = "given"', '[parameters]\nestimator = "bayes"\nprior = "bdeu"\ness = 10\n')
        run_ours(cfg_b, os.path.join(args.out, f"{name}_{rows}_given_bayes"))
        table_rows.append(
            f"| {name} | {rows} | {cpd_difference(os.path.join(args.out, f'{name}_{rows}_given', 'network.bif'), ml):.1e} "
            f"| {cpd_difference(os.path.join(args.out, f'{name}_{rows}_given_bayes', 'network.bif'), by):.1e} |"
        )

        # Hill climbing and fitting, alternating rounds.
        cfg_h = os.path.join(args.out, f"{name}_{rows}_hc.toml")
        write_config(cfg_h, csv, bif, 'method = "hill_climb"\nscore = "bic"\ntabu = 100\nepsilon = 1e-4\nrestarts = 0')
        cfg_r = os.path.join(args.out, f"{name}_{rows}_hc_restarts.toml")
        write_config(cfg_r, csv, bif, 'method = "hill_climb"\nscore = "bic"\ntabu = 100\nepsilon = 1e-4\nrestarts = 2')
        times = {
            k: []
            for k in ["ours_learn", "ours_wall", "ours_r_learn", "pgmpy_learn", "agrum_learn", "ours_fit", "pgmpy_fit", "agrum_fit"]
        }
        for _ in range(args.rounds):
            m, t, wall = run_ours(cfg_h, os.path.join(args.out, f"{name}_{rows}_hc"))
            times["ours_learn"].append(t["learn_seconds"])
            times["ours_wall"].append(wall)
            m_r, t, _ = run_ours(cfg_r, os.path.join(args.out, f"{name}_{rows}_hc_restarts"))
            times["ours_r_learn"].append(t["learn_seconds"])
            ours_peak = t["peak_mib"]
            _, t, _ = run_ours(cfg, os.path.join(args.out, f"{name}_{rows}_given"))
            times["ours_fit"].append(t["fit_seconds"])
            start = time.perf_counter()
            learnt = HillClimbSearch(data, state_names=state_names).estimate(
                scoring_method="bic-d", tabu_length=100, epsilon=1e-4, show_progress=False
            )
            times["pgmpy_learn"].append(time.perf_counter() - start)
            start = time.perf_counter()
            fitted = DiscreteBayesianNetwork(true_edges)
            fitted.add_nodes_from(truth.nodes())
            fitted.fit(data, estimator=DiscreteMLE(state_names=state_names))
            times["pgmpy_fit"].append(time.perf_counter() - start)
            template = gum.loadBN(bif)
            start = time.perf_counter()
            learner = gum.BNLearner(csv, template)
            learner.useGreedyHillClimbing()
            learner.useScoreBIC()
            learner.useNoPrior()
            agrum = learner.learnDAG()
            times["agrum_learn"].append(time.perf_counter() - start)
            start = time.perf_counter()
            learner = gum.BNLearner(csv, template)
            # aGrUM refuses maximum likelihood for a parent configuration never seen.
            learner.useSmoothingPrior(1e-12)
            learner.learnParameters(template.dag())
            times["agrum_fit"].append(time.perf_counter() - start)
        # pgmpy's memory in a run of its own (tracing allocations slows it: never while timed).
        tracemalloc.start()
        HillClimbSearch(data, state_names=state_names).estimate(
            scoring_method="bic-d", tabu_length=100, epsilon=1e-4, show_progress=False
        )
        pgmpy_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        ours_edges = [tuple(e) for e in m["structure"]["edges"]]
        ours_r_edges = [tuple(e) for e in m_r["structure"]["edges"]]
        agrum_edges = [(template.variable(a).name(), template.variable(b).name()) for (a, b) in agrum.arcs()]
        scorer = BIC(data, state_names=state_names)

        def bic_of(edges):
            g = DiscreteBayesianNetwork(edges)
            g.add_nodes_from(truth.nodes())
            return scorer.score(g)

        med = {k: statistics.median(v) for k, v in times.items()}
        climb_rows.append(
            f"| {name} | {rows} | {bic_of(true_edges):.2f} | {bic_of(ours_edges):.2f} | {bic_of(ours_r_edges):.2f} "
            f"| {bic_of(list(learnt.edges())):.2f} | {bic_of(agrum_edges):.2f} | {shd(true_edges, ours_edges)} "
            f"| {shd(true_edges, ours_r_edges)} | {shd(true_edges, list(learnt.edges()))} | {shd(true_edges, agrum_edges)} |"
        )
        speed_rows.append(
            f"| {name} | {rows} | {med['ours_learn']:.3f} ({med['ours_wall']:.3f}) | {med['ours_r_learn']:.3f} "
            f"| {med['pgmpy_learn']:.2f} | {med['agrum_learn']:.3f} "
            f"| {med['pgmpy_learn'] / med['ours_r_learn']:.0f}x | {med['agrum_learn'] / med['ours_r_learn']:.1f}x "
            f"| {med['ours_fit'] * 1000:.1f} | {med['pgmpy_fit'] * 1000:.1f} | {med['agrum_fit'] * 1000:.1f} |"
        )
        memory_rows.append(
            f"| {name} | {rows} | {os.path.getsize(csv) / 2**20:.1f} | "
            f"{'-' if ours_peak is None else f'{ours_peak:.0f}'} | {pgmpy_peak:.0f} |"
        )

    print("Scores of the true structure, relative difference from pgmpy's")
    print("| network | rows | BIC | BDeu (10) | K2 | pgmpy's extra K2 term | K2 with it |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(score_rows))
    print("\nTables of the true structure, largest |difference| of any entry from pgmpy's")
    print("| network | rows | maximum likelihood | BDeu (10) posterior mean |")
    print("|---|---|---|---|")
    print("\n".join(table_rows))
    print("\nHill climbing on BIC from the empty graph (every BIC by pgmpy's scorer; SHD against the truth; pyAgrum's DAG by learnDAG)")
    print(
        "| network | rows | BIC truth | BIC ours, one climb | BIC ours (2 restarts, the default) | BIC pgmpy | BIC pyAgrum "
        "| SHD ours, one climb | SHD ours, default | SHD pgmpy | SHD pyAgrum |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(climb_rows))
    print("\nSeconds (median of alternating rounds): hill climbing, and fitting the true structure's tables (ms)")
    print(
        "| network | rows | ours, one climb (whole process) | ours, default | pgmpy | pyAgrum | pgmpy / ours default | pyAgrum / ours default "
        "| fit ours | fit pgmpy | fit pyAgrum |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(speed_rows))
    print("\nMemory (MiB): ours is the whole process's peak resident set (data, counts, the search, the")
    print("pictures); pgmpy's is the peak of Python allocations (tracemalloc) during HillClimbSearch alone")
    print("| network | rows | CSV size | ours, whole process | pgmpy, search only |")
    print("|---|---|---|---|---|")
    print("\n".join(memory_rows))


if __name__ == "__main__":
    main()
