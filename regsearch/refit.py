"""Retrain a chosen configuration on the whole training set and test it once."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from regsearch.metrics import accuracy, cross_entropy
from regsearch.objective import derive_seed, penalty_of

if TYPE_CHECKING:
    import optuna

    from regsearch.backends import Trainer
    from regsearch.data import Dataset


class RefitError(RuntimeError):
    """The refit diverged although the configuration's folds did not."""


@dataclass(frozen=True)
class RefitResult:
    """A configuration retrained on all training data and scored on the test set."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refit_epochs(trial: optuna.trial.FrozenTrial) -> int:
    """``ceil(median(best epoch of each fold))``: the epoch count found by the folds'
    early stopping; the test set is never consulted."""
    best = [v for k, v in trial.user_attrs.items() if k.endswith("_best_epoch")]
    if not best:
        raise ValueError(f"trial {trial.number} has no per-fold best epochs to refit from.")
    return max(1, math.ceil(float(np.median(best))))


def refit_and_test(
    trainer: Trainer,
    dataset: Dataset,
    trial: optuna.trial.FrozenTrial,
    seed: int,
    save_to: Path | None = None,
) -> RefitResult:
    """Train ``trial``'s penalty on every training row for :func:`refit_epochs` epochs, with no
    early stopping, then evaluate once on the test set (and save the model to ``save_to``)."""
    penalty = penalty_of(trial)
    epochs = refit_epochs(trial)
    all_rows = np.arange(len(dataset.y_train))
    fit = trainer.fit(all_rows, None, penalty, epochs, derive_seed(seed, 1))
    if fit.diverged is not None:
        trainer.release()
        raise RefitError(
            f"the refit of trial {trial.number} ({penalty.describe()}) diverged: {fit.diverged}. "
            "Its folds trained fine, so the learning rate is on the edge; lower --lr."
        )
    logits = trainer.predict_logits(fit.model, dataset.x_test)
    model_path = str(trainer.save(fit.model, save_to)) if save_to is not None else None
    trainer.release()
    return RefitResult(
        trial_number=trial.number,
        penalty=penalty.kind,
        l1=penalty.l1,
        l2=penalty.l2,
        epochs=epochs,
        cv_accuracy=float(trial.value if trial.value is not None else float("nan")),
        test_accuracy=accuracy(logits, dataset.y_test),
        test_loss=cross_entropy(logits, dataset.y_test),
        fit_time=fit.fit_time,
        model_path=model_path,
    )
