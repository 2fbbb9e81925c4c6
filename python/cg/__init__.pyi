from os import PathLike
from typing import Any, Callable, Mapping, NamedTuple, Optional, Sequence, Union

#: ``True`` (a tqdm bar, or a line per step on stderr without tqdm), ``None``/``False`` (quiet),
#: or a callable ``progress(step, total, unit, message)`` called at each step.
Progress = Union[None, bool, Callable[[int, int, str, str], Any]]

class ConfigError(ValueError):
    """A config or input that cannot be run: the message names the place."""

class RunError(RuntimeError):
    """A run that started and failed (a divergence, a file that cannot be written)."""

def run(
    config: Union[str, PathLike[str], Mapping[str, Any]],
    overrides: Optional[Mapping[str, Any]] = None,
    out: Optional[Union[str, PathLike[str]]] = None,
    base: Optional[Union[str, PathLike[str]]] = None,
    progress: Progress = None,
) -> dict[str, Any]:
    """Runs a config (a path, TOML text or a dict) as the binary does; returns its metrics."""

class Graph:
    """A scalar computational graph (a `kind = "graph"` config or its `[graph]` table)."""

    def __init__(self, config: Union[str, PathLike[str], Mapping[str, Any]]) -> None: ...
    @property
    def nodes(self) -> list[str]: ...
    def evaluate(
        self, inputs: Optional[Mapping[str, float]] = None, weights: Optional[Mapping[str, float]] = None
    ) -> dict[str, Any]:
        """``values`` (every node), ``loss``, ``gradient`` (dloss/dnode, reverse mode)."""

class BayesianNetwork:
    """A Bayesian network queried exactly by variable elimination."""

    @staticmethod
    def from_bif(path: Union[str, PathLike[str]]) -> "BayesianNetwork": ...
    @staticmethod
    def from_bif_text(text: str) -> "BayesianNetwork": ...
    @staticmethod
    def from_uai(path: Union[str, PathLike[str]]) -> "BayesianNetwork":
        """A UAI BAYES file: variables x0, x1, ..., states 0, 1, ..."""
    @staticmethod
    def from_uai_text(text: str) -> "BayesianNetwork": ...
    @property
    def variables(self) -> list[str]: ...
    @property
    def states(self) -> dict[str, list[str]]: ...
    def query(self, variable: str, evidence: Optional[Mapping[str, str]] = None) -> dict[str, float]:
        """P(variable | evidence) as a dict state -> probability."""
    def marginals(self, evidence: Optional[Mapping[str, str]] = None) -> dict[str, dict[str, float]]:
        """Every unobserved variable's distribution given the evidence."""
    def sample(self, n: int, seed: int = 0, missing: float = 0.0) -> dict[str, list[Optional[str]]]:
        """`n` joint draws by forward sampling: one column of state names per variable; each
        cell `None` with probability `missing`."""
    @property
    def edges(self) -> list[tuple[str, str]]: ...
    def ask(self, question: str) -> Any:
        """`P(...)`: dict state (or tuple of states) -> probability; `MAP(...)`: (dict, probability)."""
    def to_bif(self) -> str: ...
    @staticmethod
    def fit_csv(
        csv: str,
        edges: list[tuple[str, str]],
        estimator: str = "mle",
        prior: str = "bdeu",
        ess: float = 10.0,
        pseudo_count: float = 1.0,
    ) -> "BayesianNetwork": ...

class MarkovNetwork:
    """A Markov network (a UAI file's MARKOV or BAYES network) queried exactly."""

    @staticmethod
    def from_uai(path: Union[str, PathLike[str]]) -> "MarkovNetwork": ...
    @staticmethod
    def from_uai_text(text: str) -> "MarkovNetwork": ...
    @property
    def variables(self) -> list[str]: ...
    def partition_function(self) -> Optional[float]: ...
    def query(self, variable: str, evidence: Optional[Mapping[str, str]] = None) -> dict[str, float]:
        """P(variable | evidence) as a dict state -> probability."""

class Learned(NamedTuple):
    """A learnt network (tables fitted), its structure's score and the score after each move."""

    network: BayesianNetwork
    score: float
    curve: list[float]

def learn(
    data: Any,
    *,
    method: str = "hill_climb",
    score: str = "bic",
    ess: float = 10.0,
    max_indegree: Optional[int] = None,
    tabu: int = 100,
    epsilon: float = 1e-4,
    restarts: int = 2,
    perturbation: int = 0,
    seed: int = 0,
    black_list: Sequence[tuple[str, str]] = (),
    white_list: Optional[Sequence[tuple[str, str]]] = None,
    test: str = "chi_square",
    alpha: float = 0.01,
) -> Learned:
    """Learns a structure (hill climbing or PC) and fits its tables."""

def fit(
    data: Any,
    edges: Sequence[tuple[str, str]],
    *,
    estimator: str = "mle",
    prior: str = "bdeu",
    ess: float = 10.0,
    pseudo_count: float = 1.0,
) -> BayesianNetwork:
    """The network with the structure `edges` and its tables estimated from `data`."""

def score(data: Any, edges: Sequence[tuple[str, str]], *, score: str = "bic", ess: float = 10.0) -> float:
    """The score of the structure `edges` on `data`."""

class SOM:
    """A Kohonen map trained as the `som` kind trains one; MiniSom's method names."""

    rows: int
    cols: int
    def __init__(self, rows: int, cols: int, *, epochs: int = 20, seed: int = 0, **settings: Any) -> None: ...
    def fit(self, X: Any, progress: Progress = None) -> "SOM": ...
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
    def fit(self, X: Any, y: Any = None, progress: Progress = None) -> "RBM": ...
    @property
    def components_(self) -> Any: ...
    @property
    def intercept_hidden_(self) -> Any: ...
    @property
    def intercept_visible_(self) -> Any: ...
    def transform(self, X: Any) -> Any: ...
    def free_energy(self, X: Any) -> Any: ...
    def score_samples(self, X: Any) -> Any:
        """scikit-learn's pseudo-likelihood proxy per sample (the same numbers)."""
    def score(self, X: Any, y: Any = None) -> float: ...
    def log_partition(
        self, X: Any = None, *, method: str = "exact", chains: int = 100, temperatures: int = 1000, seed: int = 0
    ) -> dict[str, float]:
        """log Z exactly or by AIS: ``log_z``, ``low``, ``high``."""
    def log_likelihood(
        self, X: Any, *, method: str = "auto", chains: int = 100, temperatures: int = 1000, seed: int = 0
    ) -> float:
        """The mean log p(v): exact, by AIS, or ``auto`` (exact when it can be)."""

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

class Model:
    """A `model` or `mlp` config as a scikit-learn estimator (dotted-key parameters)."""

    config: Union[str, PathLike[str], Mapping[str, Any]]
    overrides: dict[str, Any]
    metrics_: dict[str, Any]
    model_: SavedModel
    run_dir_: str
    def __init__(self, config: Union[str, PathLike[str], Mapping[str, Any]], **overrides: Any) -> None: ...
    def get_params(self, deep: bool = True) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> "Model": ...
    def fit(self, X: Any, y: Any, progress: Progress = None) -> "Model": ...
    def predict(self, X: Any) -> Any: ...
    def predict_proba(self, X: Any) -> Any: ...
    def score(self, X: Any, y: Any) -> float: ...
