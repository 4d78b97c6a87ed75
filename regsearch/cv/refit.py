"""Retrain a chosen configuration on the whole training set and test it once."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from regsearch import records
from regsearch.errors import RecordError, RefitError, param
from regsearch.metrics import accuracy, cross_entropy
from regsearch.penalty import Penalty
from regsearch.seeds import refit_seed

if TYPE_CHECKING:
    import optuna

    from regsearch.backends.base import Trainer
    from regsearch.data import Dataset
    from regsearch.observe.base import Observer


@dataclass(frozen=True)
class RefitResult:
    """A configuration retrained on all training data and scored on the test set
    (``test_accuracy`` and ``test_loss`` are NaN where the data have no test set)."""

    trial_number: int
    penalty: str
    l1: float
    l2: float
    epochs: int
    cv_accuracy: float
    test_accuracy: float
    test_loss: float
    fit_time: float
    model_path: str | None = None
    majority_accuracy: float | None = None
    """The test accuracy of always predicting the training set's most frequent class: what
    a model that learned nothing scores (``None`` in studies refit before it was recorded)."""
    weight_decay: float = 0.0
    """The configuration's decoupled weight decay, as its trial sampled it (0 for the loss
    penalties)."""
    refit_weight_decay: float = 0.0
    """The weight decay the refit trained with: :attr:`weight_decay` at the folds' timescale
    (:func:`refit_decay`)."""
    lr: float | None = None
    """The learning rate the refit trained with, where it was searched (``None``: the
    settings' fixed ``lr``)."""
    test_examples: int | None = None
    """How many test rows ``test_accuracy`` is over (``None``: no test set, or a study refit
    before it was recorded)."""

    @property
    def strengths(self) -> Penalty:
        """The configuration's strengths as a :class:`~regsearch.penalty.Penalty`."""
        return Penalty(self.l1, self.l2, self.weight_decay)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refit_epochs(trial: optuna.trial.FrozenTrial) -> int:
    """``ceil(median(best epoch of each fold))``: the epoch count found by the folds'
    early stopping; the test set is never consulted."""
    attrs = records.attrs(trial)
    best = [v for v in records.fold_values(attrs, "best_epoch", len(attrs)) if v is not None]
    if not best:
        raise RecordError(f"trial {trial.number} has no per-fold best epochs to refit from.")
    return max(1, math.ceil(float(np.median(best))))


def refit_decay(weight_decay: float, fold_rows: float, all_rows: int) -> float:
    """The refit's weight decay: the same timescale in epochs as on the folds.

    Decoupled decay averages the updates over about ``1 / (lr * wd)`` steps, i.e.
    ``B / (lr * wd * N)`` epochs of ``N`` rows in batches of ``B`` (Wang & Aitchison, ICML
    2025); keeping that constant from ``fold_rows`` to ``all_rows`` (the refit trains on about
    ``k / (k - 1)`` times a fold's rows) gives ``wd * fold_rows / all_rows``."""
    return weight_decay * fold_rows / all_rows


def refit_and_test(
    trainer: Trainer,
    dataset: Dataset,
    trial: optuna.trial.FrozenTrial,
    seed: int,
    save_to: Path | None = None,
    observer: Observer | None = None,
    fold_rows: float | None = None,
) -> RefitResult:
    """Train ``trial``'s configuration (penalty, and learning rate where it was searched) on
    every training row for :func:`refit_epochs` epochs, with no early stopping, tell
    ``observer`` (:meth:`~regsearch.observe.base.Observer.on_refit`), then evaluate once on
    the test set, if there is one (and save the model to ``save_to``).

    A weight decay keeps its timescale (:func:`refit_decay`: scaled by ``fold_rows``, the
    folds' mean training rows, over all rows)."""
    penalty = records.penalty_of(trial)
    all_rows = np.arange(len(dataset.y_train))
    trained = penalty
    if penalty.weight_decay and fold_rows:
        decay = refit_decay(penalty.weight_decay, fold_rows, len(all_rows))
        trained = replace(penalty, weight_decay=decay)
    epochs = refit_epochs(trial)
    lr = records.lr_of(trial)
    fit = trainer.fit(all_rows, None, trained, epochs, refit_seed(seed), lr=lr)
    if observer is not None:
        observer.on_refit(trial.number, penalty, fit)
    if fit.diverged is not None:
        raise RefitError(
            f"the refit of trial {trial.number} ({penalty.describe()}) diverged: {fit.diverged}. "
            f"Its folds trained fine, so the learning rate is on the edge; lower {param('lr')}."
        )
    model_path = str(trainer.save(fit.model, save_to)) if save_to is not None else None
    nan = float("nan")
    test_accuracy, test_loss, majority = nan, nan, None
    if dataset.has_test_set:
        logits = trainer.predict_logits(fit.model, dataset.x_test)
        test_accuracy = accuracy(logits, dataset.y_test)
        test_loss = cross_entropy(logits, dataset.y_test)
        majority = float(np.mean(dataset.y_test == np.bincount(dataset.y_train).argmax()))
    return RefitResult(
        trial_number=trial.number,
        penalty=penalty.kind,
        l1=penalty.l1,
        l2=penalty.l2,
        epochs=epochs,
        cv_accuracy=float(trial.value if trial.value is not None else nan),
        test_accuracy=test_accuracy,
        test_loss=test_loss,
        fit_time=fit.fit_time,
        model_path=model_path,
        majority_accuracy=majority,
        weight_decay=penalty.weight_decay,
        refit_weight_decay=trained.weight_decay,
        lr=lr,
        test_examples=len(dataset.y_test) if dataset.has_test_set else None,
    )
