"""Loads saved models with the `safetensors` package and numpy, and recomputes numbers the
toolkit reported from them (optional; never used by the build or the tests):

- results/model_multitask_wine: the test accuracy, from a forward pass over the test rows
  (test_rows in metrics.json), standardised as the toolkit did (training-split mean and std);
- results/rbm_wine_gaussian: the exact mean log-likelihood, by enumerating the 2^8 hidden states;
- results/xor: W1 read as 4 x 2 (row-major, out x in) and the four predictions.

Run from the repository root: python3 scripts/peers/check_saved_models.py
"""

import csv
import json
import math
from itertools import product

import numpy as np
from safetensors.numpy import load_file


def metrics(name):
    with open(f"results/{name}/metrics.json") as f:
        return json.load(f)


def wine():
    with open("data/wine.csv") as f:
        rows = list(csv.DictReader(f))
    names = [k for k in rows[0] if k != "target"]
    x = np.array([[float(r[k]) for k in names] for r in rows])
    y = np.array([int(float(r["target"])) for r in rows])
    return names, x, y


def check_multitask():
    m = metrics("model_multitask_wine")
    p = load_file("results/model_multitask_wine/model.safetensors")
    names, x, y = wine()
    test = np.array(m["test_rows"])
    train = np.setdiff1d(np.arange(len(y)), test)
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    z = (x - mean) / std
    inputs = [i for i, n in enumerate(names) if n != "alcohol"]
    h = np.maximum(p["W1"] @ z[test][:, inputs].T + p["b1"][:, None], 0.0)
    o = p["W2"] @ h + p["b2"][:, None]
    accuracy = float((o.argmax(axis=0) == y[test]).mean())
    print(f"model_multitask_wine test accuracy: recomputed {accuracy}, reported {m['test_accuracy']}")
    assert abs(accuracy - m["test_accuracy"]) < 1e-12


def check_gaussian_rbm():
    m = metrics("rbm_wine_gaussian")
    p = load_file("results/rbm_wine_gaussian/model.safetensors")
    w, b, c = p["W"], p["visible_bias"], p["hidden_bias"]
    _, x, _ = wine()
    v = (x - x.mean(axis=0)) / x.std(axis=0)
    nv, nh = w.shape
    terms = []
    for bits in product([0.0, 1.0], repeat=nh):
        h = np.array(bits)
        mu = b + w @ h
        terms.append(c @ h + 0.5 * mu @ mu - 0.5 * b @ b)
    top = max(terms)
    log_z = top + math.log(sum(math.exp(t - top) for t in terms)) + 0.5 * nv * math.log(2 * math.pi)
    free = 0.5 * ((v - b) ** 2).sum(axis=1) - np.logaddexp(0.0, c + v @ w).sum(axis=1)
    ll = float((-free - log_z).mean())
    print(f"rbm_wine_gaussian exact log-likelihood: recomputed {ll}, reported {m['exact_log_likelihood']}")
    assert abs(ll - m["exact_log_likelihood"]) < 1e-9 * abs(ll)


def check_xor():
    p = load_file("results/xor/model.safetensors")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float).T
    h = np.tanh(p["W1"] @ x + p["b1"][:, None])
    o = 1 / (1 + np.exp(-(p["W2"] @ h + p["b2"][:, None])))
    print(f"xor: W1 {p['W1'].shape}, predictions {np.round(o, 3).tolist()}")
    assert p["W1"].shape == (4, 2) and (o.round() == [[0, 1, 1, 0]]).all()


if __name__ == "__main__":
    check_multitask()
    check_gaussian_rbm()
    check_xor()
