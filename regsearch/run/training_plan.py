"""How a study's trials will train, and the sentences that say so at the start of a run: the
epoch cap for the data, the pruner ``auto`` picks, whether a trial's folds train at once, and
populations of trials."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

from regsearch.backends.base import Trainer
from regsearch.config import StudyConfig
from regsearch.cv.folds import Fold
from regsearch.cv.pruning import PruningPolicy


def with_epoch_cap(
    config: StudyConfig, folds: Sequence[Fold], log: Callable[[str], None]
) -> StudyConfig:
    """``config`` with its epoch cap raised to reach ``config.train.min_steps`` optimizer steps
    on the smallest fold (:meth:`~regsearch.config.TrainSettings.epoch_cap`), said in one
    line where it changes; unchanged otherwise. Every part of the study (the objective, the
    pruners, the records, the epoch-cap count) then works with that one cap."""
    train = config.train
    rows = min((len(train_rows) for train_rows, _ in folds), default=0)
    cap = train.epoch_cap(rows)
    if cap == train.epochs:
        return config
    batches = math.ceil(rows / train.batch_size)
    log(
        f"Epoch cap: {cap} epochs, raised from {train.epochs} so that each fold trains at least "
        f"{train.min_steps} Adam steps ({rows} rows: {batches} batch(es) of {train.batch_size} "
        "an epoch); early stopping ends most folds sooner. An epoch count given (--epochs) is "
        "kept as the cap."
    )
    return dataclasses.replace(config, train=dataclasses.replace(train, epochs=cap))


def auto_pruner(trainer: Trainer) -> str:
    """``epochs`` where ``trainer``'s folds train at once, else ``median``: on this project's
    2-core CPU a 20-trial MNIST study with folds at once and the ``epochs`` pruner took 0.75 of
    the time of folds one at a time with the ``median`` pruner, at the same choice (README,
    "Speed")."""
    return "epochs" if trainer.fold_parallel is not None else "median"


def why_pruner(pruner: str) -> str:
    if pruner == "epochs":
        return (
            "Pruner: epochs (auto): folds train at once, so a trial is judged after each of "
            "its epochs, against the median of the finished trials."
        )
    return (
        "Pruner: median (auto): folds train one at a time, so a trial is judged after each "
        "fold, against the median of the finished trials."
    )


def how_folds_train(trainer: Trainer, config: StudyConfig) -> str:
    """The trainer's own answer, unless the pruner keeps the folds apart."""
    if (
        trainer.fold_parallel is not None
        and not PruningPolicy(config.pruner, config.n_splits, config.train.epochs).folds_at_once
    ):
        return (
            f"folds train one at a time, since the {config.pruner} pruner may stop a trial "
            "between them (with the epochs pruner, or none, they train at once)"
        )
    return trainer.fold_parallel_reason


def how_trials_train(trainer: Trainer, config: StudyConfig) -> str:
    if trainer.fold_parallel is None:
        return (
            f"Trials train one at a time: a batch of {config.trial_batch} trials needs a model "
            "whose folds train at once."
        )
    return (
        f"Trials train {config.trial_batch} at a time: their {config.trial_batch} x "
        f"{config.n_splits} models as one population, sampled together (TPE with constant_liar)."
    )
