"""The cross-validation folds: computed once per study, identical for every trial."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from regsearch.backends.base import Fold
from regsearch.errors import ConfigError, param

__all__ = ["Fold", "Splits", "folds_fingerprint", "make_folds", "splitter_splits"]


def make_folds(
    y: np.ndarray, n_folds: int, seed: int, repeats: int = 1, *, option: str = "folds"
) -> list[Fold]:
    """Stratified k-fold splits of ``y``, shuffled with ``seed``: one partition
    (``StratifiedKFold``), or ``repeats`` partitions each shuffled anew
    (``RepeatedStratifiedKFold``), listed partition by partition, ``repeats * n_folds`` in all.

    The same ``(y, n_folds, seed, repeats)`` always gives the same splits, so every trial (and
    every resumed run) is scored on identical ones.

    Raises:
        ConfigError: if some class has fewer than ``n_folds`` members (the message names the
            setting ``option``).
    """
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < n_folds:
        rare = classes[counts.argmin()]
        raise ConfigError(
            f"stratified {n_folds}-fold cross-validation needs at least {n_folds} examples of "
            f"every class, but class {rare} has {counts.min()}. Use {param(option)} "
            f"{max(2, counts.min())} or fewer, or more data."
        )
    # The first partition is StratifiedKFold(shuffle=True, random_state=seed)'s (the only one
    # before --repeats existed), so more repeats extend a study's splits, never reshuffle them.
    splitter = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=repeats, random_state=seed)
    return [
        (train.astype(np.int64), val.astype(np.int64))
        for train, val in splitter.split(np.zeros(len(y)), y)
    ]


def folds_fingerprint(folds: list[Fold]) -> str:
    """A SHA-256 over every fold's validation indices (the train parts are their complements)."""
    digest = hashlib.sha256()
    for _, val in folds:
        digest.update(np.asarray(val, dtype=np.int64).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


@dataclass(frozen=True)
class Splits:
    """A scikit-learn splitter's train/validation splits, used instead of :func:`make_folds`'s.

    Attributes:
        folds: the splits, as index arrays into the training set.
        description: the splitter as its ``repr``, e.g. ``KFold(n_splits=3, ...)``.
        test_to_train: the mean ratio of validation to training rows over the splits, the
            ``n_test / n_train`` of the corrected t-test (``1 / (k - 1)`` for k-fold).
    """

    folds: list[Fold]
    description: str
    test_to_train: float

    def record(self) -> dict[str, Any]:
        """What the study stores as :data:`regsearch.records.SPLITTER`."""
        return {"splitter": self.description, "test_to_train": self.test_to_train}


def splitter_splits(
    splitter: Any, x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None
) -> Splits:
    """The splits of a scikit-learn splitter (anything with ``split(X, y, groups)``), checked.

    Raises:
        ConfigError: the splitter yields no split, or a split with an empty part or with
            indices outside the training set.
    """
    n = len(y)
    folds: list[Fold] = []
    for i, (train, val) in enumerate(splitter.split(x, y, groups)):
        train, val = np.asarray(train, dtype=np.int64), np.asarray(val, dtype=np.int64)
        if len(train) == 0 or len(val) == 0:
            raise ConfigError(
                f"cv={splitter!r}: split {i} has {len(train)} training and {len(val)} "
                "validation rows; every split needs both. Use fewer splits or more data."
            )
        if min(train.min(), val.min()) < 0 or max(train.max(), val.max()) >= n:
            raise ConfigError(
                f"cv={splitter!r}: split {i} holds indices outside the {n} training rows; "
                "a splitter must yield positions 0..n-1 of the rows it was given."
            )
        folds.append((train, val))
    if len(folds) < 2:
        raise ConfigError(
            f"cv={splitter!r} gave {len(folds)} split(s); the comparison of every "
            "configuration with the baseline needs at least 2."
        )
    ratio = float(np.mean([len(val) / len(train) for train, val in folds]))
    return Splits(folds, repr(splitter), ratio)
