"""Computational graphs from Python: the engines of the `cg` Rust toolkit.

``run`` runs any config exactly as the ``experiments`` binary does and returns its metrics;
``Graph`` evaluates a scalar computational graph and its derivatives;
``BayesianNetwork`` answers exact queries on a network read from a BIF file (``MarkovNetwork``
on one read from a UAI file); ``SOM`` trains a
Kohonen map with MiniSom's names and ``RBM`` a restricted Boltzmann machine with scikit-learn's
(numpy arrays in and out);
``load`` reads a trained model from its results folder and predicts as ``experiments predict``;
``Model`` is a model or mlp config as a scikit-learn estimator; ``learn``, ``fit`` and ``score``
learn Bayesian networks from data. Errors are
``ConfigError`` (a ``ValueError``: the input cannot run, the message names the place) and
``RunError`` (a ``RuntimeError``: a run that started and failed).
"""

import os as _os

from . import _cg
from ._cg import BayesianNetwork, ConfigError, Graph, MarkovNetwork, RunError
from ._progress import callback as _callback
from .learn import Learned, fit, learn, score
from .model import Model, SavedModel, load
from .rbm import RBM
from .som import SOM



def run(config, overrides=None, out=None, base=None, progress=None):
    """Runs a config exactly as ``experiments CONFIG KEY=VALUE... [--out DIR]`` does and returns
    its metrics (``metrics.json``, or the kind's main JSON file) as a dict.

    `config` is a TOML file's path, TOML text or a dict (data paths relative to `base`, the
    current folder by default); `overrides` maps dotted keys to values
    (``{"optimizer.learning_rate": 0.1}``); `out`, when given, is the results folder written as
    the binary writes it. `progress`: ``True`` for a tqdm bar (a line per step on stderr without
    tqdm), or a callable ``progress(step, total, unit, message)`` called at each step of a long
    run.
    """
    if isinstance(config, _os.PathLike):
        config = _os.fspath(config)
    return _cg.run(config, overrides, out, base, _callback(progress, "run"))


__all__ = [
    "BayesianNetwork",
    "ConfigError",
    "Graph",
    "Learned",
    "MarkovNetwork",
    "Model",
    "RBM",
    "RunError",
    "SOM",
    "SavedModel",
    "fit",
    "learn",
    "load",
    "run",
    "score",
]
