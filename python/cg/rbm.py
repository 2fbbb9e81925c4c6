"""Restricted Boltzmann machines with the names scikit-learn's BernoulliRBM users know."""

import json

from . import _cg
from .som import _floats


class RBM:
    """An RBM trained by CD-k or PCD as the `rbm` kind trains one (same settings, same numbers).

    ``n_components`` hidden units; ``learning_rate``, ``batch_size``, ``n_iter`` (epochs) and
    ``random_state`` (the seed) as in scikit-learn; ``method`` ("cd", "pcd"), ``k``, ``visible``
    ("bernoulli", "gaussian"), ``momentum``, ``weight_decay``, ``init_std`` as the `[rbm]` table
    names them. Defaults are scikit-learn's where it has the setting.
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10, random_state=0, **settings):
        self.n_components = n_components
        self.learning_rate, self.batch_size, self.n_iter, self.random_state = learning_rate, batch_size, n_iter, random_state
        self.settings = settings
        self._params = None

    def _settings(self):
        s = dict(self.settings, learning_rate=self.learning_rate, batch_size=self.batch_size, epochs=self.n_iter)
        return json.dumps(s)

    def fit(self, X, y=None):
        """Trains on the rows of `X` (samples x visible units); returns self."""
        import numpy as np

        X = _floats(X)
        n, dim = X.shape
        w, b, c = _cg.rbm_fit(X.tobytes(), n, dim, self.n_components, self._settings(), self.random_state)
        self._params = (
            np.frombuffer(w, dtype=np.float64).reshape(dim, self.n_components).copy(),
            np.frombuffer(b, dtype=np.float64).copy(),
            np.frombuffer(c, dtype=np.float64).copy(),
        )
        return self

    def _fitted(self):
        if self._params is None:
            raise RuntimeError("the machine is not fitted yet: call fit(X) first")
        return self._params

    @property
    def components_(self):
        """The weights, hidden x visible (scikit-learn's layout)."""
        return self._fitted()[0].T.copy()

    @property
    def intercept_hidden_(self):
        """The hidden units' biases."""
        return self._fitted()[2].copy()

    @property
    def intercept_visible_(self):
        """The visible units' biases (the means of Gaussian units)."""
        return self._fitted()[1].copy()

    def transform(self, X):
        """p(h = 1 | v) for each sample: samples x hidden."""
        import numpy as np

        w, _, c = self._fitted()
        X = _floats(X, w.shape[0])
        return 1.0 / (1.0 + np.exp(-(X @ w + c)))

    def _score(self, X):
        w, b, c = self._fitted()
        X = _floats(X, w.shape[0])
        gaussian = self.settings.get("visible") == "gaussian"
        return _cg.rbm_score(w.tobytes(), b.tobytes(), c.tobytes(), gaussian, X.tobytes())

    def free_energy(self, X):
        """F(v) for each sample: p(v) is proportional to exp(-F(v))."""
        import numpy as np

        return np.array(self._score(X)[0])

    def log_likelihood(self, X):
        """The mean log p(v) of the samples, with the exact partition function (the smaller
        layer enumerated; up to 22 units)."""
        ll = self._score(X)[1]
        if ll is None:
            raise ValueError("both layers are too large to enumerate the partition function exactly")
        return ll
