"""Learning Bayesian networks from a table of discrete observations: the structure (hill
climbing on BIC, BDeu or K2; the PC algorithm), the tables (maximum likelihood, a Dirichlet
prior, EM when cells are missing) and scores, as the ``bn_learn`` kind does.

``data`` is a pandas DataFrame, a mapping column -> values, or the path of a CSV file; values are
state names (anything ``str()`` turns into one); ``None``, NaN and empty strings are missing.
"""

import csv
import io
import math
import os
from typing import Any, Mapping, NamedTuple, Optional, Sequence

from ._cg import BayesianNetwork, learn_csv, score_csv


class Learned(NamedTuple):
    """A learnt network (tables fitted), its structure's score and the score after each move."""

    network: BayesianNetwork
    score: float
    curve: list


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _csv(data: Any) -> str:
    """CSV text for the engine: a path is read, a DataFrame or mapping is written."""
    if isinstance(data, (str, os.PathLike)):
        with open(data, encoding="utf-8") as f:
            return f.read()
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        data = {str(c): list(data[c]) for c in data.columns}
    if isinstance(data, Mapping):
        columns = [str(c) for c in data]
        values = [list(v) for v in data.values()]
        if len({len(v) for v in values}) > 1:
            raise ValueError("data: the columns have different lengths")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(x) for x in row] for row in zip(*values))
        return out.getvalue()
    raise TypeError("data: a pandas DataFrame, a mapping column -> values, or a CSV file's path")


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
    black_list: Sequence[tuple] = (),
    white_list: Optional[Sequence[tuple]] = None,
    test: str = "chi_square",
    alpha: float = 0.01,
) -> Learned:
    """Learns a structure (``method`` "hill_climb" or "pc") and fits its tables by maximum
    likelihood (EM when cells are missing). Hill climbing's settings are the ``bn_learn``
    kind's (``experiments explain bn_learn``); the same data and settings give the same network
    on any number of threads."""
    return Learned(
        *learn_csv(
            _csv(data),
            method=method,
            score=score,
            ess=ess,
            max_indegree=max_indegree,
            tabu=tabu,
            epsilon=epsilon,
            restarts=restarts,
            perturbation=perturbation,
            seed=seed,
            black_list=[tuple(e) for e in black_list],
            white_list=None if white_list is None else [tuple(e) for e in white_list],
            test=test,
            alpha=alpha,
        )
    )


def fit(
    data: Any,
    edges: Sequence[tuple],
    *,
    estimator: str = "mle",
    prior: str = "bdeu",
    ess: float = 10.0,
    pseudo_count: float = 1.0,
) -> BayesianNetwork:
    """The network with the structure ``edges`` ((parent, child) names) and its tables estimated
    from ``data``: "mle", or "bayes" with ``prior`` "bdeu" (``ess``), "k2" or "pseudo_count";
    by EM when cells are missing."""
    return BayesianNetwork.fit_csv(
        _csv(data), [tuple(e) for e in edges], estimator=estimator, prior=prior, ess=ess, pseudo_count=pseudo_count
    )


def score(data: Any, edges: Sequence[tuple], *, score: str = "bic", ess: float = 10.0) -> float:
    """The score ("bic", "bdeu" with ``ess``, "k2", "log_likelihood") of the structure ``edges``."""
    return score_csv(_csv(data), [tuple(e) for e in edges], score=score, ess=ess)


__all__ = ["Learned", "fit", "learn", "score"]


