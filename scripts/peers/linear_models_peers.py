"""scikit-learn on the same data, split and objective as the Table 11.2 configs.

For each config the script reads the stored results (results/<config>/metrics.json) for the test
rows, rebuilds the same standardised training set, fits the scikit-learn model, and evaluates
*our* objective, mean loss + lambda/2 * ||theta||^2 over every weight and the intercept, at
scikit-learn's solution, next to the objective our graph reached and the test accuracy (or R^2).
LinearSVC (LIBLINEAR) regularises the intercept as we do, so its objective is the same function;
LogisticRegression leaves the intercept out of the penalty, so its optimum differs a little.

Usage (from the repository root, requirements.txt installed):
    python3 scripts/peers/linear_models_peers.py
"""

import json

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC


def load(config, dataset):
    raw = np.loadtxt(f"data/{dataset}.csv", delimiter=",", skiprows=1)
    x, y = raw[:, :-1], raw[:, -1]
    m = json.load(open(f"results/{config}/metrics.json"))
    test = np.zeros(len(x), bool)
    test[m["test_rows"]] = True
    mean, std = x[~test].mean(0), x[~test].std(0)
    std[std == 0] = 1
    x = (x - mean) / std
    return x[~test], y[~test], x[test], y[test], m


def objective(loss, theta, x, y, lam):
    z = x @ theta[:, :-1].T + theta[:, -1]
    if loss == "logistic":
        s = 2 * y - 1
        per = np.logaddexp(0, -s * z[:, 0])
    elif loss in ("hinge", "squared_hinge"):
        s = 2 * y - 1
        m = np.maximum(0, 1 - s * z[:, 0])
        per = m if loss == "hinge" else m**2
    elif loss == "squared_error":
        per = (z[:, 0] - y) ** 2
    else:  # softmax cross-entropy
        zmax = z.max(1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(1))
        per = lse - z[np.arange(len(y)), y.astype(int)]
    return per.mean() + lam / 2 * (theta**2).sum()


def main():
    rows = []
    # Linear regression (diabetes, target standardised like the config).
    xtr, ytr, xte, yte, m = load("linreg_diabetes", "diabetes")
    mu, sd = ytr.mean(), ytr.std()
    ytr, yte = (ytr - mu) / sd, (yte - mu) / sd
    lr = LinearRegression().fit(xtr, ytr)
    theta = np.hstack([lr.coef_, lr.intercept_])[None, :]
    rows.append(("linreg_diabetes", "LinearRegression", objective("squared_error", theta, xtr, ytr, 0.0), m["objective"],
                 f"R2 {lr.score(xte, yte):.3f}", f"R2 {m['test_r2']:.3f}"))
    for config, dataset, loss, make in [
        ("logreg_breast_cancer", "breast_cancer", "logistic", lambda c: LogisticRegression(C=c, tol=1e-12, max_iter=100000)),
        ("svm_l1_breast_cancer", "breast_cancer", "hinge", lambda c: LinearSVC(C=c, loss="hinge", tol=1e-10, max_iter=10**6)),
        ("svm_l2_breast_cancer", "breast_cancer", "squared_hinge", lambda c: LinearSVC(C=c, loss="squared_hinge", tol=1e-10, max_iter=10**6)),
        ("softmax_iris", "iris", "softmax", lambda c: LogisticRegression(C=c, tol=1e-12, max_iter=100000)),
        ("softmax_wine", "wine", "softmax", lambda c: LogisticRegression(C=c, tol=1e-12, max_iter=100000)),
    ]:
        xtr, ytr, xte, yte, m = load(config, dataset)
        lam = m["weight_decay"]
        model = make(1.0 / (len(ytr) * lam)).fit(xtr, ytr)
        coef = np.atleast_2d(model.coef_)
        theta = np.hstack([coef, np.atleast_1d(model.intercept_)[:, None]])
        rows.append((config, type(model).__name__, objective(loss, theta, xtr, ytr, lam), m["objective"],
                     f"acc {model.score(xte, yte):.3f}", f"acc {m['test_accuracy']:.3f}"))
    for r in rows:
        print(f"{r[0]:22s} {r[1]:18s} objective sklearn {r[2]:.10f}  ours {r[3]:.10f}  test sklearn {r[4]}  ours {r[5]}")
    # Truncated SVD (digits, standardised training rows).
    raw = np.loadtxt("data/digits.csv", delimiter=",", skiprows=1)[:, :-1]
    mm = json.load(open("results/mf_digits/metrics.json"))
    test = np.zeros(len(raw), bool)
    test[mm["test_rows"]] = True
    x = raw[~test]
    std = x.std(0)
    std[std == 0] = 1
    x = (x - x.mean(0)) / std
    sv = TruncatedSVD(n_components=5, algorithm="arpack", random_state=0).fit(x).singular_values_
    ours = json.load(open("results/svd_digits/metrics.json"))["learned_singular_values"]
    print("svd_digits             TruncatedSVD       singular values sklearn", np.round(sv, 6), " ours", np.round(ours, 6))


if __name__ == "__main__":
    main()
