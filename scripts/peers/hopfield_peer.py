"""Peer timing for a synchronous Hopfield sweep in numpy: s <- sign(W s), keeping s_i where the
field is zero, W symmetric float64 (the same work as `cargo bench -p cg-hopfield -- sync`).

Measured as criterion measures ours (and as bench_all.sh reads it): 10 samples, each the mean
time of a batch of back-to-back sweeps, and their median. The median of single sweeps, which
leaves out the slow ones a run of sweeps pays for, is printed beside it for reference only.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/peers/hopfield_peer.py [N ...]
"""

import sys
import time

import numpy as np


def sweep(w, s):
    h = w @ s
    return np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))


def main():
    for n in [int(a) for a in sys.argv[1:]] or [1000, 10000]:
        rng = np.random.default_rng(1)
        w = rng.uniform(-1, 1, (n, n))
        w = np.triu(w, 1)
        w = w + w.T
        s = rng.choice([-1.0, 1.0], n)
        reps = 200 if n <= 2000 else 10
        for _ in range(reps):  # warm-up: W in cache, OpenBLAS's threads started
            s2 = sweep(w, s)
        samples = []
        for _ in range(10):
            t0 = time.perf_counter()
            for _ in range(reps):
                s2 = sweep(w, s)
            samples.append((time.perf_counter() - t0) / reps)
        singles = []
        for _ in range(reps):
            t0 = time.perf_counter()
            s2 = sweep(w, s)
            singles.append(time.perf_counter() - t0)
        t = float(np.median(samples))
        one = float(np.median(singles))
        print(f"numpy sync sweep N={n}: {t * 1e3:.3f} ms, {t / (n * n) * 1e9:.3f} ns/weight", s2[0])
        print(f"  (median of single sweeps: {one / (n * n) * 1e9:.3f} ns/weight)")


if __name__ == "__main__":
    main()
