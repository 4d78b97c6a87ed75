"""Retrain a chosen configuration on the whole training set and test it once."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from regsearch import records
from regsearch.errors import RecordError, RefitError, param
from regsearch.metrics import accuracy, cross_entropy
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


def refit_and_test(
    trainer: Trainer,
    dataset: Dataset,
    trial: optuna.trial.FrozenTrial,
    seed: int,
    save_to: Path | None = None,
    observer: Observer | None = None,
) -> RefitResult:
    """Train ``trial``'s penalty on every training row for :func:`refit_epochs` epochs, with no
    early stopping, tell ``observer`` (:meth:`~regsearch.observe.base.Observer.on_refit`),
    then evaluate once on the test set, if there is one (and save the model to ``save_to``)."""
    penalty = records.penalty_of(trial)
    epochs = refit_epochs(trial)
    all_rows = np.arange(len(dataset.y_train))
    fit = trainer.fit(all_rows, None, penalty, epochs, refit_seed(seed))
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
    )
