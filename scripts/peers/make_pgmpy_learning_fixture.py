"""Writes crates/pgm/tests/fixtures/pgmpy_learning.json: pgmpy's scores and fitted tables for two
small data sets, the outside reference of crates/pgm/tests/pgmpy_learning.rs. Run again only to
refresh it (pgmpy 1.1.2, setup as in bn_learn_peers.py):
    /tmp/pgv/bin/python scripts/peers/make_pgmpy_learning_fixture.py

Data sets (both written into the fixture, so the test needs nothing else):
- `asia`: 2,000 rows drawn by `experiments sample data/networks/asia.bif -n 2000 --seed 0`;
- `ternary`: 600 rows of four variables with 3 or 4 states (numbers and words), drawn here from
  a fixed random chain with numpy's seed 7, so that some parent configurations never occur
  (where pgmpy's K2 differs from the textbook's, see bn_learn_peers.py).
For each data set and structure: pgmpy's BIC, BDeu (ess 10 and 2.5) and K2, each variable's
local scores, and the tables of DiscreteMLE and DiscreteBayesianEstimator (BDeu ess 10, K2),
states in pgmpy's order (sorted, as our reader sorts them).
"""

import json
import subprocess

import numpy as np
import pandas as pd
from pgmpy.estimators import BIC, BDeu, K2
from pgmpy.models import DiscreteBayesianNetwork
from pgmpy.parameter_estimator import DiscreteBayesianEstimator, DiscreteMLE

OUT = "crates/pgm/tests/fixtures/pgmpy_learning.json"


def ternary():
    rng = np.random.default_rng(7)
    n = 600
    a = rng.choice(["low", "mid", "high"], size=n, p=[0.5, 0.3, 0.2])
    b = np.where(rng.random(n) < 0.7, np.select([a == "low", a == "mid"], ["1", "2"], "3"), rng.choice(["1", "2", "3"], size=n))
    c = np.where(rng.random(n) < 0.6, np.select([b == "1", b == "2"], ["x", "y"], "z"), rng.choice(["x", "y", "z", "w"], size=n))
    d = np.where((a == "high") & (c == "w"), "10", np.where(rng.random(n) < 0.5, "2", "9"))
    return pd.DataFrame({"a": a, "b": b, "c": c, "d": d})


def case(name, data, structures):
    data = data.astype(str)
    state_names = {v: sorted(data[v].unique(), key=lambda s: (float(s), s) if all(_num(x) for x in data[v].unique()) else (0, s)) for v in data.columns}
    out = {"csv": data.to_csv(index=False), "state_names": state_names, "structures": []}
    for edges in structures:
        model = DiscreteBayesianNetwork(edges)
        model.add_nodes_from(data.columns)
        scores = {
            "bic": BIC(data, state_names=state_names),
            "bdeu10": BDeu(data, equivalent_sample_size=10, state_names=state_names),
            "bdeu2.5": BDeu(data, equivalent_sample_size=2.5, state_names=state_names),
            "k2": K2(data, state_names=state_names),
        }
        entry = {"edges": edges, "total": {}, "local": {}}
        for key, scorer in scores.items():
            entry["total"][key] = scorer.score(model)
            entry["local"][key] = {v: scorer.local_score(v, sorted(model.get_parents(v))) for v in data.columns}
        tables = {}
        for key, estimator in [
            ("mle", DiscreteMLE(state_names=state_names)),
            ("bdeu10", DiscreteBayesianEstimator(state_names=state_names, prior_type="BDeu", equivalent_sample_size=10)),
            ("k2", DiscreteBayesianEstimator(state_names=state_names, prior_type="K2")),
        ]:
            fitted = model.copy()
            fitted.fit(data, estimator=estimator)
            tables[key] = {}
            for cpd in fitted.get_cpds():
                # Rows: one per parent configuration (parents sorted by name, the last fastest),
                # each the child's distribution in its state order.
                tables[key][cpd.variable] = {
                    "parents": list(cpd.variables[1:]),
                    "rows": np.asarray(cpd.get_values()).T.tolist(),
                }
        entry["tables"] = tables
        out["structures"].append(entry)
    return name, out


def _num(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def main():
    asia_csv = subprocess.run(
        ["target/release/experiments", "sample", "data/networks/asia.bif", "-n", "2000", "--seed", "0"],
        check=True, capture_output=True, text=True,
    ).stdout
    from io import StringIO

    asia = pd.read_csv(StringIO(asia_csv), dtype=str, keep_default_na=False)
    true_asia = [("asia", "tub"), ("tub", "either"), ("lung", "either"), ("smoke", "lung"), ("smoke", "bronc"),
                 ("either", "xray"), ("either", "dysp"), ("bronc", "dysp")]
    cases = dict([
        case("asia", asia, [true_asia, [("smoke", "dysp"), ("xray", "dysp"), ("asia", "dysp"), ("lung", "xray")], []]),
        case("ternary", ternary(), [[("a", "b"), ("b", "c"), ("a", "d"), ("c", "d")], [("d", "a"), ("c", "a"), ("b", "a")], []]),
    ])
    import pgmpy

    with open(OUT, "w") as f:
        json.dump({"pgmpy": pgmpy.__version__, "cases": cases}, f, indent=1)
    print(f"-> {OUT}")


if __name__ == "__main__":
    main()
