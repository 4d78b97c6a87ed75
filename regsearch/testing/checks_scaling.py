"""The backend contract, scaling features: a scaling is fitted on a model's training rows only,
and a saved model takes raw rows."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from regsearch.backends.base import Backend
from regsearch.backends.saved import load_model, predict_proba
from regsearch.metrics import accuracy
from regsearch.models.spec import ModelFactory
from regsearch.penalty import Penalty
from regsearch.testing.check_kit import CHECK_DATA, make_trainer
from regsearch.testing.synthetic import raw_scales


def check_scaling_is_fitted_on_training_rows_only(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """With ``scaling="standard"`` on raw-scale features, a model learns, and an extreme value
    in rows it does not train on (its validation rows, and rows outside the fold) changes
    nothing of its training: the scaling is fitted on the training rows only, on the
    one-by-one and on the batched path."""
    data = CHECK_DATA
    x = raw_scales(data.x_train)
    poisoned = x.copy()
    train, val, outside = np.arange(0, 200), np.arange(200, 260), np.arange(260, 300)
    poisoned[val[:3]] = 1e6
    poisoned[outside[:3]] = -1e6
    clean = make_trainer(backend, model, device, x=x, scaling="standard", epochs=3, patience=5)
    dirty = make_trainer(
        backend, model, device, x=poisoned, scaling="standard", epochs=3, patience=5
    )
    alone = clean.fit(train, val, Penalty(l2=1e-3), epochs=3, seed=0)
    again = dirty.fit(train, val, Penalty(l2=1e-3), epochs=3, seed=0)
    logits = clean.predict_logits(alone.model, x[val])
    assert accuracy(logits, data.y_train[val]) > 0.7, "scaled raw features are learnable"
    for key in ("loss", "accuracy", "penalty"):
        np.testing.assert_allclose(again.history[key], alone.history[key], rtol=1e-6)
    # Without early stopping (whose best epoch the validation rows choose), the same
    # training rows give the same model.
    final = clean.fit(train, None, Penalty(l2=1e-3), epochs=2, seed=0)
    final_dirty = dirty.fit(train, None, Penalty(l2=1e-3), epochs=2, seed=0)
    np.testing.assert_allclose(
        dirty.predict_logits(final_dirty.model, x[train]),
        clean.predict_logits(final.model, x[train]),
        rtol=1e-5,
        atol=1e-5,
        err_msg="the same training rows must give the same model",
    )
    if dirty.fold_parallel is not None:
        folds = [(train, val), (np.arange(100, 300), np.arange(100))]
        fits = dirty.fold_parallel.fit_folds(folds, Penalty(l2=1e-3), 3, seeds=[0, 1])
        for key in ("loss", "accuracy"):
            np.testing.assert_allclose(fits[0].history[key], alone.history[key], rtol=1e-3)


def check_saved_model_takes_raw_rows(
    backend: Backend, model: ModelFactory | None = None, device: str = "cpu"
) -> None:
    """A model fitted with a scaling and saved, then loaded with
    :func:`regsearch.load_model`, gives the trainer's own outputs on raw rows."""
    data = CHECK_DATA
    x = raw_scales(data.x_train)
    trainer = make_trainer(backend, model, device, x=x, scaling="minmax", epochs=2)
    fit = trainer.fit(np.arange(240), None, Penalty(l1=1e-4), epochs=2, seed=1)
    expected = trainer.predict_logits(fit.model, x[240:])
    with tempfile.TemporaryDirectory() as scratch:
        path = trainer.save(fit.model, Path(scratch) / "model")
        loaded = load_model(path)
        probabilities = predict_proba(loaded, x[240:])
    softmax = np.exp(expected - expected.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(probabilities, softmax, rtol=1e-4, atol=1e-5)
