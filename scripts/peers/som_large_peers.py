"""Peers of scripts/som_large_bench.sh on the same files: somoclu (batch, 20 x 20, 3 epochs,
radius 10 -> 1) and MiniSom (online, one pass over the samples, 20 x 20, sigma 1.0, rate 0.5),
each with the whole file loaded in memory (neither streams). Prints seconds per epoch and the
process's peak resident memory; one peer per process so the peaks do not mix.

    /tmp/somenv/bin/python scripts/peers/som_large_peers.py DIR SIZE [somoclu|minisom]

(DIR and the files as som_large_bench.sh writes them; setup as in som_peers.py.)
"""

import resource
import subprocess
import sys
import time

import numpy as np


def run(path, peer):
    data = np.load(path).astype(np.float32)
    if peer == "somoclu":
        import somoclu

        som = somoclu.Somoclu(20, 20, compactsupport=True, initialization="random")
        start = time.perf_counter()
        som.train(data, epochs=3, radius0=10, radiusN=1)
        per_epoch = (time.perf_counter() - start) / 3
    else:
        from minisom import MiniSom

        som = MiniSom(20, 20, data.shape[1], sigma=1.0, learning_rate=0.5, random_seed=0)
        som.random_weights_init(data)
        start = time.perf_counter()
        som.train(data, len(data), random_order=True)
        per_epoch = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{peer:8} {len(data):>10} {per_epoch:>12.3g} s/epoch {rss_mb:>10.0f} MB peak RSS")


if __name__ == "__main__":
    folder, size = sys.argv[1], sys.argv[2]
    path = f"{folder}/clusters_{size}x64.npy"
    if len(sys.argv) > 3:
        run(path, sys.argv[3])
    else:
        for peer in ["somoclu", "minisom"]:
            subprocess.run([sys.executable, __file__, folder, size, peer], check=False)
