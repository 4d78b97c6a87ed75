"""A stored study's trials as scikit-learn ``cv_results_``-style rows.

Rows use scikit-learn's key names (``param_l2``, ``split0_test_accuracy``,
``mean_test_accuracy``, ``std_test_accuracy``, ``rank_test_accuracy``, ``mean_fit_time``, ...),
so ``pandas.DataFrame(rows)`` (or the csv/json that :mod:`regsearch.inspect` writes) reads like
``GridSearchCV.cv_results_``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.cv.selection import score


def trial_rows(study: optuna.Study, folds: int | None = None) -> list[dict[str, Any]]:
    """One flat row per trial (waiting ones left out), in trial order.

    Pruned and failed trials keep the folds they finished and their ``state_reason``; their
    ``mean_test_accuracy`` and ``rank_test_accuracy`` are empty (``None``), since a partial
    mean is not comparable. ``rank_test_accuracy`` ranks complete trials as scikit-learn does
    (1 is best; equal means share the lowest rank).
    """
    if folds is None:
        folds = records.study_splits(study) or None
    trials = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]
    n_folds = folds or max((len(records.fold_scores(t)) for t in trials), default=0)
    means = sorted((score(t) for t in trials if t.state == TrialState.COMPLETE), reverse=True)
    retries = {records.retry_of(t): t.number for t in trials if records.retry_of(t) is not None}
    rows = []
    for trial in trials:
        attrs, penalty = records.attrs(trial), records.penalty_of(trial)
        row: dict[str, Any] = {
            "trial": trial.number,
            "state": trial.state.name,
            "baseline": records.is_baseline(trial),
            "param_penalty": attrs.get(records.PENALTY, trial.params.get("penalty")),
            "param_l1": penalty.l1,
            "param_l2": penalty.l2,
        }
        for i in range(n_folds):
            row[records.fold_key(i, "test_accuracy")] = records.fold_value(
                attrs, i, "test_accuracy"
            )
        complete = trial.state == TrialState.COMPLETE
        row[records.MEAN_SCORE] = attrs.get(records.MEAN_SCORE) if complete else None
        row[records.STD_SCORE] = attrs.get(records.STD_SCORE) if complete else None
        row["rank_test_accuracy"] = means.index(score(trial)) + 1 if complete else None
        for i in range(n_folds):
            row[records.fold_key(i, "best_epoch")] = records.fold_value(attrs, i, "best_epoch")
        fit_times = _measured(attrs, "fit_time", n_folds)
        row[records.MEAN_FIT_TIME] = float(np.mean(fit_times)) if fit_times else None
        row[records.STD_FIT_TIME] = float(np.std(fit_times)) if fit_times else None
        sparsity, norm = (
            _measured(attrs, "weight_sparsity", n_folds),
            _measured(attrs, "weight_l2", n_folds),
        )
        row["mean_weight_sparsity"] = float(np.mean(sparsity)) if sparsity else None
        row["mean_weight_l2"] = float(np.mean(norm)) if norm else None
        row[records.REASON] = records.reason(trial) or _failure(trial, retries)
        rows.append(row)
    return rows


def _failure(trial: FrozenTrial, retries: dict[int | None, int]) -> str | None:
    """Why a failed trial without a stored reason failed: its worker died (Optuna failed it
    for a missing heartbeat and queued a retry), or nothing is known."""
    if trial.state != TrialState.FAIL:
        return None
    if trial.number in retries:
        return f"its worker stopped (no heartbeat); retried as trial {retries[trial.number]}"
    return "failed (no reason was recorded)"


def _measured(attrs: dict[str, Any], field: str, n_folds: int) -> list[float]:
    return [v for v in records.fold_values(attrs, field, n_folds) if v is not None]
