"""Pruning: stop a hopeless configuration early, between its folds or between its epochs.

Across folds (folds trained one at a time): after fold ``i`` a trial reports to Optuna's
pruner, at ``step=i``, either the running mean of its fold accuracies (``median``,
``hyperband``) or that fold's own accuracy (``wilcoxon``, which compares the trial with the
best one fold by fold, as its documentation asks; its signed-rank test cannot reach p < 0.1
with fewer than 4 folds compared, so it suits 8 or more folds). Every trial uses the same
folds, so step ``i`` means the same thing in every trial.

Across epochs (``epochs``; folds trained at once, which finish together, so stopping after a
fold would save nothing): after epoch ``e`` a trial reports, at ``step=e``, the mean over its
folds of each fold's score if training ended there (its validation accuracy at its best epoch
so far, the weights early stopping would restore), so a finished trial's last report is its
cross-validation score. From epoch :func:`first_judged_epoch` on, Optuna's
``MedianPruner`` stops it when that mean is below the median of the finished trials' means at
the same epoch; the folds' models then leave the batched computation. Judging starts late
because strong penalties start slowly: the replay of a 40-trial study behind these settings
is in the README (``python -m regsearch.bench.replay``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import optuna

from regsearch.config import PRUNERS
from regsearch.errors import ConfigError

MEDIAN_STARTUP_TRIALS = 5
"""Trials that finish all folds before the median pruner may stop any: the median of fewer
running means is too noisy to judge by."""

FIRST_JUDGED_FRACTION = 0.4
"""The ``epochs`` pruner judges a trial from this fraction of the epoch budget on."""


def first_judged_epoch(epochs: int) -> int:
    """The first epoch after which the ``epochs`` pruner may stop a trial:
    ``max(2, ceil(FIRST_JUDGED_FRACTION * epochs))``, so never after the first epoch."""
    return max(2, math.ceil(FIRST_JUDGED_FRACTION * epochs))


def make_pruner(name: str, n_folds: int, epochs: int = 1) -> optuna.pruners.BasePruner:
    """The Optuna pruner called ``name``, set up for ``n_folds`` folds of ``epochs`` epochs."""
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "epochs":
        return optuna.pruners.MedianPruner(
            n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=first_judged_epoch(epochs)
        )
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)
    if name == "wilcoxon":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    raise ConfigError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


@dataclass(frozen=True)
class PruningPolicy:
    """Everything the study's pruner decides about how a trial's folds run and report."""

    name: str
    n_folds: int
    epochs: int = 1

    def pruner(self) -> optuna.pruners.BasePruner:
        return make_pruner(self.name, self.n_folds, self.epochs)

    @property
    def judges_epochs(self) -> bool:
        """Whether trials are judged after each epoch of their folds trained at once."""
        return self.name == "epochs"

    @property
    def judges_folds(self) -> bool:
        """Whether trials report after each fold (to be judged between folds)."""
        return not self.judges_epochs

    @property
    def reports_each_fold(self) -> bool:
        """Whether the pruner wants each fold's own score (else the running mean)."""
        return self.name == "wilcoxon"

    @property
    def folds_at_once(self) -> bool:
        """Whether a trial's folds may train as one batched computation: only when nothing
        is pruned between them, since then all of them run anyway."""
        return self.name in ("none", "epochs")

    def reported(self, scores: list[float]) -> float:
        """The value reported after the last of ``scores`` (the folds so far)."""
        return scores[-1] if self.reports_each_fold else float(np.mean(scores))
