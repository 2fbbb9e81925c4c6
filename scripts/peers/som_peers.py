"""Peer timings for the SOM workload of configs/som_digits_online.toml (MiniSom, online) and
configs/som_digits.toml (somoclu, batch): the 8x8 digits scaled to [0, 1], a 20 x 20 rectangular
planar map, Gaussian neighbourhood.

- MiniSom 2.3.5: sigma 1.0, learning rate 0.5 (default asymptotic decay, i.e. inverse-time to a
  third), random_weights_init, train_random for 10,000 iterations, seed 0.
- somoclu 1.7.6: 10 batch epochs, radius 10 -> 1 linear (its Gaussian has sigma = radius / 2 and
  is cut off at the radius), random initial codebook; run once per thread count (OMP_NUM_THREADS).

Only training is timed (median of 5 runs, seeds 0-9; quality is the mean over them). Quantization error = mean distance from a sample
to its best-matching unit; topographic error = share of samples whose two best units are not among
each other's 8 neighbours: the definitions of experiments' metrics.json (and MiniSom's own).

Setup (somoclu's source package needs an old setuptools):
    python3 -m venv /tmp/somenv
    /tmp/somenv/bin/pip install -r scripts/peers/requirements-som.txt
    /tmp/somenv/bin/pip install --no-build-isolation somoclu==1.7.6
Usage: /tmp/somenv/bin/python scripts/peers/som_peers.py
Ours:  RAYON_NUM_THREADS=1 cargo run --release -p experiments -- --out /tmp/som configs/som_digits.toml
       (timing.json: seconds)
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
REPEATS = 10


def digits():
    table = np.loadtxt(ROOT / "data" / "digits.csv", delimiter=",", skiprows=1)
    return np.ascontiguousarray(table[:, :-1] / 16.0)


def quality(codebook, data, cols):
    """codebook: (units, dim) row-major over a rows x cols lattice."""
    d2 = ((data[:, None, :] - codebook[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(d2, axis=1, kind="stable")[:, :2]
    qe = float(np.sqrt(d2[np.arange(len(data)), order[:, 0]]).mean())
    r, c = order // cols, order % cols
    adjacent = (np.abs(r[:, 0] - r[:, 1]) <= 1) & (np.abs(c[:, 0] - c[:, 1]) <= 1)
    return qe, float(1.0 - adjacent.mean())


def minisom(data):
    from minisom import MiniSom

    times, results = [], []
    for seed in range(REPEATS):
        som = MiniSom(20, 20, data.shape[1], sigma=1.0, learning_rate=0.5,
                      neighborhood_function="gaussian", random_seed=seed)
        som.random_weights_init(data)
        t0 = time.perf_counter()
        som.train_random(data, 10000)
        times.append(time.perf_counter() - t0)
        # MiniSom's weights are (x, y, dim) with x the first lattice index: a row-major 20 x 20.
        results.append(quality(som.get_weights().reshape(400, -1), data, 20))
    return summary(times, results)


def summary(times, results):
    qe, te = np.array(results).T
    return {"seconds": float(np.median(times)), "qe": float(qe.mean()), "qe_min": float(qe.min()),
            "qe_max": float(qe.max()), "te": float(te.mean())}


def show(label, r):
    print(f"{label}: {r['seconds']:.3f} s (median of {REPEATS}), QE {r['qe']:.4f} "
          f"(mean; {r['qe_min']:.4f}-{r['qe_max']:.4f}), TE {r['te']:.4f}")


def somoclu_child(threads):
    """Runs in a fresh process so that OMP_NUM_THREADS takes effect."""
    import somoclu

    data = digits().astype(np.float32)
    times, results = [], []
    for seed in range(REPEATS):
        np.random.seed(seed)  # somoclu's C++ random codebook does not take a seed
        som = somoclu.Somoclu(20, 20, maptype="planar", gridtype="rectangular", initialization="random")
        t0 = time.perf_counter()
        som.train(data, epochs=10, radius0=10, radiusN=1, radiuscooling="linear")
        times.append(time.perf_counter() - t0)
        # codebook is (n_rows, n_columns, dim).
        results.append(quality(som.codebook.reshape(400, -1).astype(np.float64), data.astype(np.float64), 20))
    print(json.dumps(summary(times, results)))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--somoclu-child":
        somoclu_child(int(sys.argv[2]))
        return
    data = digits()
    show("MiniSom online, 10,000 iterations, seeds 0-9", minisom(data))
    for threads in (1, 2):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, __file__, "--somoclu-child", str(threads)],
                             env=env, check=True, capture_output=True, text=True).stdout
        show(f"somoclu batch, 10 epochs, {threads} thread(s)", json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
