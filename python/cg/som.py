"""Kohonen self-organizing maps with the names MiniSom's users know."""

import json

from . import _cg
from ._progress import callback


def _floats(X, dim=None):
    """`X` as a C-contiguous float64 samples x features array: the same array (no copy) when it
    already is one, which the engines then read in place; float32 and other layouts are
    converted once."""
    import numpy as np

    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim == 1 and dim is not None:
        X = X.reshape(1, -1)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array of samples x features, got {X.ndim} dimensions")
    if dim is not None and X.shape[1] != dim:
        raise ValueError(f"X has {X.shape[1]} features; the map was fitted on {dim}")
    return X


class SOM:
    """A `rows` x `cols` map trained as the `som` kind trains one (same settings, same numbers).

    Settings take the `[som]` table's names and values: ``topology`` (or ``lattice``:
    "rectangular", "hexagonal"), ``toroidal``, ``neighbourhood`` ("gaussian", "bubble", "mexican_hat"),
    ``training`` ("batch", "online"), ``radius`` and ``learning_rate`` as
    ``{"start": .., "end": .., "decay": "linear" | "exponential" | "inverse_time"}``, ``init``
    ("pca", "random", "uniform"), ``truncate``, ``iterations_per_epoch``. Anything left out keeps
    the binary's default for batch or online training.
    """

    def __init__(self, rows, cols, *, epochs=20, seed=0, **settings):
        if "lattice" in settings:
            # The and somoclu's word for the lattice's shape; the `[som]` table says topology.
            settings["topology"] = settings.pop("lattice")
        self.rows, self.cols, self.epochs, self.seed = rows, cols, epochs, seed
        self.settings = settings
        self._settings = json.dumps(settings)
        self._weights = None
        self._dim = None

    def fit(self, X, progress=None):
        """Trains on the rows of `X` (samples x features, read in place when it is a
        C-contiguous float64 array; never modified); returns self.

        `progress`: ``True`` for a tqdm bar (when tqdm is installed; else a line on stderr per
        epoch), or a callable ``progress(step, total, unit, message)`` called after each epoch.
        """
        X = _floats(X)
        self._weights = _cg.som_fit(
            X, self.rows, self.cols, self.epochs, self._settings, self.seed, callback(progress, "SOM")
        )
        self._dim = X.shape[1]
        return self

    def _fitted(self):
        if self._weights is None:
            raise RuntimeError("the map is not fitted yet: call fit(X) first")
        return self._weights

    @property
    def codebook(self):
        """The prototypes, rows x cols x features."""
        return self._fitted().reshape(self.rows, self.cols, self._dim)

    def _match(self, X):
        w = self._fitted()
        X = _floats(X, self._dim)
        return _cg.som_match(w, self.rows, self.cols, self._settings, X)

    def winner(self, x):
        """The (row, col) of the unit nearest to one sample `x`."""
        best, _, _ = self._match(x)
        return divmod(best[0], self.cols)

    def winners(self, X):
        """The (row, col) of each sample's best-matching unit, as an n x 2 integer array."""
        import numpy as np

        best, _, _ = self._match(X)
        return np.array([divmod(b, self.cols) for b in best], dtype=np.int64).reshape(-1, 2)

    def quantization_error(self, X):
        """The mean distance from each sample to its best-matching unit's vector."""
        _, _, distance = self._match(X)
        return sum(distance) / len(distance)

    def topographic_error(self, X):
        """The share of samples whose two best units are not adjacent on the lattice."""
        _, apart, _ = self._match(X)
        return sum(apart) / len(apart)

    def hits(self, X):
        """How many samples each unit wins, rows x cols."""
        import numpy as np

        best, _, _ = self._match(X)
        return np.bincount(best, minlength=self.rows * self.cols).reshape(self.rows, self.cols)

    def umatrix(self):
        """Each unit's mean distance to its adjacent units' vectors, rows x cols."""
        return _cg.som_umatrix(self._fitted(), self.rows, self.cols, self._settings)
