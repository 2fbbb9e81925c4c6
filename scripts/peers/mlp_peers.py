"""Peer timings for the mlp configs: seconds per training epoch (forward, backward and update
only; data loading, start-up and JIT compilation excluded) on the same data sizes, architecture
and schedule as configs/digits_mlp.toml and configs/bench_mlp.toml.

Peers: numpy hand-written backprop (float64 and float32), scikit-learn's MLPClassifier (sgd, no
momentum, no regularisation, no early stopping), and JAX with jit (float64 and float32; one jitted
step per mini-batch, run in a Python loop as users write it).

Usage (from the repository root, in a virtual environment with requirements.txt installed):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 scripts/peers/mlp_peers.py [digits|bench ...]
"""

import os
import sys
import time
import warnings

import numpy as np


def digits():
    raw = np.loadtxt(os.path.join("data", "digits.csv"), delimiter=",", skiprows=1)
    x, y = raw[:, :-1], raw[:, -1].astype(int)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    n_test = round(0.2 * len(x))
    tr = order[n_test:]
    x = x[tr]
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1
    return dict(name="digits_mlp", x=(x - mean) / std, y=y[tr], layers=[64, 64, 10], lr=0.1, batch=32, epochs=50)


def bench():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8192, 256))
    teacher = rng.standard_normal((256, 10))
    y = (x @ teacher).argmax(1)
    return dict(name="bench_mlp", x=x, y=y, layers=[256, 512, 512, 10], lr=0.05, batch=128, epochs=5)


def init(layers, dtype, seed=0):
    rng = np.random.default_rng(seed)
    ws = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(dtype) for a, b in zip(layers, layers[1:])]
    bs = [np.zeros(b, dtype) for b in layers[1:]]
    return ws, bs


def numpy_epoch_seconds(task, dtype):
    x, y = task["x"].astype(dtype), task["y"]
    ws, bs = init(task["layers"], dtype)
    onehot = np.eye(task["layers"][-1], dtype=dtype)[y]
    rng = np.random.default_rng(1)
    lr, batch = dtype(task["lr"]), task["batch"]
    times = []
    for _ in range(task["epochs"]):
        t0 = time.perf_counter()
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            hs = [x[idx]]
            for i, (w, b) in enumerate(zip(ws, bs)):
                a = hs[-1] @ w + b
                hs.append(np.maximum(a, 0) if i < len(ws) - 1 else a)
            logits = hs[-1]
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = (p - onehot[idx]) / len(idx)
            for i in reversed(range(len(ws))):
                gw, gb = hs[i].T @ g, g.sum(0)
                if i > 0:
                    g = (g @ ws[i].T) * (hs[i] > 0)
                ws[i] -= lr * gw
                bs[i] -= lr * gb
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def sklearn_epoch_seconds(task, dtype):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=tuple(task["layers"][1:-1]), activation="relu", solver="sgd",
                        learning_rate_init=task["lr"], batch_size=task["batch"], momentum=0.0,
                        nesterovs_momentum=False, alpha=0.0, max_iter=task["epochs"], tol=0.0,
                        n_iter_no_change=10**9, shuffle=True, random_state=0)
    x = task["x"].astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(x, task["y"])
        return (time.perf_counter() - t0) / task["epochs"]


def jax_epoch_seconds(task, dtype):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", dtype == np.float64)
    ws, bs = init(task["layers"], dtype)
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(ws, bs)]
    x = jnp.asarray(task["x"].astype(dtype))
    onehot = jnp.asarray(np.eye(task["layers"][-1], dtype=dtype)[task["y"]])

    def loss(params, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                h = jax.nn.relu(h)
        return -(jax.nn.log_softmax(h) * yb).sum(1).mean()

    @jax.jit
    def step(params, xb, yb):
        grads = jax.grad(loss)(params, xb, yb)
        return [(w - task["lr"] * gw, b - task["lr"] * gb) for (w, b), (gw, gb) in zip(params, grads)]

    rng = np.random.default_rng(1)
    batch = task["batch"]
    # Compile for both batch shapes (full batches and the last partial one) before timing.
    n = len(task["x"])
    for size in {batch, n % batch or batch}:
        jax.block_until_ready(step(params, x[:size], onehot[:size]))
    times = []
    for _ in range(task["epochs"]):
        t0 = time.perf_counter()
        order = jnp.asarray(rng.permutation(n))
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            params = step(params, x[idx], onehot[idx])
        jax.block_until_ready(params)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    tasks = {"digits": digits, "bench": bench}
    for key in sys.argv[1:] or ["digits", "bench"]:
        task = tasks[key]()
        flops = 6 * sum(a * b + b for a, b in zip(task["layers"], task["layers"][1:])) * len(task["x"])
        for peer, fn in [("numpy", numpy_epoch_seconds), ("scikit-learn", sklearn_epoch_seconds), ("jax-jit", jax_epoch_seconds)]:
            for dtype in (np.float64, np.float32):
                s = fn(task, dtype)
                print(f"{task['name']:11s} {peer:13s} {np.dtype(dtype).name:8s} {s:9.4f} s/epoch  {flops / s / 1e9:7.1f} GFLOP/s",
                      flush=True)


if __name__ == "__main__":
    main()
