"""The model contract, checked once before any trial: ``build(input_shape, n_classes)``
returns a new model of the backend's framework whose outputs are ``(batch, n_classes)`` and
which has at least one weight to penalize. Each failure is a :class:`ModelError` that names
the model and what was wrong, raised before anything is written to the storage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from regsearch.errors import ModelError, param
from regsearch.models.loading import describe_exception

PENALTY_RULE = "every trainable weight with two or more dimensions"


def built(
    factory: Callable[[tuple[int, ...], int], Any],
    spec: str,
    input_shape: tuple[int, ...],
    n_classes: int,
    expected: type,
    framework_hint: str,
) -> Any:
    """``factory(input_shape, n_classes)``, refusing an exception or an object that is not an
    ``expected`` instance."""
    try:
        model = factory(input_shape, n_classes)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"{param('model')} {spec}: build({input_shape}, {n_classes}) raised "
            f"{describe_exception(exc)}."
        ) from exc
    if not isinstance(model, expected):
        raise ModelError(
            f"{param('model')} {spec}: build({input_shape}, {n_classes}) returned "
            f"{type(model).__module__}.{type(model).__qualname__}, but must return a new "
            f"{expected.__module__}.{expected.__qualname__}. {framework_hint}"
        )
    return model


def called(spec: str, forward: Callable[[], Any], batch_shape: tuple[int, ...]) -> Any:
    """``forward()`` on a sample batch, refusing an exception."""
    try:
        return forward()
    except Exception as exc:
        raise ModelError(
            f"{param('model')} {spec}: calling the model on a batch shaped {batch_shape} raised "
            f"{describe_exception(exc)}. The model must take examples shaped "
            f"{batch_shape[1:]}."
        ) from exc


def check_outputs(spec: str, outputs: Any, batch: int, n_classes: int) -> np.ndarray:
    """The outputs as NumPy, refusing another shape or non-finite values."""
    shape = tuple(getattr(outputs, "shape", ()))
    if shape != (batch, n_classes):
        what = f"a {type(outputs).__name__}" if not hasattr(outputs, "shape") else f"shape {shape}"
        raise ModelError(
            f"{param('model')} {spec}: the model's output for {batch} examples has {what}, but "
            f"must be one score per class, shaped ({batch}, {n_classes}). End the model in a "
            f"layer of n_classes={n_classes} units."
        )
    values = np.asarray(outputs, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ModelError(
            f"{param('model')} {spec}: the freshly built model outputs NaN or infinite values; "
            "check its initialisation."
        )
    return values


def check_penalized(spec: str, n_penalized: int) -> None:
    if n_penalized == 0:
        raise ModelError(
            f"{param('model')} {spec}: the model has no weight to penalize ({PENALTY_RULE}: "
            "dense or linear matrices, convolution kernels, embedding tables). regsearch tunes "
            "the L1/L2 penalty of those weights; a model without any has nothing to tune."
        )


def check_fresh(spec: str, first: set[int], second: set[int]) -> None:
    """Two builds must share no weight (identified by ``id``/storage)."""
    if first & second:
        raise ModelError(
            f"{param('model')} {spec}: two calls of build returned models that share weights "
            "(a layer or module created once, outside build, and reused). Create every layer "
            "inside build, so that each fold trains a fresh model."
        )
