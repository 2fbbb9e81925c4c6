"""The `cg` package against the binary's stored results and the exact answers."""

import json
import math
import pathlib

import pytest

import cg

ROOT = pathlib.Path(__file__).resolve().parents[2]


def stored(name):
    folder = ROOT / "results" / name
    path = folder / "metrics.json"
    if not path.exists():
        path = folder / "graph.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "name",
    [
        "exercise_4", "fig11_9", "xor", "asia", "misconception", "hopfield_digits", "som_iris", "best_fit_two_nodes",
        "asia_learn", "bm_small", "hopfield_capacity", "hopfield_tsp", "ising", "model_xor", "rbm_wine_gaussian",
        "rnn_sine", "svd_digits", "model_huber_diabetes", "model_mf_embeddings", "model_early_stopping_digits",
        "model_residual_digits", "model_sparse_autoencoder_digits",
    ],
)
def test_run_gives_the_binary_numbers_bit_for_bit(name):
    # One config of every kind (and more for some). The stored results are the binary's;
    # JSON's shortest round-trip numbers compare exactly.
    assert cg.run(str(ROOT / "configs" / f"{name}.toml")) == stored(name)


def test_run_takes_toml_text_and_overrides():
    text = (ROOT / "configs" / "exercise_4.toml").read_text()
    assert cg.run(text) == stored("exercise_4")
    x = math.pi / 4
    g = cg.run(text, overrides={"graph.inputs.x": x})["gradient"]["x"]
    chain = 1.0
    for _ in range(4):
        chain *= math.cos(x) - math.sin(x)
        x = math.sin(x) + math.cos(x)
    assert abs(g - chain) < 1e-14


def test_run_writes_a_results_folder_only_when_asked(tmp_path):
    out = tmp_path / "xor"
    metrics = cg.run(str(ROOT / "configs" / "xor.toml"), overrides={"train.epochs": 5}, out=str(out))
    assert json.loads((out / "metrics.json").read_text()) == metrics
    assert (out / "loss.png").exists()


def test_bad_input_raises_config_error_with_the_binary_message():
    with pytest.raises(cg.ConfigError) as e:
        cg.run('kind = "graph"\n[graph]\nnodez = 1\n')
    assert str(e.value).startswith("line 3, column 1: unknown field `nodez`")
    assert isinstance(e.value, ValueError)
    with pytest.raises(cg.ConfigError, match="kind: unknown kind `hopfeld`"):
        cg.run('kind = "hopfeld"\n')
    with pytest.raises(cg.ConfigError, match="an override is key.path=value|unknown field"):
        cg.run(str(ROOT / "configs" / "xor.toml"), overrides={"train.epochz": 3})


def test_a_divergence_raises_run_error():
    text = 'kind = "graph"\n[graph]\ninputs = { x = 2.0 }\noutputs = ["o"]\n[graph.nodes]\no = "log(x - 5)"\n'
    with pytest.raises(cg.RunError, match="NaN"):
        cg.run(text)


def test_bayesian_network_queries_are_exact():
    net = cg.BayesianNetwork.from_bif(str(ROOT / "results" / "asia" / "network.bif"))
    assert net.variables[:2] == ["asia", "tub"]
    # Lauritzen and Spiegelhalter's table: P(lung = yes | smoke = yes) = 0.1.
    assert net.query("lung", {"smoke": "yes"}) == {"yes": 0.1, "no": 0.9}
    burglary = cg.BayesianNetwork.from_bif_text(
        "network alarm {}\n"
        "variable burglary { type discrete [ 2 ] { yes, no }; }\n"
        "variable alarm { type discrete [ 2 ] { yes, no }; }\n"
        "probability ( burglary ) { table 0.01, 0.99; }\n"
        "probability ( alarm | burglary ) { (yes) 0.95, 0.05; (no) 0.01, 0.99; }\n"
    )
    p = burglary.query("burglary", {"alarm": "yes"})["yes"]
    assert abs(p - 0.0095 / (0.0095 + 0.0099)) < 1e-15
    with pytest.raises(KeyError, match="has no state `maybe`"):
        burglary.query("burglary", {"alarm": "maybe"})
    with pytest.raises(cg.ConfigError, match="line 1"):
        cg.BayesianNetwork.from_bif_text("variable x {")


def test_marginals_equal_the_queries():
    net = cg.BayesianNetwork.from_bif(str(ROOT / "results" / "asia" / "network.bif"))
    evidence = {"xray": "yes", "dysp": "yes"}
    marginals = net.marginals(evidence)
    assert set(marginals) == set(net.variables) - set(evidence)
    for variable, dist in marginals.items():
        exact = net.query(variable, evidence)
        assert all(abs(dist[s] - exact[s]) < 1e-12 for s in exact), variable


def test_ctrl_c_stops_a_run_with_keyboard_interrupt():
    import _thread
    import threading

    # A run of ten million epochs; the interrupt comes after a fifth of a second.
    threading.Timer(0.2, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        cg.run(str(ROOT / "configs" / "xor.toml"), overrides={"train.epochs": 10_000_000})
    # The next run is not stopped by the old request.
    assert cg.run(str(ROOT / "configs" / "exercise_4.toml")) == stored("exercise_4")


def iris_standardised():
    import numpy as np

    table = np.loadtxt(ROOT / "data" / "iris.csv", delimiter=",", skiprows=1)
    X = table[:, :4]
    return (X - X.mean(axis=0)) / X.std(axis=0), table[:, 4].astype(int)


def test_som_matches_the_som_kind_on_iris():
    import numpy as np

    X, _ = iris_standardised()
    som = cg.SOM(10, 10, topology="hexagonal", epochs=20, radius={"start": 3.0, "end": 0.5, "decay": "linear"}, seed=0)
    som.fit(X)
    stored_codebook = json.loads((ROOT / "results" / "som_iris" / "codebook.json").read_text())["weights"]
    # numpy's standardisation may round differently in the last bit from the engine's.
    assert np.abs(som.codebook.reshape(100, 4) - np.array(stored_codebook)).max() < 1e-9
    metrics = stored("som_iris")
    assert abs(som.quantization_error(X) - metrics["quantization_error"]) < 1e-9
    assert abs(som.topographic_error(X) - metrics["topographic_error"]) < 1e-12
    hits = som.hits(X)
    assert hits.shape == (10, 10) and hits.sum() == 150 and (hits > 0).sum() == metrics["units_hit"]
    # The winner is the nearest prototype, by brute force.
    distances = ((X[:, None, :] - som.codebook.reshape(1, 100, 4)) ** 2).sum(axis=2)
    nearest = distances.argmin(axis=1)
    assert [r * 10 + c for r, c in som.winners(X)] == list(nearest)
    assert som.winner(X[0]) == divmod(int(nearest[0]), 10)
    assert abs(som.quantization_error(X) - np.sqrt(distances.min(axis=1)).mean()) < 1e-12
    u = som.umatrix()
    assert u.shape == (10, 10) and (u > 0).all()


def test_som_settings_are_checked_with_the_binary_messages():
    import numpy as np

    X = np.random.default_rng(0).random((20, 3))
    with pytest.raises(cg.ConfigError, match="unknown setting `neighborhood`"):
        cg.SOM(3, 3, neighborhood="gaussian").fit(X)
    with pytest.raises(cg.ConfigError, match=r"\[som\]"):
        cg.SOM(3, 3, epochs=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        cg.SOM(3, 3).fit(X).winner([1.0, 2.0])
    # The input is not changed.
    before = X.copy()
    cg.SOM(3, 3, training="online", seed=1).fit(X)
    assert (X == before).all()


def safetensors(path):
    """The tensors of a safetensors file, by name (the format: a little-endian u64 header length,
    a JSON header, raw little-endian data)."""
    import struct

    import numpy as np

    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    data = raw[8 + length :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        start, end = t["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype="<f8" if t["dtype"] == "F64" else "<f4").reshape(t["shape"])
    return out


def test_rbm_matches_the_rbm_kind_on_wine():
    import numpy as np

    table = np.loadtxt(ROOT / "data" / "wine.csv", delimiter=",", skiprows=1)
    X = table[:, :-1]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rbm = cg.RBM(
        8, learning_rate=0.01, batch_size=10, n_iter=100, random_state=0,
        visible="gaussian", method="cd", k=1, momentum=0.5, init_std=0.05,
    ).fit(X)
    saved = safetensors(ROOT / "results" / "rbm_wine_gaussian" / "model.safetensors")
    assert np.abs(rbm.components_.T - saved["W"]).max() < 1e-8
    assert np.abs(rbm.intercept_visible_ - saved["visible_bias"]).max() < 1e-8
    assert np.abs(rbm.intercept_hidden_ - saved["hidden_bias"]).max() < 1e-8
    assert abs(rbm.log_likelihood(X) - stored("rbm_wine_gaussian")["exact_log_likelihood"]) < 1e-8
    h = rbm.transform(X)
    assert h.shape == (len(X), 8) and ((0 < h) & (h < 1)).all()


def test_rbm_on_two_patterns_learns_them():
    import numpy as np

    X = np.array([[1, 1, 0, 0], [0, 0, 1, 1]] * 20, dtype=float)
    before = cg.RBM(2, n_iter=1, random_state=3).fit(X).log_likelihood(X)
    after = cg.RBM(2, n_iter=100, random_state=3).fit(X).log_likelihood(X)
    assert after > before + 1.0
    # Free energy ranks the trained patterns above a pattern never seen.
    rbm = cg.RBM(2, n_iter=100, random_state=3).fit(X)
    f = rbm.free_energy([[1, 1, 0, 0], [1, 0, 1, 0]])
    assert f[0] < f[1]
    with pytest.raises(cg.ConfigError, match="outside \\[0, 1\\]"):
        cg.RBM(2).fit(X * 2)


def binary_predictions(result, data):
    """`experiments predict` as the binary prints it, parsed (shortest round-trip numbers)."""
    import subprocess

    exe = ROOT / "target" / "release" / "experiments"
    if not exe.exists():
        pytest.skip(f"{exe} is not built (cargo build --release -p experiments)")
    out = subprocess.run(
        [str(exe), "predict", str(ROOT / "results" / result), "--data", str(data)],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    return out[0].split(","), [[float(v) for v in line.split(",")] for line in out[1:]]


@pytest.mark.parametrize("result,data", [("softmax_iris", "iris.csv"), ("linreg_diabetes", "diabetes.csv")])
def test_load_predicts_as_the_binary(result, data):
    import numpy as np

    model = cg.load(ROOT / "results" / result)
    assert model.kind in ("mlp", "model") and model.config.startswith(("kind", "#", "seed"))
    table = np.loadtxt(ROOT / "data" / data, delimiter=",", skiprows=1)
    header = (ROOT / "data" / data).read_text().splitlines()[0].split(",")
    X = table[:, [header.index(f) for f in model.features]]
    names, values = model.predict_table(X)
    want_names, want = binary_predictions(result, ROOT / "data" / data)
    assert names == want_names
    assert values.tolist() == want  # bit for bit
    if "class" in names:
        assert (model.predict(X) == values[:, 0]).all()
        assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)
    # The tensors are the saved parameters; W1 maps the features to the first layer.
    assert model.tensors["W1"].shape[1] == len(model.features)
    with pytest.raises(ValueError, match="columns"):
        model.predict(X[:, :2])
    with pytest.raises(cg.ConfigError, match="model.safetensors"):
        cg.load(ROOT / "results" / "exercise_4")


def iris():
    import numpy as np

    table = np.loadtxt(ROOT / "data" / "iris.csv", delimiter=",", skiprows=1)
    return table[:, :4], table[:, 4]


def test_model_fits_as_the_binary_on_the_same_rows():
    X, y = iris()
    model = cg.Model(str(ROOT / "configs" / "softmax_iris.toml")).fit(X, y)
    want = stored("softmax_iris")
    # The same rows in the same order: the same seeded split, standardisation and training.
    for key in ("final_loss", "test_loss", "train_accuracy", "test_accuracy", "objective", "reference_gap"):
        assert model.metrics_[key] == want[key], key
    assert model.score(X, y) > 0.9
    assert model.predict_proba(X).shape == (150, 3)


def test_model_works_with_clone_and_grid_search():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    X, y = iris()
    base = cg.Model(str(ROOT / "configs" / "softmax_iris.toml"), **{"train.epochs": 300, "train.check_epochs": 20})
    copy = clone(base)
    assert copy.get_params() == base.get_params() and copy is not base
    folds = StratifiedKFold(3, shuffle=True, random_state=0)  # iris is sorted by class
    search = GridSearchCV(base, {"optimizer.learning_rate": [0.05, 0.5]}, cv=folds).fit(X, y)
    assert search.best_params_["optimizer.learning_rate"] in (0.05, 0.5)
    assert search.best_score_ > 0.8
    assert sklearn.__version__
    with pytest.raises(cg.ConfigError, match="optimizer"):
        cg.Model(str(ROOT / "configs" / "softmax_iris.toml"), **{"optimizer.learning_rat": 1}).fit(X, y)


def test_forward_samples_follow_the_exact_marginals():
    net = cg.BayesianNetwork.from_bif(str(ROOT / "results" / "asia" / "network.bif"))
    n = 50_000
    draws = net.sample(n, seed=7)
    assert set(draws) == set(net.variables) and all(len(c) == n for c in draws.values())
    assert net.sample(10, seed=7) == {k: v[:10] for k, v in draws.items()}  # seeded, prefix-stable
    for variable in net.variables:
        for state, p in net.query(variable).items():
            share = draws[variable].count(state) / n
            se = max(math.sqrt(p * (1 - p) / n), 1e-9)
            assert abs(share - p) <= 5 * se + 1e-12, (variable, state, share, p)


ASIA = ROOT / "data" / "networks" / "asia.bif"


def test_learn_finds_the_stored_runs_network_from_the_same_rows():
    # BayesianNetwork.sample(n, seed) draws what `experiments sample` and [data.sample] draw.
    rows = cg.BayesianNetwork.from_bif(ASIA).sample(10000, seed=0)
    found = cg.learn(rows)
    m = stored("asia_learn")
    assert sorted(map(list, found.network.edges)) == sorted(m["structure"]["edges"])
    assert math.isclose(found.score, m["structure"]["scores"]["bic"], rel_tol=1e-12)
    # Each climb improves at every move; the curve falls only where one of the 2 restarts begins.
    assert sum(b <= a for a, b in zip(found.curve, found.curve[1:])) <= 2
    assert math.isclose(max(found.curve), found.score, rel_tol=1e-12)
    # The same score through cg.score, and the log-likelihood counted here in Python.
    edges = found.network.edges
    assert math.isclose(cg.score(rows, edges), found.score, rel_tol=1e-12)
    from collections import Counter

    ll = 0.0
    for child in rows:
        parents = [p for p, c in edges if c == child]
        joint = Counter(zip(*(rows[p] for p in parents), rows[child]))
        configs = Counter(zip(*(rows[p] for p in parents))) if parents else {(): len(rows[child])}
        ll += sum(n * math.log(n / configs[key[:-1]]) for key, n in joint.items())
    assert math.isclose(cg.score(rows, edges, score="log_likelihood"), ll, rel_tol=1e-12)


def test_fit_gives_the_frequencies_and_em_fills_missing_cells():
    rows = {"rain": ["no", "no", "no", "yes", "yes"], "wet": ["no", "no", "yes", "yes", "yes"]}
    net = cg.fit(rows, [("rain", "wet")])
    assert net.query("wet", {"rain": "no"}) == {"no": 2 / 3, "yes": 1 / 3}
    k2 = cg.fit(rows, [("rain", "wet")], estimator="bayes", prior="k2")
    assert math.isclose(k2.query("wet", {"rain": "no"})["yes"], 2 / 5, rel_tol=1e-15)
    # wet missing in two rows, rain always seen: EM's answer is P(wet | rain) from the rows
    # that show wet (a closed form when the missing cells' parents are observed).
    holes = {"rain": rows["rain"] + ["no", "yes"], "wet": rows["wet"] + [None, float("nan")]}
    em = cg.fit(holes, [("rain", "wet")])
    assert math.isclose(em.query("wet", {"rain": "no"})["yes"], 1 / 3, rel_tol=1e-8)
    assert math.isclose(em.query("rain")["no"], 4 / 7, rel_tol=1e-8)


def test_ask_answers_one_line_questions():
    net = cg.BayesianNetwork.from_bif(ASIA)
    assert net.ask("P(lung | smoke = yes)") == {"yes": 0.1, "no": 0.9}
    joint = net.ask("P(lung, tub)")
    assert math.isclose(sum(joint.values()), 1.0, rel_tol=1e-15) and ("yes", "no") in joint
    states, p = net.ask("MAP(lung, tub | xray = yes, dysp = yes)")
    m = stored("asia")["map"][1]
    assert states == m["states"] and p == m["probability"]
    with pytest.raises(KeyError, match="no state `maybe`"):
        net.ask("P(lung | smoke = maybe)")
    with pytest.raises(ValueError):
        net.ask("Q(lung)")
    assert cg.BayesianNetwork.from_bif_text(net.to_bif()).ask("P(lung)") == net.ask("P(lung)")


def test_bad_learning_input_raises_with_the_place():
    rows = {"a": ["x", "y"], "b": ["u", "v"]}
    with pytest.raises(KeyError, match="nope"):
        cg.fit(rows, [("nope", "b")])
    with pytest.raises(cg.ConfigError, match="the scores are"):
        cg.learn(rows, score="aic")
    with pytest.raises(ValueError, match="different lengths"):
        cg.learn({"a": ["x"], "b": ["u", "v"]})


def test_samples_with_missing_cells_are_the_binarys_rows_and_em_fits_them():
    net = cg.BayesianNetwork.from_bif(ASIA)
    rows = net.sample(2000, seed=3, missing=0.2)
    hidden = sum(x is None for column in rows.values() for x in column)
    assert abs(hidden - 0.2 * 2000 * 8) < 4 * math.sqrt(2000 * 8 * 0.16)
    # The observed cells are the complete draws' (the same stream, cells hidden after).
    full = net.sample(2000, seed=3)
    assert all(x is None or x == y for v in rows for x, y in zip(rows[v], full[v]))
    fitted = cg.fit(rows, net.edges)
    assert abs(fitted.query("smoke")["yes"] - 0.5) < 0.05
    with pytest.raises(cg.ConfigError, match="probability"):
        net.sample(5, missing=1.5)


def test_a_uai_markov_network_answers_as_the_binary_and_has_koller_and_friedmans_z():
    net = cg.MarkovNetwork.from_uai(ROOT / "results" / "misconception" / "network.uai")
    assert net.variables == ["x0", "x1", "x2", "x3"]
    # Koller and Friedman's figure 4.2: Z = 7,201,840 for the misconception loop.
    assert net.partition_function() == 7201840.0
    exact = stored("misconception")["queries"][0]["exact"]  # P(b), b is x1
    answer = net.query("x1")
    assert math.isclose(answer["0"], exact["b0"], rel_tol=1e-12)
    assert math.isclose(answer["1"], exact["b1"], rel_tol=1e-12)
    with pytest.raises(KeyError):
        net.query("b")
    with pytest.raises(cg.ConfigError):
        cg.MarkovNetwork.from_uai_text("MARKOV\n2\n2\n")


def test_arrays_go_in_without_a_copy_and_are_never_changed():
    import numpy as np

    from cg.som import _floats

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    # A C-contiguous float64 array is the engines' own layout: read in place.
    assert cg._cg.data_address(_floats(X)) == X.__array_interface__["data"][0]
    # Other layouts and float32 are converted once, to the same numbers.
    assert cg._cg.data_address(_floats(np.asfortranarray(X))) != np.asfortranarray(X).__array_interface__["data"][0]
    kept = X.copy()
    X.flags.writeable = False
    som = cg.SOM(4, 4, epochs=5, seed=1).fit(X)
    assert np.array_equal(X, kept)
    assert np.array_equal(som.codebook, cg.SOM(4, 4, epochs=5, seed=1).fit(np.asfortranarray(kept)).codebook)
    B = (X > 0).astype(np.float32)
    rbm = cg.RBM(3, n_iter=3, random_state=2).fit(B)
    assert B.dtype == np.float32 and np.array_equal(B, kept > 0)
    again = cg.RBM(3, n_iter=3, random_state=2).fit(B.astype(np.float64))
    assert np.array_equal(rbm.components_, again.components_)


def test_progress_reaches_a_callable_and_its_exception_stops_the_run():
    import numpy as np

    ticks = []
    X = np.random.default_rng(0).normal(size=(50, 3))
    cg.SOM(3, 3, epochs=7, seed=0).fit(X, progress=lambda *t: ticks.append(t))
    # The latest step is always shown (steps that come while Python waits are merged).
    assert ticks and ticks[-1][:3] == (7, 7, "epoch") and all(t[1] == 7 for t in ticks)
    assert [t[0] for t in ticks] == sorted(t[0] for t in ticks)
    assert "quantization error" in ticks[-1][3]

    seen = []
    cg.run(str(ROOT / "configs" / "xor.toml"), overrides={"train.epochs": 50}, progress=lambda *t: seen.append(t))
    assert seen[-1][:3] == (50, 50, "epoch")

    class Enough(Exception):
        pass

    def stop_at_once(step, total, unit, message):
        raise Enough(step)

    with pytest.raises(Enough):
        cg.run(str(ROOT / "configs" / "xor.toml"), overrides={"train.epochs": 10**7}, progress=stop_at_once)


def test_progress_true_without_tqdm_prints_lines(capsys, monkeypatch):
    import builtins

    import numpy as np

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    cg.RBM(2, n_iter=4, random_state=0).fit(np.eye(4), progress=True)
    assert "RBM: epoch 4/4" in capsys.readouterr().err


def test_score_samples_equal_scikit_learns_for_the_same_machine():
    import numpy as np
    from sklearn.neural_network import BernoulliRBM

    X = (np.random.default_rng(4).random((40, 6)) < 0.4).astype(float)
    ours = cg.RBM(3, n_iter=5, random_state=7).fit(X)
    theirs = BernoulliRBM(n_components=3, random_state=7)
    theirs.components_ = ours.components_
    theirs.intercept_hidden_ = ours.intercept_hidden_
    theirs.intercept_visible_ = ours.intercept_visible_
    theirs.n_features_in_ = 6
    assert np.abs(ours.score_samples(X) - theirs.score_samples(X)).max() < 1e-12
    assert abs(ours.score(X) - theirs.score_samples(X).mean()) < 1e-12


def test_ais_agrees_with_the_exact_partition_function():
    import numpy as np

    X = (np.random.default_rng(5).random((60, 10)) < 0.3).astype(float)
    rbm = cg.RBM(6, n_iter=20, learning_rate=0.05, random_state=1).fit(X)
    exact = rbm.log_partition(method="exact")
    ais = rbm.log_partition(X, method="ais", chains=200, temperatures=2000, seed=3)
    assert exact["low"] == exact["log_z"] == exact["high"]
    assert ais["low"] <= exact["log_z"] <= ais["high"] and abs(ais["log_z"] - exact["log_z"]) < 0.05
    # Same seed, same estimate; the log-likelihoods differ by exactly the two log Z.
    assert rbm.log_partition(X, method="ais", chains=200, temperatures=2000, seed=3) == ais
    ll_exact = rbm.log_likelihood(X, method="exact")
    ll_ais = rbm.log_likelihood(X, method="ais", chains=200, temperatures=2000, seed=3)
    assert abs((ll_exact - ll_ais) - (ais["log_z"] - exact["log_z"])) < 1e-9
    # The exact mean log-likelihood by brute force over the 2^10 visible states.
    states = np.array([[(k >> i) & 1 for i in range(10)] for k in range(1024)], dtype=float)
    log_p = -rbm.free_energy(states)
    log_z = np.log(np.exp(log_p - log_p.max()).sum()) + log_p.max()
    assert abs(exact["log_z"] - log_z) < 1e-10
    assert abs(ll_exact - (-rbm.free_energy(X) - log_z).mean()) < 1e-10


def test_graph_evaluates_values_and_the_chapters_derivatives():
    g = cg.Graph(str(ROOT / "configs" / "fig11_9.toml"))
    assert g.nodes[:5] == ["y1", "y2", "y3", "w2", "w3"]
    out = g.evaluate()
    v = out["values"]
    assert v["y10"] == v["y7"] * v["y8"] * v["y9"]
    assert abs(out["loss"] - math.log(v["y10"] ** 2)) < 1e-15
    # Section 11.3.5.1: dL/dw2 = (2 / y10) y7 y8 cos(y6) y2, and with y3 for w3.
    common = 2 / v["y10"] * v["y7"] * v["y8"] * math.cos(v["y6"])
    assert abs(out["gradient"]["w2"] - common * v["y2"]) < 1e-12 * abs(common * v["y2"])
    assert abs(out["gradient"]["w3"] - common * v["y3"]) < 1e-12 * abs(common * v["y3"])
    # New inputs and weights: the values move, and a central difference agrees.
    h = 1e-6
    at = lambda w2: g.evaluate(inputs={"y1": 0.3}, weights={"w2": w2})
    fd = (at(1.5 + h)["loss"] - at(1.5 - h)["loss"]) / (2 * h)
    assert abs(at(1.5)["gradient"]["w2"] - fd) < 1e-6 * max(1.0, abs(fd))
    with pytest.raises(KeyError, match="not an input"):
        g.evaluate(inputs={"w2": 1.0})
    # The [graph] table alone works too, as TOML text or a dict.
    table = {"inputs": {"x": 2.0}, "outputs": ["f"], "nodes": {"f": "x * x * x"}}
    assert cg.Graph(table).evaluate()["gradient"]["x"] == 12.0
    assert cg.Graph('inputs = { x = 2.0 }\noutputs = ["f"]\n[nodes]\nf = "sin(x)"\n').evaluate()["gradient"]["x"] == math.cos(2.0)
    with pytest.raises(cg.ConfigError, match="uses `z`"):
        cg.Graph({"inputs": {"x": 1.0}, "outputs": ["f"], "nodes": {"f": "x + z"}})


def test_run_takes_a_dict():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "configs" / "exercise_4.toml").read_text())
    assert cg.run(config) == stored("exercise_4")
    with pytest.raises(cg.ConfigError, match="unknown field `nodez`"):
        cg.run({"kind": "graph", "graph": {"nodez": 1}})


def test_a_uai_bayes_file_is_a_bayesian_network_answering_as_enumeration(tmp_path):
    import itertools

    # x0 -> x1 -> x2, x0 -> x2; x2's table first, its scope (x0, x1, x2) with the child last.
    p0 = [0.6, 0.4]
    p1 = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]  # P(x1 | x0), three states
    p2 = {(a, b): [0.9 - 0.1 * (a + b), 0.1 + 0.1 * (a + b)] for a in range(2) for b in range(3)}
    rows2 = [p2[a, b] for a in range(2) for b in range(3)]
    text = "BAYES\n3\n2 3 2\n3\n3 0 1 2\n1 0\n2 0 1\n"
    text += f"12\n{' '.join(str(v) for row in rows2 for v in row)}\n2\n{p0[0]} {p0[1]}\n"
    text += f"6\n{' '.join(str(v) for row in p1 for v in row)}\n"
    path = tmp_path / "chain.uai"
    path.write_text(text)
    net = cg.BayesianNetwork.from_uai(path)
    assert net.variables == ["x0", "x1", "x2"] and net.edges == [("x0", "x1"), ("x0", "x2"), ("x1", "x2")]
    joint = {(a, b, c): p0[a] * p1[a][b] * p2[a, b][c] for a, b, c in itertools.product(range(2), range(3), range(2))}
    evidence = sum(p for (a, b, c), p in joint.items() if c == 1)
    answer = net.query("x0", {"x2": "1"})
    for a in range(2):
        expected = sum(p for (x, b, c), p in joint.items() if x == a and c == 1) / evidence
        assert abs(answer[str(a)] - expected) < 1e-14
    with pytest.raises(cg.ConfigError, match="needs a BAYES file"):
        cg.BayesianNetwork.from_uai_text(text.replace("BAYES", "MARKOV"))
    # A map's lattice may be named as somoclu names it.
    assert cg.SOM(2, 2, lattice="hexagonal").settings == {"topology": "hexagonal"}


def test_npy_files_train_and_predict_as_the_rows_in_memory(tmp_path):
    import subprocess

    import numpy as np

    # Iris's rows as NumPy files (float32 features, integer labels): [data] npy and labels.
    table = np.loadtxt(ROOT / "data" / "iris.csv", delimiter=",", skiprows=1)
    np.save(tmp_path / "X.npy", table[:, :4].astype(np.float32))
    np.save(tmp_path / "y.npy", table[:, 4].astype(np.int64))
    config = (ROOT / "configs" / "softmax_iris.toml").read_text()
    config = config.replace('csv           = "../data/iris.csv"', 'npy = "X.npy"\nlabels = "y.npy"')
    assert 'npy = "X.npy"' in config
    metrics = cg.run(config, base=str(tmp_path), out=str(tmp_path / "run"), overrides={"train.epochs": 50, "train.check_epochs": 5})
    assert 0.5 < metrics["train_accuracy"] <= 1.0
    # The binary predicts from the .npy (columns are the model's features in order) the numbers
    # the library gives for the same rows in memory.
    exe = ROOT / "target" / "release" / "experiments"
    if not exe.exists():
        pytest.skip(f"{exe} is not built (cargo build --release -p experiments)")
    out = subprocess.run(
        [str(exe), "predict", str(tmp_path / "run"), "--data", str(tmp_path / "X.npy")],
        check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    model = cg.load(tmp_path / "run")
    names, values = model.predict_table(table[:, :4].astype(np.float32).astype(np.float64), columns=["x0", "x1", "x2", "x3"])
    assert out[0].split(",") == names
    assert np.array_equal(np.array([[float(v) for v in line.split(",")] for line in out[1:]]), values)
