"""What every backend check shares: the data, a trainer made for a check, and the assertion
that a model trained batched is the model trained alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from regsearch.backends.base import Backend, Fit, Trainer
from regsearch.config import TrainSettings
from regsearch.models import model_factory
from regsearch.models.spec import ModelFactory
from regsearch.testing.synthetic import synthetic_dataset

CHECK_DATA = synthetic_dataset(n_train=300, n_test=90)
"""The synthetic data every check trains on: 300 training rows of 3 classes."""


def make_trainer(
    backend: Backend,
    model: ModelFactory | None,
    device: str,
    x: np.ndarray | None = None,
    scaling: str = "none",
    **settings: Any,
) -> Trainer:
    train = TrainSettings(**{"epochs": 4, "batch_size": 32, "lr": 1e-2, **settings})
    data = CHECK_DATA
    factory = model or model_factory("mlp", backend.name, train.hidden)
    x = data.x_train if x is None else x
    return backend.trainer(x, data.y_train, data.n_classes, train, factory, device, scaling)


def assert_same_fit(trainer: Trainer, batched: Fit, alone: Fit, x_val: np.ndarray) -> None:
    """A model trained batched is the one ``fit`` trained alone, up to float rounding: the
    same best epoch, the same curves, the same predictions on its validation rows."""
    assert batched.best_epoch == alone.best_epoch, (batched.best_epoch, alone.best_epoch)
    for key, values in alone.history.items():
        np.testing.assert_allclose(batched.history[key], values, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(
        trainer.predict_logits(batched.model, x_val),
        trainer.predict_logits(alone.model, x_val),
        rtol=1e-3,
        atol=1e-3,
    )
