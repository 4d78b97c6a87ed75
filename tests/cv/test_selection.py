"""Rows in scikit-learn's cv_results_ names, and the selection rules, on constructed studies."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from regsearch.cv.selection import select, standard_error
from regsearch.present.rows import trial_rows

PENALTY = CategoricalDistribution(["l1", "l2", "l1_l2"])
LAMBDA = FloatDistribution(1e-6, 1e-1, log=True)


def add(study, scores, state=TrialState.COMPLETE, reason=None, **lambdas):
    """A trial with these fold scores (all of them, or the finished ones of a pruned trial)."""
    kind = "none" if not lambdas else "_".join(sorted(lambdas))
    params = {"penalty": kind, **lambdas} if lambdas else {}
    distributions = {"penalty": PENALTY, **dict.fromkeys(lambdas, LAMBDA)} if lambdas else {}
    attrs = {"penalty": kind, "baseline": not lambdas}
    for i, score in enumerate(scores):
        attrs |= {f"split{i}_test_accuracy": score, f"split{i}_best_epoch": i + 1}
        attrs |= {f"split{i}_fit_time": 1.0 + i, f"split{i}_weight_sparsity": 0.1}
    if state == TrialState.COMPLETE:
        attrs |= {"mean_test_accuracy": float(np.mean(scores))}
        attrs |= {"std_test_accuracy": float(np.std(scores))}
    if reason:
        attrs["state_reason"] = reason
    value = float(np.mean(scores)) if state == TrialState.COMPLETE else None
    trial = create_trial(
        state=state,
        value=value,
        params=params,
        distributions=distributions,
        user_attrs=attrs,
        intermediate_values={} if value is not None else {0: scores[0]},
    )
    study.add_trial(trial)


@pytest.fixture
def study():
    """The one-se answer is known: the best is l2=1e-4 (mean 0.960, SE 0.00316), so the
    threshold is 0.95684; l2=1e-3 (0.958) and l1=5e-4 (0.957) are within it, l2=1e-2 (0.950)
    is not; the most strongly regularized within is l2=1e-3."""
    study = optuna.create_study(direction="maximize")
    add(study, [0.95, 0.95, 0.95, 0.95, 0.95])  # baseline, trial 0
    add(study, [0.96, 0.97, 0.95, 0.96, 0.96], l2=1e-4)  # 1: best
    add(study, [0.958, 0.968, 0.948, 0.958, 0.958], l2=1e-3)  # 2: one-se
    add(study, [0.95, 0.96, 0.94, 0.95, 0.95], l2=1e-2)  # 3: too far below
    add(study, [0.957, 0.967, 0.947, 0.957, 0.957], l1=5e-4)  # 4: within, weaker
    add(study, [0.90], state=TrialState.PRUNED, reason="pruned after fold 0", l2=5e-2)  # 5
    return study


def test_standard_error_is_sample_std_over_sqrt_k():
    assert standard_error([0.96, 0.97, 0.95, 0.96, 0.96]) == pytest.approx(
        np.std([0.96, 0.97, 0.95, 0.96, 0.96], ddof=1) / math.sqrt(5)
    )
    assert math.isnan(standard_error([0.9]))


def test_best_and_one_se_choose_the_known_answers(study):
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert select(complete, "best").number == 1
    assert select(complete, "one-se").number == 2


def test_one_se_falls_back_to_best_when_nothing_else_is_close(study):
    complete = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if t.number in (1, 3)]
    assert select(complete, "one-se").number == 1
    with pytest.raises(ValueError, match="selection rule must be one of best, one-se"):
        select(complete, "median")


def test_rows_use_cv_results_names_and_rank_like_scikit_learn(study):
    rows = trial_rows(study, folds=5)
    assert [r["trial"] for r in rows] == list(range(6))
    best = rows[1]
    assert best["param_penalty"] == "l2" and best["param_l2"] == 1e-4 and best["param_l1"] == 0
    assert best["split1_test_accuracy"] == 0.97
    assert best["mean_test_accuracy"] == pytest.approx(0.96)
    assert best["rank_test_accuracy"] == 1
    assert best["mean_fit_time"] == pytest.approx(3.0) and best["split4_best_epoch"] == 5
    assert [r["rank_test_accuracy"] for r in rows[:5]] == [4, 1, 2, 4, 3]  # ties share the min
    pruned = rows[5]
    assert pruned["state"] == "PRUNED" and pruned["state_reason"] == "pruned after fold 0"
    assert pruned["split0_test_accuracy"] == 0.90 and pruned["split1_test_accuracy"] is None
    assert pruned["mean_test_accuracy"] is None and pruned["rank_test_accuracy"] is None
    assert rows[0]["baseline"] and rows[0]["param_penalty"] == "none"
