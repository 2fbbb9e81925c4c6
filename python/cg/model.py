"""A trained model from its results folder: its tensors, its config, and predictions for new
rows exactly as `experiments predict` makes them."""

import json
import os

from . import _cg
from ._progress import callback


def _config(config):
    """A path-like config as a string; TOML text and dicts as they are."""
    return os.fspath(config) if isinstance(config, os.PathLike) else config


class SavedModel:
    """The model a run saved in `dir` (`model.safetensors`: networks, models, maps, RBMs)."""

    def __init__(self, dir):
        self.dir = str(dir)
        meta, tensors = _cg.model_load(self.dir)
        self.metadata = dict(meta)
        #: The parameters by name, as numpy arrays of their saved shapes.
        self.tensors = dict(tensors)
        inputs = self.metadata.get("inputs")
        #: The feature columns the model reads, in order (None when the model does not say).
        self.features = json.loads(inputs)["features"] if inputs else None

    @property
    def kind(self):
        """The kind that trained it."""
        return self.metadata.get("kind")

    @property
    def config(self):
        """The config (overrides applied) that made the model, as TOML text."""
        return self.metadata.get("config")

    def predict_table(self, X, columns=None):
        """Predictions for the rows of `X` as (column names, n x k array); `columns` name the
        columns of `X` (by default the model's own features, in order)."""
        import numpy as np

        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(1, -1)
        if columns is None:
            if self.features is None or len(self.features) != X.shape[1]:
                raise ValueError(
                    f"X has {X.shape[1]} columns; name them (columns=...) or give the model's "
                    f"{len(self.features or [])} features in order: {self.features}"
                )
            columns = self.features
        return _cg.model_predict(self.dir, list(columns), X)

    def predict(self, X, columns=None):
        """The predicted class for classifiers, else the outputs (one column per output)."""
        names, values = self.predict_table(X, columns)
        if "class" in names:
            return values[:, names.index("class")]
        keep = [k for k, n in enumerate(names) if n.startswith("output")]
        out = values[:, keep] if keep else values
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X, columns=None):
        """Class probabilities (n x classes) for classifiers."""
        names, values = self.predict_table(X, columns)
        keep = [k for k, n in enumerate(names) if n.startswith("p_")]
        if not keep:
            raise ValueError(f"a {self.kind} model of this kind gives no class probabilities")
        return values[:, keep]


def load(dir):
    """The model saved in a results folder."""
    return SavedModel(dir)


class Model:
    """A `kind = "model"` or `mlp` config as a scikit-learn estimator.

    ``Model(config, **overrides)``: `config` is a config file's path, TOML text or a dict; `overrides`
    are dotted keys (``**{"optimizer.learning_rate": 0.1}``), which ``get_params`` and
    ``set_params`` expose, so ``sklearn.base.clone``, ``Pipeline`` and ``GridSearchCV`` work with
    it. ``fit(X, y)`` trains on the rows of `X` in place of the config's `[data]` source (its
    other `[data]` settings, such as ``standardize`` and ``test_fraction``, stay), as the binary
    would on the same rows; the run's folder (metrics, plots, model) is kept in ``run_dir_``.
    """

    def __init__(self, config, **overrides):
        self.config = config
        self.overrides = dict(overrides)

    def __sklearn_tags__(self):
        # scikit-learn >= 1.6 asks every estimator for its tags; BaseEstimator's own would read
        # the parameters from __init__'s signature, which dotted keys cannot be.
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=True))

    def get_params(self, deep=True):
        return {"config": self.config, **self.overrides}

    def set_params(self, **params):
        if "config" in params:
            self.config = params.pop("config")
        self.overrides.update(params)
        return self

    def fit(self, X, y, progress=None):
        """Trains on the rows of `X` and targets `y`; `progress` as in ``cg.run``."""
        import shutil
        import tempfile
        import weakref

        import numpy as np

        X = np.asarray(X)
        y = np.asarray(y).reshape(-1)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X must be samples x features and y one target per sample: {X.shape}, {y.shape}")
        folder = tempfile.mkdtemp(prefix="cg-model-")
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        # The rows go to the run as NumPy files beside it (written once, in binary), read as
        # `[data] npy` and `labels`: the model's saved config names them.
        np.save(f"{folder}/X.npy", X)
        np.save(f"{folder}/y.npy", y)
        self.run_dir_ = f"{folder}/run"
        raw = _cg.fit_config(
            _config(self.config), f"{folder}/X.npy", f"{folder}/y.npy", self.run_dir_, self.overrides or None, None,
            callback(progress, "model"),
        )
        self.metrics_ = json.loads(raw)
        self.model_ = load(self.run_dir_)
        self.n_features_in_ = X.shape[1]
        return self

    def _model(self):
        if not hasattr(self, "model_"):
            raise RuntimeError("the model is not fitted yet: call fit(X, y) first")
        return self.model_

    def predict(self, X):
        """The predicted class (classifiers) or outputs."""
        return self._model().predict(X)

    def predict_proba(self, X):
        """Class probabilities, samples x classes."""
        return self._model().predict_proba(X)

    def score(self, X, y):
        """Accuracy for a classifier, R² otherwise."""
        import numpy as np

        y = np.asarray(y, dtype=np.float64).reshape(-1)
        names, _ = self._model().predict_table(X[:1])
        predicted = self.predict(X)
        if "class" in names:
            return float((predicted == y).mean())
        return float(1.0 - ((predicted - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())
