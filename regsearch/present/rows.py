"""A stored study's trials as scikit-learn ``cv_results_``: the one builder of that table.

Rows use scikit-learn's key names (``param_l2``, ``split0_test_accuracy``,
``mean_test_accuracy``, ``std_test_accuracy``, ``rank_test_accuracy``, ``mean_fit_time``, ...),
so ``pandas.DataFrame(rows)`` (or the csv/json that :mod:`regsearch.inspect` writes) reads like
``GridSearchCV.cv_results_``; :func:`cv_results` turns them into that attribute's own layout
(columns, masked where a trial has no value) under the score's name the estimators use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from regsearch import records
from regsearch.cv.selection import score as ranked

ROW_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)
"""The trials :func:`trial_rows` lists by default: all but the waiting ones."""


def trial_rows(
    study: optuna.Study,
    folds: int | None = None,
    *,
    score: str = "accuracy",
    states: Sequence[TrialState] = ROW_STATES,
) -> list[dict[str, Any]]:
    """One flat row per trial in ``states``, in trial order; the scores under
    ``split{i}_test_<score>``, ``mean_test_<score>``, ``std_test_<score>`` and
    ``rank_test_<score>``.

    Pruned and failed trials keep the folds they finished and their ``state_reason``; their
    mean and rank are empty (``None``), since a partial mean is not comparable. The rank orders
    complete trials as scikit-learn does (1 is best; equal means share the lowest rank).
    """
    if folds is None:
        folds = records.study_splits(study) or None
    trials = [t for t in study.get_trials(deepcopy=False) if t.state in states]
    n_folds = folds or max((len(records.fold_scores(t)) for t in trials), default=0)
    means = sorted((ranked(t) for t in trials if t.state == TrialState.COMPLETE), reverse=True)
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
            "param_weight_decay": penalty.weight_decay,
            "param_lr": records.lr_of(trial),
        }
        for i in range(n_folds):
            row[records.fold_key(i, f"test_{score}")] = records.fold_value(
                attrs, i, records.SCORE_FIELD
            )
        complete = trial.state == TrialState.COMPLETE
        # The objective's value is the mean it stored (Optuna's own record of it).
        row[f"mean_test_{score}"] = trial.value if complete else None
        row[f"std_test_{score}"] = attrs.get(records.STD_SCORE) if complete else None
        row[f"rank_test_{score}"] = means.index(ranked(trial)) + 1 if complete else None
        # What the pruner last saw of a pruned trial (a partial mean over folds, or the folds'
        # mean at an epoch): where it stood when stopped, not a score to rank.
        reported = trial.intermediate_values
        row["last_reported_score"] = (
            reported[max(reported)] if trial.state == TrialState.PRUNED and reported else None
        )
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


def cv_results(study: optuna.Study, n_splits: int, score: str = "score") -> dict[str, Any]:
    """The study's finished (complete or pruned) trials in ``GridSearchCV.cv_results_``'s
    layout: ``params``, ``param_penalty``, ``param_l1``, ``param_l2`` (masked where a trial has
    no such lambda), ``split{i}_test_<score>``, ``mean_test_<score>``, ``std_test_<score>``
    (masked where a pruned trial has no value), ``rank_test_<score>`` (trials without a mean
    rank last), ``mean_fit_time``, ``std_fit_time``, and regsearch's ``trial_number``,
    ``state`` and ``baseline``."""
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    rows = trial_rows(study, n_splits, score=score, states=finished)

    def masked(values: list[Any], dtype: Any) -> np.ma.MaskedArray:
        mask = [v is None for v in values]
        filled = [0 if v is None else v for v in values]
        return np.ma.MaskedArray(np.asarray(filled, dtype=dtype), mask=mask)

    def column(key: str) -> list[Any]:
        return [row[key] for row in rows]

    # The decay's and the learning rate's columns only where a trial has one: a study of the
    # loss penalties at a fixed learning rate keeps scikit-learn's keys as they were.
    searched = [name for name in ("weight_decay", "lr") if any(r[f"param_{name}"] for r in rows)]
    lambdas = ("l1", "l2", *searched)
    params = [
        {"penalty": row["param_penalty"]}
        | {name: row[f"param_{name}"] for name in lambdas if row[f"param_{name}"]}
        for row in rows
    ]
    results: dict[str, Any] = {
        "trial_number": np.array(column("trial"), dtype=int),
        "state": np.array(column("state"), dtype=object),
        "baseline": np.array(column("baseline"), dtype=bool),
        "params": params,
        "param_penalty": masked(column("param_penalty"), object),
    }
    for name in lambdas:  # a sampled lambda is > 0: the rows' 0 means the trial has none
        results[f"param_{name}"] = masked([p.get(name) for p in params], float)
    for key in [records.fold_key(i, f"test_{score}") for i in range(n_splits)] + [
        f"mean_test_{score}",
        f"std_test_{score}",
    ]:
        results[key] = masked(column(key), float)
    ranks = column(f"rank_test_{score}")
    last = sum(rank is not None for rank in ranks) + 1
    results[f"rank_test_{score}"] = np.array(
        [last if rank is None else rank for rank in ranks], dtype=np.int32
    )
    for key in (records.MEAN_FIT_TIME, records.STD_FIT_TIME):
        results[key] = np.array([np.nan if v is None else v for v in column(key)])
    return results
