"""Computational graphs from Python: the engines of the `cg` Rust toolkit.

``run`` runs any config exactly as the ``experiments`` binary does and returns its metrics;
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

from ._cg import BayesianNetwork, ConfigError, MarkovNetwork, RunError, run
from .learn import Learned, fit, learn, score
from .model import Model, SavedModel, load
from .rbm import RBM
from .som import SOM

__all__ = [
    "BayesianNetwork",
    "ConfigError",
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
