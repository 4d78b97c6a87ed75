"""How a trial samples its penalty."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from regsearch.config import SearchSpace
from regsearch.cv.sampling import penalty_choices, suggest_configuration, suggest_penalty
from regsearch.penalty import Penalty


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"penalty": "l1", "l1": 1e-3}, Penalty(l1=1e-3)),
        ({"penalty": "l2", "l2": 2e-4}, Penalty(l2=2e-4)),
        ({"penalty": "l1_l2", "l1": 1e-5, "l2": 1e-2}, Penalty(l1=1e-5, l2=1e-2)),
    ],
)
def test_suggest_penalty(params, expected):
    assert suggest_penalty(optuna.trial.FixedTrial(params), SearchSpace()) == expected


def test_suggest_penalty_respects_range_and_log_scale():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = SearchSpace(penalties=("l2",), lambda_min=1e-5, lambda_max=1e-2)
    values = []
    for _ in range(200):
        trial = study.ask()
        values.append(suggest_penalty(trial, space).l2)
        study.tell(trial, 0.0)
    logs = np.log10(values)
    assert min(values) >= 1e-5 and max(values) <= 1e-2
    assert abs(np.median(logs) - (-3.5)) < 0.3  # log-uniform, not uniform (median would be 5e-3)


def test_weight_decay_is_a_family_of_its_own():
    space = SearchSpace(penalties=("l2", "weight_decay"))
    trial = optuna.trial.FixedTrial({"penalty": "weight_decay", "weight_decay": 0.05})
    assert suggest_penalty(trial, space) == Penalty(weight_decay=0.05)


def test_the_learning_rate_is_searched_by_every_trial_and_none_is_a_family():
    space = SearchSpace(penalties=("l2",), lr_range=(1e-4, 1e-2))
    assert penalty_choices(space) == ["l2", "none"]
    assert penalty_choices(SearchSpace(penalties=("l2",))) == ["l2"]
    baseline = optuna.trial.FixedTrial({"lr": 3e-3})
    assert suggest_configuration(baseline, space, baseline=True) == (Penalty(), 3e-3)
    none = optuna.trial.FixedTrial({"penalty": "none", "lr": 2e-4})
    assert suggest_configuration(none, space) == (Penalty(), 2e-4)
    fixed = optuna.trial.FixedTrial({"penalty": "l2", "l2": 1e-4})
    assert suggest_configuration(fixed, SearchSpace(penalties=("l2",))) == (Penalty(l2=1e-4), None)
