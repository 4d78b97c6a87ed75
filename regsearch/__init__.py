"""regsearch: find how strongly, and with which penalty, to regularize a neural network.

An Optuna study samples the penalty type (L1, L2, L1+L2) and log-uniform lambdas; each sample is
scored by stratified k-fold cross-validation with TensorFlow/Keras or PyTorch; the best is
retrained on the whole training set and tested once.

>>> from regsearch import StudyConfig, run_study  # doctest: +SKIP
>>> result = run_study(StudyConfig(backend="torch", dataset="digits", trials=5))  # doctest: +SKIP
>>> result.chosen.test_accuracy  # doctest: +SKIP

or as a scikit-learn estimator:

>>> from regsearch import RegularizationSearchCV  # doctest: +SKIP
>>> RegularizationSearchCV("mlp", backend="torch", cv=5, n_trials=20).fit(X, y)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from regsearch.config import SearchSpace, StudyConfig, TrainSettings
from regsearch.errors import (
    ArgumentError,
    BackendUnavailable,
    ConfigError,
    DataError,
    InputError,
    ModelError,
    NothingToRefit,
    RecordError,
    RefitElsewhere,
    RefitError,
    RegsearchError,
    RegsearchWarning,
    StorageFailed,
    StudyMismatch,
    WorkerFailed,
)
from regsearch.penalty import Penalty

if TYPE_CHECKING:
    from regsearch.backends.saved import load_model, predict_proba
    from regsearch.cv.refit import RefitResult
    from regsearch.data import Dataset
    from regsearch.estimator import RegularizationSearchCV
    from regsearch.run import StudyResult, run_study

__all__ = [
    "ArgumentError",
    "BackendUnavailable",
    "ConfigError",
    "DataError",
    "Dataset",
    "InputError",
    "ModelError",
    "NothingToRefit",
    "Penalty",
    "RecordError",
    "RefitElsewhere",
    "RefitError",
    "RefitResult",
    "RegsearchError",
    "RegsearchWarning",
    "RegularizationSearchCV",
    "SearchSpace",
    "StorageFailed",
    "StudyConfig",
    "StudyMismatch",
    "StudyResult",
    "TrainSettings",
    "WorkerFailed",
    "load_model",
    "predict_proba",
    "run_study",
]

# Names whose modules pull in optuna and scikit-learn: loaded on first use only.
_LAZY = {
    "run_study": "regsearch.run",
    "StudyResult": "regsearch.run",
    "RefitResult": "regsearch.cv.refit",
    "Dataset": "regsearch.data",
    "RegularizationSearchCV": "regsearch.estimator",
    "load_model": "regsearch.backends.saved",
    "predict_proba": "regsearch.backends.saved",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'regsearch' has no attribute {name!r}")
