"""Peer for configs/rbm_digits.toml: scikit-learn's BernoulliRBM (PCD-1) with the same hidden size
(64), learning rate (0.1), batch size (10) and epochs (20) on the same data (the digits scaled to
[0, 1] and binarised at 0.5). Prints seconds per epoch (median of 5 fits, seeds 0-4) and the mean
exact pseudo-log-likelihood over the data, sum over every pixel of log p(v_i | v_-i), computed
from the fitted parameters with the same formula as ours; scikit-learn's own `score_samples` (a
one-random-pixel estimate of the same number) is printed too.

Usage: python3 scripts/peers/rbm_peer.py   (numpy, scikit-learn from requirements.txt)
Ours:  cargo run --release -p experiments -- configs/rbm_digits.toml   (timing.json, metrics.json)
"""

import time
from pathlib import Path

import numpy as np
from sklearn.neural_network import BernoulliRBM

ROOT = Path(__file__).resolve().parents[2]


def softplus(x):
    return np.logaddexp(0.0, x)


def pseudo_log_likelihood(rbm, v):
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_  # w: nv x nh
    a = v @ w + c
    base = softplus(a).sum(axis=1)
    total = np.zeros(len(v))
    for i in range(v.shape[1]):
        delta = 1.0 - 2.0 * v[:, i]
        shifted = softplus(a + delta[:, None] * w[i][None, :]).sum(axis=1)
        diff = -delta * b[i] - shifted + base  # F(v') - F(v)
        total += -softplus(-diff)
    return float(total.mean())


def main():
    table = np.loadtxt(ROOT / "data" / "digits.csv", delimiter=",", skiprows=1)
    v = (table[:, :-1] / 16.0 > 0.5).astype(np.float64)
    times, pls, scores = [], [], []
    for seed in range(5):
        rbm = BernoulliRBM(n_components=64, learning_rate=0.1, batch_size=10, n_iter=20, random_state=seed)
        t0 = time.perf_counter()
        rbm.fit(v)
        times.append((time.perf_counter() - t0) / 20)
        pls.append(pseudo_log_likelihood(rbm, v))
        scores.append(float(rbm.score_samples(v).mean()))
    print(f"scikit-learn BernoulliRBM: {np.median(times):.4f} s/epoch (median of 5), "
          f"pseudo-log-likelihood {np.mean(pls):.3f} (mean; {min(pls):.3f} to {max(pls):.3f}), "
          f"score_samples {np.mean(scores):.3f}")


if __name__ == "__main__":
    main()
