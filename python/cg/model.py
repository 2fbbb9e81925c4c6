"""A trained model from its results folder: its tensors, its config, and predictions for new
rows exactly as `experiments predict` makes them."""

import json

from . import _cg


class SavedModel:
    """The model a run saved in `dir` (`model.safetensors`: networks, models, maps, RBMs)."""

    def __init__(self, dir):
        import numpy as np

        self.dir = str(dir)
        meta, tensors = _cg.model_load(self.dir)
        self.metadata = dict(meta)
        #: The parameters by name, as numpy arrays of their saved shapes.
        self.tensors = {
            name: np.frombuffer(raw, dtype=np.float64).reshape(shape).copy() for name, shape, raw in tensors
        }
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
        names, raw = _cg.model_predict(self.dir, list(columns), X.tobytes(), X.shape[0])
        return names, np.frombuffer(raw, dtype=np.float64).reshape(X.shape[0], len(names)).copy()

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
