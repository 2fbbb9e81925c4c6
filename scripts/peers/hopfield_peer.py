"""Peer timing for a synchronous Hopfield sweep in numpy: s <- sign(W s), keeping s_i where the
field is zero, W symmetric float64 (the same work as `cargo bench -p cg-hopfield -- sync`).
Prints the median time per sweep and nanoseconds per weight.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/peers/hopfield_peer.py [N ...]
"""

import sys
import time

import numpy as np


def main():
    for n in [int(a) for a in sys.argv[1:]] or [1000, 10000]:
        rng = np.random.default_rng(1)
        w = rng.uniform(-1, 1, (n, n))
        w = np.triu(w, 1)
        w = w + w.T
        s = rng.choice([-1.0, 1.0], n)
        reps = 200 if n <= 2000 else 10
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            h = w @ s
            s2 = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))
            times.append(time.perf_counter() - t0)
        t = float(np.median(times))
        print(f"numpy sync sweep N={n}: {t * 1e3:.3f} ms, {t / (n * n) * 1e9:.3f} ns/weight", s2[0])


if __name__ == "__main__":
    main()
