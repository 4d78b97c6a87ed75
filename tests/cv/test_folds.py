"""The cross-validation folds: stratified, repeatable, repeated, refused where a class is rare."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from regsearch.cv.folds import folds_fingerprint, make_folds
from regsearch.errors import ConfigError


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
