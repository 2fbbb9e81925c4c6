"""What the Python layer costs per call: whole calls on workloads whose engine time is tiny, so
each median is an upper bound on the overhead (argument conversion, the engine thread, the GIL
release, results back to Python). Run from the repository root with the package installed:
`python scripts/python_overhead.py`. Prints the CPU and one line per call."""

import platform
import statistics
import time

import numpy as np

import cg


def median_us(call, rounds=300):
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times)


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


net = cg.BayesianNetwork.from_bif("results/asia/network.bif")
som = cg.SOM(5, 5, epochs=2).fit(np.random.default_rng(0).random((50, 3)))
x = np.random.default_rng(1).random(3)
print(f"CPU: {cpu()}")
print(f"BayesianNetwork.query (asia, 2 evidence): {median_us(lambda: net.query('lung', {'smoke': 'yes', 'xray': 'yes'})):.1f} us per call")
print(f"SOM.winner (25 units, 3 features): {median_us(lambda: som.winner(x)):.1f} us per call")
print(f"run('configs/exercise_4.toml') (5-node graph, all derivatives): {median_us(lambda: cg.run('configs/exercise_4.toml'), 100):.1f} us per call")
