"""Pruning across folds: stop a hopeless configuration after one or two folds.

After fold ``i`` a trial reports to Optuna's pruner, at ``step=i``, either the running mean of its
fold accuracies (``median``, ``hyperband``) or that fold's own accuracy (``wilcoxon``, which
compares the trial with the best one fold by fold, as its documentation asks; its signed-rank
test cannot reach p < 0.1 with fewer than 4 folds compared, so it suits 8 or more folds).
Every trial uses the same folds, so step ``i`` means the same thing in every trial.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import optuna

from regsearch.config import PRUNERS

MEDIAN_STARTUP_TRIALS = 5
"""Trials that finish all folds before the median pruner may stop any: the median of fewer
running means is too noisy to judge by."""


def make_pruner(name: str, n_folds: int) -> optuna.pruners.BasePruner:
    """The Optuna pruner called ``name``, set up for ``n_folds`` steps."""
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)
    if name == "wilcoxon":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    raise ValueError(f"unknown pruner {name!r}; choose one of {', '.join(PRUNERS)}")


@dataclass(frozen=True)
class PruningPolicy:
    """Everything the study's pruner decides about how a trial's folds run and report."""

    name: str
    n_folds: int

    def pruner(self) -> optuna.pruners.BasePruner:
        return make_pruner(self.name, self.n_folds)

    @property
    def reports_each_fold(self) -> bool:
        """Whether the pruner wants each fold's own score (else the running mean)."""
        return self.name == "wilcoxon"

    @property
    def folds_at_once(self) -> bool:
        """Whether a trial's folds may train as one batched computation: only when nothing
        is pruned between them, since then all of them run anyway."""
        return self.name == "none"

    def reported(self, scores: list[float]) -> float:
        """The value reported after the last of ``scores`` (the folds so far)."""
        return scores[-1] if self.reports_each_fold else float(np.mean(scores))
