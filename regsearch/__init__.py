"""regsearch: find how strongly, and with which penalty, to regularize a neural network.

An Optuna study samples the penalty type (L1, L2, L1+L2) and log-uniform lambdas; each sample is
scored by stratified k-fold cross-validation with TensorFlow/Keras or PyTorch; the best is
retrained on the whole training set and tested once.

>>> from regsearch import StudyConfig, run_study  # doctest: +SKIP
>>> result = run_study(StudyConfig(backend="torch", dataset="digits", trials=5))  # doctest: +SKIP
>>> result.chosen.test_accuracy  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from regsearch.config import ConfigError, SearchSpace, StudyConfig, TrainSettings
from regsearch.penalty import Penalty

if TYPE_CHECKING:
    from regsearch.refit import RefitResult
    from regsearch.runner import StudyResult, run_study

__all__ = [
    "ConfigError",
    "Penalty",
    "RefitResult",
    "SearchSpace",
    "StudyConfig",
    "StudyResult",
    "TrainSettings",
    "run_study",
]


def __getattr__(name: str) -> Any:
    # The runner pulls in optuna and scikit-learn; load it on first use only.
    if name in ("run_study", "StudyResult"):
        from regsearch import runner

        return getattr(runner, name)
    if name == "RefitResult":
        from regsearch.refit import RefitResult

        return RefitResult
    raise AttributeError(f"module 'regsearch' has no attribute {name!r}")
