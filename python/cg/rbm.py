"""Restricted Boltzmann machines with the names scikit-learn's BernoulliRBM users know."""

import json

from . import _cg
from ._progress import callback
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

    def fit(self, X, y=None, progress=None):
        """Trains on the rows of `X` (samples x visible units, read in place when it is a
        C-contiguous float64 array; never modified); returns self. `progress` as in
        ``SOM.fit``."""
        X = _floats(X)
        self._params = _cg.rbm_fit(X, self.n_components, self._settings(), self.random_state, callback(progress, "RBM"))
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

    def _machine(self):
        w, b, c = self._fitted()
        return w, b, c, self.settings.get("visible") == "gaussian"

    def free_energy(self, X):
        """F(v) for each sample: p(v) is proportional to exp(-F(v))."""
        import numpy as np

        w = self._fitted()[0]
        return np.array(_cg.rbm_free_energy(*self._machine(), _floats(X, w.shape[0])))

    def score_samples(self, X):
        """scikit-learn's pseudo-likelihood proxy, per sample: with one visible unit i of each
        sample flipped (chosen as scikit-learn chooses it, from ``random_state``),
        n_features * log(sigmoid(F(v with i flipped) - F(v))). For the same parameters the
        numbers equal BernoulliRBM.score_samples'."""
        import numpy as np

        X = _floats(X, self._fitted()[0].shape[0])
        rng = np.random.RandomState(self.random_state)
        flipped = X.copy()
        rows, cols = np.arange(X.shape[0]), rng.randint(0, X.shape[1], X.shape[0])
        flipped[rows, cols] = 1 - flipped[rows, cols]
        fe, fe_flipped = self.free_energy(X), self.free_energy(flipped)
        return -X.shape[1] * np.logaddexp(0, -(fe_flipped - fe))

    def score(self, X, y=None):
        """The mean of ``score_samples``."""
        return float(self.score_samples(X).mean())

    def log_partition(self, X=None, *, method="exact", chains=100, temperatures=1000, seed=0):
        """log Z with an interval, as a dict ``log_z``, ``low``, ``high``: ``method="exact"``
        enumerates the smaller layer (up to 22 units); ``"ais"`` runs annealed importance sampling
        (Salakhutdinov and Murray) with `chains` chains through `temperatures` inverse
        temperatures from the base model of `X`'s marginals (the training data, by default the
        visible biases' own), seeded; the interval is +-3 standard errors."""
        import numpy as np

        w, b, c, gaussian = self._machine()
        if X is None:
            X = np.zeros((1, w.shape[0]))
        if method not in ("exact", "ais"):
            raise ValueError(f"method `{method}`: exact or ais")
        got = _cg.rbm_log_partition(
            w, b, c, gaussian, _floats(X, w.shape[0]), chains if method == "ais" else 0, temperatures, seed
        )
        if got is None:
            raise ValueError("both layers are too large to enumerate the partition function exactly: use method='ais'")
        log_z, low, high = got
        return {"log_z": log_z, "low": low, "high": high}

    def log_likelihood(self, X, *, method="auto", chains=100, temperatures=1000, seed=0):
        """The mean log p(v) of the samples: with the exact partition function
        (``method="exact"``, up to 22 units in the smaller layer), by AIS (``"ais"``: the
        estimate from ``log_partition``), or ``"auto"``: exact when it can be."""
        import numpy as np

        w = self._fitted()[0]
        X = _floats(X, w.shape[0])
        if method == "auto":
            method = "exact" if min(w.shape) <= 22 else "ais"
        log_z = self.log_partition(X, method=method, chains=chains, temperatures=temperatures, seed=seed)["log_z"]
        # Summed in order, as the engine sums it.
        return sum(-f - log_z for f in self.free_energy(X).tolist()) / X.shape[0]
