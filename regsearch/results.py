"""A stored study's trials as scikit-learn ``cv_results_``-style rows, and the selection rules.

Rows use scikit-learn's key names (``param_l2``, ``split0_test_accuracy``,
``mean_test_accuracy``, ``std_test_accuracy``, ``rank_test_accuracy``, ``mean_fit_time``, ...),
so ``pandas.DataFrame(rows)`` (or the csv/json that :mod:`regsearch.inspect` writes) reads like
``GridSearchCV.cv_results_``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch.config import SELECTION_RULES
from regsearch.objective import BASELINE_ATTR, REASON_ATTR, penalty_of


def fold_scores(trial: FrozenTrial) -> list[float]:
    """The validation accuracies of the folds the trial finished, in fold order."""
    scores = []
    for i in range(len(trial.user_attrs)):
        key = f"split{i}_test_accuracy"
        if key not in trial.user_attrs:
            break
        scores.append(float(trial.user_attrs[key]))
    return scores


def standard_error(scores: list[float]) -> float:
    """``s / sqrt(k)``: ``s`` the sample standard deviation (ddof=1) of the ``k`` fold scores;
    ``nan`` for fewer than two folds."""
    if len(scores) < 2:
        return math.nan
    return float(np.std(scores, ddof=1) / math.sqrt(len(scores)))


def strength(trial: FrozenTrial) -> float:
    """How strongly a configuration regularizes, for the one-standard-error rule: ``l1 + l2``
    (0 for the baseline). Exact within one penalty type; across types it is a convention, as
    lambdas of L1 and L2 are not on one scale."""
    penalty = penalty_of(trial)
    return penalty.l1 + penalty.l2


def complete_trials(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def select_best(trials: list[FrozenTrial]) -> FrozenTrial:
    """The highest mean CV accuracy (the lowest trial number among equals, as Optuna)."""
    return max(trials, key=lambda t: (_value(t), -t.number))


def select_one_se(trials: list[FrozenTrial]) -> FrozenTrial:
    """The one-standard-error rule (Hastie, Tibshirani and Friedman, ESL 7.10): among the
    configurations whose mean CV accuracy is at least ``best mean - SE(best)``, the most
    strongly regularized one (largest :func:`strength`; the better mean among equals).
    ``SE(best)`` is :func:`standard_error` of the best configuration's fold scores."""
    best = select_best(trials)
    se = standard_error(fold_scores(best))
    if not math.isfinite(se):
        return best
    threshold = _value(best) - se
    eligible = [t for t in trials if _value(t) >= threshold]
    return max(eligible, key=lambda t: (strength(t), _value(t), -t.number))


def select(trials: list[FrozenTrial], rule: str) -> FrozenTrial:
    """Apply selection ``rule`` (``best`` or ``one-se``) to the complete trials."""
    if not trials:
        raise ValueError("no complete trial to select from")
    if rule == "best":
        return select_best(trials)
    if rule == "one-se":
        return select_one_se(trials)
    raise ValueError(f"selection rule must be one of {', '.join(SELECTION_RULES)}, got {rule!r}")


def _value(trial: FrozenTrial) -> float:
    return float(trial.value) if trial.value is not None else -math.inf


def trial_rows(study: optuna.Study, folds: int | None = None) -> list[dict[str, Any]]:
    """One flat row per trial (waiting ones left out), in trial order.

    Pruned and failed trials keep the folds they finished and their ``state_reason``; their
    ``mean_test_accuracy`` and ``rank_test_accuracy`` are empty (``None``), since a partial
    mean is not comparable. ``rank_test_accuracy`` ranks complete trials as scikit-learn does
    (1 is best; equal means share the lowest rank).
    """
    if folds is None:
        folds = int(study.user_attrs.get("config", {}).get("folds", 0)) or None
    trials = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING]
    n_folds = folds or max((len(fold_scores(t)) for t in trials), default=0)
    means = sorted((_value(t) for t in trials if t.state == TrialState.COMPLETE), reverse=True)
    rows = []
    for trial in trials:
        attrs, penalty = trial.user_attrs, penalty_of(trial)
        row: dict[str, Any] = {
            "trial": trial.number,
            "state": trial.state.name,
            "baseline": bool(attrs.get(BASELINE_ATTR, False)),
            "param_penalty": attrs.get("penalty", trial.params.get("penalty")),
            "param_l1": penalty.l1,
            "param_l2": penalty.l2,
        }
        for i in range(n_folds):
            row[f"split{i}_test_accuracy"] = attrs.get(f"split{i}_test_accuracy")
        complete = trial.state == TrialState.COMPLETE
        row["mean_test_accuracy"] = attrs.get("mean_test_accuracy") if complete else None
        row["std_test_accuracy"] = attrs.get("std_test_accuracy") if complete else None
        row["rank_test_accuracy"] = means.index(_value(trial)) + 1 if complete else None
        for i in range(n_folds):
            row[f"split{i}_best_epoch"] = attrs.get(f"split{i}_best_epoch")
        fit_times = [
            attrs[f"split{i}_fit_time"] for i in range(n_folds) if f"split{i}_fit_time" in attrs
        ]
        row["mean_fit_time"] = float(np.mean(fit_times)) if fit_times else None
        row["std_fit_time"] = float(np.std(fit_times)) if fit_times else None
        row["mean_weight_sparsity"] = _fold_mean(attrs, "weight_sparsity", n_folds)
        row["mean_weight_l2"] = _fold_mean(attrs, "weight_l2", n_folds)
        row["state_reason"] = attrs.get(REASON_ATTR)
        rows.append(row)
    return rows


def _fold_mean(attrs: dict[str, Any], name: str, n_folds: int) -> float | None:
    values = [attrs[f"split{i}_{name}"] for i in range(n_folds) if f"split{i}_{name}" in attrs]
    return float(np.mean(values)) if values else None
