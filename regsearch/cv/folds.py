"""The cross-validation folds: computed once per study, identical for every trial."""

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from regsearch.backends.base import Fold
from regsearch.errors import ConfigError, param

__all__ = ["Fold", "folds_fingerprint", "make_folds"]


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
