"""The backend contract, training one model: it learns, restores its best epoch, repeats itself
for a seed, keeps its validation rows apart, reports divergence and tells each epoch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from regsearch.backends.base import Backend, Fit, Trainer
from regsearch.metrics import accuracy, cross_entropy
from regsearch.models.spec import ModelFactory
from regsearch.penalty import Penalty
from regsearch.testing.check_kit import CHECK_DATA, make_trainer

L2 = Penalty(l2=1e-3)
TRAINING_ROWS, VALIDATION_ROWS = np.arange(0, 240), np.arange(240, 300)


def _fit_with_l2(backend: Backend, model: ModelFactory | None, device: str) -> tuple[Trainer, Fit]:
    """A trainer of 6 epochs with patience 1, and its fit of :data:`L2` (seed 3) on the
    first 240 rows, validated on the other 60."""
    trainer = make_trainer(backend, model, device, epochs=6, patience=1)
    return trainer, trainer.fit(TRAINING_ROWS, VALIDATION_ROWS, L2, epochs=6, seed=3)


def check_fit_learns_and_restores_the_best_epoch(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A fit learns and keeps the best epoch's weights (their penalized validation loss is the
    history's minimum)."""
    data = CHECK_DATA
    trainer, fit = _fit_with_l2(backend, model, device)
    val = VALIDATION_ROWS
    assert fit.diverged is None and fit.fit_time > 0, fit
    assert set(fit.history) == {"loss", "accuracy", "penalty", "val_loss", "val_accuracy"}
    assert all(p > 0 for p in fit.history["penalty"]), "the L2 term, epoch by epoch"
    n_epochs = len(fit.history["val_loss"])
    assert 1 <= fit.best_epoch <= n_epochs <= 6
    assert fit.best_epoch == int(np.argmin(fit.history["val_loss"])) + 1
    logits = trainer.predict_logits(fit.model, data.x_train[val])
    assert accuracy(logits, data.y_train[val]) > 0.7, "chance is 1/3"
    restored = cross_entropy(logits, data.y_train[val]) + L2.value(trainer.kernels(fit.model))
    assert math.isclose(restored, min(fit.history["val_loss"]), rel_tol=1e-4), restored


def check_fit_is_deterministic(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """The same seed repeats a fit exactly (weights and curves), while another seed differs."""
    trainer, fit = _fit_with_l2(backend, model, device)
    train, val = TRAINING_ROWS, VALIDATION_ROWS
    first = trainer.kernels(fit.model)
    again = trainer.fit(train, val, L2, epochs=6, seed=3)
    assert all(
        np.array_equal(a, b) for a, b in zip(first, trainer.kernels(again.model), strict=True)
    ), "the same seed must give the same weights"
    assert again.history == fit.history
    other = trainer.fit(train, val, L2, epochs=6, seed=4)
    assert not np.array_equal(first[0], trainer.kernels(other.model)[0]), "seed 4 == seed 3"


def check_early_stopping_sees_only_the_validation_rows(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """Training rows and validation rows are kept apart: a validation part made of another
    class's rows gives a poor score, which would not happen if it were trained on."""
    data = CHECK_DATA
    trainer = make_trainer(backend, model, device, epochs=3)
    train = np.flatnonzero(data.y_train != 2)
    val = np.flatnonzero(data.y_train == 2)
    fit = trainer.fit(train, val, Penalty(), epochs=3, seed=0)
    assert accuracy(trainer.predict_logits(fit.model, data.x_train[val]), data.y_train[val]) < 0.2


def check_divergence_is_reported_not_raised(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A fit whose loss turns non-finite says so in ``diverged`` instead of raising, and the
    epoch it diverged in is still told to ``on_epoch_end``."""
    trainer = make_trainer(backend, model, device, lr=1e30)
    told: list[dict[str, float]] = []
    fit = trainer.fit(
        np.arange(240),
        np.arange(240, 300),
        Penalty(l2=1e-2),
        epochs=3,
        seed=0,
        on_epoch_end=lambda _, __, logs: told.append(logs),
    )
    assert fit.diverged is not None and "loss became" in fit.diverged, fit.diverged
    assert told and all("loss" in logs for logs in told), told  # the diverged epoch is told


def check_epochs_are_told_as_they_end(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """``on_epoch_end`` hears each epoch's values after it ends and before the next begins,
    the same values the history keeps, from ``fit`` and (where offered) ``fit_many``."""
    trainer = make_trainer(backend, model, device, epochs=3, patience=5)
    told: list[tuple[Any, ...]] = []
    fit = trainer.fit(
        np.arange(240),
        np.arange(240, 300),
        Penalty(l2=1e-3),
        epochs=3,
        seed=0,
        on_epoch=lambda epoch: told.append(("begins", epoch)),
        on_epoch_end=lambda job, epoch, logs: told.append(("ends", job, epoch, logs)),
    )
    assert [t[:3] for t in told] == [
        ("begins", 1), ("ends", 0, 1), ("begins", 2), ("ends", 0, 2), ("begins", 3), ("ends", 0, 3)
    ], told  # fmt: skip
    for _, _, epoch, logs in (t for t in told if t[0] == "ends"):
        assert logs == {key: values[epoch - 1] for key, values in fit.history.items()}, logs
    if trainer.fold_parallel is None:
        return
    ended: list[tuple[int, int]] = []
    folds = [(np.arange(0, 200), np.arange(200, 300)), (np.arange(100, 300), np.arange(0, 100))]
    trainer.fold_parallel.fit_folds(
        folds, Penalty(), 2, [0, 1], on_epoch_end=lambda job, epoch, _: ended.append((job, epoch))
    )
    assert sorted(ended) == [(0, 1), (0, 2), (1, 1), (1, 2)], ended
