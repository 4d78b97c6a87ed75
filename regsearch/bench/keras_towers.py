"""Does Keras gain from training a trial's folds at once? A probe of the towers path
(:mod:`regsearch.backends.keras_towers`) against the same trainer's folds one by one."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from regsearch.config import TrainSettings
from regsearch.data import Dataset
from regsearch.penalty import Penalty


def keras_towers(
    ds: Dataset, settings: TrainSettings, penalty: Penalty, k: int, seed: int
) -> tuple[float, float]:
    """Seconds per epoch of ``k`` folds with validation each epoch and no early stop:
    ``(one by one, as k towers)``, both with regsearch's Keras trainer."""
    from regsearch.backends import get_backend
    from regsearch.models import model_factory

    settings = dataclasses.replace(settings, patience=settings.epochs + 1)  # every epoch runs
    trainer = get_backend("tf").trainer(
        ds.x_train, ds.y_train, ds.n_classes, settings, model_factory("mlp", "tf", settings.hidden)
    )
    assert trainer.fold_parallel is not None, trainer.fold_parallel_reason
    parts = np.array_split(np.random.default_rng(seed).permutation(len(ds.y_train)), k)
    folds = [(np.concatenate(parts[:i] + parts[i + 1 :]), parts[i]) for i in range(k)]
    seeds = [seed + i for i in range(k)]
    # Warm-up: tracing and XLA compilation, once per trainer on either path.
    trainer.fit(*folds[0], penalty, 1, seed)
    trainer.fold_parallel.fit_folds(folds, penalty, 1, seeds)

    start = time.perf_counter()
    for (train, val), fold_seed in zip(folds, seeds, strict=True):
        trainer.fit(train, val, penalty, settings.epochs, fold_seed)
    one_by_one = (time.perf_counter() - start) / settings.epochs
    start = time.perf_counter()
    trainer.fold_parallel.fit_folds(folds, penalty, settings.epochs, seeds)
    return one_by_one, (time.perf_counter() - start) / settings.epochs
