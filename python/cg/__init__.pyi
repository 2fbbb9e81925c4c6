from os import PathLike
from typing import Any, Mapping, Optional, Union

class ConfigError(ValueError):
    """A config or input that cannot be run: the message names the place."""

class RunError(RuntimeError):
    """A run that started and failed (a divergence, a file that cannot be written)."""

def run(
    config: str,
    overrides: Optional[Mapping[str, Any]] = None,
    out: Optional[Union[str, PathLike[str]]] = None,
    base: Optional[Union[str, PathLike[str]]] = None,
) -> dict[str, Any]:
    """Runs a config (a path, or TOML text) as the binary does; returns its metrics."""

class BayesianNetwork:
    """A Bayesian network queried exactly by variable elimination."""

    @staticmethod
    def from_bif(path: Union[str, PathLike[str]]) -> "BayesianNetwork": ...
    @staticmethod
    def from_bif_text(text: str) -> "BayesianNetwork": ...
    @property
    def variables(self) -> list[str]: ...
    @property
    def states(self) -> dict[str, list[str]]: ...
    def query(self, variable: str, evidence: Optional[Mapping[str, str]] = None) -> dict[str, float]:
        """P(variable | evidence) as a dict state -> probability."""
    def marginals(self, evidence: Optional[Mapping[str, str]] = None) -> dict[str, dict[str, float]]:
        """Every unobserved variable's distribution given the evidence."""

class SOM:
    """A Kohonen map trained as the `som` kind trains one; MiniSom's method names."""

    rows: int
    cols: int
    def __init__(self, rows: int, cols: int, *, epochs: int = 20, seed: int = 0, **settings: Any) -> None: ...
    def fit(self, X: Any) -> "SOM": ...
    @property
    def codebook(self) -> Any: ...
    def winner(self, x: Any) -> tuple[int, int]: ...
    def winners(self, X: Any) -> Any: ...
    def quantization_error(self, X: Any) -> float: ...
    def topographic_error(self, X: Any) -> float: ...
    def hits(self, X: Any) -> Any: ...
    def umatrix(self) -> Any: ...

class RBM:
    """An RBM trained as the `rbm` kind trains one; scikit-learn's BernoulliRBM names."""

    n_components: int
    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        n_iter: int = 10,
        random_state: int = 0,
        **settings: Any,
    ) -> None: ...
    def fit(self, X: Any, y: Any = None) -> "RBM": ...
    @property
    def components_(self) -> Any: ...
    @property
    def intercept_hidden_(self) -> Any: ...
    @property
    def intercept_visible_(self) -> Any: ...
    def transform(self, X: Any) -> Any: ...
    def free_energy(self, X: Any) -> Any: ...
    def log_likelihood(self, X: Any) -> float: ...

class SavedModel:
    """A trained model from its results folder."""

    dir: str
    metadata: dict[str, str]
    tensors: dict[str, Any]
    features: Optional[list[str]]
    @property
    def kind(self) -> Optional[str]: ...
    @property
    def config(self) -> Optional[str]: ...
    def predict_table(self, X: Any, columns: Optional[list[str]] = None) -> tuple[list[str], Any]: ...
    def predict(self, X: Any, columns: Optional[list[str]] = None) -> Any: ...
    def predict_proba(self, X: Any, columns: Optional[list[str]] = None) -> Any: ...

def load(dir: Union[str, PathLike[str]]) -> SavedModel:
    """The model saved in a results folder."""
