from __future__ import annotations

import numpy as np
import optuna
import pytest
from sklearn.model_selection import StratifiedKFold

from regsearch.config import SearchSpace
from regsearch.cv.folds import folds_fingerprint, make_folds
from regsearch.cv.sampling import suggest_penalty
from regsearch.errors import ConfigError
from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty, weight_stats


def test_penalty_value_is_keras_l1l2_over_kernels():
    w1 = np.array([[1.0, -2.0], [0.5, 0.0]])
    w2 = np.array([[3.0], [-1.0]])
    p = Penalty(l1=0.1, l2=0.01)
    expected = 0.1 * (3.5 + 4.0) + 0.01 * (1 + 4 + 0.25 + 9 + 1)
    assert p.value([w1, w2]) == pytest.approx(expected)
    assert p.kind == "l1_l2" and Penalty(l2=1).kind == "l2" and Penalty().kind == "none"
    assert not Penalty().active and Penalty().value([w1]) == 0.0


def test_weight_stats():
    stats = weight_stats([np.array([[3.0, 0.0]]), np.array([[-4.0], [0.0005]])])
    assert stats.l1_norm == pytest.approx(7.0005)
    assert stats.l2_norm == pytest.approx(np.sqrt(25 + 0.0005**2))
    assert stats.sparsity == pytest.approx(0.5)


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


def test_folds_are_stratified_disjoint_complete_and_repeatable():
    y = np.repeat(np.arange(4), [30, 30, 20, 40])
    folds = make_folds(y, 5, seed=7)
    assert len(folds) == 5
    all_val = np.concatenate([val for _, val in folds])
    assert sorted(all_val) == list(range(len(y)))  # each example validated exactly once
    for train, val in folds:
        assert not set(train) & set(val)
        assert len(train) + len(val) == len(y)
        assert np.bincount(y[val], minlength=4).tolist() == [6, 6, 4, 8]
    again = make_folds(y, 5, seed=7)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    assert folds_fingerprint(folds) == folds_fingerprint(again)
    assert folds_fingerprint(folds) != folds_fingerprint(make_folds(y, 5, seed=8))


def test_repeated_folds_are_r_partitions_each_complete_and_shuffled_anew():
    y = np.repeat(np.arange(3), [20, 25, 15])
    splits = make_folds(y, 4, seed=3, repeats=3)
    assert len(splits) == 12
    for r in range(3):
        partition = splits[4 * r : 4 * r + 4]
        all_val = np.concatenate([val for _, val in partition])
        assert sorted(all_val) == list(range(len(y)))  # each repetition validates every row once
        for train, val in partition:
            assert not set(train) & set(val)
            counts = np.bincount(y[val], minlength=3)
            assert all(c in (n // 4, -(-n // 4)) for c, n in zip(counts, (20, 25, 15), strict=True))
    firsts = [set(splits[4 * r][1]) for r in range(3)]
    assert firsts[0] != firsts[1] != firsts[2]  # shuffled anew, not the same partition thrice
    again = make_folds(y, 4, seed=3, repeats=3)
    assert folds_fingerprint(splits) == folds_fingerprint(again)
    # The first partition is the plain shuffled stratified k-fold, so studies stored before
    # --repeats keep their folds, and more repeats only add splits.
    plain = StratifiedKFold(n_splits=4, shuffle=True, random_state=3).split(np.zeros(60), y)
    assert folds_fingerprint(list(plain)) == folds_fingerprint(make_folds(y, 4, seed=3))
    assert folds_fingerprint(splits[:4]) == folds_fingerprint(make_folds(y, 4, seed=3))


def test_folds_refuse_rare_classes():
    y = np.array([0] * 10 + [1] * 2)
    with pytest.raises(ConfigError, match="class 1 has 2. Use folds 2"):
        make_folds(y, 3, seed=0)


def test_metrics():
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    y = np.array([0, 1, 1])
    assert accuracy(logits, y) == pytest.approx(2 / 3)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert cross_entropy(logits, y) == pytest.approx(-np.mean(log_softmax[[0, 1, 2], y]))
    assert np.isfinite(cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1])))
