"""The engines through the Python package against the Python tools their users have, in one
process, in alternating rounds (ours, theirs, ours, ...), the same data and settings:

- ``cg.SOM`` against MiniSom 2.3.5 on the digits scaled to [0, 1]: a 20 x 20 map, online, 10,000
  samples, Gaussian neighbourhood, sigma 1 and learning rate 0.5 decaying as MiniSom's default
  (inverse time to a third), random initial codebook (configs/som_digits_online.toml's settings).
- ``cg.RBM`` against scikit-learn's BernoulliRBM: 64 hidden units, learning rate 0.1, batches of
  10, 20 epochs on the digits binarised at 0.5 (scikit-learn trains by PCD-1 without momentum;
  ours by the same: method "pcd", k 1, momentum 0).
- ``BayesianNetwork.query`` against pgmpy 1.1.2's VariableElimination on ALARM: 20 queries (a
  target and three observed variables from a forward sample), the engines built once.

Timed: the call a user makes (``fit``, ``query``), nothing else. Printed: the CPU, each side's
median and the ratio, and a check that both sides computed the same thing (map quality, the
pseudo-likelihood of the trained RBMs, the largest difference between the answers).

Setup: a virtual environment with the package (``pip install ./python``), then
    pip install pgmpy==1.1.2 --no-deps
    pip install -r scripts/peers/requirements-pgm.txt minisom==2.3.5
Usage: python scripts/peers/python_peers.py [--rounds 5]
"""

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import cg

ROOT = Path(__file__).resolve().parents[2]


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def digits():
    table = np.loadtxt(ROOT / "data" / "digits.csv", delimiter=",", skiprows=1)
    return np.ascontiguousarray(table[:, :-1] / 16.0)


def quantization_error(codebook, data):
    d2 = ((data[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=2)
    return float(np.sqrt(d2.min(axis=1)).mean())


def timed(f):
    start = time.perf_counter()
    out = f()
    return time.perf_counter() - start, out


def som_round(data, seed):
    from minisom import MiniSom

    def ours():
        return cg.SOM(
            20, 20, epochs=10, seed=seed, training="online", neighbourhood="gaussian", iterations_per_epoch=1000,
            learning_rate={"start": 0.5, "end": 0.5 / 3, "decay": "inverse_time"},
            radius={"start": 1.0, "end": 1.0 / 3, "decay": "inverse_time"}, init="random",
        ).fit(data)

    def theirs():
        som = MiniSom(20, 20, data.shape[1], sigma=1.0, learning_rate=0.5, neighborhood_function="gaussian",
                      random_seed=seed)
        som.random_weights_init(data)
        som.train_random(data, 10000)
        return som

    t_ours, s = timed(ours)
    t_theirs, m = timed(theirs)
    return t_ours, t_theirs, quantization_error(s.codebook.reshape(400, -1), data), quantization_error(
        m.get_weights().reshape(400, -1), data)


def pseudo_log_likelihood(w, b, c, v):
    """Sum over the pixels of log p(v_i | v_-i), w: visible x hidden."""
    softplus = lambda x: np.logaddexp(0.0, x)  # noqa: E731
    a = v @ w + c
    base = softplus(a).sum(axis=1)
    total = np.zeros(len(v))
    for i in range(v.shape[1]):
        delta = 1.0 - 2.0 * v[:, i]
        diff = -delta * b[i] - softplus(a + delta[:, None] * w[i][None, :]).sum(axis=1) + base
        total += -softplus(-diff)
    return float(total.mean())


def rbm_round(v, seed):
    from sklearn.neural_network import BernoulliRBM

    t_ours, r = timed(lambda: cg.RBM(64, learning_rate=0.1, batch_size=10, n_iter=20, random_state=seed,
                                      method="pcd", k=1, momentum=0.0).fit(v))
    t_theirs, s = timed(lambda: BernoulliRBM(n_components=64, learning_rate=0.1, batch_size=10, n_iter=20,
                                             random_state=seed).fit(v))
    ours = pseudo_log_likelihood(r.components_.T, r.intercept_visible_, r.intercept_hidden_, v)
    theirs = pseudo_log_likelihood(s.components_.T, s.intercept_visible_, s.intercept_hidden_, v)
    return t_ours, t_theirs, ours, theirs


def alarm_queries(n=20):
    from pgmpy.sampling import BayesianModelSampling
    from pgmpy.utils import get_example_model

    model = get_example_model("alarm")
    rng = random.Random(0)
    nodes = sorted(model.nodes())
    sample = BayesianModelSampling(model).forward_sample(size=n, seed=0, show_progress=False)
    qs = []
    for k in range(n):
        target = rng.choice(nodes)
        observed = rng.sample([x for x in nodes if x != target], 3)
        qs.append((target, {x: str(sample.iloc[k][x]) for x in observed}))
    return model, qs


def query_round(model, net, qs):
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(model)
    ours, theirs, diff = [], [], 0.0
    for target, evidence in qs:
        t, mine = timed(lambda: net.query(target, evidence))
        ours.append(t)
        t, phi = timed(lambda: ve.query([target], evidence=evidence, show_progress=False))
        theirs.append(t)
        for state, p in zip(phi.state_names[target], phi.values):
            diff = max(diff, abs(mine[str(state)] - float(p)))
    return statistics.mean(ours), statistics.mean(theirs), diff


def show(what, ours, theirs, unit, note):
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"| {what} | {a * unit:.3f} | {b * unit:.3f} | {b / a:.1f}x | {note} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"CPU: {cpu()}, {os.cpu_count()} cores; {args.rounds} alternating rounds, medians\n")
    print("| workload | ours | theirs | theirs / ours | same work |")
    print("|---|---:|---:|---:|---|")

    data = digits()
    runs = [som_round(data, seed) for seed in range(args.rounds)]
    show("cg.SOM vs MiniSom, digits, 20x20 online, 10,000 samples (s)", [r[0] for r in runs], [r[1] for r in runs], 1,
         f"QE {np.mean([r[2] for r in runs]):.4f} vs {np.mean([r[3] for r in runs]):.4f}")

    v = (data > 0.5).astype(np.float64)
    runs = [rbm_round(v, seed) for seed in range(args.rounds)]
    show("cg.RBM vs BernoulliRBM, digits, 64 hidden, PCD-1, 20 epochs (s)", [r[0] for r in runs],
         [r[1] for r in runs], 1,
         f"pseudo-log-likelihood {np.mean([r[2] for r in runs]):.2f} vs {np.mean([r[3] for r in runs]):.2f}")

    from pgmpy.readwrite import BIFWriter

    model, qs = alarm_queries()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "alarm.bif")
        BIFWriter(model).write_bif(path)
        net = cg.BayesianNetwork.from_bif(path)
    runs = [query_round(model, net, qs) for _ in range(args.rounds)]
    show("BayesianNetwork.query vs pgmpy VariableElimination, ALARM (ms per query)", [r[0] for r in runs],
         [r[1] for r in runs], 1e3, f"largest difference {max(r[2] for r in runs):.1e}")


if __name__ == "__main__":
    main()
